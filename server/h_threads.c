/*
 * h_threads: the national forum's threads and posts (SPEC section 4, "Threads
 * and posts"): lists with keyset cursors, a thread with a page of its posts
 * (chronological or as a tree), writing threads and replies (Markdown rendered
 * here, once, and stored), editing with versions, deleting, the thread's
 * settings, accepted answers, reading state, subscriptions, reactions,
 * bookmarks and the preview.
 *
 * Each request validates here and then runs one SQL function (schema/0004),
 * which checks who may do what and writes in one transaction. A body that
 * mentions @handles costs one more statement first, to resolve them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "alloc.h"
#include "db.h"
#include "http_server.h"
#include "markdown.h"
#include "privacy.h"
#include "request.h"
#include "routes.h"

#define BODY_MAX 50000

static struct cf_db_stmt q_list =
    CF_DB_STMT("thread_list",
               "SELECT cf_thread_list($1, cf_category_filter($2), $3, $4, $5, $6, $7, $8, "
               "$9::bigint[], $10)",
               10);
static struct cf_db_stmt q_page =
    CF_DB_STMT("thread_page", "SELECT cf_thread_page($1, $2, $3, $4::bigint[], $5)", 5);
static struct cf_db_stmt q_mentions = CF_DB_STMT(
    "mentions_resolve",
    "SELECT coalesce(json_agg(json_build_array(handle, id)), '[]') FROM users WHERE handle = "
    "ANY($1::text[])",
    1);
static struct cf_db_stmt q_thread_create = CF_DB_STMT(
    "thread_create",
    "SELECT cf_thread_create($1, $2, $3, $4, $5, $6::text[], $7, $8, $9::bigint[], $10, $11)", 11);
static struct cf_db_stmt q_conversation_create = CF_DB_STMT(
    "conversation_create",
    "SELECT cf_conversation_create($1, $2::bigint[], $3, $4, $5, $6::bigint[], $7, $8)", 8);
static struct cf_db_stmt q_conversation_list =
    CF_DB_STMT("conversation_list", "SELECT cf_conversation_list($1, $2::bigint[], $3)", 3);
static struct cf_db_stmt q_post_create =
    CF_DB_STMT("post_create", "SELECT cf_post_create($1, $2, $3, $4, $5, $6::bigint[], $7, $8)", 8);
static struct cf_db_stmt q_post_edit =
    CF_DB_STMT("post_edit", "SELECT cf_post_edit($1, $2, $3, $4, $5, $6::bigint[], $7)", 7);
static struct cf_db_stmt q_post_delete =
    CF_DB_STMT("post_delete", "SELECT cf_post_delete($1, $2, $3)", 3);
static struct cf_db_stmt q_post_hide =
    CF_DB_STMT("post_hide", "SELECT cf_post_hide($1, $2, $3, $4)", 4);
static struct cf_db_stmt q_post_get = CF_DB_STMT("post_get", "SELECT cf_post_get($1, $2)", 2);
static struct cf_db_stmt q_revisions =
    CF_DB_STMT("post_revisions", "SELECT cf_post_revisions($1, $2)", 2);
static struct cf_db_stmt q_thread_update =
    CF_DB_STMT("thread_update", "SELECT cf_thread_update_acknowledged($1, $2, $3::jsonb, $4)", 4);
static struct cf_db_stmt q_answer =
    CF_DB_STMT("thread_answer", "SELECT cf_thread_answer($1, $2, $3)", 3);
static struct cf_db_stmt q_read = CF_DB_STMT("thread_read", "SELECT cf_thread_read($1, $2, $3)", 3);
static struct cf_db_stmt q_subscribe =
    CF_DB_STMT("thread_subscribe", "SELECT cf_thread_subscribe($1, $2, $3)", 3);
static struct cf_db_stmt q_reaction =
    CF_DB_STMT("reaction_set", "SELECT cf_reaction_set($1, $2, $3, $4)", 4);
static struct cf_db_stmt q_bookmark =
    CF_DB_STMT("bookmark_set", "SELECT cf_bookmark_set($1, $2, $3)", 3);
static struct cf_db_stmt q_bookmarks =
    CF_DB_STMT("bookmark_list", "SELECT cf_bookmark_list($1, $2::bigint[], $3)", 3);

static const struct cf_sql_error write_errors[] = {
    {"not_found", 404, "no such thread or post", NULL},
    {"forbidden", 403, "you may not change this", NULL},
    {"thread_locked", 409, "this thread is locked: it takes no more replies", NULL},
    {"thread_closed", 409, "this thread is closed: it takes no more replies", NULL},
    {"edit_conflict", 409, "someone changed this post since you loaded it; see post", NULL},
    {"post_deleted", 409, "this post was deleted", NULL},
    {"not_a_question", 409, "only question threads have an accepted answer", NULL},
    {"own_post", 409, "you cannot react to your own post", NULL},
    {"category_unknown", 422, "no such category", "category_id"},
    {"group_unknown", 422, "no such group", "group_id"},
    {"reply_to_invalid", 422, "not a post of this thread", "reply_to"},
    {"participants_unknown", 422, "name one or more other members by id", "participant_ids"},
    {"post_invalid", 422, "not a reply of this thread that readers can see", "post_id"},
};
#define NWRITE_ERRORS (sizeof(write_errors) / sizeof(write_errors[0]))

/* ---- small helpers ---- */

