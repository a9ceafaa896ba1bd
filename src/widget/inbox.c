/*
 * inbox.c - the demo inbox page.
 */
#include <string.h>

#include "widget/html.h"
#include "widget/inbox.h"

/* Append `open`, `text` escaped, `close`. */
static int
put(struct buf *b, const char *open, const char *text, const char *close)
{
    int rc = buf_addstr(b, open);

    if (rc == 0) {
        rc = html_escape(b, text);
    }
    if (rc == 0) {
        rc = buf_addstr(b, close);
    }
    return rc;
}

static const char *
field(const json_t *o, const char *name)
{
    const char *v = json_string_value(json_object_get(o, name));

    return v != NULL ? v : "";
}

static int
entry(struct buf *b, const json_t *o)
{
    int verified = json_is_true(json_object_get(o, "verified"));
    int rc = put(b, "<li>\n<h2>", field(o, "type"), "</h2>\n");

    if (rc == 0) {
        rc = put(b, "<p class=\"meta\">event ", field(o, "event_id"), "");
    }
    if (rc == 0 && field(o, "user_id")[0] != '\0') {
        rc = put(b, " &middot; user ", field(o, "user_id"), "");
    }
    if (rc == 0) {
        rc = put(b, " &middot; ", field(o, "received_at"), "</p>\n");
    }
    if (rc == 0) {
        rc = buf_addstr(b, verified ? "<p class=\"status-ok\">"
                                      "&#10003; signature verified: "
                                    : "<p class=\"status-warn\">"
                                      "&#10007; signature not verified: ");
    }
    if (rc == 0) {
        rc = put(b, "", field(o, "check"), "</p>\n");
    }
    if (rc == 0) {
        rc =
            put(b, "<p class=\"meta\">terra-signature: ", field(o, "signature"),
                "</p>\n");
    }
    if (rc == 0) {
        rc = put(b, "<pre>", field(o, "body"), "");
    }
    if (rc == 0 && json_is_true(json_object_get(o, "truncated"))) {
        rc = buf_addstr(b, "\n&hellip;");
    }
    if (rc == 0) {
        rc = buf_addstr(b, "</pre>\n</li>\n");
    }
    return rc;
}

int
widget_render_inbox(const json_t *entries, struct buf *out)
{
    size_t mark = out->len;
    size_t n = json_array_size(entries);
    size_t i = 0;
    int rc = html_page_begin(out, "en", "ferry demo inbox");

    if (rc == 0) {
        rc = buf_addstr(
            out, "<div class=\"card\">\n<h1>Demo inbox</h1>\n"
                 "<p class=\"text\">Every event ferry delivers "
                 "to this demo's destination, newest first. Each "
                 "one was signed as a webhook is "
                 "(terra-signature: HMAC-SHA256 of "
                 "t + \".\" + body) and checked here as a "
                 "receiver holding the signing secret would "
                 "check it. The page reloads every " INBOX_REFRESH_SECONDS
                 " seconds.</p>\n");
    }
    if (rc == 0 && n == 0) {
        rc = buf_addstr(out, "<p class=\"detail\">Nothing yet. Connect a "
                             "user through the widget link the demo printed "
                             "and the auth event appears here.</p>\n");
    }
    if (rc == 0 && n > 0) {
        rc = buf_addstr(out, "<ul class=\"inbox\">\n");
    }
    for (i = 0; rc == 0 && i < n; i++) {
        rc = entry(out, json_array_get(entries, i));
    }
    if (rc == 0 && n > 0) {
        rc = buf_addstr(out, "</ul>\n");
    }
    if (rc == 0) {
        rc = buf_addstr(out, "</div>\n");
    }
    if (rc == 0) {
        rc = html_page_end(out, "en");
    }
    if (rc != 0) {
        out->len = mark;
        if (out->data != NULL) {
            out->data[mark] = '\0';
        }
    }
    return rc;
}
