/*
 * test_log.c - log line format, escaping, redaction and filtering.
 *
 * stderr is pointed at a temporary file while log_event() runs; each
 * check reads back what was written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <jansson.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "tap.h"

static int cap_fd = -1;   /* the temporary file */
static int saved_fd = -1; /* the real stderr */
static char cap_text[2 * LOG_LINE_MAX];

/* Hidden from the compiler's format checks, which reject a literal NULL. */
static const char *volatile null_str = NULL;

static void
cap_start(void)
{
    if (ftruncate(cap_fd, 0) != 0 || lseek(cap_fd, 0, SEEK_SET) != 0) {
        perror("capture");
        exit(2);
    }
    fflush(stderr);
    dup2(cap_fd, STDERR_FILENO);
}

/* Put stderr back and return what was written meanwhile. */
static const char *
cap_end(void)
{
    ssize_t n = 0;

    dup2(saved_fd, STDERR_FILENO);
    n = pread(cap_fd, cap_text, sizeof(cap_text) - 1, 0);
    cap_text[n < 0 ? 0 : n] = '\0';
    return cap_text;
}

/* Run one log statement and capture its output. */
#define CAPTURE(stmt) (cap_start(), (stmt), cap_end())

static int
contains(const char *hay, const char *needle)
{
    return strstr(hay, needle) != NULL;
}

/*
 * A small check that `s` is one flat JSON object of string or number
 * values and a newline: {"k":"v","n":-1.5e3,...}\n with valid escapes and
 * no raw control bytes.
 */
static const char *
json_string_end(const char *p)
{
    if (*p++ != '"') {
        return NULL;
    }
    while (*p != '"') {
        if ((unsigned char)*p < 0x20) {
            return NULL;
        }
        if (*p == '\\') {
            p++;
            if (*p == 'u') {
                int i = 0;

                for (i = 1; i <= 4; i++) {
                    if (strchr("0123456789abcdefABCDEF", p[i]) == NULL ||
                        p[i] == '\0') {
                        return NULL;
                    }
                }
                p += 4;
            } else if (strchr("\"\\/bfnrt", *p) == NULL || *p == '\0') {
                return NULL;
            }
        }
        p++;
    }
    return p + 1;
}

static const char *
json_number_end(const char *p)
{
    const char *q = NULL;

    p += *p == '-';
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        p += strspn(p, "0123456789");
    } else {
        return NULL;
    }
    if (*p == '.') {
        q = ++p;
        p += strspn(p, "0123456789");
        if (p == q) {
            return NULL;
        }
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        p += *p == '+' || *p == '-';
        q = p;
        p += strspn(p, "0123456789");
        if (p == q) {
            return NULL;
        }
    }
    return p;
}

static int
json_line_ok(const char *s)
{
    const char *p = s;

    if (*p++ != '{') {
        return 0;
    }
    for (;;) {
        p = json_string_end(p);
        if (p == NULL || *p++ != ':') {
            return 0;
        }
        p = *p == '"' ? json_string_end(p) : json_number_end(p);
        if (p == NULL) {
            return 0;
        }
        if (*p == '}') {
            return strcmp(p, "}\n") == 0;
        }
        if (*p++ != ',') {
            return 0;
        }
    }
}

static int
one_line(const char *s)
{
    const char *nl = strchr(s, '\n');

    return nl != NULL && nl[1] == '\0';
}

static void
test_logfmt_basic(void)
{
    const char *out = NULL;

    log_setup(LOG_INFO, LOG_FMT_LOGFMT);
    out = CAPTURE(log_event(LOG_INFO, "http", "http.request",
                            "method=%s status=%d bytes=%zu", "GET", 200,
                            (size_t)512));
    ok(strncmp(out, "ts=", 3) == 0, "a line starts with ts=");
    ok(out[7] == '-' && out[13] == 'T' && contains(out, "Z level="),
       "ts is an RFC 3339 UTC time");
    ok(contains(out, " level=info mod=http event=http.request "),
       "level, mod and event follow in order");
    ok(contains(out, " method=GET status=200 bytes=512\n"),
       "pairs follow with their values");
    ok(!contains(out, "req_id="), "no req_id when none is set");
    ok(one_line(out), "exactly one line");

    out = CAPTURE(log_event(LOG_WARN, "t", "e",
                            "ll=%lld neg=%d x=%x c=%c f=%.2f lit=abc "
                            "part=%.*s",
                            -5LL, -7, 255u, 'q', 1.5, 3, "abcdef"));
    ok(contains(out, " level=warn "), "warn level name");
    ok(contains(out, " ll=-5 neg=-7 x=ff c=q f=1.50 lit=abc part=abc\n"),
       "conversions and literal values");
    printf("# %s", out);
}