static const char *const kinds[] = {"discussion", "case", "question", NULL};
static const char *const statuses[] = {"open", "resolved", "closed", NULL};
static const char *const sorts[] = {"latest", "created", "top", NULL};
static const char *const levels[] = {"watching", "normal", "muted", NULL};

/* "tags": at most 5, each [a-z0-9-]{1,30}, as a PostgreSQL array literal (the
 * characters need no quoting). NULL when absent or invalid (errors filled). */
static char *body_tags(struct cf_request *req, json_t **errors)
{
    json_t *v = json_object_get(req->body, "tags");
    if (v == NULL || json_is_null(v))
        return NULL;
    if (!json_is_array(v) || json_array_size(v) > 5) {
        cf_errors_add(errors, "tags", "invalid", "at most 5 tags");
        return NULL;
    }
    char *out = cf_malloc(5 * 32 + 3);
    size_t len = 0;
    out[len++] = '{';
    for (size_t i = 0; i < json_array_size(v); i++) {
        const char *t = json_string_value(json_array_get(v, i));
        if (t == NULL || !cf_tag_valid(t)) {
            cf_errors_add(errors, "tags", "invalid",
                          "each tag has 1 to 30 characters: a-z, 0-9 and hyphens");
            cf_free(out);
            return NULL;
        }
        if (i > 0)
            out[len++] = ',';
        memcpy(out + len, t, strlen(t));
        len += strlen(t);
    }
    out[len++] = '}';
    out[len] = '\0';
    return out;
}

/* "title" (3 to 200 characters) and "body" (the first post), both required. */
static void body_title_and_text(struct cf_request *req, const char **title, const char **body,
                                json_t **errors)
{
    *title = cf_body_string(req, "title", 3, 200, errors);
    *body = cf_body_string(req, "body", 1, BODY_MAX, errors);
    if (*title == NULL && json_object_get(req->body, "title") == NULL)
        cf_errors_add(errors, "title", "required", "a title of 3 to 200 characters");
    if (*body == NULL && json_object_get(req->body, "body") == NULL)
        cf_errors_add(errors, "body", "required", "the first post");
}

/* "acknowledge_privacy": an optional boolean. */
static const char *body_ack(struct cf_request *req, json_t **errors)
{
    json_t *v = json_object_get(req->body, "acknowledge_privacy");
    if (v == NULL || json_is_null(v))
        return "false";
    if (!json_is_boolean(v)) {
        cf_errors_add(errors, "acknowledge_privacy", "not_a_boolean", "true or false");
        return "false";
    }
    return json_is_true(v) ? "true" : "false";
}

/*
 * The privacy guard's findings in a title and a body (either may be NULL), each
 * with its field, the title's first: a new array. *worst gets the highest severity.
 */
static json_t *privacy_findings(const char *title, const char *body, int *worst)
{
    json_t *findings = json_array();
    const char *texts[] = {title, body}, *fields[] = {"title", "body"};
    *worst = CF_PRIVACY_NONE;
    for (size_t i = 0; i < 2; i++) {
        if (texts[i] == NULL)
            continue;
        struct cf_privacy_result r = {0};
        if (cf_privacy_scan(texts[i], strlen(texts[i]), &r) > *worst)
            *worst = r.worst;
        cf_privacy_json_append(findings, texts[i], strlen(texts[i]), &r, fields[i]);
        cf_privacy_result_free(&r);
    }
    return findings;
}

