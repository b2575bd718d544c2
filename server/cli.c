/* cli: confer admin create and confer invite; see cli.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "auth.h"
#include "cli.h"
#include "migrate.h"
#include "password.h"
#include "routes.h"

static PGconn *connect_db(const struct cf_config *cfg)
{
    char err[512];
    if (cf_migrate_run(cfg->database_url, 0, err, sizeof(err)) != 0) {
        fprintf(stderr, "confer: %s\n", err);
        return NULL;
    }
    PGconn *pg = PQconnectdb(cfg->database_url);
    if (PQstatus(pg) != CONNECTION_OK) {
        fprintf(stderr, "confer: could not connect to the database: %s", PQerrorMessage(pg));
        PQfinish(pg);
        return NULL;
    }
    return pg;
}

/* Reads one line from stdin without its newline. Returns 0 or -1. */
static int read_password(char *out, size_t size)
{
    if (fgets(out, (int)size, stdin) == NULL)
        return -1;
    out[strcspn(out, "\r\n")] = '\0';
    return 0;
}

int cf_cli_admin_create(const struct cf_config *cfg)
{
    char password[300];
    const char *code, *message;
    int status = 1;
    PGconn *pg = NULL;
    PGresult *r = NULL;
    if (!cf_email_valid(cfg->arg_email)) {
        fprintf(stderr, "confer: '%s' is not an email address\n", cfg->arg_email);
        return 2;
    }
    if (read_password(password, sizeof(password)) != 0) {
        fprintf(stderr, "confer: give the password on standard input\n");
        return 2;
    }
    if (cf_password_check(password, cfg->arg_email, cfg->arg_name, &code, &message) != 0) {
        fprintf(stderr, "confer: password refused (%s): %s\n", code, message);
        explicit_bzero(password, sizeof(password));
        return 2;
    }
    char hash[CF_PASSWORD_HASH_MAX];
    int hashed = cf_password_hash_now(password, hash, sizeof(hash));
    explicit_bzero(password, sizeof(password));
    if (hashed != 0) {
        fprintf(stderr, "confer: could not hash the password\n");
        return 1;
    }
    pg = connect_db(cfg);
    if (pg == NULL)
        goto out;
    const char *params[] = {cfg->arg_email, cfg->arg_name,
                            cfg->arg_profession ? cfg->arg_profession : "other",
                            cfg->arg_network ? cfg->arg_network : "BC", hash};
    r = PQexecParams(
        pg,
        "INSERT INTO users (email, display_name, profession, network_id, site_role,"
        " password_hash)"
        " SELECT $1, $2, $3, n.id, 'admin', $5 FROM networks n WHERE n.code = upper($4)"
        " RETURNING id",
        5, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        if (state && strcmp(state, "23505") == 0)
            fprintf(stderr, "confer: an account already uses %s\n", cfg->arg_email);
        else
            fprintf(stderr, "confer: could not create the admin: %s", PQresultErrorMessage(r));
        goto out;
    }
    if (PQntuples(r) == 0) {
        fprintf(stderr, "confer: no network %s\n", cfg->arg_network);
        status = 2;
        goto out;
    }
    printf("created admin #%s %s (%s)\n", PQgetvalue(r, 0, 0), cfg->arg_email, cfg->arg_name);
    status = 0;
out:
    if (r)
        PQclear(r);
    if (pg)
        PQfinish(pg);
    return status;
}

int cf_cli_invite(const struct cf_config *cfg)
{
    int status = 1;
    PGresult *r = NULL;
    const char *role = cfg->arg_role ? cfg->arg_role : "member";
    if (!cf_email_valid(cfg->arg_email)) {
        fprintf(stderr, "confer: '%s' is not an email address\n", cfg->arg_email);
        return 2;
    }
    if (cf_role_parse(role) < 0) {
        fprintf(stderr, "confer: --role must be member, coordinator, moderator or admin\n");
        return 2;
    }
    PGconn *pg = connect_db(cfg);
    if (pg == NULL)
        return 1;
    char code[CF_TOKEN_CHARS + 1], hash[65], days[16];
    if (cf_auth_random_token(code, sizeof(code)) != 0)
        goto out;
    cf_auth_sha256_hex(code, hash);
    snprintf(days, sizeof(days), "%d", cfg->invite_days);
    const char *params[] = {hash, cfg->arg_email, cfg->arg_network, role, days};
    r = PQexecParams(pg, "SELECT cf_invite(NULL, decode($1, 'hex'), $2, $3, $4, $5::int)", 5, NULL,
                     params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "confer: could not create the invitation: %s", PQresultErrorMessage(r));
        goto out;
    }
    const char *json = PQgetvalue(r, 0, 0);
    if (strstr(json, "\"error\"") != NULL) {
        fprintf(stderr, "confer: invitation refused: %s\n", json);
        status = 2;
        goto out;
    }
    const char *base = cfg->public_url ? cfg->public_url : "http://127.0.0.1:8080";
    printf("invited %s into %s as %s\ncode: %s\nsign-up: %s/#/signup?code=%s\n%s\n", cfg->arg_email,
           cfg->arg_network, role, code, base, code, json);
    status = 0;
out:
    explicit_bzero(code, sizeof(code));
    if (r)
        PQclear(r);
    PQfinish(pg);
    return status;
}
