/*
 * config: the settings of one confer process, read from the environment
 * (CONFER_*) and overridden by command-line flags. A bad value is reported
 * in one line and the process exits with status 2 (see main.c).
 */
#ifndef CF_CONFIG_H
#define CF_CONFIG_H

#include <stddef.h>

enum cf_command {
    CF_CMD_SERVE,
    CF_CMD_MIGRATE,
    CF_CMD_HELP,
    CF_CMD_VERSION,
    CF_CMD_ADMIN_CREATE,
    CF_CMD_INVITE,
    CF_CMD_SEED_DEMO
};

/* An IPv4 or IPv6 address. */
struct cf_addr {
    int family;             /* AF_INET or AF_INET6 */
    unsigned char addr[16]; /* network order; 4 bytes used for AF_INET */
};

/* An address block: a proxy confer believes about X-Forwarded-For. */
struct cf_cidr {
    struct cf_addr net;
    int prefix; /* leading bits that must match */
};

#define CF_TRUSTED_PROXIES_MAX 32

struct cf_config {
    enum cf_command command;
    char *database_url; /* libpq connection string or URI */
    char *listen_host;  /* numeric address or name */
    int listen_port;
    char *public_url; /* e.g. https://confer.example.ca; derived from listen when unset */
    int public_https; /* public_url starts with https:// */
    int workers;      /* event-loop threads */
    int db_pool;      /* database connections per worker */
    int db_pipeline;  /* statements in flight per connection */
    int db_queue;     /* queued statements per worker before 503 */
    int db_queue_timeout_ms;
    int log_level;
    char *web_root;
    int migrate_on_start;
    int shutdown_timeout_s;
    int http_timeout_s; /* idle / read / write timeout of a client connection */
    size_t max_body;    /* API body limit (413 problem+json past it) */
    size_t max_headers;
    int rate_limits;        /* 0: every rate limit off (tests, benchmarks) */
    int session_idle_s;     /* a session unused this long ends */
    int session_max_s;      /* and none lives longer than this */
    int hash_threads;       /* argon2id threads */
    int hash_boost_ms;      /* a hash waiting this long also runs at normal priority */
    int invite_days;        /* invitation codes expire after this */
    int post_interval_s;    /* seconds between one member's posts (SPEC section 5) */
    int thread_interval_s;  /* seconds between one member's new threads */
    int flag_threshold;     /* distinct members whose flags hide a post */
    int flags_per_day;      /* flags one member may raise a day */
    int response_due_s;     /* a mentee's post unanswered this long notifies the mentors */
    int response_overdue_s; /* and this long, the network's coordinators */
    int sweep_interval_s;   /* how often the response sweep runs */
    char *smtp_url;         /* smtp://, smtp+starttls:// or smtps://; NULL: no email */
    char *smtp_ca_file;     /* CA bundle that verifies the SMTP server (default: system's) */
    char *mail_from;        /* the sender of emails */
    int outbox_timeout_s;   /* one delivery attempt's limit */
    int retry_base_s;       /* the first retry's delay, doubled each time */
    int retry_max_s;        /* the longest delay between attempts */
    int retry_attempts;     /* attempts before a delivery is given up */
    int digest_interval_s;  /* between one member's email digests */
    int sse_heartbeat_s;    /* between comments on an idle event stream */
    size_t sse_buffer;      /* bytes waiting for one event-stream client before it is dropped */
    int sse_max;            /* event streams one process holds at most */
    char *replica_url;      /* a streaming replica for reads; NULL: the primary only */
    int replica_window_s;   /* a session's reads go to the primary this long after it writes */
    struct cf_cidr trusted_proxies[CF_TRUSTED_PROXIES_MAX];
    int ntrusted_proxies; /* 0: X-Forwarded-For is never read */
    /* command-line only: confer admin create / confer invite */
    char *arg_email, *arg_name, *arg_network, *arg_role, *arg_profession;
};

/*
 * Fills cfg from the environment, then from argv. On error returns -1 and
 * writes a one-line message (without newline) into err.
 */
int cf_config_load(struct cf_config *cfg, int argc, const char *const *argv, char *err,
                   size_t errsize);
void cf_config_free(struct cf_config *cfg);

/* Parses a comma-separated list of addresses and blocks ("127.0.0.1, 10.0.0.0/8, ::1");
 * returns how many, or -1 (bad entry, or more than max). */
int cf_config_parse_cidrs(const char *s, struct cf_cidr *out, int max);

/* Parses a numeric address; an IPv4-mapped IPv6 one (a dual-stack socket's view of an
 * IPv4 peer) as IPv4. Returns 0 or -1. */
int cf_addr_parse(const char *text, struct cf_addr *out);

/* Whether the numeric address text is inside one of the blocks. */
int cf_cidr_contains(const struct cf_cidr *blocks, int n, const char *addr);

/* Parses "host:port", "[v6]:port" or ":port"; returns 0 or -1. host is cf_malloc'ed. */
int cf_config_parse_listen(const char *s, char **host, int *port);

#endif
