/* alloc: cf_malloc and friends; see alloc.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

void cf_fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("confer: fatal: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

void *cf_malloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (p == NULL)
        cf_fatal("out of memory allocating %zu bytes", size);
    return p;
}

void *cf_calloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (p == NULL)
        cf_fatal("out of memory allocating %zu x %zu bytes", count, size);
    return p;
}

void *cf_realloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);
    if (p == NULL)
        cf_fatal("out of memory reallocating %zu bytes", size);
    return p;
}

char *cf_strndup(const char *s, size_t n)
{
    char *p = cf_malloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *cf_strdup(const char *s)
{
    return cf_strndup(s, strlen(s));
}

void cf_free(void *ptr)
{
    free(ptr);
}
