/*
 * h_me: the signed-in member's own account: profile and settings, password
 * change (which ends every other session), the export of all their data,
 * and the community guidelines (SPEC section 4 "Accounts").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "auth.h"
#include "db.h"
#include "http_server.h"
#include "password.h"
#include "markdown.h"
#include "request.h"
#include "routes.h"

static struct cf_db_stmt q_me =
    CF_DB_STMT("me_get", "SELECT cf_me_json(u, $2) FROM users u WHERE u.id = $1", 2);

static struct cf_db_stmt q_update = CF_DB_STMT(
    "me_update",
    "UPDATE users u SET display_name = coalesce($2, display_name), bio = coalesce($3, bio),"
    " locale = coalesce($4, locale), email_notifications = coalesce($5, email_notifications)"
    " WHERE u.id = $1 RETURNING cf_me_json(u, $6)",
    6);

static struct cf_db_stmt q_password_read =
    CF_DB_STMT("me_password_read",
               "SELECT u.password_hash, u.email, u.display_name,"
               " cf_rate_peek('signin-fail:' || lower(u.email), 3600, $2::int)"
               " FROM users u WHERE u.id = $1",
               2);

static struct cf_db_stmt q_password_set =
    CF_DB_STMT("me_password_set",
               "UPDATE users SET password_hash = $2, password_changed_at = now() WHERE id = $1", 2);

static struct cf_db_stmt q_end_others =
    CF_DB_STMT("me_end_other_sessions",
               "UPDATE sessions SET ended_at = now() WHERE user_id = $1 AND id <> $2"
               " AND ended_at IS NULL",
               2);

static struct cf_db_stmt q_password_failed = CF_DB_STMT(
    "me_password_failed",
    "SELECT cf_rate_hit('signin-fail:' || lower(email), 3600, $2::int) FROM users WHERE id = $1",
    2);

static struct cf_db_stmt q_export = CF_DB_STMT(
    "me_export",
    "SELECT json_build_object("
    " 'exported_at', cf_time(now()),"
    " 'user', cf_me_json(u, $2),"
    " 'guidelines', json_build_object('version', u.guidelines_version,"
    "   'accepted_at', cf_time(u.guidelines_accepted_at)),"
    " 'sessions', (SELECT coalesce(json_agg(json_build_object('id', s.id,"
    "   'created_at', cf_time(s.created_at), 'last_seen_at', cf_time(s.last_seen_at),"
    "   'expires_at', cf_time(s.expires_at), 'ended_at', cf_time(s.ended_at),"
    "   'user_agent', s.user_agent, 'ip', host(s.ip)) ORDER BY s.id), '[]'::json)"
    "   FROM sessions s WHERE s.user_id = u.id),"
    " 'invitations_sent', (SELECT coalesce(json_agg(json_build_object('id', i.id,"
    "   'email', i.email, 'site_role', i.site_role, 'created_at', cf_time(i.created_at),"
    "   'expires_at', cf_time(i.expires_at), 'used_at', cf_time(i.used_at)) ORDER BY i.id),"
    "   '[]'::json) FROM invitations i WHERE i.invited_by = u.id),"
    " 'moderation_log', (SELECT coalesce(json_agg(json_build_object('id', m.id,"
    "   'action', m.action, 'reason', m.reason, 'before', m.before, 'after', m.after,"
    "   'created_at', cf_time(m.created_at)) ORDER BY m.id), '[]'::json)"
    "   FROM moderation_log m WHERE m.target_type = 'user' AND m.target_id = u.id),"
    " 'forum', cf_export_forum(u.id))"
    " FROM users u WHERE u.id = $1",
    2);

static struct cf_db_stmt q_guidelines = CF_DB_STMT(
    "guidelines_current",
    "SELECT json_build_object('version', g.version, 'body', json_build_object('en', g.body_en,"
    " 'fr', g.body_fr), 'published_at', cf_time(g.published_at))"
    " FROM guidelines g ORDER BY g.version DESC LIMIT 1",
    0);

static struct cf_db_stmt q_accept =
    CF_DB_STMT("guidelines_accept",
               "UPDATE users u SET guidelines_version = $2::int, guidelines_accepted_at = now()"
               " WHERE u.id = $1 AND $2::int = (SELECT max(version) FROM guidelines)"
               " RETURNING cf_me_json(u, $3)",
               3);

void cf_h_me_get(struct cf_request *req)
{
    char user[24], session[24];
    cf_request_auth_ids(req, user, session);
    const char *params[] = {user, session};
    cf_request_run_json(req, &q_me, params, 200);
}

void cf_h_me_update(struct cf_request *req)
{
    json_t *errors = NULL;
    const char *name = cf_body_string(req, "display_name", 2, 60, &errors);
    const char *bio = cf_body_string(req, "bio", 0, 2000, &errors);
    const char *locale = cf_body_string(req, "locale", 2, 2, &errors);
    const char *notify = cf_body_string(req, "email_notifications", 1, 10, &errors);
    if (locale != NULL && strcmp(locale, "en") != 0 && strcmp(locale, "fr") != 0)
        cf_errors_add(&errors, "locale", "invalid", "en or fr");
    if (notify != NULL && strcmp(notify, "immediate") != 0 && strcmp(notify, "daily") != 0 &&
        strcmp(notify, "off") != 0)
        cf_errors_add(&errors, "email_notifications", "invalid", "immediate, daily or off");
    if (errors != NULL) {
        cf_reply_invalid(req, errors);
        return;
    }
    char user[24], session[24];
    cf_request_auth_ids(req, user, session);
    const char *params[] = {user, name, bio, locale, notify, session};
    cf_request_run_json(req, &q_update, params, 200);
}

struct password_change {
    struct cf_request *req;
    char *current, *fresh;
    char email[256], name[64];
};

static void change_free(struct password_change *c)
{
    explicit_bzero(c->current, strlen(c->current));
    explicit_bzero(c->fresh, strlen(c->fresh));
    cf_free(c->current);
    cf_free(c->fresh);
    cf_free(c);
}

static void on_password_saved(struct cf_db_result *r, void *arg)
{
    struct cf_request *req = arg;
    if (!r->ok) {
        cf_reply_db_error(req, r);
        return;
    }
    cf_reply_empty(req, 204);
}

static void on_new_hash(int status, int match, const char *encoded, void *arg)
{
    struct password_change *c = arg;
    struct cf_request *req = c->req;
    (void)match;
    change_free(c);
    if (status != 0 || encoded == NULL) {
        cf_reply_unavailable(req, "the server is busy; try again shortly");
        return;
    }
    char user[24], session[24];
    cf_request_auth_ids(req, user, session);
    /* One transaction: the new hash and the end of every other session. */
    struct cf_db_call calls[2];
    memset(calls, 0, sizeof(calls));
    calls[0].stmt = &q_password_set;
    calls[0].params[0] = user;
    calls[0].params[1] = encoded;
    calls[1].stmt = &q_end_others;
    calls[1].params[0] = user;
    calls[1].params[1] = session;
    cf_db_exec(req->worker->db, calls, 2, on_password_saved, req);
}

