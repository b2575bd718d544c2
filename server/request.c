/*
 * request: replies and request helpers; see request.h. Every reply leaves
 * through send_reply(), which owns the security headers, the metrics and
 * the access-log line, so no path can forget them.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>

#include "alloc.h"
#include "cursor.h"
#include "db.h"
#include "http_server.h"
#include "log.h"
#include "request.h"

static const char CSP_API[] = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";
static const char CSP_PAGE[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

const char *cf_request_query(const struct cf_request *req, const char *key)
{
    return cf_query_get(&req->query, key);
}

int64_t cf_request_param_id(const struct cf_request *req, size_t n)
{
    return n < req->match.nparams ? req->match.params[n].id : 0;
}

void cf_request_auth_ids(const struct cf_request *req, char user[24], char session[24])
{
    cf_id_text(user, req->auth.user_id);
    cf_id_text(session, req->auth.session_id);
}

void cf_request_caller_and_id(const struct cf_request *req, char user[24], char id[24])
{
    cf_id_text(user, req->auth.user_id);
    cf_id_text(id, cf_request_param_id(req, 0));
}

const char *cf_request_header(const struct cf_request *req, const char *name)
{
    return evhttp_find_header(evhttp_request_get_input_headers(req->ev), name);
}

void cf_request_add_header(struct cf_request *req, const char *name, const char *value)
{
    evhttp_add_header(evhttp_request_get_output_headers(req->ev), name, value);
}

/* ?limit= (default 30, 1 to 100): the value, or -1 after answering 400 invalid_query. */
static int query_limit(struct cf_request *req)
{
    const char *s = cf_request_query(req, "limit");
    if (s == NULL)
        return 30;
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < 1 || v > 100) {
        cf_reply_problem(req, 400, "invalid_query", "limit is a number from 1 to 100");
        return -1;
    }
    return (int)v;
}

/* ?cursor=: 0 when absent (out ""), 1 when it has min to max parts (out: a bigint[]
 * literal), -1 after answering 400 invalid_cursor. */
static int query_cursor(struct cf_request *req, size_t min, size_t max, char *out, size_t size)
{
    const char *s = cf_request_query(req, "cursor");
    int64_t parts[CF_CURSOR_MAX_PARTS];
    out[0] = '\0';
    if (s == NULL)
        return 0;
    int n = cf_cursor_decode(s, parts, max);
    if (n < (int)min || cf_cursor_array(parts, (size_t)n, out, size) != 0) {
        cf_reply_problem(req, 400, "invalid_cursor", "this cursor is not one of ours");
        return -1;
    }
    return 1;
}

void cf_request_reply_outcome(struct cf_request *req, const struct cf_db_result *r, const char *key,
                              const struct cf_sql_error *errors, size_t n)
{
    json_t *v = cf_request_sql_outcome(req, r, key, errors, n);
    if (v == NULL)
        return;
    if (req->success_status == 204) {
        json_decref(v);
        cf_reply_empty(req, 204);
        return;
    }
    cf_reply_json(req, req->success_status, v);
}

int cf_query_one_of(struct cf_request *req, const char *key, const char *const *list,
                    const char **out)
{
    const char *s = cf_request_query(req, key);
    *out = NULL;
    if (s == NULL)
        return 0;
    for (size_t i = 0; list[i] != NULL; i++)
        if (strcmp(s, list[i]) == 0) {
            *out = list[i];
            return 0;
        }
    cf_reply_problem(req, 400, "invalid_query", "%s is not a valid value of %s", s, key);
    return -1;
}

int cf_query_text(struct cf_request *req, const char *key, size_t max_chars, int required,
                  const char *what, const char **out)
{
    const char *q = cf_request_query(req, key);
    *out = NULL;
    if (q == NULL && !required)
        return 0;
    size_t chars = q ? cf_utf8_chars(q) : 0;
    if (q == NULL || chars == 0 || chars > max_chars || q[strspn(q, " \t")] == '\0') {
        cf_reply_problem(req, 400, "invalid_query", "%s is %s (1 to %zu characters)", key, what,
                         max_chars);
        return -1;
    }
    for (const char *c = q; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f) {
            cf_reply_problem(req, 400, "invalid_query", "%s has control characters", key);
            return -1;
        }
    *out = q;
    return 1;
}

