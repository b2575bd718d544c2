/*
 * bench-sse-load: a load client for confer's Server-Sent Events endpoint.
 *
 * It opens N subscriber streams on GET /api/v1/events?thread=T, then writes K
 * posts to that thread (POST /api/v1/threads/T/posts, one every I ms) and
 * measures, for every subscriber and every post, the time from writing the
 * POST request to receiving the post.created event that carries it (the
 * event's data holds "bench-mark <k>"). Everything runs on one libevent loop.
 * A subscriber owns its bufferevent and a few dozen bytes of parser state: the
 * HTTP de-chunker and the SSE parser work byte by byte on the input evbuffer
 * and never gather a whole event, so tens of thousands of streams stay cheap.
 *
 * usage: bench-sse-load --port P --thread T --tokens FILE --subscribers N
 *            --posts K --interval-ms I [--host 127.0.0.1] [--connect-rate R]
 *            [--settle-ms S] [--hold-s H] [--timeout-s W]
 *
 * stdout gets the machine-readable summary, one line each:
 *   subscribers_connected <n>
 *   subscribers_failed <n>
 *   posts_sent <k> posts_failed <n>
 *   deliveries <received> expected <N*K>
 *   latency_ms p50 <x> p95 <x> p99 <x> max <x>
 *   dropped_connections <n>
 * stderr gets progress and diagnostics ("holding" when --hold-s starts).
 * Exit status: 0 when every delivery arrived and no post failed, 1 otherwise,
 * 2 on bad usage or a setup failure.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

#define LINE_LIMIT 8192       /* longest status, header or chunk-size line accepted */
#define RETRY_MAX 3           /* further connect attempts of a subscriber */
#define RETRY_DELAY_US 100000 /* so that a refusing server is not hammered */
#define TICK_MS 10
#define DRAIN_S 10      /* how long deliveries may take after the last post */
#define MESSAGES_MAX 10 /* diagnostics of one kind printed before going quiet */
#define BODY_TEXT_LEN 300
#define MARK_DIGITS_MAX 9

enum phase { PH_CONNECT, PH_HOLD, PH_SETTLE, PH_POST, PH_DRAIN, PH_DONE };

enum sub_state { SUB_NEW, SUB_STATUS, SUB_HEADERS, SUB_BODY, SUB_RETRY, SUB_FAILED, SUB_DROPPED };

enum chunk_state { CH_SIZE, CH_DATA, CH_DATA_END, CH_TRAILER };

enum sse_line { LN_START, LN_NAME, LN_VALUE_START, LN_VALUE, LN_SKIP };

enum sse_field { FLD_OTHER, FLD_EVENT, FLD_DATA };

enum note_kind { NOTE_SUB_FAILED, NOTE_SUB_DROPPED, NOTE_POST_FAILED, NOTE_KINDS };

enum poster_state { P_IDLE, P_STATUS, P_HEADERS, P_BODY_LEN, P_BODY_CHUNKED, P_BODY_CLOSE };

/* Where a chunked body stands between two reads. */
struct chunker {
    uint64_t left; /* bytes of the current chunk not read yet */
    uint8_t state;
};

/*
 * The SSE parser's state: the current line's field (its name and, for
 * "event", its value are kept only as long as they could still match) and
 * the current event's type and bench mark.
 */
struct sse {
    uint32_t mark; /* digits after "bench-mark " read so far */
    uint8_t line;
    uint8_t field;
    uint8_t after_cr; /* a '\n' right after '\r' ends no second line */
    uint8_t name_len; /* length of the field name, capped at 255 */
    uint8_t val_len;  /* length of the event value, capped at 255 */
    uint8_t match;    /* bytes of "bench-mark " matched */
    uint8_t digits;
    uint8_t is_post;    /* the event's type is post.created */
    uint8_t mark_found; /* mark holds the event's bench mark */
    char name[5];
    char val[12];
};

struct sub {
    struct bufferevent *bev;
    struct chunker ch;
    struct sse sse;
    uint32_t received; /* distinct bench posts received */
    uint16_t status;
    uint8_t state;
    uint8_t retries;
    bool connected; /* TCP connect finished */
    bool got_bytes; /* the server has answered something */
    bool chunked;
};

/* One keep-alive connection that carries posts, one at a time. */
struct poster {
    struct bufferevent *bev;
    struct poster *next;
    int post;    /* index of the post whose answer is awaited, or -1 */
    int pending; /* index of the post to write once connected, or -1 */
    int status;
    int minor; /* HTTP/1.<minor> of the answer */
    int64_t length;
    struct chunker ch;
    uint8_t state;
    bool connected;
    bool chunked;
    bool close_after;
};

static struct {
    /* options */
    const char *host;
    int port;
    long long thread;
    const char *tokens_path;
    int nsubs;
    int nposts;
    int interval_ms;
    int connect_rate;
    int settle_ms;
    int hold_s;
    int timeout_s;

    struct sockaddr_storage addr;
    socklen_t addrlen;
    char hostport[300];
    char **tokens;
    size_t ntokens;
    char padding[BODY_TEXT_LEN];

    struct event_base *base;
    struct event *tick_ev;
    struct event *post_ev;
    struct event *phase_ev;
    enum phase phase;

