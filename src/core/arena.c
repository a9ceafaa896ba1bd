/*
 * arena.c - chunked bump allocator with a ceiling.
 */
#include <stdarg.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/xmalloc.h"

#define CHUNK_MIN 4096

struct arena_chunk {
    struct arena_chunk *next;
    size_t size; /* usable bytes in data[] */
    size_t off;  /* bytes of data[] handed out */
    alignas(max_align_t) unsigned char data[];
};

void
arena_init(struct arena *a, size_t max)
{
    a->head = NULL;
    a->used = 0;
    a->max = max;
}

void
arena_release(struct arena *a)
{
    struct arena_chunk *c = a->head;

    while (c != NULL) {
        struct arena_chunk *next = c->next;

        free(c);
        c = next;
    }
    a->head = NULL;
    a->used = 0;
}

void *
arena_alloc(struct arena *a, size_t n)
{
    const size_t align = alignof(max_align_t);
    struct arena_chunk *c = a->head;
    size_t size = 0;
    void *p = NULL;

    if (n > a->max || n > SIZE_MAX - align - sizeof(*c)) {
        return NULL;
    }
    n = (n + align - 1) & ~(align - 1);
    if (c == NULL || c->size - c->off < n) {
        size = n > CHUNK_MIN ? n : CHUNK_MIN;
        if (size + sizeof(*c) > a->max - a->used) {
            /* near the ceiling, a chunk of just `n` may still fit */
            size = n;
        }
        if (size + sizeof(*c) > a->max - a->used) {
            return NULL;
        }
        c = xmalloc(sizeof(*c) + size);
        c->size = size;
        c->off = 0;
        c->next = a->head;
        a->head = c;
        a->used += size + sizeof(*c);
    }
    p = c->data + c->off;
    c->off += n;
    memset(p, 0, n);
    return p;
}

char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *p = NULL;

    if (s == NULL) {
        return NULL;
    }
    p = arena_alloc(a, n + 1);
    if (p == NULL) {
        return NULL;
    }
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *
arena_strdup(struct arena *a, const char *s)
{
    if (s == NULL) {
        return NULL;
    }
    return arena_strndup(a, s, strlen(s));
}

char *
arena_printf(struct arena *a, const char *fmt, ...)
{
    va_list ap;
    int n = 0;
    char *p = NULL;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return NULL;
    }
    p = arena_alloc(a, (size_t)n + 1);
    if (p == NULL) {
        return NULL;
    }
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}