int cf_query_id(struct cf_request *req, const char *key, char out[24], const char *message)
{
    const char *s = cf_request_query(req, key);
    out[0] = '\0';
    if (s == NULL)
        return 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*s < '0' || *s > '9' || *end != '\0' || v < 1 || v == LLONG_MAX) {
        cf_reply_problem(req, 400, "invalid_query", "%s", message);
        return -1;
    }
    cf_id_text(out, v);
    return 1;
}

int cf_tag_valid(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n <= 30 && s[strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-")] == '\0';
}

int cf_query_space_filters(struct cf_request *req, struct cf_space_filters *f)
{
    int group = cf_query_id(req, "group", f->group_id, "group is a group's id");
    if (group < 0)
        return -1;
    f->group = group ? f->group_id : NULL;
    f->category = cf_request_query(req, "category");
    if (group && f->category != NULL) {
        cf_reply_problem(req, 400, "invalid_query", "give a category or a group, not both");
        return -1;
    }
    f->tag = cf_request_query(req, "tag");
    if (f->tag != NULL && !cf_tag_valid(f->tag)) {
        cf_reply_problem(req, 400, "invalid_query", "a tag has 1 to 30 characters: a-z, 0-9, -");
        return -1;
    }
    if (f->category != NULL && (strlen(f->category) == 0 || strlen(f->category) > 40)) {
        cf_reply_problem(req, 400, "invalid_query", "category is an id or a slug");
        return -1;
    }
    int author = cf_query_id(req, "author", f->author_id, "author is a member's id");
    if (author < 0)
        return -1;
    f->author = author ? f->author_id : NULL;
    return 0;
}

int cf_one_of(const char *s, const char *const *list)
{
    for (size_t i = 0; s != NULL && list[i] != NULL; i++)
        if (strcmp(s, list[i]) == 0)
            return 1;
    return 0;
}

int cf_query_page(struct cf_request *req, size_t min_parts, size_t max_parts, struct cf_page *page)
{
    int limit = query_limit(req);
    if (limit < 0)
        return -1;
    int has = query_cursor(req, min_parts, max_parts, page->cursor_text, sizeof(page->cursor_text));
    if (has < 0)
        return -1;
    snprintf(page->limit, sizeof(page->limit), "%d", limit);
    page->cursor = has ? page->cursor_text : NULL;
    return 0;
}

void cf_request_run_list(struct cf_request *req, struct cf_db_stmt *stmt, size_t cursor_parts)
{
    struct cf_page page;
    if (cf_query_page(req, cursor_parts, cursor_parts, &page) < 0)
        return;
    char user[24];
    cf_id_text(user, req->auth.user_id);
    const char *params[] = {user, page.cursor, page.limit};
    cf_request_run_json(req, stmt, params, 200);
}

void cf_request_free(struct cf_request *req)
{
    if (req == NULL)
        return;
    cf_query_free(&req->query);
    if (req->body)
        json_decref(req->body);
    cf_free(req->path);
    cf_free(req);
}

/* An answer being written is counted in w->writing until it is all written
 * (on_reply_written) or its connection is freed first (on_reply_cut: the client went
 * away mid-answer; evhttp then frees the request without its completion callback).
 * evhttp handles one request at a time on a connection, so the connection's close
 * callback is ours while an answer is written, and is cleared once it is. */
static void on_reply_cut(struct evhttp_connection *evcon, void *arg)
{
    struct cf_worker *w = arg;
    (void)evcon;
    w->writing--;
    cf_worker_request_done(w);
}

static void on_reply_written(struct evhttp_request *evreq, void *arg)
{
    struct cf_worker *w = arg;
    struct evhttp_connection *evcon = evhttp_request_get_connection(evreq);
    if (evcon != NULL)
        evhttp_connection_set_closecb(evcon, NULL, NULL);
    w->writing--;
    cf_worker_request_done(w);
}

/* The headers every answer carries. */
static void add_common_headers(struct cf_request *req, const char *content_type, int api)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req->ev);
    struct cf_worker *w = req->worker;
    const struct cf_config *cfg = w->server->cfg;

    evhttp_add_header(h, "X-Request-Id", req->request_id);
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    evhttp_add_header(h, "Content-Security-Policy", api ? CSP_API : CSP_PAGE);
    evhttp_add_header(h, "Referrer-Policy", "no-referrer");
    if (!api) {
        /* Headers that govern documents; a JSON answer is never rendered as one
         * (nosniff, and CSP default-src 'none'), so they are left off there. */
        evhttp_add_header(h, "X-Frame-Options", "DENY");
        evhttp_add_header(h, "Cross-Origin-Opener-Policy", "same-origin");
        evhttp_add_header(h, "Cross-Origin-Resource-Policy", "same-origin");
        evhttp_add_header(h, "Permissions-Policy", "camera=(), microphone=(), geolocation=()");
    }
    if (cfg->public_https)
        evhttp_add_header(h, "Strict-Transport-Security", "max-age=31536000; includeSubDomains");
    if (api)
        evhttp_add_header(h, "Cache-Control", "no-store");
    if (content_type != NULL)
        evhttp_add_header(h, "Content-Type", content_type);
    if (req->close_connection || w->shutting_down)
        evhttp_add_header(h, "Connection", "close");
}

