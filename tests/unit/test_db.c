/*
 * Tests of server/db.c against a real PostgreSQL (CONFER_TEST_DATABASE_URL,
 * set by scripts/test): the pool's event-loop driving, the multi-statement
 * transaction helper (all or nothing), SQLSTATE mapping, pipelining order,
 * and failing fast when the database cannot be reached.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <event2/event.h>
#include <libpq-fe.h>

#include "db.h"

static const char *url;

struct outcome {
    int calls;
    int ok;
    int status;
    char sqlstate[6];
    char value[64];
    int order[200];
    int norder;
};

struct loop {
    struct event_base *base;
    struct cf_db_pool *pool;
    int pending;
};

static struct loop L;
static struct outcome O;

static void on_result(struct cf_db_result *r, void *arg)
{
    struct outcome *o = &O;
    o->calls++;
    o->ok = r->ok;
    o->status = r->status;
    snprintf(o->sqlstate, sizeof(o->sqlstate), "%s", r->sqlstate);
    o->value[0] = '\0';
    if (r->ok && r->res[0] != NULL && PQntuples(r->res[0]) > 0)
        snprintf(o->value, sizeof(o->value), "%s", PQgetvalue(r->res[0], 0, 0));
    if (o->norder < 200)
        o->order[o->norder++] = (int)(intptr_t)arg;
    if (--L.pending == 0)
        event_base_loopbreak(L.base);
}

static void run_until_done(void)
{
    struct timeval limit = {20, 0};
    event_base_loopexit(L.base, &limit);
    event_base_dispatch(L.base);
}

static void blocking_sql(const char *sql)
{
    PGconn *c = PQconnectdb(url);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *r = PQexec(c, sql);
    assert_true(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK);
    PQclear(r);
    PQfinish(c);
}

static int setup(void **state)
{
    (void)state;
    blocking_sql("DROP TABLE IF EXISTS cf_test_db; CREATE TABLE cf_test_db (k int PRIMARY KEY)");
    L.base = event_base_new();
    struct cf_db_pool_options opts = {.conninfo = url,
                                      .connections = 2,
                                      .pipeline = 8,
                                      .queue_max = 1000,
                                      .queue_timeout_ms = 5000};
    L.pool = cf_db_pool_create(L.base, &opts);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    cf_db_pool_free(L.pool);
    event_base_free(L.base);
    blocking_sql("DROP TABLE IF EXISTS cf_test_db");
    return 0;
}

static struct cf_db_stmt q_insert = CF_DB_STMT("t_insert", "INSERT INTO cf_test_db VALUES ($1)", 1);
static struct cf_db_stmt q_count =
    CF_DB_STMT("t_count", "SELECT count(*) FROM cf_test_db WHERE k = ANY($1::int[])", 1);
static struct cf_db_stmt q_echo = CF_DB_STMT("t_echo", "SELECT $1::text", 1);
static struct cf_db_stmt q_bad = CF_DB_STMT("t_bad", "SELEC nonsense", 0);
static struct cf_db_stmt q_div = CF_DB_STMT("t_div", "SELECT 1 / 0", 0);

static void count_keys(const char *keys)
{
    memset(&O, 0, sizeof(O));
    const char *p[] = {keys};
    L.pending = 1;
    cf_db_query(L.pool, &q_count, p, on_result, NULL);
    run_until_done();
    assert_int_equal(O.calls, 1);
    assert_true(O.ok);
}

static void a_query_returns_its_rows(void **state)
{
    (void)state;
    memset(&O, 0, sizeof(O));
    const char *p[] = {"bonjour, été"};
    L.pending = 1;
    cf_db_query(L.pool, &q_echo, p, on_result, NULL);
    run_until_done();
    assert_int_equal(O.calls, 1);
    assert_true(O.ok);
    assert_string_equal(O.value, "bonjour, été");
}

static void a_failing_statement_rolls_back_its_whole_job(void **state)
{
    (void)state;
    struct cf_db_call calls[2];
    memset(calls, 0, sizeof(calls));
    calls[0].stmt = &q_insert;
    calls[0].params[0] = "1";
    calls[1].stmt = &q_insert;
    calls[1].params[0] = "1"; /* duplicate key: the job fails */
    memset(&O, 0, sizeof(O));
    L.pending = 1;
    cf_db_exec(L.pool, calls, 2, on_result, NULL);
    run_until_done();
    assert_int_equal(O.calls, 1);
    assert_false(O.ok);
    assert_int_equal(O.status, 409);
    assert_string_equal(O.sqlstate, "23505");
    count_keys("{1}");
    assert_string_equal(O.value, "0"); /* the first insert did not survive */
}

