/*
 * h_health: operations endpoints, without authentication (SPEC section 4):
 * /healthz (the process answers), /readyz (the database answers a query
 * through this worker's pool) and /metrics (Prometheus text).
 */
#include <event2/buffer.h>

#include "cf_version.h"
#include "db.h"
#include "http_server.h"
#include "password.h"
#include "request.h"
#include "routes.h"

static struct cf_db_stmt q_ready = CF_DB_STMT("ready", "SELECT 1", 0);

void cf_h_healthz(struct cf_request *req)
{
    static const char body[] = "{\"status\":\"ok\"}";
    struct evbuffer *buf = evbuffer_new();
    evbuffer_add(buf, body, sizeof(body) - 1);
    cf_reply_buffer(req, 200, "application/json; charset=utf-8", buf, 1);
}

static void on_ready(struct cf_db_result *r, void *arg)
{
    struct cf_request *req = arg;
    if (!r->ok) {
        cf_request_add_header(req, "Retry-After", "1");
        cf_reply_problem(req, 503, "not_ready", "the database is not reachable");
        return;
    }
    static const char body[] = "{\"status\":\"ready\"}";
    struct evbuffer *buf = evbuffer_new();
    evbuffer_add(buf, body, sizeof(body) - 1);
    cf_reply_buffer(req, 200, "application/json; charset=utf-8", buf, 1);
}

void cf_h_readyz(struct cf_request *req)
{
    cf_db_query(req->worker->db, &q_ready, NULL, on_ready, req);
}

