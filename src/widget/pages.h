/*
 * pages.h - the hosted widget's pages, rendered to complete HTML.
 *
 * Pure functions of their arguments: the HTTP handlers read the store,
 * check the link and the form, then call one of these and send the
 * result with the headers of html_security_headers(). Every value from
 * outside (names, detail, URLs, the csrf value) is escaped; attributes
 * are double-quoted. The pages use no JavaScript: the picker is one form
 * of submit buttons, usable with the keyboard alone.
 *
 * The renderers append one document to the caller's `out` (its ceiling
 * applies) and return 0, ERR_TOOBIG when `out` is full, or ERR_INVALID
 * for a missing required argument; on an error `out` is left as it was
 * (nothing of the page stays in it). Arguments are borrowed for the
 * call. `lang` may be any tag: it goes through i18n_lang().
 */
#ifndef FERRY_WIDGET_PAGES_H
#define FERRY_WIDGET_PAGES_H

#include <stddef.h>

#include "core/buf.h"

struct widget_choice {
    const char *resource; /* "OURA" */
    const char *name;     /* "Oura" */
};

struct widget_picker {
    const char *lang;   /* from i18n_lang() */
    const char *action; /* form action, a path: "/widget/<token>" */
    const char *csrf;   /* anti-forgery value, hidden field "csrf" */
    const struct widget_choice *choices;
    size_t nchoices;
    int webview;          /* the user agent is an embedded WebView */
    const char *page_url; /* the full link, shown for copying in a WebView */
    const char *reference_id; /* may be NULL; not shown, reserved */
};

/*
 * The provider picker: one <form method="post" action=action> with the
 * hidden csrf field and one <button type="submit" name="resource"
 * value="OURA"> per choice (icon + name), in the order given, so it works
 * without JavaScript and with the keyboard only (real buttons, visible
 * focus ring, logical order). With `webview` set, a notice first that
 * explains (in the language) that logins may be refused inside apps and
 * how to open the link in the system browser, with `page_url` shown as
 * selectable text (omitted when NULL). A choice whose `name` is NULL or
 * empty is labelled with its resource. ERR_INVALID when `action` or
 * `csrf` is NULL, `choices` is NULL with `nchoices` > 0, or a choice has
 * no resource; with no choices, the WIDGET_MSG_NO_PROVIDER page is
 * rendered instead.
 */
int widget_render_picker(const struct widget_picker *p, struct buf *out);

enum widget_message {
    WIDGET_MSG_EXPIRED,     /* 410: the link has expired */
    WIDGET_MSG_USED,        /* 410: the link was already used to connect */
    WIDGET_MSG_NOT_FOUND,   /* 404: no such link */
    WIDGET_MSG_BAD_FORM,    /* 400: the form was not ours / stale */
    WIDGET_MSG_SUCCESS,     /* 200: connected, you may close this page */
    WIDGET_MSG_FAILURE,     /* 200/400: the connection did not complete */
    WIDGET_MSG_NO_PROVIDER, /* 200: no provider can be offered */
};

/*
 * A page saying one thing: a title and a sentence in `lang`, plus
 * `detail` (may be NULL; escaped) e.g. the provider name or a reason
 * code. ERR_INVALID for a value outside the enum.
 */
int widget_render_message(const char *lang, enum widget_message m,
                          const char *detail, struct buf *out);

/*
 * The usual HTTP status for a message page (the numbers in the enum's
 * comments; 400 for WIDGET_MSG_FAILURE, which a caller answering a
 * provider's refusal may send as 200 instead); 500 outside the enum.
 */
int widget_message_status(enum widget_message m);

/*
 * 1 when `user_agent` (may be NULL) is a known embedded WebView or in-app
 * browser: Android WebView ("; wv)"), iOS WKWebView (iPhone/iPad
 * AppleWebKit without "Safari/"), Facebook (FBAN/FBAV), Instagram,
 * LinkedIn, Line, WeChat (MicroMessenger), Twitter/X, TikTok, Snapchat,
 * the Google app (GSA). 0 for normal Chrome, Safari, Firefox, Edge,
 * Samsung Internet and anything unknown.
 */
int widget_is_webview(const char *user_agent);

#endif
