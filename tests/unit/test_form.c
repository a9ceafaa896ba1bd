/*
 * test_form.c - form body parsing.
 */
#include <string.h>

#include "http/form.h"
#include "tap.h"

static int
parse(const char *body, struct arena *a, struct http_form *f)
{
    return http_form_parse(body, strlen(body), a, f, NULL);
}

static void
test_good(struct arena *a)
{
    struct http_form f;
    int dup = 0;

    is_int(parse("resource=OURA&csrf=ab12", a, &f), 0, "two fields");
    is_int(f.n, 2, "counted");
    is_str(http_form_get(&f, "resource", NULL), "OURA", "first value");
    is_str(http_form_get(&f, "csrf", &dup), "ab12", "second value");
    is_int(dup, 0, "not duplicated");
    ok(http_form_get(&f, "nope", NULL) == NULL, "absent is NULL");

    is_int(parse("a=x+y%20z&b=%2B%26%3D", a, &f), 0, "escapes");
    is_str(http_form_get(&f, "a", NULL), "x y z", "+ and %20 are spaces");
    is_str(http_form_get(&f, "b", NULL), "+&=", "escaped specials");

    is_int(parse("flag&empty=&&=v", a, &f), 0, "odd but valid pairs");
    is_str(http_form_get(&f, "flag", NULL), "", "a name alone has ''");
    is_str(http_form_get(&f, "empty", NULL), "", "an empty value");
    is_str(http_form_get(&f, "", NULL), "v", "an empty name");

    is_int(parse("n=%C3%A9t%C3%A9", a, &f), 0, "UTF-8 escapes");
    is_str(http_form_get(&f, "n", NULL), "\xc3\xa9t\xc3\xa9", "decoded");

    is_int(parse("c=1&c=2", a, &f), 0, "a repeated field");
    is_str(http_form_get(&f, "c", &dup), "1", "the first wins");
    is_int(dup, 1, "the repeat is reported");

    is_int(parse("", a, &f), 0, "an empty body");
    is_int(f.n, 0, "has no field");
}

static void
test_bad(struct arena *a)
{
    struct http_form f;
    char many[512] = "";
    int i;

    is_int(parse("a=%", a, &f), ERR_INVALID, "a cut escape");
    is_int(parse("a=%4", a, &f), ERR_INVALID, "half an escape");
    is_int(parse("a=%zz", a, &f), ERR_INVALID, "not hex");
    is_int(parse("a=%00", a, &f), ERR_INVALID, "an escaped NUL");
    is_int(parse("a=%ff%fe", a, &f), ERR_INVALID, "not UTF-8");
    is_int(parse("a\xff=1", a, &f), ERR_INVALID, "raw bad UTF-8 in a name");
    for (i = 0; i < HTTP_FORM_MAX_FIELDS + 1; i++) {
        strcat(many, "x=1&");
    }
    is_int(parse(many, a, &f), ERR_INVALID, "too many fields");
}

static void
test_arena(void)
{
    struct arena small;
    struct http_form f;

    arena_init(&small, 16);
    is_int(parse("a=0123456789012345678901234567890123456789", &small, &f),
           ERR_NOMEM, "the arena's ceiling");
    arena_release(&small);
}

int
main(void)
{
    struct arena a;

    arena_init(&a, 1 << 20);
    test_good(&a);
    test_bad(&a);
    test_arena();
    arena_release(&a);
    return done_testing();
}