void cf_h_metrics(struct cf_request *req)
{
    struct cf_server *srv = req->worker->server;
    struct evbuffer *out = evbuffer_new();
    struct cf_metrics *per_worker[256];
    struct cf_metrics_label labels[CF_METRICS_MAX_ROUTES];
    size_t n = (size_t)srv->nworkers;
    for (size_t i = 0; i < n && i < 256; i++)
        per_worker[i] = &srv->workers[i].metrics;
    for (size_t i = 0; i < cf_routes_count; i++) {
        labels[i].method = cf_method_name(cf_routes[i].methods & -cf_routes[i].methods);
        labels[i].route = cf_routes[i].pattern;
    }
    evbuffer_add_printf(out,
                        "# HELP confer_build_info The running version.\n"
                        "# TYPE confer_build_info gauge\nconfer_build_info{version=\"%s\"} 1\n",
                        CF_VERSION);
    cf_metrics_render_requests(out, per_worker, n, labels, cf_routes_count);

    struct cf_db_stats total = {0, 0, 0, 0, 0};
    long inflight = 0;
    for (size_t i = 0; i < n; i++) {
        struct cf_db_stats s;
        cf_db_pool_stats(srv->workers[i].db, &s);
        total.connections += s.connections;
        total.ready += s.ready;
        total.busy += s.busy;
        total.inflight += s.inflight;
        total.queued += s.queued;
        inflight += atomic_load_explicit(&srv->workers[i].inflight, memory_order_relaxed);
    }
    evbuffer_add_printf(out,
                        "# HELP confer_db_pool_connections Database connections by state.\n"
                        "# TYPE confer_db_pool_connections gauge\n"
                        "confer_db_pool_connections{state=\"configured\"} %d\n"
                        "confer_db_pool_connections{state=\"ready\"} %d\n"
                        "confer_db_pool_connections{state=\"in_use\"} %d\n"
                        "# HELP confer_db_statements_in_flight Jobs sent to PostgreSQL and not "
                        "yet answered.\n# TYPE confer_db_statements_in_flight gauge\n"
                        "confer_db_statements_in_flight %d\n"
                        "# HELP confer_db_pool_waiting Jobs waiting for a database connection.\n"
                        "# TYPE confer_db_pool_waiting gauge\nconfer_db_pool_waiting %d\n"
                        "# HELP confer_http_requests_in_flight Requests being handled.\n"
                        "# TYPE confer_http_requests_in_flight gauge\n"
                        "confer_http_requests_in_flight %ld\n",
                        total.connections, total.ready, total.busy, total.inflight, total.queued,
                        inflight);
    long rescued, rescue_wins;
    cf_password_stats(&rescued, &rescue_wins);
    evbuffer_add_printf(out,
                        "# HELP confer_password_rescued_total Password hashes also given to the "
                        "normal-priority thread after waiting too long.\n"
                        "# TYPE confer_password_rescued_total counter\n"
                        "confer_password_rescued_total %ld\n"
                        "# HELP confer_password_rescue_wins_total Rescued hashes the "
                        "normal-priority thread finished first.\n"
                        "# TYPE confer_password_rescue_wins_total counter\n"
                        "confer_password_rescue_wins_total %ld\n",
                        rescued, rescue_wins);
    struct cf_outbox_stats *o = &srv->outbox_stats;
    static const char *const channels[] = {"email", "webhook"};
    evbuffer_add_printf(out, "# HELP confer_outbox_pending Emails and webhook deliveries waiting "
                             "in the outbox (the database's, seen by this server's worker).\n"
                             "# TYPE confer_outbox_pending gauge\n");
    for (int c = 0; c < 2; c++)
        evbuffer_add_printf(out, "confer_outbox_pending{channel=\"%s\"} %ld\n", channels[c],
                            atomic_load_explicit(&o->pending[c], memory_order_relaxed));
    evbuffer_add_printf(out,
                        "# HELP confer_outbox_in_flight Deliveries this server is sending.\n"
                        "# TYPE confer_outbox_in_flight gauge\nconfer_outbox_in_flight %ld\n",
                        atomic_load_explicit(&o->in_flight, memory_order_relaxed));
    static const char *const outcomes[][2] = {
        {"delivered", "Deliveries the receiver accepted."},
        {"retried", "Attempts that failed and will be tried again."},
        {"failed", "Deliveries given up."},
    };
    for (int k = 0; k < 3; k++) {
        evbuffer_add_printf(out,
                            "# HELP confer_outbox_%s_total %s\n"
                            "# TYPE confer_outbox_%s_total counter\n",
                            outcomes[k][0], outcomes[k][1], outcomes[k][0]);
        for (int c = 0; c < 2; c++) {
            _Atomic long *v = k == 0 ? &o->delivered[c] : k == 1 ? &o->retried[c] : &o->failed[c];
            evbuffer_add_printf(out, "confer_outbox_%s_total{channel=\"%s\"} %ld\n", outcomes[k][0],
                                channels[c], atomic_load_explicit(v, memory_order_relaxed));
        }
    }
    struct cf_live_stats *l = &srv->live_stats;
    evbuffer_add_printf(
        out,
        "# HELP confer_sse_subscribers Event streams open on this server.\n"
        "# TYPE confer_sse_subscribers gauge\nconfer_sse_subscribers %ld\n"
        "# HELP confer_sse_events_total Events written to event streams.\n"
        "# TYPE confer_sse_events_total counter\nconfer_sse_events_total %ld\n"
        "# HELP confer_sse_dropped_total Event streams closed because their client did not "
        "read.\n"
        "# TYPE confer_sse_dropped_total counter\nconfer_sse_dropped_total %ld\n"
        "# HELP confer_sse_listening Whether this server LISTENs for live events (1) or is "
        "reconnecting (0).\n"
        "# TYPE confer_sse_listening gauge\nconfer_sse_listening %d\n",
        atomic_load_explicit(&l->subscribers, memory_order_relaxed),
        atomic_load_explicit(&l->events, memory_order_relaxed),
        atomic_load_explicit(&l->dropped, memory_order_relaxed),
        atomic_load_explicit(&l->listening, memory_order_relaxed));
    if (srv->cfg->replica_url != NULL) {
        struct cf_replica_stats *rs = &srv->replica_stats;
        long lag = atomic_load_explicit(&rs->lag_ms, memory_order_relaxed);
        evbuffer_add_printf(
            out,
            "# HELP confer_replica_usable Whether reads may go to the read replica (1) or all "
            "go to the primary (0).\n"
            "# TYPE confer_replica_usable gauge\nconfer_replica_usable %d\n"
            "# HELP confer_replica_lag_seconds The probe's bound on the replica's replay lag "
            "(-1: unknown).\n"
            "# TYPE confer_replica_lag_seconds gauge\nconfer_replica_lag_seconds %.3f\n"
            "# HELP confer_replica_reads_total Statements the read replica answered.\n"
            "# TYPE confer_replica_reads_total counter\nconfer_replica_reads_total %ld\n"
            "# HELP confer_replica_retried_total Reads run again on the primary after the "
            "replica failed or lacked the row.\n"
            "# TYPE confer_replica_retried_total counter\nconfer_replica_retried_total %ld\n",
            atomic_load_explicit(&rs->usable, memory_order_relaxed),
            lag < 0 ? -1.0 : (double)lag / 1000.0,
            atomic_load_explicit(&rs->reads, memory_order_relaxed),
            atomic_load_explicit(&rs->retried, memory_order_relaxed));
    }
    cf_reply_buffer(req, 200, "text/plain; version=0.0.4; charset=utf-8", out, 1);
}
