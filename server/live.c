/*
 * live: Server-Sent Events fed by LISTEN/NOTIFY; see live.h.
 *
 * Lifetimes: a subscriber (struct sub) owns its evhttp request from the moment the
 * stream starts until one of three ends: the client goes away or is dropped (its
 * connection is freed here, which frees the request), the stream is ended (session
 * gone, shutdown: evhttp_send_reply_end), or evhttp itself fails the connection
 * (write error, write timeout), which calls on_conn_closed. A stream (struct stream)
 * lives while it has subscribers or a fetch is under way.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>

#include "alloc.h"
#include "auth.h"
#include "cursor.h"
#include "db.h"
#include "http_server.h"
#include "live.h"
#include "log.h"
#include "request.h"
#include "routes.h"

#define FETCH_LIMIT 200
#define RETRY_MS 1000
#define FETCHES_MAX 8 /* a hub's fetches in flight; more streams wait their turn */

static struct cf_db_stmt q_listen = CF_DB_STMT("live_listen", "LISTEN confer_live", 0);
static struct cf_db_stmt q_subscribe =
    CF_DB_STMT("live_subscribe", "SELECT cf_live_subscribe($1, $2)", 2);
static struct cf_db_stmt q_fetch = CF_DB_STMT(
    "live_fetch", "SELECT seq, kind, data, audience FROM cf_live_fetch($1, $2, $3, $4, $5)", 5);
static struct cf_db_stmt q_sessions =
    CF_DB_STMT("live_sessions", "SELECT cf_live_sessions($1::bigint[], $2, $3)", 3);

struct bell {
    char kind; /* 't' a thread's stream, 'u' a member's */
    int64_t key;
    int64_t seq;
};

struct sub;

struct stream {
    struct stream *hnext;
    struct cf_live_hub *hub;
    char kind;
    int64_t key;
    struct sub *subs;
    int nsubs;
    int64_t wanted; /* the highest id rung for it */
    int64_t after;  /* the fetch under way reads events after this id */
    int fetching;
    int again; /* fetch once more when the current fetch ends */
    int failed;
    int waiting;          /* in the hub's queue of fetches to start */
    struct stream *wnext; /* that queue */
};

struct sub {
    struct sub *prev, *next;   /* the hub's */
    struct sub *sprev, *snext; /* the stream's */
    struct stream *stream;
    struct cf_live_hub *hub;
    struct evhttp_request *req;
    struct evhttp_connection *evcon;
    struct event *read_ev;
    int64_t user_id, session_id;
    int64_t cursor; /* the last id it has been given (or skipped) */
    int paused;     /* its unsent output passed the limit: nothing more until it drains */
    time_t paused_at;
    unsigned checked; /* the session check that asked about it */
};

struct cf_live_hub {
    struct cf_worker *w;
    pthread_mutex_t lock; /* guards bells, nbells, cap, resync */
    struct bell *bells;
    size_t nbells, cap;
    int resync;
    struct event *bell_ev;
    struct event *heartbeat;
    struct event *retry;
    struct stream **table;
    size_t nbuckets, nstreams;
    struct sub *subs;
    long nsubs;
    int checking;
    unsigned check; /* the session check under way */
    int stopping;
    int fetches; /* in flight */
    struct stream *wait_head, *wait_tail;
    struct evbuffer *scratch;
};

struct cf_live_listener {
    struct cf_worker *w0;
    struct cf_db_pool *pool;
};

static struct cf_live_stats *stats_of(struct cf_live_hub *hub)
{
    return &hub->w->server->live_stats;
}

/* ---- streams ---- */

static size_t bucket(const struct cf_live_hub *hub, char kind, int64_t key)
{
    uint64_t h = (uint64_t)key * 0x9e3779b97f4a7c15ULL ^ (uint64_t)(unsigned char)kind;
    return (size_t)(h >> 17) & (hub->nbuckets - 1);
}

