/*
 * jsonw.h - the compact JSON text of a jansson value, into a bounded
 * buffer.
 *
 * jsonw_add() writes the bytes json_dumps() makes with JSON_COMPACT |
 * JSON_REAL_PRECISION(15) | JSON_ENCODE_ANY, the flags ferry prints
 * records with: members in the object's own order, no space anywhere,
 * strings escaped as jansson escapes them (", \ and the C0 controls;
 * \b \f \n \r \t by name, the others as \u00XX with upper-case hex; '/'
 * and non-ASCII text as they are), integers in decimal and reals as
 * "%.15g" with jansson's touches (".0" added to a real with neither a
 * point nor an exponent, the exponent's '+' and leading zeros dropped:
 * 1e15, 1.5e-7, 100.0). It does so without jansson's per-container loop
 * bookkeeping and without one allocation per token, which makes it
 * several times faster on large trees of small objects.
 *
 * The real formatting is that of jansson 2.14 built without dtoa (as
 * Debian builds it); tests/unit/test_jsonw.c checks every rule against
 * the jansson ferry links with.
 */
#ifndef FERRY_CORE_JSONW_H
#define FERRY_CORE_JSONW_H

#include <jansson.h>

#include "core/buf.h"

/* How many levels below the value jsonw_add() goes into arrays and
 * objects: deeper is refused, which is also how a value that holds
 * itself ends. */
#define JSONW_DEPTH_MAX 2048

/*
 * Append the compact JSON text of `v` (borrowed) to `b`, without a
 * newline. Returns 0; ERR_TOOBIG when the text would pass `b`'s
 * ceiling; ERR_INVALID for a NULL `v`, a string or a key that is not
 * well-formed UTF-8, or a value more than JSONW_DEPTH_MAX levels below
 * `v`. json_dumps() fails on those too, but for two: it has no depth
 * limit, and it writes a key that is not UTF-8 as a lone '"' (text that
 * is not JSON). On error `b` holds what it held before the call.
 */
int jsonw_add(struct buf *b, const json_t *v);

/* A value of a tree written as given text instead (see
 * jsonw_add_spliced()). */
struct jsonw_splice {
    const json_t *at; /* an array or object inside the tree */
    const char *text; /* the JSON text written in its place */
    size_t len;
};

/*
 * jsonw_add(), but each array or object of `v` that is the `at` of one
 * of the `n` splices in `sp` is written as that splice's text, verbatim
 * (the caller makes it JSON). A tree may thus keep part of itself as
 * text until it is written. Same returns as jsonw_add().
 */
int jsonw_add_spliced(struct buf *b, const json_t *v,
                      const struct jsonw_splice *sp, size_t n);

/* The text jsonw_add() writes for a jansson integer and a real of these
 * values, appended to `b`. 0, ERR_TOOBIG, or ERR_INVALID for a real
 * that is not finite. */
int jsonw_add_integer(struct buf *b, json_int_t v);
int jsonw_add_real(struct buf *b, double v);

#endif
