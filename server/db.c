/*
 * db: the per-worker asynchronous PostgreSQL pool; see db.h for the contract.
 *
 * A connection is DOWN (waiting for its reconnect timer), CONNECTING (driven by
 * PQconnectPoll) or READY (in pipeline mode, its socket always watched for
 * reading). Jobs sent on a READY connection form a FIFO; results arrive in the
 * same order, so a cursor over the head job (which statement, whether its
 * prepare or its execution, or the closing Sync) says what each result is.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "alloc.h"
#include "db.h"
#include "log.h"

enum conn_state { CONN_DOWN, CONN_CONNECTING, CONN_READY };
enum step { STEP_PREPARE, STEP_QUERY, STEP_SYNC };

#define CONNECT_TIMEOUT_MS 5000
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

struct job {
    struct job *next;
    cf_db_cb cb;
    void *arg;
    size_t ncalls;
    struct cf_db_stmt *stmts[CF_DB_MAX_CALLS];
    const char *values[CF_DB_MAX_CALLS][CF_DB_MAX_PARAMS];
    unsigned char need_prepare[CF_DB_MAX_CALLS];
    char *arena; /* the copied parameter strings */
    struct cf_db_result result;
    int retried;
    long long deadline_ms;
};

/* A FIFO of jobs: the pool's queue, a connection's in-flight jobs, failed jobs awaiting
 * their callback. */
struct job_list {
    struct job *head, *tail;
};

static void list_push(struct job_list *l, struct job *j)
{
    j->next = NULL;
    if (l->tail)
        l->tail->next = j;
    else
        l->head = j;
    l->tail = j;
}

static void list_push_front(struct job_list *l, struct job *j)
{
    j->next = l->head;
    l->head = j;
    if (l->tail == NULL)
        l->tail = j;
}

static struct job *list_pop(struct job_list *l)
{
    struct job *j = l->head;
    if (j != NULL) {
        l->head = j->next;
        if (l->head == NULL)
            l->tail = NULL;
        j->next = NULL;
    }
    return j;
}

/* Empties l and returns its jobs as a chain linked by next. */
static struct job *list_take(struct job_list *l)
{
    struct job *j = l->head;
    l->head = l->tail = NULL;
    return j;
}

struct conn {
    struct cf_db_pool *pool;
    int index;
    enum conn_state state;
    PGconn *pg;
    struct event *ev;    /* connecting: one-shot; ready: persistent read */
    struct event *wev;   /* ready: write, while libpq has unsent output */
    struct event *timer; /* connect timeout, or reconnect backoff */
    int backoff_ms;
    int failures;         /* consecutive failed connection attempts */
    struct job_list jobs; /* sent, awaiting results, in order */
    int njobs;
    /* cursor over the head job's results */
    size_t cur_call;
    enum step cur_step;
    int cur_got;
    int in_read;
    int broken_pending;
    unsigned char prepared[CF_DB_MAX_STMTS / 8];
};

struct cf_db_pool {
    struct event_base *base;
    char *conninfo;
    int pipeline;
    int queue_max;
    int queue_timeout_ms;
    int nconns;
    struct conn *conns;
    struct job_list queue;
    int queued;
    struct event *queue_timer;
    struct job_list done; /* failed jobs awaiting their callback */
    struct event *done_ev;
    void (*on_notify)(const char *channel, const char *payload, void *arg);
    void (*on_ready)(struct cf_db_pool *pool, void *arg);
    void *arg;
    int ready;
    int last_connect_failed;
    int closing;
    _Atomic int stat_ready, stat_busy, stat_inflight, stat_queued;
};

static _Atomic int next_stmt_id = 0;

static void conn_start(struct conn *c);
static void conn_broken(struct conn *c, const char *why);
static void pool_pump(struct cf_db_pool *pool);

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int stmt_id(struct cf_db_stmt *st)
{
    int id = atomic_load(&st->id);
    if (id != 0)
        return id;
    int fresh = atomic_fetch_add(&next_stmt_id, 1) + 1;
    if (fresh >= CF_DB_MAX_STMTS)
        cf_fatal("more than %d prepared statements", CF_DB_MAX_STMTS);
    int expected = 0;
    if (atomic_compare_exchange_strong(&st->id, &expected, fresh))
        return fresh;
    return expected;
}

static void stmt_name(int id, char out[16])
{
    snprintf(out, 16, "cf%d", id);
}

