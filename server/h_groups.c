/*
 * h_groups: mentorship groups (SPEC sections 1, 2 and 4, "Groups and
 * conversations"). Coordinators create and staff the groups of their own
 * network, admins anywhere; a group has a mentor (and optionally a co-mentor)
 * and up to max_mentees mentees. A group the caller may not read is 404.
 * The checks and the writes are SQL functions (schema/0005_groups.sql).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <libpq-fe.h>

#include "db.h"
#include "http_server.h"
#include "request.h"
#include "routes.h"

static struct cf_db_stmt q_list =
    CF_DB_STMT("group_list", "SELECT cf_group_list($1, $2::bigint[], $3)", 3);
static struct cf_db_stmt q_get = CF_DB_STMT(
    "group_get",
    "SELECT cf_group_json(g, $1) FROM groups g WHERE g.id = $2 AND cf_group_readable($1, g.id)", 2);
static struct cf_db_stmt q_save =
    CF_DB_STMT("group_save", "SELECT cf_group_save($1, $2, $3::jsonb)", 3);
static struct cf_db_stmt q_member =
    CF_DB_STMT("group_member_set", "SELECT cf_group_member_set($1, $2, $3, $4, $5)", 5);

static struct cf_db_stmt q_meeting_save =
    CF_DB_STMT("meeting_save", "SELECT cf_meeting_save($1, $2, $3, $4::jsonb, $5)", 5);
static struct cf_db_stmt q_meeting_list =
    CF_DB_STMT("meeting_list", "SELECT cf_meeting_list($1, $2, $3, $4::bigint[], $5)", 5);
static struct cf_db_stmt q_calendar =
    CF_DB_STMT("meeting_calendar", "SELECT cf_meeting_calendar($1, $2)", 2);

static const struct cf_sql_error group_errors[] = {
    {"not_found", 404, "no such group", NULL},
    {"forbidden", 403, "coordinators run the groups of their network; admins any group", NULL},
    {"network_unknown", 422, "no such network", "network"},
    {"max_below_mentees", 422, "the group already has more mentees than that", "max_mentees"},
    {"user_unknown", 404, "no such member", NULL},
    {"group_full", 409, "the group has max_mentees mentees already", NULL},
    {"mentors_full", 409, "a group has a mentor and at most one co-mentor", NULL},
    {"not_a_member", 404, "this member is not in the group", NULL},
    {"starts_at_invalid", 422, "not a date and time", "starts_at"},
};

static void answer(struct cf_db_result *r, void *arg, const char *key)
{
    cf_request_reply_outcome(arg, r, key, group_errors,
                             sizeof(group_errors) / sizeof(group_errors[0]));
}

static void on_group(struct cf_db_result *r, void *arg)
{
    answer(r, arg, "group");
}

static void on_meeting(struct cf_db_result *r, void *arg)
{
    answer(r, arg, "meeting");
}

void cf_h_groups_list(struct cf_request *req)
{
    cf_request_run_list(req, &q_list, 1);
}

void cf_h_group_get(struct cf_request *req)
{
    char user[24], group[24];
    cf_request_caller_and_id(req, user, group);
    const char *params[] = {user, group};
    cf_request_run_json(req, &q_get, params, 200);
}

/* The fields of POST and PATCH /groups, as JSON for cf_group_save; NULL after 422. */
static json_t *group_fields(struct cf_request *req, int create)
{
    json_t *errors = NULL;
    json_t *fields = json_object();
    const char *name = cf_body_string(req, "name", 2, 100, &errors);
    const char *description = cf_body_string(req, "description", 0, 2000, &errors);
    if (name != NULL)
        json_object_set_new(fields, "name", json_string(name));
    else if (create && json_object_get(req->body, "name") == NULL)
        cf_errors_add(&errors, "name", "required", "the group's name, 2 to 100 characters");
    if (description != NULL)
        json_object_set_new(fields, "description", json_string(description));
    int64_t max;
    if (cf_body_int(req, "max_mentees", &max, &errors)) {
        if (max < 1 || max > 20)
            cf_errors_add(&errors, "max_mentees", "out_of_range", "from 1 to 20");
        else
            json_object_set_new(fields, "max_mentees", json_integer(max));
    }
    if (create) {
        json_t *n = json_object_get(req->body, "network");
        if (json_is_integer(n))
            json_object_set_new(fields, "network", json_sprintf("%lld", json_integer_value(n)));
        else if (json_is_string(n) && json_string_length(n) >= 1 && json_string_length(n) <= 8)
            json_object_set(fields, "network", n);
        else
            cf_errors_add(&errors, "network", n ? "invalid" : "required",
                          "the network, as BC or its id");
    } else if (errors == NULL && json_object_size(fields) == 0) {
        cf_errors_add(&errors, "body", "empty", "nothing to change");
    }
    if (errors != NULL) {
        json_decref(fields);
        cf_reply_invalid(req, errors);
        return NULL;
    }
    return fields;
}

