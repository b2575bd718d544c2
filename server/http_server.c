/*
 * http_server: workers, listeners, request dispatch and graceful shutdown;
 * see http_server.h.
 *
 * Dispatch order for a request: request id, path normalisation, framing
 * checks (a body where none may be), query string, route (404/405), body
 * limits and JSON parsing, then the handler. Every refusal is problem+json.
 *
 * evhttp 2.1 sends its own HTML page for failures it detects before the
 * request reaches us (headers over 16 KiB, a body over the hard cap, a
 * malformed request line); the 1 MiB API limit is enforced here, below the
 * hard cap, so that clients see a problem+json 413.
 */
#include <errno.h>
#include <malloc.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>

#include "alloc.h"
#include "auth.h"
#include "db.h"
#include "password.h"
#include "http_server.h"
#include "sweep.h"
#include "log.h"
#include "request.h"
#include "routes.h"

/* evhttp's own limit: above it the connection is refused without reading
 * on (its HTML 413); it bounds the memory one connection can hold. */
#define HARD_BODY_MAX (4 * 1024 * 1024)

static int method_bit(enum evhttp_cmd_type t, const char **name)
{
    switch (t) {
    case EVHTTP_REQ_GET:
        *name = "GET";
        return CF_GET;
    case EVHTTP_REQ_HEAD:
        *name = "HEAD";
        return CF_HEAD;
    case EVHTTP_REQ_POST:
        *name = "POST";
        return CF_POST;
    case EVHTTP_REQ_PUT:
        *name = "PUT";
        return CF_PUT;
    case EVHTTP_REQ_PATCH:
        *name = "PATCH";
        return CF_PATCH;
    case EVHTTP_REQ_DELETE:
        *name = "DELETE";
        return CF_DELETE;
    case EVHTTP_REQ_OPTIONS:
        *name = "OPTIONS";
        return CF_OPTIONS;
    case EVHTTP_REQ_TRACE:
        *name = "TRACE";
        return 0;
    case EVHTTP_REQ_CONNECT:
        *name = "CONNECT";
        return 0;
    default:
        *name = "OTHER";
        return 0;
    }
}

/* Keeps a proxy's X-Request-Id when it is a plain token, else makes one. */
static void make_request_id(struct cf_worker *w, const char *incoming, char *out, size_t size)
{
    if (incoming != NULL) {
        size_t len = strlen(incoming);
        int ok = len >= 8 && len <= 40;
        for (size_t i = 0; ok && i < len; i++) {
            char c = incoming[i];
            ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_' || c == '.';
        }
        if (ok) {
            snprintf(out, size, "%s", incoming);
            return;
        }
    }
    snprintf(out, size, "%s-%x-%llx", w->server->request_id_prefix, (unsigned)w->index,
             (unsigned long long)++w->request_seq);
}

/* application/json, optionally with charset=utf-8 (any case, any spacing). */
static int is_json_type(const char *ct)
{
    static const char json[] = "application/json";
    if (ct == NULL || strncasecmp(ct, json, sizeof(json) - 1) != 0)
        return 0;
    const char *p = ct + sizeof(json) - 1;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0')
        return 1;
    if (*p != ';')
        return 0;
    p++;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0')
        return 1;
    if (strncasecmp(p, "charset=", 8) != 0)
        return 0;
    p += 8;
    if (*p == '"')
        p++;
    return strncasecmp(p, "utf-8", 5) == 0 &&
           (p[5] == '\0' || p[5] == '"' || p[5] == ' ' || p[5] == ';');
}

static int is_api_path(const char *path)
{
    return strncmp(path, "/api/", 5) == 0 || strcmp(path, "/api") == 0;
}

static void reply_allow(struct cf_request *req, int allow)
{
    char header[96];
    cf_router_allow_header(allow, header, sizeof(header));
    cf_request_add_header(req, "Allow", header);
    if (req->method == CF_OPTIONS) {
        cf_reply_empty(req, 204);
        return;
    }
    cf_reply_problem(req, 405, "method_not_allowed", "%s is not allowed here; use %s",
                     req->method_name, header);
}

/*
 * Checks and parses the body of POST, PUT and PATCH before routing, as a proxy's
 * body limit would: size (413) for every path; for API paths the media type
 * (415), UTF-8 and JSON (400 invalid_json). Replies and returns -1 on error.
 */
