/* outbox: the email and webhook delivery worker; see outbox.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "alloc.h"
#include "cf_version.h"
#include "cursor.h"
#include "db.h"
#include "http_server.h"
#include "log.h"
#include "mail.h"
#include "outbox.h"

/* transfers at once, and the most one claim takes */
#define IN_FLIGHT_MAX 32
/* the longest wait between claims */
#define POLL_EVERY_MS 1000
/* the wait after an empty claim, so rows locked by another server never make a busy loop */
#define POLL_SOONEST_MS 20
/* bytes of a webhook's answer kept for the log */
#define RESPONSE_KEEP 200
/* the lease beyond the transfer's timeout, for recording it (more than the database
 * queue's 5 s) */
#define LEASE_MARGIN_S 10

enum { EMAIL, WEBHOOK };

struct job {
    struct cf_outbox *o;
    struct job *next;
    CURL *easy;
    int channel;
    char id[24], attempt[12];
    char *payload; /* the message or the body */
    size_t len, sent;
    struct curl_slist *list; /* headers or recipients */
    char error[CURL_ERROR_SIZE];
    char response[RESPONSE_KEEP + 1];
    size_t response_len;
    struct timespec started;
    /* the outcome, once the transfer is done */
    const char *outcome;
    char status[24], ms[24], message[320];
};

struct cf_outbox {
    struct cf_worker *w;
    struct cf_outbox_stats *stats;
    CURLM *multi;
    struct event *poll_timer, *curl_timer;
    struct job *jobs; /* claimed and not yet recorded */
    int active;       /* len(jobs) */
    int polling, poll_again, stopping;
    int releasing;     /* claims given back while stopping, not yet answered */
    time_t counted_at; /* when a claim last counted the backlog (monotonic seconds) */
    char *smtp_url;    /* without the +starttls */
    int starttls;
    char limit[12], lease[12], retry_base[12], retry_max[12], retry_attempts[12];
};

static struct cf_db_stmt q_claim =
    CF_DB_STMT("outbox_claim", "SELECT cf_outbox_claim($1, $2, $3, $4, $5)", 5);
static struct cf_db_stmt q_finish =
    CF_DB_STMT("outbox_finish", "SELECT cf_outbox_finish($1, $2, $3, $4, $5, $6, $7, $8, $9)", 9);
static struct cf_db_stmt q_release =
    CF_DB_STMT("outbox_release", "SELECT cf_outbox_release($1::bigint[])", 1);

static void poll_in(struct cf_outbox *o, long ms);

void cf_outbox_signature(const char *secret, const char *body, size_t len, char out[72])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)body, len, md, &mdlen);
    memcpy(out, "sha256=", 7);
    for (unsigned int i = 0; i < mdlen && i < 32; i++)
        snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
    out[7 + 64] = '\0';
}

/* --- curl on the event loop ------------------------------------------------------- */

struct sock {
    struct event *ev;
};

static void check_done(struct cf_outbox *o);

static void on_socket_event(evutil_socket_t fd, short what, void *arg)
{
    struct cf_outbox *o = arg;
    int action =
        ((what & EV_READ) ? CURL_CSELECT_IN : 0) | ((what & EV_WRITE) ? CURL_CSELECT_OUT : 0);
    int running;
    curl_multi_socket_action(o->multi, fd, action, &running);
    check_done(o);
}

static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    struct cf_outbox *o = userp;
    struct sock *s = socketp;
    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (s != NULL) {
            event_free(s->ev);
            cf_free(s);
            curl_multi_assign(o->multi, fd, NULL);
        }
        return 0;
    }
    short kind = EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) |
                 ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
    if (s == NULL) {
        s = cf_calloc(1, sizeof(*s));
        curl_multi_assign(o->multi, fd, s);
    } else {
        event_free(s->ev);
    }
    s->ev = event_new(o->w->base, fd, kind, on_socket_event, o);
    event_add(s->ev, NULL);
    return 0;
}