/* Records an answer sent (metrics, access log) and frees req. */
static void record_reply(struct cf_request *req, int status, size_t bytes)
{
    struct cf_worker *w = req->worker;
    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    double seconds =
        (double)(end.tv_sec - req->start.tv_sec) + (double)(end.tv_nsec - req->start.tv_nsec) / 1e9;
    cf_metrics_observe(&w->metrics, req->metrics_slot, status, seconds);
    struct cf_access_entry e = {
        .method = req->method_name,
        .route = req->route_label,
        .status = status,
        .duration_ms = seconds * 1000.0,
        .request_id = req->request_id,
        .user_id = req->user_id,
        .bytes = bytes,
    };
    cf_log_access(&w->log, &e);
    cf_request_free(req);
    w->inflight--;
    cf_worker_request_done(w);
}

static void finish_reply(struct cf_request *req, int status, const char *content_type,
                         struct evbuffer *buf, int api);

/* An answer held back until its session's write stamp is in the database (its content
 * type is a string literal, as every caller's is). */
struct held {
    struct cf_request *req;
    int status, api;
    const char *content_type;
    struct evbuffer *buf;
};

static void on_stamped(struct cf_db_result *r, void *arg)
{
    struct held *h = arg;
    if (!r->ok) /* the write stands; this session's next reads may see the replica's past */
        cf_warn("could not stamp session %lld's write: %s", (long long)h->req->auth.session_id,
                r->message);
    finish_reply(h->req, h->status, h->content_type, h->buf, h->api);
    cf_free(h);
}

/* Sends the reply, records it and frees req. buf may be NULL; it is consumed. With a
 * read replica, a write's 2xx first waits for its session's stamp (auth.h). */
static void send_reply(struct cf_request *req, int status, const char *content_type,
                       struct evbuffer *buf, int api)
{
    if (cf_auth_needs_stamp(req, status)) {
        struct held *h = cf_malloc(sizeof(*h));
        *h = (struct held){req, status, api, content_type, buf};
        cf_auth_stamp(req, on_stamped, h);
        return;
    }
    finish_reply(req, status, content_type, buf, api);
}

static void finish_reply(struct cf_request *req, int status, const char *content_type,
                         struct evbuffer *buf, int api)
{
    struct cf_worker *w = req->worker;
    add_common_headers(req, content_type, api);
    size_t bytes = buf ? evbuffer_get_length(buf) : 0;
    if (req->method == CF_HEAD && buf != NULL) {
        /* HEAD: the headers of the GET, no body. */
        char len[32];
        snprintf(len, sizeof(len), "%zu", bytes);
        evhttp_add_header(evhttp_request_get_output_headers(req->ev), "Content-Length", len);
        evbuffer_drain(buf, bytes);
        bytes = 0;
    }
    struct evhttp_connection *evcon = evhttp_request_get_connection(req->ev);
    if (evcon != NULL) {
        w->writing++;
        evhttp_request_set_on_complete_cb(req->ev, on_reply_written, w);
        evhttp_connection_set_closecb(evcon, on_reply_cut, w);
    }
    evhttp_send_reply(req->ev, status, cf_status_title(status), buf);
    if (buf)
        evbuffer_free(buf);
    record_reply(req, status, bytes);
}

