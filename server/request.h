/*
 * request: the context of one HTTP request and every way of answering it.
 * A handler receives a cf_request, validates, runs its statement, and ends
 * with exactly one cf_reply_* call, which sends the answer with the security
 * headers, records metrics and the access-log line, and frees the request.
 * Handlers never touch evhttp.
 */
#ifndef CF_REQUEST_H
#define CF_REQUEST_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "auth.h"
#include "cursor.h"
#include "db.h"
#include "problem.h"
#include "router.h"
#include "uri.h"

struct evhttp_request;
struct evbuffer;
struct cf_worker;
struct cf_db_result;
struct cf_db_stmt;

struct cf_request {
    struct evhttp_request *ev;
    struct cf_worker *worker;
    int method; /* one CF_* bit; 0 for a method confer does not serve */
    const char *method_name;
    char *path; /* decoded and normalised */
    struct cf_query query;
    json_t *body; /* for CF_ROUTE_JSON_BODY routes: an object */
    struct cf_route_match match;
    size_t metrics_slot;
    const char *route_label;
    char request_id[48];
    struct timespec start;
    int64_t user_id;      /* 0: anonymous */
    struct cf_auth auth;  /* the caller, for routes with auth */
    int close_connection; /* answer with Connection: close */
    int success_status;   /* of cf_request_run_json */
};

/* The value of a query parameter, or NULL. */
const char *cf_request_query(const struct cf_request *req, const char *key);
/* The n-th {id} or {name} parameter of the route. */
int64_t cf_request_param_id(const struct cf_request *req, size_t n);
/* The caller's user and session ids as text, for statement parameters. */
void cf_request_auth_ids(const struct cf_request *req, char user[24], char session[24]);
/* The caller's id and the route's first {id}, as text: most handlers' first two
 * statement parameters. */
void cf_request_caller_and_id(const struct cf_request *req, char user[24], char id[24]);
/* A request header, or NULL. */
const char *cf_request_header(const struct cf_request *req, const char *name);
/* Adds a response header to the coming reply. */
void cf_request_add_header(struct cf_request *req, const char *name, const char *value);

/* Sends body (a new reference, stolen) as JSON with status. */
void cf_reply_json(struct cf_request *req, int status, json_t *body);
/*
 * Sends JSON text built elsewhere (by PostgreSQL). For a GET answered 200 it
 * adds an ETag and answers 304 when If-None-Match carries it.
 */
