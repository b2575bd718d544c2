/* password: the argon2id thread pool and the password policy; see password.h. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#include <argon2.h>
#include <event2/event.h>

#include "alloc.h"
#include "log.h"
#include "password.h"
#include "uri.h"

extern const char *const cf_common_passwords;
extern const size_t cf_common_passwords_len;

/*
 * Jobs travel to the hashing threads through one pipe and come back to their
 * loop through that loop's own pipe, as pointers (8-byte writes are atomic).
 * No lock is shared between a loop and the hashing threads, so a hashing
 * thread running at a lower priority can never hold up a loop (priority
 * inversion, measured before this design as a 30x worse read p99 once the
 * hashing threads were given a lower priority).
 *
 * The hashing threads run at idle priority (SCHED_IDLE): a hash only ever uses
 * a core nothing else wants, so reads keep their latency while people sign in
 * (docs/performance.md, step 2). On a machine kept busy, idle priority could
 * starve a sign-in forever, and an unprivileged thread cannot raise its priority
 * again. So a job still unanswered after boost_ms is also handed to the rescue
 * thread, which runs at normal priority: whichever thread finishes first claims
 * the job and answers it; the other drops its copy. Jobs are reference counted
 * (the loop, each pipe holding the pointer, each thread working on it).
 */
struct cf_password_client {
    int fd[2]; /* completions: hashing threads write, the loop reads */
    struct event *ev;
    struct event_base *base;
};

struct hash_job {
    int verify;
    char *password;
    char encoded[CF_PASSWORD_HASH_MAX]; /* verify: the stored hash; hash: the result */
    int have_encoded;
    int status, match; /* written by the claiming thread only */
    _Atomic int refs;
    _Atomic int claimed;
    cf_password_cb cb;
    void *arg;
    struct cf_password_client *client;
    struct event *boost; /* on the loop: hands the job to the rescue thread */
};

/* What one thread computed, before it knows whether it claims the job. */
struct hash_result {
    int status, match;
    char encoded[CF_PASSWORD_HASH_MAX];
};

static struct {
    int submit[2]; /* idle-priority threads; -1 when stopped */
    int rescue[2]; /* the normal-priority thread */
    int nthreads;
    int boost_ms;
    pthread_t threads[17];
    char dummy[CF_PASSWORD_HASH_MAX];
} pool = {{-1, -1}, {-1, -1}, 0, 0, {0}, ""};

/* Jobs submitted and not yet taken by a thread; past QUEUE_MAX a hash is refused
 * (503). 256 waiting verifications are about 5 s of work for one thread. */
#define QUEUE_MAX 256
static _Atomic int waiting;
static _Atomic long rescued, rescue_wins;

static char **common;
static size_t ncommon;

static int encode_new(const char *password, char *out, size_t size)
{
    unsigned char salt[16];
    if (getrandom(salt, sizeof(salt), 0) != sizeof(salt))
        return -1;
    int rc = argon2id_hash_encoded(CF_ARGON2_T, CF_ARGON2_M_KIB, CF_ARGON2_P, password,
                                   strlen(password), salt, sizeof(salt), 32, out, size);
    return rc == ARGON2_OK ? 0 : -1;
}

int cf_password_hash_now(const char *password, char *out, size_t size)
{
    return encode_new(password, out, size);
}

int cf_password_needs_rehash(const char *encoded)
{
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "$argon2id$v=19$m=%d,t=%d,p=%d$", CF_ARGON2_M_KIB, CF_ARGON2_T,
             CF_ARGON2_P);
    return strncmp(encoded, prefix, strlen(prefix)) != 0;
}

static void compute(const struct hash_job *j, struct hash_result *r)
{
    r->status = 0;
    r->match = 0;
    if (!j->verify) {
        r->status = encode_new(j->password, r->encoded, sizeof(r->encoded));
        return;
    }
    const char *target = j->have_encoded ? j->encoded : pool.dummy;
    int rc = argon2id_verify(target, j->password, strlen(j->password));
    r->match = j->have_encoded && rc == ARGON2_OK;
}

