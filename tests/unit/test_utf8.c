/*
 * test_utf8.c - UTF-8 well-formedness, control characters, sanitizing.
 */
#include <string.h>

#include "core/utf8.h"
#include "tap.h"

int
main(void)
{
    char s[32];

    ok(utf8_valid(""), "empty is valid");
    ok(utf8_valid("plain ascii"), "ASCII");
    ok(utf8_valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
       "2, 3 and 4 byte sequences");
    ok(utf8_valid("\xf4\x8f\xbf\xbf"), "U+10FFFF");
    ok(!utf8_valid("\xf4\x90\x80\x80"), "past U+10FFFF");
    ok(!utf8_valid("\xc0\xaf"), "overlong 2-byte");
    ok(!utf8_valid("\xe0\x80\xaf"), "overlong 3-byte");
    ok(!utf8_valid("\xf0\x80\x80\xaf"), "overlong 4-byte");
    ok(!utf8_valid("\xed\xa0\x80"), "surrogate");
    ok(!utf8_valid("\x80"), "stray continuation byte");
    ok(!utf8_valid("\xc3"), "cut sequence at the end");
    ok(!utf8_valid("\xe2\x82"), "cut 3-byte sequence");
    ok(!utf8_valid("\xff"), "0xff");
    is_int(utf8_seq_len((const unsigned char *)"\xe2\x82\xac"), 3,
           "euro sign is 3 bytes");

    ok(!utf8_has_control("hello w\xc3\xb6rld"), "no control");
    ok(utf8_has_control("a\tb"), "tab is control");
    ok(utf8_has_control("a\x7f"), "DEL is control");
    ok(utf8_has_control("a\xc2\x85"), "U+0085 (C1) is control");
    ok(!utf8_has_control("a\xc2\xa0"), "U+00A0 is not control");
    ok(utf8_has_control("a\xff"), "not UTF-8 counts as control");

    strcpy(s, "ok\xff\xc3(\xc3\xa9");
    utf8_sanitize(s);
    is_str(s,
           "ok?"
           "?(\xc3\xa9",
           "bad bytes become '?', good ones stay");
    strcpy(s, "cut\xe2\x82");
    utf8_sanitize(s);
    is_str(s, "cut??", "a cut sequence is replaced");
    return done_testing();
}