static int read_body(struct cf_request *req)
{
    const struct cf_config *cfg = req->worker->server->cfg;
    struct evbuffer *in = evhttp_request_get_input_buffer(req->ev);
    size_t len = evbuffer_get_length(in);
    if (len > cfg->max_body) {
        req->close_connection = 1;
        cf_reply_problem(req, 413, "payload_too_large",
                         "the request body is %zu bytes; the limit is %zu", len, cfg->max_body);
        return -1;
    }
    if (len == 0 || !is_api_path(req->path))
        return 0;
    if (!is_json_type(cf_request_header(req, "Content-Type"))) {
        cf_reply_problem(req, 415, "unsupported_media_type",
                         "send the body as application/json; charset=utf-8");
        return -1;
    }
    const char *data = (const char *)evbuffer_pullup(in, -1);
    if (!cf_utf8_valid(data, len)) {
        cf_reply_problem(req, 400, "invalid_json", "the body is not valid UTF-8");
        return -1;
    }
    json_error_t jerr;
    json_t *body = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (body == NULL) {
        cf_reply_problem(req, 400, "invalid_json", "line %d, column %d: %s", jerr.line, jerr.column,
                         jerr.text);
        return -1;
    }
    req->body = body;
    return 0;
}

/* 1 when the body's framing can be read only one way: no header name with a blank in
 * it, Content-Length only digits (repeats must agree) and, if any Transfer-Encoding,
 * exactly one, "chunked". */
static int framing_unambiguous(const struct cf_request *req)
{
    const struct evkeyvalq *headers = evhttp_request_get_input_headers(req->ev);
    const char *length = NULL;
    int codings = 0;
    for (const struct evkeyval *h = headers->tqh_first; h != NULL; h = h->next.tqe_next) {
        /* "Content-Length : 5" is another header to evhttp, not to every proxy */
        if (strpbrk(h->key, " \t") != NULL)
            return 0;
        if (strcasecmp(h->key, "Content-Length") == 0) {
            const char *v = h->value;
            if (v[0] == '\0' || v[strspn(v, "0123456789")] != '\0') /* no sign, no list */
                return 0;
            if (length != NULL && strcmp(length, v) != 0)
                return 0;
            length = v;
        } else if (strcasecmp(h->key, "Transfer-Encoding") == 0) {
            if (++codings > 1 || strcasecmp(h->value, "chunked") != 0)
                return 0;
        }
    }
    return 1;
}

/* A route that takes a JSON object refuses anything else. */
static int require_object(struct cf_request *req)
{
    if (!(req->match.route->flags & CF_ROUTE_JSON_BODY))
        return 0;
    if (req->body == NULL) {
        cf_reply_problem(req, 400, "invalid_json", "a JSON object body is required");
        return -1;
    }
    if (!json_is_object(req->body)) {
        cf_reply_problem(req, 400, "invalid_json", "the body must be a JSON object");
        return -1;
    }
    return 0;
}