static int write_pointer(int fd, struct hash_job *j)
{
    ssize_t n;
    do
        n = write(fd, &j, sizeof(j));
    while (n < 0 && errno == EINTR);
    return n == (ssize_t)sizeof(j) ? 0 : -1;
}

static void job_release(struct hash_job *j)
{
    if (atomic_fetch_sub(&j->refs, 1) != 1)
        return;
    /* Wipe the plain text and the hash once nobody holds the job. */
    explicit_bzero(j->password, strlen(j->password));
    cf_free(j->password);
    explicit_bzero(j->encoded, sizeof(j->encoded));
    cf_free(j);
}

/* Claims j with this outcome unless another thread already did; either way the
 * caller's reference is dropped. */
static int job_claim(struct hash_job *j, const struct hash_result *r)
{
    int won = atomic_exchange(&j->claimed, 1) == 0;
    if (won) {
        j->status = r->status;
        j->match = r->match;
        if (!j->verify && r->status == 0)
            memcpy(j->encoded, r->encoded, sizeof(j->encoded));
        if (write_pointer(j->client->fd[1], j) != 0)
            cf_error("could not hand a password result back to its loop");
    }
    job_release(j);
    return won;
}

static void *hash_thread(void *arg)
{
    int rescue = arg != NULL;
    int fd = rescue ? pool.rescue[0] : pool.submit[0];
    if (!rescue) {
        struct sched_param sp = {0};
        int rc = pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);
        if (rc != 0)
            cf_warn("hashing thread keeps normal priority: %s", strerror(rc));
    }
    struct hash_result r;
    for (;;) {
        struct hash_job *j;
        ssize_t n = read(fd, &j, sizeof(j));
        if (n < 0 && errno == EINTR)
            continue;
        if (n != (ssize_t)sizeof(j))
            return NULL; /* end of file: the pool is stopping */
        if (!rescue)
            atomic_fetch_sub(&waiting, 1);
        if (atomic_load(&j->claimed)) {
            job_release(j);
            continue;
        }
        compute(j, &r);
        if (job_claim(j, &r) && rescue)
            atomic_fetch_add(&rescue_wins, 1);
        explicit_bzero(&r, sizeof(r));
    }
}

static void on_results(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    (void)arg;
    struct hash_job *jobs[64];
    ssize_t n = read(fd, jobs, sizeof(jobs));
    for (ssize_t i = 0; i < n / (ssize_t)sizeof(jobs[0]); i++) {
        struct hash_job *j = jobs[i];
        if (j->boost != NULL)
            event_free(j->boost);
        j->cb(j->status, j->match, j->status == 0 && !j->verify ? j->encoded : NULL, j->arg);
        job_release(j);
    }
}

/* On the loop, boost_ms after submission: the job is still unanswered. */
static void on_boost(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct hash_job *j = arg;
    if (atomic_load(&j->claimed) || pool.rescue[1] < 0)
        return;
    atomic_fetch_add(&j->refs, 1);
    if (write_pointer(pool.rescue[1], j) != 0) {
        job_release(j); /* thousands already wait for rescue: this one stays queued */
        return;
    }
    atomic_fetch_add(&rescued, 1);
}

struct cf_password_client *cf_password_client_new(struct event_base *base)
{
    struct cf_password_client *c = cf_calloc(1, sizeof(*c));
    if (pipe2(c->fd, O_CLOEXEC) != 0)
        cf_fatal("could not create a pipe: %s", strerror(errno));
    fcntl(c->fd[0], F_SETFL, O_NONBLOCK);
    c->base = base;
    c->ev = event_new(base, c->fd[0], EV_READ | EV_PERSIST, on_results, c);
    event_add(c->ev, NULL);
    return c;
}

void cf_password_client_free(struct cf_password_client *c)
{
    if (c == NULL)
        return;
    /* Results that arrived after the loop stopped: freed without their callback. */
    struct hash_job *jobs[64];
    ssize_t n;
    while ((n = read(c->fd[0], jobs, sizeof(jobs))) > 0)
        for (ssize_t i = 0; i < n / (ssize_t)sizeof(jobs[0]); i++) {
            if (jobs[i]->boost != NULL)
                event_free(jobs[i]->boost);
            job_release(jobs[i]);
        }
    event_free(c->ev);
    close(c->fd[0]);
    close(c->fd[1]);
    cf_free(c);
}

