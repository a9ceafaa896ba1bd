/*
 * test_widget.c - the hosted widget's rendering: escaping, the string
 * table, the icons, the pages, the security headers and the WebView
 * check.
 *
 * i18n.c is included to reach text_in(), the fallback for a language
 * that lacks a text (every shipped language is complete, so the public
 * API alone cannot show it).
 */
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/codec.h"
#include "core/crypto.h"
#include "core/err.h"
#include "core/utf8.h"
#include "http/server.h"
#include "tap.h"
#include "widget/html.h"
#include "widget/icons.h"
#include "widget/pages.h"

#include "../../src/widget/i18n.c"

#define PAGE_MAX (256 * 1024)

static const char *const all_langs[] = {"en", "de", "fr", "es",
                                        "it", "nl", "pt", "ja"};

#define NALL (sizeof(all_langs) / sizeof(all_langs[0]))

/* Each message and the texts it must show. */
static const struct {
    enum widget_message m;
    enum i18n_key title;
    enum i18n_key text;
} all_messages[] = {
    {WIDGET_MSG_EXPIRED, I18N_EXPIRED_TITLE, I18N_EXPIRED_TEXT},
    {WIDGET_MSG_USED, I18N_USED_TITLE, I18N_USED_TEXT},
    {WIDGET_MSG_NOT_FOUND, I18N_NOT_FOUND_TITLE, I18N_NOT_FOUND_TEXT},
    {WIDGET_MSG_BAD_FORM, I18N_BAD_FORM_TITLE, I18N_BAD_FORM_TEXT},
    {WIDGET_MSG_SUCCESS, I18N_SUCCESS_TITLE, I18N_SUCCESS_TEXT},
    {WIDGET_MSG_FAILURE, I18N_FAILURE_TITLE, I18N_FAILURE_TEXT},
    {WIDGET_MSG_NO_PROVIDER, I18N_NO_PROVIDER_TITLE, I18N_NO_PROVIDER_TEXT},
};

#define NMSG (sizeof(all_messages) / sizeof(all_messages[0]))

static const struct widget_choice some_choices[] = {
    {"SANDBOX", "ferry Sandbox"},
    {"OURA", "Oura"},
    {"GARMIN", "Garmin"},
    {"COROS", "COROS"},
};

/* Occurrences of `needle` in `hay`. */
static size_t
count(const char *hay, const char *needle)
{
    size_t n = 0;
    size_t len = strlen(needle);
    const char *p = hay;

    while ((p = strstr(p, needle)) != NULL) {
        n++;
        p += len;
    }
    return n;
}

static int
has(const char *hay, const char *needle)
{
    return strstr(hay, needle) != NULL;
}

/* 1 when `s` holds an event-handler attribute: " on" + letters + "=". */
static int
has_handler(const char *s)
{
    const char *p = s;

    while ((p = strstr(p, " on")) != NULL) {
        p += 3;
        while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')) {
            p++;
        }
        if (*p == '=') {
            return 1;
        }
    }
    return 0;
}

static int
escaped_is(const char *in, const char *want)
{
    struct buf b;
    int pass = 0;

    buf_init(&b, 1024);
    pass = html_escape(&b, in) == 0 && strcmp(buf_str(&b), want) == 0;
    if (!pass) {
        printf("#   escape(%s) gave '%s', want '%s'\n", in, buf_str(&b), want);
    }
    buf_release(&b);
    return pass;
}

static void
test_escape(void)
{
    struct buf b;

    ok(escaped_is("&", "&amp;"), "& is escaped");
    ok(escaped_is("<", "&lt;"), "< is escaped");
    ok(escaped_is(">", "&gt;"), "> is escaped");
    ok(escaped_is("\"", "&quot;"), "\" is escaped");
    ok(escaped_is("'", "&#39;"), "' is escaped");
    ok(escaped_is("plain text 123", "plain text 123"), "plain text is kept");
    ok(escaped_is("", ""), "the empty string gives nothing");
    ok(escaped_is("<script>alert('x')</script>",
                  "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"),
       "a script element becomes text");
    ok(escaped_is("\" onmouseover=\"x", "&quot; onmouseover=&quot;x"),
       "an attribute break-out becomes text");
    ok(escaped_is("&amp;", "&amp;amp;"), "an entity is escaped again");
    ok(escaped_is("Ōura 健康", "Ōura 健康"), "UTF-8 is copied as is");
    ok(escaped_is("a&b<c>d\"e'f", "a&amp;b&lt;c&gt;d&quot;e&#39;f"),
       "runs between specials are kept");

    buf_init(&b, 16);
    is_int(html_escape(&b, NULL), 0, "NULL appends nothing");
    is_int(b.len, 0, "and the buffer stays empty");
    buf_release(&b);

    buf_init(&b, 4);
    is_int(html_escape(&b, "&"), ERR_TOOBIG, "no room for &amp; is TOOBIG");
    buf_release(&b);
    buf_init(&b, 4);
    is_int(html_escape(&b, "abcde"), ERR_TOOBIG, "no room for text is TOOBIG");
    buf_release(&b);
}