struct evhttp_request *cf_reply_stream(struct cf_request *req, const char *content_type)
{
    struct evhttp_request *ev = req->ev;
    add_common_headers(req, content_type, 1);
    /* nginx would otherwise hold the stream in its buffers */
    evhttp_add_header(evhttp_request_get_output_headers(ev), "X-Accel-Buffering", "no");
    evhttp_send_reply_start(ev, 200, cf_status_title(200));
    record_reply(req, 200, 0);
    return ev;
}

void cf_reply_buffer(struct cf_request *req, int status, const char *content_type,
                     struct evbuffer *buf, int api)
{
    send_reply(req, status, content_type, buf, api);
}

void cf_reply_empty(struct cf_request *req, int status)
{
    send_reply(req, status, NULL, NULL, 1);
}

void cf_reply_json(struct cf_request *req, int status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (text == NULL)
        cf_fatal("could not serialise a JSON reply");
    struct evbuffer *buf = evbuffer_new();
    evbuffer_add(buf, text, strlen(text));
    free(text);
    send_reply(req, status,
               status >= 400 ? "application/problem+json; charset=utf-8"
                             : "application/json; charset=utf-8",
               buf, 1);
}

/*
 * A cheap validator for ETags (not a security hash): FNV-1a's multiply over 8-byte
 * words in four independent lanes, so a 30 KB page costs a few microseconds
 * rather than the 40 a byte-at-a-time FNV-1a took (measured in the step-3
 * benchmark). The same bytes give the same tag on every instance.
 */
static uint64_t body_hash(const char *s, size_t len)
{
    const uint64_t prime = 1099511628211ULL;
    uint64_t lane[4] = {1469598103934665603ULL, 0x9e3779b97f4a7c15ULL, 0xc2b2ae3d27d4eb4fULL,
                        0x165667b19e3779f9ULL};
    size_t i = 0;
    for (; i + 32 <= len; i += 32) {
        for (int k = 0; k < 4; k++) {
            uint64_t w;
            memcpy(&w, s + i + 8 * (size_t)k, sizeof(w));
            lane[k] = (lane[k] ^ w) * prime;
        }
    }
    uint64_t h = lane[0] ^ (lane[1] * 31) ^ (lane[2] * 131) ^ (lane[3] * 1031) ^ len;
    for (; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * prime;
    h ^= h >> 29;
    return h * prime;
}

/* 1 when an If-None-Match list names etag (or is "*"). */
static int etag_matches(const char *header, const char *etag)
{
    size_t elen = strlen(etag);
    const char *p = header;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (*p == '*')
            return 1;
        const char *start = p;
        while (*p && *p != ',')
            p++;
        const char *end = p;
        while (end > start && end[-1] == ' ')
            end--;
        /* Weak comparison (RFC 9110 13.1.2): W/ prefixes do not matter. */
        const char *a = start;
        size_t alen = (size_t)(end - start);
        const char *b = etag;
        size_t blen = elen;
        if (alen > 2 && a[0] == 'W' && a[1] == '/') {
            a += 2;
            alen -= 2;
        }
        if (blen > 2 && b[0] == 'W' && b[1] == '/') {
            b += 2;
            blen -= 2;
        }
        if (alen == blen && memcmp(a, b, alen) == 0)
            return 1;
    }
    return 0;
}

void cf_reply_json_text(struct cf_request *req, int status, const char *json, size_t len)
{
    if (status == 200 && (req->method == CF_GET || req->method == CF_HEAD)) {
        char etag[32];
        snprintf(etag, sizeof(etag), "W/\"%016llx\"", (unsigned long long)body_hash(json, len));
        cf_request_add_header(req, "ETag", etag);
        const char *inm = cf_request_header(req, "If-None-Match");
        if (inm != NULL && etag_matches(inm, etag)) {
            send_reply(req, 304, NULL, NULL, 1);
            return;
        }
    }
    struct evbuffer *buf = evbuffer_new();
    evbuffer_add(buf, json, len);
    send_reply(req, status, "application/json; charset=utf-8", buf, 1);
}

