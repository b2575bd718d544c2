/*
 * seed: `confer seed-demo` fills an empty database with the demo community of
 * data/demo.json (compiled in): members in several networks, mentors among
 * them, and over two hundred invented, de-identified threads in English and
 * French with replies, reactions and accepted answers, spread over the past
 * weeks. Every thread and post goes through the same SQL functions as the API,
 * with bodies rendered by markdown.c. It refuses a database that has members:
 * demo accounts share a published password.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "alloc.h"
#include "cli.h"
#include "markdown.h"
#include "migrate.h"
#include "password.h"
#include "request.h"

extern const char *const cf_demo_json;
extern const size_t cf_demo_json_len;

#define MAX_MEMBERS 64
#define MAX_PLACEHOLDERS 16

struct seed {
    PGconn *pg;
    json_t *doc;
    json_t *values;
    int64_t members[MAX_MEMBERS];
    size_t nmembers;
    int is_mentor[MAX_MEMBERS];
    unsigned rng;
    long threads, posts, reactions, answers;
};

/* A small deterministic generator: the same demo every time. */
static unsigned next_rand(struct seed *s)
{
    s->rng = s->rng * 1103515245u + 12345u;
    return (s->rng >> 16) & 0x7fff;
}

/* Runs a statement answering one value; returns a copy (cf_free) or NULL after
 * printing the error. */
static char *one_value(struct seed *s, const char *sql, int n, const char *const *params)
{
    PGresult *r = PQexecParams(s->pg, sql, n, NULL, params, NULL, NULL, 0);
    char *out = NULL;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        out = cf_strdup(PQgetvalue(r, 0, 0));
    else
        fprintf(stderr, "confer: seed-demo: %s", PQresultErrorMessage(r));
    PQclear(r);
    return out;
}

static int exec_ok(struct seed *s, const char *sql)
{
    PGresult *r = PQexec(s->pg, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "confer: seed-demo: %s", PQresultErrorMessage(r));
    PQclear(r);
    return ok ? 0 : -1;
}

/* Replaces {name} with value number pick[name] of `values`. Returns a new string. */
static char *fill(struct seed *s, const char *text, const char *const *names, const size_t *pick,
                  size_t n)
{
    size_t cap = strlen(text) * 2 + 64, len = 0;
    char *out = cf_malloc(cap);
    for (const char *p = text; *p != '\0';) {
        const char *end = *p == '{' ? strchr(p, '}') : NULL;
        const char *value = NULL;
        if (end != NULL) {
            for (size_t i = 0; i < n && value == NULL; i++)
                if (strlen(names[i]) == (size_t)(end - p - 1) &&
                    strncmp(p + 1, names[i], (size_t)(end - p - 1)) == 0) {
                    json_t *list = json_object_get(s->values, names[i]);
                    value = json_string_value(json_array_get(list, pick[i]));
                }
        }
        size_t add = value ? strlen(value) : 1;
        if (len + add + 1 > cap) {
            cap = (len + add + 1) * 2;
            out = cf_realloc(out, cap);
        }
        if (value != NULL) {
            memcpy(out + len, value, add);
            p = end + 1;
        } else {
            out[len] = *p++;
        }
        len += add;
    }
    out[len] = '\0';
    return out;
}

/* A member who is (mentor 1) or is not (0) a mentor, other than `not`. */
static int64_t pick_member(struct seed *s, int mentor, int64_t not )
{
    for (int tries = 0; tries < 200; tries++) {
        size_t i = next_rand(s) % s->nmembers;
        if (s->is_mentor[i] == mentor && s->members[i] != not )
            return s->members[i];
    }
    return s->members[0];
}

static int react(struct seed *s, int64_t who, const char *post, const char *kind)
{
    char user[24];
    cf_id_text(user, who);
    const char *params[] = {user, post, kind};
    char *v = one_value(s, "SELECT cf_reaction_set($1, $2, $3, true)", 3, params);
    if (v == NULL)
        return -1;
    s->reactions += strstr(v, "\"error\"") == NULL;
    cf_free(v);
    return 0;
}

