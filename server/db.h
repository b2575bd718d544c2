/*
 * db: the asynchronous PostgreSQL pool of one worker (h2o's database.c, kore's
 * pgsql.c). Each worker owns a few non-blocking libpq connections in pipeline
 * mode, driven by its own event loop: statements are prepared lazily on each
 * connection (prepare and execute share one round trip), sent with
 * PQsendQueryPrepared, and read when the socket is readable. Nothing here
 * blocks the loop.
 *
 * A job is one statement, or several that must commit together: the
 * statements of a job are followed by a single Sync, so PostgreSQL runs them
 * as one implicit transaction (all or nothing) in one round trip.
 *
 * Every job's callback is called exactly once, from the loop, never from
 * inside cf_db_exec: on success, on an SQL error, when the queue is full,
 * when its connection dies, or when the pool is freed. A NULL callback makes
 * a statement fire-and-forget (its failures are still logged).
 */
#ifndef CF_DB_H
#define CF_DB_H

#include <stdatomic.h>
#include <stddef.h>

#include <libpq-fe.h>

struct event_base;

#define CF_DB_MAX_PARAMS 16
#define CF_DB_MAX_CALLS 8
#define CF_DB_MAX_STMTS 1024

/* A statement, declared `static struct cf_db_stmt` next to the code that runs it. */
struct cf_db_stmt {
    const char *name; /* for logs */
    const char *sql;  /* with $1..$n parameters */
    int nparams;
    _Atomic int id; /* assigned on first use */
};

#define CF_DB_STMT(name, sql, nparams)                                                             \
    {                                                                                              \
        name, sql, nparams, 0                                                                      \
    }

/* One statement of a job with its text parameters (NULL is SQL NULL). */
struct cf_db_call {
    struct cf_db_stmt *stmt;
    const char *params[CF_DB_MAX_PARAMS];
};

struct cf_db_result {
    int ok;                         /* every statement succeeded */
    PGresult *res[CF_DB_MAX_CALLS]; /* owned by the pool; cleared after the callback */
    int status;                     /* when !ok: 503 unavailable, 409 conflict, 500 otherwise */
    char sqlstate[6];
    char message[200]; /* for logs, never for clients */
};

typedef void (*cf_db_cb)(struct cf_db_result *r, void *arg);

struct cf_db_pool;

struct cf_db_pool_options {
    const char *conninfo;
    int connections;
    int pipeline;         /* jobs in flight per connection */
    int queue_max;        /* jobs waiting for a connection before 503 */
    int queue_timeout_ms; /* a queued job older than this fails with 503 */
    /* optional: called from the loop for every NOTIFY received (after LISTEN), and
     * each time a connection becomes ready (first connect and every reconnect) */
    void (*on_notify)(const char *channel, const char *payload, void *arg);
    void (*on_ready)(struct cf_db_pool *pool, void *arg);
    void *arg;
};

/* Creates a pool on base and starts connecting. Returns NULL only on bad options. */
struct cf_db_pool *cf_db_pool_create(struct event_base *base,
                                     const struct cf_db_pool_options *opts);

/* Fails every pending job (503), closes the connections and frees the pool. */
void cf_db_pool_free(struct cf_db_pool *pool);

/*
 * Runs calls[0..n) as one transaction; params are copied, so the caller's
 * strings need not outlive the call. cb is always called later, once.
 */
void cf_db_exec(struct cf_db_pool *pool, const struct cf_db_call *calls, size_t n, cf_db_cb cb,
                void *arg);

/* One statement: the common case. */
void cf_db_query(struct cf_db_pool *pool, struct cf_db_stmt *stmt, const char *const *params,
                 cf_db_cb cb, void *arg);

struct cf_db_stats {
    int connections; /* configured */
    int ready;       /* connected and usable */
    int busy;        /* with at least one job in flight */
    int inflight;    /* jobs sent, awaiting results */
    int queued;      /* jobs waiting for a connection */
};

/* Safe to call from any thread (values are relaxed atomics). */
void cf_db_pool_stats(struct cf_db_pool *pool, struct cf_db_stats *out);

#endif
