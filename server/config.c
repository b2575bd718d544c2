/* config: environment and flags; see config.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "config.h"
#include "log.h"
#include "mail.h"

struct setting {
    const char *flag; /* --flag */
    const char *env;  /* CONFER_... */
    int kind;         /* 0 string, 1 integer, 2 boolean switch (flag takes no value) */
    int min, max;
};

enum {
    S_DATABASE_URL,
    S_LISTEN,
    S_PUBLIC_URL,
    S_WORKERS,
    S_DB_POOL,
    S_DB_PIPELINE,
    S_DB_QUEUE,
    S_LOG_LEVEL,
    S_WEB_ROOT,
    S_NO_MIGRATE,
    S_SHUTDOWN_TIMEOUT,
    S_HTTP_TIMEOUT,
    S_RATE_LIMITS,
    S_SESSION_IDLE,
    S_SESSION_MAX,
    S_HASH_THREADS,
    S_HASH_BOOST,
    S_INVITE_DAYS,
    S_POST_INTERVAL,
    S_THREAD_INTERVAL,
    S_FLAG_THRESHOLD,
    S_FLAGS_PER_DAY,
    S_RESPONSE_DUE,
    S_RESPONSE_OVERDUE,
    S_SWEEP_INTERVAL,
    S_SMTP_URL,
    S_SMTP_CA_FILE,
    S_MAIL_FROM,
    S_OUTBOX_TIMEOUT,
    S_RETRY_BASE,
    S_RETRY_MAX,
    S_RETRY_ATTEMPTS,
    S_DIGEST_INTERVAL,
    S_SSE_HEARTBEAT,
    S_SSE_BUFFER,
    S_SSE_MAX,
    S_REPLICA_URL,
    S_REPLICA_WINDOW,
    S_TRUSTED_PROXIES,
    S_EMAIL,
    S_NAME,
    S_NETWORK,
    S_ROLE,
    S_PROFESSION,
    S_COUNT
};

