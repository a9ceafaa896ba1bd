/*
 * request.c - credentials and JSON bodies of API requests.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "core/isotime.h"
#include "app/keys.h"

static const char missing_msg[] = "dev-id or x-api-key headers are missing";

int
api_authenticate(struct http_request *req, struct app *a, const char **dev_id,
                 struct err *e)
{
    const char *id = http_header(req, "dev-id");
    const char *key = http_header(req, "x-api-key");
    int rc = 0;

    if (id == NULL || key == NULL || id[0] == '\0' || key[0] == '\0') {
        return err_set(e, ERR_AUTH, "%s", missing_msg);
    }
    if (strlen(id) > API_DEV_ID_MAX) {
        return err_set(e, ERR_AUTH, "invalid dev-id or x-api-key");
    }
    rc = keys_check(a, id, key, req->arena, e);
    if (rc < 0) {
        return rc;
    }
    *dev_id = id;
    return 0;
}

/* 1 when the `n` bytes at `p` are all JSON white space (a NUL is not). */
static int
blank(const char *p, size_t n)
{
    size_t i = 0;

    for (i = 0; i < n; i++) {
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n') {
            return 0;
        }
    }
    return 1;
}

int
api_body_object(const struct http_request *req, json_t **out, struct err *e)
{
    json_error_t je;
    json_t *o = NULL;
    size_t n = req->body_len;

    *out = NULL;
    if (blank(req->body, n)) {
        *out = json_object();
        return 0;
    }
    /* NUL is let through the parser so that a "\u0000" inside a string
     * can be refused by the field that holds it, with the field's name */
    o = json_loadb(req->body, n,
                   JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | JSON_DECODE_ANY,
                   &je);
    if (o == NULL) {
        return err_set(e, ERR_INVALID,
                       "body: invalid JSON at line %d column %d: %s", je.line,
                       je.column, je.text);
    }
    if (!json_is_object(o)) {
        json_decref(o);
        return err_set(e, ERR_INVALID, "body: expected a JSON object");
    }
    *out = o;
    return 0;
}

int
api_opt_string(json_t *o, const char *name, const char **out, struct err *e)
{
    json_t *v = json_object_get(o, name);
    const char *s = NULL;

    *out = NULL;
    if (v == NULL || json_is_null(v)) {
        return 0;
    }
    if (!json_is_string(v)) {
        return err_set(e, ERR_INVALID, "%s: must be a string", name);
    }
    s = json_string_value(v);
    if (strlen(s) != json_string_length(v)) {
        return err_set(e, ERR_INVALID, "%s: must not contain NUL bytes", name);
    }
    *out = s;
    return 0;
}

int
api_opt_integer(json_t *o, const char *name, int *given, long *out,
                struct err *e)
{
    json_t *v = json_object_get(o, name);
    double d = 0;

    *given = 0;
    *out = 0;
    if (v == NULL || json_is_null(v)) {
        return 0;
    }
    /* values past the range of long are pinned to its ends, so that the
     * caller's own bounds check names the bounds */
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);

        *out = i > LONG_MAX ? LONG_MAX : i < LONG_MIN ? LONG_MIN : (long)i;
        *given = 1;
        return 0;
    }
    if (json_is_real(v)) {
        d = json_real_value(v);
        if (d == floor(d)) {
            *out = d >= (double)LONG_MAX   ? LONG_MAX
                   : d <= (double)LONG_MIN ? LONG_MIN
                                           : (long)d;
            *given = 1;
            return 0;
        }
    }
    return err_set(e, ERR_INVALID, "%s: must be a whole number", name);
}

int
api_link_fields(json_t *body, struct links_request *lr, struct err *e)
{
    int rc = api_opt_string(body, "reference_id", &lr->reference_id, e);

    if (rc == 0) {
        rc = api_opt_string(body, "language", &lr->language, e);
    }
    if (rc == 0) {
        rc = api_opt_string(body, "auth_success_redirect_url", &lr->success_url,
                            e);
    }
    if (rc == 0) {
        rc = api_opt_string(body, "auth_failure_redirect_url", &lr->failure_url,
                            e);
    }
    return rc;
}

/* The last second of 9999-12-31. */
#define TIME_PARAM_MAX 253402300799LL

int
api_time_param(const char *name, const char *s, int64_t *us, struct err *e)
{
    long long v = 0;
    int offset = 0;

    if (s[0] != '\0' && strspn(s, "0123456789") == strlen(s)) {
        errno = 0;
        v = strtoll(s, NULL, 10);
        if (errno != 0 || v > TIME_PARAM_MAX) {
            return err_set(e, ERR_INVALID, "%s: out of range (1970 to 9999)",
                           name);
        }
        *us = (int64_t)v * 1000000;
        return 0;
    }
    if (isotime_parse(s, us, &offset, NULL) < 0) {
        return err_set(e, ERR_INVALID, "%s: " API_TIME_FORMS, name);
    }
    if (*us < 0 || *us >= (TIME_PARAM_MAX + 1) * 1000000) {
        return err_set(e, ERR_INVALID, "%s: out of range (1970 to 9999)", name);
    }
    return 0;
}
