/*
 * arena.h - per-request memory.
 *
 * An arena hands out memory that lives until arena_release(), which frees
 * it all at once. Each request gets one; nothing allocated from it may be
 * kept after the request. The arena has a ceiling: an allocation that
 * would take it past `max` bytes returns NULL (the caller answers
 * ERR_NOMEM / 413), so a hostile request cannot grow a worker without
 * bound. Not thread-safe: one arena belongs to one request at a time.
 */
#ifndef FERRY_CORE_ARENA_H
#define FERRY_CORE_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
    struct arena_chunk *head; /* newest chunk first */
    size_t used;              /* bytes handed out plus chunk overhead */
    size_t max;               /* ceiling for used */
};

/* Set up an empty arena that may hand out about `max` bytes in all. */
void arena_init(struct arena *a, size_t max);

/* Free everything allocated from `a`; `a` may be reused afterwards. */
void arena_release(struct arena *a);

/*
 * `n` bytes aligned for any type, zero-filled. NULL when the ceiling would
 * be passed. Owned by the arena.
 */
void *arena_alloc(struct arena *a, size_t n);

/* Copy of `s` (NULL gives NULL), or NULL at the ceiling. Arena-owned. */
char *arena_strdup(struct arena *a, const char *s);

/* Copy of `n` bytes of `s`, NUL-terminated, or NULL at the ceiling. */
char *arena_strndup(struct arena *a, const char *s, size_t n);

/* printf into arena memory, or NULL at the ceiling. Arena-owned. */
char *arena_printf(struct arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
