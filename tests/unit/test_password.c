/* Unit tests of server/password.c: the policy, the bundled list, and argon2id
 * hashing on the thread pool with results handed back to an event loop. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>
#include <stdio.h>
#include <time.h>
#include <string.h>
#include <cmocka.h>

#include <argon2.h>
#include <event2/event.h>

#include "password.h"

static const char *code, *message;

static int check(const char *pw, const char *email, const char *name)
{
    return cf_password_check(pw, email, name, &code, &message);
}

static void the_bundled_list_has_ten_thousand_common_passwords(void **state)
{
    (void)state;
    assert_true(cf_password_is_common("password"));
    assert_true(cf_password_is_common("PASSWORD"));
    assert_true(cf_password_is_common("qwerty"));
    assert_true(cf_password_is_common("letmein"));
    assert_true(cf_password_is_common("viking1")); /* near the end of the list */
    assert_false(cf_password_is_common("tundra-kettle-violin-42"));
    assert_false(cf_password_is_common(""));
}

static void length_is_counted_in_characters(void **state)
{
    (void)state;
    assert_int_equal(check("short-pw", NULL, NULL), -1);
    assert_string_equal(code, "too_short");
    /* 12 characters, 24 bytes: accepted */
    assert_int_equal(check("éééééééééééé", NULL, NULL), -1); /* but repetitive */
    assert_string_equal(code, "repetitive");
    assert_int_equal(check("é-tundra-kettle", NULL, NULL), 0);
    char long_pw[200];
    memset(long_pw, 'x', 129);
    long_pw[0] = 'a';
    long_pw[129] = '\0';
    assert_int_equal(check(long_pw, NULL, NULL), -1);
    assert_string_equal(code, "too_long");
}

static void common_passwords_are_refused_also_with_digits_and_symbols_after(void **state)
{
    (void)state;
    assert_int_equal(check("password1234", NULL, NULL), -1);
    assert_string_equal(code, "common");
    assert_int_equal(check("Football2024!!", NULL, NULL), -1);
    assert_string_equal(code, "common");
    assert_int_equal(check("qwertyuiop123", NULL, NULL), -1);
    assert_string_equal(code, "common");
    assert_int_equal(check("kettle tundra violin", NULL, NULL), 0);
}

static void repetitions_and_personal_information_are_refused(void **state)
{
    (void)state;
    assert_int_equal(check("aaaaaaaaaaaaaa", NULL, NULL), -1);
    assert_string_equal(code, "repetitive");
    assert_int_equal(check("abcabcabcabc", NULL, NULL), -1);
    assert_string_equal(code, "repetitive");
    assert_int_equal(check("my-drmartin-secret", "drmartin@clinic.ca", NULL), -1);
    assert_string_equal(code, "personal_info");
    assert_int_equal(check("Jordan Lee is here", NULL, "Jordan Lee"), -1);
    assert_string_equal(code, "personal_info");
    assert_int_equal(check("correct horse battery", "jl@clinic.ca", "JL"), 0);
}

static void hashes_carry_their_parameters(void **state)
{
    (void)state;
    char hash[CF_PASSWORD_HASH_MAX];
    assert_int_equal(cf_password_hash_now("correct horse battery", hash, sizeof(hash)), 0);
    assert_non_null(strstr(hash, "$argon2id$v=19$m=19456,t=2,p=1$"));
    assert_false(cf_password_needs_rehash(hash));
    assert_int_equal(argon2id_verify(hash, "correct horse battery", 21), ARGON2_OK);
    assert_int_not_equal(argon2id_verify(hash, "correct horse batterx", 21), ARGON2_OK);
    assert_true(cf_password_needs_rehash("$argon2id$v=19$m=4096,t=3,p=1$c2FsdA$aGFzaA"));
}

struct outcome {
    int calls, status, match;
    char encoded[CF_PASSWORD_HASH_MAX];
    struct event_base *base;
    struct cf_password_client *client;
};

