/*
 * test_url.c - redirect URL checks.
 */
#include <string.h>

#include "http/url.h"
#include "tap.h"

static void
accepted(const char *url)
{
    struct err e;
    int rc = 0;

    err_clear(&e);
    rc = url_check_redirect("u", url, &e);
    ok(rc == 0, url);
    if (rc != 0) {
        printf("#   %s\n", e.msg);
    }
}

static void
refused(const char *url, const char *why)
{
    struct err e;
    char name[160];
    int rc = 0;

    err_clear(&e);
    rc = url_check_redirect("u", url, &e);
    snprintf(name, sizeof(name), "refused: %.100s", url);
    ok(rc == ERR_INVALID && strstr(e.msg, why) != NULL &&
           strncmp(e.msg, "u: ", 3) == 0,
       name);
    if (rc != ERR_INVALID || strstr(e.msg, why) == NULL) {
        printf("#   rc=%d msg='%s' want '%s'\n", rc, e.msg, why);
    }
}

int
main(void)
{
    char big[URL_REDIRECT_MAX + 64];

    accepted("https://app.example/ok");
    accepted("https://app.example/ok?user=1&x=%20y#frag");
    accepted("http://127.0.0.1:3000/cb");
    accepted("myapp://success");
    accepted("com.example.app://oauth/done?x=1");
    accepted("HTTPS://APP.EXAMPLE/OK");

    /* the widget's CSP form-action cannot name these hosts */
    refused("https://[2001:db8::1]/cb", "DNS name or an IPv4 address");
    refused("https://my_app.example/", "DNS name or an IPv4 address");
    refused("https://%61pp.example/", "DNS name or an IPv4 address");
    memset(big, 'a', 300);
    memcpy(big, "https://", 8);
    strcpy(big + 300, ".example/");
    refused(big, "longer than 253 bytes");
    refused("https:///app.example/ok", "has no host");
    refused("javascript:alert(1)", "javascript: scheme");
    refused("JaVaScRiPt:alert(1)", "javascript: scheme");
    refused("data:text/html,<script>", "data: scheme");
    refused("file:///etc/passwd", "file: scheme");
    refused("vbscript:msgbox", "vbscript: scheme");
    refused("blob:https://a.example/x", "blob: scheme");
    refused("https://evil.example@good.example/", "user-info");
    refused("https://user:pass@good.example/", "user-info");
    refused("https://:pass@good.example/", "user-info");
    refused("/relative", "not an absolute URL");
    refused("//evil.example/", "not an absolute URL");
    refused("app.example/ok", "not an absolute URL");
    refused(":nothing", "not an absolute URL");
    refused("1http://x/", "not an absolute URL");
    refused("https://a.example/a b", "contains a space");
    refused("https://a.example/\t", "contains a space");
    refused("https://a.example\\@evil.example/", "backslash");
    refused("https://a.example/\xc3\xa9", "non-ASCII");
    refused("https://a.example/\x7f", "control");
    refused("https://", "u: ");
    refused("https:/x", "expected https://");
    refused("myapp:done", "expected myapp://");
    refused("https://a.example:99999/", "not a valid URL");

    memcpy(big, "https://a.example/", 18);
    memset(big + 18, 'a', sizeof(big) - 19);
    big[sizeof(big) - 1] = '\0';
    refused(big, "longer than 2048 bytes");
    big[URL_REDIRECT_MAX] = '\0';
    accepted(big);

    return done_testing();
}
