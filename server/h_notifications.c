/*
 * h_notifications: the member's in-app notifications (SPEC section 7). They are
 * written by the SQL functions and triggers of the events themselves, in the same
 * transaction (schema/0007); here they are listed and marked read.
 */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "db.h"
#include "http_server.h"
#include "request.h"
#include "routes.h"

#define READ_IDS_MAX 500

static struct cf_db_stmt q_list =
    CF_DB_STMT("notification_list", "SELECT cf_notification_list($1, $2, $3::bigint[], $4)", 4);
static struct cf_db_stmt q_read =
    CF_DB_STMT("notification_read", "SELECT cf_notification_read($1, $2::bigint[], $3)", 3);

/* GET /notifications[?unread=true] */
void cf_h_notifications_list(struct cf_request *req)
{
    static const char *const booleans[] = {"true", "false", NULL};
    const char *unread;
    struct cf_page page;
    if (cf_query_one_of(req, "unread", booleans, &unread) < 0 ||
        cf_query_page(req, 1, 1, &page) < 0)
        return;
    char user[24];
    cf_id_text(user, req->auth.user_id);
    const char *params[] = {user, unread ? unread : "false", page.cursor, page.limit};
    cf_request_run_json(req, &q_list, params, 200);
}

/* POST /notifications/read {"ids": [..]} or {"all": true} */
void cf_h_notifications_read(struct cf_request *req)
{
    json_t *errors = NULL;
    json_t *all = json_object_get(req->body, "all");
    if (all != NULL && !json_is_boolean(all))
        cf_errors_add(&errors, "all", "not_a_boolean", "true marks every notification read");
    char *list = cf_body_id_array(req, "ids", 0, READ_IDS_MAX,
                                  "up to 500 notification ids (positive integers)", &errors);
    if (errors == NULL && list == NULL && !json_is_true(all))
        cf_errors_add(&errors, "ids", "required", "the notifications to mark read, or all: true");
    if (errors != NULL) {
        cf_free(list);
        cf_reply_invalid(req, errors);
        return;
    }
    char user[24];
    cf_id_text(user, req->auth.user_id);
    const char *params[] = {user, list ? list : "{}", json_is_true(all) ? "true" : "false"};
    cf_request_run_json(req, &q_read, params, 200);
    cf_free(list);
}