void cf_reply_problem(struct cf_request *req, int status, const char *code, const char *fmt, ...)
{
    char detail[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    cf_reply_json(req, status, cf_problem_new(status, code, detail, NULL));
}

void cf_reply_error(struct cf_request *req, const struct cf_error *err)
{
    cf_reply_json(req, err->status, cf_problem_new(err->status, err->code, err->detail, NULL));
}

void cf_reply_unavailable(struct cf_request *req, const char *detail)
{
    cf_request_add_header(req, "Retry-After", "1");
    cf_reply_problem(req, 503, "service_unavailable", "%s", detail);
}

void cf_reply_db_error(struct cf_request *req, const struct cf_db_result *r)
{
    switch (r->status) {
    case 503:
        cf_reply_unavailable(req, "the database is unavailable; try again shortly");
        break;
    case 409:
        cf_reply_problem(req, 409, "conflict", "this conflicts with something that exists");
        break;
    default:
        cf_reply_problem(req, 500, "internal_error",
                         "something went wrong on our side (request %s)", req->request_id);
        break;
    }
}

static int reads_from_replica(const struct cf_request *req)
{
    /* CF_ROUTE_PRIMARY: the GETs that log a moderator's access, for moderators */
    int logs = (req->match.route->flags & CF_ROUTE_PRIMARY) && req->auth.role >= CF_ROLE_MODERATOR;
    return (req->method & (CF_GET | CF_HEAD)) != 0 && !req->auth.wrote_recently && !logs &&
           cf_replica_available(req->worker);
}

static void on_json_result(struct cf_db_result *r, void *arg)
{
    struct cf_request *req = arg;
    int status = req->success_status;
    if (!r->ok) {
        cf_reply_db_error(req, r);
        return;
    }
    PGresult *res = r->res[0];
    if (res == NULL || PQntuples(res) == 0 || PQgetisnull(res, 0, 0)) {
        cf_reply_problem(req, 404, "not_found", "no such resource");
        return;
    }
    cf_reply_json_text(req, status, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
}

void cf_request_run_json(struct cf_request *req, struct cf_db_stmt *stmt, const char *const *params,
                         int status)
{
    req->success_status = status ? status : 200;
    if (reads_from_replica(req)) /* nothing there may be not there yet: ask the primary */
        cf_replica_query(req->worker, stmt, params, 1, on_json_result, req);
    else
        cf_db_query(req->worker->db, stmt, params, on_json_result, req);
}

void cf_request_read(struct cf_request *req, struct cf_db_stmt *stmt, const char *const *params,
                     cf_db_cb cb, void *arg)
{
    if (reads_from_replica(req))
        cf_replica_query(req->worker, stmt, params, 0, cb, arg);
    else
        cf_db_query(req->worker->db, stmt, params, cb, arg);
}

void cf_reply_invalid(struct cf_request *req, json_t *errors)
{
    cf_reply_json(req, 422,
                  cf_problem_new(422, "validation_failed", "some fields need attention", errors));
}

void cf_reply_rate_limited(struct cf_request *req, int retry_after)
{
    char value[16];
    snprintf(value, sizeof(value), "%d", retry_after > 0 ? retry_after : 1);
    cf_request_add_header(req, "Retry-After", value);
    cf_reply_problem(req, 429, "rate_limited", "too many attempts; try again in %s seconds", value);
}

const char *cf_json_string(json_t *obj, const char *key, const char *field, size_t min_chars,
                           size_t max_chars, json_t **errors)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    if (v == NULL || json_is_null(v))
        return NULL;
    if (!json_is_string(v)) {
        cf_errors_add(errors, field, "not_a_string", "must be a string");
        return NULL;
    }
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (strlen(s) != len) {
        cf_errors_add(errors, field, "invalid_characters", "must not contain NUL characters");
        return NULL;
    }
    size_t start = 0, end = len;
    while (start < end &&
           (s[start] == ' ' || s[start] == '\t' || s[start] == '\n' || s[start] == '\r'))
        start++;
    while (end > start &&
           (s[end - 1] == ' ' || s[end - 1] == '\t' || s[end - 1] == '\n' || s[end - 1] == '\r'))
        end--;
    for (size_t i = start; i < end; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
            cf_errors_add(errors, field, "invalid_characters",
                          "must not contain control characters");
            return NULL;
        }
    }
    json_object_set_new(obj, key, json_stringn(s + start, end - start));
    const char *t = json_string_value(json_object_get(obj, key));
    size_t chars = cf_utf8_chars(t);
    if (chars < min_chars) {
        char msg[64];
        snprintf(msg, sizeof(msg), "must have at least %zu characters", min_chars);
        cf_errors_add(errors, field, min_chars == 1 ? "required" : "too_short", msg);
        return NULL;
    }
    if (chars > max_chars) {
        char msg[64];
        snprintf(msg, sizeof(msg), "must have at most %zu characters", max_chars);
        cf_errors_add(errors, field, "too_long", msg);
        return NULL;
    }
    return t;
}