static void
test_lang(void)
{
    is_str(i18n_lang("de"), "de", "de is de");
    is_str(i18n_lang("de-CH"), "de", "a region tag gives its base");
    is_str(i18n_lang("DE_de"), "de", "any case and an underscore");
    is_str(i18n_lang("pt-BR"), "pt", "pt-BR is pt");
    is_str(i18n_lang("ja-JP"), "ja", "ja-JP is ja");
    is_str(i18n_lang("fr"), "fr", "fr is fr");
    is_str(i18n_lang(NULL), "en", "NULL is en");
    is_str(i18n_lang(""), "en", "the empty tag is en");
    is_str(i18n_lang("zh-Hant"), "en", "an unsupported language is en");
    is_str(i18n_lang("d"), "en", "a prefix of a tag is not the tag");
    is_str(i18n_lang("deu"), "en", "a longer subtag is not the tag");
    is_str(i18n_lang("-de"), "en", "an empty primary subtag is en");
    is_int(i18n_lang_count(), 8, "eight languages");
    is_str(i18n_lang_at(0), "en", "English first");
    ok(i18n_lang_at(8) == NULL, "NULL past the end");
}

static void
test_texts(void)
{
    size_t i = 0;
    int k = 0;
    int english = 1;
    int complete = 1;
    int clean = 1;
    size_t differ = 0;
    const char *row[I18N_KEY_COUNT] = {NULL};

    for (k = 0; k < I18N_KEY_COUNT; k++) {
        if (text_en[k] == NULL || text_en[k][0] == '\0') {
            english = 0;
            printf("#   key %d has no English text\n", k);
        }
    }
    ok(english, "every key has an English text");

    /* The decision: every shipped language is complete. */
    for (i = 0; i < NALL; i++) {
        for (k = 0; k < I18N_KEY_COUNT; k++) {
            const char *t = i18n_text(all_langs[i], (enum i18n_key)k);

            if (!i18n_has_own(all_langs[i], (enum i18n_key)k)) {
                complete = 0;
                printf("#   %s lacks key %d\n", all_langs[i], k);
            }
            if (!utf8_valid(t) || utf8_has_control(t)) {
                clean = 0;
                printf("#   %s key %d is not clean UTF-8\n", all_langs[i], k);
            }
            if (i > 0 && strcmp(t, text_en[k]) != 0) {
                differ++;
            }
        }
    }
    ok(complete, "every language has its own text for every key");
    ok(clean, "every text is well-formed UTF-8 without controls");
    ok(differ >= (NALL - 1) * I18N_KEY_COUNT * 9 / 10,
       "the translations are not copies of the English");

    is_str(i18n_text("xx", I18N_SUCCESS_TITLE), "Connected",
           "an unknown language gives English");
    is_str(i18n_text(NULL, I18N_FOOTER), "Secured by ferry",
           "NULL gives English");
    is_str(i18n_text("de-AT", I18N_SUCCESS_TITLE), "Verbunden",
           "a region tag gives the base language");
    is_str(i18n_text("ja", I18N_SUCCESS_TITLE), "連携しました",
           "Japanese is Japanese");
    is_str(i18n_text("en", (enum i18n_key)I18N_KEY_COUNT), "",
           "a key outside the enum gives \"\"");
    ok(!i18n_has_own("de-CH", I18N_FOOTER), "has_own wants an exact tag");

    row[I18N_FOOTER] = "Eigen";
    is_str(text_in(row, I18N_FOOTER), "Eigen", "a row's own text is used");
    is_str(text_in(row, I18N_SUCCESS_TITLE), "Connected",
           "a missing text falls back to English");
}