    struct sub *subs;
    int next_sub;
    int *retry_q; /* ring of subscribers waiting to reconnect */
    int64_t *retry_due;
    int retry_head;
    int retry_count;
    int connected;
    int failed;
    int dropped;
    int live_incomplete; /* streams still open that miss some post */
    int64_t connect_start_us;

    int64_t *lat;     /* nsubs * nposts latencies in µs, -1 until delivered */
    int64_t *sent_us; /* per post, -1 until written */
    int64_t now;      /* receive time of the bytes being parsed */
    long long deliveries;
    long long duplicates;
    long long unexpected; /* marks of posts not sent by this run (yet) */

    struct poster *posters;
    int next_post;
    int posts_sent;
    int posts_ok;
    int posts_failed;
    int posts_outstanding;
    int64_t last_post_us;

    int messages[NOTE_KINDS]; /* diagnostics printed, by enum note_kind */
} bench;

static const char mark_pat[] = "bench-mark ";
#define MARK_LEN (sizeof(mark_pat) - 1)

static void maybe_finish(void);
static void check_all_resolved(void);

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Prints a diagnostic on stderr, at most MESSAGES_MAX of each kind. */
__attribute__((format(printf, 2, 3))) static void note(enum note_kind kind, const char *fmt, ...)
{
    va_list ap;
    if (bench.messages[kind] > MESSAGES_MAX)
        return;
    if (bench.messages[kind]++ == MESSAGES_MAX) {
        fputs("bench-sse-load: further messages of this kind suppressed\n", stderr);
        return;
    }
    fputs("bench-sse-load: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static const char *socket_error(short what)
{
    if (what & BEV_EVENT_TIMEOUT)
        return "timed out";
    if (what & BEV_EVENT_EOF)
        return "closed by server";
    return evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR());
}

/* ---- HTTP parsing, shared by subscribers and posters ---- */

/*
 * Moves one line (without its "\r\n" or "\n") from in into buf, truncated to
 * cap - 1 bytes. Returns 1 for a line, 0 when none is complete yet, -1 when
 * LINE_LIMIT bytes came without an end of line.
 */
static int read_line(struct evbuffer *in, char *buf, size_t cap)
{
    size_t eol_len = 0;
    struct evbuffer_ptr pos = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_CRLF);
    if (pos.pos < 0)
        return evbuffer_get_length(in) > LINE_LIMIT ? -1 : 0;
    size_t len = (size_t)pos.pos;
    size_t copy = len < cap - 1 ? len : cap - 1;
    evbuffer_copyout(in, buf, copy);
    buf[copy] = '\0';
    evbuffer_drain(in, len + eol_len);
    return 1;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* "HTTP/1.x NNN reason" */
static int parse_status(const char *line, int *status, int *minor)
{
    if (strncmp(line, "HTTP/1.", 7) != 0 || !is_digit(line[7]) || line[8] != ' ')
        return -1;
    for (int i = 9; i < 12; i++)
        if (!is_digit(line[i]))
            return -1;
    if (line[12] != ' ' && line[12] != '\0')
        return -1;
    *status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    if (minor)
        *minor = line[7] - '0';
    return 0;
}

static bool contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return true;
    return false;
}

/* Notes the framing headers of an answer; any out pointer may be NULL. */
static void parse_header(const char *line, bool *chunked, bool *close_after, int64_t *length)
{
    if (chunked && strncasecmp(line, "transfer-encoding:", 18) == 0)
        *chunked = contains_nocase(line + 18, "chunked");
    else if (close_after && strncasecmp(line, "connection:", 11) == 0)
        *close_after = contains_nocase(line + 11, "close");
    else if (length && strncasecmp(line, "content-length:", 15) == 0) {
        const char *p = line + 15;
        int64_t v = 0;
        while (*p == ' ' || *p == '\t')
            p++;
        if (!is_digit(*p))
            return;
        for (; is_digit(*p) && v < INT64_MAX / 10 - 9; p++)
            v = v * 10 + (*p - '0');
        *length = v;
    }
}

static int parse_hex(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    int n = 0;
    while (*s == ' ' || *s == '\t')
        s++;
    for (;; s++, n++) {
        int d;
        if (*s >= '0' && *s <= '9')
            d = *s - '0';
        else if (*s >= 'a' && *s <= 'f')
            d = *s - 'a' + 10;
        else if (*s >= 'A' && *s <= 'F')
            d = *s - 'A' + 10;
        else
            break;
        if (n == 15)
            return -1;
        v = v * 16 + (uint64_t)d;
    }
    if (n == 0 || (*s != '\0' && *s != ';' && *s != ' ' && *s != '\t'))
        return -1;
    *out = v;
    return 0;
}

typedef void (*sink_fn)(void *arg, const char *p, size_t n);

/* Hands the first len bytes of in to sink (NULL: discards them) and drains them. */
static void feed(struct evbuffer *in, size_t len, sink_fn sink, void *arg)
{
    struct evbuffer_iovec v[16];
    while (len > 0) {
        int nv = evbuffer_peek(in, (ev_ssize_t)len, NULL, v, 16);
        size_t done = 0;
        if (nv <= 0)
            break;
        if (nv > 16)
            nv = 16;
        for (int i = 0; i < nv && done < len; i++) {
            size_t l = v[i].iov_len < len - done ? v[i].iov_len : len - done;
            if (sink)
                sink(arg, (const char *)v[i].iov_base, l);
            done += l;
        }
        evbuffer_drain(in, done);
        len -= done;
    }
}