static void a_successful_job_commits_every_statement(void **state)
{
    (void)state;
    struct cf_db_call calls[3];
    memset(calls, 0, sizeof(calls));
    calls[0].stmt = &q_insert;
    calls[0].params[0] = "2";
    calls[1].stmt = &q_insert;
    calls[1].params[0] = "3";
    calls[2].stmt = &q_count;
    calls[2].params[0] = "{2,3}";
    memset(&O, 0, sizeof(O));
    L.pending = 1;
    cf_db_exec(L.pool, calls, 3, on_result, NULL);
    run_until_done();
    assert_true(O.ok);
    count_keys("{2,3}");
    assert_string_equal(O.value, "2");
}

static void errors_map_by_sqlstate_and_the_connection_survives(void **state)
{
    (void)state;
    memset(&O, 0, sizeof(O));
    L.pending = 1;
    cf_db_query(L.pool, &q_bad, NULL, on_result, NULL);
    run_until_done();
    assert_false(O.ok);
    assert_int_equal(O.status, 500);
    assert_string_equal(O.sqlstate, "42601"); /* syntax error, at prepare time */
    memset(&O, 0, sizeof(O));
    L.pending = 1;
    cf_db_query(L.pool, &q_div, NULL, on_result, NULL);
    run_until_done();
    assert_false(O.ok);
    assert_string_equal(O.sqlstate, "22012");
    a_query_returns_its_rows(state);
}

static void many_jobs_complete_once_each_in_order_per_submission(void **state)
{
    (void)state;
    memset(&O, 0, sizeof(O));
    L.pending = 150;
    for (int i = 0; i < 150; i++) {
        char v[16];
        snprintf(v, sizeof(v), "%d", i);
        const char *p[] = {v};
        cf_db_query(L.pool, &q_echo, p, on_result, (void *)(intptr_t)i);
    }
    run_until_done();
    assert_int_equal(O.calls, 150);
    /* every job answered exactly once */
    int seen[150] = {0};
    for (int i = 0; i < O.norder; i++)
        seen[O.order[i]]++;
    for (int i = 0; i < 150; i++)
        assert_int_equal(seen[i], 1);
    struct cf_db_stats st;
    cf_db_pool_stats(L.pool, &st);
    assert_int_equal(st.inflight, 0);
    assert_int_equal(st.queued, 0);
    assert_int_equal(st.ready, 2);
}

static void a_job_without_callback_still_runs(void **state)
{
    (void)state;
    const char *p[] = {"77"};
    cf_db_query(L.pool, &q_insert, p, NULL, NULL); /* fire and forget */
    /* it may run on the other connection: look until it has committed (bounded) */
    for (int i = 0; i < 200; i++) {
        count_keys("{77}");
        if (strcmp(O.value, "1") == 0)
            break;
    }
    assert_string_equal(O.value, "1");
}

static void an_unreachable_database_fails_jobs_with_503(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    struct cf_db_pool_options opts = {.conninfo = "postgresql://confer@127.0.0.1:1/none",
                                      .connections = 1,
                                      .pipeline = 4,
                                      .queue_max = 10,
                                      .queue_timeout_ms = 2000};
    struct loop saved = L;
    L.base = base;
    L.pool = cf_db_pool_create(base, &opts);
    memset(&O, 0, sizeof(O));
    const char *p[] = {"x"};
    L.pending = 3;
    for (int i = 0; i < 3; i++)
        cf_db_query(L.pool, &q_echo, p, on_result, NULL);
    run_until_done();
    assert_int_equal(O.calls, 3);
    assert_false(O.ok);
    assert_int_equal(O.status, 503);
    cf_db_pool_free(L.pool);
    event_base_free(base);
    L = saved;
}

int main(void)
{
    url = getenv("CONFER_TEST_DATABASE_URL");
    if (url == NULL || url[0] == '\0') {
        fprintf(stderr, "test_db: set CONFER_TEST_DATABASE_URL (scripts/test does)\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_query_returns_its_rows),
        cmocka_unit_test(a_failing_statement_rolls_back_its_whole_job),
        cmocka_unit_test(a_successful_job_commits_every_statement),
        cmocka_unit_test(errors_map_by_sqlstate_and_the_connection_survives),
        cmocka_unit_test(many_jobs_complete_once_each_in_order_per_submission),
        cmocka_unit_test(a_job_without_callback_still_runs),
        cmocka_unit_test(an_unreachable_database_fails_jobs_with_503),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