static const struct setting settings[S_COUNT] = {
    [S_DATABASE_URL] = {"--database-url", "CONFER_DATABASE_URL", 0, 0, 0},
    [S_LISTEN] = {"--listen", "CONFER_LISTEN", 0, 0, 0},
    [S_PUBLIC_URL] = {"--public-url", "CONFER_PUBLIC_URL", 0, 0, 0},
    [S_WORKERS] = {"--workers", "CONFER_WORKERS", 1, 1, 256},
    [S_DB_POOL] = {"--db-pool", "CONFER_DB_POOL", 1, 1, 64},
    [S_DB_PIPELINE] = {"--db-pipeline", "CONFER_DB_PIPELINE", 1, 1, 256},
    [S_DB_QUEUE] = {"--db-queue", "CONFER_DB_QUEUE", 1, 1, 100000},
    [S_LOG_LEVEL] = {"--log-level", "CONFER_LOG_LEVEL", 0, 0, 0},
    [S_WEB_ROOT] = {"--web-root", "CONFER_WEB_ROOT", 0, 0, 0},
    [S_NO_MIGRATE] = {"--no-migrate", "CONFER_NO_MIGRATE", 2, 0, 1},
    [S_SHUTDOWN_TIMEOUT] = {"--shutdown-timeout", "CONFER_SHUTDOWN_TIMEOUT", 1, 0, 3600},
    [S_HTTP_TIMEOUT] = {"--http-timeout", "CONFER_HTTP_TIMEOUT", 1, 1, 3600},
    [S_RATE_LIMITS] = {"--rate-limits", "CONFER_RATE_LIMITS", 3, 0, 1},
    [S_SESSION_IDLE] = {"--session-idle", "CONFER_SESSION_IDLE", 1, 1, 31536000},
    [S_SESSION_MAX] = {"--session-max-age", "CONFER_SESSION_MAX_AGE", 1, 1, 315360000},
    [S_HASH_THREADS] = {"--hash-threads", "CONFER_HASH_THREADS", 1, 1, 16},
    [S_HASH_BOOST] = {"--hash-boost-ms", "CONFER_HASH_BOOST_MS", 1, 0, 60000},
    [S_INVITE_DAYS] = {"--invite-days", "CONFER_INVITE_DAYS", 1, 1, 365},
    [S_POST_INTERVAL] = {"--post-interval", "CONFER_POST_INTERVAL", 1, 0, 3600},
    [S_THREAD_INTERVAL] = {"--thread-interval", "CONFER_THREAD_INTERVAL", 1, 0, 86400},
    [S_FLAG_THRESHOLD] = {"--flag-threshold", "CONFER_FLAG_THRESHOLD", 1, 1, 100},
    [S_FLAGS_PER_DAY] = {"--flags-per-day", "CONFER_FLAGS_PER_DAY", 1, 1, 10000},
    [S_RESPONSE_DUE] = {"--response-due", "CONFER_RESPONSE_DUE", 1, 1, 31536000},
    [S_RESPONSE_OVERDUE] = {"--response-overdue", "CONFER_RESPONSE_OVERDUE", 1, 1, 31536000},
    [S_SWEEP_INTERVAL] = {"--sweep-interval", "CONFER_SWEEP_INTERVAL", 1, 1, 86400},
    [S_SMTP_URL] = {"--smtp-url", "CONFER_SMTP_URL", 0, 0, 0},
    [S_SMTP_CA_FILE] = {"--smtp-ca-file", "CONFER_SMTP_CA_FILE", 0, 0, 0},
    [S_MAIL_FROM] = {"--mail-from", "CONFER_MAIL_FROM", 0, 0, 0},
    [S_OUTBOX_TIMEOUT] = {"--outbox-timeout", "CONFER_OUTBOX_TIMEOUT", 1, 1, 600},
    [S_RETRY_BASE] = {"--retry-base", "CONFER_RETRY_BASE", 1, 1, 86400},
    [S_RETRY_MAX] = {"--retry-max", "CONFER_RETRY_MAX", 1, 1, 86400},
    [S_RETRY_ATTEMPTS] = {"--retry-attempts", "CONFER_RETRY_ATTEMPTS", 1, 1, 100},
    [S_DIGEST_INTERVAL] = {"--digest-interval", "CONFER_DIGEST_INTERVAL", 1, 1, 604800},
    [S_SSE_HEARTBEAT] = {"--sse-heartbeat", "CONFER_SSE_HEARTBEAT", 1, 1, 3600},
    [S_SSE_BUFFER] = {"--sse-buffer", "CONFER_SSE_BUFFER", 1, 4096, 64 * 1024 * 1024},
    [S_SSE_MAX] = {"--sse-max", "CONFER_SSE_MAX", 1, 0, 1000000},
    [S_REPLICA_URL] = {"--replica-url", "CONFER_REPLICA_URL", 0, 0, 0},
    [S_REPLICA_WINDOW] = {"--replica-window", "CONFER_REPLICA_WINDOW", 1, 2, 3600},
    [S_TRUSTED_PROXIES] = {"--trusted-proxies", "CONFER_TRUSTED_PROXIES", 0, 0, 0},
    [S_EMAIL] = {"--email", NULL, 0, 0, 0},
    [S_NAME] = {"--name", NULL, 0, 0, 0},
    [S_NETWORK] = {"--network", NULL, 0, 0, 0},
    [S_ROLE] = {"--role", NULL, 0, 0, 0},
    [S_PROFESSION] = {"--profession", NULL, 0, 0, 0},
};

int cf_config_parse_listen(const char *s, char **host, int *port)
{
    const char *colon;
    const char *h = s;
    size_t hlen;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || close[1] != ':')
            return -1;
        h = s + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL)
            return -1;
        hlen = (size_t)(colon - s);
    }
    char *end;
    errno = 0;
    long p = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || errno != 0 || p < 0 || p > 65535)
        return -1;
    if (hlen == 0) {
        h = "0.0.0.0";
        hlen = strlen(h);
    }
    *host = cf_strndup(h, hlen);
    *port = (int)p;
    return 0;
}

static int parse_int(const char *s, int min, int max, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || errno != 0 || v < min || v > max)
        return -1;
    *out = (int)v;
    return 0;
}

