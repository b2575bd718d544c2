/* cursor: keyset cursors read back from their base64url text; see cursor.h. */
#include <stdio.h>
#include <string.h>

#include "cursor.h"

#define TEXT_MAX 1400 /* 64 parts of 20 characters, encoded */

static int b64url_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

/* Unpadded base64url to bytes; returns the length or -1. */
static int b64url_decode(const char *in, size_t len, char *out, size_t size)
{
    if (len % 4 == 1)
        return -1;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64url_value(in[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= size)
                return -1;
            out[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    /* the bits left over must be zero, so that one cursor has one spelling */
    if ((acc & ((1u << bits) - 1)) != 0)
        return -1;
    return (int)o;
}

int cf_cursor_decode(const char *text, int64_t *out, size_t max)
{
    size_t len = text ? strlen(text) : 0;
    char plain[TEXT_MAX];
    if (len == 0 || len > TEXT_MAX)
        return -1;
    int n = b64url_decode(text, len, plain, sizeof(plain));
    if (n <= 0)
        return -1;
    size_t count = 0;
    int i = 0;
    while (i < n) {
        if (count == max)
            return -1;
        int negative = plain[i] == '-';
        i += negative;
        int digits = 0;
        int64_t v = 0;
        while (i < n && plain[i] >= '0' && plain[i] <= '9') {
            if (++digits > 18)
                return -1;
            v = v * 10 + (plain[i] - '0');
            i++;
        }
        if (digits == 0)
            return -1;
        out[count++] = negative ? -v : v;
        if (i < n) {
            if (plain[i] != '.' || i + 1 == n)
                return -1;
            i++;
        }
    }
    return (int)count;
}

int cf_cursor_array(const int64_t *parts, size_t n, char *out, size_t size)
{
    size_t len = 0;
    if (size < 3)
        return -1;
    out[len++] = '{';
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(out + len, size - len, "%s%lld", i ? "," : "", (long long)parts[i]);
        if (w < 0 || (size_t)w >= size - len)
            return -1;
        len += (size_t)w;
    }
    if (len + 2 > size)
        return -1;
    out[len++] = '}';
    out[len] = '\0';
    return 0;
}