static void dispatch(struct evhttp_request *evreq, void *arg)
{
    struct cf_worker *w = arg;
    struct cf_request *req = cf_calloc(1, sizeof(*req));
    clock_gettime(CLOCK_MONOTONIC, &req->start);
    req->ev = evreq;
    req->worker = w;
    w->inflight++;
    req->method = method_bit(evhttp_request_get_command(evreq), &req->method_name);
    req->metrics_slot = CF_METRICS_SLOT_UNMATCHED;
    req->route_label = "unmatched";
    make_request_id(w, cf_request_header(req, "X-Request-Id"), req->request_id,
                    sizeof(req->request_id));

    const char *target = evhttp_request_get_uri(evreq);
    const char *qmark = strchr(target, '?');
    size_t plen = qmark ? (size_t)(qmark - target) : strlen(target);
    req->path = cf_malloc(plen + 1);
    int rc = cf_path_normalize(target, plen, req->path, plen + 1);
    /* Refused before the framing is looked at: the connection closes, so that a body
     * evhttp read one way is never served as a second request. */
    if (rc == CF_URI_TRAVERSAL) {
        req->path[0] = '\0';
        req->close_connection = 1;
        cf_reply_problem(req, 404, "not_found", "no such resource");
        return;
    }
    if (rc != CF_URI_OK) {
        req->path[0] = '\0';
        req->close_connection = 1;
        cf_reply_problem(req, 400, "invalid_path", "the request path is not a valid URL path");
        return;
    }

    /* Framing: evhttp does not read a body on GET, HEAD, DELETE or OPTIONS, so one
     * sent anyway would be parsed as the next request. Refuse and close. */
    const char *cl = cf_request_header(req, "Content-Length");
    const char *te = cf_request_header(req, "Transfer-Encoding");
    if (!framing_unambiguous(req)) {
        /* two lengths, or two or unknown transfer codings: evhttp would pick one
         * reading, a proxy in front might pick another (RFC 9112 section 6) */
        req->close_connection = 1;
        cf_reply_problem(req, 400, "invalid_request",
                         "the body's length is ambiguous: send one Content-Length, or "
                         "Transfer-Encoding: chunked alone");
        return;
    }
    if (cl != NULL && te != NULL) {
        req->close_connection = 1;
        cf_reply_problem(req, 400, "invalid_request",
                         "Content-Length and Transfer-Encoding must not both be sent");
        return;
    }
    if (!(req->method & (CF_POST | CF_PUT | CF_PATCH)) &&
        (te != NULL || (cl != NULL && strcmp(cl, "0") != 0))) {
        req->close_connection = 1;
        cf_reply_problem(req, 400, "unexpected_body", "%s requests carry no body",
                         req->method_name);
        return;
    }

    rc = cf_query_parse(qmark ? qmark + 1 : NULL, &req->query);
    if (rc != CF_URI_OK) {
        cf_reply_problem(req, 400, "invalid_query", "%s",
                         rc == CF_URI_DUPLICATE  ? "a query parameter is given more than once"
                         : rc == CF_URI_TOO_MANY ? "too many query parameters"
                                                 : "the query string is not valid UTF-8 "
                                                   "form encoding");
        return;
    }

    if ((req->method & (CF_POST | CF_PUT | CF_PATCH)) && read_body(req) != 0)
        return;

    rc = cf_router_match(cf_routes, cf_routes_count, req->method, req->path, &req->match);
    if (rc == 0) {
        req->metrics_slot = req->match.index;
        req->route_label = req->match.route->pattern;
        if (require_object(req) != 0)
            return;
        if (req->match.route->auth == CF_AUTH_NONE)
            req->match.route->handler(req);
        else
            cf_auth_run(req, req->match.route->handler);
        return;
    }
    if (rc == 405) {
        reply_allow(req, req->match.allow);
        return;
    }
    if (is_api_path(req->path)) {
        cf_reply_problem(req, 404, "not_found", "no such resource");
        return;
    }
    req->metrics_slot = CF_METRICS_SLOT_STATIC;
    req->route_label = "static";
    if (req->method == CF_GET || req->method == CF_HEAD)
        cf_static_serve(req);
    else
        reply_allow(req, CF_GET | CF_HEAD | CF_OPTIONS);
}

static int drained(const struct cf_worker *w)
{
    return w->inflight == 0 && w->writing == 0 && !cf_outbox_busy(w->outbox);
}

/* Shutting down, a worker ends once nothing has been in flight for QUIET_MS: a
 * connection accepted just before the listener closed may still be sending its
 * request, which is then read and answered rather than cut off. */
#define QUIET_MS 250

void cf_worker_request_done(struct cf_worker *w)
{
    if (w->shutting_down && drained(w)) {
        struct timeval tv = {0, QUIET_MS * 1000};
        event_add(w->quiet_timer, &tv);
    }
}

static void on_quiet(evutil_socket_t fd, short what, void *arg)
{
    struct cf_worker *w = arg;
    (void)fd;
    (void)what;
    if (drained(w))
        event_base_loopexit(w->base, NULL);
}

static void on_shutdown(evutil_socket_t fd, short what, void *arg)
{
    struct cf_worker *w = arg;
    (void)fd;
    (void)what;
    if (w->shutting_down)
        return;
    w->shutting_down = 1;
    cf_sweep_stop(w->sweep);
    cf_outbox_stop(w->outbox); /* deliveries under way finish and are recorded */
    cf_live_hub_stop(w->live); /* event streams end; their clients reconnect elsewhere */
    if (w->bound != NULL) {
        evhttp_del_accept_socket(w->http, w->bound); /* closes the listening socket */
        w->bound = NULL;
    }
    struct timeval tv = {w->server->cfg->shutdown_timeout_s, 0};
    event_add(w->drain_timer, &tv);
    cf_worker_request_done(w);
}

