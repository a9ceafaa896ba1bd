/*
 * pages.c - the sandbox's three pages: login, consent and error.
 *
 * They share the widget's page shell and stylesheet (widget/html.h), use
 * no script, and escape every value that came from outside, attributes
 * double-quoted. Every function appends to `out` and returns 0 or
 * ERR_TOOBIG when `out` is full (the page must then not be sent).
 */
#include "sandbox/internal.h"
#include "widget/html.h"

static const char lang[] = "en";

/* `<input type="hidden" name="NAME" value="VALUE">`, escaped. */
static int
hidden(struct buf *out, const char *name, const char *value)
{
    int rc =
        buf_printf(out, "<input type=\"hidden\" name=\"%s\" value=\"", name);

    rc = rc != 0 ? rc : html_escape(out, value);
    return rc != 0 ? rc : buf_addstr(out, "\">\n");
}

/* The opening of a form that posts to `action` with the sealed
 * request of `step` ("login" or "consent"). */
static int
form_open(struct buf *out, const char *action, const char *step,
          const char *sealed)
{
    int rc = buf_addstr(out, "<form method=\"post\" action=\"");

    rc = rc != 0 ? rc : html_escape(out, action);
    rc = rc != 0 ? rc : buf_addstr(out, "\">\n");
    rc = rc != 0 ? rc : hidden(out, "step", step);
    return rc != 0 ? rc : hidden(out, "request", sealed);
}

int
sandbox_page_login(struct buf *out, const char *action, const char *sealed,
                   const char *name, const char *problem)
{
    int rc = html_page_begin(out, lang, "Sign in to ferry Sandbox");

    rc = rc != 0 ? rc
                 : buf_addstr(out, "<div class=\"card\">\n"
                                   "<h1>Sign in to ferry Sandbox</h1>\n"
                                   "<p class=\"intro\">This is ferry's "
                                   "sandbox, a pretend wearable provider for "
                                   "trying the connect flow. Any name works: "
                                   "the same name always opens the same "
                                   "account.</p>\n");
    if (rc == 0 && problem != NULL) {
        rc = buf_addstr(out, "<p class=\"status status-warn\" "
                             "role=\"alert\">");
        rc = rc != 0 ? rc : html_escape(out, problem);
        rc = rc != 0 ? rc : buf_addstr(out, "</p>\n");
    }
    rc = rc != 0 ? rc : form_open(out, action, "login", sealed);
    rc = rc != 0 ? rc
                 : buf_addstr(out, "<p><label for=\"username\">Username"
                                   "</label>\n"
                                   "<input type=\"text\" id=\"username\" "
                                   "name=\"username\" value=\"");
    rc = rc != 0 ? rc : html_escape(out, name);
    rc = rc != 0 ? rc
                 : buf_addstr(out, "\" maxlength=\"64\" "
                                   "autocomplete=\"username\" "
                                   "autocapitalize=\"none\" "
                                   "spellcheck=\"false\" required "
                                   "autofocus></p>\n"
                                   "<button type=\"submit\">Sign in</button>\n"
                                   "</form>\n</div>\n");
    return rc != 0 ? rc : html_page_end(out, lang);
}

/* The list of the scopes in `scope`, by their human names. */
static int
scope_list(struct buf *out, unsigned scope)
{
    const char *title = NULL;
    size_t i = 0;
    int rc = buf_addstr(out, "<ul>\n");

    for (i = 0; rc == 0 && (title = sandbox_scope_title(i)) != NULL; i++) {
        if (scope & (1u << i)) {
            rc = buf_printf(out, "<li>%s</li>\n", title);
        }
    }
    return rc != 0 ? rc : buf_addstr(out, "</ul>\n");
}

int
sandbox_page_consent(struct buf *out, const char *action, const char *sealed,
                     const char *client, unsigned scope, const char *name)
{
    int rc = html_page_begin(out, lang, "Allow access");

    rc = rc != 0 ? rc
                 : buf_addstr(out, "<div class=\"card\">\n"
                                   "<h1>Allow access to your data?</h1>\n"
                                   "<p class=\"intro\"><strong>");
    rc = rc != 0 ? rc : html_escape(out, client);
    rc = rc != 0 ? rc : buf_addstr(out, "</strong> wants to read your:</p>\n");
    rc = rc != 0 ? rc : scope_list(out, scope);
    rc = rc != 0 ? rc
                 : buf_addstr(out, "<p class=\"text\">Signed in as <strong>");
    rc = rc != 0 ? rc : html_escape(out, name);
    rc = rc != 0 ? rc : buf_addstr(out, "</strong>.</p>\n");
    rc = rc != 0 ? rc : form_open(out, action, "consent", sealed);
    rc = rc != 0 ? rc
                 : buf_addstr(out, "<ul class=\"choices\">\n"
                                   "<li><button type=\"submit\" "
                                   "name=\"decision\" value=\"allow\">Allow"
                                   "</button></li>\n"
                                   "<li><button type=\"submit\" "
                                   "name=\"decision\" value=\"deny\">Deny"
                                   "</button></li>\n"
                                   "</ul>\n</form>\n</div>\n");
    return rc != 0 ? rc : html_page_end(out, lang);
}

int
sandbox_page_error(struct buf *out, const char *title, const char *text,
                   const char *detail)
{
    int rc = html_page_begin(out, lang, title);

    rc = rc != 0 ? rc : buf_addstr(out, "<div class=\"card\">\n<h1>");
    rc = rc != 0 ? rc : html_escape(out, title);
    rc = rc != 0 ? rc : buf_addstr(out, "</h1>\n<p class=\"text\">");
    rc = rc != 0 ? rc : html_escape(out, text);
    rc = rc != 0 ? rc : buf_addstr(out, "</p>\n");
    if (rc == 0 && detail != NULL) {
        rc = buf_addstr(out, "<p class=\"detail\"><span class=\"label\">"
                             "Details</span>");
        rc = rc != 0 ? rc : html_escape(out, detail);
        rc = rc != 0 ? rc : buf_addstr(out, "</p>\n");
    }
    rc = rc != 0 ? rc : buf_addstr(out, "</div>\n");
    return rc != 0 ? rc : html_page_end(out, lang);
}
