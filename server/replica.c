/*
 * replica: reads from a streaming replica, with its probe and the fall back to the
 * primary; see replica.h.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "alloc.h"
#include "http_server.h"
#include "log.h"
#include "replica.h"

#define PROBE_MS 1000
#define FRESH_MS 1500 /* a verdict older than this is no verdict: reads go to the primary */
#define SAMPLES 64    /* a minute of the primary's positions */

static struct cf_db_stmt q_primary_lsn = CF_DB_STMT(
    "replica_primary_lsn", "SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::text", 0);
/* NULL from a server that is not in recovery: a promoted replica, or not a replica at
 * all, whose positions say nothing about the primary's. */
static struct cf_db_stmt q_replica_lsn = CF_DB_STMT(
    "replica_replay_lsn",
    "SELECT CASE WHEN pg_is_in_recovery() THEN (coalesce(pg_last_wal_replay_lsn(), '0/0'::pg_lsn)"
    " - '0/0'::pg_lsn)::text END",
    0);

struct sample {
    long long at_ms; /* when the statement was sent: the position covers what came before */
    unsigned long long lsn;
};

struct cf_replica_probe {
    struct cf_worker *w;
    struct cf_db_pool *db; /* a connection of its own to the replica: not behind reads */
    struct event *timer;
    struct sample samples[SAMPLES];
    int nsamples, next;
    long long asked_ms;
    int running;
    int closing; /* the worker is stopping: answers start nothing more */
    int usable;  /* last verdict, for logging its changes */
    char why[160];
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void verdict(struct cf_replica_probe *p, int usable, long lag_ms, const char *why)
{
    struct cf_replica_stats *st = &p->w->server->replica_stats;
    atomic_store_explicit(&st->usable, usable, memory_order_relaxed);
    atomic_store_explicit(&st->lag_ms, lag_ms, memory_order_relaxed);
    atomic_store_explicit(&st->verdict_ms, now_ms(), memory_order_relaxed);
    if (usable != p->usable || (!usable && strcmp(why, p->why) != 0)) {
        if (usable)
            cf_info("replica: reads go to the replica again (lag at most %ld ms)", lag_ms);
        else
            cf_warn("replica: reads go to the primary: %s", why);
    }
    p->usable = usable;
    snprintf(p->why, sizeof(p->why), "%s", why);
}

static void on_replica_lsn(struct cf_db_result *r, void *arg)
{
    struct cf_replica_probe *p = arg;
    p->running = 0;
    if (p->closing)
        return;
    if (!r->ok) {
        verdict(p, 0, -1, "the replica does not answer");
        return;
    }
    if (PQgetisnull(r->res[0], 0, 0)) {
        verdict(p, 0, -1, "it is not in recovery (promoted, or not a replica)");
        return;
    }
    unsigned long long replay = strtoull(PQgetvalue(r->res[0], 0, 0), NULL, 10);
    long long now = now_ms(), reached = -1, oldest = now;
    for (int i = 0; i < p->nsamples; i++) {
        const struct sample *s = &p->samples[i];
        if (s->at_ms < oldest)
            oldest = s->at_ms;
        if (s->lsn <= replay && s->at_ms > reached)
            reached = s->at_ms;
    }
    long window = (long)p->w->server->cfg->replica_window_s * 1000;
    if (reached < 0) { /* behind every sample taken: by how much is unknown */
        char why[160];
        snprintf(why, sizeof(why), "it is more than %lld ms behind", now - oldest);
        verdict(p, 0, -1, why);
        return;
    }
    /* A session's reads leave the primary `window` after its stamp, which follows its
     * write's commit; this verdict is used until it is FRESH_MS old, while the lag may
     * grow: so lag + FRESH_MS must fit in the window. */
    long lag = (long)(now - reached);
    if (lag + FRESH_MS <= window) {
        verdict(p, 1, lag, "");
    } else {
        char why[160];
        snprintf(why, sizeof(why), "it is %ld ms behind (the window is %ld ms)", lag, window);
        verdict(p, 0, lag, why);
    }
}

static void on_primary_lsn(struct cf_db_result *r, void *arg)
{
    struct cf_replica_probe *p = arg;
    if (p->closing) {
        p->running = 0;
        return;
    }
    if (!r->ok) {
        p->running = 0;
        verdict(p, 0, -1, "the primary's position is unknown");
        return;
    }
    struct sample *s = &p->samples[p->next];
    s->at_ms = p->asked_ms;
    s->lsn = strtoull(PQgetvalue(r->res[0], 0, 0), NULL, 10);
    p->next = (p->next + 1) % SAMPLES;
    if (p->nsamples < SAMPLES)
        p->nsamples++;
    cf_db_query(p->db, &q_replica_lsn, NULL, on_replica_lsn, p);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct cf_replica_probe *p = arg;
    (void)fd;
    (void)what;
    if (p->running)
        return; /* a probe still waiting: its answer decides */
    p->running = 1;
    p->asked_ms = now_ms();
    cf_db_query(p->w->background_db, &q_primary_lsn, NULL, on_primary_lsn, p);
}

struct cf_replica_probe *cf_replica_probe_create(struct cf_worker *w)
{
    if (w->replica_db == NULL || w->background_db == NULL)
        return NULL;
    struct cf_replica_probe *p = cf_calloc(1, sizeof(*p));
    p->w = w;
    const struct cf_config *cfg = w->server->cfg;
    struct cf_db_pool_options opts = {
        .conninfo = cfg->replica_url,
        .connections = 1,
        .pipeline = 2,
        .queue_max = 4,
        .queue_timeout_ms = 1000,
    };
    p->db = cf_db_pool_create(w->base, &opts);
    p->usable = 0;
    snprintf(p->why, sizeof(p->why), "not probed yet");
    atomic_store_explicit(&w->server->replica_stats.lag_ms, -1, memory_order_relaxed);
    p->timer = event_new(w->base, -1, EV_PERSIST, on_timer, p);
    struct timeval every = {0, PROBE_MS * 1000};
    event_add(p->timer, &every);
    on_timer(-1, 0, p);
    return p;
}

void cf_replica_probe_stop(struct cf_replica_probe *p)
{
    if (p == NULL)
        return;
    p->closing = 1;
    event_del(p->timer);
    cf_db_pool_free(p->db); /* its statement, if any, is answered now, and ignored */
    p->db = NULL;
}

void cf_replica_probe_free(struct cf_replica_probe *p)
{
    if (p == NULL)
        return;
    event_free(p->timer);
    cf_free(p);
}

int cf_replica_available(struct cf_worker *w)
{
    struct cf_replica_stats *st = &w->server->replica_stats;
    if (w->replica_db == NULL || !atomic_load_explicit(&st->usable, memory_order_relaxed) ||
        now_ms() - atomic_load_explicit(&st->verdict_ms, memory_order_relaxed) > FRESH_MS)
        return 0;
    struct cf_db_stats s;
    cf_db_pool_stats(w->replica_db, &s);
    return s.ready > 0;
}

struct read {
    struct cf_worker *w;
    struct cf_db_stmt *stmt;
    char *params[CF_DB_MAX_PARAMS];
    int retry_if_empty;
    cf_db_cb cb;
    void *arg;
};

static void read_free(struct read *rd)
{
    for (int i = 0; i < rd->stmt->nparams; i++)
        cf_free(rd->params[i]);
    cf_free(rd);
}

/* What the primary may answer better: the replica went away or was shut down (08, 57,
 * 503), it cancelled the statement for a recovery conflict (40001), or the statement
 * wrote (25006: a read-only transaction; a bug, said in the log). */
static int worth_retrying(const struct cf_db_result *r)
{
    return r->status == 503 || strncmp(r->sqlstate, "08", 2) == 0 ||
           strncmp(r->sqlstate, "57", 2) == 0 || strcmp(r->sqlstate, "40001") == 0 ||
           strcmp(r->sqlstate, "25006") == 0;
}

static void on_read(struct cf_db_result *r, void *arg)
{
    struct read *rd = arg;
    struct cf_replica_stats *st = &rd->w->server->replica_stats;
    int again;
    if (!r->ok) {
        again = worth_retrying(r);
        if (strcmp(r->sqlstate, "25006") == 0)
            cf_warn("statement %s wrote on the replica: it must not be sent there", rd->stmt->name);
    } else {
        PGresult *res = r->res[0];
        again =
            rd->retry_if_empty && (res == NULL || PQntuples(res) == 0 || PQgetisnull(res, 0, 0));
    }
    if (again) { /* the replica's pool is freed before the primary's: this is safe then too */
        atomic_fetch_add_explicit(&st->retried, 1, memory_order_relaxed);
        cf_debug("replica: %s runs again on the primary: %s", rd->stmt->name,
                 r->ok ? "no row there yet" : r->message);
        cf_db_query(rd->w->db, rd->stmt, (const char *const *)rd->params, rd->cb, rd->arg);
    } else {
        if (r->ok)
            atomic_fetch_add_explicit(&st->reads, 1, memory_order_relaxed);
        rd->cb(r, rd->arg);
    }
    read_free(rd);
}

void cf_replica_query(struct cf_worker *w, struct cf_db_stmt *stmt, const char *const *params,
                      int retry_if_empty, cf_db_cb cb, void *arg)
{
    struct read *rd = cf_calloc(1, sizeof(*rd));
    rd->w = w;
    rd->stmt = stmt;
    for (int i = 0; i < stmt->nparams && i < CF_DB_MAX_PARAMS; i++)
        rd->params[i] = params[i] ? cf_strdup(params[i]) : NULL;
    rd->retry_if_empty = retry_if_empty;
    rd->cb = cb;
    rd->arg = arg;
    cf_db_query(w->replica_db, stmt, params, on_read, rd);
}
