/* migrate: applying schema/ migrations; see migrate.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "log.h"
#include "migrate.h"

/* pg_advisory_lock key: "confer" + 1, an arbitrary constant of this program. */
#define MIGRATE_LOCK_KEY "7236454742010001"

static int exec_ok(PGconn *pg, const char *sql, char *err, size_t errsize, const char *what)
{
    PGresult *r = PQexec(pg, sql);
    ExecStatusType st = PQresultStatus(r);
    int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok) {
        const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
        snprintf(err, errsize, "%s: %s", what, msg ? msg : PQerrorMessage(pg));
    }
    PQclear(r);
    return ok ? 0 : -1;
}

static void checksum(const char *s, size_t len, char out[17])
{
    unsigned long long h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    snprintf(out, 17, "%016llx", h);
}

/* The number a migration's file name starts with ("0001_x" -> 1). */
static int version_of(const char *name)
{
    long v = strtol(name, NULL, 10);
    return v > 0 && v < 1000000 ? (int)v : -1;
}

int cf_migrate_run(const char *conninfo, int verbose, char *err, size_t errsize)
{
    int status = -1;
    PGresult *applied = NULL;
    static const char *const kw[] = {"application_name", "dbname", NULL};
    const char *vals[] = {"confer-migrate", conninfo, NULL};
    PGconn *pg = PQconnectdbParams(kw, vals, 1);
    if (PQstatus(pg) != CONNECTION_OK) {
        char *msg = PQerrorMessage(pg);
        snprintf(err, errsize, "could not connect to the database: %.*s", (int)strcspn(msg, "\n"),
                 msg);
        goto out;
    }
    if (exec_ok(pg, "SET client_min_messages = warning", err, errsize, "set") != 0 ||
        exec_ok(pg, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", err, errsize,
                "could not take the migration lock") != 0 ||
        exec_ok(pg,
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())",
                err, errsize, "could not create schema_migrations") != 0)
        goto out;
    applied = PQexec(pg, "SELECT version, checksum FROM schema_migrations");
    if (PQresultStatus(applied) != PGRES_TUPLES_OK) {
        snprintf(err, errsize, "could not read schema_migrations: %s", PQerrorMessage(pg));
        goto out;
    }
    int count = 0;
    for (size_t i = 0; i < cf_migrations_count; i++) {
        const struct cf_migration *m = &cf_migrations[i];
        int version = version_of(m->name);
        char sum[17], vstr[16];
        checksum(m->sql, m->len, sum);
        snprintf(vstr, sizeof(vstr), "%d", version);
        int done = 0;
        for (int r = 0; r < PQntuples(applied); r++) {
            if (strcmp(PQgetvalue(applied, r, 0), vstr) != 0)
                continue;
            done = 1;
            if (strcmp(PQgetvalue(applied, r, 1), sum) != 0)
                cf_warn("migration %s changed after it was applied; migrations are "
                        "forward-only: add a new one instead",
                        m->name);
        }
        if (done)
            continue;
        char what[128];
        snprintf(what, sizeof(what), "migration %s failed", m->name);
        if (exec_ok(pg, "BEGIN", err, errsize, what) != 0)
            goto out;
        if (exec_ok(pg, m->sql, err, errsize, what) != 0) {
            PQclear(PQexec(pg, "ROLLBACK"));
            goto out;
        }
        const char *params[] = {vstr, m->name, sum};
        PGresult *r = PQexecParams(pg,
                                   "INSERT INTO schema_migrations (version, name, checksum) "
                                   "VALUES ($1, $2, $3)",
                                   3, NULL, params, NULL, NULL, 0);
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        if (!ok || exec_ok(pg, "COMMIT", err, errsize, what) != 0) {
            if (!ok)
                snprintf(err, errsize, "%s: could not record it: %s", what, PQerrorMessage(pg));
            PQclear(PQexec(pg, "ROLLBACK"));
            goto out;
        }
        count++;
        if (verbose)
            printf("applied %s\n", m->name);
        else
            cf_info("applied migration %s", m->name);
    }
    if (verbose)
        printf(count ? "%d migration(s) applied\n" : "the database is up to date%.0d\n", count);
    status = 0;
out:
    if (applied)
        PQclear(applied);
    PQfinish(pg); /* ends the session, which releases the advisory lock */
    return status;
}