/*
 * De-chunks what in holds into sink. Returns 0 when it needs more bytes, 1
 * once the last chunk and the trailers are consumed, -1 on a framing error.
 */
static int dechunk(struct chunker *ch, struct evbuffer *in, sink_fn sink, void *arg)
{
    char line[64];
    for (;;) {
        int r;
        switch (ch->state) {
        case CH_SIZE:
            if ((r = read_line(in, line, sizeof(line))) <= 0)
                return r;
            if (parse_hex(line, &ch->left) < 0)
                return -1;
            ch->state = ch->left == 0 ? CH_TRAILER : CH_DATA;
            break;
        case CH_DATA: {
            size_t avail = evbuffer_get_length(in);
            size_t n = avail < ch->left ? avail : (size_t)ch->left;
            if (n == 0)
                return 0;
            feed(in, n, sink, arg);
            ch->left -= n;
            if (ch->left == 0)
                ch->state = CH_DATA_END;
            break;
        }
        case CH_DATA_END:
            if ((r = read_line(in, line, sizeof(line))) <= 0)
                return r;
            if (line[0] != '\0')
                return -1;
            ch->state = CH_SIZE;
            break;
        default: /* CH_TRAILER */
            if ((r = read_line(in, line, sizeof(line))) <= 0)
                return r;
            if (line[0] == '\0') {
                ch->state = CH_SIZE;
                return 1;
            }
            break;
        }
    }
}

/* ---- Server-Sent Events ---- */

static void record(struct sub *s, uint32_t mark)
{
    if (mark < 1 || mark > (uint32_t)bench.nposts || bench.sent_us[mark - 1] < 0) {
        bench.unexpected++;
        return;
    }
    size_t i = (size_t)(s - bench.subs) * (size_t)bench.nposts + (mark - 1);
    if (bench.lat[i] >= 0) {
        bench.duplicates++;
        return;
    }
    int64_t l = bench.now - bench.sent_us[mark - 1];
    bench.lat[i] = l > 0 ? l : 0;
    bench.deliveries++;
    if (++s->received == (uint32_t)bench.nposts) {
        bench.live_incomplete--;
        maybe_finish();
    }
}

static void sse_reset_match(struct sse *e)
{
    e->match = 0;
    e->digits = 0;
    e->mark = 0;
}

/* One byte of a data field's value: looks for "bench-mark <digits>". */
static void sse_data_byte(struct sse *e, char c)
{
    if (e->match == MARK_LEN) {
        if (is_digit(c) && e->digits < MARK_DIGITS_MAX) {
            e->mark = e->mark * 10 + (uint32_t)(c - '0');
            e->digits++;
            return;
        }
        if (!is_digit(c) && e->digits > 0) {
            e->mark_found = 1;
            e->line = LN_SKIP;
            return;
        }
        sse_reset_match(e);
    }
    /* no byte of the pattern repeats, so a mismatch can only restart it */
    if (c == mark_pat[e->match])
        e->match++;
    else
        e->match = c == mark_pat[0];
}

static void sse_end_line(struct sub *s)
{
    struct sse *e = &s->sse;
    switch (e->line) {
    case LN_START: /* a blank line dispatches the event */
        if (e->is_post && e->mark_found)
            record(s, e->mark);
        e->is_post = 0;
        e->mark_found = 0;
        sse_reset_match(e);
        break;
    case LN_NAME: /* a name alone: the value is empty */
        if (e->name_len == 5 && memcmp(e->name, "event", 5) == 0)
            e->is_post = 0;
        break;
    case LN_VALUE_START:
    case LN_VALUE:
        if (e->field == FLD_EVENT)
            e->is_post = e->val_len == 12 && memcmp(e->val, "post.created", 12) == 0;
        else if (e->field == FLD_DATA && !e->mark_found) {
            if (e->match == MARK_LEN && e->digits > 0)
                e->mark_found = 1;
            else
                sse_reset_match(e);
        }
        break;
    default:
        break;
    }
    e->line = LN_START;
    e->field = FLD_OTHER;
    e->name_len = 0;
    e->val_len = 0;
}

/* Parses a piece of the event stream of subscriber arg. */
static void sse_feed(void *arg, const char *p, size_t n)
{
    struct sub *s = arg;
    struct sse *e = &s->sse;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (e->after_cr) {
            e->after_cr = 0;
            if (c == '\n')
                continue;
        }
        if (c == '\r' || c == '\n') {
            sse_end_line(s);
            e->after_cr = c == '\r';
            continue;
        }
        if (e->line == LN_SKIP) {
            while (i + 1 < n && p[i + 1] != '\n' && p[i + 1] != '\r')
                i++;
            continue;
        }
        if (e->line == LN_START) {
            if (c == ':') { /* a comment, such as a heartbeat */
                e->line = LN_SKIP;
                continue;
            }
            e->line = LN_NAME;
        }
        if (e->line == LN_NAME) {
            if (c != ':') {
                if (e->name_len < sizeof(e->name))
                    e->name[e->name_len] = c;
                if (e->name_len < 255)
                    e->name_len++;
                continue;
            }
            if (e->name_len == 5 && memcmp(e->name, "event", 5) == 0)
                e->field = FLD_EVENT;
            else if (e->name_len == 4 && memcmp(e->name, "data", 4) == 0)
                e->field = FLD_DATA;
            else
                e->field = FLD_OTHER;
            e->line = e->field == FLD_OTHER ? LN_SKIP : LN_VALUE_START;
            if (e->field == FLD_DATA && e->mark_found)
                e->line = LN_SKIP;
            continue;
        }
        if (e->line == LN_VALUE_START) {
            e->line = LN_VALUE;
            if (c == ' ')
                continue;
        }
        if (e->field == FLD_EVENT) {
            if (e->val_len < sizeof(e->val))
                e->val[e->val_len] = c;
            if (e->val_len < 255)
                e->val_len++;
        } else {
            sse_data_byte(e, c);
        }
    }
}

