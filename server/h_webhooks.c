/*
 * h_webhooks: admins register webhooks (SPEC section 7) and read each one's
 * delivery log. The events are written to the outbox by the triggers of
 * schema/0010 and sent by outbox.c; here they are configured, tested (ping)
 * and, once given up, sent again. The secret is write-only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "http_server.h"
#include "request.h"
#include "routes.h"

#define EVENTS_MAX 20

/* What a webhook may listen to; "*" is every event. */
static const char *const events[] = {
    "*",
    "thread.created",
    "post.created",
    "post.hidden",
    "flag.created",
    "flag.resolved",
    "answer.accepted",
    "response.due",
    "response.overdue",
    "user.created",
    "ping",
    NULL,
};

static struct cf_db_stmt q_list = CF_DB_STMT(
    "webhooks_list",
    "SELECT json_build_object('items', coalesce(json_agg(cf_webhook_json(w) ORDER BY w.id), "
    "'[]'::json), 'next_cursor', NULL) FROM webhooks w",
    0);
static struct cf_db_stmt q_get =
    CF_DB_STMT("webhook_get", "SELECT cf_webhook_json(w) FROM webhooks w WHERE w.id = $1", 1);
static struct cf_db_stmt q_save =
    CF_DB_STMT("webhook_save", "SELECT cf_webhook_save($1, $2, $3::jsonb)", 3);
static struct cf_db_stmt q_delete =
    CF_DB_STMT("webhook_delete", "SELECT cf_webhook_delete($1, $2)", 2);
static struct cf_db_stmt q_ping = CF_DB_STMT("webhook_ping", "SELECT cf_webhook_ping($1)", 1);
static struct cf_db_stmt q_deliveries =
    CF_DB_STMT("webhook_deliveries", "SELECT cf_webhook_deliveries($1, $2, $3::bigint[], $4)", 4);
static struct cf_db_stmt q_redeliver =
    CF_DB_STMT("delivery_redeliver", "SELECT cf_delivery_redeliver($1, $2)", 2);

static const struct cf_sql_error errors_of[] = {
    {"not_found", 404, "no such webhook or delivery", NULL},
    {"not_failed", 409, "only a delivery that failed can be sent again", NULL},
};
#define ERRORS_N (sizeof(errors_of) / sizeof(errors_of[0]))

static int admin_only(struct cf_request *req)
{
    if (req->auth.role == CF_ROLE_ADMIN)
        return 1;
    cf_reply_problem(req, 403, "forbidden", "only admins manage webhooks");
    return 0;
}

static void on_webhook(struct cf_db_result *r, void *arg)
{
    cf_request_reply_outcome(arg, r, "webhook", errors_of, ERRORS_N);
}

static void on_delivery(struct cf_db_result *r, void *arg)
{
    cf_request_reply_outcome(arg, r, "delivery", errors_of, ERRORS_N);
}

static void on_deliveries(struct cf_db_result *r, void *arg)
{
    cf_request_reply_outcome(arg, r, "deliveries", errors_of, ERRORS_N);
}

static void on_deleted(struct cf_db_result *r, void *arg)
{
    cf_request_reply_outcome(arg, r, "deleted", errors_of, ERRORS_N);
}

/* An http(s) URL with a host and nothing a request line could not carry. */
static int url_valid(const char *s)
{
    const char *rest;
    if (strncmp(s, "https://", 8) == 0)
        rest = s + 8;
    else if (strncmp(s, "http://", 7) == 0)
        rest = s + 7;
    else
        return 0;
    if (*rest == '\0' || *rest == '/' || *rest == ':' || *rest == '?' || *rest == '#')
        return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f)
            return 0;
    return strchr(s, '#') == NULL;
}

static void check_events(json_t *v, json_t *fields, json_t **errors)
{
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > EVENTS_MAX) {
        cf_errors_add(errors, "events", "invalid", "a list of 1 to 20 event names, or [\"*\"]");
        return;
    }
    json_t *list = json_array();
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        const char *name = json_string_value(e);
        if (!cf_one_of(name, events)) {
            cf_errors_add(errors, "events", "unknown_event",
                          "events are *, thread.created, post.created, post.hidden, "
                          "flag.created, flag.resolved, answer.accepted, response.due, "
                          "response.overdue, user.created and ping");
            json_decref(list);
            return;
        }
        int seen = 0;
        size_t k;
        json_t *x;
        json_array_foreach(list, k, x) seen |= strcmp(json_string_value(x), name) == 0;
        if (!seen)
            json_array_append_new(list, json_string(name));
    }
    json_object_set_new(fields, "events", list);
}

