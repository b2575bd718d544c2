/* Unit tests of server/uri.c: path normalisation, query strings, UTF-8. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "uri.h"

static int norm(const char *in, char *out)
{
    return cf_path_normalize(in, strlen(in), out, 256);
}

static void plain_paths_are_unchanged(void **state)
{
    char out[256];
    (void)state;
    assert_int_equal(norm("/", out), CF_URI_OK);
    assert_string_equal(out, "/");
    assert_int_equal(norm("/api/v1/threads/12", out), CF_URI_OK);
    assert_string_equal(out, "/api/v1/threads/12");
    assert_int_equal(norm("/css/", out), CF_URI_OK);
    assert_string_equal(out, "/css/");
}

static void escapes_are_decoded_and_slashes_folded(void **state)
{
    char out[256];
    (void)state;
    assert_int_equal(norm("/a%20b//c", out), CF_URI_OK);
    assert_string_equal(out, "/a b/c");
    assert_int_equal(norm("/caf%C3%A9", out), CF_URI_OK);
    assert_string_equal(out, "/caf\xc3\xa9");
}

static void dot_segments_are_traversal_in_any_spelling(void **state)
{
    char out[256];
    (void)state;
    assert_int_equal(norm("/../etc/passwd", out), CF_URI_TRAVERSAL);
    assert_int_equal(norm("/a/../../etc/passwd", out), CF_URI_TRAVERSAL);
    assert_int_equal(norm("/%2e%2e/etc/passwd", out), CF_URI_TRAVERSAL);
    assert_int_equal(norm("/%2E%2E%2fetc%2fpasswd", out), CF_URI_TRAVERSAL);
    assert_int_equal(norm("/.%2e/x", out), CF_URI_TRAVERSAL);
    assert_int_equal(norm("/./index.html", out), CF_URI_TRAVERSAL);
    assert_int_equal(norm("/a/..", out), CF_URI_TRAVERSAL);
    assert_int_equal(norm("/..%5c..%5cwindows", out), CF_URI_TRAVERSAL);
    /* names that merely contain dots are fine */
    assert_int_equal(norm("/app.js", out), CF_URI_OK);
    assert_int_equal(norm("/...", out), CF_URI_OK);
    assert_int_equal(norm("/.well-known/x", out), CF_URI_OK);
}

static void malformed_paths_are_bad(void **state)
{
    char out[256];
    (void)state;
    assert_int_equal(norm("", out), CF_URI_BAD);
    assert_int_equal(norm("relative", out), CF_URI_BAD);
    assert_int_equal(norm("/a%00b", out), CF_URI_BAD);
    assert_int_equal(norm("/a%zz", out), CF_URI_BAD);
    assert_int_equal(norm("/a%4", out), CF_URI_BAD);
    assert_int_equal(norm("/a%", out), CF_URI_BAD);
    assert_int_equal(norm("/%c0%ae%c0%ae/", out), CF_URI_BAD); /* overlong "." */
    assert_int_equal(norm("/%ff", out), CF_URI_BAD);
    assert_int_equal(norm("/a%0ab", out), CF_URI_BAD);
    assert_int_equal(norm("/a b", out), CF_URI_BAD);
}

static void utf8_validation(void **state)
{
    (void)state;
    assert_true(cf_utf8_valid("plain", 5));
    assert_true(cf_utf8_valid("\xc3\xa9t\xc3\xa9", 6));
    assert_true(cf_utf8_valid("\xf0\x9f\x99\x82", 4));
    assert_false(cf_utf8_valid("\xc0\xaf", 2));         /* overlong '/' */
    assert_false(cf_utf8_valid("\xe0\x80\xaf", 3));     /* overlong '/' */
    assert_false(cf_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    assert_false(cf_utf8_valid("\xf4\x90\x80\x80", 4)); /* past U+10FFFF */
    assert_false(cf_utf8_valid("\xc3", 1));             /* truncated */
    assert_false(cf_utf8_valid("\x80", 1));             /* lone continuation */
}

static void query_parameters_are_decoded(void **state)
{
    struct cf_query q;
    (void)state;
    assert_int_equal(cf_query_parse("q=chronic+pain&limit=30&tag=caf%C3%A9&empty=&flag", &q),
                     CF_URI_OK);
    assert_int_equal(q.count, 5);
    assert_string_equal(cf_query_get(&q, "q"), "chronic pain");
    assert_string_equal(cf_query_get(&q, "limit"), "30");
    assert_string_equal(cf_query_get(&q, "tag"), "caf\xc3\xa9");
    assert_string_equal(cf_query_get(&q, "empty"), "");
    assert_string_equal(cf_query_get(&q, "flag"), "");
    assert_null(cf_query_get(&q, "missing"));
    cf_query_free(&q);
}

static void empty_and_missing_query_strings(void **state)
{
    struct cf_query q;
    (void)state;
    assert_int_equal(cf_query_parse(NULL, &q), CF_URI_OK);
    assert_int_equal(q.count, 0);
    assert_int_equal(cf_query_parse("", &q), CF_URI_OK);
    assert_int_equal(q.count, 0);
    assert_int_equal(cf_query_parse("&&a=1&&", &q), CF_URI_OK);
    assert_int_equal(q.count, 1);
    cf_query_free(&q);
}

static void bad_queries_are_refused(void **state)
{
    struct cf_query q;
    (void)state;
    assert_int_equal(cf_query_parse("a=1&a=2", &q), CF_URI_DUPLICATE);
    cf_query_free(&q);
    assert_int_equal(cf_query_parse("a=%00", &q), CF_URI_BAD);
    cf_query_free(&q);
    assert_int_equal(cf_query_parse("a=%ff", &q), CF_URI_BAD);
    cf_query_free(&q);
    assert_int_equal(cf_query_parse("a=%g1", &q), CF_URI_BAD);
    cf_query_free(&q);
    assert_int_equal(cf_query_parse("a=%01", &q), CF_URI_BAD);
    cf_query_free(&q);
    char many[CF_QUERY_MAX_PARAMS * 8 + 16] = "";
    for (int i = 0; i <= CF_QUERY_MAX_PARAMS; i++) {
        char one[16];
        snprintf(one, sizeof(one), "k%d=1&", i);
        strcat(many, one);
    }
    assert_int_equal(cf_query_parse(many, &q), CF_URI_TOO_MANY);
    cf_query_free(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_paths_are_unchanged),
        cmocka_unit_test(escapes_are_decoded_and_slashes_folded),
        cmocka_unit_test(dot_segments_are_traversal_in_any_spelling),
        cmocka_unit_test(malformed_paths_are_bad),
        cmocka_unit_test(utf8_validation),
        cmocka_unit_test(query_parameters_are_decoded),
        cmocka_unit_test(empty_and_missing_query_strings),
        cmocka_unit_test(bad_queries_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