static void update_stats(struct cf_db_pool *pool)
{
    int busy = 0, inflight = 0;
    for (int i = 0; i < pool->nconns; i++) {
        busy += pool->conns[i].njobs > 0;
        inflight += pool->conns[i].njobs;
    }
    atomic_store_explicit(&pool->stat_ready, pool->ready, memory_order_relaxed);
    atomic_store_explicit(&pool->stat_busy, busy, memory_order_relaxed);
    atomic_store_explicit(&pool->stat_inflight, inflight, memory_order_relaxed);
    atomic_store_explicit(&pool->stat_queued, pool->queued, memory_order_relaxed);
}

void cf_db_pool_stats(struct cf_db_pool *pool, struct cf_db_stats *out)
{
    out->connections = pool->nconns;
    out->ready = atomic_load_explicit(&pool->stat_ready, memory_order_relaxed);
    out->busy = atomic_load_explicit(&pool->stat_busy, memory_order_relaxed);
    out->inflight = atomic_load_explicit(&pool->stat_inflight, memory_order_relaxed);
    out->queued = atomic_load_explicit(&pool->stat_queued, memory_order_relaxed);
}

/* ---- jobs ---- */

static void job_fail(struct job *j, int status, const char *sqlstate, const char *message)
{
    if (!j->result.ok)
        return; /* keep the first error */
    j->result.ok = 0;
    j->result.status = status;
    snprintf(j->result.sqlstate, sizeof(j->result.sqlstate), "%s", sqlstate ? sqlstate : "");
    snprintf(j->result.message, sizeof(j->result.message), "%s", message ? message : "");
}

/* Maps an SQLSTATE to the HTTP status a client should see (STYLE.md "Errors"). */
static int status_for_sqlstate(const char *s)
{
    if (s == NULL)
        return 500;
    if (!strcmp(s, "23505"))
        return 409; /* unique_violation */
    if (!strncmp(s, "08", 2) || !strcmp(s, "57P01") || !strcmp(s, "57P02") || !strcmp(s, "57P03") ||
        !strcmp(s, "57014") || !strcmp(s, "53300"))
        return 503; /* connection trouble, shutdown, statement timeout, too many connections */
    return 500;
}

static void job_fail_from_result(struct job *j, PGresult *r)
{
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    if (PQresultStatus(r) == PGRES_PIPELINE_ABORTED)
        msg = "statement skipped: an earlier statement of its transaction failed";
    job_fail(j, status_for_sqlstate(state), state, msg ? msg : PQresultErrorMessage(r));
}

static void job_clear_results(struct job *j)
{
    for (size_t i = 0; i < CF_DB_MAX_CALLS; i++) {
        if (j->result.res[i] != NULL)
            PQclear(j->result.res[i]);
        j->result.res[i] = NULL;
    }
}

static void job_free(struct job *j)
{
    job_clear_results(j);
    cf_free(j->arena);
    cf_free(j);
}

/* Calls the job's callback once, then frees it. */
static void job_finish(struct job *j)
{
    if (!j->result.ok && j->result.status == 500)
        cf_warn("database statement %s failed: %s (%s)", j->stmts[0]->name, j->result.message,
                j->result.sqlstate);
    if (j->cb != NULL)
        j->cb(&j->result, j->arg);
    job_free(j);
}

/* Hands a failed job to the deferred-completion list (called back from the loop). */
static void job_defer(struct cf_db_pool *pool, struct job *j, int status, const char *message)
{
    cf_debug("database statement %s not run: %s", j->stmts[0]->name, message);
    job_fail(j, status, "", message);
    list_push(&pool->done, j);
    event_active(pool->done_ev, EV_TIMEOUT, 0);
}

static void on_done(evutil_socket_t fd, short what, void *arg)
{
    struct cf_db_pool *pool = arg;
    (void)fd;
    (void)what;
    struct job *j = list_take(&pool->done);
    while (j != NULL) {
        struct job *next = j->next;
        job_finish(j);
        j = next;
    }
}

static int is_retryable(const struct job *j)
{
    return !j->result.ok && !j->retried &&
           (!strcmp(j->result.sqlstate, "40001") || !strcmp(j->result.sqlstate, "40P01"));
}

/* ---- sending and receiving ---- */

