/*
 * h_reports: GET /reports/summary (SPEC section 10), what coordinators report to
 * funders about a period: active members by profession and network, threads and
 * posts by space and category, first-response times, flags and meetings. JSON
 * from PostgreSQL (schema/0009_reports.sql), or CSV when the client asks for
 * text/csv: one row per figure, `section,dimension,value`.
 */
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "db.h"
#include "http_server.h"
#include "request.h"
#include "routes.h"

static struct cf_db_stmt q_summary =
    CF_DB_STMT("report_summary", "SELECT cf_report_summary($1, $2, $3, $4)", 4);

static const struct cf_sql_error report_errors[] = {
    {"forbidden", 403, "coordinators report on their network, admins on any", NULL},
    {"network_unknown", 404, "no such network", NULL},
    {"period_invalid", 400,
     "from and to are dates or RFC 3339 times, from before to, at most "
     "5 years apart",
     NULL},
};

/* One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break. */
static void csv_field(struct evbuffer *out, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        evbuffer_add(out, s, strlen(s));
        return;
    }
    evbuffer_add(out, "\"", 1);
    for (const char *p = s; *p != '\0'; p++) {
        if (*p == '"')
            evbuffer_add(out, "\"", 1);
        evbuffer_add(out, p, 1);
    }
    evbuffer_add(out, "\"", 1);
}

static void csv_row(struct evbuffer *out, const char *section, const char *dimension, json_t *value)
{
    char text[64];
    const char *v = "";
    if (json_is_integer(value)) {
        snprintf(text, sizeof(text), "%lld", (long long)json_integer_value(value));
        v = text;
    } else if (json_is_real(value)) {
        snprintf(text, sizeof(text), "%.4f", json_real_value(value));
        v = text;
    } else if (json_is_string(value)) {
        v = json_string_value(value);
    }
    csv_field(out, section);
    evbuffer_add(out, ",", 1);
    csv_field(out, dimension);
    evbuffer_add(out, ",", 1);
    csv_field(out, v);
    evbuffer_add(out, "\r\n", 2);
}

/* Every figure of the report, one row each. */
static struct evbuffer *report_csv(json_t *report)
{
    struct evbuffer *out = evbuffer_new();
    evbuffer_add_printf(out, "section,dimension,value\r\n");
    csv_row(out, "period", "from", json_object_get(report, "from"));
    csv_row(out, "period", "to", json_object_get(report, "to"));
    json_t *net = json_object_get(report, "network");
    json_t *all = json_string("all");
    csv_row(out, "period", "network", json_is_string(net) ? net : all);
    json_decref(all);
    size_t i;
    json_t *row;
    char dim[160];
    json_array_foreach(json_object_get(report, "active_members"), i, row)
    {
        snprintf(dim, sizeof(dim), "%s/%s", json_string_value(json_object_get(row, "network")),
                 json_string_value(json_object_get(row, "profession")));
        csv_row(out, "active_members", dim, json_object_get(row, "members"));
    }
    json_array_foreach(json_object_get(report, "activity"), i, row)
    {
        const char *cat = json_string_value(json_object_get(row, "category"));
        snprintf(dim, sizeof(dim), "%s%s%s", json_string_value(json_object_get(row, "space")),
                 cat ? "/" : "", cat ? cat : "");
        csv_row(out, "threads", dim, json_object_get(row, "threads"));
        csv_row(out, "posts", dim, json_object_get(row, "posts"));
    }
    static const char *const sections[] = {"first_response", "flags", "meetings"};
    for (size_t s = 0; s < 3; s++) {
        json_t *obj = json_object_get(report, sections[s]);
        const char *key;
        json_t *v;
        json_object_foreach(obj, key, v)
        {
            if (json_is_object(v)) { /* flags.by_reason */
                const char *k2;
                json_t *v2;
                json_object_foreach(v, k2, v2)
                {
                    snprintf(dim, sizeof(dim), "%s/%s", key, k2);
                    csv_row(out, sections[s], dim, v2);
                }
            } else {
                csv_row(out, sections[s], key, v);
            }
        }
    }
    return out;
}

static void on_summary(struct cf_db_result *r, void *arg)
{
    struct cf_request *req = arg;
    json_t *report = cf_request_sql_outcome(req, r, "report", report_errors,
                                            sizeof(report_errors) / sizeof(report_errors[0]));
    if (report == NULL)
        return;
    const char *accept = cf_request_header(req, "Accept");
    if (accept != NULL && strstr(accept, "text/csv") != NULL) {
        struct evbuffer *csv = report_csv(report);
        json_decref(report);
        cf_request_add_header(req, "Content-Disposition",
                              "attachment; filename=\"confer-report.csv\"");
        cf_reply_buffer(req, 200, "text/csv; charset=utf-8", csv, 1);
        return;
    }
    cf_reply_json(req, 200, report);
}

void cf_h_report_summary(struct cf_request *req)
{
    const char *network = cf_request_query(req, "network");
    const char *from = cf_request_query(req, "from");
    const char *to = cf_request_query(req, "to");
    const char *values[] = {network, from, to};
    for (size_t i = 0; i < 3; i++)
        if (values[i] != NULL && (values[i][0] == '\0' || strlen(values[i]) > 40)) {
            cf_reply_problem(req, 400, "invalid_query",
                             "network is a code or an id; from and to are dates or times");
            return;
        }
    char user[24];
    cf_id_text(user, req->auth.user_id);
    const char *params[] = {user, network, from, to};
    cf_request_read(req, &q_summary, params, on_summary, req);
}