/* ---- subscribers ---- */

static void sub_close(struct sub *s)
{
    if (s->bev) {
        bufferevent_free(s->bev);
        s->bev = NULL;
    }
}

static void sub_fail(struct sub *s, const char *why)
{
    note(NOTE_SUB_FAILED, "subscriber %d failed: %s", (int)(s - bench.subs), why);
    sub_close(s);
    s->state = SUB_FAILED;
    bench.failed++;
    check_all_resolved();
}

static void sub_retry_or_fail(struct sub *s, const char *why)
{
    if (s->retries >= RETRY_MAX) {
        sub_fail(s, why);
        return;
    }
    s->retries++;
    sub_close(s);
    s->state = SUB_RETRY;
    int slot = (bench.retry_head + bench.retry_count++) % bench.nsubs;
    bench.retry_q[slot] = (int)(s - bench.subs);
    bench.retry_due[slot] = now_us() + RETRY_DELAY_US;
}

/* A stream that had started was closed by the server (or broke). */
static void sub_drop(struct sub *s, const char *why)
{
    if (bench.phase == PH_DONE)
        return;
    note(NOTE_SUB_DROPPED, "subscriber %d dropped: %s", (int)(s - bench.subs), why);
    sub_close(s);
    s->state = SUB_DROPPED;
    bench.dropped++;
    if (bench.nposts > 0 && s->received < (uint32_t)bench.nposts) {
        bench.live_incomplete--;
        maybe_finish();
    }
}

static void sub_headers_done(struct sub *s)
{
    s->state = SUB_BODY;
    bufferevent_set_timeouts(s->bev, NULL, NULL);
    bench.connected++;
    if (bench.nposts > 0)
        bench.live_incomplete++;
    check_all_resolved();
}

static void sub_read_cb(struct bufferevent *bev, void *arg)
{
    struct sub *s = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    char line[1024];
    int r, status;

    bench.now = now_us();
    s->got_bytes = true;
    while (s->state == SUB_STATUS || s->state == SUB_HEADERS) {
        if ((r = read_line(in, line, sizeof(line))) == 0)
            return;
        if (r < 0) {
            sub_fail(s, "answer header line too long");
            return;
        }
        if (s->state == SUB_STATUS) {
            if (parse_status(line, &status, NULL) < 0) {
                sub_fail(s, "malformed status line");
                return;
            }
            s->status = (uint16_t)status;
            s->chunked = false;
            s->state = SUB_HEADERS;
        } else if (line[0] != '\0') {
            parse_header(line, &s->chunked, NULL, NULL);
        } else if (s->status >= 100 && s->status < 200) {
            s->state = SUB_STATUS; /* an interim answer */
        } else if (s->status != 200) {
            char why[64];
            snprintf(why, sizeof(why), "status %d", s->status);
            sub_fail(s, why);
            return;
        } else {
            sub_headers_done(s);
        }
    }
    if (s->state != SUB_BODY)
        return;
    if (s->chunked) {
        if ((r = dechunk(&s->ch, in, sse_feed, s)) != 0)
            sub_drop(s, r > 0 ? "stream ended" : "malformed chunk");
    } else {
        feed(in, evbuffer_get_length(in), sse_feed, s);
    }
}

static void sub_event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct sub *s = arg;
    (void)bev;
    if (what & BEV_EVENT_CONNECTED) {
        s->connected = true;
        return;
    }
    const char *why = socket_error(what);
    if (s->state == SUB_BODY)
        sub_drop(s, why);
    else if (!s->connected || (!s->got_bytes && !(what & BEV_EVENT_TIMEOUT)))
        sub_retry_or_fail(s, why); /* refused, or reset before a word */
    else
        sub_fail(s, why);
}

