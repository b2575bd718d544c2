/*
 * router: the route table's matching. A route is a method mask and a path
 * pattern whose segments are literal or a parameter: `{id}` or `{<thing>_id}`
 * (a positive integer up to 2^53, a JSON-safe id) or `{name}` (any other
 * segment).
 * A path known under another method answers 405 with Allow; else 404.
 */
#ifndef CF_ROUTER_H
#define CF_ROUTER_H

#include <stddef.h>
#include <stdint.h>

enum cf_method {
    CF_GET = 1 << 0,
    CF_HEAD = 1 << 1,
    CF_POST = 1 << 2,
    CF_PUT = 1 << 3,
    CF_PATCH = 1 << 4,
    CF_DELETE = 1 << 5,
    CF_OPTIONS = 1 << 6,
};

enum cf_auth_level {
    CF_AUTH_NONE = 0, /* anyone; no session lookup */
    CF_AUTH_OPTIONAL, /* anyone; the member is known when signed in */
    CF_AUTH_USER,     /* a signed-in member (401 otherwise) */
};

/* Route flags. */
#define CF_ROUTE_JSON_BODY 0x1         /* the request body is a JSON object (415/400 otherwise) */
#define CF_ROUTE_WHILE_SUSPENDED 0x2   /* a write a suspended member may still make */
#define CF_ROUTE_BEFORE_GUIDELINES 0x4 /* a write allowed before accepting the guidelines */
#define CF_ROUTE_PRIMARY                                                                           \
    0x8 /* a GET that logs a moderator's access: theirs never go to the replica */

#define CF_ROUTE_MAX_PARAMS 4

struct cf_request;

struct cf_route {
    int methods; /* CF_GET | ... */
    const char *pattern;
    void (*handler)(struct cf_request *req);
    enum cf_auth_level auth;
    int flags;
};

struct cf_route_param {
    const char *start; /* points into the matched path */
    size_t len;
    int64_t id; /* for {id} parameters */
};

struct cf_route_match {
    const struct cf_route *route;
    size_t index; /* of route in its table */
    size_t nparams;
    struct cf_route_param params[CF_ROUTE_MAX_PARAMS];
    int allow; /* with 405: the methods the path accepts */
};

/*
 * Matches method and a normalised path against routes[0..n). Returns 0 and
 * fills m on a match, 405 (m->allow set) when only the method is wrong,
 * 404 when no pattern fits. HEAD is served by GET routes.
 */
int cf_router_match(const struct cf_route *routes, size_t n, int method, const char *path,
                    struct cf_route_match *m);

/* Writes "GET, HEAD, POST" for a method mask. */
void cf_router_allow_header(int methods, char *out, size_t size);

/* The name of one method bit ("GET"); "UNKNOWN" otherwise. */
const char *cf_method_name(int method);

#endif
