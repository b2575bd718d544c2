/*
 * h_invitations: nobody joins without an invitation. Coordinators invite
 * members into their own network, admins invite anyone anywhere. The code is
 * shown once; only its SHA-256 is stored. Codes are single-use and expire.
 */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "auth.h"
#include "db.h"
#include "http_server.h"
#include "request.h"
#include "routes.h"

static struct cf_db_stmt q_invite =
    CF_DB_STMT("invitation_create", "SELECT cf_invite($1, decode($2, 'hex'), $3, $4, $5, $6)", 6);

static const struct cf_sql_error invite_errors[] = {
    {"network_unknown", 422, "no such network", "network"},
    {"forbidden_network", 403, "coordinators invite into their own network only", NULL},
    {"forbidden_role", 403, "coordinators invite members; ask an admin for other roles", NULL},
    {"forbidden", 403, "only coordinators and admins send invitations", NULL},
    {"email_taken", 409, "an account already uses this email address", NULL},
};

/* The code is shown once, in the answer: it travels to the callback with the request. */
struct invitation {
    struct cf_request *req;
    char code[CF_TOKEN_CHARS + 1];
};

static void on_invited(struct cf_db_result *r, void *arg)
{
    struct invitation inv_ctx = *(struct invitation *)arg;
    struct cf_request *req = inv_ctx.req;
    explicit_bzero(arg, sizeof(struct invitation));
    cf_free(arg);
    json_t *inv = cf_request_sql_outcome(req, r, "invitation", invite_errors,
                                         sizeof(invite_errors) / sizeof(invite_errors[0]));
    if (inv == NULL) {
        explicit_bzero(&inv_ctx, sizeof(inv_ctx));
        return;
    }
    json_object_set_new(inv, "code", json_string(inv_ctx.code));
    explicit_bzero(&inv_ctx, sizeof(inv_ctx));
    cf_reply_json(req, 201, inv);
}

void cf_h_invitation_create(struct cf_request *req)
{
    if (req->auth.role != CF_ROLE_COORDINATOR && req->auth.role != CF_ROLE_ADMIN) {
        cf_reply_problem(req, 403, "forbidden", "only coordinators and admins send invitations");
        return;
    }
    json_t *errors = NULL;
    const char *email = cf_body_string(req, "email", 3, 254, &errors);
    const char *role = cf_body_string(req, "site_role", 1, 20, &errors);
    const char *network = NULL;
    char network_buf[24];
    json_t *n = json_object_get(req->body, "network");
    if (json_is_integer(n)) {
        snprintf(network_buf, sizeof(network_buf), "%lld", (long long)json_integer_value(n));
        network = network_buf;
    } else {
        network = cf_body_string(req, "network", 2, 8, &errors);
    }
    if (email == NULL && !json_object_get(req->body, "email"))
        cf_errors_add(&errors, "email", "required", "the address to invite");
    else if (email != NULL && !cf_email_valid(email))
        cf_errors_add(&errors, "email", "invalid", "this is not an email address");
    if (network == NULL && !json_object_get(req->body, "network"))
        cf_errors_add(&errors, "network", "required", "the network (for example BC)");
    if (role == NULL)
        role = "member";
    else if (cf_role_parse(role) < 0)
        cf_errors_add(&errors, "site_role", "invalid", "member, coordinator, moderator or admin");
    if (errors != NULL) {
        cf_reply_invalid(req, errors);
        return;
    }
    char hash[65], actor[24], days[16];
    struct invitation *ctx = cf_calloc(1, sizeof(*ctx));
    ctx->req = req;
    if (cf_auth_random_token(ctx->code, sizeof(ctx->code)) != 0) {
        cf_free(ctx);
        cf_reply_problem(req, 500, "internal_error", "could not make a code");
        return;
    }
    cf_auth_sha256_hex(ctx->code, hash);
    cf_id_text(actor, req->auth.user_id);
    snprintf(days, sizeof(days), "%d", req->worker->server->cfg->invite_days);
    const char *params[] = {actor, hash, email, network, role, days};
    cf_db_query(req->worker->db, &q_invite, params, on_invited, ctx);
}