static void submit(struct cf_password_client *c, int verify, const char *encoded,
                   const char *password, cf_password_cb cb, void *arg)
{
    struct hash_job *j = cf_calloc(1, sizeof(*j));
    j->verify = verify;
    j->password = cf_strdup(password);
    if (encoded != NULL && strlen(encoded) < sizeof(j->encoded)) {
        memcpy(j->encoded, encoded, strlen(encoded) + 1);
        j->have_encoded = 1;
    }
    j->cb = cb;
    j->arg = arg;
    j->client = c;
    atomic_init(&j->refs, 2); /* the loop's and the submission pipe's */
    atomic_init(&j->claimed, 0);
    if (pool.submit[1] >= 0) {
        j->boost = evtimer_new(c->base, on_boost, j);
        struct timeval tv = {pool.boost_ms / 1000, (pool.boost_ms % 1000) * 1000};
        evtimer_add(j->boost, &tv);
        if (atomic_fetch_add(&waiting, 1) < QUEUE_MAX && write_pointer(pool.submit[1], j) == 0)
            return;
        atomic_fetch_sub(&waiting, 1);
        event_free(j->boost);
        j->boost = NULL;
    }
    /* Stopped, or the queue is full: answered from the loop, never inline. */
    cf_debug("password job refused: %s", pool.submit[1] < 0 ? "stopped" : "queue full");
    struct hash_result r = {.status = -1};
    job_claim(j, &r);
}

void cf_password_hash(struct cf_password_client *c, const char *password, cf_password_cb cb,
                      void *arg)
{
    submit(c, 0, NULL, password, cb, arg);
}

void cf_password_verify(struct cf_password_client *c, const char *encoded, const char *password,
                        cf_password_cb cb, void *arg)
{
    submit(c, 1, encoded, password, cb, arg);
}

void cf_password_stats(long *rescued_jobs, long *won_by_rescue)
{
    *rescued_jobs = atomic_load(&rescued);
    *won_by_rescue = atomic_load(&rescue_wins);
}

int cf_password_pool_start(int threads, int boost_ms)
{
    unsigned char rnd[24];
    char throwaway[64];
    if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
        return -1;
    for (size_t i = 0; i < sizeof(rnd); i++)
        throwaway[i] = (char)('a' + rnd[i] % 26);
    throwaway[sizeof(rnd)] = '\0';
    if (encode_new(throwaway, pool.dummy, sizeof(pool.dummy)) != 0)
        return -1;
    if (pipe2(pool.submit, O_CLOEXEC) != 0 || pipe2(pool.rescue, O_CLOEXEC) != 0)
        return -1;
    /* The write ends never block a loop. (The bound is `waiting`, not the pipe's size:
     * a pipe frees a page only once all of it is read, so a one-page pipe refuses
     * writes after every 512 pointers however few are waiting.) */
    fcntl(pool.submit[1], F_SETFL, O_NONBLOCK);
    fcntl(pool.rescue[1], F_SETFL, O_NONBLOCK);
    pool.boost_ms = boost_ms < 0 ? 0 : boost_ms;
    if (threads < 1)
        threads = 1;
    if (threads > 16)
        threads = 16;
    for (int i = 0; i <= threads; i++) {
        /* thread 0 is the rescue thread (its argument is not NULL) */
        if (pthread_create(&pool.threads[i], NULL, hash_thread, i == 0 ? &pool : NULL) != 0)
            return -1;
        pool.nthreads++;
    }
    return 0;
}

/* After the threads stopped: a job still in a pipe is answered -1 to its loop (which
 * frees it without a callback), and the pipe's reference dropped. */
static void drain(int fd)
{
    struct hash_job *j;
    struct hash_result r = {.status = -1};
    fcntl(fd, F_SETFL, O_NONBLOCK);
    while (read(fd, &j, sizeof(j)) == (ssize_t)sizeof(j))
        job_claim(j, &r);
    close(fd);
}

