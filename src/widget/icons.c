/*
 * icons.c - the provider marks.
 *
 * Every mark sits on a 24x24 grid: a rounded square in the provider's
 * colour and a white shape on it, drawn from circles, rectangles and a
 * few straight or arc segments. They are meant to be recognisable next
 * to the name, not to be the providers' logos. Presentation attributes
 * (fill, stroke) are used instead of style attributes, which the page's
 * Content-Security-Policy would block.
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"
#include "core/utf8.h"
#include "widget/html.h"
#include "widget/icons.h"

/* Attribute sets of the white shapes. */
#define WHITE   "fill=\"#fff\""
#define OUTLINE "fill=\"none\" stroke=\"#fff\""
#define LINE                                                                   \
    "fill=\"none\" stroke=\"#fff\" stroke-width=\"2\" "                        \
    "stroke-linecap=\"round\" stroke-linejoin=\"round\""

struct mark {
    const char *resource;
    const char *tile;  /* the square's colour; NULL: white, outlined */
    const char *shape; /* SVG elements drawn over it */
};

static const struct mark marks[] = {
    /* a tray with a heap of sand */
    {"SANDBOX", "#475569",
     "<path d=\"M9 10.5l3-4.5 3 4.5z\" " WHITE " opacity=\".7\"/>"
     "<path d=\"M5.5 10.5h13v6a1.5 1.5 0 0 1-1.5 1.5H7"
     "a1.5 1.5 0 0 1-1.5-1.5z\" " WHITE "/>"},
    /* a ring with a bar above it */
    {"OURA", "#1c1c1e",
     "<circle cx=\"12\" cy=\"13.5\" r=\"5\" " OUTLINE " stroke-width=\"2\"/>"
     "<rect x=\"9\" y=\"5\" width=\"6\" height=\"1.8\" "
     "rx=\".9\" " WHITE "/>"},
    /* a zigzag W */
    {"WITHINGS", "#0f6e86",
     "<path d=\"M5.5 8l2.5 8 4-5.5 4 5.5 2.5-8\" " LINE "/>"},
    /* a triangle */
    {"GARMIN", "#0a6fb4", "<path d=\"M12 6l6.5 11.5h-13z\" " WHITE "/>"},
    /* two mountain peaks */
    {"STRAVA", "#e84a0c",
     "<path d=\"M4 17.5l5-8.5 3.2 4.8 2.6-3.6 5.2 7.3z\" " WHITE "/>"},
    /* a pulse line */
    {"POLAR", "#c8102e",
     "<path d=\"M4 12.5h3.8l1.7-4.5 3 8.5 2.2-6 1.1 2h4.2\" " LINE "/>"},
    /* a strap with a sensor */
    {"WHOOP", "#111111",
     "<rect x=\"4.5\" y=\"8.5\" width=\"15\" height=\"7\" rx=\"3.5\" " OUTLINE
     " stroke-width=\"1.8\"/>"
     "<rect x=\"10\" y=\"10.5\" width=\"4\" height=\"3\" "
     "rx=\"1\" " WHITE "/>"},
    /* a grid of dots, the middle one larger */
    {"FITBIT", "#0a8791",
     "<circle cx=\"7\" cy=\"7\" r=\"1.5\" " WHITE "/>"
     "<circle cx=\"12\" cy=\"7\" r=\"1.5\" " WHITE "/>"
     "<circle cx=\"17\" cy=\"7\" r=\"1.5\" " WHITE "/>"
     "<circle cx=\"7\" cy=\"12\" r=\"1.5\" " WHITE "/>"
     "<circle cx=\"12\" cy=\"12\" r=\"2.6\" " WHITE "/>"
     "<circle cx=\"17\" cy=\"12\" r=\"1.5\" " WHITE "/>"
     "<circle cx=\"7\" cy=\"17\" r=\"1.5\" " WHITE "/>"
     "<circle cx=\"12\" cy=\"17\" r=\"1.5\" " WHITE "/>"
     "<circle cx=\"17\" cy=\"17\" r=\"1.5\" " WHITE "/>"},
    /* a ring in four colours on white */
    {"GOOGLE", NULL,
     "<g fill=\"none\" stroke-width=\"3\">"
     "<path d=\"M12 6a6 6 0 0 1 6 6\" stroke=\"#4285f4\"/>"
     "<path d=\"M18 12a6 6 0 0 1-6 6\" stroke=\"#34a853\"/>"
     "<path d=\"M12 18a6 6 0 0 1-6-6\" stroke=\"#fbbc04\"/>"
     "<path d=\"M6 12a6 6 0 0 1 6-6\" stroke=\"#ea4335\"/></g>"},
    /* a drop */
    {"DEXCOM", "#3f7d23",
     "<path d=\"M12 5c2.6 3.5 5 6.3 5 9.1a5 5 0 0 1-10 0"
     "C7 11.3 9.4 8.5 12 5z\" " WHITE "/>"},
    /* two wheels and a frame */
    {"WAHOO", "#1559b7",
     "<circle cx=\"7\" cy=\"15\" r=\"3.2\" " OUTLINE " stroke-width=\"1.7\"/>"
     "<circle cx=\"17\" cy=\"15\" r=\"3.2\" " OUTLINE " stroke-width=\"1.7\"/>"
     "<path d=\"M7 15l3-6h4.5L17 15M10 9l2.5 "
     "6\" " OUTLINE " stroke-width=\"1.7\" stroke-linejoin=\"round\"/>"},
    /* a compass: a ring and a needle, north in red */
    {"SUUNTO", "#262626",
     "<circle cx=\"12\" cy=\"12\" r=\"7\" " OUTLINE " stroke-width=\"1.6\"/>"
     "<path d=\"M12 6.5l2.2 5.5H9.8z\" fill=\"#ff5a4e\"/>"
     "<path d=\"M12 17.5L9.8 12h4.4z\" " WHITE "/>"},
};

