/*
 * routes: the route table and the handlers it names, one handler file per
 * resource (h_health.c, h_networks.c, ...).
 */
#ifndef CF_ROUTES_H
#define CF_ROUTES_H

#include <stddef.h>

#include "router.h"

extern const struct cf_route cf_routes[];
extern const size_t cf_routes_count;

struct cf_request;

/* h_health.c */
void cf_h_healthz(struct cf_request *req);
void cf_h_readyz(struct cf_request *req);
void cf_h_metrics(struct cf_request *req);
/* h_networks.c */
void cf_h_networks_list(struct cf_request *req);
void cf_h_categories_list(struct cf_request *req);
void cf_h_category_get(struct cf_request *req);
void cf_h_category_create(struct cf_request *req);
void cf_h_category_update(struct cf_request *req);

/* h_groups.c */
void cf_h_groups_list(struct cf_request *req);
void cf_h_group_create(struct cf_request *req);
void cf_h_group_get(struct cf_request *req);
void cf_h_group_update(struct cf_request *req);
void cf_h_group_member_put(struct cf_request *req);
void cf_h_group_member_delete(struct cf_request *req);
void cf_h_meetings_list(struct cf_request *req);
void cf_h_meeting_create(struct cf_request *req);
void cf_h_meeting_update(struct cf_request *req);
void cf_h_meeting_cancel(struct cf_request *req);
void cf_h_meetings_calendar(struct cf_request *req);

/* h_threads.c */
void cf_h_threads_list(struct cf_request *req);
void cf_h_thread_create(struct cf_request *req);
void cf_h_thread_get(struct cf_request *req);
void cf_h_thread_update(struct cf_request *req);
void cf_h_post_create(struct cf_request *req);
void cf_h_thread_answer(struct cf_request *req);
void cf_h_thread_answer_delete(struct cf_request *req);
void cf_h_thread_read(struct cf_request *req);
void cf_h_thread_subscription(struct cf_request *req);
void cf_h_post_get(struct cf_request *req);
void cf_h_post_update(struct cf_request *req);
void cf_h_post_delete(struct cf_request *req);
void cf_h_post_revisions(struct cf_request *req);
void cf_h_post_hide(struct cf_request *req);
void cf_h_post_unhide(struct cf_request *req);
void cf_h_reaction_put(struct cf_request *req);
void cf_h_reaction_delete(struct cf_request *req);
void cf_h_bookmark_put(struct cf_request *req);
void cf_h_bookmark_delete(struct cf_request *req);
void cf_h_bookmarks_list(struct cf_request *req);
void cf_h_preview(struct cf_request *req);
void cf_h_privacy_check(struct cf_request *req);
void cf_h_conversation_create(struct cf_request *req);

/* h_search.c */
void cf_h_search(struct cf_request *req);

/* h_moderation.c */
void cf_h_flag_create(struct cf_request *req);
void cf_h_moderation_queue(struct cf_request *req);
void cf_h_moderation_decide(struct cf_request *req);
void cf_h_user_suspend(struct cf_request *req);
void cf_h_user_unsuspend(struct cf_request *req);
void cf_h_moderation_log(struct cf_request *req);
void cf_h_revision_redact(struct cf_request *req);
void cf_h_notifications_list(struct cf_request *req);
void cf_h_responses_pending(struct cf_request *req);
void cf_h_report_summary(struct cf_request *req);
void cf_h_notifications_read(struct cf_request *req);
void cf_h_webhooks_list(struct cf_request *req);
void cf_h_webhook_create(struct cf_request *req);
void cf_h_webhook_get(struct cf_request *req);
void cf_h_webhook_update(struct cf_request *req);
void cf_h_webhook_delete(struct cf_request *req);
void cf_h_webhook_deliveries(struct cf_request *req);
void cf_h_webhook_ping(struct cf_request *req);
void cf_h_delivery_redeliver(struct cf_request *req);
void cf_h_conversations_list(struct cf_request *req);
void cf_h_network_get(struct cf_request *req);

/* h_sessions.c */
void cf_h_session_create(struct cf_request *req);
void cf_h_session_get_current(struct cf_request *req);
void cf_h_session_delete_current(struct cf_request *req);
void cf_h_my_sessions(struct cf_request *req);
void cf_h_my_session_delete(struct cf_request *req);
/* h_users.c */
void cf_h_user_register(struct cf_request *req);
void cf_h_users_list(struct cf_request *req);
void cf_h_user_get(struct cf_request *req);
void cf_h_user_update(struct cf_request *req);
/* 1 when e looks like an email address (one @, a dotted domain, no spaces). */
int cf_email_valid(const char *e);
/* h_me.c */
void cf_h_me_get(struct cf_request *req);
void cf_h_me_update(struct cf_request *req);
void cf_h_me_password(struct cf_request *req);
void cf_h_me_export(struct cf_request *req);
void cf_h_me_guidelines_accept(struct cf_request *req);
void cf_h_guidelines_get(struct cf_request *req);
/* h_invitations.c */
void cf_h_invitation_create(struct cf_request *req);

/* static_files.c: everything outside the route table that is GET or HEAD. */
void cf_static_serve(struct cf_request *req);

#endif
