/* auth: sessions, CSRF and the per-route write rules; see auth.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include <openssl/evp.h>

#include "alloc.h"
#include "auth.h"
#include "db.h"
#include "http_server.h"
#include "request.h"

static const char *const role_names[] = {"member", "coordinator", "moderator", "admin"};

int cf_role_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (s != NULL && strcmp(s, role_names[i]) == 0)
            return i;
    return -1;
}

const char *cf_role_name(enum cf_role role)
{
    return (int)role >= 0 && (int)role < 4 ? role_names[role] : "member";
}

int cf_auth_random_token(char *out, size_t size)
{
    static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char raw[33];
    if (size < CF_TOKEN_CHARS + 1 || getrandom(raw, 32, 0) != 32)
        return -1;
    raw[32] = 0;
    size_t o = 0;
    for (size_t i = 0; i < 33 && o < CF_TOKEN_CHARS; i += 3) {
        unsigned v = (unsigned)raw[i] << 16 | (unsigned)(i + 1 < 33 ? raw[i + 1] : 0) << 8 |
                     (unsigned)(i + 2 < 33 ? raw[i + 2] : 0);
        for (int k = 3; k >= 0 && o < CF_TOKEN_CHARS; k--)
            out[o++] = b64url[(v >> (6 * k)) & 63];
    }
    out[o] = '\0';
    return 0;
}

void cf_auth_sha256_hex(const char *s, char out[65])
{
    unsigned char md[32];
    unsigned int len = 0;
    EVP_Digest(s, strlen(s), md, &len, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

int cf_auth_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char diff = (unsigned char)(la != lb);
    for (size_t i = 0; i < la && i < lb; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

const char *cf_auth_cookie_name(const struct cf_request *req)
{
    return req->worker->server->cfg->public_https ? "__Host-confer_session" : "confer_session";
}

void cf_auth_set_cookie(struct cf_request *req, const char *token, int max_age)
{
    char cookie[256];
    snprintf(cookie, sizeof(cookie), "%s=%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Lax%s",
             cf_auth_cookie_name(req), token ? token : "", token ? max_age : 0,
             req->worker->server->cfg->public_https ? "; Secure" : "");
    cf_request_add_header(req, "Set-Cookie", cookie);
}

/* The session token from Authorization: Bearer, else from the cookie. */
static int find_token(struct cf_request *req, char *out, size_t size, int *via_cookie)
{
    const char *authz = cf_request_header(req, "Authorization");
    *via_cookie = 0;
    if (authz != NULL && strncasecmp(authz, "Bearer ", 7) == 0) {
        const char *t = authz + 7;
        while (*t == ' ')
            t++;
        if (strlen(t) == 0 || strlen(t) >= size)
            return -1;
        snprintf(out, size, "%s", t);
        return 0;
    }
    const char *cookies = cf_request_header(req, "Cookie");
    const char *name = cf_auth_cookie_name(req);
    size_t nlen = strlen(name);
    for (const char *p = cookies; p != NULL && *p;) {
        while (*p == ' ' || *p == ';')
            p++;
        if (strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
            const char *v = p + nlen + 1;
            size_t vlen = strcspn(v, "; ");
            if (vlen == 0 || vlen >= size)
                return -1;
            memcpy(out, v, vlen);
            out[vlen] = '\0';
            *via_cookie = 1;
            return 0;
        }
        p = strchr(p, ';');
    }
    return -1;
}

/* Looks up a live session; the last column says whether last_seen_at is older than
 * the touch interval, in which case a separate statement refreshes it. A read stays
 * a read: most requests write nothing. */
static struct cf_db_stmt q_session = CF_DB_STMT(
    "session_lookup",
    "SELECT s.id, s.user_id, s.csrf_token, u.site_role, u.network_id,"
    " coalesce(u.suspended_until > now(), false),"
    " u.guidelines_version IS NOT DISTINCT FROM (SELECT max(version) FROM guidelines),"
    " s.last_seen_at < now() - make_interval(secs => $3::int),"
    " s.wrote_at > now() - make_interval(secs => $4::int)"
    " FROM sessions s JOIN users u ON u.id = s.user_id"
    " WHERE s.token_hash = decode($1, 'hex') AND s.ended_at IS NULL AND s.expires_at > now()"
    " AND s.last_seen_at > now() - make_interval(secs => $2::int)",
    4);

/* With a read replica: a session's acknowledged write, stamped before its answer goes
 * out (request.c), so that the session's next reads, on whichever instance, go to the
 * primary for the replica window. */
static struct cf_db_stmt q_stamp =
    CF_DB_STMT("session_stamp_write", "UPDATE sessions SET wrote_at = now() WHERE id = $1", 1);

/* Never waits: when another request of the same session is already touching it,
 * this one has nothing to add (a waiting statement would hold up the pipeline). */
