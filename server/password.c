/* password: the argon2id thread pool and the password policy; see password.h. */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include <argon2.h>
#include <event2/event.h>

#include "alloc.h"
#include "log.h"
#include "password.h"

#define QUEUE_MAX 256

extern const char *const cf_common_passwords;
extern const size_t cf_common_passwords_len;

struct hash_job {
    struct hash_job *next;
    int verify;
    char *password;
    char encoded[CF_PASSWORD_HASH_MAX];
    int have_encoded;
    int status, match;
    cf_password_cb cb;
    void *arg;
    struct event *done; /* on the submitting loop */
};

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct hash_job *head, *tail;
    int queued;
    int stopping;
    int nthreads;
    pthread_t threads[16];
    char dummy[CF_PASSWORD_HASH_MAX];
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL, 0, 0, 0, {0}, ""};

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

static void run_job(struct hash_job *j)
{
    j->status = 0;
    if (!j->verify) {
        j->status = encode_new(j->password, j->encoded, sizeof(j->encoded));
        return;
    }
    const char *target = j->have_encoded ? j->encoded : pool.dummy;
    int rc = argon2id_verify(target, j->password, strlen(j->password));
    j->match = j->have_encoded && rc == ARGON2_OK;
}

static void *hash_thread(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&pool.lock);
        while (pool.head == NULL && !pool.stopping)
            pthread_cond_wait(&pool.cond, &pool.lock);
        if (pool.stopping) {
            pthread_mutex_unlock(&pool.lock);
            return NULL;
        }
        struct hash_job *j = pool.head;
        pool.head = j->next;
        if (pool.head == NULL)
            pool.tail = NULL;
        pool.queued--;
        pthread_mutex_unlock(&pool.lock);
        run_job(j);
        /* Wipe the plain text as soon as it is no longer needed. */
        explicit_bzero(j->password, strlen(j->password));
        event_active(j->done, EV_TIMEOUT, 0);
    }
}

static void on_done(evutil_socket_t fd, short what, void *arg)
{
    struct hash_job *j = arg;
    (void)fd;
    (void)what;
    j->cb(j->status, j->match, j->status == 0 && !j->verify ? j->encoded : NULL, j->arg);
    event_free(j->done);
    cf_free(j->password);
    explicit_bzero(j->encoded, sizeof(j->encoded));
    cf_free(j);
}

static void submit(struct event_base *base, int verify, const char *encoded, const char *password,
                   cf_password_cb cb, void *arg)
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
    j->done = event_new(base, -1, 0, on_done, j);
    pthread_mutex_lock(&pool.lock);
    if (pool.nthreads == 0 || pool.stopping || pool.queued >= QUEUE_MAX) {
        pthread_mutex_unlock(&pool.lock);
        j->status = -1;
        event_active(j->done, EV_TIMEOUT, 0); /* called back from the loop, never inline */
        return;
    }
    if (pool.tail)
        pool.tail->next = j;
    else
        pool.head = j;
    pool.tail = j;
    pool.queued++;
    pthread_cond_signal(&pool.cond);
    pthread_mutex_unlock(&pool.lock);
}

void cf_password_hash(struct event_base *base, const char *password, cf_password_cb cb, void *arg)
{
    submit(base, 0, NULL, password, cb, arg);
}

void cf_password_verify(struct event_base *base, const char *encoded, const char *password,
                        cf_password_cb cb, void *arg)
{
    submit(base, 1, encoded, password, cb, arg);
}

int cf_password_pool_start(int threads)
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
    if (threads < 1)
        threads = 1;
    if (threads > 16)
        threads = 16;
    pool.stopping = 0;
    for (int i = 0; i < threads; i++) {
        if (pthread_create(&pool.threads[i], NULL, hash_thread, NULL) != 0)
            return -1;
        pool.nthreads++;
    }
    return 0;
}

void cf_password_pool_stop(void)
{
    pthread_mutex_lock(&pool.lock);
    pool.stopping = 1;
    pthread_cond_broadcast(&pool.cond);
    pthread_mutex_unlock(&pool.lock);
    for (int i = 0; i < pool.nthreads; i++)
        pthread_join(pool.threads[i], NULL);
    pool.nthreads = 0;
    struct hash_job *j = pool.head;
    pool.head = pool.tail = NULL;
    pool.queued = 0;
    while (j != NULL) {
        struct hash_job *next = j->next;
        event_free(j->done);
        cf_free(j->password);
        cf_free(j);
        j = next;
    }
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

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
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
    size_t chars = utf8_chars(password);
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
