/* uri: request-target parsing; see uri.h. */
#include <string.h>

#include "alloc.h"
#include "uri.h"

int cf_utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        unsigned int cp;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 2;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 3;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 4;
            cp = c & 0x07;
        } else {
            return 0; /* continuation byte first, C0/C1 overlong lead, or F5..FF */
        }
        if (i + n > len)
            return 0;
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += n;
    }
    return 1;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes src[0..len) into out; plus_is_space for query strings.
 * Returns the decoded length or -1 for a bad escape or a NUL. */
static long decode(const char *src, size_t len, char *out, int plus_is_space)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = src[i];
        if (c == '%') {
            if (i + 2 >= len)
                return -1;
            int hi = hexval(src[i + 1]), lo = hexval(src[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        if (c == '\0')
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return (long)o;
}

int cf_path_normalize(const char *path, size_t len, char *out, size_t outsize)
{
    if (outsize < len + 1 || len == 0 || path[0] != '/')
        return CF_URI_BAD;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)path[i];
        if (c <= 0x20 || c == 0x7f)
            return CF_URI_BAD;
    }
    long n = decode(path, len, out, 0);
    if (n < 0 || !cf_utf8_valid(out, (size_t)n))
        return CF_URI_BAD;
    /* Walk the decoded segments: refuse dot segments and backslashes (a Windows
     * separator has no business in a URL), fold repeated slashes. */
    size_t w = 0;
    for (long r = 0; r < n;) {
        if (out[r] == '/') {
            if (w == 0 || out[w - 1] != '/')
                out[w++] = '/';
            r++;
            continue;
        }
        long end = r;
        while (end < n && out[end] != '/')
            end++;
        long seglen = end - r;
        if ((seglen == 1 && out[r] == '.') || (seglen == 2 && out[r] == '.' && out[r + 1] == '.'))
            return CF_URI_TRAVERSAL;
        for (long k = r; k < end; k++) {
            unsigned char c = (unsigned char)out[k];
            if (c == '\\')
                return CF_URI_TRAVERSAL;
            if (c < 0x20 || c == 0x7f)
                return CF_URI_BAD;
            out[w++] = (char)c;
        }
        r = end;
    }
    out[w] = '\0';
    return CF_URI_OK;
}

static int decode_part(const char *src, size_t len, char **out)
{
    char *buf = cf_malloc(len + 1);
    long n = decode(src, len, buf, 1);
    if (n < 0 || !cf_utf8_valid(buf, (size_t)n)) {
        cf_free(buf);
        return CF_URI_BAD;
    }
    for (long i = 0; i < n; i++) {
        unsigned char c = (unsigned char)buf[i];
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) {
            cf_free(buf);
            return CF_URI_BAD;
        }
    }
    *out = buf;
    return CF_URI_OK;
}

int cf_query_parse(const char *qs, struct cf_query *q)
{
    memset(q, 0, sizeof(*q));
    if (qs == NULL)
        return CF_URI_OK;
    const char *p = qs;
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t plen = amp ? (size_t)(amp - p) : strlen(p);
        if (plen > 0) {
            const char *eq = memchr(p, '=', plen);
            size_t klen = eq ? (size_t)(eq - p) : plen;
            char *key = NULL, *value = NULL;
            if (q->count == CF_QUERY_MAX_PARAMS)
                return CF_URI_TOO_MANY;
            int rc = decode_part(p, klen, &key);
            if (rc != CF_URI_OK)
                return rc;
            rc = eq ? decode_part(eq + 1, plen - klen - 1, &value) : decode_part("", 0, &value);
            if (rc != CF_URI_OK) {
                cf_free(key);
                return rc;
            }
            q->items[q->count].key = key;
            q->items[q->count].value = value;
            q->count++;
            for (size_t i = 0; i + 1 < q->count; i++)
                if (strcmp(q->items[i].key, key) == 0)
                    return CF_URI_DUPLICATE;
        }
        if (amp == NULL)
            break;
        p = amp + 1;
    }
    return CF_URI_OK;
}

const char *cf_query_get(const struct cf_query *q, const char *key)
{
    for (size_t i = 0; i < q->count; i++)
        if (strcmp(q->items[i].key, key) == 0)
            return q->items[i].value;
    return NULL;
}

void cf_query_free(struct cf_query *q)
{
    for (size_t i = 0; i < q->count; i++) {
        cf_free(q->items[i].key);
        cf_free(q->items[i].value);
    }
    q->count = 0;
}

size_t cf_utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}