static void on_result(int status, int match, const char *encoded, void *arg)
{
    struct outcome *o = arg;
    o->calls++;
    o->status = status;
    o->match = match;
    o->encoded[0] = '\0';
    if (encoded)
        snprintf(o->encoded, sizeof(o->encoded), "%s", encoded);
    event_base_loopbreak(o->base);
}

/* Runs base until *done reaches want, or for at most 30 s. */
static void run_until(struct event_base *base, const int *done, int want)
{
    struct timeval tick = {0, 20000};
    for (int i = 0; i < 1500 && *done < want; i++) {
        event_base_loopexit(base, &tick);
        event_base_dispatch(base);
    }
}

/* Runs base for ms of wall time, however often a stale exit timer ends a dispatch. */
static void run_for(struct event_base *base, long ms)
{
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (long left = ms; left > 0;) {
        struct timeval tick = {left / 1000, (left % 1000) * 1000};
        event_base_loopexit(base, &tick);
        event_base_dispatch(base);
        clock_gettime(CLOCK_MONOTONIC, &now);
        left = ms - ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000);
    }
}

/* Runs o's loop until one more answer has come. A long loopexit per call once ended a
 * later call early: a loopbreak leaves the earlier call's exit timer pending, and after
 * 20 s of a slow run it fired while an answer was still on its way. */
static void run(struct outcome *o)
{
    run_until(o->base, &o->calls, o->calls + 1);
}

static void the_pool_hashes_and_verifies_off_the_loop(void **state)
{
    (void)state;
    struct outcome o = {0};
    o.base = event_base_new();
    assert_int_equal(cf_password_pool_start(1, 60000), 0);
    o.client = cf_password_client_new(o.base);
    cf_password_hash(o.client, "tundra kettle violin", on_result, &o);
    run(&o);
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.status, 0);
    assert_non_null(strstr(o.encoded, "$argon2id$"));
    char hash[CF_PASSWORD_HASH_MAX];
    snprintf(hash, sizeof(hash), "%s", o.encoded);

    cf_password_verify(o.client, hash, "tundra kettle violin", on_result, &o);
    run(&o);
    assert_int_equal(o.calls, 2);
    assert_true(o.match);
    cf_password_verify(o.client, hash, "tundra kettle violon", on_result, &o);
    run(&o);
    assert_false(o.match);
    /* unknown account: a dummy hash is verified, never a match */
    cf_password_verify(o.client, NULL, "tundra kettle violin", on_result, &o);
    run(&o);
    assert_int_equal(o.calls, 4);
    assert_int_equal(o.status, 0);
    assert_false(o.match);
    /* More jobs than a one-page pipe holds (512): each is taken, none refused. A pipe
     * frees a page only once all of it is read, which once made every 513th refused. */
    int refused = 0;
    for (int i = 0; i < 600; i++) {
        cf_password_verify(o.client, NULL, "x", on_result, &o);
        run(&o);
        refused += o.status != 0;
    }
    assert_int_equal(refused, 0);
    assert_int_equal(o.calls, 604);
    cf_password_pool_stop();
    /* a stopped pool answers -1, from the loop */
    cf_password_hash(o.client, "tundra kettle violin", on_result, &o);
    run(&o);
    assert_int_equal(o.calls, 605);
    assert_int_equal(o.status, -1);
    cf_password_client_free(o.client);
    event_base_free(o.base);
}

struct job_outcome {
    int calls, status, match;
    int *done;
};

static void on_job(int status, int match, const char *encoded, void *arg)
{
    (void)encoded;
    struct job_outcome *o = arg;
    o->calls++;
    o->status = status;
    o->match = match;
    (*o->done)++;
}

/* Boost after 0 ms: every job is computed by an idle-priority thread and by the
 * rescue thread; each must be answered exactly once, with the right outcome. */
