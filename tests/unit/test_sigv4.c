/*
 * test_sigv4.c - AWS Signature Version 4 against AWS's published
 * examples: the four worked requests of the S3 API reference
 * ("Signature Calculations for the Authorization Header: Transferring
 * Payload in a Single Chunk"), cases of the SigV4 test suite
 * (get-vanilla and its neighbours) and the signing key and IAM
 * ListUsers request of the general signing guide.
 */
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/codec.h"
#include "core/crypto.h"
#include "core/err.h"
#include "deliver/sigv4.h"
#include "tap.h"

#define EMPTY_SHA256                                                           \
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* The S3 reference's examples: one key, one bucket, one instant. */
#define S3_KEY    "AKIAIOSFODNN7EXAMPLE"
#define S3_SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define S3_DATE   "20130524T000000Z"
#define S3_HOST   "examplebucket.s3.amazonaws.com"

/* The test suite's: another key, service "service". */
#define SUITE_KEY    "AKIDEXAMPLE"
#define SUITE_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define SUITE_DATE   "20150830T123600Z"
#define SUITE_HOST   "example.amazonaws.com"

#define UNRESERVED                                                             \
    "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

#define CASE_HEADERS 4

struct vector {
    const char *name;
    int s3; /* 1: the S3 reference's credentials, else the suite's */
    const char *method;
    const char *path;
    const char *query;
    struct sigv4_header headers[CASE_HEADERS];
    const char *body;           /* hashed for the payload hash */
    const char *creq_sha256;    /* of the canonical request; may be NULL */
    const char *signed_headers; /* as in the Authorization header */
    const char *signature;
};