/* `page` is a complete document in `lang` with the shared head. */
static int
page_ok(const char *page, const char *lang, const char *what)
{
    char want[64];
    int pass = 1;

    snprintf(want, sizeof(want), "<html lang=\"%s\">", lang);
    pass &= strncmp(page, "<!DOCTYPE html>\n", 16) == 0;
    pass &= count(page, want) == 1;
    pass &= has(page, "<meta charset=\"utf-8\">");
    pass &= has(page, "<meta name=\"viewport\" content=\"width=device-width, "
                      "initial-scale=1\">");
    pass &= count(page, "<title>") == 1 && !has(page, "<title></title>");
    pass &= count(page, "<style>") == 1 && count(page, "</style>") == 1;
    pass &= has(page, html_stylesheet());
    pass &= has(page, i18n_text(lang, I18N_FOOTER));
    pass &= strcmp(page + strlen(page) - 8, "</html>\n") == 0;
    /* no script, no external asset, no inline style */
    pass &= !has(page, "<script") && !has(page, "javascript:");
    pass &= !has(page, " src=") && !has(page, " href=");
    pass &= !has(page, "url(") && !has(page, "@import");
    pass &= !has(page, "style=") && !has_handler(page);
    if (!pass) {
        printf("#   %s (%s) is not a complete page\n", what, lang);
    }
    return pass;
}

static void
render_picker(struct buf *b, const char *lang, int webview)
{
    struct widget_picker p = {0};

    p.lang = lang;
    p.action = "/widget/TOKEN123";
    p.csrf = "csrf-VALUE_42";
    p.choices = some_choices;
    p.nchoices = sizeof(some_choices) / sizeof(some_choices[0]);
    p.webview = webview;
    p.page_url = "https://ferry.example/widget/TOKEN123";
    buf_reset(b);
    if (widget_render_picker(&p, b) != 0) {
        printf("#   the picker did not render\n");
    }
}

static void
test_picker(void)
{
    struct buf b;
    size_t i = 0;
    int all = 1;
    const char *s = NULL;
    const char *oura = NULL;
    const char *garmin = NULL;

    buf_init(&b, PAGE_MAX);
    render_picker(&b, "en", 0);
    s = buf_str(&b);
    ok(page_ok(s, "en", "picker"), "the picker is a complete page");
    is_int(count(s, "<form method=\"post\" action=\"/widget/TOKEN123\">"), 1,
           "one post form to the action");
    is_int(count(s, "<input type=\"hidden\" name=\"csrf\" "
                    "value=\"csrf-VALUE_42\">"),
           1, "the hidden csrf field");
    is_int(count(s, "<button type=\"submit\" name=\"resource\" value=\""), 4,
           "one submit button per choice");
    is_int(count(s, "</button>"), 4, "and no other button");
    for (i = 0; i < 4; i++) {
        char want[96];

        snprintf(want, sizeof(want),
                 "<button type=\"submit\" name=\"resource\" value=\"%s\"",
                 some_choices[i].resource);
        all &= count(s, want) == 1;
        snprintf(want, sizeof(want), "<span class=\"name\">%s</span>",
                 some_choices[i].name);
        all &= count(s, want) == 1;
    }
    ok(all, "each button has its resource as value and its name as text");
    oura = strstr(s, "value=\"OURA\"");
    garmin = strstr(s, "value=\"GARMIN\"");
    ok(oura != NULL && garmin != NULL && oura < garmin,
       "the buttons keep the order given");
    is_int(count(s, "aria-hidden=\"true\""), 5,
           "every icon (and the footer lock) is hidden from readers");
    ok(has(s, i18n_text("en", I18N_PICKER_HEADING)), "the heading is there");
    ok(!has(s, "class=\"notice\""), "no WebView notice when not asked");
    ok(!has(s, "ferry.example"), "and the link is not shown");

    render_picker(&b, "de-DE", 1);
    s = buf_str(&b);
    ok(has(s, "<html lang=\"de\">"), "the picker's lang follows the tag");
    is_int(count(s, "class=\"notice\""), 1, "the WebView notice when asked");
    ok(has(s, i18n_text("de", I18N_WEBVIEW_HEADING)) &&
           has(s, i18n_text("de", I18N_WEBVIEW_TEXT)) &&
           has(s, i18n_text("de", I18N_WEBVIEW_COPY)),
       "in the page's language");
    ok(has(s, "<p class=\"link\">https://ferry.example/widget/TOKEN123</p>"),
       "with the link as selectable text");
    ok(strstr(s, "class=\"notice\"") < strstr(s, "<form"),
       "the notice comes before the form");

    all = 1;
    for (i = 0; i < NALL; i++) {
        render_picker(&b, all_langs[i], (int)(i % 2));
        all &= page_ok(buf_str(&b), all_langs[i], "picker");
        all &= has(buf_str(&b), i18n_text(all_langs[i], I18N_PICKER_INTRO));
    }
    ok(all, "the picker renders in every language");
    buf_release(&b);
}