int cf_addr_parse(const char *text, struct cf_addr *out)
{
    static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, text, out->addr) == 1) {
        out->family = AF_INET;
    } else if (inet_pton(AF_INET6, text, out->addr) == 1) {
        out->family = AF_INET6;
        if (memcmp(out->addr, v4_mapped, sizeof(v4_mapped)) == 0) {
            memmove(out->addr, out->addr + 12, 4);
            memset(out->addr + 4, 0, 12);
            out->family = AF_INET;
        }
    } else {
        return -1;
    }
    return 0;
}

static int parse_cidr(const char *s, size_t len, struct cf_cidr *out)
{
    char text[INET6_ADDRSTRLEN + 8];
    if (len == 0 || len >= sizeof(text))
        return -1;
    memcpy(text, s, len);
    text[len] = '\0';
    char *slash = strchr(text, '/');
    if (slash != NULL)
        *slash = '\0';
    if (cf_addr_parse(text, &out->net) != 0)
        return -1;
    out->prefix = out->net.family == AF_INET ? 32 : 128;
    if (slash != NULL) {
        int bits;
        if (parse_int(slash + 1, 0, out->prefix, &bits) != 0)
            return -1;
        out->prefix = bits;
    }
    return 0;
}

int cf_config_parse_cidrs(const char *s, struct cf_cidr *out, int max)
{
    int n = 0;
    while (*s != '\0') {
        while (*s == ' ' || *s == ',')
            s++;
        size_t len = strcspn(s, ", ");
        if (len == 0)
            break;
        if (n == max || parse_cidr(s, len, &out[n]) != 0)
            return -1;
        n++;
        s += len;
    }
    return n;
}

int cf_cidr_contains(const struct cf_cidr *blocks, int n, const char *addr)
{
    struct cf_addr a;
    if (cf_addr_parse(addr, &a) != 0)
        return 0;
    for (int i = 0; i < n; i++) {
        const struct cf_cidr *b = &blocks[i];
        if (b->net.family != a.family)
            continue;
        int full = b->prefix / 8, rest = b->prefix % 8;
        if (memcmp(a.addr, b->net.addr, (size_t)full) != 0)
            continue;
        if (rest == 0 || ((a.addr[full] ^ b->net.addr[full]) & (0xff << (8 - rest)) & 0xff) == 0)
            return 1;
    }
    return 0;
}

static int parse_bool(const char *s, int *out)
{
    if (!strcmp(s, "1") || !strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on")) {
        *out = 1;
        return 0;
    }
    if (!strcmp(s, "0") || !strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off")) {
        *out = 0;
        return 0;
    }
    return -1;
}

static void set_string(char **slot, const char *value)
{
    cf_free(*slot);
    *slot = cf_strdup(value);
}