static const struct vector vectors[] = {
    /* S3 API reference: GET Object, the first ten bytes */
    {"S3 GET Object with Range",
     1,
     "GET",
     "/test.txt",
     NULL,
     {{"Range", "bytes=0-9"}, {"x-amz-content-sha256", EMPTY_SHA256}},
     "",
     "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972",
     "host;range;x-amz-content-sha256;x-amz-date",
     "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"},
    /* S3 API reference: PUT Object, a '$' in the key */
    {"S3 PUT Object test$file.text",
     1,
     "PUT",
     "/test$file.text",
     NULL,
     {{"Date", "Fri, 24 May 2013 00:00:00 GMT"},
      {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
      {"x-amz-content-sha256",
       "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"}},
     "Welcome to Amazon S3.",
     "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d",
     "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
     "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"},
    /* S3 API reference: GET Bucket Lifecycle, a bare query name */
    {"S3 GET Bucket Lifecycle",
     1,
     "GET",
     "/",
     "lifecycle",
     {{"x-amz-content-sha256", EMPTY_SHA256}},
     "",
     "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca",
     "host;x-amz-content-sha256;x-amz-date",
     "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"},
    /* S3 API reference: GET Bucket (List Objects), query in the wrong
     * order on purpose */
    {"S3 GET Bucket list objects",
     1,
     "GET",
     "/",
     "prefix=J&max-keys=2",
     {{"x-amz-content-sha256", EMPTY_SHA256}},
     "",
     "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7",
     "host;x-amz-content-sha256;x-amz-date",
     "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"},
    {"suite get-vanilla",
     0,
     "GET",
     "/",
     NULL,
     {{NULL, NULL}},
     "",
     "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
     "host;x-amz-date",
     "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
    {"suite get-vanilla-empty-query-key",
     0,
     "GET",
     "/",
     "Param1=value1",
     {{NULL, NULL}},
     "",
     NULL,
     "host;x-amz-date",
     "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"},
    {"suite get-vanilla-query-order-key-case",
     0,
     "GET",
     "/",
     "Param2=value2&Param1=value1",
     {{NULL, NULL}},
     "",
     NULL,
     "host;x-amz-date",
     "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
    {"suite get-vanilla-query-order-value",
     0,
     "GET",
     "/",
     "Param1=value2&Param1=value1",
     {{NULL, NULL}},
     "",
     NULL,
     "host;x-amz-date",
     "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694"},
    {"suite get-vanilla-query-unreserved",
     0,
     "GET",
     "/",
     UNRESERVED "=" UNRESERVED,
     {{NULL, NULL}},
     "",
     NULL,
     "host;x-amz-date",
     "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"},
    {"suite get-vanilla-utf8-query",
     0,
     "GET",
     "/",
     "%E1%88%B4=bar",
     {{NULL, NULL}},
     "",
     NULL,
     "host;x-amz-date",
     "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"},
    {"suite get-unreserved",
     0,
     "GET",
     "/" UNRESERVED,
     NULL,
     {{NULL, NULL}},
     "",
     NULL,
     "host;x-amz-date",
     "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"},
    {"suite get-utf8",
     0,
     "GET",
     "/\xe1\x88\xb4",
     NULL,
     {{NULL, NULL}},
     "",
     NULL,
     "host;x-amz-date",
     "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"},
    {"suite get-space",
     0,
     "GET",
     "/example space/",
     NULL,
     {{NULL, NULL}},
     "",
     NULL,
     "host;x-amz-date",
     "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"},
    {"suite get-header-value-trim",
     0,
     "GET",
     "/",
     NULL,
     {{"My-Header1", " value1"}, {"My-Header2", " \"a   b   c\""}},
     "",
     "a726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7",
     "host;my-header1;my-header2;x-amz-date",
     "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"},
    {"suite get-header-key-duplicate",
     0,
     "GET",
     "/",
     NULL,
     {{"My-Header1", "value2"},
      {"My-Header1", "value2"},
      {"My-Header1", "value1"}},
     "",
     "dc7f04a3abfde8d472b0ab1a418b741b7c67174dad1551b4117b15527fbe966c",
     "host;my-header1;x-amz-date",
     "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"},
    {"suite get-header-value-order",
     0,
     "GET",
     "/",
     NULL,
     {{"My-Header1", "value4"},
      {"My-Header1", "value1"},
      {"My-Header1", "value3"},
      {"My-Header1", "value2"}},
     "",
     NULL,
     "host;my-header1;x-amz-date",
     "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"},
    {"suite post-vanilla",
     0,
     "POST",
     "/",
     NULL,
     {{NULL, NULL}},
     "",
     NULL,
     "host;x-amz-date",
     "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
    {"suite post-vanilla-query",
     0,
     "POST",
     "/",
     "Param1=value1",
     {{NULL, NULL}},
     "",
     NULL,
     "host;x-amz-date",
     "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"},
    {"suite post-header-key-sort",
     0,
     "POST",
     "/",
     NULL,
     {{"My-Header1", "value1"}},
     "",
     "9368318c2967cf6de74404b30c65a91e8f6253e0a8659d6d5319f1a812f87d65",
     "host;my-header1;x-amz-date",
     "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"},
    {"suite post-header-value-case",
     0,
     "POST",
     "/",
     NULL,
     {{"My-Header1", "VALUE1"}},
     "",
     NULL,
     "host;my-header1;x-amz-date",
     "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"},
    {"suite post-x-www-form-urlencoded",
     0,
     "POST",
     "/",
     NULL,
     {{"Content-Type", "application/x-www-form-urlencoded"}},
     "Param1=value1",
     "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281",
     "content-type;host;x-amz-date",
     "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"},
};

/* The hex SHA-256 of the NUL-terminated `s` into `out` (65 bytes). */
static const char *
sha256_hex(const char *s, char *out)
{
    unsigned char d[CRYPTO_SHA256_LEN];

    crypto_sha256(s, strlen(s), d);
    codec_hex_encode(d, sizeof(d), out);
    return out;
}

/* The request of `v` with its payload hash in `hash` (65 bytes). */
static struct sigv4_request
request_of(const struct vector *v, char *hash)
{
    struct sigv4_request r = {
        .method = v->method,
        .host = v->s3 ? S3_HOST : SUITE_HOST,
        .path = v->path,
        .query = v->query,
        .headers = v->headers,
        .payload_sha256 = sha256_hex(v->body, hash),
        .amz_date = v->s3 ? S3_DATE : SUITE_DATE,
        .region = "us-east-1",
        .service = v->s3 ? "s3" : "service",
        .access_key = v->s3 ? S3_KEY : SUITE_KEY,
        .secret_key = v->s3 ? S3_SECRET : SUITE_SECRET,
    };

    while (r.nheaders < CASE_HEADERS && v->headers[r.nheaders].name != NULL) {
        r.nheaders++;
    }
    return r;
}

static void
test_vector(const struct vector *v)
{
    char hash[2 * CRYPTO_SHA256_LEN + 1];
    char creq_hash[2 * CRYPTO_SHA256_LEN + 1];
    char want[512];
    char name[160];
    struct sigv4_request r = request_of(v, hash);
    struct buf creq;
    struct buf auth;
    struct err e;
    int rc = 0;

    buf_init(&creq, 64 * 1024);
    buf_init(&auth, 4096);
    err_clear(&e);
    if (v->creq_sha256 != NULL) {
        rc = sigv4_canonical_request(&r, &creq, &e);
        snprintf(name, sizeof(name), "%s: canonical request", v->name);
        is_int(rc, 0, name);
        snprintf(name, sizeof(name), "%s: hash of the canonical request",
                 v->name);
        is_str(sha256_hex(buf_str(&creq), creq_hash), v->creq_sha256, name);
    }
    rc = sigv4_authorization(&r, &auth, &e);
    snprintf(name, sizeof(name), "%s: signs", v->name);
    is_int(rc, 0, name);
    snprintf(want, sizeof(want),
             "AWS4-HMAC-SHA256 Credential=%s/%.8s/us-east-1/%s/aws4_request,"
             "SignedHeaders=%s,Signature=%s",
             r.access_key, r.amz_date, r.service, v->signed_headers,
             v->signature);
    snprintf(name, sizeof(name), "%s: Authorization", v->name);
    is_str(buf_str(&auth), want, name);
    buf_release(&auth);
    buf_release(&creq);
}

/* The S3 reference's texts in full for GET Object and PUT Object. */
static void
test_s3_texts(void)
{
    char hash[2 * CRYPTO_SHA256_LEN + 1];
    struct sigv4_request get = request_of(&vectors[0], hash);
    char hash2[2 * CRYPTO_SHA256_LEN + 1];
    struct sigv4_request put = request_of(&vectors[1], hash2);
    struct buf b;
    struct err e;

    buf_init(&b, 64 * 1024);
    is_str(hash2,
           "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
           "S3 PUT: SHA-256 of the body");

    sigv4_canonical_request(&get, &b, &e);
    is_str(buf_str(&b),
           "GET\n"
           "/test.txt\n"
           "\n"
           "host:examplebucket.s3.amazonaws.com\n"
           "range:bytes=0-9\n"
           "x-amz-content-sha256:" EMPTY_SHA256 "\n"
           "x-amz-date:20130524T000000Z\n"
           "\n"
           "host;range;x-amz-content-sha256;x-amz-date\n" EMPTY_SHA256,
           "S3 GET: canonical request as published");
    buf_reset(&b);
    sigv4_string_to_sign(&get, &b, &e);
    is_str(buf_str(&b),
           "AWS4-HMAC-SHA256\n"
           "20130524T000000Z\n"
           "20130524/us-east-1/s3/aws4_request\n"
           "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972",
           "S3 GET: string to sign as published");
    buf_reset(&b);
    sigv4_authorization(&get, &b, &e);
    is_str(buf_str(&b),
           "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/"
           "us-east-1/s3/aws4_request,SignedHeaders=host;range;"
           "x-amz-content-sha256;x-amz-date,Signature="
           "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
           "S3 GET: Authorization header as published");

    buf_reset(&b);
    sigv4_canonical_request(&put, &b, &e);
    is_str(buf_str(&b),
           "PUT\n"
           "/test%24file.text\n"
           "\n"
           "date:Fri, 24 May 2013 00:00:00 GMT\n"
           "host:examplebucket.s3.amazonaws.com\n"
           "x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e9"
           "9e42034a8b803f8b072\n"
           "x-amz-date:20130524T000000Z\n"
           "x-amz-storage-class:REDUCED_REDUNDANCY\n"
           "\n"
           "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n"
           "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
           "S3 PUT: canonical request as published");
    buf_reset(&b);
    sigv4_string_to_sign(&put, &b, &e);
    is_str(buf_str(&b),
           "AWS4-HMAC-SHA256\n"
           "20130524T000000Z\n"
           "20130524/us-east-1/s3/aws4_request\n"
           "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d",
           "S3 PUT: string to sign as published");
    buf_release(&b);
}

/* The general guide's derived key and its IAM ListUsers request. */
static void
test_iam_example(void)
{
    unsigned char key[CRYPTO_SHA256_LEN];
    char hex[2 * CRYPTO_SHA256_LEN + 1];
    struct sigv4_header h[] = {
        {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
    struct sigv4_request r = {
        .method = "GET",
        .host = "iam.amazonaws.com",
        .path = "/",
        .query = "Action=ListUsers&Version=2010-05-08",
        .headers = h,
        .nheaders = 1,
        .payload_sha256 = EMPTY_SHA256,
        .amz_date = SUITE_DATE,
        .region = "us-east-1",
        .service = "iam",
        .access_key = SUITE_KEY,
        .secret_key = SUITE_SECRET,
    };
    struct buf b;
    char creq_hash[2 * CRYPTO_SHA256_LEN + 1];

    sigv4_signing_key(SUITE_SECRET, "20150830", "us-east-1", "iam", key);
    codec_hex_encode(key, sizeof(key), hex);
    is_str(hex,
           "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9",
           "IAM example: signing key");

    buf_init(&b, 64 * 1024);
    sigv4_canonical_request(&r, &b, NULL);
    is_str(sha256_hex(buf_str(&b), creq_hash),
           "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59",
           "IAM example: hash of the canonical request");
    buf_reset(&b);
    sigv4_authorization(&r, &b, NULL);
    is_str(buf_str(&b),
           "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/"
           "aws4_request,SignedHeaders=content-type;host;x-amz-date,"
           "Signature="
           "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
           "IAM example: Authorization");
    buf_release(&b);
}

static void
test_encode_path(void)
{
    const char *raw = "/a b//c~d/test$file.text/\xe1\x88\xb4/%2F+";
    struct buf b;

    buf_init(&b, 1024);
    is_int(sigv4_encode_path(&b, raw, strlen(raw)), 0, "path encodes");
    is_str(buf_str(&b), "/a%20b//c~d/test%24file.text/%E1%88%B4/%252F%2B",
           "each segment encoded once, slashes kept");
    buf_release(&b);

    buf_init(&b, 8);
    ok(sigv4_encode_path(&b, raw, strlen(raw)) == ERR_TOOBIG,
       "path encoding stops at the buffer's ceiling");
    buf_release(&b);
}

/* `r` with one field spoilt must fail with `code` and keep the secret
 * out of the message. */
static void
expect_refused(const struct sigv4_request *r, int code, const char *name)
{
    struct buf b;
    struct err e;
    int rc = 0;

    buf_init(&b, 4096);
    err_clear(&e);
    rc = sigv4_authorization(r, &b, &e);
    is_int(rc, code, name);
    ok(strstr(e.msg, "sigv4: ") == e.msg, "the detail says where");
    ok(strstr(e.msg, S3_SECRET) == NULL, "the detail holds no secret");
    is_int(b.len, 0, "nothing written on failure");
    buf_release(&b);
}

static void
test_refusals(void)
{
    char hash[2 * CRYPTO_SHA256_LEN + 1];
    struct sigv4_request good = request_of(&vectors[1], hash);
    struct sigv4_request r = good;
    struct sigv4_header host[] = {{"Host", S3_HOST}};
    struct sigv4_header date[] = {{"X-Amz-Date", S3_DATE}};
    struct sigv4_header crlf[] = {{"x-amz-meta-a", "a\r\nInjected: 1"}};
    struct sigv4_header blank[] = {{"bad name", "v"}};

    r.amz_date = "2013-05-24T00:00:00Z";
    expect_refused(&r, ERR_INVALID, "a date in another form");
    r = good;
    r.amz_date = "20130524T000000";
    expect_refused(&r, ERR_INVALID, "a date without Z");
    r = good;
    r.path = "test.txt";
    expect_refused(&r, ERR_INVALID, "a path without '/'");
    r = good;
    r.query = "a=%zz";
    expect_refused(&r, ERR_INVALID, "a bad escape in the query");
    r = good;
    r.query = "a=%00";
    expect_refused(&r, ERR_INVALID, "a NUL in the query");
    r = good;
    r.headers = host;
    r.nheaders = 1;
    expect_refused(&r, ERR_INVALID, "a host header of its own");
    r.headers = date;
    expect_refused(&r, ERR_INVALID, "an x-amz-date header of its own");
    r.headers = crlf;
    expect_refused(&r, ERR_INVALID, "a CR LF in a header value");
    r.headers = blank;
    expect_refused(&r, ERR_INVALID, "a header name with a blank");
    r = good;
    r.nheaders = SIGV4_MAX_HEADERS + 1;
    expect_refused(&r, ERR_INVALID, "too many headers");
    r = good;
    r.region = "us-east-1/x";
    expect_refused(&r, ERR_INVALID, "a region with '/'");
    r = good;
    r.access_key = "";
    expect_refused(&r, ERR_INVALID, "an empty access key");
    r = good;
    r.secret_key = "";
    expect_refused(&r, ERR_INVALID, "an empty secret key");
    r = good;
    r.host = "examplebucket s3";
    expect_refused(&r, ERR_INVALID, "a host with a blank");
    r = good;
    r.payload_sha256 = "44CE7DD6";
    expect_refused(&r, ERR_INVALID, "a payload hash that is not hex");
    r = good;
    r.method = NULL;
    expect_refused(&r, ERR_INVALID, "no method");
}

static void
test_unsigned_payload(void)
{
    char hash[2 * CRYPTO_SHA256_LEN + 1];
    struct sigv4_request r = request_of(&vectors[0], hash);
    struct buf b;

    r.payload_sha256 = SIGV4_UNSIGNED_PAYLOAD;
    buf_init(&b, 4096);
    is_int(sigv4_canonical_request(&r, &b, NULL), 0,
           "UNSIGNED-PAYLOAD is a payload hash");
    ok(b.len > 16 && strcmp(b.data + b.len - 16, "UNSIGNED-PAYLOAD") == 0,
       "and ends the canonical request");
    buf_release(&b);
}

int
main(void)
{
    size_t i = 0;

    for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        test_vector(&vectors[i]);
    }
    test_s3_texts();
    test_iam_example();
    test_encode_path();
    test_refusals();
    test_unsigned_payload();
    return done_testing();
}
