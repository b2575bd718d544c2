/*
 * log: one JSON object per line on stderr, written with a single write(2)
 * so that lines from several threads never interleave. Messages follow
 * PostgreSQL's style: lower case, no final period. Never log a password,
 * a token or a post body.
 */
#ifndef CF_LOG_H
#define CF_LOG_H

#include <stdint.h>

enum cf_log_level { CF_LOG_DEBUG = 0, CF_LOG_INFO, CF_LOG_WARN, CF_LOG_ERROR };

/* Parses "debug|info|warn|error"; returns -1 for anything else. */
int cf_log_level_parse(const char *s);
void cf_log_set_level(enum cf_log_level level);
int cf_log_enabled(enum cf_log_level level);

void cf_log(enum cf_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define cf_debug(...) cf_log(CF_LOG_DEBUG, __VA_ARGS__)
#define cf_info(...) cf_log(CF_LOG_INFO, __VA_ARGS__)
#define cf_warn(...) cf_log(CF_LOG_WARN, __VA_ARGS__)
#define cf_error(...) cf_log(CF_LOG_ERROR, __VA_ARGS__)

struct cf_access_entry {
    const char *method;
    const char *route; /* the route pattern, never the raw path: it may carry a search */
    int status;
    double duration_ms;
    const char *request_id;
    int64_t user_id; /* 0: anonymous */
    uint64_t bytes;
};

/*
 * A worker's access-log buffer: lines collect here and leave in one write when
 * it fills, on the worker's 250 ms timer, and at shutdown (nginx's
 * `access_log ... buffer=`). One write per request cost a tenth of /healthz's
 * throughput. Other log lines are written at once.
 */
struct cf_log_buffer {
    size_t len;
    char data[16384];
};

/* The access-log line of one request (SPEC section 12); buf may be NULL (unbuffered). */
void cf_log_access(struct cf_log_buffer *buf, const struct cf_access_entry *e);
/* Writes out what buf holds. */
void cf_log_flush(struct cf_log_buffer *buf);

/* Appends s to out as the inside of a JSON string, escaped; returns bytes written
 * (truncating at a character boundary when out is too small). */
size_t cf_json_escape(char *out, size_t size, const char *s);

/* Formats the current UTC time as RFC 3339 with milliseconds into out[40]. */
void cf_time_now_rfc3339(char out[40]);

#endif
