/*
 * h_search: GET /api/v1/search (SPEC section 8). The query, its filters and the
 * access rules all run in PostgreSQL (cf_search, schema/0011); here the parameters
 * are checked, so that a bad one is a 400 before any statement.
 */
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "request.h"
#include "routes.h"
#include "uri.h"

#define Q_MAX_CHARS 500

static struct cf_db_stmt q_search = CF_DB_STMT(
    "search",
    "SELECT cf_search($1, $2, cf_category_filter($3), $4, $5, $6,"
    " CASE WHEN length($7) = 10 THEN ($7 || 'T00:00:00Z')::timestamptz ELSE $7::timestamptz END,"
    " CASE WHEN length($8) = 10 THEN ($8 || 'T00:00:00Z')::timestamptz + interval '1 day'"
    " ELSE $8::timestamptz END, $9::bigint[], $10)",
    10);

static int digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

/*
 * A date (YYYY-MM-DD, the whole day in UTC) or an RFC 3339 time
 * (YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)), every field in its range, so
 * that PostgreSQL's cast cannot fail.
 */
static int date_valid(const char *s)
{
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    size_t n = strlen(s);
    int y, mo, d, h, mi, sec;
    if (n < 10 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
        !digits(s + 8, 2, &d) || y < 1 || mo < 1 || mo > 12 || d < 1 || d > days[mo - 1])
        return 0;
    if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
        return 0;
    if (n == 10)
        return 1;
    if ((s[10] != 'T' && s[10] != 't') || n < 20 || !digits(s + 11, 2, &h) || s[13] != ':' ||
        !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec) || h > 23 || mi > 59 ||
        sec > 59)
        return 0;
    const char *p = s + 19;
    if (*p == '.') {
        size_t f = strspn(p + 1, "0123456789");
        if (f < 1 || f > 6)
            return 0;
        p += 1 + f;
    }
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0')
        return 1;
    int zh, zm;
    return (*p == '+' || *p == '-') && strlen(p) == 6 && digits(p + 1, 2, &zh) && p[3] == ':' &&
           digits(p + 4, 2, &zm) && zh <= 15 && zm <= 59; /* PostgreSQL's range */
}

/* GET /search?q=&category=&group=&author=&tag=&from=&to= */
void cf_h_search(struct cf_request *req)
{
    struct cf_page page;
    if (cf_query_page(req, 2, 2, &page) < 0)
        return;
    const char *q;
    if (cf_query_text(req, "q", Q_MAX_CHARS, 1, "the text to search for", &q) < 0)
        return;
    struct cf_space_filters f;
    if (cf_query_space_filters(req, &f) < 0)
        return;
    const char *from = cf_request_query(req, "from");
    const char *to = cf_request_query(req, "to");
    if ((from != NULL && !date_valid(from)) || (to != NULL && !date_valid(to))) {
        cf_reply_problem(req, 400, "invalid_query",
                         "from and to are dates (2026-11-22) or RFC 3339 times "
                         "(2026-11-22T21:40:00Z)");
        return;
    }
    char user[24];
    cf_id_text(user, req->auth.user_id);
    const char *params[] = {user,  q,    f.category, f.group,     f.author,
                            f.tag, from, to,         page.cursor, page.limit};
    cf_request_run_json(req, &q_search, params, 200);
}