static void
test_logfmt_quoting(void)
{
    const char *out = NULL;

    log_setup(LOG_DEBUG, LOG_FMT_LOGFMT);
    out = CAPTURE(log_event(LOG_INFO, "t", "e", "msg=%s", "two words"));
    ok(contains(out, " msg=\"two words\"\n"), "a space is quoted");
    out = CAPTURE(log_event(LOG_INFO, "t", "e", "msg=%s", "say \"hi\""));
    ok(contains(out, " msg=\"say \\\"hi\\\"\"\n"), "quotes are escaped");
    out = CAPTURE(log_event(LOG_INFO, "t", "e", "msg=%s", "a\nb"));
    ok(contains(out, " msg=\"a\\nb\"\n"), "a newline is \\n");
    ok(one_line(out), "a newline in a value does not split the line");
    out = CAPTURE(log_event(LOG_INFO, "t", "e", "msg=%s", "a\\b"));
    ok(contains(out, " msg=\"a\\\\b\"\n"), "a backslash is escaped");
    out = CAPTURE(log_event(LOG_INFO, "t", "e", "msg=%s", "a=b"));
    ok(contains(out, " msg=\"a=b\"\n"), "an equals sign is quoted");
    out = CAPTURE(log_event(LOG_INFO, "t", "e", "msg=%s", "tab\there\r"));
    ok(contains(out, " msg=\"tab\\x09here\\x0d\"\n"),
       "control bytes are \\xNN");
    out = CAPTURE(log_event(LOG_INFO, "t", "e", "msg=%s", ""));
    ok(contains(out, " msg=\"\"\n"), "an empty value is \"\"");
    out = CAPTURE(log_event(LOG_INFO, "t", "e", "msg=%s", null_str));
    ok(contains(out, " msg=\"\"\n"), "a NULL string is empty");
    out = CAPTURE(
        log_event(LOG_INFO, "t", "e", "msg=%s x=%d", "x=1 injected=yes", 2));
    ok(contains(out, " msg=\"x=1 injected=yes\" x=2\n"),
       "a value cannot inject pairs");
}

static void
test_redaction(void)
{
    static const char *const secret[] = {
        "api_key",        "client_secret", "access_token",  "refresh_token",
        "x_key",          "token",         "password",      "secret",
        "code",           "state",         "code_verifier", "Authorization",
        "webhook_secret", "db_password",   "X-API-KEY",     "signing-key",
    };
    static const char *const plain[] = {
        "key_id", "dev_id",    "user_id", "token_type", "status",
        "keys",   "secretary", "codec",   "expires_in", "provider",
    };
    const char *out = NULL;
    char fmt[64];
    char want[96];
    size_t i = 0;
    int good = 1;

    log_setup(LOG_DEBUG, LOG_FMT_LOGFMT);
    out = CAPTURE(log_event(LOG_INFO, "oauth", "oauth.token",
                            "api_key=%s client_secret=%s access_token=%s "
                            "x_key=%s key_id=%s dev_id=%s",
                            "AK1", "CS2", "AT3", "XK4", "kid5", "dev6"));
    ok(contains(out, " api_key=[redacted] client_secret=[redacted] "
                     "access_token=[redacted] x_key=[redacted] "),
       "secret keys are redacted");
    ok(contains(out, " key_id=kid5 dev_id=dev6\n"),
       "key_id and dev_id are not redacted");
    ok(!contains(out, "AK1") && !contains(out, "CS2") &&
           !contains(out, "AT3") && !contains(out, "XK4"),
       "no secret value appears");

    for (i = 0; i < sizeof(secret) / sizeof(secret[0]); i++) {
        if (!log_key_is_secret(secret[i], strlen(secret[i]))) {
            printf("# not redacted: %s\n", secret[i]);
            good = 0;
        }
    }
    ok(good, "every secret-looking key is redacted");
    good = 1;
    for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
        if (log_key_is_secret(plain[i], strlen(plain[i]))) {
            printf("# redacted: %s\n", plain[i]);
            good = 0;
        }
    }
    ok(good, "ordinary keys are not redacted");

    /* literal values of secret keys are redacted too */
    snprintf(fmt, sizeof(fmt), "token=literal");
    out = CAPTURE(log_event(LOG_INFO, "t", "e", "token=literal"));
    ok(contains(out, " token=[redacted]\n"), "a literal secret is redacted");
    snprintf(want, sizeof(want), " %s", fmt);
    ok(!contains(out, want), "the literal does not appear");

    log_setup(LOG_DEBUG, LOG_FMT_JSON);
    out = CAPTURE(log_event(LOG_INFO, "t", "e", "refresh_token=%s", "RT"));
    ok(contains(out, "\"refresh_token\":\"[redacted]\"") &&
           !contains(out, "RT\""),
       "redaction applies to JSON lines");
}

