/* markdown: CommonMark to safe HTML with cmark; see markdown.h. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmark.h>

#include "alloc.h"
#include "markdown.h"

struct cf_markdown {
    cmark_node *doc;
};

struct cf_markdown *cf_markdown_parse(const char *text, size_t len)
{
    cmark_node *doc = cmark_parse_document(text, len, CMARK_OPT_VALIDATE_UTF8);
    if (doc == NULL)
        return NULL;
    struct cf_markdown *md = cf_calloc(1, sizeof(*md));
    md->doc = doc;
    return md;
}

void cf_markdown_free(struct cf_markdown *md)
{
    if (md == NULL)
        return;
    cmark_node_free(md->doc);
    cf_free(md);
}

int cf_markdown_url_safe(const char *url)
{
    if (url == NULL || url[0] == '\0')
        return 0;
    static const char *const schemes[] = {"http://", "https://", "mailto:"};
    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
        if (strncasecmp(url, schemes[i], strlen(schemes[i])) == 0)
            return url[strlen(schemes[i])] != '\0';
    /* Relative. Browsers drop tabs and newlines from a URL and read a backslash as a
     * slash, so "/\\evil.example" or "/<tab>/evil.example" would be "//evil.example",
     * another site: neither is allowed anywhere in it. */
    for (const char *p = url; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '\\')
            return 0;
    if (url[0] == '/' && url[1] == '/')
        return 0; /* scheme-relative: another site, with a scheme we did not check */
    /* no scheme, that is no ':' before the first '/', '?' or '#' */
    for (const char *p = url; *p != '\0' && *p != '/' && *p != '?' && *p != '#'; p++)
        if (*p == ':')
            return 0;
    return 1;
}

/* ---- building the HTML fragments we insert ---- */