/* Applies one setting; `source` names it in error messages. */
static int apply(struct cf_config *cfg, int which, const char *value, const char *source, char *err,
                 size_t errsize)
{
    const struct setting *s = &settings[which];
    int iv = 0;
    if (s->kind == 1 && parse_int(value, s->min, s->max, &iv) != 0) {
        snprintf(err, errsize, "invalid %s: '%s' (expected an integer from %d to %d)", source,
                 value, s->min, s->max);
        return -1;
    }
    if ((s->kind == 2 || s->kind == 3) && parse_bool(value, &iv) != 0) {
        snprintf(err, errsize, "invalid %s: '%s' (expected true or false)", source, value);
        return -1;
    }
    switch (which) {
    case S_DATABASE_URL:
        if (value[0] == '\0') {
            snprintf(err, errsize, "invalid %s: empty", source);
            return -1;
        }
        set_string(&cfg->database_url, value);
        break;
    case S_LISTEN: {
        char *host = NULL;
        int port;
        if (cf_config_parse_listen(value, &host, &port) != 0) {
            snprintf(err, errsize, "invalid %s: '%s' (expected host:port, e.g. 127.0.0.1:8080)",
                     source, value);
            return -1;
        }
        cf_free(cfg->listen_host);
        cfg->listen_host = host;
        cfg->listen_port = port;
        break;
    }
    case S_PUBLIC_URL:
        if (strncmp(value, "http://", 7) != 0 && strncmp(value, "https://", 8) != 0) {
            snprintf(err, errsize, "invalid %s: '%s' (expected an http:// or https:// URL)", source,
                     value);
            return -1;
        }
        set_string(&cfg->public_url, value);
        /* No trailing slash: paths are appended to it. */
        size_t len = strlen(cfg->public_url);
        while (len > 0 && cfg->public_url[len - 1] == '/')
            cfg->public_url[--len] = '\0';
        break;
    case S_WORKERS:
        cfg->workers = iv;
        break;
    case S_DB_POOL:
        cfg->db_pool = iv;
        break;
    case S_DB_PIPELINE:
        cfg->db_pipeline = iv;
        break;
    case S_DB_QUEUE:
        cfg->db_queue = iv;
        break;
    case S_LOG_LEVEL: {
        int level = cf_log_level_parse(value);
        if (level < 0) {
            snprintf(err, errsize, "invalid %s: '%s' (expected debug, info, warn or error)", source,
                     value);
            return -1;
        }
        cfg->log_level = level;
        break;
    }
    case S_WEB_ROOT:
        set_string(&cfg->web_root, value);
        break;
    case S_NO_MIGRATE:
        cfg->migrate_on_start = !iv;
        break;
    case S_SHUTDOWN_TIMEOUT:
        cfg->shutdown_timeout_s = iv;
        break;
    case S_HTTP_TIMEOUT:
        cfg->http_timeout_s = iv;
        break;
    case S_RATE_LIMITS:
        cfg->rate_limits = iv;
        break;
    case S_SESSION_IDLE:
        cfg->session_idle_s = iv;
        break;
    case S_SESSION_MAX:
        cfg->session_max_s = iv;
        break;
    case S_HASH_THREADS:
        cfg->hash_threads = iv;
        break;
    case S_HASH_BOOST:
        cfg->hash_boost_ms = iv;
        break;
    case S_INVITE_DAYS:
        cfg->invite_days = iv;
        break;
    case S_POST_INTERVAL:
        cfg->post_interval_s = iv;
        break;
    case S_THREAD_INTERVAL:
        cfg->thread_interval_s = iv;
        break;
    case S_FLAG_THRESHOLD:
        cfg->flag_threshold = iv;
        break;
    case S_FLAGS_PER_DAY:
        cfg->flags_per_day = iv;
        break;
    case S_RESPONSE_DUE:
        cfg->response_due_s = iv;
        break;
    case S_RESPONSE_OVERDUE:
        cfg->response_overdue_s = iv;
        break;
    case S_SWEEP_INTERVAL:
        cfg->sweep_interval_s = iv;
        break;
    case S_SMTP_URL:
        if (strncmp(value, "smtp://", 7) != 0 && strncmp(value, "smtps://", 8) != 0 &&
            strncmp(value, "smtp+starttls://", 16) != 0) {
            snprintf(err, errsize,
                     "invalid %s: '%s' (expected smtp://, smtp+starttls:// or smtps://host:port)",
                     source, value);
            return -1;
        }
        set_string(&cfg->smtp_url, value);
        break;
    case S_SMTP_CA_FILE:
        set_string(&cfg->smtp_ca_file, value);
        break;
    case S_MAIL_FROM:
        if (!cf_mail_address_ok(value)) {
            snprintf(err, errsize,
                     "invalid %s: '%s' (expected an address, e.g. noreply@example.ca)", source,
                     value);
            return -1;
        }
        set_string(&cfg->mail_from, value);
        break;
    case S_OUTBOX_TIMEOUT:
        cfg->outbox_timeout_s = iv;
        break;
    case S_RETRY_BASE:
        cfg->retry_base_s = iv;
        break;
    case S_RETRY_MAX:
        cfg->retry_max_s = iv;
        break;
    case S_RETRY_ATTEMPTS:
        cfg->retry_attempts = iv;
        break;
    case S_DIGEST_INTERVAL:
        cfg->digest_interval_s = iv;
        break;
    case S_SSE_HEARTBEAT:
        cfg->sse_heartbeat_s = iv;
        break;
    case S_SSE_BUFFER:
        cfg->sse_buffer = (size_t)iv;
        break;
    case S_SSE_MAX:
        cfg->sse_max = iv;
        break;
    case S_REPLICA_URL:
        if (value[0] == '\0') {
            snprintf(err, errsize, "invalid %s: empty", source);
            return -1;
        }
        set_string(&cfg->replica_url, value);
        break;
    case S_REPLICA_WINDOW:
        cfg->replica_window_s = iv;
        break;
    case S_TRUSTED_PROXIES: {
        int n = cf_config_parse_cidrs(value, cfg->trusted_proxies, CF_TRUSTED_PROXIES_MAX);
        if (n < 0) {
            snprintf(err, errsize,
                     "invalid %s: '%s' (expected addresses or blocks separated by commas, e.g. "
                     "127.0.0.1, 10.0.0.0/8; at most %d)",
                     source, value, CF_TRUSTED_PROXIES_MAX);
            return -1;
        }
        cfg->ntrusted_proxies = n;
        break;
    }
    case S_EMAIL:
        set_string(&cfg->arg_email, value);
        break;
    case S_NAME:
        set_string(&cfg->arg_name, value);
        break;
    case S_NETWORK:
        set_string(&cfg->arg_network, value);
        break;
    case S_ROLE:
        set_string(&cfg->arg_role, value);
        break;
    case S_PROFESSION:
        set_string(&cfg->arg_profession, value);
        break;
    }
    return 0;
}