static struct stream *stream_find(struct cf_live_hub *hub, char kind, int64_t key)
{
    for (struct stream *s = hub->table[bucket(hub, kind, key)]; s; s = s->hnext)
        if (s->kind == kind && s->key == key)
            return s;
    return NULL;
}

static void table_grow(struct cf_live_hub *hub)
{
    size_t n = hub->nbuckets * 2;
    struct stream **t = cf_calloc(n, sizeof(*t));
    struct stream **old = hub->table;
    size_t oldn = hub->nbuckets;
    hub->table = t;
    hub->nbuckets = n;
    for (size_t i = 0; i < oldn; i++) {
        struct stream *s = old[i];
        while (s) {
            struct stream *next = s->hnext;
            size_t b = bucket(hub, s->kind, s->key);
            s->hnext = t[b];
            t[b] = s;
            s = next;
        }
    }
    cf_free(old);
}

static struct stream *stream_get(struct cf_live_hub *hub, char kind, int64_t key)
{
    struct stream *s = stream_find(hub, kind, key);
    if (s != NULL)
        return s;
    if (hub->nstreams + 1 > hub->nbuckets)
        table_grow(hub);
    s = cf_calloc(1, sizeof(*s));
    s->hub = hub;
    s->kind = kind;
    s->key = key;
    size_t b = bucket(hub, kind, key);
    s->hnext = hub->table[b];
    hub->table[b] = s;
    hub->nstreams++;
    return s;
}

/* Frees s once nobody listens and no fetch will come back to it. */
static void stream_release(struct stream *s)
{
    if (s->nsubs > 0 || s->fetching || s->waiting)
        return;
    struct cf_live_hub *hub = s->hub;
    struct stream **p = &hub->table[bucket(hub, s->kind, s->key)];
    while (*p != s)
        p = &(*p)->hnext;
    *p = s->hnext;
    hub->nstreams--;
    cf_free(s);
}

/* ---- subscribers ---- */

static void sub_unlink(struct sub *sub)
{
    struct cf_live_hub *hub = sub->hub;
    if (sub->prev)
        sub->prev->next = sub->next;
    else
        hub->subs = sub->next;
    if (sub->next)
        sub->next->prev = sub->prev;
    hub->nsubs--;
    atomic_fetch_sub(&stats_of(hub)->subscribers, 1);
    struct stream *s = sub->stream;
    if (sub->sprev)
        sub->sprev->snext = sub->snext;
    else
        s->subs = sub->snext;
    if (sub->snext)
        sub->snext->sprev = sub->sprev;
    s->nsubs--;
    if (sub->read_ev) {
        event_free(sub->read_ev);
        sub->read_ev = NULL;
    }
    if (sub->evcon)
        evhttp_connection_set_closecb(sub->evcon, NULL, NULL);
    stream_release(s);
}

enum sub_end { END_STREAM, END_CONNECTION };

/* END_STREAM: the last chunk is sent and the reply completes; END_CONNECTION: the
 * connection is closed at once (the client is gone, or is dropped). */
static void sub_close(struct sub *sub, enum sub_end how)
{
    sub_unlink(sub);
    if (how == END_STREAM || sub->evcon == NULL)
        evhttp_send_reply_end(sub->req);
    else
        evhttp_connection_free(sub->evcon); /* frees the request with it */
    cf_free(sub);
}

/* evhttp gave up the connection (write error or timeout): the request was taken off
 * it, and is ours to free. */
static void on_conn_closed(struct evhttp_connection *evcon, void *arg)
{
    struct sub *sub = arg;
    (void)evcon;
    sub->evcon = NULL;
    sub_unlink(sub);
    if (evhttp_request_get_connection(sub->req) == NULL)
        evhttp_send_reply_end(sub->req); /* with no connection, this frees it */
    cf_free(sub);
}

/* A stream's client sends nothing after its request: readable means it closed (or
 * misbehaves), either way the stream ends. */
