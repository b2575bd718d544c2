/* Unit tests of server/config.c: defaults, environment, flags overriding it, bad values. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"

static int load(struct cf_config *cfg, char *err, int argc, const char *const *argv)
{
    return cf_config_load(cfg, argc, argv, err, 256);
}

static void defaults_apply_when_nothing_is_set(void **state)
{
    struct cf_config cfg;
    char err[256];
    const char *argv[] = {"confer", "--database-url", "postgresql:///x"};
    (void)state;
    unsetenv("CONFER_LISTEN");
    assert_int_equal(load(&cfg, err, 3, argv), 0);
    assert_int_equal(cfg.command, CF_CMD_SERVE);
    assert_string_equal(cfg.listen_host, "127.0.0.1");
    assert_int_equal(cfg.listen_port, 8080);
    assert_true(cfg.workers >= 1);
    assert_int_equal(cfg.max_body, 1024 * 1024);
    assert_int_equal(cfg.max_headers, 16 * 1024);
    assert_true(cfg.migrate_on_start);
    cf_config_free(&cfg);
}

static void flags_override_the_environment(void **state)
{
    struct cf_config cfg;
    char err[256];
    const char *argv[] = {"confer", "migrate", "--workers=3", "--listen", "[::1]:9000"};
    (void)state;
    setenv("CONFER_DATABASE_URL", "postgresql:///env", 1);
    setenv("CONFER_WORKERS", "7", 1);
    setenv("CONFER_LISTEN", "0.0.0.0:81", 1);
    assert_int_equal(load(&cfg, err, 5, argv), 0);
    assert_int_equal(cfg.command, CF_CMD_MIGRATE);
    assert_int_equal(cfg.workers, 3);
    assert_string_equal(cfg.listen_host, "::1");
    assert_int_equal(cfg.listen_port, 9000);
    assert_string_equal(cfg.database_url, "postgresql:///env");
    cf_config_free(&cfg);
    unsetenv("CONFER_WORKERS");
    unsetenv("CONFER_LISTEN");
    unsetenv("CONFER_DATABASE_URL");
}

static void bad_values_are_named_in_the_message(void **state)
{
    struct cf_config cfg;
    char err[256];
    (void)state;
    const char *a1[] = {"confer", "--database-url", "x", "--workers", "zero"};
    assert_int_equal(load(&cfg, err, 5, a1), -1);
    assert_non_null(strstr(err, "--workers"));
    assert_non_null(strstr(err, "zero"));
    cf_config_free(&cfg);

    const char *a2[] = {"confer", "--database-url", "x", "--listen", "nowhere"};
    assert_int_equal(load(&cfg, err, 5, a2), -1);
    assert_non_null(strstr(err, "--listen"));
    cf_config_free(&cfg);

    const char *a3[] = {"confer", "--bogus"};
    assert_int_equal(load(&cfg, err, 2, a3), -1);
    assert_non_null(strstr(err, "unknown option"));
    cf_config_free(&cfg);

    const char *a4[] = {"confer", "explode"};
    assert_int_equal(load(&cfg, err, 2, a4), -1);
    assert_non_null(strstr(err, "unknown command"));
    cf_config_free(&cfg);

    setenv("CONFER_LOG_LEVEL", "loud", 1);
    const char *a5[] = {"confer", "--database-url", "x"};
    assert_int_equal(load(&cfg, err, 3, a5), -1);
    assert_non_null(strstr(err, "CONFER_LOG_LEVEL"));
    cf_config_free(&cfg);
    unsetenv("CONFER_LOG_LEVEL");

    const char *a6[] = {"confer", "--database-url", "x", "--public-url", "ftp://x"};
    assert_int_equal(load(&cfg, err, 5, a6), -1);
    cf_config_free(&cfg);
}

static void missing_database_is_an_error_for_serve_only(void **state)
{
    struct cf_config cfg;
    char err[256];
    (void)state;
    unsetenv("CONFER_DATABASE_URL");
    const char *a1[] = {"confer", "serve"};
    assert_int_equal(load(&cfg, err, 2, a1), -1);
    assert_non_null(strstr(err, "CONFER_DATABASE_URL"));
    cf_config_free(&cfg);
    const char *a2[] = {"confer", "--version"};
    assert_int_equal(load(&cfg, err, 2, a2), 0);
    assert_int_equal(cfg.command, CF_CMD_VERSION);
    cf_config_free(&cfg);
}

static void public_url_sets_https_and_loses_trailing_slash(void **state)
{
    struct cf_config cfg;
    char err[256];
    (void)state;
    const char *a[] = {"confer", "--database-url", "x", "--public-url",
                       "https://confer.example.ca/"};
    assert_int_equal(load(&cfg, err, 5, a), 0);
    assert_true(cfg.public_https);
    assert_string_equal(cfg.public_url, "https://confer.example.ca");
    cf_config_free(&cfg);
}

static void trusted_proxies_are_addresses_and_blocks(void **state)
{
    struct cf_cidr b[CF_TRUSTED_PROXIES_MAX];
    (void)state;
    assert_int_equal(cf_config_parse_cidrs("127.0.0.1, 10.0.0.0/8,::1,fd00::/8", b, 32), 4);
    assert_true(cf_cidr_contains(b, 4, "127.0.0.1"));
    assert_false(cf_cidr_contains(b, 4, "127.0.0.2"));
    assert_true(cf_cidr_contains(b, 4, "10.200.3.4"));
    assert_false(cf_cidr_contains(b, 4, "11.0.0.1"));
    assert_true(cf_cidr_contains(b, 4, "::1"));
    assert_true(cf_cidr_contains(b, 4, "fd12:3456::1"));
    assert_false(cf_cidr_contains(b, 4, "fe80::1"));
    assert_false(cf_cidr_contains(b, 4, "not an address"));
    assert_true(cf_cidr_contains(b, 4, "::ffff:10.0.0.1")); /* a dual-stack socket's v4 */
    assert_false(cf_cidr_contains(b, 4, "::ffff:11.0.0.1"));
    /* a prefix that is not a whole byte */
    assert_int_equal(cf_config_parse_cidrs("192.168.4.0/22", b, 32), 1);
    assert_true(cf_cidr_contains(b, 1, "192.168.7.255"));
    assert_false(cf_cidr_contains(b, 1, "192.168.8.0"));
    assert_int_equal(cf_config_parse_cidrs("0.0.0.0/0", b, 32), 1);
    assert_true(cf_cidr_contains(b, 1, "203.0.113.9"));
    assert_int_equal(cf_config_parse_cidrs("", b, 32), 0);
    assert_int_equal(cf_config_parse_cidrs("10.0.0.0/33", b, 32), -1);
    assert_int_equal(cf_config_parse_cidrs("10.0.0.0/", b, 32), -1);
    assert_int_equal(cf_config_parse_cidrs("localhost", b, 32), -1);
    assert_int_equal(cf_config_parse_cidrs("1.2.3.4,1.2.3.5", b, 1), -1);

    struct cf_config cfg;
    char err[256];
    const char *ok[] = {"confer",
                        "--database-url",
                        "x",
                        "--trusted-proxies",
                        "127.0.0.1",
                        "--replica-url",
                        "postgresql:///r",
                        "--replica-window",
                        "9"};
    assert_int_equal(load(&cfg, err, 9, ok), 0);
    assert_int_equal(cfg.ntrusted_proxies, 1);
    assert_string_equal(cfg.replica_url, "postgresql:///r");
    assert_int_equal(cfg.replica_window_s, 9);
    cf_config_free(&cfg);
    const char *bad[] = {"confer", "--database-url", "x", "--trusted-proxies", "nginx"};
    assert_int_equal(load(&cfg, err, 5, bad), -1);
    assert_non_null(strstr(err, "--trusted-proxies"));
    cf_config_free(&cfg);
    const char *window[] = {"confer", "--database-url", "x", "--replica-window", "1"};
    assert_int_equal(load(&cfg, err, 5, window), -1);
    cf_config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_apply_when_nothing_is_set),
        cmocka_unit_test(flags_override_the_environment),
        cmocka_unit_test(bad_values_are_named_in_the_message),
        cmocka_unit_test(missing_database_is_an_error_for_serve_only),
        cmocka_unit_test(public_url_sets_https_and_loses_trailing_slash),
        cmocka_unit_test(trusted_proxies_are_addresses_and_blocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