static void cursor_reset(struct conn *c)
{
    c->cur_call = 0;
    c->cur_got = 0;
    c->cur_step = (c->jobs.head && c->jobs.head->need_prepare[0]) ? STEP_PREPARE : STEP_QUERY;
}

static void cursor_advance(struct conn *c)
{
    struct job *j = c->jobs.head;
    c->cur_got = 0;
    if (c->cur_step == STEP_PREPARE) {
        c->cur_step = STEP_QUERY;
        return;
    }
    c->cur_call++;
    if (c->cur_call < j->ncalls)
        c->cur_step = j->need_prepare[c->cur_call] ? STEP_PREPARE : STEP_QUERY;
    else
        c->cur_step = STEP_SYNC;
}

static void conn_flush(struct conn *c)
{
    int r = PQflush(c->pg);
    if (r < 0) {
        conn_broken(c, PQerrorMessage(c->pg));
        return;
    }
    if (r == 1)
        event_add(c->wev, NULL);
    else
        event_del(c->wev);
    /*
     * A partial write makes libpq read whatever the server has sent (to avoid a
     * deadlock; PQpipelineSync flushes too), so results may now wait in libpq's
     * buffer with nothing left on the socket to wake the read event. Run the read
     * side once more; activations coalesce within a loop iteration.
     */
    if (!c->in_read)
        event_active(c->ev, EV_READ, 0);
}

/* Sends j on c. Returns 0, or -1 when the connection failed (j is untouched). */
static int conn_send(struct conn *c, struct job *j)
{
    for (size_t i = 0; i < j->ncalls; i++) {
        struct cf_db_stmt *st = j->stmts[i];
        int id = stmt_id(st);
        char name[16];
        stmt_name(id, name);
        j->need_prepare[i] = 0;
        if (!(c->prepared[id / 8] & (1u << (id % 8)))) {
            if (!PQsendPrepare(c->pg, name, st->sql, st->nparams, NULL))
                return -1;
            c->prepared[id / 8] |= (unsigned char)(1u << (id % 8));
            j->need_prepare[i] = 1;
        }
        if (!PQsendQueryPrepared(c->pg, name, st->nparams, j->values[i], NULL, NULL, 0))
            return -1;
    }
    if (!PQpipelineSync(c->pg))
        return -1;
    list_push(&c->jobs, j);
    c->njobs++;
    if (c->jobs.head == j)
        cursor_reset(c);
    return 0;
}

static void pool_enqueue_front(struct cf_db_pool *pool, struct job *j)
{
    list_push_front(&pool->queue, j);
    pool->queued++;
}

/* The job at the head of c is complete: call back, or retry it once after a
 * serialization failure or deadlock (its transaction was rolled back whole). */
static void conn_complete_head(struct conn *c)
{
    struct job *j = list_pop(&c->jobs);
    c->njobs--;
    cursor_reset(c);
    if (is_retryable(j)) {
        job_clear_results(j);
        memset(&j->result, 0, sizeof(j->result));
        j->result.ok = 1;
        j->retried = 1;
        pool_enqueue_front(c->pool, j);
        return;
    }
    job_finish(j);
}

/* Hands over the NOTIFY messages libpq has parsed. */
static void conn_notifies(struct conn *c)
{
    PGnotify *note;
    while ((note = PQnotifies(c->pg)) != NULL) {
        if (c->pool->on_notify != NULL)
            c->pool->on_notify(note->relname, note->extra, c->pool->arg);
        PQfreemem(note);
    }
}

