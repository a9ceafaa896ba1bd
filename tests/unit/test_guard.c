/*
 * test_guard.c - request-target checks and listen-address parsing.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "http/guard.h"
#include "tap.h"

static void
target(const char *t, int want, const char *why)
{
    struct err e;
    char name[128];
    int rc = 0;

    err_clear(&e);
    rc = http_guard_target(t, &e);
    snprintf(name, sizeof(name), "%s %s", want == 0 ? "ok:" : "refused:", t);
    ok(rc == want && (why == NULL || strstr(e.msg, why) != NULL), name);
    if (rc != want) {
        printf("#   rc=%d msg='%s'\n", rc, e.msg);
    }
}

static void
listen_ok(const char *l, int family, unsigned port)
{
    struct sockaddr_storage ss;
    unsigned len = 0;
    struct err e;
    unsigned got = 0;
    int rc = http_listen_parse(l, &ss, &len, &e);

    if (rc == 0) {
        got = ss.ss_family == AF_INET
                  ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
                  : ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    ok(rc == 0 && ss.ss_family == family && got == port, l);
}

static void
listen_bad(const char *l)
{
    struct sockaddr_storage ss;
    unsigned len = 0;
    struct err e;
    char name[128];
    int rc = http_listen_parse(l, &ss, &len, &e);

    snprintf(name, sizeof(name), "listen refused: '%s'", l);
    ok(rc == ERR_CONFIG && strstr(e.msg, "[server] listen") != NULL, name);
}

int
main(void)
{
    target("/healthz", 0, NULL);
    target("/v2/x?a=%2F&b=%41", 0, NULL);
    target("/v2/a%20b", 0, NULL);
    target("/healthz%00junk", ERR_INVALID, "%00");
    target("/x?a=%00", ERR_INVALID, "%00");
    target("/v2%2Fauth", ERR_INVALID, "%2F");
    target("/v2%2fauth", ERR_INVALID, "%2F");
    target("/bad%zz", ERR_INVALID, "two hex digits");
    target("/cut%4", ERR_INVALID, "two hex digits");
    target("/end%", ERR_INVALID, "two hex digits");

    listen_ok("127.0.0.1:8080", AF_INET, 8080);
    listen_ok("0.0.0.0:0", AF_INET, 0);
    listen_ok("localhost:65535", AF_INET, 65535);
    listen_ok("[::1]:0", AF_INET6, 0);
    listen_ok("[::]:443", AF_INET6, 443);
    listen_bad("127.0.0.1:65536");
    listen_bad("127.0.0.1:99999");
    listen_bad("127.0.0.1:4294967376");
    listen_bad("127.0.0.1:-1");
    listen_bad("127.0.0.1:");
    listen_bad("127.0.0.1");
    listen_bad(":8080");
    listen_bad("999.1.1.1:80");
    listen_bad("127.1:80");
    listen_bad("example.com:80");
    listen_bad("[::1:80");
    listen_bad("[nope]:80");
    return done_testing();
}