static void save(struct cf_request *req, int create)
{
    json_t *fields = group_fields(req, create);
    if (fields == NULL)
        return;
    char actor[24], group[24];
    cf_id_text(actor, req->auth.user_id);
    cf_id_text(group, create ? 0 : cf_request_param_id(req, 0));
    char *text = json_dumps(fields, JSON_COMPACT);
    json_decref(fields);
    const char *params[] = {actor, create ? NULL : group, text};
    req->success_status = create ? 201 : 200;
    cf_db_query(req->worker->db, &q_save, params, on_group, req);
    free(text);
}

void cf_h_group_create(struct cf_request *req)
{
    save(req, 1);
}

void cf_h_group_update(struct cf_request *req)
{
    save(req, 0);
}

static void member(struct cf_request *req, const char *role, const char *reason)
{
    char actor[24], group[24], user[24];
    cf_request_caller_and_id(req, actor, group);
    cf_id_text(user, cf_request_param_id(req, 1));
    const char *params[] = {actor, group, user, role, reason};
    req->success_status = role ? 200 : 204;
    cf_db_query(req->worker->db, &q_member, params, on_group, req);
}

void cf_h_group_member_put(struct cf_request *req)
{
    json_t *errors = NULL;
    const char *role = cf_body_string(req, "role", 1, 10, &errors);
    const char *reason = cf_body_string(req, "reason", 1, 500, &errors);
    static const char *const roles[] = {"mentor", "mentee", NULL};
    if (errors == NULL && !cf_one_of(role, roles))
        cf_errors_add(&errors, "role", role ? "invalid" : "required", "mentor or mentee");
    if (errors != NULL) {
        cf_reply_invalid(req, errors);
        return;
    }
    member(req, role, reason);
}

void cf_h_group_member_delete(struct cf_request *req)
{
    member(req, NULL, cf_request_query(req, "reason"));
}

/* ---- meetings ---- */

/* 2026-12-01T18:30:00Z or with an offset (+/-HH:MM), seconds and fraction optional:
 * the shape only; PostgreSQL judges the date itself. */
static int rfc3339_shape(const char *s)
{
    static const char pattern[] = "dddd-dd-ddTdd:dd";
    size_t i = 0;
    for (; pattern[i] != '\0'; i++) {
        char c = s[i];
        if (pattern[i] == 'd' ? (c < '0' || c > '9') : c != pattern[i])
            return 0;
    }
    if (s[i] == ':') {
        if (s[i + 1] < '0' || s[i + 1] > '9' || s[i + 2] < '0' || s[i + 2] > '9')
            return 0;
        i += 3;
        if (s[i] == '.') {
            size_t d = 0;
            while (s[i + 1 + d] >= '0' && s[i + 1 + d] <= '9')
                d++;
            if (d == 0 || d > 6)
                return 0;
            i += 1 + d;
        }
    }
    if (s[i] == 'Z')
        return s[i + 1] == '\0';
    return (s[i] == '+' || s[i] == '-') && strlen(s + i) == 6 && s[i + 3] == ':';
}

