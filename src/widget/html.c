/*
 * html.c - escaping, the page shell and the security headers.
 *
 * The stylesheet below is the only styling any page has. Its exact bytes
 * are hashed into the Content-Security-Policy, so editing it needs no
 * other change: the hash is computed from the same string at run time.
 */
#include <pthread.h>
#include <stdio.h>
#include <ctype.h>
#include <string.h>

#include "core/codec.h"
#include "core/crypto.h"
#include "core/err.h"
#include "core/log.h"
#include "widget/html.h"
#include "widget/i18n.h"

/* Longest Content-Security-Policy value html_security_headers() builds. */
#define CSP_MAX 16384

/* Headers html_security_headers() adds. */
#define SECURITY_HEADERS 5

/*
 * One calm centred column: 28rem at most, full-width buttons of at least
 * 52px, system fonts only, colours from custom properties so the dark
 * scheme only swaps values. Contrast of text on its background is 4.5:1
 * or better in both schemes.
 */
static const char stylesheet[] =
    "\n"
    ":root{color-scheme:light dark;--bg:#f4f5f7;--card:#fff;--fg:#16181d;"
    "--muted:#59606e;--line:#dadde3;--btn:#fff;--btn-hover:#f3f5f9;"
    "--btn-line:#c9ced8;--accent:#2451c9;--ok:#17804a;--warn:#a15c00;"
    "--info:#2451c9;--note-bg:#fff7e5;--note-line:#efd59a;"
    "--link-bg:#fbfbfc;--accent-bg:#2451c9;--on-accent:#fff}\n"
    "@media (prefers-color-scheme:dark){:root{--bg:#0e1014;--card:#171a20;"
    "--fg:#eceef2;--muted:#a5abb7;--line:#2a2f38;--btn:#1d2129;"
    "--btn-hover:#252a34;--btn-line:#3a404c;--accent:#8eb1ff;--ok:#5ad08f;"
    "--warn:#f1bf5f;--info:#8eb1ff;--note-bg:#2a2312;--note-line:#5b4a1f;"
    "--link-bg:#12151a;--accent-bg:#8eb1ff;--on-accent:#0e1014}}\n"
    "*,*::before,*::after{box-sizing:border-box}\n"
    "html{-webkit-text-size-adjust:100%;text-size-adjust:100%}\n"
    "body{margin:0;min-height:100vh;background:var(--bg);color:var(--fg);"
    "font:16px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,"
    "\"Helvetica Neue\",Arial,\"Noto Sans\",\"Hiragino Sans\","
    "\"Yu Gothic UI\",Meiryo,sans-serif;-webkit-font-smoothing:antialiased;"
    "overflow-wrap:anywhere}\n"
    "main{max-width:28rem;margin:0 auto;padding:3rem 1rem 2rem}\n"
    ".card{background:var(--card);border:1px solid var(--line);"
    "border-radius:14px;padding:1.75rem 1.5rem;"
    "box-shadow:0 1px 2px rgba(16,24,40,.05),0 8px 24px rgba(16,24,40,.06)}"
    "\n"
    ".card>:last-child{margin-bottom:0}\n"
    "h1{font-size:1.375rem;line-height:1.3;font-weight:650;"
    "letter-spacing:-.01em;margin:0 0 .5rem;text-wrap:balance}\n"
    "h2{font-size:1rem;line-height:1.4;font-weight:600;margin:0 0 .375rem}\n"
    "p{margin:0 0 1rem}\n"
    ".eyebrow{margin:0 0 .25rem;color:var(--accent);font-size:.8125rem;"
    "font-weight:600;letter-spacing:.01em}\n"
    ".intro{color:var(--muted);margin-bottom:1.5rem}\n"
    ".choices{list-style:none;margin:0;padding:0;display:grid;gap:.625rem}\n"
    ".provider{display:flex;align-items:center;gap:.875rem;width:100%;"
    "min-height:52px;margin:0;padding:.625rem 1rem;"
    "border:1px solid var(--btn-line);border-radius:10px;"
    "background:var(--btn);color:var(--fg);font:inherit;font-weight:500;"
    "text-align:left;cursor:pointer;"
    "transition:background-color .15s,border-color .15s}\n"
    ".provider:hover{background:var(--btn-hover);border-color:var(--muted)}\n"
    ".provider:active{transform:translateY(1px)}\n"
    ".provider svg{flex:none;display:block;border-radius:7px}\n"
    ".provider .name{flex:1;min-width:0;overflow-wrap:anywhere}\n"
    ".provider::after{content:\"\";flex:none;width:.5rem;height:.5rem;"
    "margin-right:.25rem;border-top:2px solid var(--muted);"
    "border-right:2px solid var(--muted);transform:rotate(45deg)}\n"
    ":focus-visible{outline:3px solid var(--accent);outline-offset:2px}\n"
    ".provider:focus-visible{border-color:var(--accent)}\n"
    "button,input{font:inherit}\n"
    ".card button:not(.provider){display:block;width:100%;min-height:48px;"
    "margin:0;padding:.75rem 1rem;border:1px solid var(--accent-bg);"
    "border-radius:10px;background:var(--accent-bg);color:var(--on-accent);"
    "font-weight:600;cursor:pointer}\n"
    ".card button:not(.provider):hover{filter:brightness(1.1)}\n"
    ".choices li+li button:not(.provider){background:var(--btn);"
    "color:var(--fg);border-color:var(--btn-line)}\n"
    "label{display:inline-block;margin-bottom:.375rem;font-size:.875rem;"
    "font-weight:600}\n"
    "input[type=text],input[type=email],input[type=password]{width:100%;"
    "min-height:48px;padding:.625rem .75rem;border:1px solid var(--btn-line);"
    "border-radius:8px;background:var(--card);color:var(--fg)}\n"
    "input:focus-visible{border-color:var(--accent)}\n"
    ".card ul:not(.choices){margin:0 0 1rem;padding-left:1.25rem}\n"
    ".notice{background:var(--note-bg);border:1px solid var(--note-line);"
    "border-radius:10px;padding:1rem 1.125rem;margin:0 0 1.5rem}\n"
    ".notice p{margin:0 0 .75rem}\n"
    ".link{margin:0;padding:.625rem .75rem;background:var(--link-bg);"
    "border:1px solid var(--line);border-radius:8px;"
    "font:.875rem/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,"
    "monospace;overflow-wrap:anywhere;word-break:break-all;"
    "-webkit-user-select:all;user-select:all}\n"
    ".status{display:block;margin:0 0 1rem}\n"
    ".status-ok{color:var(--ok)}\n"
    ".status-warn{color:var(--warn)}\n"
    ".status-info{color:var(--info)}\n"
    "p.status{padding:.75rem 1rem;border:1px solid var(--note-line);"
    "border-radius:8px;background:var(--note-bg);font-size:.9375rem}\n"
    ".text{color:var(--muted)}\n"
    ".detail{margin:1.25rem 0 0;padding-top:1rem;"
    "border-top:1px solid var(--line);font-size:.875rem;"
    "overflow-wrap:anywhere}\n"
    ".detail .label{display:block;color:var(--muted);font-size:.75rem;"
    "font-weight:600;text-transform:uppercase;letter-spacing:.04em}\n"
    ".inbox{list-style:none;margin:0;padding:0}\n"
    ".inbox li{padding:.875rem 0;border-top:1px solid var(--line)}\n"
    ".inbox .meta{color:var(--muted);font-size:.8125rem;"
    "overflow-wrap:anywhere;margin:0 0 .375rem}\n"
    ".inbox pre{margin:.5rem 0 0;padding:.5rem .625rem;"
    "background:var(--btn-hover);border-radius:6px;white-space:pre-wrap;"
    "overflow-wrap:anywhere;font:.75rem/1.4 ui-monospace,SFMono-Regular,"
    "Menlo,Consolas,monospace;max-height:16rem;overflow:auto}\n"
    "footer{display:flex;align-items:center;justify-content:center;"
    "gap:.375rem;margin-top:1.25rem;color:var(--muted);"
    "font-size:.8125rem}\n"
    "footer svg{flex:none}\n"
    "@media (max-width:380px){main{padding:1.25rem .75rem}"
    ".card{padding:1.375rem 1.125rem}}\n"
    "@media (prefers-reduced-motion:reduce){.provider{transition:none}}\n";