static void
test_json(void)
{
    const char *out = NULL;
    json_t *parsed = NULL;

    log_setup(LOG_DEBUG, LOG_FMT_JSON);
    log_set_req_id("req-42");
    out = CAPTURE(log_event(LOG_ERROR, "store", "store.fail",
                            "msg=%s n=%d ctl=%s hi=%s bad=%s", "say \"hi\"\\\n",
                            3, "\x01\x1f", "caf\xc3\xa9", "\xff\xc3("));
    ok(json_line_ok(out), "a JSON line is one valid flat object");
    ok(strncmp(out, "{\"ts\":\"", 7) == 0, "it starts with ts");
    ok(contains(out, ",\"level\":\"error\",\"mod\":\"store\","
                     "\"event\":\"store.fail\",\"req_id\":\"req-42\","),
       "level, mod, event and req_id");
    ok(contains(out, ",\"msg\":\"say \\\"hi\\\"\\\\\\u000a\""),
       "quotes, backslash and newline are escaped");
    ok(contains(out, ",\"n\":3,"), "a decimal conversion is a number");
    ok(contains(out, ",\"ctl\":\"\\u0001\\u001f\""),
       "control bytes are \\u00XX");
    ok(contains(out, ",\"hi\":\"caf\xc3\xa9\""),
       "well-formed UTF-8 is kept as it is");
    ok(contains(out, ",\"bad\":\"\\u00ff\\u00c3(\""),
       "bytes that are not UTF-8 are escaped");
    parsed = json_loads(out, 0, NULL);
    ok(parsed != NULL, "jansson reads the line");
    json_decref(parsed);
    printf("# %s", out);

    out = CAPTURE(log_event(LOG_INFO, "t", "e",
                            "a=%u b=%.3f c=%lld d=%g e=%x f=%+d g=%03d "
                            "h=%s i=%f j=%f k=7 l=%g",
                            4000000000u, -1.5, -42LL, 1e300, 255u, 5, 7, "12",
                            1.0 / 0.0, 0.0 / 0.0, 1e-7));
    ok(json_line_ok(out), "a line of numbers is valid JSON");
    ok(contains(out, "\"a\":4000000000,\"b\":-1.500,\"c\":-42,"
                     "\"d\":1e+300,"),
       "%u, %f, %lld and %g are numbers");
    ok(contains(out, "\"e\":\"ff\",\"f\":\"+5\",\"g\":\"007\",\"h\":\"12\","),
       "hex, a sign, leading zeros and %s stay strings");
    ok(contains(out, "\"i\":\"inf\",\"j\":\"") &&
           contains(out, "\"k\":\"7\",\"l\":1e-07}"),
       "infinity, NaN and literals stay strings");
    parsed = json_loads(out, 0, NULL);
    ok(parsed != NULL &&
           json_integer_value(json_object_get(parsed, "c")) == -42,
       "jansson reads the numbers as numbers");
    json_decref(parsed);
    log_set_req_id(NULL);
}

static void
test_req_id(void)
{
    const char *out = NULL;
    char longid[200];

    log_setup(LOG_DEBUG, LOG_FMT_LOGFMT);
    log_set_req_id("r-123");
    is_str(log_req_id(), "r-123", "log_req_id returns the id");
    out = CAPTURE(log_event(LOG_INFO, "t", "e", "a=%d", 1));
    ok(contains(out, " event=e req_id=r-123 a=1\n"), "req_id follows event");
    log_set_req_id(NULL);
    ok(log_req_id() == NULL, "cleared id reads as NULL");
    out = CAPTURE(log_event(LOG_INFO, "t", "e", "a=%d", 1));
    ok(!contains(out, "req_id"), "no req_id once cleared");

    memset(longid, 'r', sizeof(longid) - 1);
    longid[sizeof(longid) - 1] = '\0';
    log_set_req_id(longid);
    ok(strlen(log_req_id()) < 64, "a long id is cut");
    log_set_req_id("");
    ok(log_req_id() == NULL, "an empty id is no id");
}