/* "block", "warn" or null. */
static json_t *severity_json(int worst)
{
    return worst == CF_PRIVACY_NONE ? json_null() : json_string(cf_privacy_severity_name(worst));
}

/*
 * The privacy guard (SPEC section 6) over a title and a body (either may be
 * NULL). A block, or a warning the request did not acknowledge, answers 422
 * privacy_blocked or privacy_warning with the findings and returns -1.
 * Otherwise returns 0 and sets *ack to "true" only when the text has warnings
 * and the request acknowledged them: that is what the post records.
 */
static int privacy_guard(struct cf_request *req, const char *title, const char *body,
                         const char **ack)
{
    int worst;
    json_t *findings = privacy_findings(title, body, &worst);
    int acknowledged = strcmp(*ack, "true") == 0;
    int refused = worst == CF_PRIVACY_BLOCK || (worst == CF_PRIVACY_WARN && !acknowledged);
    *ack = worst == CF_PRIVACY_WARN && acknowledged ? "true" : "false";
    if (!refused) {
        json_decref(findings);
        return 0;
    }
    int block = worst == CF_PRIVACY_BLOCK;
    json_t *p = cf_problem_new(
        422, block ? "privacy_blocked" : "privacy_warning",
        block ? "this text contains a patient identifier (a health card or social insurance "
                "number); remove it to post"
              : "this text may identify a patient; remove what is found, or post again with "
                "\"acknowledge_privacy\": true",
        NULL);
    json_object_set_new(p, "findings", findings);
    cf_reply_json(req, 422, p);
    return -1;
}

static int interval(struct cf_request *req, int thread)
{
    const struct cf_config *cfg = req->worker->server->cfg;
    if (!cfg->rate_limits)
        return 0;
    return thread ? cfg->thread_interval_s : cfg->post_interval_s;
}

/* ---- rendering a body, with its mentions resolved ---- */

struct compose;
typedef void (*compose_then)(struct compose *c, const char *html, const char *mention_ids);

struct compose {
    struct cf_request *req;
    struct cf_markdown *md;
    struct cf_mention mentions[CF_MENTIONS_MAX];
    size_t nmentions;
    compose_then then;
    char scratch[3][24]; /* ids the continuation needs */
    const char *text[4]; /* validated strings, alive with the request */
    char *owned;         /* freed with the compose */
};

static void compose_free(struct compose *c)
{
    cf_markdown_free(c->md);
    cf_free(c->owned);
    cf_free(c);
}

static void compose_finish(struct compose *c)
{
    char *html = cf_markdown_html(c->md, c->mentions, c->nmentions);
    char ids[CF_MENTIONS_MAX * 21 + 3];
    size_t len = 0;
    ids[len++] = '{';
    for (size_t i = 0; i < c->nmentions; i++) {
        if (c->mentions[i].user_id <= 0)
            continue;
        len += (size_t)snprintf(ids + len, sizeof(ids) - len, "%s%lld", len > 1 ? "," : "",
                                (long long)c->mentions[i].user_id);
    }
    ids[len++] = '}';
    ids[len] = '\0';
    c->then(c, html, ids);
    cf_free(html);
    compose_free(c);
}

static void on_mentions(struct cf_db_result *r, void *arg)
{
    struct compose *c = arg;
    if (!r->ok) {
        cf_reply_db_error(c->req, r);
        compose_free(c);
        return;
    }
    json_t *rows = json_loads(PQgetvalue(r->res[0], 0, 0), 0, NULL);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        const char *h = json_string_value(json_array_get(row, 0));
        for (size_t k = 0; h != NULL && k < c->nmentions; k++)
            if (strcmp(c->mentions[k].handle, h) == 0)
                c->mentions[k].user_id = json_integer_value(json_array_get(row, 1));
    }
    json_decref(rows);
    compose_finish(c);
}

/* Parses body, resolves its mentions, then calls then(c, html, ids) once. */
static struct compose *compose_new(struct cf_request *req, compose_then then)
{
    struct compose *c = cf_calloc(1, sizeof(*c));
    c->req = req;
    c->then = then;
    return c;
}