static void on_sub_readable(evutil_socket_t fd, short what, void *arg)
{
    struct sub *sub = arg;
    char b[16];
    (void)what;
    ssize_t n = recv(fd, b, sizeof(b), MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    sub_close(sub, END_CONNECTION);
}

static void stream_fetch(struct stream *s);

/* evhttp has written everything queued for sub: a paused stream goes on, from its
 * cursor, with the events it was not given. */
static void on_drained(struct evhttp_connection *evcon, void *arg)
{
    struct sub *sub = arg;
    (void)evcon;
    if (sub->paused) {
        sub->paused = 0;
        stream_fetch(sub->stream);
    }
}

/*
 * Writes text to sub. When its unsent output would pass CONFER_SSE_BUFFER (one event
 * larger than the limit still goes to a client that has read everything), sub is
 * paused instead: it gets nothing more, its cursor stays, until evhttp has written
 * what it holds (on_drained); a client that stays paused for a heartbeat is dropped
 * (on_heartbeat). So a client catching up at speed is never dropped, and none holds
 * more than the limit and one event. Returns 0 written, 1 paused.
 */
static int sub_write(struct sub *sub, const char *text, size_t len)
{
    struct cf_live_hub *hub = sub->hub;
    if (sub->evcon == NULL)
        return 0;
    if (sub->paused)
        return 1;
    struct bufferevent *bev = evhttp_connection_get_bufferevent(sub->evcon);
    size_t pending = evbuffer_get_length(bufferevent_get_output(bev));
    if (pending > 0 && pending + len > hub->w->server->cfg->sse_buffer) {
        sub->paused = 1;
        sub->paused_at = time(NULL);
        return 1;
    }
    evbuffer_add(hub->scratch, text, len);
    /* moves the bytes out; on_drained runs when the connection's output is empty */
    evhttp_send_reply_chunk_with_cb(sub->req, hub->scratch, on_drained, sub);
    return 0;
}

/* ---- fetching a stream's events ---- */

/* Where the next fetch starts: the least cursor of the subscribers not paused
 * (INT64_MAX when every one is). */
static int64_t min_cursor(const struct stream *s)
{
    int64_t m = INT64_MAX;
    for (const struct sub *x = s->subs; x; x = x->snext)
        if (!x->paused && x->cursor < m)
            m = x->cursor;
    return m;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* "{1,2,3}" -> sorted ids (cf_free); *n their count. */
static int64_t *parse_ids(const char *text, size_t *n)
{
    size_t cap = 8, k = 0;
    int64_t *ids = cf_malloc(cap * sizeof(*ids));
    const char *p = text;
    while (*p) {
        if (*p >= '0' && *p <= '9') {
            char *end;
            long long v = strtoll(p, &end, 10);
            if (k == cap) {
                cap *= 2;
                ids = cf_realloc(ids, cap * sizeof(*ids));
            }
            ids[k++] = v;
            p = end;
        } else {
            p++;
        }
    }
    qsort(ids, k, sizeof(*ids), cmp_i64);
    *n = k;
    return ids;
}

static int has_id(const int64_t *ids, size_t n, int64_t id)
{
    return bsearch(&id, ids, n, sizeof(*ids), cmp_i64) != NULL;
}

/* ids (sorted here, each once) as a PostgreSQL bigint[] literal, "{1,2}" (cf_free). */
static char *id_array(int64_t *ids, size_t n)
{
    qsort(ids, n, sizeof(*ids), cmp_i64);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || ids[i] != ids[k - 1])
            ids[k++] = ids[i];
    size_t size = k * 21 + 3;
    char *out = cf_malloc(size);
    if (cf_cursor_array(ids, k, out, size) != 0)
        cf_fatal("an id array did not fit its buffer");
    return out;
}

/* "id: N\nevent: kind\ndata: ...\n\n" into buf; a line of the data (JSON may have
 * newlines between its values) is a data line of its own. */
static void format_event(struct evbuffer *buf, const char *seq, const char *kind, const char *data)
{
    evbuffer_add_printf(buf, "id: %s\nevent: %s\n", seq, kind);
    for (;;) {
        size_t n = strcspn(data, "\r\n");
        evbuffer_add(buf, "data: ", 6);
        evbuffer_add(buf, data, n);
        evbuffer_add(buf, "\n", 1);
        if (data[n] == '\0')
            break;
        data += n + 1;
    }
    evbuffer_add(buf, "\n", 1);
}

static void deliver(struct stream *s, PGresult *res, int64_t *last)
{
    struct cf_live_hub *hub = s->hub;
    struct evbuffer *msg = evbuffer_new();
    int rows = PQntuples(res);
    for (int i = 0; i < rows; i++) {
        int64_t seq = strtoll(PQgetvalue(res, i, 0), NULL, 10);
        *last = seq;
        size_t naud = 0;
        int64_t *aud = PQgetisnull(res, i, 3) ? NULL : parse_ids(PQgetvalue(res, i, 3), &naud);
        evbuffer_drain(msg, evbuffer_get_length(msg));
        format_event(msg, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2));
        size_t len = evbuffer_get_length(msg);
        const char *text = (const char *)evbuffer_pullup(msg, -1);
        struct sub *x = s->subs;
        while (x) {
            struct sub *next = x->snext;
            /* a paused subscriber, or one that joined behind this fetch's start, is
             * served by a later fetch from its own cursor */
            if (!x->paused && x->cursor < seq && x->cursor >= s->after) {
                if (aud != NULL && !has_id(aud, naud, x->user_id)) {
                    x->cursor = seq; /* not for this reader: skipped */
                } else if (sub_write(x, text, len) == 0) {
                    x->cursor = seq;
                    atomic_fetch_add(&stats_of(hub)->events, 1);
                }
            }
            x = next;
        }
        cf_free(aud);
    }
    evbuffer_free(msg);
}

