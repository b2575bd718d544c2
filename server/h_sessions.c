/*
 * h_sessions: signing in and out, and a member's list of sessions
 * (SPEC section 4 "Accounts", section 5 rate limits).
 *
 * Sign-in is three steps: one statement counts the attempt against the
 * caller's address and reads the account's hash and failure count; the hash
 * is verified on the hashing threads (a dummy hash when there is no such
 * account, so that both failures take the same time); then one statement
 * either creates the session or counts the failure. A wrong email and a wrong
 * password give the same 401 `invalid_credentials`, in the same time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "alloc.h"
#include "auth.h"
#include "db.h"
#include "http_server.h"
#include "log.h"
#include "password.h"
#include "request.h"
#include "routes.h"

/* SPEC section 5: sign-in 6 a minute and 30 an hour per address, 10 failures an hour
 * per account. With rate limits off nothing is counted. */
#define SIGNIN_IP_MINUTE 6
#define SIGNIN_IP_HOUR 30
#define SIGNIN_ACCOUNT_FAILURES 10

static struct cf_db_stmt q_begin =
    CF_DB_STMT("signin_begin",
               "SELECT cf_rate_hit('signin-ip-m:' || $1, 60, $3::int),"
               " cf_rate_hit('signin-ip-h:' || $1, 3600, $4::int),"
               " cf_rate_peek('signin-fail:' || lower($2), 3600, $5::int),"
               " u.id, u.password_hash"
               " FROM (SELECT 1) one LEFT JOIN users u ON lower(u.email) = lower($2)",
               5);

/* With rate limits off (tests, benchmarks) nothing is counted: the same columns,
 * no writes, so sign-ins do not queue on the counters' row locks. */
static struct cf_db_stmt q_begin_unlimited =
    CF_DB_STMT("signin_begin_unlimited",
               "SELECT 0, 0, 0, u.id, u.password_hash"
               " FROM (SELECT 1) one LEFT JOIN users u ON lower(u.email) = lower($1)",
               1);

static struct cf_db_stmt q_fail =
    CF_DB_STMT("signin_fail", "SELECT cf_rate_hit('signin-fail:' || lower($1), 3600, $2::int)", 2);

static struct cf_db_stmt q_prune = CF_DB_STMT("rate_prune", "SELECT cf_rate_prune()", 0);

static struct cf_db_stmt q_create = CF_DB_STMT(
    "session_create",
    "WITH s AS (INSERT INTO sessions (user_id, token_hash, csrf_token, expires_at, user_agent, ip)"
    " VALUES ($1, decode($2, 'hex'), $3, now() + make_interval(secs => $4::int), left($5, 300),"
    " $6::inet) RETURNING id, expires_at)"
    "SELECT json_build_object('expires_at', cf_time(s.expires_at), 'user', cf_me_json(u, s.id))"
    " FROM s, users u WHERE u.id = $1",
    6);

/* The caller's own session: what a browser that kept only the cookie needs to write
 * again after a reload (its csrf_token), never the token itself. */
static struct cf_db_stmt q_current = CF_DB_STMT(
    "session_current",
    "SELECT json_build_object('csrf_token', s.csrf_token, 'expires_at', cf_time(s.expires_at),"
    " 'user', cf_me_json(u, s.id))"
    " FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1",
    1);

static struct cf_db_stmt q_rehash =
    CF_DB_STMT("password_rehash", "UPDATE users SET password_hash = $2 WHERE id = $1", 2);

static struct cf_db_stmt q_end = CF_DB_STMT(
    "session_end", "UPDATE sessions SET ended_at = now() WHERE id = $1 AND ended_at IS NULL", 1);

static struct cf_db_stmt q_end_mine =
    CF_DB_STMT("session_end_mine",
               "UPDATE sessions SET ended_at = now() WHERE id = $1 AND user_id = $2"
               " AND ended_at IS NULL RETURNING id",
               2);

static struct cf_db_stmt q_list = CF_DB_STMT(
    "sessions_list",
    "SELECT json_build_object('items', coalesce(json_agg(json_build_object("
    " 'id', s.id, 'created_at', cf_time(s.created_at), 'last_seen_at', cf_time(s.last_seen_at),"
    " 'expires_at', cf_time(s.expires_at), 'user_agent', s.user_agent, 'ip', host(s.ip),"
    " 'current', s.id = $2) ORDER BY s.last_seen_at DESC, s.id DESC), '[]'::json),"
    " 'next_cursor', NULL)"
    " FROM (SELECT * FROM sessions WHERE user_id = $1 AND ended_at IS NULL"
    "  AND expires_at > now() AND last_seen_at > now() - make_interval(secs => $3::int)"
    "  ORDER BY last_seen_at DESC LIMIT 100) s",
    3);