static void compose_run(struct compose *c, const char *body)
{
    c->md = cf_markdown_parse(body, strlen(body));
    c->nmentions = cf_markdown_mentions(c->md, c->mentions, CF_MENTIONS_MAX);
    if (c->nmentions == 0) {
        compose_finish(c);
        return;
    }
    char handles[CF_MENTIONS_MAX * (CF_HANDLE_MAX + 1) + 3];
    size_t len = 0;
    handles[len++] = '{';
    for (size_t i = 0; i < c->nmentions; i++)
        len += (size_t)snprintf(handles + len, sizeof(handles) - len, "%s%s", i ? "," : "",
                                c->mentions[i].handle);
    handles[len++] = '}';
    handles[len] = '\0';
    const char *params[] = {handles};
    cf_db_query(c->req->worker->db, &q_mentions, params, on_mentions, c);
}

/* ---- answering a write ---- */

/* {"post"}, {"thread"} or {"created"}: the object alone, with req->success_status. */
static void on_written(struct cf_db_result *r, void *arg, const char *key)
{
    cf_request_reply_outcome(arg, r, key, write_errors, NWRITE_ERRORS);
}

static void on_post_written(struct cf_db_result *r, void *arg)
{
    on_written(r, arg, "post");
}

static void on_thread_written(struct cf_db_result *r, void *arg)
{
    on_written(r, arg, "thread");
}

/* POST /threads answers {"thread", "post"}. */
static void on_thread_created(struct cf_db_result *r, void *arg)
{
    on_written(r, arg, "created");
}

static void on_deleted(struct cf_db_result *r, void *arg)
{
    on_written(r, arg, "deleted");
}

/* ---- GET /threads ---- */

void cf_h_threads_list(struct cf_request *req)
{
    const char *sort, *status, *kind;
    struct cf_page page;
    if (cf_query_page(req, 3, 3, &page) < 0 || cf_query_one_of(req, "sort", sorts, &sort) < 0 ||
        cf_query_one_of(req, "status", statuses, &status) < 0 ||
        cf_query_one_of(req, "kind", kinds, &kind) < 0)
        return;
    struct cf_space_filters f;
    if (cf_query_space_filters(req, &f) < 0)
        return;
    char user[24];
    cf_id_text(user, req->auth.user_id);
    const char *params[] = {user,        f.category, f.group,  f.tag,
                            status,      kind,       f.author, sort ? sort : "latest",
                            page.cursor, page.limit};
    cf_request_run_json(req, &q_list, params, 200);
}

/* ---- POST /threads ---- */

static void thread_create_rendered(struct compose *c, const char *html, const char *ids)
{
    struct cf_request *req = c->req;
    char user[24], wait[12];
    cf_id_text(user, req->auth.user_id);
    snprintf(wait, sizeof(wait), "%d", interval(req, 1));
    /* scratch[0]: the category, scratch[2]: the group (empty when none) */
    int in_group = c->scratch[2][0] != '\0';
    const char *params[] = {user,
                            in_group ? NULL : c->scratch[0],
                            in_group ? c->scratch[2] : NULL,
                            c->text[0],
                            c->text[1],
                            c->text[2],
                            c->text[3],
                            html,
                            ids,
                            c->scratch[1],
                            wait};
    req->success_status = 201;
    cf_db_query(req->worker->db, &q_thread_create, params, on_thread_created, req);
}

void cf_h_thread_create(struct cf_request *req)
{
    json_t *errors = NULL;
    const char *title, *body;
    body_title_and_text(req, &title, &body, &errors);
    const char *kind = cf_body_string(req, "kind", 1, 20, &errors);
    int64_t category = 0, group = 0;
    int has_category = cf_body_int(req, "category_id", &category, &errors);
    int has_group = cf_body_int(req, "group_id", &group, &errors);
    char *tags = body_tags(req, &errors);
    const char *ack = body_ack(req, &errors);
    if (kind != NULL && !cf_one_of(kind, kinds))
        cf_errors_add(&errors, "kind", "invalid", "discussion, case or question");
    if (has_category && has_group)
        cf_errors_add(&errors, "group_id", "conflict", "a thread goes in a category or a group");
    else if (!has_category && !has_group && json_object_get(req->body, "category_id") == NULL &&
             json_object_get(req->body, "group_id") == NULL)
        cf_errors_add(&errors, "category_id", "required", "the category (or group_id) to post in");
    if (errors != NULL) {
        cf_free(tags);
        cf_reply_invalid(req, errors);
        return;
    }
    if (privacy_guard(req, title, body, &ack) < 0) {
        cf_free(tags);
        return;
    }
    struct compose *c = compose_new(req, thread_create_rendered);
    cf_id_text(c->scratch[0], category);
    if (has_group)
        cf_id_text(c->scratch[2], group);
    snprintf(c->scratch[1], sizeof(c->scratch[1]), "%s", ack);
    c->text[0] = title;
    c->text[1] = kind ? kind : "discussion";
    c->owned = tags ? tags : cf_strdup("{}");
    c->text[2] = c->owned;
    c->text[3] = body;
    compose_run(c, body);
}