static void fetch_next_waiting(struct cf_live_hub *hub);

static void on_fetched(struct cf_db_result *r, void *arg)
{
    struct stream *s = arg;
    struct cf_live_hub *hub = s->hub;
    hub->fetches--;
    if (hub->stopping || !r->ok) {
        s->fetching = 0;
        if (!hub->stopping) {
            /* the database is away: the retry timer fetches it again */
            s->failed = 1;
            if (!event_pending(hub->retry, EV_TIMEOUT, NULL)) {
                struct timeval tv = {RETRY_MS / 1000, (RETRY_MS % 1000) * 1000};
                event_add(hub->retry, &tv);
            }
        }
        stream_release(s);
        fetch_next_waiting(hub);
        return;
    }
    int64_t last = 0;
    deliver(s, r->res[0], &last); /* s->fetching keeps s while subscribers go */
    s->fetching = 0;
    int full = PQntuples(r->res[0]) == FETCH_LIMIT;
    int64_t from = min_cursor(s);
    if (s->nsubs > 0 && from != INT64_MAX && (full || s->again || s->wanted > from))
        stream_fetch(s);
    else
        stream_release(s);
    fetch_next_waiting(hub);
}

/* Sends the fetch of s: its events after the least cursor of its subscribers. */
static void fetch_send(struct stream *s)
{
    struct cf_live_hub *hub = s->hub;
    int64_t from = min_cursor(s);
    s->again = 0;
    s->failed = 0;
    if (s->nsubs == 0 || from == INT64_MAX) {
        stream_release(s);
        return;
    }
    s->fetching = 1;
    s->after = from;
    hub->fetches++;
    char kind[2] = {s->kind, '\0'}, key[24], after[24], limit[12];
    cf_id_text(key, s->key);
    snprintf(after, sizeof(after), "%" PRId64, from);
    snprintf(limit, sizeof(limit), "%d", FETCH_LIMIT);
    /* the subscribers' members, once each */
    int64_t *ids = cf_malloc((size_t)s->nsubs * sizeof(*ids));
    size_t n = 0;
    for (struct sub *x = s->subs; x; x = x->snext)
        ids[n++] = x->user_id;
    char *users = id_array(ids, n);
    cf_free(ids);
    const char *params[] = {kind, key, after, users, limit};
    cf_db_query(hub->w->db, &q_fetch, params, on_fetched, s);
    cf_free(users);
}