/* Creates one thread of template t with these placeholder choices. */
static int make_thread(struct seed *s, json_t *t, const char *const *names, const size_t *pick,
                       size_t n)
{
    const char *kind = json_string_value(json_object_get(t, "kind"));
    int64_t author = pick_member(s, 0, 0);
    char *title = fill(s, json_string_value(json_object_get(t, "title")), names, pick, n);
    char *body = fill(s, json_string_value(json_object_get(t, "body")), names, pick, n);
    char *html = cf_markdown_render(body, strlen(body));
    char tags[200] = "{";
    json_t *tag;
    size_t ti;
    json_array_foreach(json_object_get(t, "tags"), ti, tag)
    {
        size_t l = strlen(tags);
        snprintf(tags + l, sizeof(tags) - l, "%s%s", ti ? "," : "", json_string_value(tag));
    }
    strncat(tags, "}", sizeof(tags) - strlen(tags) - 1);
    char user[24], category_id[24];
    cf_id_text(user, author);
    const char *slug = json_string_value(json_object_get(t, "category"));
    const char *cparams[] = {slug};
    char *cat = one_value(s, "SELECT id FROM categories WHERE slug = $1", 1, cparams);
    int status = -1;
    char *created = NULL;
    if (cat == NULL)
        goto out;
    snprintf(category_id, sizeof(category_id), "%s", cat);
    cf_free(cat);
    const char *params[] = {user, category_id, title, kind, tags, body, html};
    created = one_value(s,
                        "SELECT (cf_thread_create($1, $2, NULL, $3, $4, $5::text[], $6, $7, NULL,"
                        " false,"
                        " 0)::jsonb) #>> '{created,thread,id}'",
                        7, params);
    if (created == NULL)
        goto out;
    s->threads++;
    s->posts++;
    /* replies: post ids by index, for reply_to and the accepted answer */
    json_t *replies = json_object_get(t, "replies");
    char post_ids[16][24];
    int64_t mentor = pick_member(s, 1, author);
    size_t ri;
    json_t *reply;
    json_array_foreach(replies, ri, reply)
    {
        if (ri >= 16)
            break;
        const char *by = json_string_value(json_object_get(reply, "by"));
        int64_t who = strcmp(by, "mentor") == 0   ? mentor
                      : strcmp(by, "author") == 0 ? author
                                                  : pick_member(s, 0, author);
        char *rbody = fill(s, json_string_value(json_object_get(reply, "body")), names, pick, n);
        char *rhtml = cf_markdown_render(rbody, strlen(rbody));
        char ruser[24];
        cf_id_text(ruser, who);
        json_t *to = json_object_get(reply, "reply_to");
        const char *reply_to = json_is_integer(to) && (size_t)json_integer_value(to) < ri
                                   ? post_ids[json_integer_value(to)]
                                   : NULL;
        const char *rparams[] = {ruser, created, reply_to, rbody, rhtml};
        char *pid = one_value(s,
                              "SELECT (cf_post_create($1, $2, $3, $4, $5, NULL, false, 0)::jsonb)"
                              " #>> '{post,id}'",
                              5, rparams);
        cf_free(rbody);
        cf_free(rhtml);
        if (pid == NULL)
            goto out;
        snprintf(post_ids[ri], sizeof(post_ids[ri]), "%s", pid);
        cf_free(pid);
        s->posts++;
        /* mentors' replies are found helpful, and thanked by the author */
        if (who == mentor) {
            unsigned k = 1 + next_rand(s) % 3;
            for (unsigned i = 0; i < k; i++)
                if (react(s, pick_member(s, 0, mentor), post_ids[ri], "helpful") != 0)
                    goto out;
            if (react(s, author, post_ids[ri], "thanks") != 0)
                goto out;
        } else if (next_rand(s) % 3 == 0 && react(s, author, post_ids[ri], "thanks") != 0) {
            goto out;
        }
    }
    json_t *accept = json_object_get(t, "accept");
    if (json_is_integer(accept) && (size_t)json_integer_value(accept) < json_array_size(replies)) {
        const char *aparams[] = {user, created, post_ids[json_integer_value(accept)]};
        char *v = one_value(s, "SELECT cf_thread_answer($1, $2, $3)", 3, aparams);
        if (v == NULL)
            goto out;
        s->answers += strstr(v, "\"error\"") == NULL;
        cf_free(v);
    }
    status = 0;
out:
    cf_free(created);
    cf_free(title);
    cf_free(body);
    cf_free(html);
    return status;
}

