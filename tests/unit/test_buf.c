/*
 * test_buf.c - the bounded growable buffer.
 */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "tap.h"

static void
test_empty(void)
{
    struct buf b;
    char *p = NULL;
    size_t len = 99;

    buf_init(&b, 16);
    is_str(buf_str(&b), "", "a new buffer reads as \"\"");
    is_int(b.len, 0, "and has length 0");
    ok(b.data == NULL, "and has allocated nothing");
    p = buf_detach(&b, &len);
    is_str(p, "", "detaching an empty buffer gives \"\"");
    is_int(len, 0, "of length 0");
    free(p);
    buf_release(&b);
    buf_release(&b);
    ok(1, "release twice is harmless");
}

static void
test_ceiling(void)
{
    struct buf b;
    char big[100];
    int i = 0;
    int rc = 0;

    memset(big, 'x', sizeof(big));
    buf_init(&b, 10);
    is_int(buf_add(&b, "0123456789", 10), 0, "exactly max bytes fit");
    is_int(b.len, 10, "len is 10");
    is_int(buf_addch(&b, 'x'), ERR_TOOBIG, "one more byte is ERR_TOOBIG");
    is_int(buf_addstr(&b, "y"), ERR_TOOBIG, "so is a string");
    is_int(buf_printf(&b, "%d", 1), ERR_TOOBIG, "so is printf");
    is_str(buf_str(&b), "0123456789", "a refused append changes nothing");
    ok(b.cap <= 11, "the allocation never passes max + 1");
    is_int(buf_add(&b, "", 0), 0, "an empty append at the ceiling is fine");
    buf_release(&b);

    buf_init(&b, 1000);
    for (i = 0; i < 10; i++) {
        rc = buf_add(&b, big, sizeof(big));
    }
    is_int(rc, 0, "1000 bytes in pieces fit in max 1000");
    is_int(buf_addch(&b, 'z'), ERR_TOOBIG, "the 1001st byte does not");
    is_int(b.len, 1000, "len stays 1000");
    buf_release(&b);

    buf_init(&b, 10);
    is_int(buf_add(&b, big, (size_t)-1), ERR_TOOBIG,
           "a huge length is refused without overflow");
    buf_add(&b, "abc", 3);
    is_int(buf_add(&b, big, (size_t)-2), ERR_TOOBIG,
           "a huge length after data is refused");
    is_str(buf_str(&b), "abc", "contents kept");
    buf_release(&b);

    buf_init(&b, 0);
    is_int(buf_add(&b, "", 0), 0, "max 0 takes an empty append");
    is_int(buf_addch(&b, 'a'), ERR_TOOBIG, "max 0 takes no byte");
    is_str(buf_str(&b), "", "max 0 reads as \"\"");
    buf_release(&b);
}

static void
test_append(void)
{
    struct buf b;
    size_t i = 0;
    int good = 1;

    buf_init(&b, 1 << 20);
    buf_addstr(&b, "hello");
    buf_addch(&b, ',');
    buf_add(&b, " world!!", 6);
    is_str(buf_str(&b), "hello, world", "add, addstr, addch");
    is_int(b.len, 12, "len counts no NUL");
    buf_add(&b, "\0x", 2);
    is_int(b.len, 14, "binary bytes are kept");
    ok(b.data[14] == '\0', "and NUL-terminated after them");

    buf_reset(&b);
    for (i = 0; i < 10000; i++) {
        if (buf_addch(&b, (char)('a' + i % 26)) != 0) {
            good = 0;
        }
    }
    for (i = 0; i < 10000; i++) {
        if (b.data[i] != (char)('a' + i % 26)) {
            good = 0;
        }
    }
    ok(good && b.len == 10000 && b.data[10000] == '\0',
       "10000 appends grow the buffer and keep every byte");
    buf_release(&b);
}

static void
test_printf(void)
{
    struct buf b;
    char want[600];

    buf_init(&b, 1024);
    is_int(buf_printf(&b, "%s=%d", "n", 42), 0, "printf");
    is_int(buf_printf(&b, " %05.1f|%-3s|", 3.14159, "x"), 0, "printf appends");
    is_str(buf_str(&b), "n=42 003.1|x  |", "printf output");
    buf_reset(&b);
    memset(want, 'q', 500);
    want[500] = '\0';
    is_int(buf_printf(&b, "%s", want), 0, "printf past the first allocation");
    is_str(buf_str(&b), want, "long printf output");
    is_int(buf_printf(&b, "%s%s", want, want), ERR_TOOBIG,
           "printf past the ceiling is refused");
    is_int(b.len, 500, "and changes nothing");
    buf_release(&b);
}

static void
test_detach_reset(void)
{
    struct buf b;
    char *p = NULL;
    size_t len = 0;
    size_t cap = 0;

    buf_init(&b, 100);
    buf_addstr(&b, "keep me");
    p = buf_detach(&b, &len);
    is_str(p, "keep me", "detach hands over the contents");
    is_int(len, 7, "detach reports the length");
    ok(b.data == NULL && b.len == 0 && b.cap == 0, "the buffer is empty");
    is_int(b.max, 100, "and keeps its ceiling");
    buf_addstr(&b, "again");
    is_str(buf_str(&b), "again", "the buffer is usable after detach");
    is_str(p, "keep me", "and the detached string is untouched");
    free(p);
    p = buf_detach(&b, NULL);
    is_str(p, "again", "len may be NULL");
    free(p);

    buf_addstr(&b, "some text");
    cap = b.cap;
    buf_reset(&b);
    is_str(buf_str(&b), "", "reset empties");
    is_int(b.len, 0, "reset sets len 0");
    is_int(b.cap, cap, "reset keeps the allocation");
    buf_addstr(&b, "new");
    is_str(buf_str(&b), "new", "usable after reset");
    buf_release(&b);
    ok(b.data == NULL && b.len == 0, "release empties");
    buf_reset(&b);
    ok(b.data == NULL, "reset of a released buffer is harmless");
}

int
main(void)
{
    test_empty();
    test_ceiling();
    test_append();
    test_printf();
    test_detach_reset();
    return done_testing();
}