void cf_password_pool_stop(void)
{
    if (pool.submit[1] < 0)
        return;
    /* The threads finish what they hold, then read end of file. */
    close(pool.submit[1]);
    close(pool.rescue[1]);
    pool.submit[1] = pool.rescue[1] = -1;
    for (int i = 0; i < pool.nthreads; i++)
        pthread_join(pool.threads[i], NULL);
    pool.nthreads = 0;
    drain(pool.submit[0]);
    drain(pool.rescue[0]);
    pool.submit[0] = pool.rescue[0] = -1;
    atomic_store(&waiting, 0);
}

/* ---- the policy ---- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Splits the embedded list into a sorted array, once per process. */
static void load_common_once(void)
{
    size_t n = 0;
    for (size_t i = 0; i < cf_common_passwords_len; i++)
        n += cf_common_passwords[i] == '\n';
    common = cf_calloc(n + 1, sizeof(char *));
    const char *p = cf_common_passwords, *end = p + cf_common_passwords_len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (len > 0)
            common[ncommon++] = cf_strndup(p, len);
        p += len + 1;
    }
    qsort(common, ncommon, sizeof(char *), cmp_str);
}

static void load_common(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, load_common_once);
}

int cf_password_is_common(const char *s)
{
    char lower[160];
    size_t len = strlen(s);
    if (len == 0 || len >= sizeof(lower))
        return 0;
    for (size_t i = 0; i <= len; i++)
        lower[i] = (char)tolower((unsigned char)s[i]);
    load_common();
    const char *key = lower;
    return bsearch(&key, common, ncommon, sizeof(char *), cmp_str) != NULL;
}

/* "aaaaaaaaaaaa", "abcabcabcabc", "12121212121212": a unit of up to 4 bytes repeated. */
static int is_repetitive(const char *s)
{
    size_t len = strlen(s);
    for (size_t unit = 1; unit <= 4 && unit < len; unit++) {
        if (len % unit != 0)
            continue;
        size_t i = unit;
        while (i < len && s[i] == s[i % unit])
            i++;
        if (i == len)
            return 1;
    }
    return 0;
}

static int contains_ci(const char *hay, const char *needle, size_t nlen)
{
    size_t hlen = strlen(hay);
    for (size_t i = 0; i + nlen <= hlen; i++)
        if (strncasecmp(hay + i, needle, nlen) == 0)
            return 1;
    return 0;
}

int cf_password_check(const char *password, const char *email, const char *name, const char **code,
                      const char **message)
{
    size_t chars = cf_utf8_chars(password);
    if (chars < 12) {
        *code = "too_short";
        *message = "use at least 12 characters";
        return -1;
    }
    if (chars > 128) {
        *code = "too_long";
        *message = "use at most 128 characters";
        return -1;
    }
    char stripped[160] = "";
    size_t len = strlen(password);
    if (len < sizeof(stripped)) {
        memcpy(stripped, password, len + 1);
        while (len > 0 && (isdigit((unsigned char)stripped[len - 1]) ||
                           ispunct((unsigned char)stripped[len - 1]) || stripped[len - 1] == ' '))
            stripped[--len] = '\0';
    }
    if (cf_password_is_common(password) || (len > 0 && cf_password_is_common(stripped))) {
        *code = "common";
        *message = "this password is among the most common ones; choose another";
        return -1;
    }
    if (is_repetitive(password)) {
        *code = "repetitive";
        *message = "this password repeats a few characters; choose another";
        return -1;
    }
    if (email != NULL) {
        const char *at = strchr(email, '@');
        size_t local = at ? (size_t)(at - email) : strlen(email);
        if (local >= 4 && contains_ci(password, email, local)) {
            *code = "personal_info";
            *message = "the password must not contain your email address";
            return -1;
        }
    }
    if (name != NULL && strlen(name) >= 4 && contains_ci(password, name, strlen(name))) {
        *code = "personal_info";
        *message = "the password must not contain your name";
        return -1;
    }
    return 0;
}
