/*
 * routes: the route table. One line per method and path; the table's order
 * is also the order of the metrics slots. Every API path is under /api/v1.
 */
#include "live.h"
#include "metrics.h"
#include "routes.h"

const struct cf_route cf_routes[] = {
    /* operations (no auth) */
    {CF_GET, "/healthz", cf_h_healthz, CF_AUTH_NONE, 0},
    {CF_GET, "/readyz", cf_h_readyz, CF_AUTH_NONE, 0},
    {CF_GET, "/metrics", cf_h_metrics, CF_AUTH_NONE, 0},
    /* structure */
    {CF_GET, "/api/v1/networks", cf_h_networks_list, CF_AUTH_NONE, 0},
    {CF_GET, "/api/v1/networks/{id}", cf_h_network_get, CF_AUTH_NONE, 0},
    {CF_GET, "/api/v1/categories", cf_h_categories_list, CF_AUTH_USER, 0},
    {CF_POST, "/api/v1/categories", cf_h_category_create, CF_AUTH_USER, CF_ROUTE_JSON_BODY},
    {CF_GET, "/api/v1/categories/{name}", cf_h_category_get, CF_AUTH_USER, 0},
    {CF_PATCH, "/api/v1/categories/{name}", cf_h_category_update, CF_AUTH_USER, CF_ROUTE_JSON_BODY},
    /* threads and posts */
    {CF_GET, "/api/v1/threads", cf_h_threads_list, CF_AUTH_USER, 0},
    {CF_POST, "/api/v1/threads", cf_h_thread_create, CF_AUTH_USER, CF_ROUTE_JSON_BODY},
    {CF_GET, "/api/v1/threads/{id}", cf_h_thread_get, CF_AUTH_USER, 0},
    {CF_PATCH, "/api/v1/threads/{id}", cf_h_thread_update, CF_AUTH_USER, CF_ROUTE_JSON_BODY},
    {CF_POST, "/api/v1/threads/{id}/posts", cf_h_post_create, CF_AUTH_USER, CF_ROUTE_JSON_BODY},
    {CF_POST, "/api/v1/threads/{id}/answer", cf_h_thread_answer, CF_AUTH_USER, CF_ROUTE_JSON_BODY},
    {CF_DELETE, "/api/v1/threads/{id}/answer", cf_h_thread_answer_delete, CF_AUTH_USER, 0},
    {CF_POST, "/api/v1/threads/{id}/read", cf_h_thread_read, CF_AUTH_USER,
     CF_ROUTE_JSON_BODY | CF_ROUTE_BEFORE_GUIDELINES | CF_ROUTE_WHILE_SUSPENDED},
    {CF_PUT, "/api/v1/threads/{id}/subscription", cf_h_thread_subscription, CF_AUTH_USER,
     CF_ROUTE_JSON_BODY | CF_ROUTE_BEFORE_GUIDELINES | CF_ROUTE_WHILE_SUSPENDED},
    /* a moderator's read of a flagged conversation post is logged (a write) */
    {CF_GET, "/api/v1/posts/{id}", cf_h_post_get, CF_AUTH_USER, CF_ROUTE_PRIMARY},
    {CF_PATCH, "/api/v1/posts/{id}", cf_h_post_update, CF_AUTH_USER, CF_ROUTE_JSON_BODY},
    {CF_DELETE, "/api/v1/posts/{id}", cf_h_post_delete, CF_AUTH_USER, 0},
    {CF_GET, "/api/v1/posts/{id}/revisions", cf_h_post_revisions, CF_AUTH_USER, 0},
    {CF_POST, "/api/v1/posts/{id}/revisions/{n}/redact", cf_h_revision_redact, CF_AUTH_USER,
     CF_ROUTE_JSON_BODY},
    {CF_POST, "/api/v1/posts/{id}/hide", cf_h_post_hide, CF_AUTH_USER, CF_ROUTE_JSON_BODY},
    {CF_POST, "/api/v1/posts/{id}/unhide", cf_h_post_unhide, CF_AUTH_USER, CF_ROUTE_JSON_BODY},
    {CF_PUT, "/api/v1/posts/{id}/reactions/{name}", cf_h_reaction_put, CF_AUTH_USER, 0},
    {CF_DELETE, "/api/v1/posts/{id}/reactions/{name}", cf_h_reaction_delete, CF_AUTH_USER, 0},
    {CF_PUT, "/api/v1/posts/{id}/bookmark", cf_h_bookmark_put, CF_AUTH_USER,
     CF_ROUTE_BEFORE_GUIDELINES | CF_ROUTE_WHILE_SUSPENDED},
    {CF_DELETE, "/api/v1/posts/{id}/bookmark", cf_h_bookmark_delete, CF_AUTH_USER,
     CF_ROUTE_WHILE_SUSPENDED | CF_ROUTE_BEFORE_GUIDELINES},
    {CF_GET, "/api/v1/me/bookmarks", cf_h_bookmarks_list, CF_AUTH_USER, 0},
    {CF_POST, "/api/v1/preview", cf_h_preview, CF_AUTH_USER,
     CF_ROUTE_JSON_BODY | CF_ROUTE_WHILE_SUSPENDED | CF_ROUTE_BEFORE_GUIDELINES},
    {CF_POST, "/api/v1/privacy/check", cf_h_privacy_check, CF_AUTH_USER,
     CF_ROUTE_JSON_BODY | CF_ROUTE_WHILE_SUSPENDED | CF_ROUTE_BEFORE_GUIDELINES},
    /* search and live updates */
    {CF_GET, "/api/v1/search", cf_h_search, CF_AUTH_USER, 0},
    {CF_GET, "/api/v1/events", cf_h_events, CF_AUTH_USER, 0},
    /* the response commitment */
    {CF_GET, "/api/v1/responses/pending", cf_h_responses_pending, CF_AUTH_USER,
     CF_ROUTE_WHILE_SUSPENDED | CF_ROUTE_BEFORE_GUIDELINES},
    {CF_GET, "/api/v1/reports/summary", cf_h_report_summary, CF_AUTH_USER, 0},
    /* notifications */
    {CF_GET, "/api/v1/notifications", cf_h_notifications_list, CF_AUTH_USER,
     CF_ROUTE_WHILE_SUSPENDED | CF_ROUTE_BEFORE_GUIDELINES},
    {CF_POST, "/api/v1/notifications/read", cf_h_notifications_read, CF_AUTH_USER,
     CF_ROUTE_JSON_BODY | CF_ROUTE_WHILE_SUSPENDED | CF_ROUTE_BEFORE_GUIDELINES},
    /* webhooks (admins) */
    {CF_GET, "/api/v1/webhooks", cf_h_webhooks_list, CF_AUTH_USER, 0},
    {CF_POST, "/api/v1/webhooks", cf_h_webhook_create, CF_AUTH_USER, CF_ROUTE_JSON_BODY},
    {CF_GET, "/api/v1/webhooks/{id}", cf_h_webhook_get, CF_AUTH_USER, 0},
    {CF_PATCH, "/api/v1/webhooks/{id}", cf_h_webhook_update, CF_AUTH_USER, CF_ROUTE_JSON_BODY},
    {CF_DELETE, "/api/v1/webhooks/{id}", cf_h_webhook_delete, CF_AUTH_USER, 0},
    {CF_GET, "/api/v1/webhooks/{id}/deliveries", cf_h_webhook_deliveries, CF_AUTH_USER, 0},
    {CF_POST, "/api/v1/webhooks/{id}/ping", cf_h_webhook_ping, CF_AUTH_USER, 0},
    {CF_POST, "/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver", cf_h_delivery_redeliver,
     CF_AUTH_USER, 0},
    /* moderation */
    {CF_POST, "/api/v1/posts/{id}/flags", cf_h_flag_create, CF_AUTH_USER, CF_ROUTE_JSON_BODY},
    /* so is its opening of conversation posts */
    {CF_GET, "/api/v1/moderation/queue", cf_h_moderation_queue, CF_AUTH_USER, CF_ROUTE_PRIMARY},
    {CF_POST, "/api/v1/moderation/posts/{id}/decision", cf_h_moderation_decide, CF_AUTH_USER,
     CF_ROUTE_JSON_BODY},
    {CF_POST, "/api/v1/moderation/users/{id}/suspend", cf_h_user_suspend, CF_AUTH_USER,
     CF_ROUTE_JSON_BODY},
    {CF_POST, "/api/v1/moderation/users/{id}/unsuspend", cf_h_user_unsuspend, CF_AUTH_USER,
     CF_ROUTE_JSON_BODY},
    {CF_GET, "/api/v1/moderation/log", cf_h_moderation_log, CF_AUTH_USER, 0},
    /* conversations */
    {CF_GET, "/api/v1/conversations", cf_h_conversations_list, CF_AUTH_USER, 0},
    {CF_POST, "/api/v1/conversations", cf_h_conversation_create, CF_AUTH_USER, CF_ROUTE_JSON_BODY},
    /* groups */
    {CF_GET, "/api/v1/groups", cf_h_groups_list, CF_AUTH_USER, 0},
    {CF_POST, "/api/v1/groups", cf_h_group_create, CF_AUTH_USER, CF_ROUTE_JSON_BODY},
    {CF_GET, "/api/v1/groups/{id}", cf_h_group_get, CF_AUTH_USER, 0},
    {CF_PATCH, "/api/v1/groups/{id}", cf_h_group_update, CF_AUTH_USER, CF_ROUTE_JSON_BODY},
    {CF_PUT, "/api/v1/groups/{id}/members/{user_id}", cf_h_group_member_put, CF_AUTH_USER,
     CF_ROUTE_JSON_BODY},
    {CF_DELETE, "/api/v1/groups/{id}/members/{user_id}", cf_h_group_member_delete, CF_AUTH_USER, 0},
    {CF_GET, "/api/v1/groups/{id}/meetings", cf_h_meetings_list, CF_AUTH_USER, 0},
    {CF_POST, "/api/v1/groups/{id}/meetings", cf_h_meeting_create, CF_AUTH_USER,
     CF_ROUTE_JSON_BODY},
    {CF_GET, "/api/v1/groups/{id}/meetings.ics", cf_h_meetings_calendar, CF_AUTH_USER, 0},
    {CF_PATCH, "/api/v1/groups/{id}/meetings/{meeting_id}", cf_h_meeting_update, CF_AUTH_USER,
     CF_ROUTE_JSON_BODY},
    {CF_DELETE, "/api/v1/groups/{id}/meetings/{meeting_id}", cf_h_meeting_cancel, CF_AUTH_USER, 0},
    /* accounts */
    {CF_POST, "/api/v1/invitations", cf_h_invitation_create, CF_AUTH_USER, CF_ROUTE_JSON_BODY},
    {CF_POST, "/api/v1/users", cf_h_user_register, CF_AUTH_NONE, CF_ROUTE_JSON_BODY},
    {CF_GET, "/api/v1/users", cf_h_users_list, CF_AUTH_USER, 0},
    {CF_GET, "/api/v1/users/{id}", cf_h_user_get, CF_AUTH_USER, 0},
    {CF_PATCH, "/api/v1/users/{id}", cf_h_user_update, CF_AUTH_USER, CF_ROUTE_JSON_BODY},
    {CF_POST, "/api/v1/sessions", cf_h_session_create, CF_AUTH_NONE, CF_ROUTE_JSON_BODY},
    {CF_GET, "/api/v1/sessions/current", cf_h_session_get_current, CF_AUTH_USER,
     CF_ROUTE_WHILE_SUSPENDED | CF_ROUTE_BEFORE_GUIDELINES},
    {CF_DELETE, "/api/v1/sessions/current", cf_h_session_delete_current, CF_AUTH_USER,
     CF_ROUTE_WHILE_SUSPENDED | CF_ROUTE_BEFORE_GUIDELINES},
    {CF_GET, "/api/v1/me", cf_h_me_get, CF_AUTH_USER, 0},
    {CF_PATCH, "/api/v1/me", cf_h_me_update, CF_AUTH_USER,
     CF_ROUTE_JSON_BODY | CF_ROUTE_BEFORE_GUIDELINES},
    {CF_POST, "/api/v1/me/password", cf_h_me_password, CF_AUTH_USER,
     CF_ROUTE_JSON_BODY | CF_ROUTE_BEFORE_GUIDELINES},
    {CF_GET, "/api/v1/me/export", cf_h_me_export, CF_AUTH_USER, 0},
    {CF_GET, "/api/v1/me/sessions", cf_h_my_sessions, CF_AUTH_USER, 0},
    {CF_DELETE, "/api/v1/me/sessions/{id}", cf_h_my_session_delete, CF_AUTH_USER,
     CF_ROUTE_WHILE_SUSPENDED | CF_ROUTE_BEFORE_GUIDELINES},
    {CF_POST, "/api/v1/me/guidelines", cf_h_me_guidelines_accept, CF_AUTH_USER,
     CF_ROUTE_JSON_BODY | CF_ROUTE_BEFORE_GUIDELINES},
    {CF_GET, "/api/v1/guidelines", cf_h_guidelines_get, CF_AUTH_NONE, 0},
};

const size_t cf_routes_count = sizeof(cf_routes) / sizeof(cf_routes[0]);

_Static_assert(sizeof(cf_routes) / sizeof(cf_routes[0]) <= CF_METRICS_MAX_ROUTES,
               "raise CF_METRICS_MAX_ROUTES");
