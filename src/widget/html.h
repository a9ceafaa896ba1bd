/*
 * html.h - HTML escaping, the page shell and the security headers that
 * every HTML page of ferry shares.
 *
 * Pages are plain server-rendered HTML5 with no script at all and no
 * external asset: one embedded stylesheet, inline SVG icons. The
 * Content-Security-Policy allows exactly that stylesheet by its SHA-256
 * hash, so a page needs no second request and an injected <style> or
 * style attribute does not apply.
 *
 *     html_page_begin(b, "de", title);
 *     <div class="card"> ... </div>   every outside value escaped
 *     html_page_end(b, "de");
 *
 * The stylesheet knows these classes: `card` (the white panel; a page
 * has one), in it `eyebrow`, `intro` and `text` (muted paragraphs),
 * `choices` (a list of full-width buttons: `provider` for one with an
 * icon; otherwise the first is the primary action), `notice` (a boxed
 * note) with `link` (a selectable URL), `detail` with a `label` span,
 * and `status` with `status-ok`, `status-warn` or `status-info` (a
 * message's badge, or on a <p> an alert line). Labels, text inputs,
 * plain lists and a lone submit button are styled without a class.
 *     html_security_headers(resp, arena, NULL);
 */
#ifndef FERRY_WIDGET_HTML_H
#define FERRY_WIDGET_HTML_H

#include "core/arena.h"
#include "core/buf.h"
#include "http/server.h"

/*
 * Append `s` to `b` with & < > " ' escaped (as &amp; &lt; &gt; &quot;
 * &#39;); every other byte is copied as it is. NULL appends nothing.
 * ERR_TOOBIG when `b` is full; `b` then holds what fitted before the
 * failing piece, so a caller that gets an error discards the page.
 * `s` is borrowed.
 */
int html_escape(struct buf *b, const char *s);

/*
 * The Content-Security-Policy and other headers every HTML page of ferry
 * sends; `form_origins` is a NULL-terminated list of extra origins
 * ("https://host:port") that forms may submit to or be redirected to
 * (form-action also applies to the redirect after a POST in Chromium),
 * may be NULL. Adds the headers to `resp` (values allocated in `a`):
 * Content-Security-Policy (default-src 'none'; style-src with the sha256
 * hash of the embedded stylesheet; img-src 'self' data:; form-action
 * 'self' + form_origins; frame-ancestors 'none'; base-uri 'none'; no
 * script source at all), X-Frame-Options: DENY, Referrer-Policy:
 * no-referrer, X-Content-Type-Options: nosniff, Cache-Control: no-store;
 * and sets resp->content_type to "text/html; charset=utf-8".
 *
 * An entry may also be a scheme source ("myapp:", for app redirects).
 * Errors, with `resp` left unchanged: ERR_INVALID for an origin that is
 * not "http(s)://" followed by host characters (letters, digits, . - :
 * [ ]) nor a scheme source, so no origin can add a directive;
 * ERR_TOOBIG when `resp` has no room for the five headers; ERR_NOMEM
 * when `a` is at its ceiling.
 * `form_origins` is borrowed; the values are owned by `a`.
 */
int html_security_headers(struct http_response *resp, struct arena *a,
                          const char *const *form_origins);

/* 1 when `src` may be an entry of html_security_headers()'s
 * `form_origins` (an http(s) origin or a scheme source). */
int html_source_ok(const char *src);

/*
 * As the only entry of `form_origins`: leave form-action out, for a page
 * whose form's answer redirects on to a place the page cannot know (an
 * authorization server's consent, whose redirect_uri redirects on to
 * the developer's app). Every other directive stays.
 */
#define HTML_FORM_ANYWHERE "*"

/* The embedded stylesheet, exactly the bytes between <style> and
 * </style> of every page. Static. */
const char *html_stylesheet(void);

/* The CSP source for the stylesheet, "'sha256-<base64>'". Static,
 * computed once (thread-safe). */
const char *html_style_source(void);

/*
 * Append the start of a page to `b`: the doctype, <html lang="lang">,
 * the head (charset, viewport, robots noindex, `title` escaped, the
 * stylesheet) and the opening of the body and its centred column
 * (<main>); the caller writes the content, usually one card.
 * `lang` and `title` are borrowed; `lang` is escaped too. ERR_TOOBIG when
 * `b` is full.
 */
int html_page_begin(struct buf *b, const char *lang, const char *title);

/* Append the footer line (in `lang`, from i18n_text()) and close the
 * column and the document opened by html_page_begin(). ERR_TOOBIG when
 * `b` is full. */
int html_page_end(struct buf *b, const char *lang);

#endif