/* Resources that share another's mark. */
static const struct {
    const char *resource;
    const char *same_as;
} aliases[] = {
    {"GOOGLE_HEALTH", "GOOGLE"},
    {"DEXCOM_EU", "DEXCOM"},
    {"DEXCOM_JP", "DEXCOM"},
};

/* Monogram colours, each dark enough for white text (4.5:1 or more). */
static const char *const palette[] = {
    "#1d4ed8", "#6d28d9", "#be185d", "#b91c1c", "#c2410c", "#047857",
    "#0e7490", "#4338ca", "#a21caf", "#15803d", "#374151", "#9a3412",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const struct mark *
find_mark(const char *resource)
{
    size_t i = 0;

    if (resource == NULL) {
        return NULL;
    }
    for (i = 0; i < COUNT(aliases); i++) {
        if (strcasecmp(aliases[i].resource, resource) == 0) {
            resource = aliases[i].same_as;
            break;
        }
    }
    for (i = 0; i < COUNT(marks); i++) {
        if (strcasecmp(marks[i].resource, resource) == 0) {
            return &marks[i];
        }
    }
    return NULL;
}

int
icon_is_drawn(const char *resource)
{
    return find_mark(resource) != NULL;
}

/* FNV-1a of the upper-cased resource name: the same colour for "oura" and
 * "OURA", and for every run of the server. */
static const char *
monogram_colour(const char *resource)
{
    uint32_t h = 2166136261u;
    const unsigned char *p = (const unsigned char *)resource;

    for (; p != NULL && *p != '\0'; p++) {
        unsigned char c = *p;

        if (c >= 'a' && c <= 'z') {
            c = (unsigned char)(c - 'a' + 'A');
        }
        h = (h ^ c) * 16777619u;
    }
    return palette[h % COUNT(palette)];
}

/* The first character of `s` after any spaces, as a NUL-terminated
 * string in `out`, upper-cased when it is an ASCII letter; "?" when there
 * is no well-formed, non-control character there. */
static void
initial(const char *s, char out[5])
{
    size_t n = 0;

    s += strspn(s, " ");
    if (*s != '\0') {
        n = utf8_seq_len((const unsigned char *)s);
    }
    if (n > 0) {
        memcpy(out, s, n);
    }
    out[n] = '\0';
    if (n == 0 || utf8_has_control(out)) {
        strcpy(out, "?");
        return;
    }
    if (out[0] >= 'a' && out[0] <= 'z') {
        out[0] = (char)(out[0] - 'a' + 'A');
    }
}

static int
monogram(struct buf *b, const char *resource, const char *name)
{
    char letter[5];
    int rc = 0;

    if (name == NULL || name[0] == '\0') {
        name = resource != NULL ? resource : "";
    }
    initial(name, letter);
    rc = buf_printf(b,
                    "<rect width=\"24\" height=\"24\" rx=\"5\" "
                    "fill=\"%s\"/><text x=\"12\" y=\"12\" dy=\".35em\" "
                    "text-anchor=\"middle\" font-size=\"13\" "
                    "font-weight=\"700\" font-family=\"system-ui, "
                    "sans-serif\" fill=\"#fff\">",
                    monogram_colour(resource != NULL ? resource : name));
    if (rc == 0) {
        rc = html_escape(b, letter);
    }
    if (rc == 0) {
        rc = buf_addstr(b, "</text>");
    }
    return rc;
}

static int
drawn(struct buf *b, const struct mark *m)
{
    int rc = 0;

    if (m->tile != NULL) {
        rc = buf_printf(b,
                        "<rect width=\"24\" height=\"24\" rx=\"5\" "
                        "fill=\"%s\"/>",
                        m->tile);
    } else {
        rc = buf_addstr(b, "<rect x=\".5\" y=\".5\" width=\"23\" "
                           "height=\"23\" rx=\"4.5\" fill=\"#fff\" "
                           "stroke=\"#dadce0\"/>");
    }
    if (rc == 0) {
        rc = buf_addstr(b, m->shape);
    }
    return rc;
}

int
icon_svg(struct buf *b, const char *resource, const char *name)
{
    const struct mark *m = find_mark(resource);
    int rc = 0;

    rc = buf_printf(b,
                    "<svg class=\"icon\" width=\"%d\" height=\"%d\" "
                    "viewBox=\"0 0 24 24\" aria-hidden=\"true\" "
                    "focusable=\"false\">",
                    ICON_SIZE, ICON_SIZE);
    if (rc == 0 && m != NULL) {
        rc = drawn(b, m);
    } else if (rc == 0) {
        rc = monogram(b, resource, name);
    }
    if (rc == 0) {
        rc = buf_addstr(b, "</svg>");
    }
    return rc;
}
