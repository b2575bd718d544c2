/*
 * live: Server-Sent Events (SPEC section 9). GET /api/v1/events?thread={id} streams a
 * thread's post.created, post.updated, post.hidden and thread.updated events;
 * GET /api/v1/events, the caller's notification.created events.
 *
 * The database writes an event row in the transaction of every change, numbers it at
 * commit and sends NOTIFY confer_live '<t|u> <stream> <id>' (schema/0012). Each process
 * has one listener: a dedicated connection on worker 0's loop that LISTENs and rings
 * every worker's hub (a mutex-guarded list and an event made active across threads).
 * A hub keeps its subscribers by stream; a ring makes it read the stream's new events
 * with one statement (cf_live_fetch), which builds each event's data as it is now and
 * says which of the stream's subscribers may still read it, and write them out. The
 * same fetch, from a subscriber's Last-Event-ID, is how a stream resumes, and after
 * the listener reconnects every stream is fetched again, so a ring missed while it
 * was away loses nothing.
 *
 * A subscriber whose unsent output would pass CONFER_SSE_BUFFER is dropped (its
 * connection closed); it reconnects with its Last-Event-ID. Every CONFER_SSE_HEARTBEAT
 * seconds each stream gets a comment, and the sessions behind the streams are checked
 * (a stream whose session ended is closed).
 */
#ifndef CF_LIVE_H
#define CF_LIVE_H

#include <stdatomic.h>

struct cf_worker;
struct cf_request;
struct cf_live_hub;
struct cf_live_listener;

/* Process-wide counters, read by /metrics. */
struct cf_live_stats {
    _Atomic long subscribers;
    _Atomic long events;  /* events written to subscribers */
    _Atomic long dropped; /* subscribers dropped for not reading */
    _Atomic int listening;
};

/* A worker's hub; created with its loop, in the main thread. */
struct cf_live_hub *cf_live_hub_create(struct cf_worker *w);
/* On shutdown: every stream is ended and no more are accepted. */
void cf_live_hub_stop(struct cf_live_hub *hub);
/* After the loop has stopped and the worker's pool is freed. */
void cf_live_hub_free(struct cf_live_hub *hub);

/* The process's listener, on worker 0's loop; it rings every worker's hub. */
struct cf_live_listener *cf_live_listener_create(struct cf_worker *w0);
void cf_live_listener_free(struct cf_live_listener *l);

/* GET /api/v1/events[?thread={id}] */
void cf_h_events(struct cf_request *req);

#endif
