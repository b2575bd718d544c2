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

static const char *const reasons[] = {"privacy", "disrespectful", "clinical_safety",
                                      "spam",    "off_topic",     "other"};

static void id_text(char out[24], int64_t v)
{
    snprintf(out, 24, "%lld", (long long)v);
}

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
    int known = 0;
    for (size_t i = 0; reason != NULL && i < sizeof(reasons) / sizeof(reasons[0]); i++)
        known |= strcmp(reason, reasons[i]) == 0;
    if (errors == NULL && !known)
        cf_errors_add(&errors, "reason", reason ? "invalid" : "required",
                      "privacy, disrespectful, clinical_safety, spam, off_topic or other");
    if (errors != NULL) {
        cf_reply_invalid(req, errors);
        return;
    }
    const struct cf_config *cfg = req->worker->server->cfg;
    char user[24], post[24], threshold[12], daily[12];
    id_text(user, req->auth.user_id);
    id_text(post, cf_request_param_id(req, 0));
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
    const char *status = cf_request_query(req, "status");
    if (status != NULL && strcmp(status, "pending") != 0 && strcmp(status, "resolved") != 0) {
        cf_reply_problem(req, 400, "invalid_query", "status is pending or resolved");
        return;
    }
    int limit = cf_query_limit(req);
    char cursor[CF_CURSOR_TEXT];
    int has_cursor = limit < 0 ? -1 : cf_query_cursor(req, 1, 1, cursor, sizeof(cursor));
    if (has_cursor < 0)
        return;
    char user[24], lim[12];
    id_text(user, req->auth.user_id);
    snprintf(lim, sizeof(lim), "%d", limit);
    const char *params[] = {user, status ? status : "pending", has_cursor ? cursor : NULL, lim};
    cf_request_run_json(req, &q_queue, params, 200);
}

void cf_h_moderation_decide(struct cf_request *req)
{
    if (!reviewer(req))
        return;
    json_t *errors = NULL;
    const char *action = cf_body_string(req, "action", 1, 10, &errors);
    const char *note = cf_body_string(req, "note", 0, 1000, &errors);
    if (errors == NULL && (action == NULL || (strcmp(action, "keep") && strcmp(action, "hide") &&
                                              strcmp(action, "delete"))))
        cf_errors_add(&errors, "action", action ? "invalid" : "required", "keep, hide or delete");
    if (errors != NULL) {
        cf_reply_invalid(req, errors);
        return;
    }
    char user[24], post[24];
    id_text(user, req->auth.user_id);
    id_text(post, cf_request_param_id(req, 0));
    const char *params[] = {user, post, action, note};
    req->success_status = 200;
    cf_db_query(req->worker->db, &q_decide, params, on_decision, req);
}
