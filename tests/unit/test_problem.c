/* Unit tests of server/problem.c: the problem+json shape of SPEC section 4. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "problem.h"

static void problem_has_every_field_of_the_contract(void **state)
{
    (void)state;
    json_t *p = cf_problem_new(422, "validation_failed", "title is too long", NULL);
    assert_string_equal(json_string_value(json_object_get(p, "type")), "about:blank");
    assert_string_equal(json_string_value(json_object_get(p, "title")), "Unprocessable Content");
    assert_int_equal(json_integer_value(json_object_get(p, "status")), 422);
    assert_string_equal(json_string_value(json_object_get(p, "code")), "validation_failed");
    assert_string_equal(json_string_value(json_object_get(p, "detail")), "title is too long");
    assert_null(json_object_get(p, "errors"));
    json_decref(p);
}

static void field_errors_are_carried(void **state)
{
    (void)state;
    json_t *errors = json_pack("[{s:s,s:s,s:s}]", "field", "title", "code", "too_long", "message",
                               "at most 200 characters");
    json_t *p = cf_problem_new(422, "validation_failed", NULL, errors);
    json_t *e = json_object_get(p, "errors");
    assert_true(json_is_array(e));
    assert_int_equal(json_array_size(e), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(e, 0), "field")), "title");
    assert_null(json_object_get(p, "detail"));
    json_decref(p);
}

static void titles_follow_the_status(void **state)
{
    (void)state;
    assert_string_equal(cf_status_title(404), "Not Found");
    assert_string_equal(cf_status_title(405), "Method Not Allowed");
    assert_string_equal(cf_status_title(413), "Content Too Large");
    assert_string_equal(cf_status_title(415), "Unsupported Media Type");
    assert_string_equal(cf_status_title(503), "Service Unavailable");
    assert_string_equal(cf_status_title(599), "Error");
}

static void error_set_formats_detail_and_returns_failure(void **state)
{
    struct cf_error err;
    (void)state;
    assert_int_equal(cf_error_set(&err, 409, "edit_conflict", "version %d is stale", 3), -1);
    assert_int_equal(err.status, 409);
    assert_string_equal(err.code, "edit_conflict");
    assert_string_equal(err.detail, "version 3 is stale");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(problem_has_every_field_of_the_contract),
        cmocka_unit_test(field_errors_are_carried),
        cmocka_unit_test(titles_follow_the_status),
        cmocka_unit_test(error_set_formats_detail_and_returns_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
