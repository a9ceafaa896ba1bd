/*
 * test_oauth1.c - RFC 5849 encoding, base strings, signatures and the
 * Authorization header, against the RFC's own examples.
 */
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "oauth/oauth1.h"
#include "tap.h"

/* Section 1.2: the printer.example.com / photos.example.net example. */
#define CONSUMER_KEY    "dpf43f3p2l4k3l03"
#define CONSUMER_SECRET "kd94hf93k423kf44"

static void
check_encode(const char *in, size_t n, const char *want, const char *name)
{
    struct buf b;

    buf_init(&b, 1024);
    is_int(oauth1_encode(&b, in, n), 0, name);
    is_str(buf_str(&b), want, name);
    buf_release(&b);
}

static void
test_encode(void)
{
    struct buf small;

    check_encode("abcXYZ019-._~", 13, "abcXYZ019-._~", "unreserved kept");
    check_encode("a b", 3, "a%20b", "space is %20, not +");
    check_encode("*", 1, "%2A", "'*' encoded");
    check_encode("+", 1, "%2B", "'+' encoded");
    check_encode("!'()", 4, "%21%27%28%29", "sub-delims encoded");
    check_encode("=&%/:?#", 7, "%3D%26%25%2F%3A%3F%23", "reserved encoded");
    check_encode("\xc3\xa9", 2, "%C3%A9", "UTF-8 bytes, upper-case hex");
    check_encode("\xe2\x98\x83", 3, "%E2%98%83", "three-byte UTF-8");
    check_encode("a\0b", 3, "a%00b", "NUL byte encoded");
    check_encode("", 0, "", "empty");

    buf_init(&small, 4);
    is_int(oauth1_encode(&small, "a b", 3), ERR_TOOBIG, "ceiling: ERR_TOOBIG");
    buf_release(&small);
}

/* Section 3.1's request and 3.4.1.1's base string for it. */
static void
test_base_string_rfc(void)
{
    static const struct oauth1_param params[] = {
        {"oauth_consumer_key", "9djdj82h48djs9d2"},
        {"oauth_token", "kkk9d7dh3k39sjv7"},
        {"oauth_signature_method", "HMAC-SHA1"},
        {"oauth_timestamp", "137131201"},
        {"oauth_nonce", "7d8f3e4a"},
        {"oauth_signature", "bYT5CMsGcbgUdFHObYMEfcx6bsw="},
        {"c2", ""},
        {"a3", "2 q"},
    };
    static const char want[] =
        "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q"
        "%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_"
        "key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_m"
        "ethod%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk"
        "9d7dh3k39sjv7";
    struct buf b;
    struct err e;

    buf_init(&b, 4096);
    is_int(oauth1_base_string("POST",
                              "http://example.com/request?b5=%3D%253D&a3=a&"
                              "c%40=&a2=r%20b",
                              params, 8, &b, &e),
           0, "3.4.1.1: built");
    is_str(buf_str(&b), want, "3.4.1.1: the RFC's base string");
    buf_release(&b);
}

static void
check_base_uri(const char *url, const char *want, const char *name)
{
    struct buf b;
    struct err e;
    const char *amp = NULL;
    const char *amp2 = NULL;

    buf_init(&b, 4096);
    is_int(oauth1_base_string("get", url, NULL, 0, &b, &e), 0, name);
    amp = strchr(buf_str(&b), '&');
    amp2 = amp != NULL ? strchr(amp + 1, '&') : NULL;
    ok(amp != NULL && amp2 != NULL && strncmp(buf_str(&b), "GET&", 4) == 0 &&
           (size_t)(amp2 - amp - 1) == strlen(want) &&
           strncmp(amp + 1, want, strlen(want)) == 0,
       name);
    if (amp2 == NULL || strncmp(amp + 1, want, strlen(want)) != 0) {
        printf("#   got: %s\n", buf_str(&b));
    }
    buf_release(&b);
}

/* 3.4.1.2's examples and the rules around them. */
static void
test_base_uri(void)
{
    check_base_uri("HTTP://EXAMPLE.COM:80/r%20v/X?id=123",
                   "http%3A%2F%2Fexample.com%2Fr%2520v%2FX",
                   "3.4.1.2: case, port 80, query dropped");
    check_base_uri("https://www.example.net:8080/?q=1",
                   "https%3A%2F%2Fwww.example.net%3A8080%2F",
                   "3.4.1.2: other port kept");
    check_base_uri("https://example.com:443/a#frag",
                   "https%3A%2F%2Fexample.com%2Fa", "https port 443 dropped");
    check_base_uri("http://example.com:443/a",
                   "http%3A%2F%2Fexample.com%3A443%2Fa", "443 kept for http");
    check_base_uri("http://example.com", "http%3A%2F%2Fexample.com%2F",
                   "empty path is /");
}