/* The fields of a meeting, for cf_meeting_save; NULL after 422. */
static json_t *meeting_fields(struct cf_request *req, int create)
{
    json_t *errors = NULL;
    json_t *fields = json_object();
    const char *starts = cf_body_string(req, "starts_at", 16, 40, &errors);
    const char *mode = cf_body_string(req, "mode", 1, 20, &errors);
    const char *where = cf_body_string(req, "where", 0, 500, &errors);
    const char *agenda = cf_body_string(req, "agenda", 0, 5000, &errors);
    int64_t minutes;
    int has_minutes = cf_body_int(req, "duration_minutes", &minutes, &errors);
    if (starts != NULL && !rfc3339_shape(starts))
        cf_errors_add(&errors, "starts_at", "invalid", "RFC 3339, as 2026-12-01T18:30:00Z");
    else if (starts != NULL)
        json_object_set_new(fields, "starts_at", json_string(starts));
    else if (create && json_object_get(req->body, "starts_at") == NULL)
        cf_errors_add(&errors, "starts_at", "required", "when it starts (RFC 3339)");
    if (has_minutes && (minutes < 5 || minutes > 600))
        cf_errors_add(&errors, "duration_minutes", "out_of_range", "5 to 600 minutes");
    else if (has_minutes)
        json_object_set_new(fields, "duration_minutes", json_integer(minutes));
    else if (create && json_object_get(req->body, "duration_minutes") == NULL)
        cf_errors_add(&errors, "duration_minutes", "required", "how long, in minutes");
    static const char *const modes[] = {"video", "phone", "in_person", NULL};
    if (mode != NULL && !cf_one_of(mode, modes))
        cf_errors_add(&errors, "mode", "invalid", "video, phone or in_person");
    else if (mode != NULL)
        json_object_set_new(fields, "mode", json_string(mode));
    else if (create && json_object_get(req->body, "mode") == NULL)
        cf_errors_add(&errors, "mode", "required", "video, phone or in_person");
    if (where != NULL)
        json_object_set_new(fields, "where", json_string(where));
    if (agenda != NULL)
        json_object_set_new(fields, "agenda", json_string(agenda));
    if (!create && errors == NULL && json_object_size(fields) == 0)
        cf_errors_add(&errors, "body", "empty", "nothing to change");
    if (errors != NULL) {
        json_decref(fields);
        cf_reply_invalid(req, errors);
        return NULL;
    }
    return fields;
}

static void meeting_save(struct cf_request *req, int create, int cancel)
{
    json_t *fields = cancel ? json_object() : meeting_fields(req, create);
    if (fields == NULL)
        return;
    char user[24], group[24], id[24];
    cf_request_caller_and_id(req, user, group);
    cf_id_text(id, create ? 0 : cf_request_param_id(req, 1));
    char *text = json_dumps(fields, JSON_COMPACT);
    json_decref(fields);
    const char *params[] = {user, group, create ? NULL : id, text, cancel ? "true" : "false"};
    req->success_status = create ? 201 : cancel ? 204 : 200;
    cf_db_query(req->worker->db, &q_meeting_save, params, on_meeting, req);
    free(text);
}

void cf_h_meeting_create(struct cf_request *req)
{
    meeting_save(req, 1, 0);
}

void cf_h_meeting_update(struct cf_request *req)
{
    meeting_save(req, 0, 0);
}

void cf_h_meeting_cancel(struct cf_request *req)
{
    meeting_save(req, 0, 1);
}

void cf_h_meetings_list(struct cf_request *req)
{
    static const char *const whens[] = {"upcoming", "past", NULL};
    const char *when;
    if (cf_query_one_of(req, "when", whens, &when) < 0)
        return;
    struct cf_page page;
    if (cf_query_page(req, 2, 2, &page) < 0)
        return;
    char user[24], group[24];
    cf_request_caller_and_id(req, user, group);
    const char *past = when != NULL && strcmp(when, "past") == 0 ? "true" : "false";
    const char *params[] = {user, group, past, page.cursor, page.limit};
    cf_request_run_json(req, &q_meeting_list, params, 200);
}

/* RFC 5545 text: backslash, semicolon and comma escaped, newlines as \n. */
static void ics_text(struct evbuffer *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == ';' || *s == ',')
            evbuffer_add_printf(out, "\\%c", *s);
        else if (*s == '\n')
            evbuffer_add(out, "\\n", 2);
        else if (*s != '\r')
            evbuffer_add(out, s, 1);
    }
}

/* One content line, folded at 75 octets (RFC 5545 3.1) without splitting a UTF-8
 * character, ended by CRLF. */
