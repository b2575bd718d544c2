/*
 * libFuzzer target for the Markdown renderer wrapper (server/markdown.c over cmark):
 * any text is parsed, its @mentions found and the HTML written, without a crash, a
 * leak or undefined behaviour. Invariants on the HTML, which the web client inserts as
 * it is: every '<' opens or closes a tag of the small set cmark and markdown.c write
 * (no script, style, iframe, img or any other), no attribute but href, rel, class,
 * title, start and data-user-id, every href is one cf_markdown_url_safe accepts, the
 * output is valid UTF-8, and mentions are at most CF_MENTIONS_MAX and lower case.
 *
 * scripts/test runs it for CONFER_FUZZ_SECONDS; a long run:
 *   build-fuzz/fuzz_markdown -max_total_time=3600 -dict=tests/fuzz/markdown.dict corpus/
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "markdown.h"
#include "uri.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const tags[] = {"p",  "em", "strong",     "a",  "code", "pre", "ul",
                                   "ol", "li", "blockquote", "h1", "h2",   "h3",  "h4",
                                   "h5", "h6", "hr",         "br", "del",  NULL};
static const char *const attrs[] = {"href", "rel", "class", "title", "start", "data-user-id", NULL};

static int in(const char *const *set, const char *s, size_t n)
{
    for (size_t i = 0; set[i]; i++)
        if (strlen(set[i]) == n && strncmp(set[i], s, n) == 0)
            return 1;
    return 0;
}

/* Checks one tag starting after '<'; returns where it ends (after '>'). */
static const char *check_tag(const char *p)
{
    if (*p == '/')
        p++;
    const char *name = p;
    while (isalnum((unsigned char)*p))
        p++;
    CHECK(in(tags, name, (size_t)(p - name)));
    for (;;) {
        while (*p == ' ')
            p++;
        if (*p == '>')
            return p + 1;
        if (p[0] == '/' && p[1] == '>')
            return p + 2;
        const char *attr = p;
        while (isalnum((unsigned char)*p) || *p == '-')
            p++;
        size_t alen = (size_t)(p - attr);
        CHECK(alen > 0 && in(attrs, attr, alen));
        CHECK(*p == '=' && p[1] == '"');
        const char *value = p + 2;
        const char *close = strchr(value, '"');
        CHECK(close != NULL);
        if (alen == 4 && strncmp(attr, "href", 4) == 0) {
            /* the URL as the browser reads it: entities back to characters */
            char *url = cf_malloc((size_t)(close - value) + 1);
            size_t k = 0;
            for (const char *c = value; c < close; c++) {
                if (strncmp(c, "&amp;", 5) == 0) {
                    url[k++] = '&';
                    c += 4;
                } else if (strncmp(c, "&quot;", 6) == 0) {
                    url[k++] = '"';
                    c += 5;
                } else if (strncmp(c, "&#", 2) == 0) {
                    /* a numeric reference (cmark writes ' as &#x27;) */
                    char *end = NULL;
                    int hex = c[2] == 'x' || c[2] == 'X';
                    long v = strtol(c + (hex ? 3 : 2), &end, hex ? 16 : 10);
                    CHECK(end != NULL && *end == ';' && v > 0 && v < 0x80);
                    url[k++] = (char)v;
                    c = end;
                } else {
                    url[k++] = *c;
                }
            }
            url[k] = '\0';
            CHECK(cf_markdown_url_safe(url));
            cf_free(url);
        }
        p = close + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cf_markdown *md = cf_markdown_parse((const char *)data, size);
    if (md == NULL)
        return 0;
    struct cf_mention found[CF_MENTIONS_MAX];
    size_t n = cf_markdown_mentions(md, found, CF_MENTIONS_MAX);
    CHECK(n <= CF_MENTIONS_MAX);
    for (size_t i = 0; i < n; i++) {
        for (const char *c = found[i].handle; *c; c++)
            CHECK(!isupper((unsigned char)*c));
        found[i].user_id = (int64_t)(i % 2 ? i + 1 : 0); /* half of them resolved */
    }
    char *html = cf_markdown_html(md, found, n);
    CHECK(html != NULL);
    size_t len = strlen(html);
    if (cf_utf8_valid((const char *)data, size))
        CHECK(cf_utf8_valid(html, len));
    for (const char *p = html; (p = strchr(p, '<')) != NULL;)
        p = check_tag(p + 1);
    cf_free(html);
    cf_markdown_free(md);
    return 0;
}