static void
test_picker_hostile(void)
{
    static const struct widget_choice evil[] = {
        {"OURA\" onclick=\"x", "<script>alert(\"name\")</script>"},
        {"<b>", "It's & \"quoted\""},
    };
    struct widget_picker p = {0};
    struct buf b;
    const char *s = NULL;

    p.lang = "en\"><script>";
    p.action = "/widget/\"><script>x</script>";
    p.csrf = "\" autofocus onfocus=\"alert(1)";
    p.choices = evil;
    p.nchoices = 2;
    p.webview = 1;
    p.page_url = "https://x.example/</p><script>alert(1)</script>";
    p.reference_id = "<ref>";
    buf_init(&b, PAGE_MAX);
    is_int(widget_render_picker(&p, &b), 0, "a hostile picker renders");
    s = buf_str(&b);
    ok(!has(s, "<script"), "no script element gets in");
    ok(!has(s, "onclick=\"") && !has(s, "onfocus=\"") && !has(s, "<b>"),
       "no attribute or element gets in");
    ok(has(s, "&lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt;"),
       "the name is shown as text");
    ok(has(s, "value=\"OURA&quot; onclick=&quot;x\""),
       "the resource stays inside its value");
    ok(has(s, "value=\"&quot; autofocus onfocus=&quot;alert(1)\""),
       "the csrf value stays inside its value");
    ok(has(s, "action=\"/widget/&quot;&gt;&lt;script&gt;x&lt;/script&gt;\""),
       "the action stays inside its attribute");
    ok(has(s, "It&#39;s &amp; &quot;quoted&quot;"), "quotes in a name");
    ok(has(s, "<html lang=\"en\">"), "a hostile lang falls back to en");
    ok(!has(s, "ref&gt;"), "the reference id is not shown");
    buf_release(&b);
}

static void
test_picker_args(void)
{
    struct widget_picker p = {0};
    struct buf b;

    buf_init(&b, PAGE_MAX);
    p.lang = "fr";
    p.action = "/widget/t";
    p.csrf = "c";
    is_int(widget_render_picker(&p, &b), 0, "no choices renders");
    ok(has(buf_str(&b), i18n_text("fr", I18N_NO_PROVIDER_TITLE)) &&
           !has(buf_str(&b), "<form"),
       "the no-provider page, without a form");

    buf_reset(&b);
    p.nchoices = 1;
    is_int(widget_render_picker(&p, &b), ERR_INVALID,
           "choices NULL with a count is ERR_INVALID");
    p.choices = some_choices;
    p.csrf = NULL;
    is_int(widget_render_picker(&p, &b), ERR_INVALID, "no csrf is ERR_INVALID");
    p.csrf = "c";
    p.action = NULL;
    is_int(widget_render_picker(&p, &b), ERR_INVALID,
           "no action is ERR_INVALID");
    is_int(widget_render_picker(NULL, &b), ERR_INVALID, "NULL is ERR_INVALID");
    is_int(b.len, 0, "and nothing is written");
    buf_release(&b);
}

static void
test_messages(void)
{
    struct buf b;
    size_t i = 0;
    size_t j = 0;
    int all = 1;
    const char *s = NULL;

    buf_init(&b, PAGE_MAX);
    for (i = 0; i < NMSG; i++) {
        for (j = 0; j < NALL; j++) {
            buf_reset(&b);
            all &= widget_render_message(all_langs[j], all_messages[i].m, NULL,
                                         &b) == 0;
            s = buf_str(&b);
            all &= page_ok(s, all_langs[j], "message");
            all &= has(s, i18n_text(all_langs[j], all_messages[i].title));
            all &= has(s, i18n_text(all_langs[j], all_messages[i].text));
            all &= !has(s, "class=\"detail\"");
        }
    }
    ok(all, "every message renders in every language with its texts");

    buf_reset(&b);
    widget_render_message("es", WIDGET_MSG_SUCCESS, "Oura", &b);
    s = buf_str(&b);
    ok(has(s, "<title>Conectado</title>"), "the title is the message's");
    ok(has(s, "<span>Oura</span>"), "the detail is shown");
    ok(has(s, i18n_text("es", I18N_DETAIL_LABEL)), "with its label");

    buf_reset(&b);
    widget_render_message("en", WIDGET_MSG_FAILURE, "<script>x</script>\" '&",
                          &b);
    s = buf_str(&b);
    ok(!has(s, "<script") && has(s, "&lt;script&gt;x&lt;/script&gt;&quot; "
                                    "&#39;&amp;"),
       "a hostile detail is escaped");

    buf_reset(&b);
    is_int(widget_render_message("en", (enum widget_message)99, NULL, &b),
           ERR_INVALID, "a message outside the enum is ERR_INVALID");
    is_int(b.len, 0, "and writes nothing");

    is_int(widget_message_status(WIDGET_MSG_EXPIRED), 410, "expired is 410");
    is_int(widget_message_status(WIDGET_MSG_USED), 410, "used is 410");
    is_int(widget_message_status(WIDGET_MSG_NOT_FOUND), 404, "not found 404");
    is_int(widget_message_status(WIDGET_MSG_BAD_FORM), 400, "bad form 400");
    is_int(widget_message_status(WIDGET_MSG_SUCCESS), 200, "success 200");
    is_int(widget_message_status(WIDGET_MSG_FAILURE), 400, "failure 400");
    is_int(widget_message_status(WIDGET_MSG_NO_PROVIDER), 200,
           "no provider 200");
    is_int(widget_message_status((enum widget_message) - 1), 500,
           "outside the enum 500");
    buf_release(&b);
}

