/*
 * sigv4.h - AWS Signature Version 4 for a request signed in its
 * Authorization header, as S3 and S3-compatible stores check it.
 *
 *     struct sigv4_header h[] = {{"x-amz-content-sha256", hash}};
 *     struct sigv4_request r = {
 *         .method = "PUT", .host = "s3.example:9000",
 *         .path = "/bucket/a key.json", .headers = h, .nheaders = 1,
 *         .payload_sha256 = hash, .amz_date = "20130524T000000Z",
 *         .region = "us-east-1", .service = "s3",
 *         .access_key = ak, .secret_key = sk,
 *     };
 *     sigv4_authorization(&r, &out, &e);
 *
 * A pure function of its inputs: no clock, no network. The signed
 * headers are always host (from .host) and x-amz-date (from .amz_date)
 * plus the ones given, so the request sent must carry exactly those
 * values. The path is encoded once, segment by segment, the way S3
 * expects (S3 does not encode twice and does not normalise "." or
 * ".."); send the path sigv4_encode_path() gives so the two agree.
 */
#ifndef FERRY_DELIVER_SIGV4_H
#define FERRY_DELIVER_SIGV4_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

/* Headers that may be signed besides host and x-amz-date. */
#define SIGV4_MAX_HEADERS 16

/* The payload hash of a body that is not signed. */
#define SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"

/* A header to sign: the name in any case, the value as sent. */
struct sigv4_header {
    const char *name;
    const char *value;
};

/* One request to sign. Every pointer is borrowed. */
struct sigv4_request {
    const char *method; /* "GET", "PUT", ... */
    const char *host;   /* the Host header: host, or host:port when
                           the port is not the scheme's default */
    const char *path;   /* "/..." as raw bytes, not percent-encoded */
    const char *query;  /* as in the URL without '?'; NULL or "" none */
    const struct sigv4_header *headers; /* may be NULL when nheaders 0 */
    size_t nheaders;
    const char *payload_sha256; /* lower-case hex, or UNSIGNED-PAYLOAD */
    const char *amz_date;       /* YYYYMMDD'T'HHMMSS'Z', UTC */
    const char *region;         /* "us-east-1" */
    const char *service;        /* "s3" */
    const char *access_key;
    const char *secret_key; /* a secret: never copied but to wiped memory */
};

/*
 * Append `len` bytes of the path `path` to `out` as SigV4 and S3 want
 * it: every byte but '/' and the RFC 3986 unreserved characters as %XX
 * (upper-case hex). 0, or ERR_TOOBIG at the buffer's ceiling.
 */
int sigv4_encode_path(struct buf *out, const char *path, size_t len);

/*
 * Append the canonical request of `r` to `out`: method, encoded path,
 * canonical query (each name and value decoded and encoded again,
 * pairs sorted by name then value, a bare name as "name="), the
 * canonical headers (lower-case names in order, values with outer
 * blanks dropped and inner runs of blanks made one space, repeated
 * names joined with ','), the signed header names and the payload
 * hash, on lines of their own. Errors: ERR_INVALID naming the field
 * for a method that is not a token, a host that is empty or has a
 * blank, '/', ',' or non-ASCII byte, a path not starting with '/', a
 * bad escape in the query or more than 64 parameters, a header name
 * that is not a token or is host or x-amz-date, a value with a control
 * character, more than SIGV4_MAX_HEADERS headers, a payload hash or
 * date not in the forms above; ERR_TOOBIG when the request is too
 * large to sign or `out` is full.
 */
int sigv4_canonical_request(const struct sigv4_request *r, struct buf *out,
                            struct err *e);

/*
 * Append the string to sign of `r` to `out`: "AWS4-HMAC-SHA256", the
 * date, the scope DATE/REGION/SERVICE/aws4_request and the hex SHA-256
 * of the canonical request, one per line. Errors as above, plus
 * ERR_INVALID for a region, service or access key that is empty, has a
 * '/' or ',' or is not printable ASCII.
 */
int sigv4_string_to_sign(const struct sigv4_request *r, struct buf *out,
                         struct err *e);

/*
 * The signing key of `secret` for the day `date` (YYYYMMDD), `region`
 * and `service` into `out`: HMAC chained from "AWS4" + secret. A secret
 * itself: wipe it when done. Every pointer is borrowed.
 */
void sigv4_signing_key(const char *secret, const char *date, const char *region,
                       const char *service, unsigned char out[32]);

/*
 * Append the Authorization header value of `r` to `out`:
 *
 *     AWS4-HMAC-SHA256 Credential=KEY/SCOPE,SignedHeaders=a;b,
 *     Signature=<64 hex>
 *
 * (one line, no spaces after the commas, as S3's examples write it).
 * Errors as sigv4_string_to_sign(), plus ERR_INVALID for an empty
 * secret key. Nothing of the secret key reaches `out` or `e`.
 */
int sigv4_authorization(const struct sigv4_request *r, struct buf *out,
                        struct err *e);

#endif