static void fetch_next_waiting(struct cf_live_hub *hub)
{
    while (hub->fetches < FETCHES_MAX && hub->wait_head != NULL && !hub->stopping) {
        struct stream *s = hub->wait_head;
        hub->wait_head = s->wnext;
        if (hub->wait_head == NULL)
            hub->wait_tail = NULL;
        s->waiting = 0;
        s->wnext = NULL;
        fetch_send(s);
    }
}

/* Fetches s's new events now, after the fetch under way, or when the hub has room
 * (at most FETCHES_MAX in flight, so that a reconnect's fetch of every stream never
 * fills the requests' queue). */
static void stream_fetch(struct stream *s)
{
    struct cf_live_hub *hub = s->hub;
    if (s->fetching) {
        s->again = 1;
        return;
    }
    if (s->waiting || s->nsubs == 0 || hub->stopping)
        return;
    if (hub->fetches >= FETCHES_MAX) {
        s->waiting = 1;
        if (hub->wait_tail)
            hub->wait_tail->wnext = s;
        else
            hub->wait_head = s;
        hub->wait_tail = s;
        return;
    }
    fetch_send(s);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    struct cf_live_hub *hub = arg;
    (void)fd;
    (void)what;
    for (size_t i = 0; i < hub->nbuckets; i++)
        for (struct stream *s = hub->table[i]; s; s = s->hnext)
            if (s->failed)
                stream_fetch(s);
}

/* ---- rings from the listener ---- */

static void on_bells(evutil_socket_t fd, short what, void *arg)
{
    struct cf_live_hub *hub = arg;
    (void)fd;
    (void)what;
    pthread_mutex_lock(&hub->lock);
    struct bell *bells = hub->bells;
    size_t n = hub->nbells;
    int resync = hub->resync;
    hub->bells = NULL;
    hub->nbells = hub->cap = 0;
    hub->resync = 0;
    pthread_mutex_unlock(&hub->lock);
    if (!hub->stopping) {
        for (size_t i = 0; i < n; i++) {
            struct stream *s = stream_find(hub, bells[i].kind, bells[i].key);
            if (s == NULL)
                continue;
            if (bells[i].seq > s->wanted)
                s->wanted = bells[i].seq;
            if (s->wanted > min_cursor(s))
                stream_fetch(s);
        }
        if (resync)
            for (size_t i = 0; i < hub->nbuckets; i++)
                for (struct stream *s = hub->table[i]; s; s = s->hnext)
                    stream_fetch(s);
    }
    cf_free(bells);
}

/* Called on the listener's thread. */
static void hub_ring(struct cf_live_hub *hub, const struct bell *b)
{
    pthread_mutex_lock(&hub->lock);
    if (b == NULL) {
        hub->resync = 1;
    } else {
        if (hub->nbells == hub->cap) {
            hub->cap = hub->cap ? hub->cap * 2 : 64;
            hub->bells = cf_realloc(hub->bells, hub->cap * sizeof(*hub->bells));
        }
        hub->bells[hub->nbells++] = *b;
    }
    pthread_mutex_unlock(&hub->lock);
    event_active(hub->bell_ev, EV_READ, 0);
}

/* ---- heartbeat and sessions ---- */

