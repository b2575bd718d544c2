/*
 * password: argon2id hashing (OWASP's minimum: m=19 MiB, t=2, p=1) on a small
 * thread pool, so that no event loop ever waits for a hash; results come back
 * to the submitting loop through an event. Hashes are argon2's encoded form,
 * which carries its parameters, so they can be raised later and old hashes
 * rehashed at sign-in.
 * Also the password policy of SPEC section 4.
 */
#ifndef CF_PASSWORD_H
#define CF_PASSWORD_H

#include <stddef.h>

#include "problem.h"

struct event_base;
/* A loop's end of the hashing pool: where its results come back. */
struct cf_password_client;

#define CF_ARGON2_T 2
#define CF_ARGON2_M_KIB (19 * 1024)
#define CF_ARGON2_P 1
#define CF_PASSWORD_HASH_MAX 128

/*
 * Starts the hashing threads (at idle priority) and the rescue thread (normal
 * priority), and computes the dummy hash. A job unanswered after boost_ms is also
 * given to the rescue thread, so a busy machine cannot starve sign-ins.
 * Returns 0 or -1.
 */
int cf_password_pool_start(int threads, int boost_ms);
/* Stops them after the job each is running; jobs still queued are dropped (their
 * loops have stopped: no callback is owed). */
void cf_password_pool_stop(void);

/*
 * The callback of a hash or verify job, on the submitting loop's thread.
 * status: 0 done, -1 the pool is overloaded or stopping (answer 503).
 * For a hash, `encoded` is the new hash (valid during the call); for a
 * verify, `match` says whether the password matched.
 */
typedef void (*cf_password_cb)(int status, int match, const char *encoded, void *arg);

/* One per event loop, made on that loop's base. Free it after cf_password_pool_stop. */
struct cf_password_client *cf_password_client_new(struct event_base *base);
void cf_password_client_free(struct cf_password_client *c);

void cf_password_hash(struct cf_password_client *c, const char *password, cf_password_cb cb,
                      void *arg);
/* encoded may be NULL (unknown account): a dummy hash is verified instead so that
 * the answer takes the same time, and match is 0. */
void cf_password_verify(struct cf_password_client *c, const char *encoded, const char *password,
                        cf_password_cb cb, void *arg);

/* Since start: jobs handed to the rescue thread, and those it answered first. */
void cf_password_stats(long *rescued_jobs, long *won_by_rescue);

/* 1 when encoded was made with other parameters than today's. */
int cf_password_needs_rehash(const char *encoded);

/* Blocking hash for the command line; returns 0 or -1. */
int cf_password_hash_now(const char *password, char *out, size_t size);

/*
 * The policy: 12 to 128 characters, not a common password (also after removing
 * trailing digits and symbols), not one character or a short run repeated, not
 * containing the email's local part or the display name. Returns 0, or -1 with
 * a stable code ("too_short", "too_long", "common", "repetitive",
 * "personal_info") and an English message.
 */
int cf_password_check(const char *password, const char *email, const char *name, const char **code,
                      const char **message);

/* 1 when s (any case) is in the bundled list of common passwords. */
int cf_password_is_common(const char *s);

#endif
