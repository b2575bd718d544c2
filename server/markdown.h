/*
 * markdown: post bodies are CommonMark, rendered once by cmark when written
 * and stored rendered. The output is safe by construction: raw HTML in the
 * source is shown as text; links and images keep only http, https, mailto and
 * relative targets (never javascript:, data: or any other scheme) and get
 * rel="nofollow noopener"; images are shown as links to the picture, so no
 * reader's browser fetches anything by reading a post. Newlines are line
 * breaks, as people writing in a text box expect.
 *
 * @mentions: a parsed body lists the handles it mentions (outside code and
 * links); the caller resolves them to members and renders with that map, so a
 * mention of nobody stays plain text.
 */
#ifndef CF_MARKDOWN_H
#define CF_MARKDOWN_H

#include <stddef.h>
#include <stdint.h>

#define CF_HANDLE_MAX 30
#define CF_MENTIONS_MAX 20

struct cf_markdown;

struct cf_mention {
    char handle[CF_HANDLE_MAX + 1]; /* lower case */
    int64_t user_id;                /* 0: nobody has this handle */
};

/* Parses a body (UTF-8, already validated). Never NULL except out of memory. */
struct cf_markdown *cf_markdown_parse(const char *text, size_t len);
/* The distinct handles mentioned, lower case, at most max; returns how many. */
size_t cf_markdown_mentions(struct cf_markdown *md, struct cf_mention *out, size_t max);
/* The HTML (free with cf_free); mentions found in map (user_id > 0) become links. */
char *cf_markdown_html(struct cf_markdown *md, const struct cf_mention *map, size_t n);
void cf_markdown_free(struct cf_markdown *md);

/* Parse and render with no mentions resolved: for previews and tests. */
char *cf_markdown_render(const char *text, size_t len);

/* 1 when href may be linked: http(s), mailto, or relative without a scheme. */
int cf_markdown_url_safe(const char *url);

#endif