static void on_sessions(struct cf_db_result *r, void *arg)
{
    struct cf_live_hub *hub = arg;
    hub->checking = 0;
    if (!r->ok || hub->stopping || PQgetisnull(r->res[0], 0, 0))
        return;
    size_t n = 0;
    int64_t *live = parse_ids(PQgetvalue(r->res[0], 0, 0), &n);
    struct sub *x = hub->subs;
    while (x) {
        struct sub *next = x->next;
        /* only the streams this check asked about: one begun since has a fresh session */
        if (x->checked == hub->check && !has_id(live, n, x->session_id)) {
            cf_debug("event stream of user %" PRId64 " ended with its session", x->user_id);
            sub_close(x, END_STREAM);
        }
        x = next;
    }
    cf_free(live);
}

static void on_heartbeat(evutil_socket_t fd, short what, void *arg)
{
    static const char beat[] = ": heartbeat\n\n";
    struct cf_live_hub *hub = arg;
    const struct cf_config *cfg = hub->w->server->cfg;
    (void)fd;
    (void)what;
    if (hub->nsubs == 0)
        return;
    time_t now = time(NULL);
    /* the sessions behind the streams, asked about unless the last check is still out */
    int ask = !hub->checking;
    unsigned check = hub->check + 1;
    int64_t *ids = ask ? cf_malloc((size_t)hub->nsubs * sizeof(*ids)) : NULL;
    size_t n = 0;
    struct sub *x = hub->subs;
    while (x) {
        struct sub *next = x->next;
        if (x->paused && now - x->paused_at >= cfg->sse_heartbeat_s) {
            /* it has not read for a heartbeat: dropped; it reconnects and resumes */
            atomic_fetch_add(&stats_of(hub)->dropped, 1);
            cf_info("event stream of user %" PRId64 " dropped: its client does not read",
                    x->user_id);
            sub_close(x, END_CONNECTION);
        } else {
            sub_write(x, beat, sizeof(beat) - 1);
            if (ask) {
                x->checked = check;
                ids[n++] = x->session_id;
            }
        }
        x = next;
    }
    if (ask && n > 0) {
        char idle[12], touch[12];
        snprintf(idle, sizeof(idle), "%d", cfg->session_idle_s);
        snprintf(touch, sizeof(touch), "%d", cf_auth_touch_interval(cfg));
        char *sessions = id_array(ids, n);
        const char *params[] = {sessions, idle, touch};
        hub->checking = 1;
        hub->check = check;
        cf_db_query(hub->w->db, &q_sessions, params, on_sessions, hub);
        cf_free(sessions);
    }
    cf_free(ids);
}

/* ---- the hub ---- */

struct cf_live_hub *cf_live_hub_create(struct cf_worker *w)
{
    struct cf_live_hub *hub = cf_calloc(1, sizeof(*hub));
    hub->w = w;
    pthread_mutex_init(&hub->lock, NULL);
    hub->nbuckets = 64;
    hub->table = cf_calloc(hub->nbuckets, sizeof(*hub->table));
    hub->scratch = evbuffer_new();
    hub->bell_ev = event_new(w->base, -1, 0, on_bells, hub);
    hub->retry = event_new(w->base, -1, 0, on_retry, hub);
    hub->heartbeat = event_new(w->base, -1, EV_PERSIST, on_heartbeat, hub);
    struct timeval tv = {w->server->cfg->sse_heartbeat_s, 0};
    event_add(hub->heartbeat, &tv);
    return hub;
}

void cf_live_hub_stop(struct cf_live_hub *hub)
{
    if (hub == NULL || hub->stopping)
        return;
    hub->stopping = 1;
    event_del(hub->heartbeat);
    event_del(hub->retry);
    while (hub->subs)
        sub_close(hub->subs, END_STREAM);
}

void cf_live_hub_free(struct cf_live_hub *hub)
{
    if (hub == NULL)
        return;
    cf_live_hub_stop(hub);
    for (size_t i = 0; i < hub->nbuckets; i++) {
        struct stream *s = hub->table[i];
        while (s) {
            struct stream *next = s->hnext;
            cf_free(s);
            s = next;
        }
    }
    cf_free(hub->table);
    cf_free(hub->bells);
    event_free(hub->bell_ev);
    event_free(hub->retry);
    event_free(hub->heartbeat);
    evbuffer_free(hub->scratch);
    pthread_mutex_destroy(&hub->lock);
    cf_free(hub);
}

