/*
 * h_categories: the national forum's categories (SPEC section 4, "Structure").
 * Every member reads them, with thread counts and latest activity; admins
 * create and edit them, and each change lands in the moderation log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "http_server.h"
#include "request.h"
#include "routes.h"

static struct cf_db_stmt q_list = CF_DB_STMT(
    "categories_list",
    "SELECT json_build_object('items', coalesce(json_agg(cf_category_json(c) ORDER BY c.position, "
    "c.id), '[]'::json), 'next_cursor', NULL) FROM categories c",
    0);

static struct cf_db_stmt q_get =
    CF_DB_STMT("category_get",
               "SELECT cf_category_json(c) FROM categories c WHERE c.id = $1 OR c.slug = $2", 2);

/* The {name} of /categories/{name}: an id or a slug. */
static void category_key(const struct cf_request *req, char key[48], char id[24])
{
    const struct cf_route_param *p = &req->match.params[0];
    snprintf(key, 48, "%.*s", (int)(p->len < 47 ? p->len : 47), p->start);
    snprintf(id, 24, "0");
    size_t n = strlen(key);
    if (n > 0 && n < 16 && key[0] != '0' && strspn(key, "0123456789") == n)
        snprintf(id, 24, "%s", key);
}

static struct cf_db_stmt q_save =
    CF_DB_STMT("category_save", "SELECT cf_category_save($1, $2, $3::jsonb)", 3);

static const struct cf_sql_error save_errors[] = {
    {"not_found", 404, "no such category", NULL},
    {"slug_taken", 409, "another category has this slug", NULL},
};

static void on_saved(struct cf_db_result *r, void *arg)
{
    cf_request_reply_outcome(arg, r, "category", save_errors,
                             sizeof(save_errors) / sizeof(save_errors[0]));
}

void cf_h_categories_list(struct cf_request *req)
{
    cf_request_run_json(req, &q_list, NULL, 200);
}

void cf_h_category_get(struct cf_request *req)
{
    char key[48], id[24];
    category_key(req, key, id);
    const char *params[] = {id, key};
    cf_request_run_json(req, &q_get, params, 200);
}

static int slug_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 40 || s[0] == '-' || s[n - 1] == '-' || strstr(s, "--") != NULL)
        return 0;
    if (s[strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-")] != '\0')
        return 0;
    return strspn(s, "0123456789") != n; /* all digits would read as an id */
}

/* name / description: {"en": …, "fr": …}; each language present is copied into fields
 * as <key>_en / <key>_fr. */
static void localized(struct cf_request *req, const char *key, size_t min, size_t max, int required,
                      json_t *fields, json_t **errors)
{
    json_t *v = json_object_get(req->body, key);
    if (v == NULL || json_is_null(v)) {
        if (required)
            cf_errors_add(errors, key, "required", "an object with en and fr");
        return;
    }
    if (!json_is_object(v)) {
        cf_errors_add(errors, key, "not_an_object", "an object with en and fr");
        return;
    }
    static const char *const langs[] = {"en", "fr"};
    for (size_t i = 0; i < 2; i++) {
        char field[48], column[48];
        snprintf(field, sizeof(field), "%s.%s", key, langs[i]);
        snprintf(column, sizeof(column), "%s_%s", key, langs[i]);
        const char *s = cf_json_string(v, langs[i], field, min, max, errors);
        if (s != NULL)
            json_object_set_new(fields, column, json_string(s));
        else if (required && json_object_get(v, langs[i]) == NULL)
            cf_errors_add(errors, field, "required", "both languages are required");
    }
}

static void save(struct cf_request *req, int create)
{
    if (req->auth.role != CF_ROLE_ADMIN) {
        cf_reply_problem(req, 403, "forbidden", "only admins create and edit categories");
        return;
    }
    json_t *errors = NULL;
    json_t *fields = json_object();
    const char *slug = cf_body_string(req, "slug", 1, 40, &errors);
    if (slug != NULL && !slug_valid(slug))
        cf_errors_add(&errors, "slug", "invalid",
                      "lower-case letters, digits and single hyphens, not only digits");
    else if (slug != NULL)
        json_object_set_new(fields, "slug", json_string(slug));
    else if (create && json_object_get(req->body, "slug") == NULL)
        cf_errors_add(&errors, "slug", "required", "the category's address, as chronic-pain");
    localized(req, "name", 1, 60, create, fields, &errors);
    localized(req, "description", 0, 500, 0, fields, &errors);
    int64_t position;
    if (cf_body_int(req, "position", &position, &errors)) {
        if (position < 0 || position > 10000)
            cf_errors_add(&errors, "position", "out_of_range", "from 0 to 10000");
        else
            json_object_set_new(fields, "position", json_integer(position));
    }
    if (errors == NULL && json_object_size(fields) == 0)
        cf_errors_add(&errors, "body", "empty", "nothing to change");
    if (errors != NULL) {
        json_decref(fields);
        cf_reply_invalid(req, errors);
        return;
    }
    char actor[24], key[48], id[24];
    cf_id_text(actor, req->auth.user_id);
    if (!create)
        category_key(req, key, id);
    char *text = json_dumps(fields, JSON_COMPACT);
    json_decref(fields);
    const char *params[] = {actor, create ? NULL : key, text};
    req->success_status = create ? 201 : 200;
    cf_db_query(req->worker->db, &q_save, params, on_saved, req);
    free(text);
}

void cf_h_category_create(struct cf_request *req)
{
    save(req, 1);
}

void cf_h_category_update(struct cf_request *req)
{
    save(req, 0);
}