const char *cf_body_string(struct cf_request *req, const char *key, size_t min_chars,
                           size_t max_chars, json_t **errors)
{
    return cf_json_string(req->body, key, key, min_chars, max_chars, errors);
}

const char *cf_body_reason(struct cf_request *req, json_t **errors)
{
    size_t before = *errors ? json_array_size(*errors) : 0;
    const char *reason = cf_body_string(req, "reason", 3, 500, errors);
    if (reason == NULL && (*errors ? json_array_size(*errors) : 0) == before)
        cf_errors_add(errors, "reason", "required", "say why: it goes into the moderation log");
    return reason;
}

void cf_id_text(char out[24], int64_t id)
{
    snprintf(out, 24, "%lld", (long long)id);
}

int cf_body_int(struct cf_request *req, const char *key, int64_t *out, json_t **errors)
{
    json_t *v = req->body ? json_object_get(req->body, key) : NULL;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_integer(v)) {
        cf_errors_add(errors, key, "not_an_integer", "must be an integer");
        return 0;
    }
    *out = (int64_t)json_integer_value(v);
    return 1;
}

char *cf_body_id_array(struct cf_request *req, const char *key, size_t min, size_t max,
                       const char *message, json_t **errors)
{
    json_t *list = req->body ? json_object_get(req->body, key) : NULL;
    if (list == NULL || json_is_null(list))
        return NULL;
    size_t n = json_array_size(list);
    if (!json_is_array(list) || n < min || n > max) {
        cf_errors_add(errors, key, "invalid", message);
        return NULL;
    }
    size_t cap = n * 21 + 3, len = 0;
    char *out = cf_malloc(cap);
    out[len++] = '{';
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        if (!json_is_integer(v) || json_integer_value(v) < 1) {
            cf_errors_add(errors, key, "invalid", message);
            cf_free(out);
            return NULL;
        }
        len += (size_t)snprintf(out + len, cap - len, "%s%lld", i ? "," : "",
                                (long long)json_integer_value(v));
    }
    out[len++] = '}';
    out[len] = '\0';
    return out;
}

/* Whether a token of X-Forwarded-For is an address, copied into out (INET6_ADDRSTRLEN). */
static int forwarded_address(const char *tok, size_t len, char *out)
{
    struct cf_addr a;
    if (len == 0 || len >= INET6_ADDRSTRLEN)
        return 0;
    memcpy(out, tok, len);
    out[len] = '\0';
    return cf_addr_parse(out, &a) == 0;
}

/*
 * The client behind trusted proxies: X-Forwarded-For's addresses (every header line of
 * it, in order, as one list) read from the right, each proxy having appended the
 * address it saw; the first that is not a trusted proxy is the client. Reading from
 * the right is what makes it safe: what a client writes itself is on the left, behind
 * the address the first proxy added. Returns -1 (keep the TCP peer) when the header is
 * absent or a token that is not an address comes before the client; when every
 * address is a proxy's, the left-most one. At most 64 addresses are looked at.
 */
