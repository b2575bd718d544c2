/*
 * sweep: the response commitment's timer (SPEC section 7). Worker 0 runs
 * cf_response_sweep (schema/0008) every CONFER_SWEEP_INTERVAL seconds on its loop,
 * over its background connection (not the requests' pool). The SQL function holds
 * a transaction-level advisory lock, so with several servers on one database one
 * sweep runs at a time, and each clock is notified once (it records when). The same
 * timer queues the daily email digests that are due (cf_email_digests, schema/0010),
 * under its own lock.
 */
#ifndef CF_SWEEP_H
#define CF_SWEEP_H

struct cf_worker;
struct cf_sweep;

/* Starts the timer on w's loop (the first sweep a second later). */
struct cf_sweep *cf_sweep_create(struct cf_worker *w);
/* Stops the timer; a sweep in flight finishes on its own. */
void cf_sweep_stop(struct cf_sweep *s);
/* After w's loop has ended. */
void cf_sweep_free(struct cf_sweep *s);

#endif