static struct cf_db_stmt q_touch =
    CF_DB_STMT("session_touch",
               "UPDATE sessions SET last_seen_at = now() WHERE id = (SELECT id FROM sessions"
               " WHERE id = $1 FOR UPDATE SKIP LOCKED)",
               1);

struct pending {
    struct cf_request *req;
    void (*next)(struct cf_request *req);
};

static int is_write(const struct cf_request *req)
{
    return (req->method & (CF_POST | CF_PUT | CF_PATCH | CF_DELETE)) != 0;
}

/* The route's rules, once the caller is known. Returns 0 to go on, or replies. */
static int check_rules(struct cf_request *req)
{
    const struct cf_route *route = req->match.route;
    if (route->auth == CF_AUTH_USER && req->auth.user_id == 0) {
        cf_reply_problem(req, 401, "unauthenticated", "sign in first");
        return -1;
    }
    if (req->auth.user_id == 0 || !is_write(req))
        return 0;
    if (req->auth.via_cookie) {
        const char *sent = cf_request_header(req, "X-CSRF-Token");
        if (sent == NULL || !cf_auth_equal(sent, req->auth.csrf)) {
            cf_reply_problem(req, 403, "csrf_failed",
                             "send the session's csrf_token in X-CSRF-Token");
            return -1;
        }
    }
    if (req->auth.suspended && !(route->flags & CF_ROUTE_WHILE_SUSPENDED)) {
        cf_reply_problem(req, 403, "suspended",
                         "your account is suspended: you can read, not write");
        return -1;
    }
    if (!req->auth.guidelines_ok && !(route->flags & CF_ROUTE_BEFORE_GUIDELINES)) {
        cf_reply_problem(req, 403, "guidelines_not_accepted",
                         "accept the current community guidelines first");
        return -1;
    }
    return 0;
}

static void on_session(struct cf_db_result *r, void *arg)
{
    struct pending p = *(struct pending *)arg;
    struct cf_request *req = p.req;
    cf_free(arg);
    if (!r->ok) {
        cf_reply_db_error(req, r);
        return;
    }
    PGresult *res = r->res[0];
    if (PQntuples(res) == 1) {
        struct cf_auth *a = &req->auth;
        a->session_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        a->user_id = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
        snprintf(a->csrf, sizeof(a->csrf), "%s", PQgetvalue(res, 0, 2));
        int role = cf_role_parse(PQgetvalue(res, 0, 3));
        a->role = role < 0 ? CF_ROLE_MEMBER : (enum cf_role)role;
        a->network_id = (int)strtol(PQgetvalue(res, 0, 4), NULL, 10);
        a->suspended = PQgetvalue(res, 0, 5)[0] == 't';
        a->guidelines_ok = PQgetvalue(res, 0, 6)[0] == 't';
        a->wrote_recently = PQgetvalue(res, 0, 8)[0] == 't';
        req->user_id = a->user_id;
        if (PQgetvalue(res, 0, 7)[0] == 't') {
            const char *params[] = {PQgetvalue(res, 0, 0)};
            cf_db_query(req->worker->db, &q_touch, params, NULL, NULL);
        }
    } else {
        req->auth.via_cookie = 0;
    }
    if (check_rules(req) == 0)
        p.next(req);
}

int cf_auth_touch_interval(const struct cf_config *cfg)
{
    int t = cfg->session_idle_s / 4;
    return t < 60 ? t : 60;
}

void cf_auth_run(struct cf_request *req, void (*next)(struct cf_request *req))
{
    char token[128];
    int via_cookie;
    if (find_token(req, token, sizeof(token), &via_cookie) != 0) {
        if (check_rules(req) == 0)
            next(req);
        return;
    }
    const struct cf_config *cfg = req->worker->server->cfg;
    char hash[65], idle[16], touch[16], window[16];
    cf_auth_sha256_hex(token, hash);
    explicit_bzero(token, sizeof(token));
    snprintf(idle, sizeof(idle), "%d", cfg->session_idle_s);
    snprintf(touch, sizeof(touch), "%d", cf_auth_touch_interval(cfg));
    snprintf(window, sizeof(window), "%d", cfg->replica_window_s);
    req->auth.via_cookie = via_cookie;
    struct pending *p = cf_malloc(sizeof(*p));
    p->req = req;
    p->next = next;
    const char *params[] = {hash, idle, touch, window};
    cf_db_query(req->worker->db, &q_session, params, on_session, p);
}

int cf_auth_needs_stamp(const struct cf_request *req, int status)
{
    return req->worker->server->cfg->replica_url != NULL && req->auth.session_id != 0 &&
           status >= 200 && status < 300 && is_write(req);
}

void cf_auth_stamp(struct cf_request *req, cf_db_cb cb, void *arg)
{
    char id[24];
    snprintf(id, sizeof(id), "%lld", (long long)req->auth.session_id);
    const char *params[] = {id};
    cf_db_query(req->worker->db, &q_stamp, params, cb, arg);
}