static void on_wrong_counted(struct cf_db_result *r, void *arg)
{
    struct cf_request *req = arg;
    (void)r;
    json_t *errors = NULL;
    cf_errors_add(&errors, "current_password", "incorrect", "this is not your current password");
    cf_reply_invalid(req, errors);
}

static void on_current_checked(int status, int match, const char *encoded, void *arg)
{
    struct password_change *c = arg;
    struct cf_request *req = c->req;
    (void)encoded;
    if (status != 0) {
        change_free(c);
        cf_reply_unavailable(req, "the server is busy; try again shortly");
        return;
    }
    if (!match) {
        change_free(c);
        if (!req->worker->server->cfg->rate_limits) {
            on_wrong_counted(NULL, req);
            return;
        }
        char user[24], session[24];
        cf_request_auth_ids(req, user, session);
        const char *params[] = {user, "10"};
        cf_db_query(req->worker->db, &q_password_failed, params, on_wrong_counted, req);
        return;
    }
    const char *code, *message;
    if (cf_password_check(c->fresh, c->email, c->name, &code, &message) != 0) {
        change_free(c);
        json_t *errors = NULL;
        cf_errors_add(&errors, "new_password", code, message);
        cf_reply_invalid(req, errors);
        return;
    }
    cf_password_hash(req->worker->hash, c->fresh, on_new_hash, c);
}

static void on_password_read(struct cf_db_result *r, void *arg)
{
    struct password_change *c = arg;
    struct cf_request *req = c->req;
    if (!r->ok || PQntuples(r->res[0]) != 1) {
        change_free(c);
        if (!r->ok)
            cf_reply_db_error(req, r);
        else
            cf_reply_problem(req, 401, "unauthenticated", "sign in first");
        return;
    }
    PGresult *res = r->res[0];
    int wait = (int)strtol(PQgetvalue(res, 0, 3), NULL, 10);
    if (wait > 0) {
        change_free(c);
        cf_reply_rate_limited(req, wait);
        return;
    }
    snprintf(c->email, sizeof(c->email), "%s", PQgetvalue(res, 0, 1));
    snprintf(c->name, sizeof(c->name), "%s", PQgetvalue(res, 0, 2));
    cf_password_verify(req->worker->hash, PQgetvalue(res, 0, 0), c->current, on_current_checked, c);
}