static void conn_on_read(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    (void)fd;
    (void)what;
    if (!PQconsumeInput(c->pg)) {
        conn_broken(c, PQerrorMessage(c->pg));
        return;
    }
    conn_notifies(c);
    c->in_read = 1;
    while (!c->broken_pending && !PQisBusy(c->pg)) {
        PGresult *r = PQgetResult(c->pg);
        struct job *j = c->jobs.head;
        if (r == NULL) {
            if (j != NULL && c->cur_got) {
                cursor_advance(c);
                continue;
            }
            break;
        }
        ExecStatusType st = PQresultStatus(r);
        if (j == NULL) {
            /* Nothing was asked: a notice of shutdown before the server closes. */
            if (st == PGRES_FATAL_ERROR)
                cf_debug("database connection %d: %s", c->index,
                         PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY));
            PQclear(r);
            continue;
        }
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            if (c->cur_step != STEP_SYNC) {
                c->broken_pending = 1;
                break;
            }
            conn_complete_head(c);
            continue;
        }
        if (c->cur_step == STEP_SYNC || c->cur_got) {
            /* A further result for a statement that already had one: only errors do that. */
            job_fail_from_result(j, r);
            PQclear(r);
            continue;
        }
        c->cur_got = 1;
        if (c->cur_step == STEP_PREPARE) {
            if (st != PGRES_COMMAND_OK) {
                int id = atomic_load(&j->stmts[c->cur_call]->id);
                c->prepared[id / 8] &= (unsigned char)~(1u << (id % 8));
                job_fail_from_result(j, r);
            }
            PQclear(r);
        } else if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
            j->result.res[c->cur_call] = r;
        } else {
            job_fail_from_result(j, r);
            PQclear(r);
        }
    }
    c->in_read = 0;
    conn_notifies(c); /* parsed while reading results */
    if (c->broken_pending || PQstatus(c->pg) == CONNECTION_BAD) {
        conn_broken(c, c->broken_pending ? "unexpected result order" : PQerrorMessage(c->pg));
        return;
    }
    pool_pump(c->pool);
    update_stats(c->pool);
}

static void conn_on_write(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    (void)fd;
    (void)what;
    conn_flush(c);
}

/* ---- connection life cycle ---- */

static void conn_clear_events(struct conn *c)
{
    if (c->ev) {
        event_free(c->ev);
        c->ev = NULL;
    }
    if (c->wev) {
        event_free(c->wev);
        c->wev = NULL;
    }
}

static void conn_schedule_reconnect(struct conn *c)
{
    c->state = CONN_DOWN;
    int delay = c->backoff_ms;
    c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : c->backoff_ms * 2;
    delay += rand() % (delay / 4 + 1); /* jitter: instances and workers do not reconnect in step */
    struct timeval tv = {delay / 1000, (delay % 1000) * 1000};
    event_add(c->timer, &tv);
}

static void fail_queue(struct cf_db_pool *pool, const char *why)
{
    struct job *j = list_take(&pool->queue);
    pool->queued = 0;
    while (j != NULL) {
        struct job *next = j->next;
        job_defer(pool, j, 503, why);
        j = next;
    }
}

static void conn_failed_connect(struct conn *c, const char *why)
{
    struct cf_db_pool *pool = c->pool;
    char msg[256];
    snprintf(msg, sizeof(msg), "%s", why ? why : "unknown error");
    msg[strcspn(msg, "\n")] = '\0';
    if (c->failures++ == 0)
        cf_warn("could not connect to the database (connection %d): %s", c->index, msg);
    else
        cf_debug("could not connect to the database (connection %d): %s", c->index, msg);
    conn_clear_events(c);
    event_del(c->timer);
    if (c->pg) {
        PQfinish(c->pg);
        c->pg = NULL;
    }
    pool->last_connect_failed = 1;
    if (pool->ready == 0)
        fail_queue(pool, "database unavailable");
    conn_schedule_reconnect(c);
    update_stats(pool);
}

static void conn_ready(struct conn *c)
{
    struct cf_db_pool *pool = c->pool;
    conn_clear_events(c);
    event_del(c->timer);
    if (PQsetnonblocking(c->pg, 1) != 0 || !PQenterPipelineMode(c->pg)) {
        conn_failed_connect(c, PQerrorMessage(c->pg));
        return;
    }
    int fd = PQsocket(c->pg);
    c->ev = event_new(pool->base, fd, EV_READ | EV_PERSIST, conn_on_read, c);
    c->wev = event_new(pool->base, fd, EV_WRITE | EV_PERSIST, conn_on_write, c);
    event_add(c->ev, NULL);
    memset(c->prepared, 0, sizeof(c->prepared));
    if (c->failures > 0)
        cf_info("database connection %d restored", c->index);
    c->failures = 0;
    c->backoff_ms = BACKOFF_MIN_MS;
    c->state = CONN_READY;
    pool->ready++;
    pool->last_connect_failed = 0;
    if (pool->on_ready != NULL)
        pool->on_ready(pool, pool->arg);
    pool_pump(pool);
    update_stats(pool);
}

static void conn_on_connect_event(evutil_socket_t fd, short what, void *arg);

static void conn_wait(struct conn *c, short what)
{
    if (c->ev)
        event_free(c->ev);
    c->ev = event_new(c->pool->base, PQsocket(c->pg), what, conn_on_connect_event, c);
    event_add(c->ev, NULL);
}

