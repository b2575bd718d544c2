/*
 * problem: RFC 9457 problem details, the body of every error reply
 * (SPEC section 4). `code` is stable and machine-readable; clients
 * translate it, so it never changes once published.
 */
#ifndef CF_PROBLEM_H
#define CF_PROBLEM_H

#include <jansson.h>

/* A failure the client should see; the request layer turns it into problem+json. */
struct cf_error {
    int status;
    const char *code;
    char detail[200];
};

/* The standard reason phrase of an HTTP status ("Not Found"). */
const char *cf_status_title(int status);

/*
 * Builds {"type":"about:blank","title","status","code","detail"[,"errors"]}.
 * errors (an array of {field, code, message}) is stolen when given.
 * Returns a new reference.
 */
json_t *cf_problem_new(int status, const char *code, const char *detail, json_t *errors);

/* Appends {field, code, message} to *errors (creating the array). */
void cf_errors_add(json_t **errors, const char *field, const char *code, const char *message);

/* Fills err; returns -1 so that callers can `return cf_error_set(...)`. */
int cf_error_set(struct cf_error *err, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