void cf_h_me_password(struct cf_request *req)
{
    json_t *errors = NULL;
    json_t *cur = json_object_get(req->body, "current_password");
    json_t *fresh = json_object_get(req->body, "new_password");
    if (cur == NULL || !json_is_string(cur) || json_string_length(cur) == 0 ||
        json_string_length(cur) > 512)
        cf_errors_add(&errors, "current_password", "required", "enter your current password");
    if (fresh == NULL || !json_is_string(fresh))
        cf_errors_add(&errors, "new_password", "required", "choose a new password");
    else if (json_string_length(fresh) > 512)
        cf_errors_add(&errors, "new_password", "too_long", "use at most 128 characters");
    if (errors != NULL) {
        cf_reply_invalid(req, errors);
        return;
    }
    struct password_change *c = cf_calloc(1, sizeof(*c));
    c->req = req;
    c->current = cf_strdup(json_string_value(cur));
    c->fresh = cf_strdup(json_string_value(fresh));
    char user[24], session[24];
    cf_request_auth_ids(req, user, session);
    /* With rate limits off nothing is counted, so nothing can be over the limit. */
    const char *params[] = {user, req->worker->server->cfg->rate_limits ? "10" : "2147483647"};
    cf_db_query(req->worker->db, &q_password_read, params, on_password_read, c);
}

void cf_h_me_export(struct cf_request *req)
{
    char user[24], session[24];
    cf_request_auth_ids(req, user, session);
    const char *params[] = {user, session};
    cf_request_add_header(req, "Content-Disposition",
                          "attachment; filename=\"confer-export.json\"");
    cf_request_run_json(req, &q_export, params, 200);
}

/* Adds body_html {en, fr}: the guidelines rendered as posts are (cmark, safe mode), so
 * that a client shows them without a Markdown renderer of its own. */
static void on_guidelines(struct cf_db_result *r, void *arg)
{
    struct cf_request *req = arg;
    json_t *out = NULL;
    if (!r->ok) {
        cf_reply_db_error(req, r);
        return;
    }
    if (PQntuples(r->res[0]) == 0) {
        cf_reply_problem(req, 404, "not_found", "no guidelines are published");
        return;
    }
    out = json_loads(PQgetvalue(r->res[0], 0, 0), 0, NULL);
    json_t *body = json_object_get(out, "body");
    if (out == NULL || !json_is_object(body)) {
        json_decref(out);
        cf_reply_problem(req, 500, "internal_error", "could not read the guidelines");
        return;
    }
    json_t *html = json_object();
    const char *lang;
    json_t *text;
    json_object_foreach(body, lang, text)
    {
        const char *s = json_string_value(text);
        char *rendered = cf_markdown_render(s ? s : "", s ? strlen(s) : 0);
        json_object_set_new(html, lang, json_string(rendered ? rendered : ""));
        cf_free(rendered);
    }
    json_object_set_new(out, "body_html", html);
    /* as text, so that the answer carries its ETag as every GET does */
    char *answer = json_dumps(out, JSON_COMPACT);
    json_decref(out);
    if (answer == NULL) {
        cf_reply_problem(req, 500, "internal_error", "could not write the guidelines");
        return;
    }
    cf_reply_json_text(req, 200, answer, strlen(answer));
    free(answer);
}

void cf_h_guidelines_get(struct cf_request *req)
{
    cf_db_query(req->worker->db, &q_guidelines, NULL, on_guidelines, req);
}

static void on_accepted(struct cf_db_result *r, void *arg)
{
    struct cf_request *req = arg;
    if (!r->ok) {
        cf_reply_db_error(req, r);
        return;
    }
    if (PQntuples(r->res[0]) == 0) {
        cf_reply_problem(req, 409, "guidelines_outdated",
                         "a newer version of the guidelines exists; read and accept that one");
        return;
    }
    PGresult *res = r->res[0];
    cf_reply_json_text(req, 200, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
}

void cf_h_me_guidelines_accept(struct cf_request *req)
{
    json_t *errors = NULL;
    int64_t version = 0;
    if (!cf_body_int(req, "version", &version, &errors) && errors == NULL)
        cf_errors_add(&errors, "version", "required", "the version you accept");
    else if (errors == NULL && (version < 1 || version > 1000000))
        cf_errors_add(&errors, "version", "invalid", "a guidelines version");
    if (errors != NULL) {
        cf_reply_invalid(req, errors);
        return;
    }
    char user[24], session[24], v[24];
    cf_request_auth_ids(req, user, session);
    snprintf(v, sizeof(v), "%lld", (long long)version);
    const char *params[] = {user, v, session};
    cf_db_query(req->worker->db, &q_accept, params, on_accepted, req);
}
