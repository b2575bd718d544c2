/*
 * privacy: the patient-privacy guard (SPEC section 6). One pass over a title
 * or a post body finds what could identify a patient: health numbers and
 * social insurance numbers (block), dates of birth, phone numbers, emails,
 * postal codes, chart numbers, street addresses and names after a title
 * (warn). docs/privacy.md says what each rule catches and what it cannot.
 */
#ifndef CF_PRIVACY_H
#define CF_PRIVACY_H

#include <stddef.h>

#include <jansson.h>

enum cf_privacy_severity { CF_PRIVACY_NONE = 0, CF_PRIVACY_WARN = 1, CF_PRIVACY_BLOCK = 2 };

/* At most this many findings are kept; the worst severity counts all of them. */
#define CF_PRIVACY_FINDINGS_MAX 100

struct cf_privacy_finding {
    const char *kind;     /* "bc_phn", "phone", … (static) */
    const char *province; /* "BC", "ON", … or NULL (static) */
    int severity;         /* CF_PRIVACY_WARN or CF_PRIVACY_BLOCK */
    size_t start, end;    /* bytes into the text, end exclusive */
    size_t cstart, cend;  /* the same in characters (Unicode code points) */
};

struct cf_privacy_result {
    struct cf_privacy_finding *items; /* sorted by start, never overlapping */
    size_t count, cap;
    int worst;     /* the highest severity found, CF_PRIVACY_NONE when clean */
    int truncated; /* more than CF_PRIVACY_FINDINGS_MAX were found */
};

/*
 * Scans len bytes of UTF-8 text (invalid bytes are read as single characters,
 * never trusted). Fills r, which the caller zeroes first and releases with
 * cf_privacy_result_free. Returns r->worst.
 */
int cf_privacy_scan(const char *text, size_t len, struct cf_privacy_result *r);
void cf_privacy_result_free(struct cf_privacy_result *r);

/* "block" or "warn". */
const char *cf_privacy_severity_name(int severity);

/*
 * Appends one object per finding to array: {kind, severity, start, end,
 * excerpt, province?, field?}. The excerpt is the finding with up to 20
 * characters on either side. field (may be NULL) names where the text was,
 * "title" or "body".
 */
void cf_privacy_json_append(json_t *array, const char *text, size_t len,
                            const struct cf_privacy_result *r, const char *field);

#endif
