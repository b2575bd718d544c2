/*
 * http_server: the worker threads. Each worker owns an event_base, an evhttp
 * with its own SO_REUSEPORT listening socket (h2o's one-listener-per-thread),
 * a database pool and its metrics. The main thread binds the sockets, starts
 * the workers, waits for SIGTERM/SIGINT and then drains them.
 */
#ifndef CF_HTTP_SERVER_H
#define CF_HTTP_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "config.h"
#include "replica.h"
#include "live.h"
#include "log.h"
#include "metrics.h"
#include "outbox.h"

struct event_base;
struct evhttp;
struct evhttp_bound_socket;
struct event;
struct cf_db_pool;
struct cf_password_client;
struct cf_server;
struct cf_sweep;

struct cf_worker {
    int index;
    struct cf_server *server;
    pthread_t thread;
    int listen_fd;
    struct event_base *base;
    struct evhttp *http;
    struct evhttp_bound_socket *bound;
    struct cf_db_pool *db;
    /* worker 0's own connection for the sweep and the outbox, so that background work
     * never takes a request's place in db's queue nor waits behind it */
    struct cf_db_pool *background_db;
    struct cf_db_pool *replica_db;          /* CONFER_REPLICA_URL's, or NULL */
    struct cf_replica_probe *replica_probe; /* worker 0: is the replica usable? */
    struct cf_password_client *hash;        /* argon2id results come back here */
    struct cf_metrics metrics;
    struct cf_log_buffer log;
    struct event *log_timer;
    struct event *shutdown_ev;
    struct event *drain_timer;
    struct event *quiet_timer;         /* shutting down: nothing in flight for a moment */
    struct cf_sweep *sweep;            /* the response sweep's timer, on worker 0 */
    struct cf_outbox *outbox;          /* the email and webhook delivery worker, on worker 0 */
    struct cf_live_hub *live;          /* this worker's event streams */
    struct cf_live_listener *listener; /* worker 0: LISTEN for live events, rings the hubs */
    int shutting_down;
    _Atomic long inflight; /* requests dispatched and not yet answered (read by /metrics) */
    long writing;          /* answers not yet fully written to their socket */
    uint64_t request_seq;
};

struct cf_server {
    const struct cf_config *cfg;
    int nworkers;
    struct cf_worker *workers;
    char *web_root; /* realpath of the static root, or NULL when missing */
    char request_id_prefix[9];
    struct cf_outbox_stats outbox_stats;
    struct cf_live_stats live_stats;
    struct cf_replica_stats replica_stats;
};

/* Runs the server until SIGTERM or SIGINT; returns the process exit status. */
int cf_server_run(const struct cf_config *cfg);

/* Called by the request layer when a reply has been handed to evhttp. */
void cf_worker_request_done(struct cf_worker *w);

#endif