void cf_reply_json_text(struct cf_request *req, int status, const char *json, size_t len);
/* Sends a problem+json error. */
void cf_reply_problem(struct cf_request *req, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void cf_reply_error(struct cf_request *req, const struct cf_error *err);
/* 503 service_unavailable with Retry-After: 1 (the database, or the hashing pool, is
 * away or full). */
void cf_reply_unavailable(struct cf_request *req, const char *detail);
/* Answers a failed database job: 503 with Retry-After, 409 or 500. */
void cf_reply_db_error(struct cf_request *req, const struct cf_db_result *r);
/* Sends a reply without a body (204, 304). */
void cf_reply_empty(struct cf_request *req, int status);
/* Sends buf (stolen) with an explicit content type; api selects Cache-Control: no-store. */
void cf_reply_buffer(struct cf_request *req, int status, const char *content_type,
                     struct evbuffer *buf, int api);

/*
 * Starts a 200 answer of unknown length (an event stream) with the headers of every
 * answer, records it (metrics and access log count the start) and frees req. The
 * caller owns the returned request: it writes with evhttp_send_reply_chunk and ends
 * with evhttp_send_reply_end (server/live.c).
 */
struct evhttp_request *cf_reply_stream(struct cf_request *req, const char *content_type);

/*
 * Runs stmt, whose single row and column is the JSON answer built by
 * PostgreSQL, and replies with it: 200 (or `status`), 404 `not_found` when the
 * statement returns no row or NULL, and the mapped error when it fails. A GET's
 * statement may be answered by the read replica (cf_request_read).
 */
void cf_request_run_json(struct cf_request *req, struct cf_db_stmt *stmt, const char *const *params,
                         int status);

/*
 * Runs a read-only statement for a GET: on the read replica when one is configured
 * and usable and the caller's session has not written within the replica window,
 * else on the primary (replica.h). Other methods always use the primary.
 */
void cf_request_read(struct cf_request *req, struct cf_db_stmt *stmt, const char *const *params,
                     cf_db_cb cb, void *arg);

/* 422 validation_failed carrying errors (stolen; built with cf_errors_add). */
void cf_reply_invalid(struct cf_request *req, json_t *errors);
/* 429 rate_limited with Retry-After. */
void cf_reply_rate_limited(struct cf_request *req, int retry_after);

/*
 * A string field of the JSON body, trimmed of surrounding white space: NULL when
 * absent or null. When it is not a string, has control characters, or has
 * fewer than min_chars or more than max_chars characters, an error naming the
 * field is added to *errors (and NULL returned). Valid while req lives.
 */
const char *cf_body_string(struct cf_request *req, const char *key, size_t min_chars,
                           size_t max_chars, json_t **errors);
/* The same for a member of any object (a nested one: field names it in errors, as
 * "name.en"). */
const char *cf_json_string(json_t *obj, const char *key, const char *field, size_t min_chars,
                           size_t max_chars, json_t **errors);
/* "reason" (3 to 500 characters) for the moderation log: required. */
const char *cf_body_reason(struct cf_request *req, json_t **errors);
/* An id as a statement parameter. */
void cf_id_text(char out[24], int64_t id);
/* An integer field: 1 and *out when present, 0 when absent; an error when not an integer. */
int cf_body_int(struct cf_request *req, const char *key, int64_t *out, json_t **errors);
/*
 * An array of min to max positive ids at key, as a PostgreSQL array literal ("{3,5}")
 * the caller frees with cf_free. NULL when the key is absent or null (the caller
 * decides whether it is required), or after adding an "invalid" error with message.
 */
char *cf_body_id_array(struct cf_request *req, const char *key, size_t min, size_t max,
                       const char *message, json_t **errors);
/* The client's address (no port): the TCP peer, or, when the peer is one of
 * CONFER_TRUSTED_PROXIES, the right-most address of X-Forwarded-For that is not. */
void cf_request_peer(const struct cf_request *req, char *out, size_t size);

/* An error code a SQL function may answer, and what the client sees for it. With
 * field set, the answer is 422 validation_failed naming that field. */
struct cf_sql_error {
    const char *code;
    int status;
    const char *detail;
    const char *field;
};

/*
 * For SQL functions that answer {"<key>": value} or {"error": code} (cf_register,
 * cf_invite, cf_set_role, the forum's writes): returns value (a new reference), or
 * NULL after replying: the database error, the mapped problem (carrying the answer's
 * other members, as edit_conflict's "post"), 429 for {"error": "rate_limited",
 * "retry_after": s}, or 500 for an unknown code.
 */
json_t *cf_request_sql_outcome(struct cf_request *req, const struct cf_db_result *r,
                               const char *key, const struct cf_sql_error *errors, size_t n);

#define CF_CURSOR_TEXT (CF_CURSOR_MAX_PARTS * 21 + 3)

/* An optional ?key= that must be a positive id: 1 (out: the id as text), 0 when absent,
 * or -1 after answering 400 invalid_query with message. */
int cf_query_id(struct cf_request *req, const char *key, char out[24], const char *message);

/* A ?key= of free text (a search): 1 to max_chars characters, not only blanks, no
 * control characters. 1 (*out: the text), 0 when absent and not required, or -1 after
 * answering 400 invalid_query with what. */
int cf_query_text(struct cf_request *req, const char *key, size_t max_chars, int required,
                  const char *what, const char **out);

/* 1 when s is a tag: 1 to 30 characters of [a-z0-9-]. */
int cf_tag_valid(const char *s);

/* The filters of the lists of threads and posts (GET /threads, GET /search), as statement
 * parameters, NULL when absent: ?category= (an id or a slug), ?group= (a group's id, not
 * with a category), ?author= (a member's id), ?tag=. */
struct cf_space_filters {
    const char *category, *group, *author, *tag;
    char group_id[24], author_id[24];
};
/* 0, or -1 after answering 400 invalid_query. */
int cf_query_space_filters(struct cf_request *req, struct cf_space_filters *f);

/* 1 when s is one of list (NULL-terminated); 0 for NULL. */
int cf_one_of(const char *s, const char *const *list);
/* An optional query value that must be one of list: 0 (*out the value or NULL), or -1
 * after answering 400 invalid_query. */
int cf_query_one_of(struct cf_request *req, const char *key, const char *const *list,
                    const char **out);

/* ?limit= (default 30, 1 to 100) and ?cursor= (server/cursor.c, with min to max parts)
 * together, as statement parameters: the cursor as a PostgreSQL bigint[] literal. */
struct cf_page {
    char limit[12];
    char cursor_text[CF_CURSOR_TEXT];
    const char *cursor; /* cursor_text, or NULL when there is none */
};
/* 0, or -1 after answering 400. */
int cf_query_page(struct cf_request *req, size_t min_parts, size_t max_parts, struct cf_page *page);

/* A list of the caller's own: runs stmt with ($1 the caller, $2 the cursor as bigint[]
 * of cursor_parts integers or NULL, $3 ?limit=) and replies with its JSON. */
void cf_request_run_list(struct cf_request *req, struct cf_db_stmt *stmt, size_t cursor_parts);

/* The same, and then the reply: the value with req->success_status (204: no body). */
void cf_request_reply_outcome(struct cf_request *req, const struct cf_db_result *r, const char *key,
                              const struct cf_sql_error *errors, size_t n);

/* Called by http_server: frees a request after its reply. */
void cf_request_free(struct cf_request *req);

#endif