static void ics_line(struct evbuffer *out, struct evbuffer *line)
{
    size_t len = evbuffer_get_length(line);
    const unsigned char *s = evbuffer_pullup(line, -1);
    size_t col = 0;
    for (size_t i = 0; i < len;) {
        size_t n = 1;
        while (i + n < len && (s[i + n] & 0xC0) == 0x80)
            n++;
        if (col + n > 75) {
            evbuffer_add(out, "\r\n ", 3);
            col = 1;
        }
        evbuffer_add(out, s + i, n);
        col += n;
        i += n;
    }
    evbuffer_add(out, "\r\n", 2);
    evbuffer_drain(line, len);
}

static void on_calendar(struct cf_db_result *r, void *arg)
{
    struct cf_request *req = arg;
    if (!r->ok) {
        cf_reply_db_error(req, r);
        return;
    }
    if (PQntuples(r->res[0]) == 0 || PQgetisnull(r->res[0], 0, 0)) {
        cf_reply_problem(req, 404, "not_found", "no such group");
        return;
    }
    json_t *cal = json_loads(PQgetvalue(r->res[0], 0, 0), 0, NULL);
    const char *host =
        req->worker->server->cfg->public_url ? req->worker->server->cfg->public_url : "confer";
    const char *at = strstr(host, "://");
    host = at ? at + 3 : host;
    struct evbuffer *out = evbuffer_new(), *line = evbuffer_new();
    evbuffer_add_printf(out, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//confer//meetings//EN\r\n"
                             "CALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\n");
    evbuffer_add_printf(line, "X-WR-CALNAME:");
    ics_text(line, json_string_value(json_object_get(cal, "group")));
    ics_line(out, line);
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(cal, "meetings"), i, m)
    {
        static const char *const modes[][2] = {
            {"video", "video call"}, {"phone", "phone call"}, {"in_person", "in person"}};
        const char *mode = json_string_value(json_object_get(m, "mode"));
        const char *mode_text = mode;
        for (size_t k = 0; k < 3; k++)
            if (mode && strcmp(mode, modes[k][0]) == 0)
                mode_text = modes[k][1];
        evbuffer_add_printf(out, "BEGIN:VEVENT\r\n");
        evbuffer_add_printf(line, "UID:meeting-%lld@%.*s",
                            (long long)json_integer_value(json_object_get(m, "id")),
                            (int)strcspn(host, "/:"), host);
        ics_line(out, line);
        evbuffer_add_printf(out, "DTSTAMP:%s\r\nDTSTART:%s\r\nDTEND:%s\r\nSEQUENCE:%lld\r\n",
                            json_string_value(json_object_get(m, "stamp")),
                            json_string_value(json_object_get(m, "start")),
                            json_string_value(json_object_get(m, "end")),
                            (long long)json_integer_value(json_object_get(m, "sequence")));
        evbuffer_add_printf(out, "STATUS:%s\r\n",
                            json_is_true(json_object_get(m, "cancelled")) ? "CANCELLED"
                                                                          : "CONFIRMED");
        evbuffer_add_printf(line, "SUMMARY:");
        ics_text(line, json_string_value(json_object_get(cal, "group")));
        evbuffer_add_printf(line, " (%s)", mode_text ? mode_text : "meeting");
        ics_line(out, line);
        const char *where = json_string_value(json_object_get(m, "where"));
        if (where && *where) {
            evbuffer_add_printf(line, "LOCATION:");
            ics_text(line, where);
            ics_line(out, line);
        }
        const char *agenda = json_string_value(json_object_get(m, "agenda"));
        if (agenda && *agenda) {
            evbuffer_add_printf(line, "DESCRIPTION:");
            ics_text(line, agenda);
            ics_line(out, line);
        }
        evbuffer_add_printf(out, "END:VEVENT\r\n");
    }
    evbuffer_add_printf(out, "END:VCALENDAR\r\n");
    evbuffer_free(line);
    json_decref(cal);
    cf_request_add_header(req, "Content-Disposition", "attachment; filename=\"meetings.ics\"");
    cf_reply_buffer(req, 200, "text/calendar; charset=utf-8", out, 1);
}

void cf_h_meetings_calendar(struct cf_request *req)
{
    char user[24], group[24];
    cf_request_caller_and_id(req, user, group);
    const char *params[] = {user, group};
    cf_request_read(req, &q_calendar, params, on_calendar, req);
}
