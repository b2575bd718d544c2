/*
 * h_moderation: flags, the review queue and decisions (SPEC section 4 "Moderation"
 * and section 5). Any member who reads a post may flag it; a privacy flag from a
 * mentor, coordinator, moderator or admin, or flags from CONFER_FLAG_THRESHOLD
 * members, hide it pending review. Moderators and admins review everything,
 * coordinators their network's groups. The rules are SQL functions
 * (schema/0006_moderation.sql).
 */
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "http_server.h"
#include "request.h"
#include "routes.h"

static struct cf_db_stmt q_flag =
    CF_DB_STMT("flag_create", "SELECT cf_flag_create($1, $2, $3, $4, $5, $6)", 6);
static struct cf_db_stmt q_queue =
    CF_DB_STMT("moderation_queue", "SELECT cf_moderation_queue($1, $2, $3::bigint[], $4)", 4);
static struct cf_db_stmt q_decide =
    CF_DB_STMT("moderation_decide", "SELECT cf_moderation_decide($1, $2, $3, $4)", 4);

static const struct cf_sql_error errors_map[] = {
    {"not_found", 404, "no such post", NULL},
    {"already_flagged", 409, "you have an open flag on this post already", NULL},
    {"own_post", 409, "you cannot flag your own post; edit or delete it", NULL},
    {"nothing_to_decide", 409, "every flag of this post is resolved", NULL},
};

static const char *const reasons[] = {
    "privacy", "disrespectful", "clinical_safety", "spam", "off_topic", "other", NULL};

static void on_answer(struct cf_db_result *r, void *arg, const char *key)
{
    cf_request_reply_outcome(arg, r, key, errors_map, sizeof(errors_map) / sizeof(errors_map[0]));
}

static void on_flag(struct cf_db_result *r, void *arg)
{
    on_answer(r, arg, "flag");
}

static void on_decision(struct cf_db_result *r, void *arg)
{
    on_answer(r, arg, "item");
}

void cf_h_flag_create(struct cf_request *req)
{
    json_t *errors = NULL;
    const char *reason = cf_body_string(req, "reason", 1, 20, &errors);
    const char *note = cf_body_string(req, "note", 0, 1000, &errors);
    if (errors == NULL && !cf_one_of(reason, reasons))
        cf_errors_add(&errors, "reason", reason ? "invalid" : "required",
                      "privacy, disrespectful, clinical_safety, spam, off_topic or other");
    if (errors != NULL) {
        cf_reply_invalid(req, errors);
        return;
    }
    const struct cf_config *cfg = req->worker->server->cfg;
    char user[24], post[24], threshold[12], daily[12];
    cf_request_caller_and_id(req, user, post);
    snprintf(threshold, sizeof(threshold), "%d", cfg->flag_threshold);
    snprintf(daily, sizeof(daily), "%d", cfg->rate_limits ? cfg->flags_per_day : 0);
    const char *params[] = {user, post, reason, note, threshold, daily};
    req->success_status = 201;
    cf_db_query(req->worker->db, &q_flag, params, on_flag, req);
}

static int reviewer(struct cf_request *req)
{
    if (req->auth.role == CF_ROLE_MEMBER) {
        cf_reply_problem(req, 403, "forbidden",
                         "moderators, admins and coordinators review flagged posts");
        return 0;
    }
    return 1;
}

void cf_h_moderation_queue(struct cf_request *req)
{
    if (!reviewer(req))
        return;
    static const char *const statuses[] = {"pending", "resolved", NULL};
    const char *status;
    if (cf_query_one_of(req, "status", statuses, &status) < 0)
        return;
    struct cf_page page;
    if (cf_query_page(req, 1, 1, &page) < 0)
        return;
    char user[24];
    cf_id_text(user, req->auth.user_id);
    const char *params[] = {user, status ? status : "pending", page.cursor, page.limit};
    cf_request_run_json(req, &q_queue, params, 200);
}

void cf_h_moderation_decide(struct cf_request *req)
{
    if (!reviewer(req))
        return;
    json_t *errors = NULL;
    const char *action = cf_body_string(req, "action", 1, 10, &errors);
    const char *note = cf_body_string(req, "note", 0, 1000, &errors);
    static const char *const actions[] = {"keep", "hide", "delete", NULL};
    if (errors == NULL && !cf_one_of(action, actions))
        cf_errors_add(&errors, "action", action ? "invalid" : "required", "keep, hide or delete");
    if (errors != NULL) {
        cf_reply_invalid(req, errors);
        return;
    }
    char user[24], post[24];
    cf_request_caller_and_id(req, user, post);
    const char *params[] = {user, post, action, note};
    req->success_status = 200;
    cf_db_query(req->worker->db, &q_decide, params, on_decision, req);
}