static void on_drain_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct cf_worker *w = arg;
    (void)fd;
    (void)what;
    cf_warn("worker %d: %ld requests still in flight after the shutdown timeout", w->index,
            w->inflight);
    event_base_loopexit(w->base, NULL);
}

static void on_log_timer(evutil_socket_t fd, short what, void *arg)
{
    struct cf_worker *w = arg;
    (void)fd;
    (void)what;
    if (w->log.len > 0)
        cf_log_flush(&w->log);
}

static void *worker_main(void *arg)
{
    struct cf_worker *w = arg;
    event_base_dispatch(w->base);
    /* Fails what is still queued (their handlers answer 503), then closes the
     * connections, idle keep-alive ones included. */
    cf_replica_probe_stop(w->replica_probe); /* NULL but on worker 0 */
    /* before db: a read failed here runs again there, and is failed there in turn */
    cf_db_pool_free(w->replica_db);
    w->replica_db = NULL;
    cf_db_pool_free(w->db);
    w->db = NULL;
    cf_db_pool_free(w->background_db); /* NULL but on worker 0 */
    w->background_db = NULL;
    cf_replica_probe_free(w->replica_probe); /* its statements have all been answered */
    w->replica_probe = NULL;
    cf_outbox_free(w->outbox);
    w->outbox = NULL;
    cf_live_listener_free(w->listener); /* NULL but on worker 0 */
    w->listener = NULL;
    evhttp_free(w->http);
    w->http = NULL;
    cf_log_flush(&w->log);
    return NULL;
}