static void
test_base_string_rules(void)
{
    static const struct oauth1_param same_name[] = {
        {"a", "z"}, {"a", "b"}, {"A", "x"}, {"a b", "1"}};
    struct buf b;
    struct err e;

    buf_init(&b, 4096);
    is_int(oauth1_base_string("GET", "http://h/p?x=%2B+y&flag", same_name, 4,
                              &b, &e),
           0, "rules: built");
    is_str(buf_str(&b),
           "GET&http%3A%2F%2Fh%2Fp&A%3Dx%26a%3Db%26a%3Dz%26a%2520b%3D1"
           "%26flag%3D%26x%3D%252B%2520y",
           "rules: sorted by name then value, '+' in a query is space, "
           "a name without '=' has an empty value");

    buf_reset(&b);
    is_int(oauth1_base_string("GET", "ftp://h/p", NULL, 0, &b, &e), ERR_INVALID,
           "ftp refused");
    is_int(oauth1_base_string("GET", "/relative", NULL, 0, &b, &e), ERR_INVALID,
           "relative URL refused");
    is_int(oauth1_base_string("GET", "https://u:p@h/", NULL, 0, &b, &e),
           ERR_INVALID, "user-info refused");
    is_int(oauth1_base_string("GET", "https://h/?a=%zz", NULL, 0, &b, &e),
           ERR_INVALID, "bad escape in the query refused");
    is_int(oauth1_base_string("GET", "https://h/?a=%2", NULL, 0, &b, &e),
           ERR_INVALID, "cut escape in the query refused");
    is_int(oauth1_base_string("GET", "https://h/?a=%00", NULL, 0, &b, &e),
           ERR_INVALID, "encoded NUL in the query refused");
    is_int(oauth1_base_string(NULL, "https://h/", NULL, 0, &b, &e), ERR_INVALID,
           "no method refused");
    buf_release(&b);
}

static void
test_too_many_params(void)
{
    struct oauth1_param many[OAUTH1_MAX_PARAMS + 1];
    struct buf b;
    struct err e;
    size_t i = 0;

    for (i = 0; i < OAUTH1_MAX_PARAMS + 1; i++) {
        many[i] = (struct oauth1_param){"p", "v"};
    }
    buf_init(&b, 1 << 16);
    is_int(oauth1_base_string("GET", "https://h/", many, OAUTH1_MAX_PARAMS, &b,
                              &e),
           0, "OAUTH1_MAX_PARAMS parameters allowed");
    buf_reset(&b);
    is_int(oauth1_base_string("GET", "https://h/?q=1", many, OAUTH1_MAX_PARAMS,
                              &b, &e),
           ERR_INVALID, "one more (from the query) refused");
    buf_release(&b);
}

static void
check_header(const struct oauth1_request *r, const char *want, const char *name)
{
    struct buf b;
    struct err e;

    buf_init(&b, 4096);
    is_int(oauth1_authorization(r, &b, &e), 0, name);
    is_str(buf_str(&b), want, name);
    buf_release(&b);
}

/* Section 1.2, all three requests, with the RFC's signatures. The RFC's
 * requests carry no oauth_version. */
static void
test_rfc_example(void)
{
    struct oauth1_request initiate = {
        .method = "POST",
        .url = "https://photos.example.net/initiate",
        .consumer_key = CONSUMER_KEY,
        .consumer_secret = CONSUMER_SECRET,
        .callback = "http://printer.example.com/ready",
        .nonce = "wIjqoS",
        .realm = "Photos",
        .timestamp = 137131200,
        .omit_version = 1,
    };
    struct oauth1_request token = {
        .method = "POST",
        .url = "https://photos.example.net/token",
        .consumer_key = CONSUMER_KEY,
        .consumer_secret = CONSUMER_SECRET,
        .token = "hh5s93j4hdidpola",
        .token_secret = "hdhd0244k9j7ao03",
        .verifier = "hfdp7dh39dks9884",
        .nonce = "walatlh",
        .realm = "Photos",
        .timestamp = 137131201,
        .omit_version = 1,
    };
    struct oauth1_request photos = {
        .method = "GET",
        .url = "http://photos.example.net/photos?file=vacation.jpg&"
               "size=original",
        .consumer_key = CONSUMER_KEY,
        .consumer_secret = CONSUMER_SECRET,
        .token = "nnch734d00sl2jdk",
        .token_secret = "pfkkdhi9sl3r4s00",
        .nonce = "chapoH",
        .realm = "Photos",
        .timestamp = 137131202,
        .omit_version = 1,
    };

    check_header(&initiate,
                 "OAuth realm=\"Photos\", "
                 "oauth_consumer_key=\"dpf43f3p2l4k3l03\", "
                 "oauth_signature_method=\"HMAC-SHA1\", "
                 "oauth_timestamp=\"137131200\", oauth_nonce=\"wIjqoS\", "
                 "oauth_callback=\"http%3A%2F%2Fprinter.example.com%2F"
                 "ready\", "
                 "oauth_signature=\"74KNZJeDHnMBp0EMJ9ZHt%2FXKycU%3D\"",
                 "1.2: temporary credentials request");
    check_header(&token,
                 "OAuth realm=\"Photos\", "
                 "oauth_consumer_key=\"dpf43f3p2l4k3l03\", "
                 "oauth_token=\"hh5s93j4hdidpola\", "
                 "oauth_signature_method=\"HMAC-SHA1\", "
                 "oauth_timestamp=\"137131201\", oauth_nonce=\"walatlh\", "
                 "oauth_verifier=\"hfdp7dh39dks9884\", "
                 "oauth_signature=\"gKgrFCywp7rO0OXSjdot%2FIHF7IU%3D\"",
                 "1.2: token credentials request");
    check_header(&photos,
                 "OAuth realm=\"Photos\", "
                 "oauth_consumer_key=\"dpf43f3p2l4k3l03\", "
                 "oauth_token=\"nnch734d00sl2jdk\", "
                 "oauth_signature_method=\"HMAC-SHA1\", "
                 "oauth_timestamp=\"137131202\", oauth_nonce=\"chapoH\", "
                 "oauth_signature=\"MdpQcU8iPSUjWoN%2FUDMsK2sui9I%3D\"",
                 "1.2: protected resource request");
}