struct sbuf {
    char *s;
    size_t len, cap;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 128;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->s = cf_realloc(b->s, cap);
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void sb_str(struct sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static void sb_escaped(struct sbuf *b, const char *s)
{
    for (; *s != '\0'; s++) {
        switch (*s) {
        case '&':
            sb_str(b, "&amp;");
            break;
        case '<':
            sb_str(b, "&lt;");
            break;
        case '>':
            sb_str(b, "&gt;");
            break;
        case '"':
            sb_str(b, "&quot;");
            break;
        case '\'':
            sb_str(b, "&#39;");
            break;
        default:
            sb_add(b, s, 1);
        }
    }
}

static cmark_node *html_inline(const char *html)
{
    cmark_node *n = cmark_node_new(CMARK_NODE_HTML_INLINE);
    cmark_node_set_literal(n, html);
    return n;
}

static cmark_node *text_node(const char *s, size_t len)
{
    char *copy = cf_malloc(len + 1);
    memcpy(copy, s, len);
    copy[len] = '\0';
    cmark_node *n = cmark_node_new(CMARK_NODE_TEXT);
    cmark_node_set_literal(n, copy);
    cf_free(copy);
    return n;
}

/* Replaces a link or image by <a …>children</a>, or by its children alone when
 * its target is not safe. */
static void rewrite_link(cmark_node *node, int image)
{
    const char *url = cmark_node_get_url(node);
    const char *title = cmark_node_get_title(node);
    int safe = cf_markdown_url_safe(url);
    if (safe && image)
        safe = strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0 ||
               url[0] == '/';
    if (safe) {
        struct sbuf b = {0};
        sb_str(&b, "<a href=\"");
        sb_escaped(&b, url);
        sb_str(&b, "\" rel=\"nofollow noopener\"");
        if (image)
            sb_str(&b, " class=\"image-link\"");
        if (title != NULL && title[0] != '\0') {
            sb_str(&b, " title=\"");
            sb_escaped(&b, title);
            sb_str(&b, "\"");
        }
        sb_str(&b, ">");
        cmark_node_insert_before(node, html_inline(b.s));
        cf_free(b.s);
    }
    cmark_node *child;
    while ((child = cmark_node_first_child(node)) != NULL) {
        cmark_node_unlink(child);
        cmark_node_insert_before(node, child);
    }
    if (image && cmark_node_previous(node) != NULL &&
        cmark_node_get_type(cmark_node_previous(node)) == CMARK_NODE_HTML_INLINE && safe)
        cmark_node_insert_before(node, text_node("image", 5)); /* no alt text */
    if (safe)
        cmark_node_insert_before(node, html_inline("</a>"));
    cmark_node_unlink(node);
    cmark_node_free(node);
}

/* Raw HTML from the source becomes text: shown, escaped, never interpreted. */
static void neutralise_html(cmark_node *node)
{
    const char *literal = cmark_node_get_literal(node);
    size_t len = strlen(literal);
    while (len > 0 && (literal[len - 1] == '\n' || literal[len - 1] == '\r'))
        len--;
    cmark_node *text = text_node(literal, len);
    if (cmark_node_get_type(node) == CMARK_NODE_HTML_BLOCK) {
        cmark_node *para = cmark_node_new(CMARK_NODE_PARAGRAPH);
        cmark_node_append_child(para, text);
        text = para;
    }
    cmark_node_replace(node, text);
    cmark_node_free(node);
}

/* ---- mentions ---- */

static int handle_char(int c)
{
    return isalnum(c) || c == '_' || c == '.' || c == '-';
}

/* Finds the next mention in s from *pos: its start ('@') and length (with the '@'). */
static int next_mention(const char *s, size_t *pos, int prev_char, size_t *start, size_t *len)
{
    for (size_t i = *pos; s[i] != '\0'; i++) {
        if (s[i] != '@')
            continue;
        int before = i > 0 ? (unsigned char)s[i - 1] : prev_char;
        if (isalnum(before) || before == '_' || before == '.' || before == '@' || before == '/' ||
            before == '-' || before >= 0x80) {
            continue;
        }
        size_t n = 0;
        if (!isalnum((unsigned char)s[i + 1]))
            continue;
        while (handle_char((unsigned char)s[i + 1 + n]))
            n++;
        while (n > 0 && (s[i + n] == '.' || s[i + n] == '-'))
            n--; /* "@bob." at the end of a sentence */
        if (n < 2 || n > CF_HANDLE_MAX)
            continue;
        *start = i;
        *len = n + 1;
        *pos = i + n + 1;
        return 1;
    }
    return 0;
}

static int prev_text_char(cmark_node *node)
{
    cmark_node *prev = cmark_node_previous(node);
    if (prev == NULL || cmark_node_get_type(prev) != CMARK_NODE_TEXT)
        return ' ';
    const char *lit = cmark_node_get_literal(prev);
    size_t l = strlen(lit);
    return l ? (unsigned char)lit[l - 1] : ' ';
}

static void lower_copy(char *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)s[i]);
    out[n] = '\0';
}

static const struct cf_mention *find_mention(const struct cf_mention *map, size_t n,
                                             const char *handle)
{
    for (size_t i = 0; i < n; i++)
        if (map[i].user_id > 0 && strcmp(map[i].handle, handle) == 0)
            return &map[i];
    return NULL;
}

/* Splits a text node around its resolved mentions. */
static void link_mentions(cmark_node *node, const struct cf_mention *map, size_t n)
{
    const char *lit = cmark_node_get_literal(node);
    size_t pos = 0, start, len;
    int prev = prev_text_char(node);
    while (next_mention(lit, &pos, prev, &start, &len)) {
        char handle[CF_HANDLE_MAX + 1];
        lower_copy(handle, lit + start + 1, len - 1);
        const struct cf_mention *m = find_mention(map, n, handle);
        if (m == NULL)
            continue;
        char *copy = cf_strdup(lit);
        struct sbuf b = {0};
        char id[24];
        snprintf(id, sizeof(id), "%lld", (long long)m->user_id);
        sb_str(&b, "<a class=\"mention\" href=\"/u/");
        sb_str(&b, id);
        sb_str(&b, "\" data-user-id=\"");
        sb_str(&b, id);
        sb_str(&b, "\">@");
        sb_escaped(&b, handle);
        sb_str(&b, "</a>");
        cmark_node *after = text_node(copy + start + len, strlen(copy + start + len));
        cmark_node_insert_after(node, after);
        cmark_node_insert_after(node, html_inline(b.s));
        cf_free(b.s);
        copy[start] = '\0';
        cmark_node_set_literal(node, copy); /* invalidates lit; the rest is in `after` */
        cf_free(copy);
        node = after; /* go on in what follows the mention */
        lit = cmark_node_get_literal(node);
        pos = 0;
        prev = 'a'; /* the handle's last character */
    }
}