static int open_socket(void)
{
    int fd = socket(bench.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

static void sub_start(struct sub *s)
{
    struct timeval tv = {bench.timeout_s, 0};
    int fd = open_socket();
    if (fd < 0) {
        sub_retry_or_fail(s, strerror(errno));
        return;
    }
    s->bev = bufferevent_socket_new(bench.base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!s->bev) {
        close(fd);
        sub_retry_or_fail(s, "could not create bufferevent");
        return;
    }
    s->state = SUB_STATUS;
    s->connected = false;
    s->got_bytes = false;
    s->chunked = false;
    memset(&s->ch, 0, sizeof(s->ch));
    memset(&s->sse, 0, sizeof(s->sse));
    bufferevent_setcb(s->bev, sub_read_cb, NULL, sub_event_cb, s);
    bufferevent_set_timeouts(s->bev, &tv, &tv);
    evbuffer_add_printf(bufferevent_get_output(s->bev),
                        "GET /api/v1/events?thread=%lld HTTP/1.1\r\n"
                        "Host: %s\r\n"
                        "Authorization: Bearer %s\r\n"
                        "Accept: text/event-stream\r\n"
                        "\r\n",
                        bench.thread, bench.hostport,
                        bench.tokens[(size_t)(s - bench.subs) % bench.ntokens]);
    bufferevent_enable(s->bev, EV_READ | EV_WRITE);
    if (bufferevent_socket_connect(s->bev, (struct sockaddr *)&bench.addr, (int)bench.addrlen) < 0)
        sub_retry_or_fail(s, strerror(errno));
}

/* Every TICK_MS: opens at most --connect-rate connections, retries first. */
static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    int budget = bench.connect_rate;
    int64_t now = now_us();
    (void)fd;
    (void)what;
    (void)arg;
    while (budget > 0 && bench.retry_count > 0 && bench.retry_due[bench.retry_head] <= now) {
        int i = bench.retry_q[bench.retry_head];
        bench.retry_head = (bench.retry_head + 1) % bench.nsubs;
        bench.retry_count--;
        sub_start(&bench.subs[i]);
        budget--;
    }
    while (budget > 0 && bench.next_sub < bench.nsubs && bench.phase == PH_CONNECT) {
        sub_start(&bench.subs[bench.next_sub++]);
        budget--;
    }
}

/* ---- posts ---- */

static void post_result(int k, int status, const char *why)
{
    bench.posts_outstanding--;
    if (status == 201 && !why) {
        bench.posts_ok++;
    } else {
        bench.posts_failed++;
        if (why)
            note(NOTE_POST_FAILED, "post %d failed: %s", k + 1, why);
        else
            note(NOTE_POST_FAILED, "post %d failed: status %d", k + 1, status);
    }
    maybe_finish();
}

static void poster_free(struct poster *p)
{
    struct poster **pp = &bench.posters;
    while (*pp && *pp != p)
        pp = &(*pp)->next;
    if (*pp)
        *pp = p->next;
    bufferevent_free(p->bev);
    free(p);
}

/* The connection is unusable: fails what it carries and frees it. */
static void poster_broken(struct poster *p, const char *why)
{
    int post = p->post, pending = p->pending;
    poster_free(p);
    if (post >= 0)
        post_result(post, 0, why);
    if (pending >= 0)
        post_result(pending, 0, why);
}

static void poster_answered(struct poster *p)
{
    int post = p->post, status = p->status;
    p->post = -1;
    p->state = P_IDLE;
    if (p->close_after)
        poster_free(p);
    else
        evbuffer_drain(bufferevent_get_input(p->bev),
                       evbuffer_get_length(bufferevent_get_input(p->bev)));
    post_result(post, status, NULL);
}

/* Writes post k now, so that its send time is when it reaches the kernel. */
static void poster_write(struct poster *p, int k)
{
    struct evbuffer *out = bufferevent_get_output(p->bev);
    char body[BODY_TEXT_LEN + 64];
    int len = snprintf(body, sizeof(body), "{\"body\":\"bench-mark %d %s\"}", k + 1, bench.padding);
    evbuffer_add_printf(out,
                        "POST /api/v1/threads/%lld/posts HTTP/1.1\r\n"
                        "Host: %s\r\n"
                        "Authorization: Bearer %s\r\n"
                        "Content-Type: application/json\r\n"
                        "Accept: application/json\r\n"
                        "Content-Length: %d\r\n"
                        "\r\n"
                        "%s",
                        bench.thread, bench.hostport, bench.tokens[0], len, body);
    p->post = k;
    p->state = P_STATUS;
    bench.sent_us[k] = now_us();
    evbuffer_write(out, bufferevent_getfd(p->bev)); /* the rest, if any, goes later */
}

static void poster_read_cb(struct bufferevent *bev, void *arg)
{
    struct poster *p = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    char line[1024];
    int r;

    while (p->state == P_STATUS || p->state == P_HEADERS) {
        if ((r = read_line(in, line, sizeof(line))) == 0)
            return;
        if (r < 0) {
            poster_broken(p, "answer header line too long");
            return;
        }
        if (p->state == P_STATUS) {
            if (parse_status(line, &p->status, &p->minor) < 0) {
                poster_broken(p, "malformed status line");
                return;
            }
            p->chunked = false;
            p->close_after = p->minor == 0;
            p->length = -1;
            p->state = P_HEADERS;
        } else if (line[0] != '\0') {
            parse_header(line, &p->chunked, &p->close_after, &p->length);
        } else if (p->status >= 100 && p->status < 200) {
            p->state = P_STATUS;
        } else if (p->status == 204 || p->status == 304 || (!p->chunked && p->length == 0)) {
            poster_answered(p);
            return;
        } else if (p->chunked) {
            memset(&p->ch, 0, sizeof(p->ch));
            p->state = P_BODY_CHUNKED;
        } else if (p->length > 0) {
            p->state = P_BODY_LEN;
        } else {
            p->state = P_BODY_CLOSE;
            p->close_after = true;
        }
    }
    switch (p->state) {
    case P_BODY_LEN: {
        size_t avail = evbuffer_get_length(in);
        size_t n = (uint64_t)p->length < avail ? (size_t)p->length : avail;
        evbuffer_drain(in, n);
        p->length -= (int64_t)n;
        if (p->length == 0)
            poster_answered(p);
        break;
    }
    case P_BODY_CHUNKED:
        if ((r = dechunk(&p->ch, in, NULL, NULL)) < 0)
            poster_broken(p, "malformed chunk");
        else if (r > 0)
            poster_answered(p);
        break;
    default: /* P_BODY_CLOSE ends at EOF; P_IDLE expects nothing */
        evbuffer_drain(in, evbuffer_get_length(in));
        break;
    }
}

static void poster_event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct poster *p = arg;
    (void)bev;
    if (what & BEV_EVENT_CONNECTED) {
        int k = p->pending;
        p->connected = true;
        if (k >= 0) {
            p->pending = -1;
            poster_write(p, k);
        }
        return;
    }
    if ((what & BEV_EVENT_EOF) && p->state == P_BODY_CLOSE)
        poster_answered(p);
    else
        poster_broken(p, socket_error(what));
}