static void
test_levels(void)
{
    const char *out = NULL;

    is_int(log_level_parse("debug"), LOG_DEBUG, "parse debug");
    is_int(log_level_parse("WARN"), LOG_WARN, "parse WARN");
    is_int(log_level_parse("crit"), LOG_CRIT, "parse crit");
    is_int(log_level_parse("verbose"), -1, "unknown level");
    is_int(log_format_parse("json"), LOG_FMT_JSON, "parse json");
    is_int(log_format_parse("logfmt"), LOG_FMT_LOGFMT, "parse logfmt");
    is_int(log_format_parse("xml"), -1, "unknown format");

    log_setup(LOG_WARN, LOG_FMT_LOGFMT);
    ok(!log_enabled(LOG_INFO) && log_enabled(LOG_WARN) && log_enabled(LOG_CRIT),
       "log_enabled follows the minimum level");
    out = CAPTURE(log_event(LOG_INFO, "t", "e", "a=%d", 1));
    is_str(out, "", "info is dropped at level warn");
    out = CAPTURE(log_event(LOG_DEBUG, "t", "e", "a=%d", 1));
    is_str(out, "", "debug is dropped at level warn");
    out = CAPTURE(log_event(LOG_ERROR, "t", "e", "a=%d", 1));
    ok(contains(out, " level=error "), "error is written at level warn");
    log_setup(LOG_INFO, LOG_FMT_LOGFMT);
    out = CAPTURE(log_event(LOG_DEBUG, "t", "e", "a=%d", 1));
    is_str(out, "", "debug is off by default level info");
}

static void
test_limits(void)
{
    char big[1500];
    const char *out = NULL;

    memset(big, 'v', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';

    log_setup(LOG_DEBUG, LOG_FMT_LOGFMT);
    out = CAPTURE(log_event(LOG_INFO, "t", "e", "a=%s b=%s c=%s d=%s e=%s", big,
                            big, big, big, big));
    ok(strlen(out) <= LOG_LINE_MAX, "a long line is cut to LOG_LINE_MAX");
    ok(one_line(out), "and still ends in one newline");
    ok(contains(out, " truncated=true\n"), "and says it was cut");
    ok(contains(out, " b=v") && !contains(out, " e=v"),
       "whole fields are kept and the rest left out");

    log_setup(LOG_DEBUG, LOG_FMT_JSON);
    out = CAPTURE(log_event(LOG_INFO, "t", "e", "a=%s b=%s c=%s d=%s e=%s", big,
                            big, big, big, big));
    ok(strlen(out) <= LOG_LINE_MAX, "a long JSON line is cut");
    ok(json_line_ok(out), "and is still a valid JSON object");
    ok(contains(out, ",\"truncated\":\"true\"}\n"), "and says it was cut");
    out = CAPTURE(log_event(LOG_INFO, "t", "e", "a=%s",
                            "\n\n\n\n\n\n\n\n"
                            "\n\n\n\n\n\n\n\n"));
    ok(json_line_ok(out), "escapes do not break a short JSON line");

    log_setup(LOG_DEBUG, LOG_FMT_LOGFMT);
    out = CAPTURE(log_event(LOG_INFO, "t", "e", "w=%*d after=%d", 5, 3, 4));
    ok(contains(out, " w=[bad-format]\n"),
       "an unsupported conversion ends the line safely");
    log_setup(LOG_INFO, LOG_FMT_LOGFMT);
}

/* A repeated failure: a line at the first, then one per interval with
 * the count since the last. */
static void
test_every(void)
{
    struct log_every t = {0, 0};
    unsigned n = 0;
    int lines = 0;
    int64_t now = 1000;
    int i = 0;

    ok(log_every_due(&t, now, 10, &n) && n == 1, "the first one is logged");
    for (i = 0; i < 9; i++) {
        lines += log_every_due(&t, ++now, 10, &n);
    }
    is_int(lines, 0, "... the next nine within the interval are not");
    ok(log_every_due(&t, now + 1, 10, &n) && n == 10,
       "... the one after it is, counting ten");
    ok(!log_every_due(&t, now + 2, 10, &n), "... and the clock starts again");
}

int
main(void)
{
    FILE *tf = tmpfile();

    if (tf == NULL) {
        perror("tmpfile");
        return 2;
    }
    cap_fd = fileno(tf);
    saved_fd = dup(STDERR_FILENO);

    test_logfmt_basic();
    test_logfmt_quoting();
    test_redaction();
    test_json();
    test_req_id();
    test_levels();
    test_limits();
    test_every();

    close(saved_fd);
    fclose(tf);
    return done_testing();
}