static void defaults(struct cf_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->command = CF_CMD_SERVE;
    cfg->listen_host = cf_strdup("127.0.0.1");
    cfg->listen_port = 8080;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    cfg->workers = cores > 0 ? (int)(cores > 256 ? 256 : cores) : 1;
    cfg->db_pool = 1;
    cfg->db_pipeline = 16;
    cfg->db_queue = 4096;
    cfg->db_queue_timeout_ms = 5000;
    cfg->log_level = CF_LOG_INFO;
    cfg->web_root = cf_strdup("web");
    cfg->migrate_on_start = 1;
    cfg->shutdown_timeout_s = 10;
    cfg->http_timeout_s = 30;
    cfg->max_body = 1024 * 1024;
    cfg->max_headers = 16 * 1024;
    cfg->rate_limits = 1;
    cfg->session_idle_s = 14 * 24 * 3600;
    cfg->session_max_s = 90 * 24 * 3600;
    cfg->hash_threads = cores > 3 ? (int)(cores / 2) : 1;
    cfg->hash_boost_ms = 250;
    cfg->invite_days = 14;
    cfg->post_interval_s = 5;
    cfg->thread_interval_s = 15;
    cfg->flag_threshold = 3;
    cfg->flags_per_day = 20;
    cfg->response_due_s = 48 * 3600;
    cfg->response_overdue_s = 72 * 3600;
    cfg->sweep_interval_s = 60;
    cfg->outbox_timeout_s = 10;
    cfg->retry_base_s = 60;
    cfg->retry_max_s = 24 * 3600;
    cfg->retry_attempts = 16;
    cfg->digest_interval_s = 24 * 3600;
    cfg->sse_heartbeat_s = 25;
    cfg->sse_buffer = 256 * 1024;
    cfg->sse_max = 20000;
    cfg->replica_window_s = 5;
}

