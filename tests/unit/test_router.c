/* Unit tests of server/router.c: matching, parameters, 404 and 405 with Allow. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "router.h"

static void h(struct cf_request *req)
{
    (void)req;
}

static const struct cf_route routes[] = {
    {CF_GET, "/healthz", h, CF_AUTH_NONE, 0},
    {CF_GET, "/api/v1/threads", h, CF_AUTH_USER, 0},
    {CF_POST, "/api/v1/threads", h, CF_AUTH_USER, CF_ROUTE_JSON_BODY},
    {CF_GET, "/api/v1/threads/{id}", h, CF_AUTH_USER, 0},
    {CF_PATCH, "/api/v1/threads/{id}", h, CF_AUTH_USER, CF_ROUTE_JSON_BODY},
    {CF_PUT, "/api/v1/posts/{id}/reactions/{name}", h, CF_AUTH_USER, 0},
    {CF_DELETE, "/api/v1/sessions/current", h, CF_AUTH_USER, 0},
    {CF_PUT, "/api/v1/groups/{id}/members/{user_id}", h, CF_AUTH_USER, 0},
};
#define N (sizeof(routes) / sizeof(routes[0]))

static void exact_literal_path_matches_its_route(void **state)
{
    struct cf_route_match m;
    (void)state;
    assert_int_equal(cf_router_match(routes, N, CF_GET, "/healthz", &m), 0);
    assert_ptr_equal(m.route, &routes[0]);
    assert_int_equal(m.index, 0);
    assert_int_equal(m.nparams, 0);
}

static void method_selects_between_routes_of_one_path(void **state)
{
    struct cf_route_match m;
    (void)state;
    assert_int_equal(cf_router_match(routes, N, CF_POST, "/api/v1/threads", &m), 0);
    assert_ptr_equal(m.route, &routes[2]);
    assert_int_equal(cf_router_match(routes, N, CF_GET, "/api/v1/threads", &m), 0);
    assert_ptr_equal(m.route, &routes[1]);
}

static void id_parameter_is_parsed(void **state)
{
    struct cf_route_match m;
    (void)state;
    assert_int_equal(cf_router_match(routes, N, CF_GET, "/api/v1/threads/12345", &m), 0);
    assert_ptr_equal(m.route, &routes[3]);
    assert_int_equal(m.nparams, 1);
    assert_int_equal(m.params[0].id, 12345);
}

static void id_parameter_refuses_non_numbers_zero_and_overflow(void **state)
{
    struct cf_route_match m;
    (void)state;
    assert_int_equal(cf_router_match(routes, N, CF_GET, "/api/v1/threads/abc", &m), 404);
    assert_int_equal(cf_router_match(routes, N, CF_GET, "/api/v1/threads/0", &m), 404);
    assert_int_equal(cf_router_match(routes, N, CF_GET, "/api/v1/threads/007", &m), 404);
    assert_int_equal(cf_router_match(routes, N, CF_GET, "/api/v1/threads/-1", &m), 404);
    assert_int_equal(cf_router_match(routes, N, CF_GET, "/api/v1/threads/1e3", &m), 404);
    assert_int_equal(cf_router_match(routes, N, CF_GET, "/api/v1/threads/99999999999999999999", &m),
                     404);
    /* 2^53 is the largest id a JSON client can hold exactly. */
    assert_int_equal(cf_router_match(routes, N, CF_GET, "/api/v1/threads/9007199254740992", &m), 0);
    assert_int_equal(cf_router_match(routes, N, CF_GET, "/api/v1/threads/9007199254740993", &m),
                     404);
}

static void named_id_parameters_are_ids_too(void **state)
{
    struct cf_route_match m;
    (void)state;
    assert_int_equal(cf_router_match(routes, N, CF_PUT, "/api/v1/groups/3/members/42", &m), 0);
    assert_int_equal(m.nparams, 2);
    assert_int_equal(m.params[0].id, 3);
    assert_int_equal(m.params[1].id, 42);
    assert_int_equal(cf_router_match(routes, N, CF_PUT, "/api/v1/groups/3/members/abc", &m), 404);
    assert_int_equal(cf_router_match(routes, N, CF_PUT, "/api/v1/groups/3/members/0", &m), 404);
}

static void name_parameter_takes_any_segment(void **state)
{
    struct cf_route_match m;
    (void)state;
    assert_int_equal(cf_router_match(routes, N, CF_PUT, "/api/v1/posts/7/reactions/helpful", &m),
                     0);
    assert_int_equal(m.nparams, 2);
    assert_int_equal(m.params[0].id, 7);
    assert_int_equal(m.params[1].len, strlen("helpful"));
    assert_memory_equal(m.params[1].start, "helpful", 7);
}

static void wrong_method_answers_405_with_allow(void **state)
{
    struct cf_route_match m;
    char allow[64];
    (void)state;
    assert_int_equal(cf_router_match(routes, N, CF_DELETE, "/api/v1/threads/5", &m), 405);
    cf_router_allow_header(m.allow, allow, sizeof(allow));
    assert_string_equal(allow, "GET, HEAD, PATCH, OPTIONS");
    assert_int_equal(cf_router_match(routes, N, CF_GET, "/api/v1/sessions/current", &m), 405);
    cf_router_allow_header(m.allow, allow, sizeof(allow));
    assert_string_equal(allow, "DELETE, OPTIONS");
}

static void head_is_served_by_get_routes(void **state)
{
    struct cf_route_match m;
    (void)state;
    assert_int_equal(cf_router_match(routes, N, CF_HEAD, "/healthz", &m), 0);
    assert_ptr_equal(m.route, &routes[0]);
}

static void unknown_paths_answer_404(void **state)
{
    struct cf_route_match m;
    (void)state;
    assert_int_equal(cf_router_match(routes, N, CF_GET, "/api/v1/nothing", &m), 404);
    assert_int_equal(cf_router_match(routes, N, CF_GET, "/healthz/", &m), 404);
    assert_int_equal(cf_router_match(routes, N, CF_GET, "/api/v1/threads/5/extra", &m), 404);
    assert_int_equal(cf_router_match(routes, N, CF_GET, "/api/v1/threads/", &m), 404);
    assert_int_equal(cf_router_match(routes, N, CF_GET, "/", &m), 404);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exact_literal_path_matches_its_route),
        cmocka_unit_test(method_selects_between_routes_of_one_path),
        cmocka_unit_test(id_parameter_is_parsed),
        cmocka_unit_test(id_parameter_refuses_non_numbers_zero_and_overflow),
        cmocka_unit_test(named_id_parameters_are_ids_too),
        cmocka_unit_test(name_parameter_takes_any_segment),
        cmocka_unit_test(wrong_method_answers_405_with_allow),
        cmocka_unit_test(head_is_served_by_get_routes),
        cmocka_unit_test(unknown_paths_answer_404),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