/* ---- the listener ---- */

static void ring_all(struct cf_live_listener *l, const struct bell *b)
{
    struct cf_server *srv = l->w0->server;
    for (int i = 0; i < srv->nworkers; i++)
        hub_ring(srv->workers[i].live, b);
}

static void on_notify(const char *channel, const char *payload, void *arg)
{
    struct cf_live_listener *l = arg;
    struct bell b;
    char *end;
    if (strcmp(channel, "confer_live") != 0 || (payload[0] != 't' && payload[0] != 'u') ||
        payload[1] != ' ')
        return;
    b.kind = payload[0];
    b.key = strtoll(payload + 2, &end, 10);
    if (*end != ' ')
        return;
    b.seq = strtoll(end + 1, NULL, 10);
    ring_all(l, &b);
}

static void on_listening(struct cf_db_result *r, void *arg)
{
    struct cf_live_listener *l = arg;
    if (!r->ok) {
        cf_warn("could not LISTEN for live events: %s", r->message);
        return;
    }
    atomic_store(&l->w0->server->live_stats.listening, 1);
    /* whatever was rung while nobody listened is fetched now */
    ring_all(l, NULL);
}

static void on_listener_ready(struct cf_db_pool *pool, void *arg)
{
    struct cf_live_listener *l = arg;
    atomic_store(&l->w0->server->live_stats.listening, 0);
    cf_db_query(pool, &q_listen, NULL, on_listening, l);
}

struct cf_live_listener *cf_live_listener_create(struct cf_worker *w0)
{
    struct cf_live_listener *l = cf_calloc(1, sizeof(*l));
    l->w0 = w0;
    struct cf_db_pool_options opts = {
        .conninfo = w0->server->cfg->database_url,
        .connections = 1,
        .pipeline = 2,
        .queue_max = 4,
        .queue_timeout_ms = 5000,
        .on_notify = on_notify,
        .on_ready = on_listener_ready,
        .arg = l,
    };
    l->pool = cf_db_pool_create(w0->base, &opts);
    return l;
}

void cf_live_listener_free(struct cf_live_listener *l)
{
    if (l == NULL)
        return;
    cf_db_pool_free(l->pool);
    cf_free(l);
}

/* ---- GET /api/v1/events ---- */

struct subscribing {
    struct cf_request *req;
    char kind;
    int64_t key;
    int64_t last; /* Last-Event-ID, or -1 */
};

