/*
 * jsonw.c - compact JSON text of a jansson value (see jsonw.h).
 *
 * The text is made in a chunk on the stack and handed to the buffer a
 * chunk at a time, so most tokens cost a bounds check and a copy.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/jsonw.h"
#include "core/utf8.h"

#define CHUNK 16384

/* Room for the text of a number: "%.15g" of a double is at most 22
 * bytes, an integer at most 20. */
#define NUMBER_MAX 32

struct writer {
    struct buf *b;
    const struct jsonw_splice *sp; /* written as their text */
    size_t nsp;
    size_t n; /* bytes of `c` in use */
    char c[CHUNK];
};

static int
flush(struct writer *w)
{
    int rc = buf_add(w->b, w->c, w->n);

    w->n = 0;
    return rc;
}

/* Make room for `k` (<= CHUNK) bytes in the chunk. */
static int
room(struct writer *w, size_t k)
{
    return CHUNK - w->n >= k ? 0 : flush(w);
}

static int
put(struct writer *w, const char *p, size_t k)
{
    int rc = 0;

    if (CHUNK - w->n < k) {
        rc = flush(w);
        if (rc < 0) {
            return rc;
        }
        if (k > CHUNK) {
            return buf_add(w->b, p, k);
        }
    }
    memcpy(w->c + w->n, p, k);
    w->n += k;
    return 0;
}

static int
put_ch(struct writer *w, char ch)
{
    int rc = room(w, 1);

    if (rc == 0) {
        w->c[w->n++] = ch;
    }
    return rc;
}

/* The escape of the byte `ch` (a control, '"' or '\\'). */
static int
put_escape(struct writer *w, unsigned char ch)
{
    static const char hex[] = "0123456789ABCDEF";
    char *p = NULL;
    int rc = room(w, 6);

    if (rc < 0) {
        return rc;
    }
    p = w->c + w->n;
    p[0] = '\\';
    w->n += 2;
    switch (ch) {
    case '"':
    case '\\':
        p[1] = (char)ch;
        break;
    case '\b':
        p[1] = 'b';
        break;
    case '\f':
        p[1] = 'f';
        break;
    case '\n':
        p[1] = 'n';
        break;
    case '\r':
        p[1] = 'r';
        break;
    case '\t':
        p[1] = 't';
        break;
    default:
        p[1] = 'u';
        p[2] = '0';
        p[3] = '0';
        p[4] = hex[ch >> 4];
        p[5] = hex[ch & 0xf];
        w->n += 4;
        break;
    }
    return 0;
}

/* Whether `ch` goes into a string's text as it is: printable ASCII
 * but '"' and '\\'. (Bytes of 0x80 and up are checked as UTF-8.) */
static int
plain(unsigned char ch)
{
    return ch >= 0x20 && ch < 0x80 && ch != '"' && ch != '\\';
}

/*
 * Whether one of the 8 bytes at `p` is not plain(). A byte below 0x20
 * borrows in the subtraction, '"' and '\\' become zero and borrow
 * too, and the bytes of 0x80 and up have their high bit already; a
 * borrow reaches the next byte only from one of those, so a word of
 * plain bytes never looks otherwise.
 */
static int
special8(const char *p)
{
    const uint64_t ones = UINT64_C(0x0101010101010101);
    const uint64_t high = UINT64_C(0x8080808080808080);
    uint64_t x = 0;

    memcpy(&x, p, sizeof(x));
    return (((x - ones * 0x20) | ((x ^ (ones * '"')) - ones) |
             ((x ^ (ones * '\\')) - ones) | x) &
            high) != 0;
}

/* The rest of the string of `len` bytes at `s` whose opening quote is
 * written and whose `s[0 .. i)` is plain(), escaping what must be, and
 * the closing quote. `s[len]` is a NUL, as jansson keeps it. */
static int
put_escaped(struct writer *w, const char *s, size_t len, size_t i)
{
    const unsigned char *p = (const unsigned char *)s + i;
    const unsigned char *end = (const unsigned char *)s + len;
    const unsigned char *run = (const unsigned char *)s;
    int rc = 0;

    while (rc == 0 && p < end) {
        size_t n = 0;

        if (plain(*p)) {
            p++;
            continue;
        }
        if (*p >= 0x80) {
            /* stops at the NUL after the string, never past `end` */
            n = utf8_seq_len(p);
            if (n == 0) {
                return ERR_INVALID;
            }
            p += n;
            continue;
        }
        rc = put(w, (const char *)run, (size_t)(p - run));
        if (rc == 0) {
            rc = put_escape(w, *p);
        }
        run = ++p;
    }
    if (rc == 0) {
        rc = put(w, (const char *)run, (size_t)(p - run));
    }
    return rc == 0 ? put_ch(w, '"') : rc;
}