struct signin {
    struct cf_request *req;
    char email[256];
    char password[260];
    int64_t user_id;
    char hash[CF_PASSWORD_HASH_MAX];
    char token[CF_TOKEN_CHARS + 1];
    char csrf[CF_TOKEN_CHARS + 1];
};

static void signin_free(struct signin *s)
{
    explicit_bzero(s, sizeof(*s));
    cf_free(s);
}

static void on_created(struct cf_db_result *r, void *arg)
{
    struct signin *s = arg;
    struct cf_request *req = s->req;
    if (!r->ok) {
        signin_free(s);
        cf_reply_db_error(req, r);
        return;
    }
    json_error_t jerr;
    json_t *out = json_loads(PQgetvalue(r->res[0], 0, 0), 0, &jerr);
    if (out == NULL) {
        signin_free(s);
        cf_reply_problem(req, 500, "internal_error", "could not read the new session");
        return;
    }
    json_object_set_new(out, "token", json_string(s->token));
    json_object_set_new(out, "csrf_token", json_string(s->csrf));
    req->user_id = s->user_id;
    cf_auth_set_cookie(req, s->token, req->worker->server->cfg->session_max_s);
    signin_free(s);
    cf_reply_json(req, 201, out);
}

static void on_failure_counted(struct cf_db_result *r, void *arg)
{
    struct cf_request *req = arg;
    (void)r; /* the answer is the same whether or not the count was stored */
    cf_reply_problem(req, 401, "invalid_credentials", "the email or the password is not right");
}

/* A hash made with older parameters is replaced after a successful sign-in. */
struct rehash {
    int64_t user_id;
    struct cf_db_pool *pool; /* the worker's, which outlives the hash job */
};

static void on_rehashed(int status, int match, const char *encoded, void *arg)
{
    struct rehash *job = arg;
    (void)match;
    if (status == 0 && encoded != NULL) {
        char id[24];
        cf_id_text(id, job->user_id);
        const char *params[] = {id, encoded};
        cf_db_query(job->pool, &q_rehash, params, NULL, NULL);
    }
    cf_free(job);
}

static void on_verified(int status, int match, const char *encoded, void *arg)
{
    struct signin *s = arg;
    struct cf_request *req = s->req;
    const struct cf_config *cfg = req->worker->server->cfg;
    (void)encoded;
    if (status != 0) {
        signin_free(s);
        cf_reply_unavailable(req, "the server is busy; try again shortly");
        return;
    }
    if (!match) {
        if (!cfg->rate_limits) {
            signin_free(s);
            on_failure_counted(NULL, req);
            return;
        }
        const char *params[] = {s->email, "10"};
        cf_db_query(req->worker->db, &q_fail, params, on_failure_counted, req); /* copies */
        signin_free(s);
        return;
    }
    if (cf_password_needs_rehash(s->hash)) {
        struct rehash *job = cf_malloc(sizeof(*job));
        job->user_id = s->user_id;
        job->pool = req->worker->db;
        cf_password_hash(req->worker->hash, s->password, on_rehashed, job);
    }
    if (cf_auth_random_token(s->token, sizeof(s->token)) != 0 ||
        cf_auth_random_token(s->csrf, sizeof(s->csrf)) != 0) {
        signin_free(s);
        cf_reply_problem(req, 500, "internal_error", "could not make a session token");
        return;
    }
    char id[24], hash[65], max_age[16], ip[64];
    cf_id_text(id, s->user_id);
    cf_auth_sha256_hex(s->token, hash);
    snprintf(max_age, sizeof(max_age), "%d", cfg->session_max_s);
    cf_request_peer(req, ip, sizeof(ip));
    const char *ua = cf_request_header(req, "User-Agent");
    const char *params[] = {id, hash, s->csrf, max_age, ua ? ua : "", ip};
    cf_db_query(req->worker->db, &q_create, params, on_created, s);
}