static void start_stream(struct subscribing *p, json_t *where)
{
    struct cf_request *req = p->req;
    struct cf_worker *w = req->worker;
    struct cf_live_hub *hub = w->live;
    int64_t head = json_integer_value(json_object_get(where, "head"));
    int64_t horizon = json_integer_value(json_object_get(where, "horizon"));
    int64_t top = json_integer_value(json_object_get(where, "top"));
    int64_t cursor = head;
    int resync = 0;
    if (p->last >= 0) {
        /* a resume point from before what is kept, or not one of ours: start afresh */
        if (p->last < horizon || p->last > top)
            resync = 1;
        else
            cursor = p->last;
    }
    struct sub *sub = cf_calloc(1, sizeof(*sub));
    sub->hub = hub;
    sub->user_id = req->auth.user_id;
    sub->session_id = req->auth.session_id;
    sub->cursor = cursor;
    sub->req = cf_reply_stream(req, "text/event-stream; charset=utf-8"); /* frees req */
    sub->evcon = evhttp_request_get_connection(sub->req);
    struct stream *s = stream_get(hub, p->kind, p->key);
    sub->stream = s;
    sub->snext = s->subs;
    if (s->subs)
        s->subs->sprev = sub;
    s->subs = sub;
    s->nsubs++;
    sub->next = hub->subs;
    if (hub->subs)
        hub->subs->prev = sub;
    hub->subs = sub;
    hub->nsubs++;
    atomic_fetch_add(&stats_of(hub)->subscribers, 1);
    if (sub->evcon == NULL) { /* the client left already */
        sub_close(sub, END_STREAM);
        return;
    }
    evhttp_connection_set_closecb(sub->evcon, on_conn_closed, sub);
    struct bufferevent *bev = evhttp_connection_get_bufferevent(sub->evcon);
    sub->read_ev =
        event_new(w->base, bufferevent_getfd(bev), EV_READ | EV_PERSIST, on_sub_readable, sub);
    event_add(sub->read_ev, NULL);
    /* evhttp's timeout would end a quiet stream: a stream's is two heartbeats longer */
    const struct cf_config *cfg = w->server->cfg;
    evhttp_connection_set_timeout(sub->evcon, cfg->http_timeout_s + 2 * cfg->sse_heartbeat_s);
    char first[96];
    int n = resync ? snprintf(first, sizeof(first),
                              "retry: 3000\n\nid: %" PRId64 "\nevent: resync\ndata: {}\n\n", head)
                   : snprintf(first, sizeof(first), "retry: 3000\n\n");
    sub_write(sub, first, (size_t)n);
    /* whatever was committed since the subscription's snapshot, or since Last-Event-ID */
    if (head > s->wanted)
        s->wanted = head;
    stream_fetch(s);
}

static void on_subscribed(struct cf_db_result *r, void *arg)
{
    struct subscribing *p = arg;
    struct cf_request *req = p->req;
    if (!r->ok) {
        cf_reply_db_error(req, r);
    } else if (PQgetisnull(r->res[0], 0, 0)) {
        cf_reply_problem(req, 404, "not_found", "no such resource");
    } else if (req->worker->live->stopping) {
        cf_reply_unavailable(req, "the server is restarting");
    } else if (req->method == CF_HEAD) {
        cf_reply_buffer(req, 200, "text/event-stream; charset=utf-8", evbuffer_new(), 1);
    } else {
        json_t *where = json_loads(PQgetvalue(r->res[0], 0, 0), 0, NULL);
        if (where == NULL)
            cf_fatal("cf_live_subscribe answered something other than JSON");
        start_stream(p, where);
        json_decref(where);
    }
    cf_free(p);
}

void cf_h_events(struct cf_request *req)
{
    char thread[24];
    int has_thread = cf_query_id(req, "thread", thread, "thread is a thread's id");
    if (has_thread < 0)
        return;
    const char *last = cf_request_header(req, "Last-Event-ID");
    if (last == NULL)
        last = cf_request_query(req, "last_event_id");
    int64_t last_id = -1;
    if (last != NULL) {
        char *end;
        long long v = strtoll(last, &end, 10);
        if (last[0] < '0' || last[0] > '9' || *end != '\0' || v < 0 || v == LLONG_MAX) {
            cf_reply_problem(req, 400, "invalid_query", "Last-Event-ID is an event's id");
            return;
        }
        last_id = v;
    }
    struct cf_worker *w = req->worker;
    if (w->live->stopping) {
        cf_reply_unavailable(req, "the server is restarting");
        return;
    }
    if (atomic_load(&w->server->live_stats.subscribers) >= w->server->cfg->sse_max) {
        cf_reply_unavailable(req, "this server holds as many event streams as it may");
        return;
    }
    struct subscribing *p = cf_calloc(1, sizeof(*p));
    p->req = req;
    p->kind = has_thread ? 't' : 'u';
    p->key = has_thread ? strtoll(thread, NULL, 10) : req->auth.user_id;
    p->last = last_id;
    char user[24];
    cf_id_text(user, req->auth.user_id);
    const char *params[] = {user, has_thread ? thread : NULL};
    cf_db_query(w->db, &q_subscribe, params, on_subscribed, p);
}