/* A string of `len` bytes at `s` (`s[len]` is a NUL). */
static int
put_string(struct writer *w, const char *s, size_t len)
{
    size_t i = 0;
    int rc = 0;

    while (i + 8 <= len && !special8(s + i)) {
        i += 8;
    }
    while (i < len && plain((unsigned char)s[i])) {
        i++;
    }
    if (i == len && len <= CHUNK - 2) {
        /* nothing to escape, the common case: in one piece */
        rc = room(w, len + 2);
        if (rc == 0) {
            w->c[w->n] = '"';
            memcpy(w->c + w->n + 1, s, len);
            w->c[w->n + len + 1] = '"';
            w->n += len + 2;
        }
        return rc;
    }
    rc = put_ch(w, '"');
    return rc == 0 ? put_escaped(w, s, len, i) : rc;
}

static int
put_integer(struct writer *w, json_int_t v)
{
    char tmp[NUMBER_MAX];
    char *p = tmp + sizeof(tmp);
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    size_t k = 0;
    int rc = room(w, sizeof(tmp));

    if (rc < 0) {
        return rc;
    }
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0) {
        *--p = '-';
    }
    k = (size_t)(tmp + sizeof(tmp) - p);
    memcpy(w->c + w->n, p, k);
    w->n += k;
    return 0;
}

/*
 * The text "%.15g" makes of `v`, with jansson's ".0", in `out` (`*len`
 * bytes), for the reals written without an exponent (10^-4 up to
 * 10^15, where the values of samples are): 1 when written, 0 to leave
 * `v` to snprintf(). No multiple-precision arithmetic is needed:
 * |v| * 10^k, scaled to 15 digits before the point (k <= 22, so 10^k
 * is exact), is one correctly rounded product, and below 10^15 < 2^50
 * it is within 2^-4 of the exact value. Rounding it to an integer thus
 * gives printf()'s 15 digits, unless it lies within 1/8 of halfway
 * between two integers: those few are left to snprintf().
 */
static int
real_fixed(double v, char *out, size_t *len)
{
    static const double p10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    double a = fabs(v);
    double p = 0;
    double whole = 0;
    uint64_t n = 0;
    char d[15];
    char *o = out;
    int e2 = 0;
    int x = 0; /* the power of ten of the first digit */
    int tries = 0;
    int i = 0;
    int last = 0;

    if (!(a >= 1e-4 && a < 1e15)) {
        return 0;
    }
    frexp(a, &e2);
    x = (int)floor((e2 - 1) * 0.30102999566398120); /* x or x - 1 */
    for (tries = 0; tries < 3; tries++) {
        if (14 - x < 0 || 14 - x > 22) {
            return 0;
        }
        p = a * p10[14 - x];
        whole = floor(p);
        if (whole < 1e14) {
            x--;
        } else if (whole >= 1e15) {
            x++;
        } else {
            break;
        }
    }
    if (tries == 3 || fabs(p - whole - 0.5) <= 0.125) {
        return 0;
    }
    n = (uint64_t)whole + (p - whole > 0.5);
    if (n == UINT64_C(1000000000000000)) {
        n /= 10;
        x++;
    }
    if (x > 14) {
        return 0; /* "%.15g" turns to an exponent there */
    }
    for (i = 14; i >= 0; i--) {
        d[i] = (char)('0' + n % 10);
        n /= 10;
    }
    for (last = 14; last > 0 && d[last] == '0'; last--) {
    }
    if (v < 0) {
        *o++ = '-';
    }
    if (x < 0) {
        /* 0.000ddd */
        *o++ = '0';
        *o++ = '.';
        for (i = -1; i > x; i--) {
            *o++ = '0';
        }
        memcpy(o, d, (size_t)last + 1);
        o += last + 1;
    } else {
        /* ddd.ddd, or ddd.0 */
        memcpy(o, d, (size_t)x + 1);
        o += x + 1;
        *o++ = '.';
        if (last > x) {
            memcpy(o, d + x + 1, (size_t)(last - x));
            o += last - x;
        } else {
            *o++ = '0';
        }
    }
    *len = (size_t)(o - out);
    return 1;
}

/*
 * A real as jansson writes it with 15 digits: "%.15g"; the locale's
 * decimal point (the one byte that is not a digit, a sign or 'e') made
 * '.'; ".0" when there is neither a point nor an exponent; the
 * exponent without '+' and leading zeros.
 */