static int forwarded_for(const struct cf_request *req, char *out, size_t size)
{
    const struct cf_config *cfg = req->worker->server->cfg;
    struct evkeyvalq *headers = evhttp_request_get_input_headers(req->ev);
    const char *lines[16]; /* the last 16 lines: a proxy may add a line of its own */
    int nlines = 0;
    for (struct evkeyval *h = headers->tqh_first; h != NULL; h = h->next.tqe_next) {
        if (evutil_ascii_strcasecmp(h->key, "X-Forwarded-For") != 0)
            continue;
        if (nlines == 16) {
            memmove(lines, lines + 1, 15 * sizeof(*lines));
            nlines--;
        }
        lines[nlines++] = h->value;
    }
    char addr[INET6_ADDRSTRLEN], found[INET6_ADDRSTRLEN];
    int seen = 0;
    found[0] = '\0';
    for (int l = nlines - 1; l >= 0; l--) {
        const char *v = lines[l];
        size_t end = strlen(v);
        while (end > 0 && seen < 64) {
            while (end > 0 && strchr(" \t,", v[end - 1]) != NULL)
                end--;
            size_t start = end;
            while (start > 0 && strchr(" \t,", v[start - 1]) == NULL)
                start--;
            if (start == end)
                break;
            seen++;
            if (!forwarded_address(v + start, end - start, addr))
                return -1;
            snprintf(found, sizeof(found), "%s", addr);
            if (!cf_cidr_contains(cfg->trusted_proxies, cfg->ntrusted_proxies, addr)) {
                snprintf(out, size, "%s", found);
                return 0;
            }
            end = start;
        }
    }
    if (found[0] == '\0')
        return -1;
    snprintf(out, size, "%s", found);
    return 0;
}

void cf_request_peer(const struct cf_request *req, char *out, size_t size)
{
    struct evhttp_connection *c = evhttp_request_get_connection(req->ev);
    char *addr = NULL;
    ev_uint16_t port = 0;
    if (c != NULL)
        evhttp_connection_get_peer(c, &addr, &port);
    const struct cf_config *cfg = req->worker->server->cfg;
    if (addr != NULL && cfg->ntrusted_proxies > 0 &&
        cf_cidr_contains(cfg->trusted_proxies, cfg->ntrusted_proxies, addr) &&
        forwarded_for(req, out, size) == 0)
        return;
    snprintf(out, size, "%s", addr ? addr : "0.0.0.0");
}

json_t *cf_request_sql_outcome(struct cf_request *req, const struct cf_db_result *r,
                               const char *key, const struct cf_sql_error *errors, size_t n)
{
    if (!r->ok) {
        cf_reply_db_error(req, r);
        return NULL;
    }
    json_error_t jerr;
    json_t *out = json_loads(PQgetvalue(r->res[0], 0, 0), 0, &jerr);
    json_t *value = out && !json_object_get(out, "error") ? json_object_get(out, key) : NULL;
    if (value != NULL) {
        json_incref(value);
        json_decref(out);
        return value;
    }
    const char *code = out ? json_string_value(json_object_get(out, "error")) : NULL;
    if (code != NULL && strcmp(code, "rate_limited") == 0) {
        cf_reply_rate_limited(req, (int)json_integer_value(json_object_get(out, "retry_after")));
        json_decref(out);
        return NULL;
    }
    for (size_t i = 0; code != NULL && i < n; i++) {
        if (strcmp(code, errors[i].code) != 0)
            continue;
        if (errors[i].field != NULL) {
            json_t *list = NULL;
            cf_errors_add(&list, errors[i].field, "unknown", errors[i].detail);
            cf_reply_invalid(req, list);
        } else {
            /* Other members of the answer travel with the problem (edit_conflict: "post"). */
            json_t *p = cf_problem_new(errors[i].status, errors[i].code, errors[i].detail, NULL);
            json_object_del(out, "error");
            json_object_update_missing(p, out);
            cf_reply_json(req, errors[i].status, p);
        }
        json_decref(out);
        return NULL;
    }
    cf_warn("unexpected answer from the database: %s", code ? code : "(unreadable)");
    json_decref(out);
    cf_reply_problem(req, 500, "internal_error", "something went wrong on our side (request %s)",
                     req->request_id);
    return NULL;
}