static int
icon_clean(const char *svg)
{
    size_t n = strlen(svg);

    return strncmp(svg, "<svg ", 5) == 0 && n > 6 &&
           strcmp(svg + n - 6, "</svg>") == 0 && count(svg, "<svg") == 1 &&
           has(svg, "aria-hidden=\"true\"") && !has(svg, "style") &&
           !has(svg, "href") && !has(svg, "<script") && !has(svg, "url(") &&
           !has(svg, "http") && !has_handler(svg);
}

static void
test_icons(void)
{
    static const char *const drawn[] = {
        "SANDBOX", "OURA",  "WITHINGS", "GARMIN",    "STRAVA",
        "POLAR",   "WHOOP", "FITBIT",   "GOOGLE",    "GOOGLE_HEALTH",
        "DEXCOM",  "WAHOO", "SUUNTO",   "DEXCOM_EU",
    };
    struct buf b;
    struct buf c;
    size_t i = 0;
    int all = 1;

    buf_init(&b, 8192);
    buf_init(&c, 8192);
    for (i = 0; i < sizeof(drawn) / sizeof(drawn[0]); i++) {
        buf_reset(&b);
        all &= icon_is_drawn(drawn[i]);
        all &= icon_svg(&b, drawn[i], "Name") == 0;
        all &= icon_clean(buf_str(&b)) && !has(buf_str(&b), "<text");
        if (!all) {
            printf("#   %s: %s\n", drawn[i], buf_str(&b));
            break;
        }
    }
    ok(all, "every drawn mark is one clean, hidden <svg> without text");
    ok(icon_is_drawn("oura"), "resources match in any case");

    buf_reset(&b);
    icon_svg(&b, "GOOGLE", NULL);
    icon_svg(&c, "GOOGLE_HEALTH", NULL);
    is_str(buf_str(&b), buf_str(&c), "GOOGLE_HEALTH shares GOOGLE's mark");

    buf_reset(&b);
    ok(!icon_is_drawn("COROS"), "COROS has no drawn mark");
    is_int(icon_svg(&b, "COROS", "COROS"), 0, "its monogram renders");
    ok(icon_clean(buf_str(&b)), "as a clean, hidden <svg>");
    ok(has(buf_str(&b), ">C</text>"), "with the initial");

    buf_reset(&c);
    icon_svg(&c, "coros", "COROS");
    is_str(buf_str(&b), buf_str(&c), "the colour follows the resource");

    buf_reset(&b);
    icon_svg(&b, "KOMOOT", "komoot");
    ok(has(buf_str(&b), ">K</text>"), "an ASCII initial is upper-cased");
    buf_reset(&b);
    icon_svg(&b, "X", "Ōura");
    ok(has(buf_str(&b), ">Ō</text>"), "a UTF-8 initial is kept whole");
    buf_reset(&b);
    icon_svg(&b, "EVIL", "<script>");
    ok(has(buf_str(&b), ">&lt;</text>") && !has(buf_str(&b), "<script"),
       "a hostile initial is escaped");
    buf_reset(&b);
    icon_svg(&b, "TEMPO", NULL);
    ok(has(buf_str(&b), ">T</text>"), "no name: the resource's initial");
    buf_reset(&b);
    icon_svg(&b, NULL, "");
    ok(has(buf_str(&b), ">?</text>"), "nothing at all: a question mark");
    buf_reset(&b);
    icon_svg(&b, "BAD", "\xff\xfe");
    ok(has(buf_str(&b), ">?</text>"), "a broken initial: a question mark");

    buf_release(&b);
    buf_init(&b, 40);
    is_int(icon_svg(&b, "OURA", "Oura"), ERR_TOOBIG, "a full buffer is TOOBIG");
    buf_release(&b);
    buf_release(&c);
}