/* A small padlock for the footer; decorative. */
static const char footer_lock[] =
    "<svg width=\"14\" height=\"14\" viewBox=\"0 0 16 16\" aria-hidden=\"true\""
    " focusable=\"false\"><rect x=\"3\" y=\"7\" width=\"10\" height=\"7\""
    " rx=\"1.5\" fill=\"currentColor\"/><path d=\"M5.5 7V5a2.5 2.5 0 0 1 5 0"
    "v2\" fill=\"none\" stroke=\"currentColor\" stroke-width=\"1.5\"/>"
    "</svg>";

static pthread_once_t style_once = PTHREAD_ONCE_INIT;
static char style_source[sizeof("'sha256-'") + CODEC_B64_LEN(32)];

static void
compute_style_source(void)
{
    unsigned char md[CRYPTO_SHA256_LEN];
    char b64[CODEC_B64_LEN(CRYPTO_SHA256_LEN) + 1];

    crypto_sha256(stylesheet, sizeof(stylesheet) - 1, md);
    if (codec_b64_encode(md, sizeof(md), b64, sizeof(b64)) < 0) {
        BUG("sha256 base64 does not fit");
    }
    snprintf(style_source, sizeof(style_source), "'sha256-%s'", b64);
}

const char *
html_stylesheet(void)
{
    return stylesheet;
}

const char *
html_style_source(void)
{
    pthread_once(&style_once, compute_style_source);
    return style_source;
}

/* The entity for one of the five special characters, or NULL. */
static const char *
entity(char c)
{
    switch (c) {
    case '&':
        return "&amp;";
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    case '"':
        return "&quot;";
    case '\'':
        return "&#39;";
    default:
        return NULL;
    }
}