/* ---- conversations ---- */

#define PARTICIPANTS_MAX 20

static void conversation_rendered(struct compose *c, const char *html, const char *ids)
{
    struct cf_request *req = c->req;
    char user[24], wait[12];
    cf_id_text(user, req->auth.user_id);
    snprintf(wait, sizeof(wait), "%d", interval(req, 1));
    const char *params[] = {user, c->owned, c->text[0], c->text[1], html, ids, c->scratch[0], wait};
    req->success_status = 201;
    cf_db_query(req->worker->db, &q_conversation_create, params, on_thread_written, req);
}

void cf_h_conversation_create(struct cf_request *req)
{
    json_t *errors = NULL;
    const char *title, *body;
    body_title_and_text(req, &title, &body, &errors);
    const char *ack = body_ack(req, &errors);
    char *ids = cf_body_id_array(req, "participant_ids", 1, PARTICIPANTS_MAX, "1 to 20 member ids",
                                 &errors);
    json_t *given = json_object_get(req->body, "participant_ids");
    if (ids == NULL && (given == NULL || json_is_null(given)))
        cf_errors_add(&errors, "participant_ids", "required", "1 to 20 member ids");
    if (errors != NULL) {
        cf_free(ids);
        cf_reply_invalid(req, errors);
        return;
    }
    if (privacy_guard(req, title, body, &ack) < 0) {
        cf_free(ids);
        return;
    }
    struct compose *c = compose_new(req, conversation_rendered);
    c->owned = ids;
    c->text[0] = title;
    c->text[1] = body;
    snprintf(c->scratch[0], sizeof(c->scratch[0]), "%s", ack);
    compose_run(c, body);
}

void cf_h_conversations_list(struct cf_request *req)
{
    cf_request_run_list(req, &q_conversation_list, 2);
}

/* ---- GET /threads/{id} ---- */

void cf_h_thread_get(struct cf_request *req)
{
    const char *order;
    static const char *const orders[] = {"chronological", "tree", NULL};
    if (cf_query_one_of(req, "order", orders, &order) < 0)
        return;
    int tree = order && strcmp(order, "tree") == 0;
    struct cf_page page;
    if (cf_query_page(req, 1, tree ? CF_CURSOR_MAX_PARTS : 1, &page) < 0)
        return;
    char user[24], thread[24];
    cf_request_caller_and_id(req, user, thread);
    const char *params[] = {user, thread, tree ? "true" : "false", page.cursor, page.limit};
    cf_request_run_json(req, &q_page, params, 200);
}

/* ---- PATCH /threads/{id} ---- */

