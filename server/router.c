/* router: path-pattern matching; see router.h. */
#include <stdio.h>
#include <string.h>

#include "router.h"

#define CF_MAX_ID ((int64_t)1 << 53)

static const struct {
    int bit;
    const char *name;
} method_names[] = {
    {CF_GET, "GET"},     {CF_HEAD, "HEAD"},     {CF_POST, "POST"},       {CF_PUT, "PUT"},
    {CF_PATCH, "PATCH"}, {CF_DELETE, "DELETE"}, {CF_OPTIONS, "OPTIONS"},
};

const char *cf_method_name(int method)
{
    for (size_t i = 0; i < sizeof(method_names) / sizeof(method_names[0]); i++)
        if (method_names[i].bit == method)
            return method_names[i].name;
    return "UNKNOWN";
}

void cf_router_allow_header(int methods, char *out, size_t size)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof(method_names) / sizeof(method_names[0]); i++) {
        if (!(methods & method_names[i].bit))
            continue;
        int n = snprintf(out + o, size - o, "%s%s", o ? ", " : "", method_names[i].name);
        if (n < 0 || (size_t)n >= size - o)
            break;
        o += (size_t)n;
    }
}

/* Parses a decimal id in [1, 2^53]; no sign, no leading zero. */
static int parse_id(const char *s, size_t len, int64_t *out)
{
    if (len == 0 || len > 16 || s[0] == '0')
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v > CF_MAX_ID)
        return -1;
    *out = v;
    return 0;
}

/* Matches one pattern; fills params. Returns 1 on a match. */
static int match_pattern(const char *pattern, const char *path, struct cf_route_match *m)
{
    const char *p = pattern, *s = path;
    m->nparams = 0;
    while (*p && *s) {
        if (*p != '/' || *s != '/')
            return 0;
        p++;
        s++;
        const char *pend = strchr(p, '/');
        const char *send = strchr(s, '/');
        size_t plen = pend ? (size_t)(pend - p) : strlen(p);
        size_t slen = send ? (size_t)(send - s) : strlen(s);
        if (plen > 2 && p[0] == '{' && p[plen - 1] == '}') {
            if (slen == 0 || m->nparams == CF_ROUTE_MAX_PARAMS)
                return 0;
            struct cf_route_param *param = &m->params[m->nparams];
            param->start = s;
            param->len = slen;
            param->id = 0;
            /* {id}, {user_id}, {meeting_id}: an id, or the path does not match */
            if (plen >= 4 && !strncmp(p + plen - 3, "id}", 3) && parse_id(s, slen, &param->id) != 0)
                return 0;
            m->nparams++;
        } else if (plen != slen || strncmp(p, s, plen) != 0) {
            return 0;
        }
        p += plen;
        s += slen;
    }
    return *p == '\0' && *s == '\0';
}

int cf_router_match(const struct cf_route *routes, size_t n, int method, const char *path,
                    struct cf_route_match *m)
{
    int want = method == CF_HEAD ? (CF_HEAD | CF_GET) : method;
    int allow = 0;
    memset(m, 0, sizeof(*m));
    for (size_t i = 0; i < n; i++) {
        struct cf_route_match tmp;
        if (!match_pattern(routes[i].pattern, path, &tmp))
            continue;
        if (routes[i].methods & want) {
            *m = tmp;
            m->route = &routes[i];
            m->index = i;
            return 0;
        }
        allow |= routes[i].methods;
    }
    if (allow) {
        if (allow & CF_GET)
            allow |= CF_HEAD;
        m->allow = allow | CF_OPTIONS;
        return 405;
    }
    return 404;
}
