/*
 * libFuzzer target for the request target: path normalisation, routing against the
 * real route table, and query strings (server/uri.c, server/router.c, server/routes.c).
 * The input is a request target ("/api/v1/threads/7?order=tree"); its first byte, when
 * not '/', picks the method. Invariants: a normalised path starts with '/', has no
 * empty, "." or ".." segment, nor a backslash, and is valid UTF-8; a match names a route of the
 * table whose pattern has the method (or a 405 lists the methods allowed), its
 * parameters point into the path and {id} parameters are positive; a parsed query has
 * no key twice, and every key finds its value.
 *
 * scripts/test runs it for CONFER_FUZZ_SECONDS; a long run:
 *   build-fuzz/fuzz_request -max_total_time=3600 -dict=tests/fuzz/request.dict corpus/
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "router.h"
#include "routes.h"
#include "uri.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_path(const char *path, size_t len, int method)
{
    char *out = malloc(len + 1);
    int rc = cf_path_normalize(path, len, out, len + 1);
    if (rc != CF_URI_OK) {
        CHECK(rc == CF_URI_BAD || rc == CF_URI_TRAVERSAL);
        free(out);
        return;
    }
    size_t n = strlen(out);
    CHECK(out[0] == '/');
    CHECK(strstr(out, "//") == NULL && strstr(out, "/./") == NULL && strstr(out, "/../") == NULL);
    CHECK(cf_utf8_valid(out, n));
    /* no dot segment, however it was written (%2e, %2E%2e, at the end) */
    CHECK(strcmp(out + (n >= 2 ? n - 2 : 0), "/.") != 0);
    CHECK(strcmp(out + (n >= 3 ? n - 3 : 0), "/..") != 0);
    CHECK(strchr(out, '\\') == NULL);

    struct cf_route_match m;
    memset(&m, 0, sizeof(m));
    int found = cf_router_match(cf_routes, cf_routes_count, method, out, &m);
    CHECK(found == 0 || found == 404 || found == 405);
    if (found == 0) {
        CHECK(m.route == &cf_routes[m.index] && m.index < cf_routes_count);
        CHECK((m.route->methods & method) || (method == CF_HEAD && (m.route->methods & CF_GET)));
        CHECK(m.nparams <= CF_ROUTE_MAX_PARAMS);
        for (size_t i = 0; i < m.nparams; i++) {
            CHECK(m.params[i].start >= out && m.params[i].start + m.params[i].len <= out + n);
            CHECK(m.params[i].len > 0);
            CHECK(m.params[i].id >= 0); /* {id}: positive; other parameters: 0 */
        }
    } else if (found == 405) {
        CHECK(m.allow != 0 && !(m.allow & method));
    }
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int methods[] = {CF_GET, CF_POST, CF_PUT, CF_PATCH, CF_DELETE, CF_HEAD};
    int method = CF_GET;
    if (size > 0 && data[0] != '/') {
        method = methods[data[0] % (sizeof(methods) / sizeof(methods[0]))];
        data++;
        size--;
    }
    char *target = malloc(size + 1);
    memcpy(target, data, size);
    target[size] = '\0';
    char *qmark = memchr(target, '?', size);
    size_t path_len = qmark ? (size_t)(qmark - target) : size;
    check_path(target, path_len, method);

    if (qmark != NULL) {
        struct cf_query q;
        memset(&q, 0, sizeof(q));
        int rc = cf_query_parse(qmark + 1, &q);
        CHECK(rc == CF_URI_OK || rc == CF_URI_BAD || rc == CF_URI_DUPLICATE ||
              rc == CF_URI_TOO_MANY);
        CHECK(q.count <= CF_QUERY_MAX_PARAMS);
        if (rc == CF_URI_OK)
            for (size_t i = 0; i < q.count; i++) {
                CHECK(q.items[i].key != NULL && q.items[i].value != NULL);
                CHECK(cf_query_get(&q, q.items[i].key) == q.items[i].value);
            }
        cf_query_free(&q);
    }
    free(target);
    return 0;
}