size_t cf_markdown_mentions(struct cf_markdown *md, struct cf_mention *out, size_t max)
{
    size_t count = 0;
    int in_link = 0;
    cmark_iter *it = cmark_iter_new(md->doc);
    cmark_event_type ev;
    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        cmark_node *node = cmark_iter_get_node(it);
        cmark_node_type t = cmark_node_get_type(node);
        if (t == CMARK_NODE_LINK || t == CMARK_NODE_IMAGE) {
            in_link += ev == CMARK_EVENT_ENTER ? 1 : -1;
            continue;
        }
        if (t != CMARK_NODE_TEXT || in_link)
            continue;
        const char *lit = cmark_node_get_literal(node);
        size_t pos = 0, start, len;
        int prev = prev_text_char(node);
        while (count < max && next_mention(lit, &pos, prev, &start, &len)) {
            char handle[CF_HANDLE_MAX + 1];
            lower_copy(handle, lit + start + 1, len - 1);
            size_t i = 0;
            while (i < count && strcmp(out[i].handle, handle) != 0)
                i++;
            if (i == count) {
                memcpy(out[count].handle, handle, sizeof(handle));
                out[count].user_id = 0;
                count++;
            }
        }
    }
    cmark_iter_free(it);
    return count;
}

struct node_list {
    cmark_node **v;
    size_t n, cap;
};

static void list_add(struct node_list *l, cmark_node *node)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 32;
        l->v = cf_realloc(l->v, l->cap * sizeof(l->v[0]));
    }
    l->v[l->n++] = node;
}

char *cf_markdown_html(struct cf_markdown *md, const struct cf_mention *map, size_t n)
{
    /* First collect, then change: cmark's iterator must not see nodes move. Links are
     * collected on exit, so a link inside an image's text is rewritten before it. */
    struct node_list links = {0}, raw = {0}, texts = {0};
    int in_link = 0;
    cmark_iter *it = cmark_iter_new(md->doc);
    cmark_event_type ev;
    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        cmark_node *node = cmark_iter_get_node(it);
        switch (cmark_node_get_type(node)) {
        case CMARK_NODE_LINK:
        case CMARK_NODE_IMAGE:
            in_link += ev == CMARK_EVENT_ENTER ? 1 : -1;
            if (ev == CMARK_EVENT_EXIT)
                list_add(&links, node);
            break;
        case CMARK_NODE_HTML_BLOCK:
        case CMARK_NODE_HTML_INLINE:
            list_add(&raw, node);
            break;
        case CMARK_NODE_TEXT:
            if (!in_link && n > 0)
                list_add(&texts, node);
            break;
        default:
            break;
        }
    }
    cmark_iter_free(it);
    for (size_t i = 0; i < raw.n; i++)
        neutralise_html(raw.v[i]);
    for (size_t i = 0; i < texts.n; i++)
        link_mentions(texts.v[i], map, n);
    for (size_t i = 0; i < links.n; i++)
        rewrite_link(links.v[i], cmark_node_get_type(links.v[i]) == CMARK_NODE_IMAGE);
    cf_free(links.v);
    cf_free(raw.v);
    cf_free(texts.v);
    /* Every raw HTML node left is one of ours. */
    char *html = cmark_render_html(md->doc, CMARK_OPT_UNSAFE | CMARK_OPT_HARDBREAKS);
    char *out = cf_strdup(html);
    free(html);
    return out;
}

char *cf_markdown_render(const char *text, size_t len)
{
    struct cf_markdown *md = cf_markdown_parse(text, len);
    if (md == NULL)
        return NULL;
    char *html = cf_markdown_html(md, NULL, 0);
    cf_markdown_free(md);
    return html;
}
