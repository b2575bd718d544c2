/* problem: problem+json bodies; see problem.h. */
#include <stdarg.h>
#include <stdio.h>

#include "problem.h"

const char *cf_status_title(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    default:
        return "Error";
    }
}

json_t *cf_problem_new(int status, const char *code, const char *detail, json_t *errors)
{
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string("about:blank"));
    json_object_set_new(o, "title", json_string(cf_status_title(status)));
    json_object_set_new(o, "status", json_integer(status));
    json_object_set_new(o, "code", json_string(code));
    if (detail != NULL && detail[0] != '\0')
        json_object_set_new(o, "detail", json_string(detail));
    if (errors != NULL)
        json_object_set_new(o, "errors", errors);
    return o;
}

int cf_error_set(struct cf_error *err, int status, const char *code, const char *fmt, ...)
{
    va_list ap;
    err->status = status;
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
    va_end(ap);
    return -1;
}

void cf_errors_add(json_t **errors, const char *field, const char *code, const char *message)
{
    if (*errors == NULL)
        *errors = json_array();
    json_array_append_new(
        *errors, json_pack("{s:s,s:s,s:s}", "field", field, "code", code, "message", message));
}
