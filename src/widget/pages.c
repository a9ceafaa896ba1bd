/*
 * pages.c - the provider picker, the one-message pages and the WebView
 * check.
 *
 * Each renderer appends one complete document to the caller's buffer. On
 * any error the buffer is put back to the length it had, so a caller
 * never holds half a page.
 */
#include <string.h>

#include "core/err.h"
#include "widget/html.h"
#include "widget/i18n.h"
#include "widget/icons.h"
#include "widget/pages.h"

/* The round badge above a message's title; decorative. */
enum badge {
    BADGE_CHECK,
    BADGE_CLOCK,
    BADGE_ALERT,
    BADGE_INFO,
    BADGE_QUESTION,
    BADGE_RETRY,
};

struct message {
    enum i18n_key title;
    enum i18n_key text;
    int status;
    enum badge badge;
    const char *tone; /* CSS class: status-ok, status-warn, status-info */
};

static const struct message messages[] = {
    [WIDGET_MSG_EXPIRED] = {I18N_EXPIRED_TITLE, I18N_EXPIRED_TEXT, 410,
                            BADGE_CLOCK, "status-warn"},
    [WIDGET_MSG_USED] = {I18N_USED_TITLE, I18N_USED_TEXT, 410, BADGE_INFO,
                         "status-info"},
    [WIDGET_MSG_NOT_FOUND] = {I18N_NOT_FOUND_TITLE, I18N_NOT_FOUND_TEXT, 404,
                              BADGE_QUESTION, "status-info"},
    [WIDGET_MSG_BAD_FORM] = {I18N_BAD_FORM_TITLE, I18N_BAD_FORM_TEXT, 400,
                             BADGE_RETRY, "status-warn"},
    [WIDGET_MSG_SUCCESS] = {I18N_SUCCESS_TITLE, I18N_SUCCESS_TEXT, 200,
                            BADGE_CHECK, "status-ok"},
    [WIDGET_MSG_FAILURE] = {I18N_FAILURE_TITLE, I18N_FAILURE_TEXT, 400,
                            BADGE_ALERT, "status-warn"},
    [WIDGET_MSG_NO_PROVIDER] = {I18N_NO_PROVIDER_TITLE, I18N_NO_PROVIDER_TEXT,
                                200, BADGE_INFO, "status-info"},
};

#define NMESSAGES (sizeof(messages) / sizeof(messages[0]))

#define STROKE                                                                 \
    "fill=\"none\" stroke=\"currentColor\" stroke-width=\"1.8\" "              \
    "stroke-linecap=\"round\" stroke-linejoin=\"round\""

/* The mark inside each badge, on a 24x24 grid. */
static const char *const badge_marks[] = {
    [BADGE_CHECK] = "<path d=\"M7.5 12.5l3 3 6-6.5\" " STROKE "/>",
    [BADGE_CLOCK] = "<circle cx=\"12\" cy=\"12\" r=\"5.5\" " STROKE "/>"
                    "<path d=\"M12 9v3.2l2.2 1.4\" " STROKE "/>",
    [BADGE_ALERT] = "<path d=\"M12 7.5v5.5\" " STROKE "/>"
                    "<circle cx=\"12\" cy=\"16.3\" r=\"1.1\" "
                    "fill=\"currentColor\"/>",
    [BADGE_INFO] = "<path d=\"M12 11v5.5\" " STROKE "/>"
                   "<circle cx=\"12\" cy=\"7.8\" r=\"1.1\" "
                   "fill=\"currentColor\"/>",
    [BADGE_QUESTION] = "<path d=\"M9.7 9.6a2.4 2.4 0 1 1 3.4 2.2c-.7.3-1.1"
                       ".8-1.1 1.6v.5\" " STROKE "/>"
                       "<circle cx=\"12\" cy=\"16.6\" r=\"1.1\" "
                       "fill=\"currentColor\"/>",
    [BADGE_RETRY] = "<path d=\"M16.6 10A5 5 0 1 0 17 13\" " STROKE "/>"
                    "<path d=\"M17 6.8V10h-3.2\" " STROKE "/>",
};

/* Put `b` back to `len` bytes, dropping a partly written page. */
static void
rewind_to(struct buf *b, size_t len)
{
    if (b->data != NULL && b->len > len) {
        b->len = len;
        b->data[len] = '\0';
    }
}