static void on_curl_timer(evutil_socket_t fd, short what, void *arg)
{
    struct cf_outbox *o = arg;
    (void)fd;
    (void)what;
    int running;
    curl_multi_socket_action(o->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(o);
}

static int on_curl_timeout(CURLM *multi, long ms, void *userp)
{
    struct cf_outbox *o = userp;
    (void)multi;
    if (ms < 0) {
        event_del(o->curl_timer);
    } else {
        struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
        event_add(o->curl_timer, &tv);
    }
    return 0;
}

/* --- jobs ------------------------------------------------------------------------- */

static void job_free(struct job *j)
{
    struct cf_outbox *o = j->o;
    for (struct job **p = &o->jobs; *p != NULL; p = &(*p)->next)
        if (*p == j) {
            *p = j->next;
            break;
        }
    o->active--;
    atomic_store_explicit(&o->stats->in_flight, o->active, memory_order_relaxed);
    if (j->easy != NULL) {
        curl_multi_remove_handle(o->multi, j->easy);
        curl_easy_cleanup(j->easy);
    }
    curl_slist_free_all(j->list);
    cf_free(j->payload);
    cf_free(j);
}

static void count(struct cf_outbox *o, int channel, const char *state)
{
    _Atomic long *v = strcmp(state, "delivered") == 0 ? &o->stats->delivered[channel]
                      : strcmp(state, "failed") == 0  ? &o->stats->failed[channel]
                      : strcmp(state, "pending") == 0 ? &o->stats->retried[channel]
                                                      : NULL; /* "stale": a late answer */
    if (v != NULL)
        atomic_fetch_add_explicit(v, 1, memory_order_relaxed);
}

static void became_idle(struct cf_outbox *o)
{
    if (o->stopping && o->active == 0 && o->polling == 0 && o->releasing == 0)
        cf_worker_request_done(o->w);
}

static void on_recorded(struct cf_db_result *r, void *arg)
{
    struct job *j = arg;
    struct cf_outbox *o = j->o;
    if (!r->ok)
        cf_warn("outbox: could not record delivery %s attempt %s (%s): %s; it will be tried "
                "again when its lease ends",
                j->id, j->attempt, j->outcome, r->message);
    else
        count(o, j->channel, PQgetvalue(r->res[0], 0, 0));
    job_free(j);
    if (o->stopping) {
        became_idle(o);
        return;
    }
    poll_in(o, 0); /* a retry's time, or more of a backlog */
}

static void record(struct job *j)
{
    struct cf_outbox *o = j->o;
    const char *params[] = {j->id,
                            j->attempt,
                            j->outcome,
                            j->status[0] ? j->status : NULL,
                            j->message[0] ? j->message : NULL,
                            j->ms,
                            o->retry_base,
                            o->retry_max,
                            o->retry_attempts};
    cf_db_query(o->w->background_db, &q_finish, params, on_recorded, j);
}

/* A message for the log: printable ASCII, at most what fits. */
static void set_message(struct job *j, const char *prefix, const char *detail, size_t len)
{
    size_t n = (size_t)snprintf(j->message, sizeof(j->message), "%s", prefix);
    for (size_t i = 0; i < len && n + 1 < sizeof(j->message); i++) {
        unsigned char c = (unsigned char)detail[i];
        j->message[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : ' ';
    }
    j->message[n] = '\0';
}

static void finished(struct job *j, CURLcode rc)
{
    long code = 0;
    curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &code);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long ms =
        (now.tv_sec - j->started.tv_sec) * 1000 + (now.tv_nsec - j->started.tv_nsec) / 1000000;
    snprintf(j->ms, sizeof(j->ms), "%ld", ms);
    if (code > 0)
        snprintf(j->status, sizeof(j->status), "%ld", code);
    const char *error = j->error[0] ? j->error : curl_easy_strerror(rc);
    if (rc == CURLE_OK && (j->channel == EMAIL || (code >= 200 && code < 300))) {
        j->outcome = "delivered";
    } else if (rc != CURLE_OK) {
        /* SMTP 550-553: no such mailbox or address; trying again will not help */
        j->outcome = j->channel == EMAIL && code >= 550 && code <= 553 ? "failed" : "retry";
        set_message(j, "", error, strlen(error));
    } else {
        char prefix[32]; /* a webhook's answer other than 2xx */
        snprintf(prefix, sizeof(prefix), "HTTP %ld: ", code);
        j->outcome = "retry";
        set_message(j, prefix, j->response, j->response_len);
    }
    curl_multi_remove_handle(j->o->multi, j->easy);
    curl_easy_cleanup(j->easy);
    j->easy = NULL;
    record(j);
}

static void check_done(struct cf_outbox *o)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(o->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct job *j = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
        finished(j, msg->data.result);
    }
}

static size_t read_payload(char *buf, size_t size, size_t nitems, void *arg)
{
    struct job *j = arg;
    size_t n = size * nitems;
    if (n > j->len - j->sent)
        n = j->len - j->sent;
    memcpy(buf, j->payload + j->sent, n);
    j->sent += n;
    return n;
}