static void on_begun(struct cf_db_result *r, void *arg)
{
    struct signin *s = arg;
    struct cf_request *req = s->req;
    if (!r->ok) {
        signin_free(s);
        cf_reply_db_error(req, r);
        return;
    }
    PGresult *res = r->res[0];
    int wait = 0;
    for (int col = 0; col < 3; col++) {
        int v = (int)strtol(PQgetvalue(res, 0, col), NULL, 10);
        if (v > wait)
            wait = v;
    }
    if (wait > 0) {
        signin_free(s);
        cf_reply_rate_limited(req, wait);
        return;
    }
    const char *encoded = NULL;
    if (!PQgetisnull(res, 0, 3)) {
        s->user_id = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
        snprintf(s->hash, sizeof(s->hash), "%s", PQgetvalue(res, 0, 4));
        encoded = s->hash;
    }
    cf_password_verify(req->worker->hash, encoded, s->password, on_verified, s);
}

void cf_h_session_create(struct cf_request *req)
{
    json_t *errors = NULL;
    const char *email = cf_body_string(req, "email", 1, 254, &errors);
    const char *password = NULL;
    json_t *pw = json_object_get(req->body, "password");
    if (pw == NULL || !json_is_string(pw) || json_string_length(pw) == 0)
        cf_errors_add(&errors, "password", "required", "enter your password");
    else if (json_string_length(pw) > 256)
        cf_errors_add(&errors, "password", "too_long", "must have at most 128 characters");
    else
        password = json_string_value(pw);
    if (email == NULL && errors == NULL)
        cf_errors_add(&errors, "email", "required", "enter your email address");
    if (errors != NULL) {
        cf_reply_invalid(req, errors);
        return;
    }
    const struct cf_config *cfg = req->worker->server->cfg;
    struct signin *s = cf_calloc(1, sizeof(*s));
    s->req = req;
    snprintf(s->email, sizeof(s->email), "%s", email);
    snprintf(s->password, sizeof(s->password), "%s", password);
    char ip[64];
    cf_request_peer(req, ip, sizeof(ip));
    const char *params[] = {
        ip, s->email, "6", "30", "10",
    };
    if (!cfg->rate_limits) {
        const char *email_only[] = {s->email};
        cf_db_query(req->worker->db, &q_begin_unlimited, email_only, on_begun, s);
        return;
    }
    /* Old windows go now and then; no request waits for it. */
    if (rand() % 256 == 0)
        cf_db_query(req->worker->db, &q_prune, NULL, NULL, NULL);
    cf_db_query(req->worker->db, &q_begin, params, on_begun, s);
}

static void on_ended(struct cf_db_result *r, void *arg)
{
    struct cf_request *req = arg;
    if (!r->ok) {
        cf_reply_db_error(req, r);
        return;
    }
    cf_auth_set_cookie(req, NULL, 0);
    cf_reply_empty(req, 204);
}

void cf_h_session_get_current(struct cf_request *req)
{
    char id[24];
    cf_id_text(id, req->auth.session_id);
    const char *params[] = {id};
    cf_request_run_json(req, &q_current, params, 200);
}

void cf_h_session_delete_current(struct cf_request *req)
{
    char id[24];
    cf_id_text(id, req->auth.session_id);
    const char *params[] = {id};
    cf_db_query(req->worker->db, &q_end, params, on_ended, req);
}

void cf_h_my_sessions(struct cf_request *req)
{
    char user[24], session[24], idle[16];
    cf_request_auth_ids(req, user, session);
    snprintf(idle, sizeof(idle), "%d", req->worker->server->cfg->session_idle_s);
    const char *params[] = {user, session, idle};
    cf_request_run_json(req, &q_list, params, 200);
}

static void on_ended_mine(struct cf_db_result *r, void *arg)
{
    struct cf_request *req = arg;
    if (!r->ok) {
        cf_reply_db_error(req, r);
        return;
    }
    if (PQntuples(r->res[0]) == 0) {
        cf_reply_problem(req, 404, "not_found", "no such session");
        return;
    }
    if (cf_request_param_id(req, 0) == req->auth.session_id)
        cf_auth_set_cookie(req, NULL, 0);
    cf_reply_empty(req, 204);
}

void cf_h_my_session_delete(struct cf_request *req)
{
    char id[24], user[24];
    cf_id_text(id, cf_request_param_id(req, 0));
    cf_id_text(user, req->auth.user_id);
    const char *params[] = {id, user};
    cf_db_query(req->worker->db, &q_end_mine, params, on_ended_mine, req);
}
