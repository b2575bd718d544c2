/*
 * h_groups: mentorship groups (SPEC sections 1, 2 and 4, "Groups and
 * conversations"). Coordinators create and staff the groups of their own
 * network, admins anywhere; a group has a mentor (and optionally a co-mentor)
 * and up to max_mentees mentees. A group the caller may not read is 404.
 * The checks and the writes are SQL functions (schema/0005_groups.sql).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "http_server.h"
#include "request.h"
#include "routes.h"

static struct cf_db_stmt q_list =
    CF_DB_STMT("group_list", "SELECT cf_group_list($1, $2::bigint[], $3)", 3);
static struct cf_db_stmt q_get = CF_DB_STMT(
    "group_get",
    "SELECT cf_group_json(g, $1) FROM groups g WHERE g.id = $2 AND cf_group_readable($1, g.id)", 2);
static struct cf_db_stmt q_save =
    CF_DB_STMT("group_save", "SELECT cf_group_save($1, $2, $3::jsonb)", 3);
static struct cf_db_stmt q_member =
    CF_DB_STMT("group_member_set", "SELECT cf_group_member_set($1, $2, $3, $4, $5)", 5);

static const struct cf_sql_error group_errors[] = {
    {"not_found", 404, "no such group", NULL},
    {"forbidden", 403, "coordinators run the groups of their network; admins any group", NULL},
    {"network_unknown", 422, "no such network", "network"},
    {"max_below_mentees", 422, "the group already has more mentees than that", "max_mentees"},
    {"user_unknown", 404, "no such member", NULL},
    {"group_full", 409, "the group has max_mentees mentees already", NULL},
    {"mentors_full", 409, "a group has a mentor and at most one co-mentor", NULL},
    {"not_a_member", 404, "this member is not in the group", NULL},
};

static void id_text(char out[24], int64_t v)
{
    snprintf(out, 24, "%lld", (long long)v);
}

static void on_group(struct cf_db_result *r, void *arg)
{
    struct cf_request *req = arg;
    json_t *g = cf_request_sql_outcome(req, r, "group", group_errors,
                                       sizeof(group_errors) / sizeof(group_errors[0]));
    if (g == NULL)
        return;
    if (req->success_status == 204) {
        json_decref(g);
        cf_reply_empty(req, 204);
        return;
    }
    cf_reply_json(req, req->success_status, g);
}

void cf_h_groups_list(struct cf_request *req)
{
    cf_request_run_list(req, &q_list, 1);
}

void cf_h_group_get(struct cf_request *req)
{
    char user[24], group[24];
    id_text(user, req->auth.user_id);
    id_text(group, cf_request_param_id(req, 0));
    const char *params[] = {user, group};
    cf_request_run_json(req, &q_get, params, 200);
}

/* The fields of POST and PATCH /groups, as JSON for cf_group_save; NULL after 422. */
static json_t *group_fields(struct cf_request *req, int create)
{
    json_t *errors = NULL;
    json_t *fields = json_object();
    const char *name = cf_body_string(req, "name", 2, 100, &errors);
    const char *description = cf_body_string(req, "description", 0, 2000, &errors);
    if (name != NULL)
        json_object_set_new(fields, "name", json_string(name));
    else if (create && json_object_get(req->body, "name") == NULL)
        cf_errors_add(&errors, "name", "required", "the group's name, 2 to 100 characters");
    if (description != NULL)
        json_object_set_new(fields, "description", json_string(description));
    int64_t max;
    if (cf_body_int(req, "max_mentees", &max, &errors)) {
        if (max < 1 || max > 20)
            cf_errors_add(&errors, "max_mentees", "out_of_range", "from 1 to 20");
        else
            json_object_set_new(fields, "max_mentees", json_integer(max));
    }
    if (create) {
        json_t *n = json_object_get(req->body, "network");
        if (json_is_integer(n))
            json_object_set_new(fields, "network", json_sprintf("%lld", json_integer_value(n)));
        else if (json_is_string(n) && json_string_length(n) >= 1 && json_string_length(n) <= 8)
            json_object_set(fields, "network", n);
        else
            cf_errors_add(&errors, "network", n ? "invalid" : "required",
                          "the network, as BC or its id");
    } else if (errors == NULL && json_object_size(fields) == 0) {
        cf_errors_add(&errors, "body", "empty", "nothing to change");
    }
    if (errors != NULL) {
        json_decref(fields);
        cf_reply_invalid(req, errors);
        return NULL;
    }
    return fields;
}

static void save(struct cf_request *req, int create)
{
    json_t *fields = group_fields(req, create);
    if (fields == NULL)
        return;
    char actor[24], group[24];
    id_text(actor, req->auth.user_id);
    id_text(group, create ? 0 : cf_request_param_id(req, 0));
    char *text = json_dumps(fields, JSON_COMPACT);
    json_decref(fields);
    const char *params[] = {actor, create ? NULL : group, text};
    req->success_status = create ? 201 : 200;
    cf_db_query(req->worker->db, &q_save, params, on_group, req);
    free(text);
}

void cf_h_group_create(struct cf_request *req)
{
    save(req, 1);
}

void cf_h_group_update(struct cf_request *req)
{
    save(req, 0);
}

/* The {user_id} of /groups/{id}/members/{user_id}: 0 when not a positive id. */
static int64_t member_param(const struct cf_request *req)
{
    const struct cf_route_param *p = &req->match.params[1];
    if (p->len == 0 || p->len > 15 || p->start[0] == '0')
        return 0;
    int64_t v = 0;
    for (size_t i = 0; i < p->len; i++) {
        if (p->start[i] < '0' || p->start[i] > '9')
            return 0;
        v = v * 10 + (p->start[i] - '0');
    }
    return v;
}

static void member(struct cf_request *req, const char *role, const char *reason)
{
    int64_t target = member_param(req);
    if (target == 0) {
        cf_reply_problem(req, 404, "not_found", "no such member");
        return;
    }
    char actor[24], group[24], user[24];
    id_text(actor, req->auth.user_id);
    id_text(group, cf_request_param_id(req, 0));
    id_text(user, target);
    const char *params[] = {actor, group, user, role, reason};
    req->success_status = role ? 200 : 204;
    cf_db_query(req->worker->db, &q_member, params, on_group, req);
}

void cf_h_group_member_put(struct cf_request *req)
{
    json_t *errors = NULL;
    const char *role = cf_body_string(req, "role", 1, 10, &errors);
    const char *reason = cf_body_string(req, "reason", 1, 500, &errors);
    if (errors == NULL && (role == NULL || (strcmp(role, "mentor") && strcmp(role, "mentee"))))
        cf_errors_add(&errors, "role", role ? "invalid" : "required", "mentor or mentee");
    if (errors != NULL) {
        cf_reply_invalid(req, errors);
        return;
    }
    member(req, role, reason);
}

void cf_h_group_member_delete(struct cf_request *req)
{
    member(req, NULL, cf_request_query(req, "reason"));
}
