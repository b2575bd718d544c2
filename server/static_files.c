/*
 * static_files: the web client from the web root (`/` is index.html), with
 * MIME types, a validator (ETag and Last-Modified, 304 on revalidation) and
 * containment: the resolved file must lie inside the root, so a symlink or
 * a dot segment cannot reach out of it (dot segments never get this far:
 * uri.c refuses them). Files are sent with evbuffer_add_file (sendfile), so
 * the loop never reads them; a file over 16 MiB is not served.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "http_server.h"
#include "request.h"
#include "routes.h"

#define STATIC_MAX_SIZE (16 * 1024 * 1024)

static const struct {
    const char *ext;
    const char *type;
} mime_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".json", "application/json; charset=utf-8"},
    {".webmanifest", "application/manifest+json; charset=utf-8"},
    {".svg", "image/svg+xml; charset=utf-8"},
    {".txt", "text/plain; charset=utf-8"},
    {".ics", "text/calendar; charset=utf-8"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
};

static const char *mime_type(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (dot != NULL && strchr(dot, '/') == NULL)
        for (size_t i = 0; i < sizeof(mime_types) / sizeof(mime_types[0]); i++)
            if (strcasecmp(dot, mime_types[i].ext) == 0)
                return mime_types[i].type;
    return "application/octet-stream";
}

static void http_date(time_t t, char *out, size_t size)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, size, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static void not_found(struct cf_request *req)
{
    cf_reply_problem(req, 404, "not_found", "no such resource");
}

void cf_static_serve(struct cf_request *req)
{
    const char *root = req->worker->server->web_root;
    char joined[PATH_MAX], resolved[PATH_MAX];
    if (root == NULL) {
        not_found(req);
        return;
    }
    const char *rel = req->path;
    size_t rlen = strlen(rel);
    const char *suffix = (rlen > 0 && rel[rlen - 1] == '/') ? "index.html" : "";
    int n = snprintf(joined, sizeof(joined), "%s%s%s", root, rel, suffix);
    if (n < 0 || (size_t)n >= sizeof(joined) || realpath(joined, resolved) == NULL) {
        not_found(req);
        return;
    }
    size_t root_len = strlen(root);
    if (strncmp(resolved, root, root_len) != 0 || resolved[root_len] != '/') {
        not_found(req); /* a symlink out of the root */
        return;
    }
    int fd = open(resolved, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > STATIC_MAX_SIZE) {
        if (fd >= 0)
            close(fd);
        not_found(req);
        return;
    }
    char etag[64], modified[64];
    snprintf(etag, sizeof(etag), "\"%llx-%llx\"", (unsigned long long)st.st_size,
             (unsigned long long)st.st_mtim.tv_sec * 1000000000ULL +
                 (unsigned long long)st.st_mtim.tv_nsec);
    http_date(st.st_mtim.tv_sec, modified, sizeof(modified));
    cf_request_add_header(req, "ETag", etag);
    cf_request_add_header(req, "Last-Modified", modified);
    /* Revalidate every time: the client has no build step and no hashed names. */
    cf_request_add_header(req, "Cache-Control", "no-cache");
    const char *inm = cf_request_header(req, "If-None-Match");
    const char *ims = cf_request_header(req, "If-Modified-Since");
    int fresh = 0;
    if (inm != NULL)
        fresh = strstr(inm, etag) != NULL || strcmp(inm, "*") == 0;
    else if (ims != NULL)
        fresh = strcmp(ims, modified) == 0;
    if (fresh) {
        close(fd);
        cf_reply_buffer(req, 304, NULL, NULL, 0);
        return;
    }
    struct evbuffer *buf = evbuffer_new();
    if (st.st_size == 0)
        close(fd);
    else if (evbuffer_add_file(buf, fd, 0, st.st_size) != 0) { /* takes fd */
        evbuffer_free(buf);
        cf_reply_problem(req, 500, "internal_error", "could not read the file");
        return;
    }
    cf_reply_buffer(req, 200, mime_type(resolved), buf, 0);
}