static size_t keep_response(char *data, size_t size, size_t nmemb, void *arg)
{
    struct job *j = arg;
    size_t n = size * nmemb;
    size_t room = RESPONSE_KEEP - j->response_len;
    memcpy(j->response + j->response_len, data, n < room ? n : room);
    j->response_len += n < room ? n : room;
    return n;
}

/* Fills the easy handle of an email; -1 when the message cannot be written. */
static int setup_email(struct cf_outbox *o, struct job *j, json_t *spec)
{
    const struct cf_config *cfg = o->w->server->cfg;
    const char *base = cfg->public_url ? cfg->public_url : "http://127.0.0.1:8080";
    j->payload = cf_mail_render(spec, cfg->mail_from, base, time(NULL), &j->len);
    if (j->payload == NULL)
        return -1;
    char rcpt[300], from[300];
    snprintf(rcpt, sizeof(rcpt), "<%s>", json_string_value(json_object_get(spec, "to")));
    snprintf(from, sizeof(from), "<%s>", cfg->mail_from);
    j->list = curl_slist_append(NULL, rcpt);
    curl_easy_setopt(j->easy, CURLOPT_URL, o->smtp_url);
    curl_easy_setopt(j->easy, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    if (o->starttls)
        curl_easy_setopt(j->easy, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
    if (cfg->smtp_ca_file != NULL)
        curl_easy_setopt(j->easy, CURLOPT_CAINFO, cfg->smtp_ca_file);
    curl_easy_setopt(j->easy, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(j->easy, CURLOPT_MAIL_RCPT, j->list);
    curl_easy_setopt(j->easy, CURLOPT_READFUNCTION, read_payload);
    curl_easy_setopt(j->easy, CURLOPT_READDATA, j);
    curl_easy_setopt(j->easy, CURLOPT_UPLOAD, 1L);
    return 0;
}

static void setup_webhook(struct job *j, json_t *spec)
{
    const char *body = json_string_value(json_object_get(spec, "body"));
    const char *secret = json_string_value(json_object_get(spec, "secret"));
    j->payload = cf_strdup(body ? body : "{}");
    j->len = strlen(j->payload);
    char header[160], signature[72];
    cf_outbox_signature(secret ? secret : "", j->payload, j->len, signature);
    j->list = curl_slist_append(j->list, "Content-Type: application/json");
    j->list = curl_slist_append(j->list, "Expect:");
    snprintf(header, sizeof(header), "X-Confer-Event: %s",
             json_string_value(json_object_get(spec, "event")));
    j->list = curl_slist_append(j->list, header);
    snprintf(header, sizeof(header), "X-Confer-Delivery: %s",
             json_string_value(json_object_get(spec, "delivery")));
    j->list = curl_slist_append(j->list, header);
    snprintf(header, sizeof(header), "X-Confer-Signature: %s", signature);
    j->list = curl_slist_append(j->list, header);
    snprintf(header, sizeof(header), "X-Confer-Attempt: %s", j->attempt);
    j->list = curl_slist_append(j->list, header);
    curl_easy_setopt(j->easy, CURLOPT_URL, json_string_value(json_object_get(spec, "url")));
    curl_easy_setopt(j->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(j->easy, CURLOPT_HTTPHEADER, j->list);
    curl_easy_setopt(j->easy, CURLOPT_POSTFIELDS, j->payload);
    curl_easy_setopt(j->easy, CURLOPT_POSTFIELDSIZE, (long)j->len);
    curl_easy_setopt(j->easy, CURLOPT_USERAGENT, "confer/" CF_VERSION);
    curl_easy_setopt(j->easy, CURLOPT_WRITEFUNCTION, keep_response);
    curl_easy_setopt(j->easy, CURLOPT_WRITEDATA, j);
}

static void start(struct cf_outbox *o, json_t *spec)
{
    struct job *j = cf_calloc(1, sizeof(*j));
    j->o = o;
    j->next = o->jobs;
    o->jobs = j;
    o->active++;
    atomic_store_explicit(&o->stats->in_flight, o->active, memory_order_relaxed);
    const char *channel = json_string_value(json_object_get(spec, "channel"));
    j->channel = channel != NULL && strcmp(channel, "webhook") == 0 ? WEBHOOK : EMAIL;
    snprintf(j->id, sizeof(j->id), "%lld",
             (long long)json_integer_value(json_object_get(spec, "id")));
    snprintf(j->attempt, sizeof(j->attempt), "%lld",
             (long long)json_integer_value(json_object_get(spec, "attempt")));
    clock_gettime(CLOCK_MONOTONIC, &j->started);
    snprintf(j->ms, sizeof(j->ms), "0");
    j->easy = curl_easy_init();
    curl_easy_setopt(j->easy, CURLOPT_PRIVATE, j);
    curl_easy_setopt(j->easy, CURLOPT_ERRORBUFFER, j->error);
    curl_easy_setopt(j->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(j->easy, CURLOPT_TIMEOUT, (long)o->w->server->cfg->outbox_timeout_s);
    curl_easy_setopt(j->easy, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(j->easy, CURLOPT_FOLLOWLOCATION, 0L);
    if (j->channel == WEBHOOK) {
        setup_webhook(j, spec);
    } else if (setup_email(o, j, spec) != 0) {
        curl_easy_cleanup(j->easy);
        j->easy = NULL;
        j->outcome = "failed";
        snprintf(j->message, sizeof(j->message), "the recipient's address cannot be used");
        record(j);
        return;
    }
    CURLMcode rc = curl_multi_add_handle(o->multi, j->easy);
    if (rc != CURLM_OK) {
        curl_easy_cleanup(j->easy);
        j->easy = NULL;
        j->outcome = "retry";
        set_message(j, "", curl_multi_strerror(rc), strlen(curl_multi_strerror(rc)));
        record(j);
    }
}

/* --- claiming --------------------------------------------------------------------- */

static void on_released(struct cf_db_result *r, void *arg)
{
    struct cf_outbox *o = arg;
    if (!r->ok)
        cf_warn("outbox: could not give back claimed rows (they wait for their lease): %s",
                r->message);
    o->releasing--;
    became_idle(o);
}

/* Stopping: what this claim took goes back at once, rather than at the lease's end. */
static void release(struct cf_outbox *o, json_t *jobs)
{
    int64_t ids[IN_FLIGHT_MAX]; /* a claim takes at most that many */
    char list[IN_FLIGHT_MAX * 21 + 3];
    size_t n = 0, i;
    json_t *spec;
    json_array_foreach(jobs, i, spec)
    {
        if (n < IN_FLIGHT_MAX)
            ids[n++] = json_integer_value(json_object_get(spec, "id"));
    }
    if (n == 0 || cf_cursor_array(ids, n, list, sizeof(list)) != 0)
        return;
    const char *params[] = {list};
    o->releasing++;
    cf_db_query(o->w->background_db, &q_release, params, on_released, o);
}

static void on_claimed(struct cf_db_result *r, void *arg)
{
    struct cf_outbox *o = arg;
    o->polling = 0;
    if (o->stopping) {
        if (r->ok) {
            json_t *out = json_loads(PQgetvalue(r->res[0], 0, 0), 0, NULL);
            release(o, json_object_get(out, "jobs"));
            json_decref(out);
        }
        became_idle(o);
        return;
    }
    long next_ms = POLL_EVERY_MS;
    if (!r->ok) {
        cf_warn("outbox: claim failed: %s", r->message);
    } else {
        json_t *out = json_loads(PQgetvalue(r->res[0], 0, 0), 0, NULL);
        json_t *jobs = json_object_get(out, "jobs");
        json_t *pending = json_object_get(out, "pending"); /* null: not counted this time */
        json_t *failed = json_object_get(out, "failed");   /* rows that could not be prepared */
        atomic_fetch_add_explicit(&o->stats->failed[EMAIL],
                                  (long)json_integer_value(json_object_get(failed, "email")),
                                  memory_order_relaxed);
        atomic_fetch_add_explicit(&o->stats->failed[WEBHOOK],
                                  (long)json_integer_value(json_object_get(failed, "webhook")),
                                  memory_order_relaxed);
        if (json_is_object(pending)) {
            atomic_store_explicit(&o->stats->pending[EMAIL],
                                  (long)json_integer_value(json_object_get(pending, "email")),
                                  memory_order_relaxed);
            atomic_store_explicit(&o->stats->pending[WEBHOOK],
                                  (long)json_integer_value(json_object_get(pending, "webhook")),
                                  memory_order_relaxed);
        }
        size_t i;
        json_t *spec;
        json_array_foreach(jobs, i, spec) start(o, spec);
        json_t *next_in = json_object_get(out, "next_in");
        if (json_is_number(next_in) && json_number_value(next_in) * 1000 < next_ms)
            next_ms = (long)(json_number_value(next_in) * 1000);
        /* more due at once: claim again now while there is room; nothing claimed though
         * something is due (locked by another server): not in a busy loop */
        if (json_array_size(jobs) == 0 && next_ms < POLL_SOONEST_MS)
            next_ms = POLL_SOONEST_MS;
        json_decref(out);
    }
    if (o->poll_again)
        next_ms = 0;
    o->poll_again = 0;
    poll_in(o, next_ms);
}

static void on_poll(evutil_socket_t fd, short what, void *arg)
{
    struct cf_outbox *o = arg;
    (void)fd;
    (void)what;
    if (o->stopping)
        return;
    if (o->polling) {
        o->poll_again = 1;
        return;
    }
    int room = IN_FLIGHT_MAX - o->active;
    if (room <= 0) {
        poll_in(o, POLL_EVERY_MS); /* each finished job asks again */
        return;
    }
    o->polling = 1;
    snprintf(o->limit, sizeof(o->limit), "%d", room);
    const struct cf_config *cfg = o->w->server->cfg;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int count = now.tv_sec != o->counted_at; /* the backlog's size, once a second */
    o->counted_at = now.tv_sec;
    const char *params[] = {o->limit, o->lease,
                            cfg->public_url ? cfg->public_url : "http://127.0.0.1:8080",
                            o->smtp_url ? "true" : "false", count ? "true" : "false"};
    cf_db_query(o->w->background_db, &q_claim, params, on_claimed, o);
}

static void poll_in(struct cf_outbox *o, long ms)
{
    if (o->stopping)
        return;
    if (o->polling) {
        if (ms == 0)
            o->poll_again = 1;
        return;
    }
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    event_add(o->poll_timer, &tv);
}

struct cf_outbox *cf_outbox_create(struct cf_worker *w, struct cf_outbox_stats *stats)
{
    const struct cf_config *cfg = w->server->cfg;
    struct cf_outbox *o = cf_calloc(1, sizeof(*o));
    o->w = w;
    o->stats = stats;
    o->multi = curl_multi_init();
    if (o->multi == NULL)
        cf_fatal("could not start curl");
    curl_multi_setopt(o->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(o->multi, CURLMOPT_SOCKETDATA, o);
    curl_multi_setopt(o->multi, CURLMOPT_TIMERFUNCTION, on_curl_timeout);
    curl_multi_setopt(o->multi, CURLMOPT_TIMERDATA, o);
    o->curl_timer = event_new(w->base, -1, 0, on_curl_timer, o);
    o->poll_timer = event_new(w->base, -1, 0, on_poll, o);
    if (cfg->smtp_url != NULL) {
        const char *plus = "smtp+starttls://";
        if (strncmp(cfg->smtp_url, plus, strlen(plus)) == 0) {
            size_t n = strlen(cfg->smtp_url) - strlen(plus) + strlen("smtp://") + 1;
            o->smtp_url = cf_malloc(n);
            snprintf(o->smtp_url, n, "smtp://%s", cfg->smtp_url + strlen(plus));
            o->starttls = 1;
        } else {
            o->smtp_url = cf_strdup(cfg->smtp_url);
        }
    } else {
        cf_info("CONFER_SMTP_URL is not set: notification emails are not sent");
    }
    snprintf(o->lease, sizeof(o->lease), "%d", cfg->outbox_timeout_s + LEASE_MARGIN_S);
    snprintf(o->retry_base, sizeof(o->retry_base), "%d", cfg->retry_base_s);
    snprintf(o->retry_max, sizeof(o->retry_max), "%d", cfg->retry_max_s);
    snprintf(o->retry_attempts, sizeof(o->retry_attempts), "%d", cfg->retry_attempts);
    poll_in(o, 0);
    return o;
}

void cf_outbox_stop(struct cf_outbox *o)
{
    if (o == NULL)
        return;
    o->stopping = 1;
    event_del(o->poll_timer);
}

int cf_outbox_busy(const struct cf_outbox *o)
{
    return o != NULL && (o->active > 0 || o->polling || o->releasing > 0);
}

void cf_outbox_free(struct cf_outbox *o)
{
    if (o == NULL)
        return;
    o->stopping = 1;
    while (o->jobs != NULL)
        job_free(o->jobs); /* unrecorded: claimed again when their lease ends */
    curl_multi_cleanup(o->multi);
    event_free(o->curl_timer);
    event_free(o->poll_timer);
    cf_free(o->smtp_url);
    cf_free(o);
}
