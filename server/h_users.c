/*
 * h_users: registration with an invitation, public profiles, and role changes
 * by admins (SPEC section 4 "Accounts").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "auth.h"
#include "db.h"
#include "http_server.h"
#include "password.h"
#include "request.h"
#include "routes.h"

static struct cf_db_stmt q_register =
    CF_DB_STMT("user_register", "SELECT cf_register(decode($1, 'hex'), $2, $3, $4, $5, $6)", 6);

/* The refusals cf_register would give, asked before the password is hashed (0019). */
static struct cf_db_stmt q_register_check =
    CF_DB_STMT("user_register_check", "SELECT cf_register_check(decode($1, 'hex'), $2, $3)", 3);

static struct cf_db_stmt q_get =
    CF_DB_STMT("user_get",
               "SELECT cf_user_json(u, u.id = $2::bigint OR $3::boolean) FROM users u"
               " WHERE u.id = $1",
               3);

static struct cf_db_stmt q_search =
    CF_DB_STMT("user_search",
               "SELECT cf_user_search($1, $2, $3::bigint, $4::bigint[], $5::int, $6::boolean)", 6);

static struct cf_db_stmt q_set_role =
    CF_DB_STMT("user_set_role", "SELECT cf_set_role($1, $2, $3, $4)", 4);

/* A plausible address: one @, something on both sides, a dot in the domain, no spaces. */
int cf_email_valid(const char *e)
{
    const char *at = strchr(e, '@');
    if (at == NULL || at == e || strchr(at + 1, '@') != NULL)
        return 0;
    const char *dot = strrchr(at + 1, '.');
    if (dot == NULL || dot == at + 1 || dot[1] == '\0')
        return 0;
    for (const char *p = e; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == '<' || *p == '>' || *p == '"' || *p == ',')
            return 0;
    return 1;
}

struct registration {
    struct cf_request *req;
    char code_hash[65];
    char *email, *name, *profession, *locale, *password;
};

static void registration_free(struct registration *g)
{
    if (g->password)
        explicit_bzero(g->password, strlen(g->password));
    cf_free(g->password);
    cf_free(g->email);
    cf_free(g->name);
    cf_free(g->profession);
    cf_free(g->locale);
    cf_free(g);
}

static const struct cf_sql_error register_errors[] = {
    {"invitation_invalid", 422, "this invitation code is not valid", NULL},
    {"invitation_used", 422, "this invitation has already been used", NULL},
    {"invitation_expired", 422, "this invitation has expired; ask your coordinator for a new one",
     NULL},
    {"invitation_email_mismatch", 422, "use the email address the invitation was sent to", NULL},
    {"email_taken", 409, "an account already uses this email address", NULL},
    {"profession_unknown", 422, "choose a profession from the list", "profession"},
};

static const struct cf_sql_error role_errors[] = {
    {"not_found", 404, "no such member", NULL},
};

static void on_registered(struct cf_db_result *r, void *arg)
{
    struct registration *g = arg;
    struct cf_request *req = g->req;
    registration_free(g);
    json_t *user = cf_request_sql_outcome(req, r, "user", register_errors,
                                          sizeof(register_errors) / sizeof(register_errors[0]));
    if (user == NULL)
        return;
    req->user_id = (int64_t)json_integer_value(json_object_get(user, "id"));
    cf_reply_json(req, 201, user);
}

static void on_hashed(int status, int match, const char *encoded, void *arg)
{
    struct registration *g = arg;
    struct cf_request *req = g->req;
    (void)match;
    if (status != 0 || encoded == NULL) {
        registration_free(g);
        cf_reply_unavailable(req, "the server is busy; try again shortly");
        return;
    }
    const char *params[] = {g->code_hash, g->email, g->name, g->profession, g->locale, encoded};
    cf_db_query(req->worker->db, &q_register, params, on_registered, g);
}

/* The invitation, profession and email are good: only now is the password hashed, so
 * that made-up codes cost a query, not an argon2id hash (schema/0019). */
static void on_checked(struct cf_db_result *r, void *arg)
{
    struct registration *g = arg;
    struct cf_request *req = g->req;
    json_t *ok = cf_request_sql_outcome(req, r, "ok", register_errors,
                                        sizeof(register_errors) / sizeof(register_errors[0]));
    if (ok == NULL) {
        registration_free(g);
        return;
    }
    json_decref(ok);
    cf_password_hash(req->worker->hash, g->password, on_hashed, g);
}