static struct poster *poster_new(void)
{
    struct poster *p = calloc(1, sizeof(*p));
    int fd = open_socket();
    if (!p || fd < 0) {
        note(NOTE_POST_FAILED, "could not open a post connection: %s", strerror(errno));
        goto fail;
    }
    p->post = -1;
    p->pending = -1;
    p->bev = bufferevent_socket_new(bench.base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!p->bev)
        goto fail;
    fd = -1;
    bufferevent_setcb(p->bev, poster_read_cb, NULL, poster_event_cb, p);
    bufferevent_enable(p->bev, EV_READ | EV_WRITE);
    if (bufferevent_socket_connect(p->bev, (struct sockaddr *)&bench.addr, (int)bench.addrlen) <
        0) {
        note(NOTE_POST_FAILED, "could not connect a post connection: %s", strerror(errno));
        goto fail;
    }
    p->next = bench.posters;
    bench.posters = p;
    return p;
fail:
    if (fd >= 0)
        close(fd);
    if (p && p->bev)
        bufferevent_free(p->bev);
    free(p);
    return NULL;
}

static void send_post(int k)
{
    struct poster *p, *connecting = NULL;
    for (p = bench.posters; p; p = p->next) {
        if (p->post >= 0 || p->pending >= 0)
            continue;
        if (p->connected) {
            poster_write(p, k);
            return;
        }
        connecting = p;
    }
    p = connecting ? connecting : poster_new();
    if (p)
        p->pending = k;
    else
        post_result(k, 0, "no connection");
}

static void post_tick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    if (bench.next_post >= bench.nposts)
        return;
    int k = bench.next_post++;
    bench.posts_sent++;
    bench.posts_outstanding++;
    if (bench.next_post == bench.nposts) {
        struct timeval drain = {DRAIN_S, 0};
        event_del(bench.post_ev);
        bench.phase = PH_DRAIN;
        bench.last_post_us = now_us();
        evtimer_add(bench.phase_ev, &drain);
    }
    send_post(k);
    maybe_finish();
}

/* ---- phases ---- */

static void finish(void)
{
    if (bench.phase == PH_DONE)
        return;
    bench.phase = PH_DONE;
    event_base_loopexit(bench.base, NULL);
}

static void maybe_finish(void)
{
    if (bench.phase == PH_DRAIN && bench.posts_outstanding == 0 && bench.posts_failed == 0 &&
        bench.live_incomplete == 0)
        finish();
}

static void start_posting(void)
{
    bench.phase = PH_POST;
    fprintf(stderr, "bench-sse-load: sending %d posts, one every %d ms\n", bench.nposts,
            bench.interval_ms);
    if (bench.nposts == 0) {
        bench.phase = PH_DRAIN;
        maybe_finish();
        return;
    }
    struct timeval iv = {bench.interval_ms / 1000, (bench.interval_ms % 1000) * 1000};
    event_add(bench.post_ev, &iv);
    post_tick_cb(-1, 0, NULL);
}

static void start_settle(void)
{
    struct timeval tv = {bench.settle_ms / 1000, (bench.settle_ms % 1000) * 1000};
    bench.phase = PH_SETTLE;
    poster_new(); /* connected ahead, so that the first post does not wait for it */
    evtimer_add(bench.phase_ev, &tv);
}

static void phase_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    if (bench.phase == PH_HOLD)
        start_settle();
    else if (bench.phase == PH_SETTLE)
        start_posting();
    else if (bench.phase == PH_DRAIN)
        finish();
}

static void check_all_resolved(void)
{
    if (bench.phase != PH_CONNECT || bench.connected + bench.failed < bench.nsubs)
        return;
    event_del(bench.tick_ev);
    fprintf(stderr, "bench-sse-load: %d of %d subscribers connected in %.1f ms, %d failed\n",
            bench.connected, bench.nsubs, (double)(now_us() - bench.connect_start_us) / 1000.0,
            bench.failed);
    if (bench.hold_s > 0) {
        struct timeval tv = {bench.hold_s, 0};
        bench.phase = PH_HOLD;
        fputs("holding\n", stderr);
        fflush(stdout);
        fflush(stderr);
        evtimer_add(bench.phase_ev, &tv);
    } else {
        start_settle();
    }
}

/* ---- setup and summary ---- */