int cf_config_load(struct cf_config *cfg, int argc, const char *const *argv, char *err,
                   size_t errsize)
{
    defaults(cfg);
    for (int i = 0; i < S_COUNT; i++) {
        const char *v = settings[i].env ? getenv(settings[i].env) : NULL;
        if (v != NULL && apply(cfg, i, v, settings[i].env, err, errsize) != 0)
            return -1;
    }
    int have_command = 0;
    for (int a = 1; a < argc; a++) {
        const char *arg = argv[a];
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            cfg->command = CF_CMD_HELP;
            return 0;
        }
        if (!strcmp(arg, "--version")) {
            cfg->command = CF_CMD_VERSION;
            return 0;
        }
        if (arg[0] != '-') {
            if (have_command) {
                snprintf(err, errsize, "unexpected argument '%s'", arg);
                return -1;
            }
            have_command = 1;
            if (!strcmp(arg, "serve"))
                cfg->command = CF_CMD_SERVE;
            else if (!strcmp(arg, "migrate"))
                cfg->command = CF_CMD_MIGRATE;
            else if (!strcmp(arg, "invite"))
                cfg->command = CF_CMD_INVITE;
            else if (!strcmp(arg, "seed-demo"))
                cfg->command = CF_CMD_SEED_DEMO;
            else if (!strcmp(arg, "admin") && a + 1 < argc && !strcmp(argv[a + 1], "create")) {
                cfg->command = CF_CMD_ADMIN_CREATE;
                a++;
            } else {
                snprintf(err, errsize, "unknown command '%s' (see confer --help)", arg);
                return -1;
            }
            continue;
        }
        /* --flag value or --flag=value */
        const char *eq = strchr(arg, '=');
        size_t name_len = eq ? (size_t)(eq - arg) : strlen(arg);
        int which = -1;
        for (int i = 0; i < S_COUNT; i++)
            if (strlen(settings[i].flag) == name_len && !strncmp(settings[i].flag, arg, name_len))
                which = i;
        if (which < 0) {
            snprintf(err, errsize, "unknown option '%.*s' (see confer --help)", (int)name_len, arg);
            return -1;
        }
        const char *value;
        if (settings[which].kind == 2) {
            value = eq ? eq + 1 : "true";
        } else if (eq) {
            value = eq + 1;
        } else if (a + 1 < argc) {
            value = argv[++a];
        } else {
            snprintf(err, errsize, "option %s needs a value", settings[which].flag);
            return -1;
        }
        if (apply(cfg, which, value, settings[which].flag, err, errsize) != 0)
            return -1;
    }
    if (cfg->command == CF_CMD_ADMIN_CREATE && (cfg->arg_email == NULL || cfg->arg_name == NULL)) {
        snprintf(err, errsize,
                 "admin create needs --email and --name (the password is read "
                 "from standard input)");
        return -1;
    }
    if (cfg->command == CF_CMD_INVITE && (cfg->arg_email == NULL || cfg->arg_network == NULL)) {
        snprintf(err, errsize, "invite needs --email and --network (e.g. --network BC)");
        return -1;
    }
    if (cfg->session_max_s < cfg->session_idle_s)
        cfg->session_idle_s = cfg->session_max_s;
    if (cfg->command != CF_CMD_HELP && cfg->command != CF_CMD_VERSION &&
        cfg->database_url == NULL) {
        snprintf(err, errsize,
                 "no database: set CONFER_DATABASE_URL or --database-url "
                 "(e.g. postgresql://confer@127.0.0.1/confer)");
        return -1;
    }
    cfg->public_https = cfg->public_url != NULL && strncmp(cfg->public_url, "https://", 8) == 0;
    if (cfg->mail_from == NULL) {
        /* noreply@ the public host, without scheme, port or path */
        const char *host = cfg->public_url ? strstr(cfg->public_url, "://") + 3 : "localhost";
        size_t len = strcspn(host, ":/[]");
        char from[300];
        snprintf(from, sizeof(from), "noreply@%.*s", (int)(len > 0 && len < 250 ? len : 9),
                 len > 0 && len < 250 ? host : "localhost");
        cfg->mail_from = cf_strdup(from);
    }
    return 0;
}

void cf_config_free(struct cf_config *cfg)
{
    cf_free(cfg->database_url);
    cf_free(cfg->listen_host);
    cf_free(cfg->public_url);
    cf_free(cfg->web_root);
    cf_free(cfg->smtp_url);
    cf_free(cfg->replica_url);
    cf_free(cfg->smtp_ca_file);
    cf_free(cfg->mail_from);
    cf_free(cfg->arg_email);
    cf_free(cfg->arg_name);
    cf_free(cfg->arg_network);
    cf_free(cfg->arg_role);
    cf_free(cfg->arg_profession);
    memset(cfg, 0, sizeof(*cfg));
}
