/*
 * cursor: the opaque keyset cursors of list endpoints (SPEC section 4, "Lists").
 * PostgreSQL writes them (cf_cursor_of: base64url, unpadded, of integers joined
 * by dots, such as a row's sort key and id); confer reads them back here, so
 * that a cursor that is not one of ours is refused with 400 before any query,
 * and the database receives plain integers.
 */
#ifndef CF_CURSOR_H
#define CF_CURSOR_H

#include <stddef.h>
#include <stdint.h>

#define CF_CURSOR_MAX_PARTS 64

/*
 * Decodes text into at most max integers (each at most 18 digits, optionally
 * negative). Returns how many, or -1 when text is not a cursor of ours.
 */
int cf_cursor_decode(const char *text, int64_t *out, size_t max);

/* Writes parts as a PostgreSQL array literal ("{1,2,3}"); returns 0, or -1 when
 * size is too small. */
int cf_cursor_array(const int64_t *parts, size_t n, char *out, size_t size);

#endif