void cf_h_user_register(struct cf_request *req)
{
    json_t *errors = NULL;
    const char *code = cf_body_string(req, "invite_code", 1, 200, &errors);
    const char *email = cf_body_string(req, "email", 3, 254, &errors);
    const char *name = cf_body_string(req, "display_name", 2, 60, &errors);
    const char *profession = cf_body_string(req, "profession", 1, 40, &errors);
    const char *locale = cf_body_string(req, "locale", 2, 2, &errors);
    json_t *pw = json_object_get(req->body, "password");
    const char *password = pw && json_is_string(pw) ? json_string_value(pw) : NULL;
    if (code == NULL && !json_object_get(req->body, "invite_code"))
        cf_errors_add(&errors, "invite_code", "required", "enter your invitation code");
    if (email == NULL && !json_object_get(req->body, "email"))
        cf_errors_add(&errors, "email", "required", "enter your email address");
    else if (email != NULL && !cf_email_valid(email))
        cf_errors_add(&errors, "email", "invalid", "this is not an email address");
    if (name == NULL && !json_object_get(req->body, "display_name"))
        cf_errors_add(&errors, "display_name", "required", "enter the name others will see");
    if (profession == NULL && !json_object_get(req->body, "profession"))
        cf_errors_add(&errors, "profession", "required", "choose your profession");
    if (locale == NULL)
        locale = "en";
    else if (strcmp(locale, "en") != 0 && strcmp(locale, "fr") != 0)
        cf_errors_add(&errors, "locale", "invalid", "en or fr");
    if (password == NULL) {
        cf_errors_add(&errors, "password", "required", "choose a password");
    } else {
        const char *pcode, *message;
        if (cf_password_check(password, email, name, &pcode, &message) != 0)
            cf_errors_add(&errors, "password", pcode, message);
    }
    if (errors != NULL) {
        cf_reply_invalid(req, errors);
        return;
    }
    struct registration *g = cf_calloc(1, sizeof(*g));
    g->req = req;
    cf_auth_sha256_hex(code, g->code_hash);
    g->email = cf_strdup(email);
    g->name = cf_strdup(name);
    g->profession = cf_strdup(profession);
    g->locale = cf_strdup(locale);
    g->password = cf_strdup(password);
    const char *params[] = {g->code_hash, g->email, g->profession};
    cf_db_query(req->worker->db, &q_register_check, params, on_checked, g);
}

/* GET /users?q=&network=: the member directory (schema/0013_directory.sql). */
void cf_h_users_list(struct cf_request *req)
{
    struct cf_page page;
    const char *q;
    char network[24], me[24];
    if (cf_query_page(req, 1, 1, &page) < 0 ||
        cf_query_text(req, "q", 100, 0, "part of a name or @handle", &q) < 0)
        return;
    int has_network = cf_query_id(req, "network", network, "network is a network's id");
    if (has_network < 0)
        return;
    if (q != NULL) {
        q += strspn(q, " \t");
        if (q[0] == '@')
            q++; /* "@amelie-roy" finds the handle */
        if (q[strspn(q, " \t")] == '\0') {
            cf_reply_problem(req, 400, "invalid_query", "q is part of a name or @handle");
            return;
        }
    }
    cf_id_text(me, req->auth.user_id);
    const char *params[] = {
        me,          q,          has_network ? network : NULL,
        page.cursor, page.limit, req->auth.role == CF_ROLE_ADMIN ? "true" : "false"};
    cf_request_run_json(req, &q_search, params, 200);
}

void cf_h_user_get(struct cf_request *req)
{
    char id[24], me[24];
    cf_id_text(id, cf_request_param_id(req, 0));
    cf_id_text(me, req->auth.user_id);
    const char *params[] = {id, me, req->auth.role == CF_ROLE_ADMIN ? "true" : "false"};
    cf_request_run_json(req, &q_get, params, 200);
}

static void on_role_set(struct cf_db_result *r, void *arg)
{
    struct cf_request *req = arg;
    json_t *user = cf_request_sql_outcome(req, r, "user", role_errors,
                                          sizeof(role_errors) / sizeof(role_errors[0]));
    if (user != NULL)
        cf_reply_json(req, 200, user);
}

void cf_h_user_update(struct cf_request *req)
{
    if (req->auth.role != CF_ROLE_ADMIN) {
        cf_reply_problem(req, 403, "forbidden", "only admins change site roles");
        return;
    }
    json_t *errors = NULL;
    const char *role = cf_body_string(req, "site_role", 1, 20, &errors);
    if (role == NULL && errors == NULL)
        cf_errors_add(&errors, "site_role", "required", "member, coordinator, moderator or admin");
    else if (role != NULL && cf_role_parse(role) < 0)
        cf_errors_add(&errors, "site_role", "invalid", "member, coordinator, moderator or admin");
    const char *reason = cf_body_reason(req, &errors);
    if (errors != NULL) {
        cf_reply_invalid(req, errors);
        return;
    }
    char actor[24], target[24];
    cf_request_caller_and_id(req, actor, target);
    const char *params[] = {actor, target, role, reason};
    cf_db_query(req->worker->db, &q_set_role, params, on_role_set, req);
}