/* ---- suspensions and the log ---- */

static struct cf_db_stmt q_suspend =
    CF_DB_STMT("suspend", "SELECT cf_suspend($1, $2, $3, $4, $5)", 5);
static struct cf_db_stmt q_log =
    CF_DB_STMT("moderation_log", "SELECT cf_moderation_log($1, $2, $3, $4, $5::bigint[], $6)", 6);

static const struct cf_sql_error suspend_errors[] = {
    {"not_found", 404, "no such member", NULL},
    {"forbidden", 403, "moderators suspend members and coordinators; admins anyone but themselves",
     NULL},
    {"until_invalid", 422, "a time to come (RFC 3339)", "until"},
};

static void on_suspended(struct cf_db_result *r, void *arg)
{
    cf_request_reply_outcome(arg, r, "user", suspend_errors,
                             sizeof(suspend_errors) / sizeof(suspend_errors[0]));
}

static void suspend(struct cf_request *req, int on)
{
    json_t *errors = NULL;
    const char *until = on ? cf_body_string(req, "until", 10, 40, &errors) : NULL;
    const char *reason = cf_body_reason(req, &errors);
    if (on && until == NULL && json_object_get(req->body, "until") == NULL)
        cf_errors_add(&errors, "until", "required", "when the suspension ends (RFC 3339)");
    if (errors != NULL) {
        cf_reply_invalid(req, errors);
        return;
    }
    char actor[24], target[24];
    cf_request_caller_and_id(req, actor, target);
    const char *params[] = {actor, target, on ? "true" : "false", until, reason};
    req->success_status = 200;
    cf_db_query(req->worker->db, &q_suspend, params, on_suspended, req);
}

void cf_h_user_suspend(struct cf_request *req)
{
    suspend(req, 1);
}

void cf_h_user_unsuspend(struct cf_request *req)
{
    suspend(req, 0);
}

void cf_h_moderation_log(struct cf_request *req)
{
    if (req->auth.role != CF_ROLE_MODERATOR && req->auth.role != CF_ROLE_ADMIN) {
        cf_reply_problem(req, 403, "forbidden", "moderators and admins read the moderation log");
        return;
    }
    const char *actor = cf_request_query(req, "actor");
    const char *target_id = cf_request_query(req, "target_id");
    const char *ids[] = {actor, target_id};
    for (size_t i = 0; i < 2; i++) {
        if (ids[i] != NULL && (ids[i][0] == '\0' || strlen(ids[i]) > 15 ||
                               strspn(ids[i], "0123456789") != strlen(ids[i]))) {
            cf_reply_problem(req, 400, "invalid_query", "actor and target_id are ids");
            return;
        }
    }
    struct cf_page page;
    if (cf_query_page(req, 1, 1, &page) < 0)
        return;
    const char *params[] = {cf_request_query(req, "action"),
                            actor,
                            cf_request_query(req, "target_type"),
                            target_id,
                            page.cursor,
                            page.limit};
    cf_request_run_json(req, &q_log, params, 200);
}

/* ---- redaction ---- */

static struct cf_db_stmt q_redact =
    CF_DB_STMT("revision_redact", "SELECT cf_revision_redact($1, $2, $3, $4)", 4);

static const struct cf_sql_error redact_errors[] = {
    {"not_found", 404, "no such post or version", NULL},
    {"forbidden", 403, "moderators redact revisions", NULL},
    {"revision_current", 409,
     "this is the post's current text; hide the post and ask its author to edit it, then "
     "redact the earlier version",
     NULL},
    {"already_redacted", 409, "this version is redacted already", NULL},
};

static void on_redacted(struct cf_db_result *r, void *arg)
{
    cf_request_reply_outcome(arg, r, "revision", redact_errors,
                             sizeof(redact_errors) / sizeof(redact_errors[0]));
}

/* POST /posts/{id}/revisions/{n}/redact {reason} */
void cf_h_revision_redact(struct cf_request *req)
{
    const struct cf_route_param *n = &req->match.params[1];
    char version[12];
    if (n->len == 0 || n->len > 9 || strspn(n->start, "0123456789") < n->len ||
        n->start[0] == '0') {
        cf_reply_problem(req, 404, "not_found", "no such version");
        return;
    }
    snprintf(version, sizeof(version), "%.*s", (int)n->len, n->start);
    json_t *errors = NULL;
    const char *reason = cf_body_reason(req, &errors);
    if (errors != NULL) {
        cf_reply_invalid(req, errors);
        return;
    }
    char user[24], post[24];
    cf_request_caller_and_id(req, user, post);
    const char *params[] = {user, post, version, reason};
    req->success_status = 200;
    cf_db_query(req->worker->db, &q_redact, params, on_redacted, req);
}
