/*
 * libFuzzer target for JSON request bodies as the server takes them: UTF-8 checked,
 * parsed by jansson with duplicate keys refused (server/http_server.c read_body), then
 * read by the field validators every handler uses (server/request.c: strings with
 * their character limits and control characters, integers, id arrays, nested objects,
 * the moderation reason) and answered as problem+json. Invariants: a string accepted
 * has no control character and its length within the limits; an id array literal
 * holds positive integers only; every error names a field and a code; the problem
 * document serialises and parses back.
 *
 * scripts/test runs it for CONFER_FUZZ_SECONDS; a long run:
 *   build-fuzz/fuzz_json -max_total_time=3600 -dict=tests/fuzz/json.dict corpus/
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "alloc.h"
#include "problem.h"
#include "request.h"
#include "uri.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_string(const char *s, size_t min, size_t max)
{
    if (s == NULL)
        return;
    size_t n = strlen(s);
    CHECK(cf_utf8_valid(s, n));
    size_t chars = cf_utf8_chars(s);
    CHECK(chars >= min && chars <= max);
    for (const char *c = s; *c; c++)
        CHECK(((unsigned char)*c >= 0x20 && *c != 0x7f) || *c == '\n' || *c == '\t');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!cf_utf8_valid((const char *)data, size))
        return 0;
    json_error_t jerr;
    json_t *body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (body == NULL)
        return 0;
    if (!json_is_object(body)) {
        json_decref(body);
        return 0;
    }
    /* the validators read only req->body: a request without a connection will do */
    struct cf_request req;
    memset(&req, 0, sizeof(req));
    req.body = body;
    json_t *errors = NULL;

    check_string(cf_body_string(&req, "title", 3, 200, &errors), 3, 200);
    check_string(cf_body_string(&req, "body", 1, 50000, &errors), 1, 50000);
    check_string(cf_body_string(&req, "email", 3, 254, &errors), 3, 254);
    check_string(cf_body_reason(&req, &errors), 3, 500);
    json_t *name = json_object_get(body, "name");
    if (json_is_object(name))
        check_string(cf_json_string(name, "en", "name.en", 1, 60, &errors), 1, 60);
    int64_t version = 0;
    size_t before = errors ? json_array_size(errors) : 0;
    int has = cf_body_int(&req, "version", &version, &errors);
    json_t *v = json_object_get(body, "version");
    /* an integer is read as it is; anything else but null is an error */
    if (json_is_integer(v))
        CHECK(has == 1 && version == (int64_t)json_integer_value(v));
    else
        CHECK(has == 0 && (v == NULL || json_is_null(v) ||
                           (errors != NULL && json_array_size(errors) == before + 1)));
    char *ids = cf_body_id_array(&req, "participant_ids", 1, 20, "ids of members", &errors);
    if (ids != NULL) {
        size_t n = strlen(ids);
        CHECK(n >= 3 && ids[0] == '{' && ids[n - 1] == '}');
        for (size_t i = 1; i + 1 < n; i++)
            CHECK((ids[i] >= '0' && ids[i] <= '9') || ids[i] == ',');
        CHECK(ids[1] != '0' && strstr(ids, ",0") == NULL && strstr(ids, ",,") == NULL);
        cf_free(ids);
    }

    if (errors != NULL) {
        size_t i;
        json_t *e;
        json_array_foreach(errors, i, e)
        {
            CHECK(json_is_string(json_object_get(e, "field")));
            CHECK(json_is_string(json_object_get(e, "code")));
        }
        json_t *problem = cf_problem_new(422, "validation_failed", "fields", errors);
        char *text = json_dumps(problem, JSON_COMPACT);
        CHECK(text != NULL);
        json_t *back = json_loads(text, 0, NULL);
        CHECK(back != NULL && json_integer_value(json_object_get(back, "status")) == 422);
        json_decref(back);
        free(text);
        json_decref(problem);
    }
    json_decref(body);
    return 0;
}