/* The value of header `name` in `resp`, or NULL. */
static const char *
header(const struct http_response *resp, const char *name)
{
    size_t i = 0;

    for (i = 0; i < resp->nheaders; i++) {
        if (strcmp(resp->headers[i].name, name) == 0) {
            return resp->headers[i].value;
        }
    }
    return NULL;
}

/* "'sha256-<base64>'" of the bytes between <style> and </style>. */
static void
emitted_style_source(const char *page, char *out, size_t outsz)
{
    const char *start = strstr(page, "<style>");
    const char *end = strstr(page, "</style>");
    unsigned char md[CRYPTO_SHA256_LEN];
    char b64[CODEC_B64_LEN(CRYPTO_SHA256_LEN) + 1];

    out[0] = '\0';
    if (start == NULL || end == NULL || end < start) {
        return;
    }
    start += strlen("<style>");
    crypto_sha256(start, (size_t)(end - start), md);
    codec_b64_encode(md, sizeof(md), b64, sizeof(b64));
    snprintf(out, outsz, "'sha256-%s'", b64);
}

static void
test_headers(void)
{
    static const char *const origins[] = {"https://auth.example.com",
                                          "http://127.0.0.1:8080", NULL};
    struct http_response resp;
    struct arena a;
    struct buf b;
    char want[96];
    const char *csp = NULL;

    memset(&resp, 0, sizeof(resp));
    arena_init(&a, 64 * 1024);
    buf_init(&b, PAGE_MAX);
    is_int(html_security_headers(&resp, &a, origins), 0, "headers are added");
    is_int(resp.nheaders, 5, "five of them");
    is_str(resp.content_type, "text/html; charset=utf-8", "HTML, UTF-8");
    is_str(header(&resp, "X-Frame-Options"), "DENY", "X-Frame-Options");
    is_str(header(&resp, "Referrer-Policy"), "no-referrer", "Referrer-Policy");
    is_str(header(&resp, "X-Content-Type-Options"), "nosniff", "nosniff");
    is_str(header(&resp, "Cache-Control"), "no-store", "no-store");
    csp = header(&resp, "Content-Security-Policy");
    ok(csp != NULL, "a Content-Security-Policy");
    csp = csp != NULL ? csp : "";
    ok(!has(csp, "unsafe-inline") && !has(csp, "unsafe-eval") &&
           !has(csp, "script-src") && !has(csp, "*"),
       "no unsafe-inline, no script source, no wildcard");
    ok(strncmp(csp, "default-src 'none'; ", 20) == 0, "default-src 'none'");
    ok(has(csp, "; img-src 'self' data:;"), "img-src 'self' data:");
    ok(has(csp, "; form-action 'self' https://auth.example.com "
                "http://127.0.0.1:8080;"),
       "form-action 'self' and the extra origins");
    ok(has(csp, "; frame-ancestors 'none'"), "frame-ancestors 'none'");
    ok(has(csp, "; base-uri 'none'"), "base-uri 'none'");

    widget_render_message("en", WIDGET_MSG_EXPIRED, NULL, &b);
    emitted_style_source(buf_str(&b), want, sizeof(want));
    ok(want[0] != '\0', "the page has a <style> element");
    is_str(html_style_source(), want,
           "the style hash is sha256 of the emitted <style> content");
    ok(has(csp, "style-src ") && has(csp, want), "and the CSP allows it");
    buf_reset(&b);
    render_picker(&b, "ja", 1);
    emitted_style_source(buf_str(&b), want, sizeof(want));
    is_str(html_style_source(), want, "the picker emits the same stylesheet");

    memset(&resp, 0, sizeof(resp));
    is_int(html_security_headers(&resp, &a, NULL), 0, "no extra origins");
    csp = header(&resp, "Content-Security-Policy");
    ok(csp != NULL && has(csp, "form-action 'self';"), "form-action 'self'");

    buf_release(&b);
    arena_release(&a);
}

