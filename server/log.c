/* log: JSON-lines logging on stderr; see log.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static enum cf_log_level min_level = CF_LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

int cf_log_level_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s, level_names[i]) == 0)
            return i;
    return -1;
}

void cf_log_set_level(enum cf_log_level level)
{
    min_level = level;
}

int cf_log_enabled(enum cf_log_level level)
{
    return level >= min_level;
}

size_t cf_json_escape(char *out, size_t size, const char *s)
{
    size_t o = 0;
    if (size == 0)
        return 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        char tmp[8];
        size_t n, used = 1;
        if (*p == '"' || *p == '\\') {
            tmp[0] = '\\';
            tmp[1] = (char)*p;
            n = 2;
        } else if (*p == '\n') {
            memcpy(tmp, "\\n", 2);
            n = 2;
        } else if (*p < 0x20 || *p == 0x7f) {
            n = (size_t)snprintf(tmp, sizeof(tmp), "\\u%04x", *p);
        } else {
            /* A whole UTF-8 sequence at once, so truncation never splits one. */
            n = *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3 : *p >= 0xC0 ? 2 : 1;
            for (size_t i = 1; i < n; i++)
                if (p[i] == '\0') {
                    n = i;
                    break;
                }
            memcpy(tmp, p, n);
            used = n;
        }
        if (o + n >= size)
            break;
        memcpy(out + o, tmp, n);
        o += n;
        p += used;
    }
    out[o] = '\0';
    return o;
}

void cf_time_now_rfc3339(char out[40])
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, 24, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 40 - n, ".%03uZ", (unsigned)(ts.tv_nsec / 1000000) % 1000u);
}

static void write_all(const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(STDERR_FILENO, p, len);
        if (n <= 0)
            return;
        p += n;
        len -= (size_t)n;
    }
}

static void write_line(char *buf, size_t len)
{
    buf[len++] = '\n';
    /* One write per line: lines up to PIPE_BUF stay whole even from several threads. */
    write_all(buf, len);
}

void cf_log(enum cf_log_level level, const char *fmt, ...)
{
    char msg[1024], esc[2048], line[2304], ts[40];
    if (level < min_level)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cf_json_escape(esc, sizeof(esc), msg);
    cf_time_now_rfc3339(ts);
    int n = snprintf(line, sizeof(line) - 1, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"%s\"}", ts,
                     level_names[level], esc);
    if (n < 0)
        return;
    if ((size_t)n > sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    write_line(line, (size_t)n);
}

void cf_log_access(struct cf_log_buffer *buf, const struct cf_access_entry *e)
{
    char line[1024], ts[40], route[256], rid[128], user[32];
    if (CF_LOG_INFO < min_level)
        return;
    cf_time_now_rfc3339(ts);
    cf_json_escape(route, sizeof(route), e->route ? e->route : "");
    cf_json_escape(rid, sizeof(rid), e->request_id ? e->request_id : "");
    if (e->user_id > 0)
        snprintf(user, sizeof(user), "%lld", (long long)e->user_id);
    else
        snprintf(user, sizeof(user), "null");
    int n = snprintf(line, sizeof(line) - 1,
                     "{\"ts\":\"%s\",\"level\":\"info\",\"msg\":\"request\",\"method\":\"%s\","
                     "\"route\":\"%s\",\"status\":%d,\"duration_ms\":%.3f,\"bytes\":%llu,"
                     "\"request_id\":\"%s\",\"user_id\":%s}",
                     ts, e->method, route, e->status, e->duration_ms, (unsigned long long)e->bytes,
                     rid, user);
    if (n < 0)
        return;
    if ((size_t)n > sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    if (buf == NULL) {
        write_line(line, (size_t)n);
        return;
    }
    if (buf->len + (size_t)n + 1 > sizeof(buf->data))
        cf_log_flush(buf);
    memcpy(buf->data + buf->len, line, (size_t)n);
    buf->data[buf->len + (size_t)n] = '\n';
    buf->len += (size_t)n + 1;
}

void cf_log_flush(struct cf_log_buffer *buf)
{
    write_all(buf->data, buf->len);
    buf->len = 0;
}