int
html_escape(struct buf *b, const char *s)
{
    const char *run = s;
    const char *ent = NULL;
    int rc = 0;

    if (s == NULL) {
        return 0;
    }
    for (; *s != '\0'; s++) {
        ent = entity(*s);
        if (ent == NULL) {
            continue;
        }
        rc = buf_add(b, run, (size_t)(s - run));
        if (rc == 0) {
            rc = buf_addstr(b, ent);
        }
        if (rc < 0) {
            return rc;
        }
        run = s + 1;
    }
    return buf_add(b, run, (size_t)(s - run));
}

/*
 * 1 when `o` is "http://" or "https://" followed by at least one host
 * character and nothing else, or a scheme source ("myapp:", a letter
 * then letters, digits, '+', '-', '.'): no path, no space, no quote, no
 * ';' or ',' that could end the directive and start another.
 */
int
html_source_ok(const char *o)
{
    size_t n = 0;

    if (isalpha((unsigned char)o[0])) {
        n = strspn(o, "abcdefghijklmnopqrstuvwxyz"
                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                      "0123456789+-.");
        if (o[n] == ':' && o[n + 1] == '\0') {
            return 1;
        }
    }
    if (strncmp(o, "https://", 8) == 0) {
        o += 8;
    } else if (strncmp(o, "http://", 7) == 0) {
        o += 7;
    } else {
        return 0;
    }
    n = strspn(o, "abcdefghijklmnopqrstuvwxyz"
                  "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                  "0123456789.-:[]");
    return n > 0 && o[n] == '\0';
}

static int
build_csp(struct buf *b, const char *const *form_origins)
{
    size_t i = 0;
    int rc = 0;

    if (form_origins != NULL && form_origins[0] != NULL &&
        strcmp(form_origins[0], HTML_FORM_ANYWHERE) == 0) {
        /* no form-action at all: it does not fall back to default-src */
        return buf_printf(b,
                          "default-src 'none'; style-src %s; img-src 'self' "
                          "data:; frame-ancestors 'none'; base-uri 'none'",
                          html_style_source());
    }
    rc = buf_printf(b,
                    "default-src 'none'; style-src %s; img-src 'self' data:; "
                    "form-action 'self'",
                    html_style_source());
    for (i = 0; rc == 0 && form_origins != NULL && form_origins[i] != NULL;
         i++) {
        if (!html_source_ok(form_origins[i])) {
            return ERR_INVALID;
        }
        rc = buf_printf(b, " %s", form_origins[i]);
    }
    if (rc == 0) {
        rc = buf_addstr(b, "; frame-ancestors 'none'; base-uri 'none'");
    }
    return rc;
}

int
html_security_headers(struct http_response *resp, struct arena *a,
                      const char *const *form_origins)
{
    struct buf csp;
    char *value = NULL;
    int rc = 0;

    buf_init(&csp, CSP_MAX);
    if (resp->nheaders + SECURITY_HEADERS > HTTP_MAX_HEADERS) {
        rc = ERR_TOOBIG;
        goto out;
    }
    rc = build_csp(&csp, form_origins);
    if (rc < 0) {
        goto out;
    }
    value = arena_strdup(a, buf_str(&csp));
    if (value == NULL) {
        rc = ERR_NOMEM;
        goto out;
    }

    /* every check passed: nothing below can fail */
    http_add_header(resp, "Content-Security-Policy", value);
    http_add_header(resp, "X-Frame-Options", "DENY");
    http_add_header(resp, "Referrer-Policy", "no-referrer");
    http_add_header(resp, "X-Content-Type-Options", "nosniff");
    http_add_header(resp, "Cache-Control", "no-store");
    resp->content_type = "text/html; charset=utf-8";

out:
    buf_release(&csp);
    return rc;
}

int
html_page_begin(struct buf *b, const char *lang, const char *title)
{
    int rc = 0;

    rc = buf_addstr(b, "<!DOCTYPE html>\n<html lang=\"");
    if (rc == 0) {
        rc = html_escape(b, lang);
    }
    if (rc == 0) {
        rc = buf_addstr(b, "\">\n<head>\n<meta charset=\"utf-8\">\n"
                           "<meta name=\"viewport\" content=\"width=device-"
                           "width, initial-scale=1\">\n"
                           "<meta name=\"color-scheme\" content=\"light "
                           "dark\">\n"
                           "<meta name=\"robots\" content=\"noindex, "
                           "nofollow\">\n"
                           "<meta name=\"referrer\" content=\"no-referrer\">"
                           "\n<title>");
    }
    if (rc == 0) {
        rc = html_escape(b, title);
    }
    if (rc == 0) {
        rc = buf_printf(b,
                        "</title>\n<style>%s</style>\n</head>\n<body>\n"
                        "<main>\n",
                        stylesheet);
    }
    return rc;
}

int
html_page_end(struct buf *b, const char *lang)
{
    int rc = 0;

    rc = buf_printf(b, "<footer>%s<span>", footer_lock);
    if (rc == 0) {
        rc = html_escape(b, i18n_text(lang, I18N_FOOTER));
    }
    if (rc == 0) {
        rc = buf_addstr(b, "</span></footer>\n</main>\n</body>\n</html>\n");
    }
    return rc;
}
