/*
 * auth: who is asking. Session tokens are 256-bit random values, sent as the
 * session cookie or as `Authorization: Bearer`; only their SHA-256 is stored.
 * Before a handler runs, cf_auth_run looks the session up (one statement),
 * then applies the route's rules: 401 without a valid session, the CSRF rule
 * for cookie-authenticated unsafe methods, 403 `suspended` for writes by a
 * suspended member, 403 `guidelines_not_accepted` for writes before the
 * current guidelines are accepted.
 */
#ifndef CF_AUTH_H
#define CF_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"

struct cf_request;

enum cf_role { CF_ROLE_MEMBER = 0, CF_ROLE_COORDINATOR, CF_ROLE_MODERATOR, CF_ROLE_ADMIN };

struct cf_auth {
    int64_t user_id; /* 0: anonymous */
    int64_t session_id;
    enum cf_role role;
    int network_id;
    int suspended;
    int guidelines_ok;
    int via_cookie;
    int wrote_recently; /* within the replica window: read from the primary */
    char csrf[64];
};

#define CF_TOKEN_CHARS 43 /* 32 bytes, base64url without padding */

/* Fills out (size >= 44) with a new random token. Returns 0 or -1. */
int cf_auth_random_token(char *out, size_t size);
/* SHA-256 of s as 64 lower-case hex digits into out[65]. */
void cf_auth_sha256_hex(const char *s, char out[65]);
/* Constant-time equality of two strings. */
int cf_auth_equal(const char *a, const char *b);

/* "member" -> CF_ROLE_MEMBER; -1 for anything else. */
int cf_role_parse(const char *s);
const char *cf_role_name(enum cf_role role);

/* The name of the session cookie: __Host-confer_session behind https. */
const char *cf_auth_cookie_name(const struct cf_request *req);
/* Adds Set-Cookie for token (or, with token NULL, one that clears it). */
void cf_auth_set_cookie(struct cf_request *req, const char *token, int max_age);

struct cf_config;
/* A session in use is marked seen when it was last seen longer ago than this (seconds):
 * a quarter of CONFER_SESSION_IDLE, at most a minute. */
int cf_auth_touch_interval(const struct cf_config *cfg);

/* Authenticates req for its route, then calls next(req) or replies with the refusal. */
void cf_auth_run(struct cf_request *req, void (*next)(struct cf_request *req));

/*
 * Read your writes with a replica (replica.h): whether this answer must wait for its
 * session's stamp (a 2xx to a write by a session, with CONFER_REPLICA_URL set), and the
 * stamp itself (sessions.wrote_at = now()).
 */
struct cf_request;
int cf_auth_needs_stamp(const struct cf_request *req, int status);
void cf_auth_stamp(struct cf_request *req, cf_db_cb cb, void *arg);

#endif