static void
test_headers_refused(void)
{
    static const char *const inject[] = {"https://a.example; script-src *",
                                         NULL};
    static const char *const comma[] = {"https://a.example,b", NULL};
    static const char *const path[] = {"https://a.example/x", NULL};
    static const char *const scheme[] = {"javascript:alert(1)", NULL};
    static const char *const quote[] = {"'unsafe-inline'", NULL};
    static const char *const empty[] = {"https://", NULL};
    const char *const *bad[] = {inject, comma, path, scheme, quote, empty};
    struct http_response resp;
    struct arena a;
    struct arena tiny;
    size_t i = 0;
    int all = 1;

    arena_init(&a, 64 * 1024);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&resp, 0, sizeof(resp));
        all &= html_security_headers(&resp, &a, bad[i]) == ERR_INVALID;
        all &= resp.nheaders == 0 && resp.content_type == NULL;
    }
    ok(all, "an origin that could add a directive is ERR_INVALID, no header");

    memset(&resp, 0, sizeof(resp));
    resp.nheaders = HTTP_MAX_HEADERS - 4;
    is_int(html_security_headers(&resp, &a, NULL), ERR_TOOBIG,
           "no room for five headers is ERR_TOOBIG");
    is_int(resp.nheaders, HTTP_MAX_HEADERS - 4, "and adds none");

    arena_init(&tiny, 16);
    memset(&resp, 0, sizeof(resp));
    is_int(html_security_headers(&resp, &tiny, NULL), ERR_NOMEM,
           "an arena at its ceiling is ERR_NOMEM");
    is_int(resp.nheaders, 0, "and adds none");
    arena_release(&tiny);
    arena_release(&a);
}

static void
test_toobig(void)
{
    struct widget_picker p = {0};
    struct buf b;
    size_t full = 0;
    size_t max = 0;
    int all = 1;
    int rc = 0;

    p.lang = "ja";
    p.action = "/widget/t";
    p.csrf = "c";
    p.choices = some_choices;
    p.nchoices = 4;
    p.webview = 1;
    p.page_url = "https://x.example/widget/t";

    buf_init(&b, 64);
    is_int(widget_render_picker(&p, &b), ERR_TOOBIG,
           "the picker in a tiny buffer is ERR_TOOBIG");
    is_int(b.len, 0, "and leaves nothing behind");
    is_int(widget_render_message("en", WIDGET_MSG_USED, "x", &b), ERR_TOOBIG,
           "a message in a tiny buffer is ERR_TOOBIG");
    is_int(b.len, 0, "and leaves nothing behind");
    buf_addstr(&b, "keep");
    is_int(widget_render_message("en", WIDGET_MSG_USED, "x", &b), ERR_TOOBIG,
           "after earlier content too");
    is_str(buf_str(&b), "keep", "which stays as it was");
    buf_release(&b);

    buf_init(&b, PAGE_MAX);
    widget_render_picker(&p, &b);
    full = b.len;
    buf_release(&b);

    /* Every ceiling below the page's size fails cleanly; at it, it fits. */
    for (max = 0; max < full; max += 7) {
        buf_init(&b, max);
        rc = widget_render_picker(&p, &b);
        all &= rc == ERR_TOOBIG && b.len == 0;
        buf_release(&b);
    }
    ok(all, "every ceiling below the page's size is ERR_TOOBIG, empty");
    buf_init(&b, full);
    is_int(widget_render_picker(&p, &b), 0, "the exact size fits");
    is_int(b.len, full, "the whole page");
    buf_release(&b);
}

struct ua_case {
    const char *ua;
    int webview;
    const char *what;
};

