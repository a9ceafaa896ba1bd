/*
 * adapter.c - what every adapter shares: type names, record and push
 * item lists, the table of adapters.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/xmalloc.h"
#include "providers/adapter.h"

static const char *const type_names[DT_COUNT] = {
    "activity",  "sleep",        "daily",   "body",
    "nutrition", "menstruation", "athlete", "plannedWorkout",
};

const char *
data_type_name(enum data_type t)
{
    if ((int)t < 0 || t >= DT_COUNT) {
        return NULL;
    }
    return type_names[t];
}

int
data_type_parse(const char *s)
{
    int i = 0;

    for (i = 0; s != NULL && i < DT_COUNT; i++) {
        if (strcmp(type_names[i], s) == 0) {
            return i;
        }
    }
    return -1;
}

int
adapter_records_add(struct adapter_records *out, enum data_type type,
                    const char *key, json_t *data, int64_t start_us,
                    int64_t end_us, const char *local_date)
{
    struct adapter_record *r = NULL;

    if (data == NULL || key == NULL || key[0] == '\0') {
        json_decref(data);
        return ERR_INVALID;
    }
    if (out->n == out->cap) {
        out->cap = out->cap == 0 ? 16 : out->cap * 2;
        out->v = xrealloc(out->v, out->cap * sizeof(*out->v));
    }
    r = &out->v[out->n++];
    memset(r, 0, sizeof(*r));
    r->type = type;
    snprintf(r->key, sizeof(r->key), "%s", key);
    r->data = data;
    r->start_us = start_us;
    r->end_us = end_us;
    if (local_date != NULL) {
        snprintf(r->local_date, sizeof(r->local_date), "%s", local_date);
    }
    return 0;
}

void
adapter_records_release(struct adapter_records *out)
{
    int text = out->text;
    size_t i = 0;

    for (i = 0; i < out->n; i++) {
        adapter_splices_release(&out->v[i].splices);
        json_decref(out->v[i].data);
    }
    free(out->v);
    memset(out, 0, sizeof(*out));
    out->text = text;
}

void
adapter_splices_add(struct adapter_splices *s, json_t *at, char *text,
                    size_t len, const struct adapter_rebuild *rb)
{
    struct jsonw_splice *sp = NULL;

    if (s->n == s->cap) {
        s->cap = s->cap == 0 ? 4 : s->cap * 2;
        s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
        s->rb = xrealloc(s->rb, s->cap * sizeof(*s->rb));
    }
    sp = &s->v[s->n];
    sp->at = json_incref(at);
    sp->text = text;
    sp->len = len;
    s->rb[s->n++] = *rb;
}

void
adapter_splices_apply(struct adapter_splices *s)
{
    size_t i = 0;

    for (i = 0; i < s->n; i++) {
        s->rb[i].make((json_t *)s->v[i].at, s->rb[i].arg);
    }
    adapter_splices_release(s);
}

void
adapter_splices_release(struct adapter_splices *s)
{
    size_t i = 0;

    for (i = 0; i < s->n; i++) {
        json_decref((json_t *)s->v[i].at);
        free((char *)s->v[i].text);
        s->rb[i].release(s->rb[i].arg);
    }
    free(s->v);
    free(s->rb);
    memset(s, 0, sizeof(*s));
}

void
adapter_push_items_add(struct adapter_push_items *out,
                       const struct adapter_push_item *it)
{
    if (out->n == out->cap) {
        out->cap = out->cap == 0 ? 8 : out->cap * 2;
        out->v = xrealloc(out->v, out->cap * sizeof(*out->v));
    }
    out->v[out->n++] = *it;
}

void
adapter_push_items_skip(struct adapter_push_items *out, const char *fmt, ...)
{
    va_list ap;

    if (out->skipped++ == 0) {
        va_start(ap, fmt);
        vsnprintf(out->skip_why, sizeof(out->skip_why), fmt, ap);
        va_end(ap);
    }
}

void
adapter_push_items_release(struct adapter_push_items *out)
{
    size_t i = 0;

    for (i = 0; i < out->n; i++) {
        json_decref(out->v[i].payload);
    }
    free(out->v);
    memset(out, 0, sizeof(*out));
}
