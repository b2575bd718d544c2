/*
 * h_responses: the response commitment (SPEC section 7). GET /responses/pending
 * lists the running response clocks the caller answers for or oversees: a
 * mentor's own, a coordinator's network, an admin's all, oldest first, with
 * their ages and the times at which they fall due and overdue. The clocks are
 * kept by the posts themselves (schema/0008_responses.sql).
 */
#include <stdio.h>

#include "db.h"
#include "http_server.h"
#include "request.h"
#include "routes.h"

static struct cf_db_stmt q_pending =
    CF_DB_STMT("responses_pending", "SELECT cf_responses_pending($1, $2, $3, $4::bigint[], $5)", 5);

void cf_h_responses_pending(struct cf_request *req)
{
    struct cf_page page;
    if (cf_query_page(req, 2, 2, &page) < 0)
        return;
    const struct cf_config *cfg = req->worker->server->cfg;
    char user[24], due[12], overdue[12];
    cf_id_text(user, req->auth.user_id);
    snprintf(due, sizeof(due), "%d", cfg->response_due_s);
    snprintf(overdue, sizeof(overdue), "%d", cfg->response_overdue_s);
    const char *params[] = {user, due, overdue, page.cursor, page.limit};
    cf_request_run_json(req, &q_pending, params, 200);
}