static void save(struct cf_request *req, int create)
{
    if (!admin_only(req))
        return;
    json_t *errors = NULL;
    json_t *fields = json_object();
    const char *url = cf_body_string(req, "url", 10, 2000, &errors);
    if (url != NULL && !url_valid(url))
        cf_errors_add(&errors, "url", "invalid", "an http:// or https:// URL with a host");
    else if (url != NULL)
        json_object_set_new(fields, "url", json_string(url));
    else if (create && json_object_get(req->body, "url") == NULL)
        cf_errors_add(&errors, "url", "required", "where the events are POSTed");
    json_t *ev = json_object_get(req->body, "events");
    if (ev != NULL)
        check_events(ev, fields, &errors);
    else if (create)
        cf_errors_add(&errors, "events", "required", "the events to send, or [\"*\"]");
    const char *secret = cf_body_string(req, "secret", 16, 200, &errors);
    if (secret != NULL)
        json_object_set_new(fields, "secret", json_string(secret));
    else if (create && json_object_get(req->body, "secret") == NULL)
        cf_errors_add(&errors, "secret", "required",
                      "16 to 200 characters; X-Confer-Signature is its HMAC-SHA256 of the body");
    json_t *active = json_object_get(req->body, "active");
    if (active != NULL && !json_is_boolean(active))
        cf_errors_add(&errors, "active", "not_a_boolean", "true or false");
    else if (active != NULL)
        json_object_set(fields, "active", active);
    if (errors == NULL && json_object_size(fields) == 0)
        cf_errors_add(&errors, "body", "empty", "nothing to change");
    if (errors != NULL) {
        json_decref(fields);
        cf_reply_invalid(req, errors);
        return;
    }
    char actor[24], id[24];
    cf_id_text(actor, req->auth.user_id);
    if (!create)
        cf_id_text(id, cf_request_param_id(req, 0));
    char *text = json_dumps(fields, JSON_COMPACT);
    json_decref(fields);
    const char *params[] = {actor, create ? NULL : id, text};
    req->success_status = create ? 201 : 200;
    cf_db_query(req->worker->db, &q_save, params, on_webhook, req);
    free(text);
}

void cf_h_webhooks_list(struct cf_request *req)
{
    if (admin_only(req))
        cf_request_run_json(req, &q_list, NULL, 200);
}

void cf_h_webhook_create(struct cf_request *req)
{
    save(req, 1);
}

void cf_h_webhook_get(struct cf_request *req)
{
    if (!admin_only(req))
        return;
    char id[24];
    cf_id_text(id, cf_request_param_id(req, 0));
    const char *params[] = {id};
    cf_request_run_json(req, &q_get, params, 200);
}

void cf_h_webhook_update(struct cf_request *req)
{
    save(req, 0);
}

void cf_h_webhook_delete(struct cf_request *req)
{
    if (!admin_only(req))
        return;
    char actor[24], id[24];
    cf_request_caller_and_id(req, actor, id);
    const char *params[] = {actor, id};
    req->success_status = 204;
    cf_db_query(req->worker->db, &q_delete, params, on_deleted, req);
}

/* GET /webhooks/{id}/deliveries[?state=pending|delivered|failed|skipped] */
void cf_h_webhook_deliveries(struct cf_request *req)
{
    static const char *const states[] = {"pending", "delivered", "failed", "skipped", NULL};
    const char *state;
    struct cf_page page;
    if (!admin_only(req) || cf_query_one_of(req, "state", states, &state) < 0 ||
        cf_query_page(req, 1, 1, &page) < 0)
        return;
    char id[24];
    cf_id_text(id, cf_request_param_id(req, 0));
    const char *params[] = {id, state, page.cursor, page.limit};
    req->success_status = 200;
    cf_request_read(req, &q_deliveries, params, on_deliveries, req);
}

void cf_h_webhook_ping(struct cf_request *req)
{
    if (!admin_only(req))
        return;
    char id[24];
    cf_id_text(id, cf_request_param_id(req, 0));
    const char *params[] = {id};
    req->success_status = 202;
    cf_db_query(req->worker->db, &q_ping, params, on_delivery, req);
}

void cf_h_delivery_redeliver(struct cf_request *req)
{
    if (!admin_only(req))
        return;
    char id[24], delivery[24];
    cf_id_text(id, cf_request_param_id(req, 0));
    cf_id_text(delivery, cf_request_param_id(req, 1));
    const char *params[] = {id, delivery};
    req->success_status = 202;
    cf_db_query(req->worker->db, &q_redeliver, params, on_delivery, req);
}