static int
put_real(struct writer *w, double v)
{
    char tmp[NUMBER_MAX];
    char *e = NULL;
    char *from = NULL;
    char *to = NULL;
    size_t fast = 0;
    int len = 0;
    int i = 0;

    if (real_fixed(v, tmp, &fast)) {
        return put(w, tmp, fast);
    }
    len = snprintf(tmp, sizeof(tmp), "%.15g", v);
    if (len < 0 || len >= (int)sizeof(tmp) - 3) {
        return ERR_INVALID;
    }
    for (i = 0; i < len; i++) {
        char ch = tmp[i];

        if ((ch < '0' || ch > '9') && ch != '-' && ch != '+' && ch != 'e') {
            tmp[i] = '.';
            break;
        }
    }
    e = memchr(tmp, 'e', (size_t)len);
    if (e == NULL && memchr(tmp, '.', (size_t)len) == NULL) {
        tmp[len++] = '.';
        tmp[len++] = '0';
    }
    if (e != NULL) {
        to = e + 1 + (e[1] == '-');
        from = e + 2;
        while (*from == '0') {
            from++;
        }
        memmove(to, from, (size_t)(tmp + len - from));
        len -= (int)(from - to);
    }
    return put(w, tmp, (size_t)len);
}

static int value(struct writer *w, const json_t *v, int depth);

static int
array(struct writer *w, const json_t *a, int depth)
{
    size_t n = json_array_size(a);
    size_t i = 0;
    int rc = put_ch(w, '[');

    for (i = 0; rc == 0 && i < n; i++) {
        if (i > 0) {
            rc = put_ch(w, ',');
        }
        if (rc == 0) {
            rc = value(w, json_array_get(a, i), depth + 1);
        }
    }
    return rc == 0 ? put_ch(w, ']') : rc;
}

static int
object(struct writer *w, const json_t *o, int depth)
{
    void *it = json_object_iter((json_t *)o);
    int rc = put_ch(w, '{');

    while (rc == 0 && it != NULL) {
        rc = put_string(w, json_object_iter_key(it),
                        json_object_iter_key_len(it));
        if (rc == 0) {
            rc = put_ch(w, ':');
        }
        if (rc == 0) {
            rc = value(w, json_object_iter_value(it), depth + 1);
        }
        it = json_object_iter_next((json_t *)o, it);
        if (rc == 0 && it != NULL) {
            rc = put_ch(w, ',');
        }
    }
    return rc == 0 ? put_ch(w, '}') : rc;
}

/* 1 with the splice of `v` written, 0 when `v` has none. */
static int
spliced(struct writer *w, const json_t *v, int *rc)
{
    size_t i = 0;

    for (i = 0; i < w->nsp; i++) {
        if (w->sp[i].at == v) {
            *rc = put(w, w->sp[i].text, w->sp[i].len);
            return 1;
        }
    }
    return 0;
}

static int
value(struct writer *w, const json_t *v, int depth)
{
    int rc = 0;

    if (v == NULL || depth > JSONW_DEPTH_MAX) {
        return ERR_INVALID;
    }
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return w->nsp > 0 && spliced(w, v, &rc) ? rc : object(w, v, depth);
    case JSON_ARRAY:
        return w->nsp > 0 && spliced(w, v, &rc) ? rc : array(w, v, depth);
    case JSON_STRING:
        return put_string(w, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        return put_integer(w, json_integer_value(v));
    case JSON_REAL:
        return put_real(w, json_real_value(v));
    case JSON_TRUE:
        return put(w, "true", 4);
    case JSON_FALSE:
        return put(w, "false", 5);
    case JSON_NULL:
        return put(w, "null", 4);
    }
    return ERR_INVALID;
}

/* Undo what a failed write added to `b` past `len`. */
static int
finish(struct writer *w, size_t len, int rc)
{
    if (rc == 0) {
        rc = flush(w);
    }
    if (rc < 0 && w->b->data != NULL) {
        /* what was added before the failure goes again */
        w->b->len = len;
        w->b->data[len] = '\0';
    }
    return rc;
}

int
jsonw_add_spliced(struct buf *b, const json_t *v, const struct jsonw_splice *sp,
                  size_t n)
{
    struct writer w;
    size_t len = b->len;

    w.b = b;
    w.sp = sp;
    w.nsp = sp != NULL ? n : 0;
    w.n = 0;
    return finish(&w, len, value(&w, v, 0));
}

int
jsonw_add(struct buf *b, const json_t *v)
{
    return jsonw_add_spliced(b, v, NULL, 0);
}

int
jsonw_add_integer(struct buf *b, json_int_t v)
{
    struct writer w;
    size_t len = b->len;

    w.b = b;
    w.sp = NULL;
    w.nsp = 0;
    w.n = 0;
    return finish(&w, len, put_integer(&w, v));
}

int
jsonw_add_real(struct buf *b, double v)
{
    struct writer w;
    size_t len = b->len;

    if (!isfinite(v)) {
        return ERR_INVALID;
    }
    w.b = b;
    w.sp = NULL;
    w.nsp = 0;
    w.n = 0;
    return finish(&w, len, put_real(&w, v));
}