static void a_job_given_to_both_threads_is_answered_once(void **state)
{
    (void)state;
    char hash[CF_PASSWORD_HASH_MAX];
    assert_int_equal(cf_password_hash_now("tundra kettle violin", hash, sizeof(hash)), 0);
    long rescued0, wins0, rescued1, wins1;
    cf_password_stats(&rescued0, &wins0);
    struct event_base *base = event_base_new();
    assert_int_equal(cf_password_pool_start(1, 0), 0);
    struct cf_password_client *client = cf_password_client_new(base);
    int done = 0;
    struct job_outcome o[12];
    for (int i = 0; i < 12; i++) {
        o[i] = (struct job_outcome){0, 99, 99, &done};
        const char *pw = i % 3 == 1 ? "tundra kettle violon" : "tundra kettle violin";
        cf_password_verify(client, i % 3 == 2 ? NULL : hash, pw, on_job, &o[i]);
    }
    run_until(base, &done, 12);
    /* late duplicates would arrive now */
    run_for(base, 300);
    assert_int_equal(done, 12);
    for (int i = 0; i < 12; i++) {
        assert_int_equal(o[i].calls, 1);
        assert_int_equal(o[i].status, 0);
        assert_int_equal(o[i].match, i % 3 == 0);
    }
    cf_password_stats(&rescued1, &wins1);
    assert_true(rescued1 - rescued0 >= 1);
    cf_password_pool_stop();
    cf_password_client_free(client);
    event_base_free(base);
}

static atomic_int spinning;

static void *spin(void *arg)
{
    (void)arg;
    volatile unsigned long x = 0;
    while (atomic_load(&spinning))
        x++;
    return NULL;
}

/* Every core kept busy at normal priority: the idle-priority hashing thread gets
 * almost nothing, and only the rescue thread can answer in time. */
static void a_busy_machine_does_not_starve_sign_ins(void **state)
{
    (void)state;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1)
        cores = 1;
    if (cores > 8)
        cores = 8;
    pthread_t spinners[8];
    atomic_store(&spinning, 1);
    for (long i = 0; i < cores; i++)
        assert_int_equal(pthread_create(&spinners[i], NULL, spin, NULL), 0);
    long rescued0, wins0, rescued1, wins1;
    cf_password_stats(&rescued0, &wins0);
    struct event_base *base = event_base_new();
    assert_int_equal(cf_password_pool_start(1, 50), 0);
    struct cf_password_client *client = cf_password_client_new(base);
    int done = 0;
    struct job_outcome o[4];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 4; i++) {
        o[i] = (struct job_outcome){0, 99, 99, &done};
        cf_password_verify(client, NULL, "tundra kettle violin", on_job, &o[i]);
    }
    run_until(base, &done, 4);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    atomic_store(&spinning, 0);
    for (long i = 0; i < cores; i++)
        pthread_join(spinners[i], NULL);
    assert_int_equal(done, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(o[i].status, 0);
    cf_password_stats(&rescued1, &wins1);
    assert_true(rescued1 - rescued0 >= 1);
    assert_true(wins1 - wins0 >= 1);
    double seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    print_message("4 verifications on a busy machine: %.2f s, %ld rescued, %ld won by rescue\n",
                  seconds, rescued1 - rescued0, wins1 - wins0);
    cf_password_pool_stop();
    cf_password_client_free(client);
    event_base_free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_bundled_list_has_ten_thousand_common_passwords),
        cmocka_unit_test(length_is_counted_in_characters),
        cmocka_unit_test(common_passwords_are_refused_also_with_digits_and_symbols_after),
        cmocka_unit_test(repetitions_and_personal_information_are_refused),
        cmocka_unit_test(hashes_carry_their_parameters),
        cmocka_unit_test(the_pool_hashes_and_verifies_off_the_loop),
        cmocka_unit_test(a_job_given_to_both_threads_is_answered_once),
        cmocka_unit_test(a_busy_machine_does_not_starve_sign_ins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