static void usage(void)
{
    fputs("usage: bench-sse-load --port P --thread T --tokens FILE --subscribers N\n"
          "           --posts K --interval-ms I [--host 127.0.0.1] [--connect-rate R]\n"
          "           [--settle-ms S] [--hold-s H] [--timeout-s W]\n",
          stderr);
}

static int parse_int(const char *s, long long min, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int read_tokens(const char *path)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0, alloc = 0;
    ssize_t n;
    int rc = -1;
    if (!f) {
        fprintf(stderr, "bench-sse-load: could not open %s: %s\n", path, strerror(errno));
        return -1;
    }
    while ((n = getline(&line, &cap, f)) >= 0) {
        char *p = line;
        while (n > 0 &&
               (p[n - 1] == '\n' || p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t'))
            p[--n] = '\0';
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0')
            continue;
        if (bench.ntokens == alloc) {
            size_t grown = alloc ? alloc * 2 : 64;
            char **t = realloc(bench.tokens, grown * sizeof(*t));
            if (!t)
                goto out;
            bench.tokens = t;
            alloc = grown;
        }
        if (!(bench.tokens[bench.ntokens] = strdup(p)))
            goto out;
        bench.ntokens++;
    }
    if (bench.ntokens == 0) {
        fprintf(stderr, "bench-sse-load: no tokens in %s\n", path);
        goto out;
    }
    rc = 0;
out:
    free(line);
    fclose(f);
    return rc;
}

static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t want = rl.rlim_max;
        rl.rlim_cur = want;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            fprintf(stderr, "bench-sse-load: could not raise the file limit: %s\n",
                    strerror(errno));
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)bench.nsubs + 32)
        fprintf(stderr, "bench-sse-load: only %llu file descriptors for %d subscribers\n",
                (unsigned long long)rl.rlim_cur, bench.nsubs);
}

static int resolve(void)
{
    struct addrinfo hints, *res = NULL;
    char port[16];
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    snprintf(port, sizeof(port), "%d", bench.port);
    int r = getaddrinfo(bench.host, port, &hints, &res);
    if (r != 0) {
        fprintf(stderr, "bench-sse-load: could not resolve %s: %s\n", bench.host, gai_strerror(r));
        return -1;
    }
    memcpy(&bench.addr, res->ai_addr, res->ai_addrlen);
    bench.addrlen = res->ai_addrlen;
    freeaddrinfo(res);
    snprintf(bench.hostport, sizeof(bench.hostport), strchr(bench.host, ':') ? "[%s]:%d" : "%s:%d",
             bench.host, bench.port);
    return 0;
}