static void conn_poll(struct conn *c)
{
    switch (PQconnectPoll(c->pg)) {
    case PGRES_POLLING_READING:
        conn_wait(c, EV_READ);
        break;
    case PGRES_POLLING_WRITING:
        conn_wait(c, EV_WRITE);
        break;
    case PGRES_POLLING_OK:
        conn_ready(c);
        break;
    default:
        conn_failed_connect(c, PQerrorMessage(c->pg));
        break;
    }
}

static void conn_on_connect_event(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    conn_poll(arg);
}

static void conn_on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    (void)fd;
    (void)what;
    if (c->state == CONN_CONNECTING)
        conn_failed_connect(c, "timed out");
    else if (c->state == CONN_DOWN)
        conn_start(c);
}

static void conn_start(struct conn *c)
{
    static const char *const keywords[] = {"application_name", "dbname", NULL};
    const char *values[] = {"confer", c->pool->conninfo, NULL};
    c->pg = PQconnectStartParams(keywords, values, 1);
    if (c->pg == NULL || PQstatus(c->pg) == CONNECTION_BAD) {
        conn_failed_connect(c, c->pg ? PQerrorMessage(c->pg) : "out of memory");
        return;
    }
    c->state = CONN_CONNECTING;
    struct timeval tv = {CONNECT_TIMEOUT_MS / 1000, 0};
    event_add(c->timer, &tv);
    conn_wait(c, EV_WRITE);
}

static void conn_broken(struct conn *c, const char *why)
{
    struct cf_db_pool *pool = c->pool;
    if (c->in_read) {
        c->broken_pending = 1;
        return;
    }
    char msg[256];
    snprintf(msg, sizeof(msg), "%s", why && why[0] ? why : "connection closed");
    msg[strcspn(msg, "\n")] = '\0';
    if (!pool->closing)
        cf_warn("database connection %d lost: %s", c->index, msg);
    conn_clear_events(c);
    if (c->pg) {
        PQfinish(c->pg);
        c->pg = NULL;
    }
    if (c->state == CONN_READY)
        pool->ready--;
    c->broken_pending = 0;
    /* Jobs already sent may or may not have committed: they fail, they are not resent. */
    struct job *j = list_take(&c->jobs);
    c->njobs = 0;
    while (j != NULL) {
        struct job *next = j->next;
        job_clear_results(j);
        job_defer(pool, j, 503, "database connection lost");
        j = next;
    }
    c->failures = 1; /* the next successful connect is logged as a restore */
    c->backoff_ms = BACKOFF_MIN_MS;
    if (pool->closing) {
        c->state = CONN_DOWN;
        return;
    }
    /* Reconnect soon; if the server is gone the attempt fails fast and backs off. */
    conn_schedule_reconnect(c);
    update_stats(pool);
}

/* ---- the pool ---- */

static struct conn *least_loaded(struct cf_db_pool *pool)
{
    struct conn *best = NULL;
    for (int i = 0; i < pool->nconns; i++) {
        struct conn *c = &pool->conns[i];
        if (c->state != CONN_READY || c->broken_pending || c->njobs >= pool->pipeline)
            continue;
        if (best == NULL || c->njobs < best->njobs)
            best = c;
    }
    return best;
}

static void pool_pump(struct cf_db_pool *pool)
{
    while (pool->queue.head != NULL) {
        struct conn *c = least_loaded(pool);
        if (c == NULL)
            break;
        struct job *j = list_pop(&pool->queue);
        pool->queued--;
        if (conn_send(c, j) != 0) {
            pool_enqueue_front(pool, j);
            conn_broken(c, PQerrorMessage(c->pg));
            continue;
        }
        conn_flush(c);
    }
    if (pool->queue.head != NULL && !event_pending(pool->queue_timer, EV_TIMEOUT, NULL)) {
        struct timeval tv = {0, 100 * 1000};
        event_add(pool->queue_timer, &tv);
    }
    update_stats(pool);
}

static void on_queue_timer(evutil_socket_t fd, short what, void *arg)
{
    struct cf_db_pool *pool = arg;
    (void)fd;
    (void)what;
    long long now = now_ms();
    /* Jobs are queued in deadline order (but for rare retries at the front). */
    while (pool->queue.head != NULL && pool->queue.head->deadline_ms <= now) {
        struct job *j = list_pop(&pool->queue);
        pool->queued--;
        job_defer(pool, j, 503, "timed out waiting for a database connection");
    }
    pool_pump(pool);
}

