/*
 * alloc: allocation that never returns NULL. Out of memory aborts with a
 * message (h2o's h2o_fatal, redis' zmalloc, PostgreSQL's palloc): no caller
 * has a better answer, and checking every call hides the real errors.
 */
#ifndef CF_ALLOC_H
#define CF_ALLOC_H

#include <stddef.h>

void *cf_malloc(size_t size);
void *cf_calloc(size_t count, size_t size);
void *cf_realloc(void *ptr, size_t size);
/* Returns a copy the caller frees with cf_free. */
char *cf_strdup(const char *s);
char *cf_strndup(const char *s, size_t n);
void cf_free(void *ptr);

/* Prints "confer: fatal: <message>" on stderr and aborts. */
_Noreturn void cf_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