static void make_padding(void)
{
    static const char *const words[] = {
        "lorem",  "ipsum",  "dolor",  "sit",     "amet",         "consectetur", "adipiscing",
        "elit",   "sed",    "do",     "eiusmod", "tempor",       "incididunt",  "ut",
        "labore", "et",     "dolore", "magna",   "aliqua",       "enim",        "ad",
        "minim",  "veniam", "quis",   "nostrud", "exercitation", "ullamco",     "laboris",
    };
    size_t target = BODY_TEXT_LEN - sizeof("bench-mark 1000 ") + 1, len = 0;
    for (size_t i = 0; len < target; i++) {
        const char *w = words[i % (sizeof(words) / sizeof(words[0]))];
        int n =
            snprintf(bench.padding + len, sizeof(bench.padding) - len, "%s%s", len ? " " : "", w);
        if (n < 0 || (size_t)n >= sizeof(bench.padding) - len)
            break;
        len += (size_t)n;
    }
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static double percentile_ms(const int64_t *v, size_t n, int p)
{
    if (n == 0)
        return 0.0;
    size_t rank = ((size_t)p * n + 99) / 100; /* nearest rank */
    return (double)v[rank > 0 ? rank - 1 : 0] / 1000.0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"port", required_argument, NULL, 'p'},
        {"thread", required_argument, NULL, 't'},
        {"tokens", required_argument, NULL, 'f'},
        {"subscribers", required_argument, NULL, 'n'},
        {"posts", required_argument, NULL, 'k'},
        {"interval-ms", required_argument, NULL, 'i'},
        {"host", required_argument, NULL, 'h'},
        {"connect-rate", required_argument, NULL, 'r'},
        {"settle-ms", required_argument, NULL, 's'},
        {"hold-s", required_argument, NULL, 'H'},
        {"timeout-s", required_argument, NULL, 'w'},
        {"help", no_argument, NULL, '?'},
        {NULL, 0, NULL, 0},
    };
    long long v, port = -1, thread = -1, nsubs = -1, nposts = -1, interval = -1;
    long long rate = 200, settle = 1000, hold = 0, timeout = 30;
    int c, rc = 2;
    bench.host = "127.0.0.1";
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        long long *dst = NULL, min = 0, max = INT32_MAX;
        switch (c) {
        case 'p':
            dst = &port;
            min = 1;
            max = 65535;
            break;
        case 't':
            dst = &thread;
            min = 1;
            max = INT64_MAX;
            break;
        case 'f':
            bench.tokens_path = optarg;
            break;
        case 'n':
            dst = &nsubs;
            min = 1;
            max = 1000000;
            break;
        case 'k':
            dst = &nposts;
            max = 1000000;
            break;
        case 'i':
            dst = &interval;
            max = 3600000;
            break;
        case 'h':
            bench.host = optarg;
            break;
        case 'r':
            dst = &rate;
            min = 1;
            max = 1000000;
            break;
        case 's':
            dst = &settle;
            max = 3600000;
            break;
        case 'H':
            dst = &hold;
            max = 86400;
            break;
        case 'w':
            dst = &timeout;
            min = 1;
            max = 3600;
            break;
        default:
            usage();
            return 2;
        }
        if (dst) {
            if (parse_int(optarg, min, max, &v) < 0) {
                const char *name = "";
                for (const struct option *o = opts; o->name; o++)
                    if (o->val == c)
                        name = o->name;
                fprintf(stderr, "bench-sse-load: bad value for --%s: %s\n", name, optarg);
                return 2;
            }
            *dst = v;
        }
    }
    if (optind != argc || port < 0 || thread < 0 || !bench.tokens_path || nsubs < 0 || nposts < 0 ||
        interval < 0) {
        usage();
        return 2;
    }
    if ((unsigned long long)nsubs * (unsigned long long)nposts > 200000000ULL) {
        fputs("bench-sse-load: --subscribers times --posts may be at most 200000000\n", stderr);
        return 2;
    }
    bench.port = (int)port;
    bench.thread = thread;
    bench.nsubs = (int)nsubs;
    bench.nposts = (int)nposts;
    bench.interval_ms = (int)interval;
    bench.connect_rate = (int)rate;
    bench.settle_ms = (int)settle;
    bench.hold_s = (int)hold;
    bench.timeout_s = (int)timeout;

    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit();
    make_padding();
    if (read_tokens(bench.tokens_path) < 0 || resolve() < 0)
        goto out;

    size_t nlat = (size_t)bench.nsubs * (size_t)bench.nposts;
    bench.subs = calloc((size_t)bench.nsubs, sizeof(*bench.subs));
    bench.retry_q = calloc((size_t)bench.nsubs, sizeof(*bench.retry_q));
    bench.retry_due = calloc((size_t)bench.nsubs, sizeof(*bench.retry_due));
    bench.lat = malloc((nlat ? nlat : 1) * sizeof(*bench.lat));
    bench.sent_us = malloc((size_t)(bench.nposts ? bench.nposts : 1) * sizeof(*bench.sent_us));
    bench.base = event_base_new();
    if (!bench.subs || !bench.retry_q || !bench.retry_due || !bench.lat || !bench.sent_us ||
        !bench.base) {
        fputs("bench-sse-load: out of memory\n", stderr);
        goto out;
    }
    for (size_t i = 0; i < nlat; i++)
        bench.lat[i] = -1;
    for (int i = 0; i < bench.nposts; i++)
        bench.sent_us[i] = -1;
    bench.tick_ev = event_new(bench.base, -1, EV_PERSIST, tick_cb, NULL);
    bench.post_ev = event_new(bench.base, -1, EV_PERSIST, post_tick_cb, NULL);
    bench.phase_ev = evtimer_new(bench.base, phase_cb, NULL);
    if (!bench.tick_ev || !bench.post_ev || !bench.phase_ev)
        goto out;

    struct timeval tick = {0, TICK_MS * 1000};
    bench.phase = PH_CONNECT;
    bench.connect_start_us = now_us();
    event_add(bench.tick_ev, &tick);
    tick_cb(-1, 0, NULL);
    event_base_dispatch(bench.base);

    /* the latencies, gathered at the front of their array and sorted */
    size_t n = 0;
    for (size_t i = 0; i < nlat; i++)
        if (bench.lat[i] >= 0)
            bench.lat[n++] = bench.lat[i];
    qsort(bench.lat, n, sizeof(*bench.lat), cmp_i64);
    int posts_failed = bench.posts_failed + bench.posts_outstanding;
    if (bench.duplicates || bench.unexpected)
        fprintf(stderr, "bench-sse-load: ignored %lld duplicate and %lld unexpected events\n",
                bench.duplicates, bench.unexpected);
    printf("subscribers_connected %d\n", bench.connected);
    printf("subscribers_failed %d\n", bench.nsubs - bench.connected);
    printf("posts_sent %d posts_failed %d\n", bench.posts_sent, posts_failed);
    printf("deliveries %lld expected %zu\n", bench.deliveries, nlat);
    printf("latency_ms p50 %.1f p95 %.1f p99 %.1f max %.1f\n", percentile_ms(bench.lat, n, 50),
           percentile_ms(bench.lat, n, 95), percentile_ms(bench.lat, n, 99),
           percentile_ms(bench.lat, n, 100));
    printf("dropped_connections %d\n", bench.dropped);
    fflush(stdout);
    rc = (size_t)bench.deliveries == nlat && posts_failed == 0 ? 0 : 1;

out:
    for (int i = 0; bench.subs && i < bench.nsubs; i++)
        sub_close(&bench.subs[i]);
    while (bench.posters)
        poster_free(bench.posters);
    if (bench.tick_ev)
        event_free(bench.tick_ev);
    if (bench.post_ev)
        event_free(bench.post_ev);
    if (bench.phase_ev)
        event_free(bench.phase_ev);
    if (bench.base)
        event_base_free(bench.base);
    for (size_t i = 0; i < bench.ntokens; i++)
        free(bench.tokens[i]);
    free(bench.tokens);
    free(bench.subs);
    free(bench.retry_q);
    free(bench.retry_due);
    free(bench.lat);
    free(bench.sent_us);
    return rc;
}
