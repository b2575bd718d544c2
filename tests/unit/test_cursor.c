/* Unit tests of server/cursor.c: keyset cursors written by PostgreSQL's cf_cursor_of
 * (base64url of integers joined by dots) and read back here. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cursor.h"

static void cursors_written_by_postgresql_read_back(void **state)
{
    (void)state;
    int64_t v[CF_CURSOR_MAX_PARTS];
    /* SELECT cf_cursor_of(ARRAY[0, 1789994696608138, 10001]) */
    assert_int_equal(cf_cursor_decode("MC4xNzg5OTk0Njk2NjA4MTM4LjEwMDAx", v, 3), 3);
    assert_int_equal(v[0], 0);
    assert_int_equal(v[1], 1789994696608138LL);
    assert_int_equal(v[2], 10001);
    /* SELECT cf_cursor_of(ARRAY[2]) is "Mg"; ARRAY[-5, 7] is "LTUuNw" */
    assert_int_equal(cf_cursor_decode("Mg", v, 1), 1);
    assert_int_equal(v[0], 2);
    assert_int_equal(cf_cursor_decode("LTUuNw", v, 2), 2);
    assert_int_equal(v[0], -5);
    assert_int_equal(v[1], 7);
}

static void anything_else_is_refused(void **state)
{
    (void)state;
    int64_t v[CF_CURSOR_MAX_PARTS];
    static const char *const bad[] = {
        "",                           /* empty */
        "not-a-cursor!",              /* outside the alphabet */
        "Mg==",                       /* padded */
        "AAAA",                       /* three NUL bytes */
        "YWJj",                       /* "abc" */
        "MS4",                        /* "1." */
        "LjE",                        /* ".1" */
        "MS4uMg",                     /* "1..2" */
        "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ", /* 19 digits */
        "Mh",                         /* leftover bits set */
        "M",                          /* one character */
        "MSAy",                       /* "1 2" */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (cf_cursor_decode(bad[i], v, 8) != -1)
            fail_msg("accepted %s", bad[i]);
    /* more parts than asked for */
    assert_int_equal(cf_cursor_decode("MS4yLjM", v, 2), -1);
    assert_int_equal(cf_cursor_decode("MS4yLjM", v, 3), 3);
    char longer[2000];
    memset(longer, 'M', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    assert_int_equal(cf_cursor_decode(longer, v, 64), -1);
}

static void arrays_are_written_for_postgresql(void **state)
{
    (void)state;
    int64_t v[] = {1, -2, 9223372036854775807LL};
    char out[64];
    assert_int_equal(cf_cursor_array(v, 3, out, sizeof(out)), 0);
    assert_string_equal(out, "{1,-2,9223372036854775807}");
    assert_int_equal(cf_cursor_array(v, 0, out, sizeof(out)), 0);
    assert_string_equal(out, "{}");
    assert_int_equal(cf_cursor_array(v, 3, out, 10), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cursors_written_by_postgresql_read_back),
        cmocka_unit_test(anything_else_is_refused),
        cmocka_unit_test(arrays_are_written_for_postgresql),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
