/*
 * outbox: the delivery worker of the transactional outbox (SPEC section 7,
 * schema/0010). On worker 0's loop it claims due rows (cf_outbox_claim, leased so
 * that another server does not take them), sends each with curl's multi interface
 * driven by the same loop (CURLMOPT_SOCKETFUNCTION / TIMERFUNCTION: libevent
 * watches curl's sockets, as in curl's hiperfifo example and kore's curl.c),
 * and records every attempt (cf_outbox_finish): delivered, retried later with
 * exponential backoff, or failed. No handler calls curl.
 *
 * Emails go to CONFER_SMTP_URL (smtps:// is TLS from the start, smtp+starttls://
 * requires STARTTLS); webhooks are POSTed with X-Confer-Event, X-Confer-Delivery
 * and X-Confer-Signature: sha256=<HMAC-SHA256 of the body with the webhook's secret>.
 */
#ifndef CF_OUTBOX_H
#define CF_OUTBOX_H

#include <stdatomic.h>
#include <stddef.h>

struct cf_worker;
struct cf_outbox;

/* What /metrics shows (the server's, written by worker 0). */
struct cf_outbox_stats {
    _Atomic long pending[2];   /* rows waiting in the database: email, webhook */
    _Atomic long in_flight;    /* transfers under way in this server */
    _Atomic long delivered[2]; /* since start */
    _Atomic long retried[2];   /* attempts that failed and will be tried again */
    _Atomic long failed[2];    /* given up */
};

/* Starts polling on w's loop (the first claim at once). */
struct cf_outbox *cf_outbox_create(struct cf_worker *w, struct cf_outbox_stats *stats);
/* Stops claiming; transfers under way finish and are recorded. */
void cf_outbox_stop(struct cf_outbox *o);
/* Claims, transfers and records still under way (the loop waits for them on shutdown). */
int cf_outbox_busy(const struct cf_outbox *o);
/* After w's loop and database pool have ended. */
void cf_outbox_free(struct cf_outbox *o);

/* The X-Confer-Signature value of body: "sha256=" and 64 hex digits, into out[72]. */
void cf_outbox_signature(const char *secret, const char *body, size_t len, char out[72]);

#endif
