/*
 * replica: reads from a streaming replica (SPEC section 12; CONFER_REPLICA_URL).
 *
 * Each worker has a second pool on the replica. A read goes there only when four
 * things hold (cf_request_read, request.c): it is a GET; its session has not written
 * within CONFER_REPLICA_WINDOW (sessions.wrote_at, stamped in the database before a
 * write's answer goes out, so it holds across instances); the worker's replica pool has a live
 * connection; and the probe below finds the replica's replay no further behind than the window
 * allows. A read the replica cannot answer (connection lost, shut down, a recovery conflict, or a
 * statement that tried to write) runs again on the primary, as does a read by id that found nothing
 * there (the replica may not have replayed it yet: a live event names a post a moment before the
 * replica has it).
 *
 * The probe, on worker 0, once a second: reads the primary's WAL insert position (the
 * background connection), then the replica's replay position (on a connection of its
 * own, never queued behind reads). Every transaction
 * committed before a sample was taken is at or below its position, so once the
 * replica's replay reaches a sample, the replica holds all that was committed before
 * it: the lag is at most the time since the newest sample reached. A replica behind
 * every sample, not in recovery, or silent is not used; nor is a verdict more than
 * 1.5 s old. The window is counted from a stamp written after the write committed and
 * before its answer (auth.h), so a read outside it finds the write on the replica.
 */
#ifndef CF_REPLICA_H
#define CF_REPLICA_H

#include <stdatomic.h>

#include "db.h"

struct cf_worker;

struct cf_replica_stats {
    _Atomic int usable;           /* the probe's verdict */
    _Atomic long long verdict_ms; /* when it was given (CLOCK_MONOTONIC) */
    _Atomic long lag_ms;          /* its bound on the replay lag; -1 unknown */
    _Atomic long reads;           /* statements the replica answered */
    _Atomic long retried;         /* statements run again on the primary */
};

struct cf_replica_probe;

/* On worker 0 when a replica is configured; NULL otherwise. Stopped before the pools
 * are freed (their failed statements still answer it), freed after them. */
struct cf_replica_probe *cf_replica_probe_create(struct cf_worker *w);
void cf_replica_probe_stop(struct cf_replica_probe *p);
void cf_replica_probe_free(struct cf_replica_probe *p);

/* Whether this worker may send a read to the replica now. */
int cf_replica_available(struct cf_worker *w);

/*
 * Runs one read-only statement on the worker's replica pool; on failure (or, with
 * retry_if_empty, when the first row's first value is missing) runs it again on the
 * primary. cb is called once, as by cf_db_query.
 */
void cf_replica_query(struct cf_worker *w, struct cf_db_stmt *stmt, const char *const *params,
                      int retry_if_empty, cf_db_cb cb, void *arg);

#endif