static int
badge(struct buf *b, const struct message *m)
{
    return buf_printf(b,
                      "<svg class=\"status %s\" width=\"48\" height=\"48\" "
                      "viewBox=\"0 0 24 24\" aria-hidden=\"true\" "
                      "focusable=\"false\"><circle cx=\"12\" cy=\"12\" "
                      "r=\"11\" fill=\"currentColor\" opacity=\".12\"/>%s"
                      "</svg>\n",
                      m->tone, badge_marks[m->badge]);
}

/* Append `open`, then `text` escaped, then `close`. */
static int
element(struct buf *b, const char *open, const char *text, const char *close)
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

static int
message_body(struct buf *b, const char *lang, const struct message *m,
             const char *detail)
{
    int rc = badge(b, m);

    if (rc == 0) {
        rc = element(b, "<h1>", i18n_text(lang, m->title), "</h1>\n");
    }
    if (rc == 0) {
        rc = element(b, "<p class=\"text\">", i18n_text(lang, m->text),
                     "</p>\n");
    }
    if (rc == 0 && detail != NULL && detail[0] != '\0') {
        rc = element(b, "<p class=\"detail\"><span class=\"label\">",
                     i18n_text(lang, I18N_DETAIL_LABEL), "</span> ");
        if (rc == 0) {
            rc = element(b, "<span>", detail, "</span></p>\n");
        }
    }
    return rc;
}

int
widget_render_message(const char *lang, enum widget_message m,
                      const char *detail, struct buf *out)
{
    const struct message *msg = NULL;
    size_t start = out->len;
    int rc = 0;

    if ((unsigned)m >= NMESSAGES) {
        return ERR_INVALID;
    }
    msg = &messages[m];
    lang = i18n_lang(lang);

    rc = html_page_begin(out, lang, i18n_text(lang, msg->title));
    if (rc == 0) {
        rc = buf_addstr(out, "<div class=\"card\">\n");
    }
    if (rc == 0) {
        rc = message_body(out, lang, msg, detail);
    }
    if (rc == 0) {
        rc = buf_addstr(out, "</div>\n");
    }
    if (rc == 0) {
        rc = html_page_end(out, lang);
    }
    if (rc < 0) {
        rewind_to(out, start);
    }
    return rc;
}

int
widget_message_status(enum widget_message m)
{
    if ((unsigned)m >= NMESSAGES) {
        return 500;
    }
    return messages[m].status;
}

/* The notice for embedded browsers: why, how, and the link to copy. */
static int
webview_notice(struct buf *b, const char *lang, const char *page_url)
{
    int rc = 0;

    rc = element(b,
                 "<section class=\"notice\" aria-labelledby=\"notice-title\">"
                 "\n<h2 id=\"notice-title\">",
                 i18n_text(lang, I18N_WEBVIEW_HEADING), "</h2>\n");
    if (rc == 0) {
        rc = element(b, "<p>", i18n_text(lang, I18N_WEBVIEW_TEXT), "</p>\n");
    }
    if (rc == 0 && page_url != NULL && page_url[0] != '\0') {
        rc = element(b, "<p>", i18n_text(lang, I18N_WEBVIEW_COPY), "</p>\n");
        if (rc == 0) {
            rc = element(b, "<p class=\"link\">", page_url, "</p>\n");
        }
    }
    if (rc == 0) {
        rc = buf_addstr(b, "</section>\n");
    }
    return rc;
}

/* One submit button: its value is the resource, its text the name. */
static int
choice_button(struct buf *b, const struct widget_choice *c)
{
    const char *label =
        c->name != NULL && c->name[0] != '\0' ? c->name : c->resource;
    int rc = 0;

    rc = buf_addstr(b, "<li><button type=\"submit\" name=\"resource\" "
                       "value=\"");
    if (rc == 0) {
        rc = html_escape(b, c->resource);
    }
    if (rc == 0) {
        rc = buf_addstr(b, "\" class=\"provider\">");
    }
    if (rc == 0) {
        rc = icon_svg(b, c->resource, c->name);
    }
    if (rc == 0) {
        rc = element(b, "<span class=\"name\">", label,
                     "</span></button></li>\n");
    }
    return rc;
}