void cf_h_thread_update(struct cf_request *req)
{
    json_t *errors = NULL;
    json_t *fields = json_object();
    const char *title = cf_body_string(req, "title", 3, 200, &errors);
    const char *kind = cf_body_string(req, "kind", 1, 20, &errors);
    const char *status = cf_body_string(req, "status", 1, 20, &errors);
    const char *reason = cf_body_string(req, "reason", 1, 500, &errors);
    if (title != NULL)
        json_object_set_new(fields, "title", json_string(title));
    if (kind != NULL && !cf_one_of(kind, kinds))
        cf_errors_add(&errors, "kind", "invalid", "discussion, case or question");
    else if (kind != NULL)
        json_object_set_new(fields, "kind", json_string(kind));
    if (status != NULL && !cf_one_of(status, statuses))
        cf_errors_add(&errors, "status", "invalid", "open, resolved or closed");
    else if (status != NULL)
        json_object_set_new(fields, "status", json_string(status));
    char *tags = body_tags(req, &errors);
    if (tags != NULL) {
        json_object_set(fields, "tags", json_object_get(req->body, "tags"));
        cf_free(tags);
    }
    static const char *const flags[] = {"pinned", "locked"};
    for (size_t i = 0; i < 2; i++) {
        json_t *v = json_object_get(req->body, flags[i]);
        if (v != NULL && !json_is_boolean(v))
            cf_errors_add(&errors, flags[i], "not_a_boolean", "true or false");
        else if (v != NULL)
            json_object_set(fields, flags[i], v);
    }
    int64_t category;
    if (cf_body_int(req, "category_id", &category, &errors))
        json_object_set_new(fields, "category_id", json_integer(category));
    const char *ack = body_ack(req, &errors);
    if (errors == NULL && json_object_size(fields) == 0)
        cf_errors_add(&errors, "body", "empty", "nothing to change");
    if (errors != NULL) {
        json_decref(fields);
        cf_reply_invalid(req, errors);
        return;
    }
    if (title != NULL && privacy_guard(req, title, NULL, &ack) < 0) {
        json_decref(fields);
        return;
    }
    /* only a title has something to acknowledge here */
    if (title != NULL && strcmp(ack, "true") == 0)
        json_object_set_new(fields, "privacy_acknowledged", json_true());
    char user[24], thread[24];
    cf_request_caller_and_id(req, user, thread);
    char *text = json_dumps(fields, JSON_COMPACT);
    json_decref(fields);
    const char *params[] = {user, thread, text, reason};
    req->success_status = 200;
    cf_db_query(req->worker->db, &q_thread_update, params, on_thread_written, req);
    free(text);
}

/* ---- POST /threads/{id}/posts ---- */

static void post_create_rendered(struct compose *c, const char *html, const char *ids)
{
    struct cf_request *req = c->req;
    char user[24], wait[12];
    cf_id_text(user, req->auth.user_id);
    snprintf(wait, sizeof(wait), "%d", interval(req, 0));
    const char *params[] = {user,          c->scratch[0], c->scratch[1][0] ? c->scratch[1] : NULL,
                            c->text[0],    html,          ids,
                            c->scratch[2], wait};
    req->success_status = 201;
    cf_db_query(req->worker->db, &q_post_create, params, on_post_written, req);
}

void cf_h_post_create(struct cf_request *req)
{
    json_t *errors = NULL;
    const char *body = cf_body_string(req, "body", 1, BODY_MAX, &errors);
    int64_t reply_to = 0;
    int has_reply = cf_body_int(req, "reply_to", &reply_to, &errors);
    const char *ack = body_ack(req, &errors);
    if (body == NULL && json_object_get(req->body, "body") == NULL)
        cf_errors_add(&errors, "body", "required", "the reply");
    if (errors != NULL) {
        cf_reply_invalid(req, errors);
        return;
    }
    if (privacy_guard(req, NULL, body, &ack) < 0)
        return;
    struct compose *c = compose_new(req, post_create_rendered);
    cf_id_text(c->scratch[0], cf_request_param_id(req, 0));
    if (has_reply)
        cf_id_text(c->scratch[1], reply_to);
    snprintf(c->scratch[2], sizeof(c->scratch[2]), "%s", ack);
    c->text[0] = body;
    compose_run(c, body);
}

/* ---- /posts/{id} ---- */

void cf_h_post_get(struct cf_request *req)
{
    char user[24], post[24];
    cf_request_caller_and_id(req, user, post);
    const char *params[] = {user, post};
    cf_request_run_json(req, &q_post_get, params, 200);
}

static void post_edit_rendered(struct compose *c, const char *html, const char *ids)
{
    struct cf_request *req = c->req;
    char user[24];
    cf_id_text(user, req->auth.user_id);
    const char *params[] = {user, c->scratch[0], c->scratch[1], c->text[0],
                            html, ids,           c->scratch[2]};
    req->success_status = 200;
    cf_db_query(req->worker->db, &q_post_edit, params, on_post_written, req);
}