static const struct ua_case ua_cases[] = {
    {"Mozilla/5.0 (Linux; Android 13; Pixel 7 Build/TQ3A.230805.001; wv) "
     "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 "
     "Chrome/118.0.0.0 Mobile Safari/537.36",
     1, "Android WebView"},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) "
     "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
     1, "iOS WKWebView"},
    {"Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 "
     "(KHTML, like Gecko) Mobile/15E148",
     1, "iPad WKWebView"},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) "
     "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
     "[FBAN/FBIOS;FBAV/436.0.0.35.101;FBBV/526587032;FBDV/iPhone15,2;"
     "FBMD/iPhone;FBSN/iOS;FBSV/17.0;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5]",
     1, "Facebook on iOS"},
    {"Mozilla/5.0 (Linux; Android 12; SM-G991B Build/SP1A.210812.016; wv) "
     "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 "
     "Chrome/117.0.5938.60 Mobile Safari/537.36 "
     "[FB_IAB/FB4A;FBAV/435.0.0.42.112;]",
     1, "Facebook on Android"},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 16_5 like Mac OS X) "
     "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram "
     "295.0.0.20.111 (iPhone14,5; iOS 16_5; en_US; en; scale=3.00; "
     "1170x2532; 502573254)",
     1, "Instagram on iOS"},
    {"Mozilla/5.0 (Linux; Android 11; moto g(30)) AppleWebKit/537.36 "
     "(KHTML, like Gecko) Chrome/116.0.5845.163 Mobile Safari/537.36 "
     "Instagram 299.0.0.34.111 Android (30/11; 280dpi; 720x1600; motorola; "
     "moto g(30); caprip; qcom; en_US; 512713411)",
     1, "Instagram on Android without the wv marker"},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) "
     "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
     "[LinkedInApp]/9.28.6371",
     1, "LinkedIn"},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) "
     "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Safari "
     "Line/13.17.0",
     1, "LINE"},
    {"Mozilla/5.0 (Linux; Android 13; V2183A Build/TP1A.220624.014; wv) "
     "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 "
     "Chrome/107.0.5304.141 Mobile Safari/537.36 XWEB/5197 "
     "MMWEBSDK/20230701 MMWEBID/1234 MicroMessenger/8.0.40.2420(0x28002837) "
     "WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64",
     1, "WeChat on Android"},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) "
     "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
     "MicroMessenger/8.0.42(0x18002a2c) NetType/WIFI Language/zh_CN",
     1, "WeChat on iOS"},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) "
     "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Twitter for "
     "iPhone/10.12",
     1, "Twitter / X on iOS"},
    {"Mozilla/5.0 (Linux; Android 14; SM-S911B) AppleWebKit/537.36 (KHTML, "
     "like Gecko) Chrome/120.0.6099.43 Mobile Safari/537.36 "
     "TwitterAndroid",
     1, "Twitter / X on Android"},
    {"Mozilla/5.0 (Linux; Android 12; SM-A525F Build/SP1A.210812.016; wv) "
     "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 "
     "Chrome/116.0.5845.114 Mobile Safari/537.36 trill_310003 JsSdk/1.0 "
     "NetType/WIFI Channel/googleplay AppName/musical_ly app_version/31.0.3 "
     "ByteLocale/en Region/US BytedanceWebview/d8a21c6",
     1, "TikTok on Android"},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) "
     "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
     "musical_ly_31.5.0 JsSdk/2.0 NetType/WIFI Channel/App Store "
     "ByteLocale/en Region/US",
     1, "TikTok on iOS"},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) "
     "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
     "Snapchat/12.55.0.36 (like Safari/8616.1.14.10.1, panda)",
     1, "Snapchat, which claims Safari"},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) "
     "AppleWebKit/605.1.15 (KHTML, like Gecko) GSA/282.0.565276950 "
     "Mobile/15E148 Safari/604.1",
     1, "the Google app on iOS"},

    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, "
     "like Gecko) Chrome/120.0.0.0 Safari/537.36",
     0, "Chrome on Windows"},
    {"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like "
     "Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
     0, "Chrome on Android"},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) "
     "AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.50 "
     "Mobile/15E148 Safari/604.1",
     0, "Chrome on iOS"},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) "
     "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 "
     "Safari/604.1",
     0, "Safari on iPhone"},
    {"Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 "
     "(KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
     0, "Safari on iPad"},
    {"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
     "(KHTML, like Gecko) Version/17.1 Safari/605.1.15",
     0, "Safari on macOS"},
    {"Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 "
     "Firefox/120.0",
     0, "Firefox on Linux"},
    {"Mozilla/5.0 (Android 14; Mobile; rv:120.0) Gecko/120.0 Firefox/120.0", 0,
     "Firefox on Android"},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) "
     "AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/120.0 Mobile/15E148 "
     "Safari/605.1.15",
     0, "Firefox on iOS"},
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, "
     "like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
     0, "Edge on Windows"},
    {"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like "
     "Gecko) Chrome/120.0.0.0 Mobile Safari/537.36 EdgA/120.0.0.0",
     0, "Edge on Android"},
    {"Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-S918B) AppleWebKit/537.36 "
     "(KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile "
     "Safari/537.36",
     0, "Samsung Internet"},
    {"curl/8.4.0", 0, "curl"},
    {"", 0, "an empty user agent"},
};

static void
test_webview(void)
{
    size_t i = 0;

    for (i = 0; i < sizeof(ua_cases) / sizeof(ua_cases[0]); i++) {
        char name[128];

        snprintf(name, sizeof(name), "%s: %s", ua_cases[i].what,
                 ua_cases[i].webview ? "in-app" : "a real browser");
        is_int(widget_is_webview(ua_cases[i].ua), ua_cases[i].webview, name);
    }
    is_int(widget_is_webview(NULL), 0, "no user agent: a real browser");
}

int
main(void)
{
    test_escape();
    test_lang();
    test_texts();
    test_picker();
    test_picker_hostile();
    test_picker_args();
    test_messages();
    test_icons();
    test_headers();
    test_headers_refused();
    test_toobig();
    test_webview();
    return done_testing();
}