static int open_listener(const char *host, int port, char *err, size_t errsize)
{
    struct addrinfo hints, *res = NULL;
    char portstr[16];
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(portstr, sizeof(portstr), "%d", port);
    int rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0) {
        snprintf(err, errsize, "could not resolve listen address %s: %s", host, gai_strerror(rc));
        return -1;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
        snprintf(err, errsize, "could not listen on %s:%d: %s", host, port, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

static int bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return -1;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* Builds a worker's loop, HTTP server and database pool (in the main thread, so
 * that the shutdown event exists before any signal can ask for it). */
static void worker_setup(struct cf_worker *w)
{
    const struct cf_config *cfg = w->server->cfg;
    w->base = event_base_new();
    if (w->base == NULL)
        cf_fatal("could not create an event base");
    w->http = evhttp_new(w->base);
    evhttp_set_max_headers_size(w->http, (ev_ssize_t)cfg->max_headers);
    evhttp_set_max_body_size(w->http, HARD_BODY_MAX);
    evhttp_set_timeout(w->http, cfg->http_timeout_s);
    evhttp_set_allowed_methods(w->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                            EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                            EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
                                            EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
    evhttp_set_gencb(w->http, dispatch, w);
    w->bound = evhttp_accept_socket_with_handle(w->http, w->listen_fd);
    if (w->bound == NULL)
        cf_fatal("could not attach the listening socket to worker %d", w->index);
    struct cf_db_pool_options opts = {
        .conninfo = cfg->database_url,
        .connections = cfg->db_pool,
        .pipeline = cfg->db_pipeline,
        .queue_max = cfg->db_queue,
        .queue_timeout_ms = cfg->db_queue_timeout_ms,
    };
    w->db = cf_db_pool_create(w->base, &opts);
    if (cfg->replica_url != NULL) {
        struct cf_db_pool_options replica = opts;
        replica.conninfo = cfg->replica_url;
        /* a read waits at most a second for a replica connection, then the primary
         * answers it (replica.c) */
        replica.queue_timeout_ms = 1000;
        w->replica_db = cf_db_pool_create(w->base, &replica);
    }
    w->hash = cf_password_client_new(w->base);
    w->live = cf_live_hub_create(w);
    w->shutdown_ev = event_new(w->base, -1, 0, on_shutdown, w);
    w->drain_timer = event_new(w->base, -1, 0, on_drain_timeout, w);
    w->quiet_timer = event_new(w->base, -1, 0, on_quiet, w);
    w->log_timer = event_new(w->base, -1, EV_PERSIST, on_log_timer, w);
    struct timeval every = {0, 250 * 1000};
    event_add(w->log_timer, &every);
    if (w->index == 0) {
        struct cf_db_pool_options background = {
            .conninfo = cfg->database_url,
            .connections = 1,
            .pipeline = 4,
            .queue_max = 256,
            .queue_timeout_ms = cfg->db_queue_timeout_ms,
        };
        w->background_db = cf_db_pool_create(w->base, &background);
        w->sweep = cf_sweep_create(w);
        w->outbox = cf_outbox_create(w, &w->server->outbox_stats);
        w->listener = cf_live_listener_create(w);
        w->replica_probe = cf_replica_probe_create(w);
    }
}

int cf_server_run(const struct cf_config *cfg)
{
    struct cf_server srv;
    char err[256];
    int status = 1;
    memset(&srv, 0, sizeof(srv));
    srv.cfg = cfg;
    srv.nworkers = cfg->workers;

    /* argon2id allocates 19 MiB per hash. Served by mmap, every hash would fault its
     * pages in and unmap them, taking the process's mmap lock that the event loops
     * need too; a hashing thread at low priority holding it stalls them. Keeping
     * large blocks in the heap lets each hashing thread reuse its warm memory. */
    mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024);
    if (evthread_use_pthreads() != 0)
        cf_fatal("could not enable libevent threading");
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        cf_fatal("could not initialize curl");
    unsigned char rnd[4];
    if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
        cf_fatal("could not read random bytes");
    snprintf(srv.request_id_prefix, sizeof(srv.request_id_prefix), "%02x%02x%02x%02x", rnd[0],
             rnd[1], rnd[2], rnd[3]);
    srv.web_root = realpath(cfg->web_root, NULL);
    if (srv.web_root == NULL)
        cf_warn("web root %s not found: %s; static files will answer 404", cfg->web_root,
                strerror(errno));

    /* Signals are taken by sigwait in this thread only. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    srv.workers = cf_calloc((size_t)srv.nworkers, sizeof(struct cf_worker));
    int port = cfg->listen_port;
    int opened = 0;
    for (int i = 0; i < srv.nworkers; i++) {
        struct cf_worker *w = &srv.workers[i];
        w->index = i;
        w->server = &srv;
        w->listen_fd = open_listener(cfg->listen_host, port, err, sizeof(err));
        if (w->listen_fd < 0) {
            cf_error("%s", err);
            goto out;
        }
        opened++;
        if (port == 0)
            port = bound_port(w->listen_fd); /* the other workers share the same port */
    }
    if (cf_password_pool_start(cfg->hash_threads, cfg->hash_boost_ms) != 0)
        cf_fatal("could not start the password hashing threads");
    for (int i = 0; i < srv.nworkers; i++)
        worker_setup(&srv.workers[i]);
    for (int i = 0; i < srv.nworkers; i++)
        if (pthread_create(&srv.workers[i].thread, NULL, worker_main, &srv.workers[i]) != 0)
            cf_fatal("could not start worker thread %d", i);
    cf_info("listening on http://%s:%d with %d workers", cfg->listen_host, port, srv.nworkers);

    int sig = 0;
    sigwait(&set, &sig);
    cf_info("received %s, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    for (int i = 0; i < srv.nworkers; i++)
        event_active(srv.workers[i].shutdown_ev, EV_TIMEOUT, 0);
    for (int i = 0; i < srv.nworkers; i++)
        pthread_join(srv.workers[i].thread, NULL);
    cf_password_pool_stop();
    for (int i = 0; i < srv.nworkers; i++)
        cf_password_client_free(srv.workers[i].hash);
    for (int i = 0; i < srv.nworkers; i++) {
        struct cf_worker *w = &srv.workers[i];
        event_free(w->shutdown_ev);
        event_free(w->drain_timer);
        event_free(w->quiet_timer);
        event_free(w->log_timer);
        cf_sweep_free(w->sweep);
        /* here, once every loop has stopped: worker 0's listener rings every hub */
        cf_live_hub_free(w->live);
        event_base_free(w->base);
    }
    opened = 0; /* the listeners were closed by their workers */
    cf_info("stopped");
    status = 0;
out:
    for (int i = 0; i < opened; i++)
        close(srv.workers[i].listen_fd);
    cf_free(srv.workers);
    free(srv.web_root);
    libevent_global_shutdown();
    curl_global_cleanup();
    return status;
}