/* Every combination of the placeholders in the title; the body's others follow. */
static int make_threads(struct seed *s, json_t *t)
{
    const char *title = json_string_value(json_object_get(t, "title"));
    const char *names[MAX_PLACEHOLDERS];
    size_t sizes[MAX_PLACEHOLDERS], n = 0, in_title = 0;
    const char *key;
    json_t *list;
    json_object_foreach(s->values, key, list)
    {
        char pattern[64];
        snprintf(pattern, sizeof(pattern), "{%s}", key);
        if (n < MAX_PLACEHOLDERS) {
            names[n] = key;
            sizes[n] = json_array_size(list);
            if (strstr(title, pattern) != NULL) {
                /* title placeholders first: they are enumerated */
                const char *k = names[in_title];
                size_t z = sizes[in_title];
                names[in_title] = key;
                sizes[in_title] = json_array_size(list);
                names[n] = k;
                sizes[n] = z;
                in_title++;
            }
            n++;
        }
    }
    size_t total = 1;
    for (size_t i = 0; i < in_title; i++)
        total *= sizes[i];
    for (size_t c = 0; c < total; c++) {
        size_t pick[MAX_PLACEHOLDERS], rest = c;
        for (size_t i = 0; i < in_title; i++) {
            pick[i] = rest % sizes[i];
            rest /= sizes[i];
        }
        for (size_t i = in_title; i < n; i++)
            pick[i] = (c + i) % sizes[i];
        if (make_thread(s, t, names, pick, n) != 0)
            return -1;
    }
    return 0;
}

static int make_members(struct seed *s, const char *hash)
{
    json_t *m;
    size_t i;
    json_t *mentors = json_object_get(s->doc, "mentors");
    json_array_foreach(json_object_get(s->doc, "members"), i, m)
    {
        if (i >= MAX_MEMBERS)
            break;
        const char *params[] = {json_string_value(json_object_get(m, "name")),
                                json_string_value(json_object_get(m, "profession")),
                                json_string_value(json_object_get(m, "network")),
                                json_string_value(json_object_get(m, "role")),
                                json_string_value(json_object_get(m, "locale")),
                                hash};
        char *id = one_value(
            s,
            "WITH h AS (SELECT cf_handle_for($1, NULL) AS handle)"
            " INSERT INTO users (email, handle, display_name, profession, network_id, site_role,"
            " password_hash, locale, guidelines_version, guidelines_accepted_at)"
            " SELECT h.handle || '@demo.confer.example', h.handle, $1, $2, n.id, $4, $6, $5,"
            " (SELECT max(version) FROM guidelines), now() FROM h, networks n WHERE n.code = $3"
            " RETURNING id",
            6, params);
        if (id == NULL)
            return -1;
        s->members[s->nmembers] = strtoll(id, NULL, 10);
        cf_free(id);
        size_t k;
        json_t *mi;
        json_array_foreach(mentors, k, mi)
        {
            if ((size_t)json_integer_value(mi) == i)
                s->is_mentor[s->nmembers] = 1;
        }
        s->nmembers++;
    }
    return s->nmembers >= 4 ? 0 : -1;
}

/* Spreads the demo over the past weeks: thread i a few hours after thread i-1,
 * replies hours after their thread, as a real forum would look. */