static void
test_sign(void)
{
    struct buf b;
    struct err e;

    /* the resource request of 1.2, signed from its base string */
    buf_init(&b, 256);
    is_int(oauth1_sign("GET&http%3A%2F%2Fphotos.example.net%2Fphotos&file%3D"
                       "vacation.jpg%26oauth_consumer_key%3Ddpf43f3p2l4k3l03%26"
                       "oauth_nonce%3DchapoH%26oauth_signature_method%3DHMAC-"
                       "SHA1%26oauth_timestamp%3D137131202%26oauth_token%3D"
                       "nnch734d00sl2jdk%26size%3Doriginal",
                       CONSUMER_SECRET, "pfkkdhi9sl3r4s00", &b, &e),
           0, "sign: 0");
    is_str(buf_str(&b), "MdpQcU8iPSUjWoN/UDMsK2sui9I=", "sign: 1.2 signature");
    buf_release(&b);
}

static void
test_defaults_and_plaintext(void)
{
    struct oauth1_request r = {
        .method = "POST",
        .url = "https://api.example.com/x",
        .consumer_key = "ck",
        .consumer_secret = "c&s",
        .token = "tok",
        .token_secret = "t s",
        .plaintext = 1,
    };
    struct oauth1_param body[] = {{"k", "v"}};
    struct buf b1;
    struct buf b2;
    struct err e;

    buf_init(&b1, 4096);
    buf_init(&b2, 4096);
    is_int(oauth1_authorization(&r, &b1, &e), 0, "plaintext: built");
    ok(strstr(buf_str(&b1), "oauth_signature_method=\"PLAINTEXT\"") != NULL,
       "plaintext: method");
    ok(strstr(buf_str(&b1), "oauth_signature=\"c%2526s%26t%2520s\"") != NULL,
       "plaintext: signature is the key, encoded once more");
    ok(strstr(buf_str(&b1), "oauth_version=\"1.0\"") != NULL,
       "version 1.0 by default");
    ok(strstr(buf_str(&b1), "realm=") == NULL, "no realm unless given");
    ok(strstr(buf_str(&b1), "oauth_timestamp=\"") != NULL &&
           strstr(buf_str(&b1), "oauth_timestamp=\"0\"") == NULL,
       "timestamp 0 means now");

    r.plaintext = 0;
    r.extra = body;
    r.nextra = 1;
    is_int(oauth1_authorization(&r, &b2, &e), 0, "random nonce: built");
    buf_reset(&b1);
    oauth1_authorization(&r, &b1, &e);
    ok(strcmp(buf_str(&b1), buf_str(&b2)) != 0, "random nonces differ");
    ok(strstr(buf_str(&b1), "oauth_nonce=\"") != NULL, "nonce sent");
    ok(strstr(buf_str(&b1), "k=") == NULL, "body parameters are not sent");

    r.consumer_secret = NULL;
    is_int(oauth1_authorization(&r, &b1, &e), ERR_INVALID,
           "no consumer secret refused");
    buf_release(&b2);
    buf_release(&b1);
}

int
main(void)
{
    test_encode();
    test_base_string_rfc();
    test_base_uri();
    test_base_string_rules();
    test_too_many_params();
    test_rfc_example();
    test_sign();
    test_defaults_and_plaintext();
    return done_testing();
}