void cf_h_post_update(struct cf_request *req)
{
    json_t *errors = NULL;
    const char *body = cf_body_string(req, "body", 1, BODY_MAX, &errors);
    int64_t version = 0;
    int has_version = cf_body_int(req, "version", &version, &errors);
    const char *ack = body_ack(req, &errors);
    if (body == NULL && json_object_get(req->body, "body") == NULL)
        cf_errors_add(&errors, "body", "required", "the new text");
    if (!has_version && json_object_get(req->body, "version") == NULL)
        cf_errors_add(&errors, "version", "required", "the version you edited");
    else if (has_version && (version < 1 || version > 1000000000))
        cf_errors_add(&errors, "version", "out_of_range", "a version number");
    if (errors != NULL) {
        cf_reply_invalid(req, errors);
        return;
    }
    if (privacy_guard(req, NULL, body, &ack) < 0)
        return;
    struct compose *c = compose_new(req, post_edit_rendered);
    cf_id_text(c->scratch[0], cf_request_param_id(req, 0));
    cf_id_text(c->scratch[1], version);
    snprintf(c->scratch[2], sizeof(c->scratch[2]), "%s", ack);
    c->text[0] = body;
    compose_run(c, body);
}

void cf_h_post_delete(struct cf_request *req)
{
    char user[24], post[24];
    cf_request_caller_and_id(req, user, post);
    const char *reason = cf_request_query(req, "reason");
    const char *params[] = {user, post, reason};
    req->success_status = 204;
    cf_db_query(req->worker->db, &q_post_delete, params, on_deleted, req);
}

static void hide(struct cf_request *req, int on)
{
    json_t *errors = NULL;
    const char *reason = cf_body_reason(req, &errors);
    if (errors != NULL) {
        cf_reply_invalid(req, errors);
        return;
    }
    char user[24], post[24];
    cf_request_caller_and_id(req, user, post);
    const char *params[] = {user, post, on ? "true" : "false", reason};
    req->success_status = 200;
    cf_db_query(req->worker->db, &q_post_hide, params, on_post_written, req);
}

void cf_h_post_hide(struct cf_request *req)
{
    hide(req, 1);
}

void cf_h_post_unhide(struct cf_request *req)
{
    hide(req, 0);
}

void cf_h_post_revisions(struct cf_request *req)
{
    char user[24], post[24];
    cf_request_caller_and_id(req, user, post);
    const char *params[] = {user, post};
    cf_request_run_json(req, &q_revisions, params, 200);
}

/* ---- answers, reading state, subscriptions ---- */

static void thread_call(struct cf_request *req, struct cf_db_stmt *stmt, const char *third)
{
    char user[24], thread[24];
    cf_request_caller_and_id(req, user, thread);
    const char *params[] = {user, thread, third};
    req->success_status = 200;
    cf_db_query(req->worker->db, stmt, params, on_thread_written, req);
}

/* {"post_id": n}, required; 0 after answering 422. */
static int64_t body_post_id(struct cf_request *req)
{
    json_t *errors = NULL;
    int64_t post = 0;
    if (!cf_body_int(req, "post_id", &post, &errors) && errors == NULL)
        cf_errors_add(&errors, "post_id", "required", "a post of this thread");
    else if (errors == NULL && post < 1)
        cf_errors_add(&errors, "post_id", "out_of_range", "a post of this thread");
    if (errors != NULL) {
        cf_reply_invalid(req, errors);
        return 0;
    }
    return post;
}

void cf_h_thread_answer(struct cf_request *req)
{
    int64_t post = body_post_id(req);
    if (post == 0)
        return;
    char id[24];
    cf_id_text(id, post);
    thread_call(req, &q_answer, id);
}

void cf_h_thread_answer_delete(struct cf_request *req)
{
    thread_call(req, &q_answer, NULL);
}

void cf_h_thread_read(struct cf_request *req)
{
    int64_t post = body_post_id(req);
    if (post == 0)
        return;
    char id[24];
    cf_id_text(id, post);
    thread_call(req, &q_read, id);
}

void cf_h_thread_subscription(struct cf_request *req)
{
    json_t *errors = NULL;
    const char *level = cf_body_string(req, "level", 1, 20, &errors);
    if (errors == NULL && !cf_one_of(level, levels))
        cf_errors_add(&errors, "level", level ? "invalid" : "required",
                      "watching, normal or muted");
    if (errors != NULL) {
        cf_reply_invalid(req, errors);
        return;
    }
    thread_call(req, &q_subscribe, level);
}