static int
picker_form(struct buf *b, const struct widget_picker *p)
{
    size_t i = 0;
    int rc = 0;

    rc = element(b, "<form method=\"post\" action=\"", p->action, "\">\n");
    if (rc == 0) {
        rc = element(b, "<input type=\"hidden\" name=\"csrf\" value=\"",
                     p->csrf, "\">\n<ul class=\"choices\">\n");
    }
    for (i = 0; rc == 0 && i < p->nchoices; i++) {
        rc = choice_button(b, &p->choices[i]);
    }
    if (rc == 0) {
        rc = buf_addstr(b, "</ul>\n</form>\n");
    }
    return rc;
}

static int
picker_body(struct buf *b, const char *lang, const struct widget_picker *p)
{
    int rc = 0;

    if (p->webview) {
        rc = webview_notice(b, lang, p->page_url);
    }
    if (rc == 0) {
        rc = element(b, "<p class=\"eyebrow\">",
                     i18n_text(lang, I18N_PICKER_TITLE), "</p>\n");
    }
    if (rc == 0) {
        rc =
            element(b, "<h1>", i18n_text(lang, I18N_PICKER_HEADING), "</h1>\n");
    }
    if (rc == 0) {
        rc = element(b, "<p class=\"intro\">",
                     i18n_text(lang, I18N_PICKER_INTRO), "</p>\n");
    }
    if (rc == 0) {
        rc = picker_form(b, p);
    }
    return rc;
}

static int
picker_valid(const struct widget_picker *p)
{
    size_t i = 0;

    if (p->action == NULL || p->csrf == NULL ||
        (p->choices == NULL && p->nchoices > 0)) {
        return 0;
    }
    for (i = 0; i < p->nchoices; i++) {
        if (p->choices[i].resource == NULL ||
            p->choices[i].resource[0] == '\0') {
            return 0;
        }
    }
    return 1;
}

int
widget_render_picker(const struct widget_picker *p, struct buf *out)
{
    const char *lang = NULL;
    size_t start = out->len;
    int rc = 0;

    if (p == NULL || !picker_valid(p)) {
        return ERR_INVALID;
    }
    lang = i18n_lang(p->lang);
    if (p->nchoices == 0) {
        return widget_render_message(lang, WIDGET_MSG_NO_PROVIDER, NULL, out);
    }

    rc = html_page_begin(out, lang, i18n_text(lang, I18N_PICKER_TITLE));
    if (rc == 0) {
        rc = buf_addstr(out, "<div class=\"card\">\n");
    }
    if (rc == 0) {
        rc = picker_body(out, lang, p);
    }
    if (rc == 0) {
        rc = buf_addstr(out, "</div>\n");
    }
    if (rc == 0) {
        rc = html_page_end(out, lang);
    }
    if (rc < 0) {
        rewind_to(out, start);
    }
    return rc;
}

/*
 * Markers of in-app browsers, each found verbatim in the apps' user
 * agents. Where an app also runs as an Android WebView, "; wv)" catches
 * it as well; these also catch the iOS versions and the apps that drop
 * the "wv" marker.
 */
static const char *const inapp_markers[] = {
    "FBAN/",            /* Facebook, Messenger (iOS) */
    "FBAV/",            /* Facebook (Android) */
    "FB_IAB",           /* Facebook's in-app browser */
    "Instagram",        /* Instagram */
    "LinkedInApp",      /* LinkedIn */
    " Line/",           /* LINE */
    "MicroMessenger",   /* WeChat */
    "Twitter",          /* Twitter / X: "Twitter for iPhone", TwitterAndroid */
    "musical_ly",       /* TikTok (iOS) */
    "BytedanceWebview", /* TikTok (Android) */
    "TikTok",           /* TikTok */
    "Snapchat",         /* Snapchat */
    " GSA/",            /* the Google app */
};

/* iOS gives every app's WKWebView Safari's token list minus "Safari/". */
static int
ios_webview(const char *ua)
{
    if (strstr(ua, "iPhone") == NULL && strstr(ua, "iPad") == NULL &&
        strstr(ua, "iPod") == NULL) {
        return 0;
    }
    return strstr(ua, "AppleWebKit") != NULL && strstr(ua, "Safari/") == NULL;
}

int
widget_is_webview(const char *user_agent)
{
    size_t i = 0;

    if (user_agent == NULL) {
        return 0;
    }
    if (strstr(user_agent, "; wv)") != NULL || ios_webview(user_agent)) {
        return 1;
    }
    for (i = 0; i < sizeof(inapp_markers) / sizeof(inapp_markers[0]); i++) {
        if (strstr(user_agent, inapp_markers[i]) != NULL) {
            return 1;
        }
    }
    return 0;
}
