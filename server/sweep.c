/*
 * sweep: runs the response sweep, queues the email digests due and prunes the
 * outbox's old rows, on a timer
 * (see sweep.h). A sweep still in flight when the timer fires again is not doubled.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "alloc.h"
#include "db.h"
#include "http_server.h"
#include "log.h"
#include "sweep.h"

struct cf_sweep {
    struct cf_worker *w;
    struct event *timer;
    int running; /* statements in flight */
    char due[12], overdue[12], digest[12];
};

static struct cf_db_stmt q_sweep =
    CF_DB_STMT("response_sweep", "SELECT cf_response_sweep($1, $2)", 2);
static struct cf_db_stmt q_digests = CF_DB_STMT(
    "email_digests", "SELECT cf_email_digests($1), cf_outbox_prune(), cf_live_prune()", 1);

static void on_swept(struct cf_db_result *r, void *arg)
{
    struct cf_sweep *s = arg;
    s->running--;
    if (!r->ok) {
        cf_warn("response sweep failed: %s", r->message);
        return;
    }
    json_t *out = json_loads(PQgetvalue(r->res[0], 0, 0), 0, NULL);
    long long due = json_integer_value(json_object_get(out, "due"));
    long long overdue = json_integer_value(json_object_get(out, "overdue"));
    if (due > 0 || overdue > 0)
        cf_info("response sweep: %lld due, %lld overdue", due, overdue);
    json_decref(out);
}

static void on_digests(struct cf_db_result *r, void *arg)
{
    struct cf_sweep *s = arg;
    s->running--;
    if (!r->ok)
        cf_warn("email digests failed: %s", r->message);
    else if (strcmp(PQgetvalue(r->res[0], 0, 0), "0") != 0 ||
             strcmp(PQgetvalue(r->res[0], 0, 1), "0") != 0)
        cf_info("email digests: %s queued; outbox: %s old deliveries pruned",
                PQgetvalue(r->res[0], 0, 0), PQgetvalue(r->res[0], 0, 1));
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct cf_sweep *s = arg;
    (void)fd;
    (void)what;
    struct timeval every = {s->w->server->cfg->sweep_interval_s, 0};
    event_add(s->timer, &every);
    if (s->running > 0)
        return;
    s->running = 2;
    const char *params[] = {s->due, s->overdue};
    cf_db_query(s->w->background_db, &q_sweep, params, on_swept, s);
    const char *digest[] = {s->digest};
    cf_db_query(s->w->background_db, &q_digests, digest, on_digests, s);
}

struct cf_sweep *cf_sweep_create(struct cf_worker *w)
{
    struct cf_sweep *s = cf_calloc(1, sizeof(*s));
    s->w = w;
    snprintf(s->due, sizeof(s->due), "%d", w->server->cfg->response_due_s);
    snprintf(s->overdue, sizeof(s->overdue), "%d", w->server->cfg->response_overdue_s);
    snprintf(s->digest, sizeof(s->digest), "%d", w->server->cfg->digest_interval_s);
    s->timer = event_new(w->base, -1, 0, on_timer, s);
    struct timeval first = {1, 0};
    event_add(s->timer, &first);
    return s;
}

void cf_sweep_stop(struct cf_sweep *s)
{
    if (s != NULL)
        event_del(s->timer);
}

void cf_sweep_free(struct cf_sweep *s)
{
    if (s == NULL)
        return;
    event_free(s->timer);
    cf_free(s);
}