/* ---- reactions and bookmarks ---- */

static void reaction(struct cf_request *req, int on)
{
    const struct cf_route_param *p = &req->match.params[1];
    const char *kind = NULL;
    if (p->len == 7 && strncmp(p->start, "helpful", 7) == 0)
        kind = "helpful";
    else if (p->len == 6 && strncmp(p->start, "thanks", 6) == 0)
        kind = "thanks";
    if (kind == NULL) {
        cf_reply_problem(req, 404, "not_found", "reactions are helpful and thanks");
        return;
    }
    char user[24], post[24];
    cf_request_caller_and_id(req, user, post);
    const char *params[] = {user, post, kind, on ? "true" : "false"};
    req->success_status = 200;
    cf_db_query(req->worker->db, &q_reaction, params, on_post_written, req);
}

void cf_h_reaction_put(struct cf_request *req)
{
    reaction(req, 1);
}

void cf_h_reaction_delete(struct cf_request *req)
{
    reaction(req, 0);
}

static void bookmark(struct cf_request *req, int on)
{
    char user[24], post[24];
    cf_request_caller_and_id(req, user, post);
    const char *params[] = {user, post, on ? "true" : "false"};
    req->success_status = 200;
    cf_db_query(req->worker->db, &q_bookmark, params, on_post_written, req);
}

void cf_h_bookmark_put(struct cf_request *req)
{
    bookmark(req, 1);
}

void cf_h_bookmark_delete(struct cf_request *req)
{
    bookmark(req, 0);
}

void cf_h_bookmarks_list(struct cf_request *req)
{
    cf_request_run_list(req, &q_bookmarks, 2);
}

/* ---- POST /privacy/check ---- */

void cf_h_privacy_check(struct cf_request *req)
{
    json_t *errors = NULL;
    const char *text = cf_body_string(req, "text", 0, BODY_MAX, &errors);
    if (text == NULL && errors == NULL)
        cf_errors_add(&errors, "text", "required", "the text to check");
    if (errors != NULL) {
        cf_reply_invalid(req, errors);
        return;
    }
    struct cf_privacy_result r = {0};
    cf_privacy_scan(text, strlen(text), &r);
    json_t *out = json_object();
    json_t *findings = json_array();
    cf_privacy_json_append(findings, text, strlen(text), &r, NULL);
    json_object_set_new(out, "findings", findings);
    json_object_set_new(out, "worst", severity_json(r.worst));
    json_object_set_new(out, "truncated", json_boolean(r.truncated));
    cf_privacy_result_free(&r);
    cf_reply_json(req, 200, out);
}

/* ---- POST /preview ---- */

static void preview_rendered(struct compose *c, const char *html, const char *ids)
{
    (void)ids;
    json_t *out = json_object();
    json_object_set_new(out, "html", json_string(html));
    json_t *mentions = json_array();
    for (size_t i = 0; i < c->nmentions; i++) {
        json_t *m = json_object();
        json_object_set_new(m, "handle", json_string(c->mentions[i].handle));
        json_object_set_new(m, "user_id",
                            c->mentions[i].user_id > 0 ? json_integer(c->mentions[i].user_id)
                                                       : json_null());
        json_array_append_new(mentions, m);
    }
    json_object_set_new(out, "mentions", mentions);
    int worst;
    json_t *privacy = json_object();
    json_object_set_new(privacy, "findings", privacy_findings(c->text[1], c->text[0], &worst));
    json_object_set_new(privacy, "worst", severity_json(worst));
    json_object_set_new(out, "privacy", privacy);
    cf_reply_json(c->req, 200, out);
}

void cf_h_preview(struct cf_request *req)
{
    json_t *errors = NULL;
    const char *body = cf_body_string(req, "body", 1, BODY_MAX, &errors);
    const char *title = cf_body_string(req, "title", 1, 200, &errors);
    if (body == NULL && errors == NULL)
        cf_errors_add(&errors, "body", "required", "the text to preview");
    if (errors != NULL) {
        cf_reply_invalid(req, errors);
        return;
    }
    struct compose *c = compose_new(req, preview_rendered);
    c->text[0] = body;
    c->text[1] = title;
    compose_run(c, body);
}