struct cf_db_pool *cf_db_pool_create(struct event_base *base, const struct cf_db_pool_options *opts)
{
    if (opts->connections < 1 || opts->pipeline < 1 || opts->queue_max < 1)
        return NULL;
    struct cf_db_pool *pool = cf_calloc(1, sizeof(*pool));
    pool->base = base;
    pool->conninfo = cf_strdup(opts->conninfo);
    pool->pipeline = opts->pipeline;
    pool->on_notify = opts->on_notify;
    pool->on_ready = opts->on_ready;
    pool->arg = opts->arg;
    pool->queue_max = opts->queue_max;
    pool->queue_timeout_ms = opts->queue_timeout_ms > 0 ? opts->queue_timeout_ms : 5000;
    pool->nconns = opts->connections;
    pool->conns = cf_calloc((size_t)pool->nconns, sizeof(struct conn));
    pool->queue_timer = event_new(base, -1, 0, on_queue_timer, pool);
    pool->done_ev = event_new(base, -1, 0, on_done, pool);
    for (int i = 0; i < pool->nconns; i++) {
        struct conn *c = &pool->conns[i];
        c->pool = pool;
        c->index = i;
        c->backoff_ms = BACKOFF_MIN_MS;
        c->timer = event_new(base, -1, 0, conn_on_timer, c);
        conn_start(c);
    }
    update_stats(pool);
    return pool;
}

void cf_db_pool_free(struct cf_db_pool *pool)
{
    if (pool == NULL)
        return;
    pool->closing = 1;
    for (int i = 0; i < pool->nconns; i++) {
        struct conn *c = &pool->conns[i];
        conn_broken(c, "server shutting down");
        event_free(c->timer);
    }
    fail_queue(pool, "server shutting down");
    on_done(-1, 0, pool);
    event_free(pool->queue_timer);
    event_free(pool->done_ev);
    cf_free(pool->conns);
    cf_free(pool->conninfo);
    cf_free(pool);
}

void cf_db_exec(struct cf_db_pool *pool, const struct cf_db_call *calls, size_t n, cf_db_cb cb,
                void *arg)
{
    struct job *j = cf_calloc(1, sizeof(*j));
    j->cb = cb;
    j->arg = arg;
    j->result.ok = 1;
    if (n == 0 || n > CF_DB_MAX_CALLS)
        cf_fatal("cf_db_exec: %zu statements in one job", n);
    j->ncalls = n;
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (calls[i].stmt->nparams > CF_DB_MAX_PARAMS)
            cf_fatal("statement %s has too many parameters", calls[i].stmt->name);
        for (int k = 0; k < calls[i].stmt->nparams; k++)
            if (calls[i].params[k] != NULL)
                total += strlen(calls[i].params[k]) + 1;
    }
    j->arena = cf_malloc(total ? total : 1);
    char *w = j->arena;
    for (size_t i = 0; i < n; i++) {
        j->stmts[i] = calls[i].stmt;
        for (int k = 0; k < calls[i].stmt->nparams; k++) {
            const char *v = calls[i].params[k];
            if (v == NULL) {
                j->values[i][k] = NULL;
                continue;
            }
            size_t len = strlen(v) + 1;
            memcpy(w, v, len);
            j->values[i][k] = w;
            w += len;
        }
    }
    if (pool->closing) {
        job_defer(pool, j, 503, "server shutting down");
        return;
    }
    if (pool->ready == 0 && pool->last_connect_failed) {
        job_defer(pool, j, 503, "database unavailable");
        return;
    }
    if (pool->queued >= pool->queue_max) {
        job_defer(pool, j, 503, "database queue full");
        return;
    }
    j->deadline_ms = now_ms() + pool->queue_timeout_ms;
    list_push(&pool->queue, j);
    pool->queued++;
    pool_pump(pool);
}

void cf_db_query(struct cf_db_pool *pool, struct cf_db_stmt *stmt, const char *const *params,
                 cf_db_cb cb, void *arg)
{
    struct cf_db_call call;
    memset(&call, 0, sizeof(call));
    call.stmt = stmt;
    for (int k = 0; k < stmt->nparams && params != NULL; k++)
        call.params[k] = params[k];
    cf_db_exec(pool, &call, 1, cb, arg);
}