static int backdate(struct seed *s)
{
    return exec_ok(
        s,
        "WITH t AS (SELECT id, highest_post_number AS n, now() - (count(*) OVER ()"
        "   - row_number() OVER (ORDER BY md5(id::text))) * interval '173 minutes'"
        "   - interval '2 hours' AS at FROM threads)"
        " UPDATE posts p SET created_at = t.at + (p.number - 1)"
        "   * least(interval '3 hours 7 minutes', (now() - t.at) / (t.n + 1))"
        " FROM t WHERE p.thread_id = t.id;"
        "UPDATE post_revisions r SET created_at = p.created_at FROM posts p WHERE p.id = r.post_id;"
        "UPDATE threads t SET created_at = f.first, last_post_at = f.last FROM"
        " (SELECT thread_id, min(created_at) AS first, max(created_at) AS last FROM posts"
        "  GROUP BY thread_id) f WHERE f.thread_id = t.id;"
        "UPDATE categories c SET last_post_at = (SELECT max(last_post_at) FROM threads t"
        " WHERE t.category_id = c.id AND t.deleted_at IS NULL);"
        "UPDATE users SET last_post_at = NULL, last_thread_at = NULL;");
}

int cf_cli_seed_demo(const struct cf_config *cfg)
{
    char err[512];
    struct seed s = {.rng = 20261122u};
    int status = 1;
    if (cf_migrate_run(cfg->database_url, 0, err, sizeof(err)) != 0) {
        fprintf(stderr, "confer: %s\n", err);
        return 1;
    }
    s.doc = json_loadb(cf_demo_json, cf_demo_json_len, 0, NULL);
    if (s.doc == NULL) {
        fprintf(stderr, "confer: the compiled-in demo content is not JSON\n");
        return 1;
    }
    s.values = json_object_get(s.doc, "values");
    const char *password = json_string_value(json_object_get(s.doc, "password"));
    char hash[CF_PASSWORD_HASH_MAX];
    if (cf_password_hash_now(password, hash, sizeof(hash)) != 0) {
        fprintf(stderr, "confer: could not hash the demo password\n");
        goto out;
    }
    s.pg = PQconnectdb(cfg->database_url);
    if (PQstatus(s.pg) != CONNECTION_OK) {
        fprintf(stderr, "confer: could not connect to the database: %s", PQerrorMessage(s.pg));
        goto out;
    }
    char *count = one_value(&s, "SELECT count(*) FROM users", 0, NULL);
    if (count == NULL)
        goto out;
    int empty = strcmp(count, "0") == 0;
    cf_free(count);
    if (!empty) {
        fprintf(stderr, "confer: seed-demo fills only an empty database (this one has members;"
                        " demo accounts share a published password)\n");
        status = 2;
        goto out;
    }
    if (exec_ok(&s, "BEGIN") != 0 || make_members(&s, hash) != 0)
        goto rollback;
    json_t *t;
    size_t i;
    json_array_foreach(json_object_get(s.doc, "threads"), i, t)
    {
        if (make_threads(&s, t) != 0)
            goto rollback;
    }
    if (backdate(&s) != 0 || exec_ok(&s, "COMMIT") != 0)
        goto rollback;
    printf("seeded %zu members, %ld threads, %ld posts, %ld reactions, %ld accepted answers\n",
           s.nmembers, s.threads, s.posts, s.reactions, s.answers);
    PGresult *r = PQexec(s.pg, "SELECT email, site_role, display_name FROM users ORDER BY id");
    for (int k = 0; k < PQntuples(r) && k < 4; k++)
        printf("  %-40s %-11s %s\n", PQgetvalue(r, k, 0), PQgetvalue(r, k, 1), PQgetvalue(r, k, 2));
    PQclear(r);
    printf("  ... every demo account's password: %s\n", password);
    status = 0;
    goto out;
rollback:
    exec_ok(&s, "ROLLBACK");
out:
    if (s.pg != NULL)
        PQfinish(s.pg);
    json_decref(s.doc);
    return status;
}
