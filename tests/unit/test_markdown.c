/* Unit tests of server/markdown.c: CommonMark rendered safe, and @mentions. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "alloc.h"
#include "markdown.h"

static char *render(const char *md)
{
    char *html = cf_markdown_render(md, strlen(md));
    assert_non_null(html);
    return html;
}

/* Asserts that md renders to exactly want. */
static void renders(const char *md, const char *want)
{
    char *html = render(md);
    if (strcmp(html, want) != 0)
        fail_msg("markdown %s\n   gave %s\nwanted %s", md, html, want);
    cf_free(html);
}

/* Asserts that the rendering of md contains none of the needles (case-insensitive). */
static void never_contains(const char *md, const char *const *needles)
{
    char *html = render(md);
    for (char *p = html; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    for (size_t i = 0; needles[i] != NULL; i++)
        if (strstr(html, needles[i]) != NULL)
            fail_msg("markdown %s\n   gave %s\ncontaining %s", md, html, needles[i]);
    cf_free(html);
}

/* Every tag in html is one cmark or we write, and no tag has an event attribute. */
static void only_safe_tags(const char *md)
{
    static const char *const allowed[] = {"p>",
                                          "br />",
                                          "em>",
                                          "strong>",
                                          "code>",
                                          "pre>",
                                          "ul>",
                                          "ol>",
                                          "li>",
                                          "h1>",
                                          "h2>",
                                          "h3>",
                                          "h4>",
                                          "h5>",
                                          "h6>",
                                          "blockquote>",
                                          "hr />",
                                          "a href=\"",
                                          "a class=\"mention\"",
                                          "code class=\"language-",
                                          "ol start=\"",
                                          "/",
                                          NULL};
    char *html = render(md);
    for (const char *p = strchr(html, '<'); p != NULL; p = strchr(p + 1, '<')) {
        size_t i = 0;
        while (allowed[i] != NULL && strncmp(p + 1, allowed[i], strlen(allowed[i])) != 0)
            i++;
        const char *end = strchr(p, '>');
        assert_non_null(end);
        if (allowed[i] == NULL || memchr(p, '\'', (size_t)(end - p)) != NULL)
            fail_msg("markdown %s\n   gave %s\nwith tag %.40s", md, html, p);
        /* attributes: only href, rel, class, title, data-user-id */
        for (const char *q = p; q < end; q++)
            if (*q == ' ' && q[1] != '/' && strncmp(q + 1, "href=", 5) != 0 &&
                strncmp(q + 1, "rel=", 4) != 0 && strncmp(q + 1, "class=", 6) != 0 &&
                strncmp(q + 1, "title=", 6) != 0 && strncmp(q + 1, "data-user-id=", 13) != 0 &&
                strncmp(q + 1, "noopener", 8) != 0) {
                const char *quote = memchr(p, '"', (size_t)(q - p));
                int inside = 0;
                for (const char *r = p; r < q; r++)
                    inside ^= *r == '"';
                if (!inside || quote == NULL)
                    fail_msg("markdown %s\n   gave %s\nwith attribute %.40s", md, html, q);
            }
    }
    cf_free(html);
}

static void commonmark_renders(void **state)
{
    (void)state;
    renders("Hello *world*", "<p>Hello <em>world</em></p>\n");
    renders("# Plan\n\n- taper\n- review", "<h1>Plan</h1>\n<ul>\n<li>taper</li>\n<li>review</li>\n"
                                           "</ul>\n");
    renders("line one\nline two", "<p>line one<br />\nline two</p>\n");
    renders("`<b>`", "<p><code>&lt;b&gt;</code></p>\n");
}

static void raw_html_is_shown_as_text(void **state)
{
    (void)state;
    renders("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n");
    renders("a <b onclick=\"x()\">b</b>",
            "<p>a &lt;b onclick=&quot;x()&quot;&gt;b&lt;/b&gt;</p>\n");
    only_safe_tags("<img src=x onerror=alert(1)>");
    only_safe_tags("<div>\n<iframe src=\"https://evil.example\"></iframe>\n</div>");
    only_safe_tags("<svg/onload=alert(1)>");
    only_safe_tags("text <!-- comment --> <?php x ?> <![CDATA[ y ]]>");
    only_safe_tags("[x](https://a.ca \"t\" onmouseover=\"alert(1)\")");
    only_safe_tags("[x](https://a.ca\"onmouseover=\"alert(1))");
    only_safe_tags("[x](<https://a.ca\" onmouseover=\"alert(1)>)");
    only_safe_tags("![x\" onerror=\"alert(1)](https://a.ca/i.png)");
}

static void links_are_filtered_and_marked(void **state)
{
    (void)state;
    renders("[guide](https://example.ca/a?b=1&c=2)",
            "<p><a href=\"https://example.ca/a?b=1&amp;c=2\" rel=\"nofollow noopener\">guide</a>"
            "</p>\n");
    renders("<https://example.ca>", "<p><a href=\"https://example.ca\" rel=\"nofollow noopener\">"
                                    "https://example.ca</a></p>\n");
    renders("[rel](/threads/4)",
            "<p><a href=\"/threads/4\" rel=\"nofollow noopener\">rel</a></p>\n");
    renders("[x](javascript:alert(1))", "<p>x</p>\n");
    renders("[x](data:text/html;base64,PHNjcmlwdD4=)", "<p>x</p>\n");
    /* The text of an unsafe link may stay; no href may carry its target. */
    static const char *const bad[] = {"href=\"javascript", "href=\"data:", "href=\"vbscript",
                                      "href=\"//",         "href=\"java",  NULL};
    never_contains("[x](JaVaScRiPt:alert(1))", bad);
    never_contains("[x](jav&#x61;script:alert(1))", bad);
    never_contains("[x](&#106;avascript:alert(1))", bad);
    never_contains("[x](<javascript:alert(1)>)", bad);
    never_contains("<javascript:alert(1)>", bad);
    renders("<javascript:alert(1)>", "<p>javascript:alert(1)</p>\n");
    never_contains("[x]: javascript:alert(1)\n\n[y][x]", bad);
    never_contains("![x](data:image/png;base64,iVBORw0KGgo=)", bad);
    never_contains("[x](vbscript:msgbox)", bad);
    never_contains("[x](//evil.example/a)", bad);
    never_contains("[x](java\tscript:alert(1))", bad);
    renders("[t](https://a.ca \"say \\\"hi\\\"\")",
            "<p><a href=\"https://a.ca\" rel=\"nofollow noopener\" title=\"say &quot;hi&quot;\">t"
            "</a></p>\n");
}

static void images_become_links(void **state)
{
    (void)state;
    renders("![scan](https://example.ca/x.png)",
            "<p><a href=\"https://example.ca/x.png\" rel=\"nofollow noopener\" "
            "class=\"image-link\">scan</a></p>\n");
    renders("![](https://example.ca/x.png)",
            "<p><a href=\"https://example.ca/x.png\" rel=\"nofollow noopener\" "
            "class=\"image-link\">image</a></p>\n");
    renders("![alt](mailto:a@b.ca)", "<p>alt</p>\n");
    static const char *const bad[] = {"<img", "<a href=\"javascript", NULL};
    never_contains("![a [b](javascript:x)](https://example.ca/i.png)", bad);
}

static void urls_are_judged(void **state)
{
    (void)state;
    assert_true(cf_markdown_url_safe("https://example.ca"));
    assert_true(cf_markdown_url_safe("HTTP://example.ca"));
    assert_true(cf_markdown_url_safe("mailto:a@b.ca"));
    assert_true(cf_markdown_url_safe("/threads/1#post-2"));
    assert_true(cf_markdown_url_safe("page.html?x=a:b"));
    assert_true(cf_markdown_url_safe("#top"));
    assert_false(cf_markdown_url_safe(""));
    assert_false(cf_markdown_url_safe("https://"));
    assert_false(cf_markdown_url_safe("javascript:x"));
    assert_false(cf_markdown_url_safe("data:text/html,x"));
    assert_false(cf_markdown_url_safe("file:///etc/passwd"));
    assert_false(cf_markdown_url_safe("//evil.example"));
    assert_false(cf_markdown_url_safe("java%0ascript:x"));
    /* what browsers would read as //evil.example: another site behind a relative look */
    assert_false(cf_markdown_url_safe("/\\evil.example/x"));
    assert_false(cf_markdown_url_safe("/\t/evil.example/"));
    assert_false(cf_markdown_url_safe("/\n/evil.example/"));
    assert_false(cf_markdown_url_safe("a/b\\c"));
    assert_true(cf_markdown_url_safe("/threads/1?q=a%5Cb"));
}

static void mentions_are_found_outside_code_and_links(void **state)
{
    (void)state;
    const char *md = "Thanks @Dr.Chen and @amelie-roy, cc @dr.chen.\n\n"
                     "`@incode` [@inlink](/x) mail a@b.ca @x @"
                     "ok_2";
    struct cf_markdown *m = cf_markdown_parse(md, strlen(md));
    struct cf_mention found[CF_MENTIONS_MAX];
    size_t n = cf_markdown_mentions(m, found, CF_MENTIONS_MAX);
    assert_int_equal(n, 3);
    assert_string_equal(found[0].handle, "dr.chen");
    assert_string_equal(found[1].handle, "amelie-roy");
    assert_string_equal(found[2].handle, "ok_2");
    /* Only resolved handles become links. */
    found[0].user_id = 7;
    found[1].user_id = 0;
    found[2].user_id = 12;
    char *html = cf_markdown_html(m, found, n);
    assert_non_null(strstr(html, "Thanks <a class=\"mention\" href=\"/u/7\" data-user-id=\"7\">"
                                 "@dr.chen</a> and @amelie-roy, cc <a class=\"mention\" "
                                 "href=\"/u/7\" data-user-id=\"7\">@dr.chen</a>."));
    assert_non_null(strstr(html, "<code>@incode</code>"));
    assert_non_null(strstr(html, ">@inlink</a>"));
    assert_null(strstr(html, "/u/0"));
    assert_non_null(strstr(html, "a@b.ca"));
    assert_non_null(strstr(html, "data-user-id=\"12\">@ok_2</a>"));
    cf_free(html);
    cf_markdown_free(m);
}

static void hostile_input_stays_bounded(void **state)
{
    (void)state;
    /* deep nesting and long runs: cmark is linear; this must not crash or blow up */
    size_t n = 50000;
    char *md = malloc(n + 1);
    memset(md, '>', n);
    md[n] = '\0';
    char *html = render(md);
    cf_free(html);
    memset(md, '[', n);
    html = render(md);
    cf_free(html);
    for (size_t i = 0; i < n; i++)
        md[i] = "*_`[]()!<>@&#\\\n"[i % 15];
    only_safe_tags(md);
    free(md);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(commonmark_renders),
        cmocka_unit_test(raw_html_is_shown_as_text),
        cmocka_unit_test(links_are_filtered_and_marked),
        cmocka_unit_test(images_become_links),
        cmocka_unit_test(urls_are_judged),
        cmocka_unit_test(mentions_are_found_outside_code_and_links),
        cmocka_unit_test(hostile_input_stays_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
