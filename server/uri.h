/*
 * uri: parsing of the request target, kept free of libevent so that it can
 * be unit-tested and fuzzed on its own: path normalisation (percent-decoding,
 * dot segments refused), query strings, UTF-8 validation.
 */
#ifndef CF_URI_H
#define CF_URI_H

#include <stddef.h>

#define CF_QUERY_MAX_PARAMS 64

enum cf_uri_status {
    CF_URI_OK = 0,
    CF_URI_BAD = -1,       /* malformed: bad escape, NUL, invalid UTF-8, control byte */
    CF_URI_TRAVERSAL = -2, /* a "." or ".." segment, or a backslash: never a real resource */
    CF_URI_DUPLICATE = -3, /* a query parameter given twice */
    CF_URI_TOO_MANY = -4,  /* more than CF_QUERY_MAX_PARAMS parameters */
};

struct cf_param {
    char *key;
    char *value;
};

struct cf_query {
    struct cf_param items[CF_QUERY_MAX_PARAMS];
    size_t count;
};

/* 1 when s[0..len) is well-formed UTF-8 (no overlong forms, surrogates or values
 * past U+10FFFF), else 0. */
int cf_utf8_valid(const char *s, size_t len);
/* The characters (code points) of valid UTF-8 s. */
size_t cf_utf8_chars(const char *s);

/*
 * Decodes the path part of a request target into out (outsize >= len + 1):
 * %XX escapes decoded, repeated slashes folded, a trailing slash kept.
 * Returns CF_URI_OK, CF_URI_BAD or CF_URI_TRAVERSAL.
 */
int cf_path_normalize(const char *path, size_t len, char *out, size_t outsize);

/*
 * Parses an application/x-www-form-urlencoded query string (without '?').
 * Keys and values are decoded ('+' is a space) and cf_malloc'ed; the caller
 * releases them with cf_query_free, also after a failure.
 */
int cf_query_parse(const char *qs, struct cf_query *q);
const char *cf_query_get(const struct cf_query *q, const char *key);
void cf_query_free(struct cf_query *q);

#endif
