/*
 * migrate: the numbered SQL migrations of schema/, compiled into the binary
 * (tools/embed.c), applied in order, each in its own transaction and recorded
 * in schema_migrations. An advisory lock keeps two instances starting at once
 * from applying the same migration twice. This runs before any event loop
 * starts, so it uses libpq's blocking calls.
 */
#ifndef CF_MIGRATE_H
#define CF_MIGRATE_H

#include <stddef.h>

struct cf_migration {
    const char *name; /* "0001_foundation" */
    const char *sql;
    size_t len;
};

extern const struct cf_migration cf_migrations[];
extern const size_t cf_migrations_count;

/*
 * Applies the pending migrations to the database at conninfo. Reports each
 * applied migration through cf_info (and on stdout when verbose). Returns 0,
 * or -1 with a one-line reason in err.
 */
int cf_migrate_run(const char *conninfo, int verbose, char *err, size_t errsize);

#endif
