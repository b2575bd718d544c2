/*
 * libFuzzer target for server/privacy.c: any bytes are scanned without a crash,
 * a leak or undefined behaviour (the build adds ASan and UBSan), and the
 * findings keep their invariants: sorted, disjoint, inside the text, character
 * offsets consistent with byte offsets, at most CF_PRIVACY_FINDINGS_MAX, the
 * worst severity at least that of every finding, the same answer twice, and a
 * JSON rendering whose excerpts contain the finding.
 *
 * scripts/test builds it with clang and runs it for a short while; for a long
 * run: build-fuzz/fuzz_privacy -max_total_time=3600 build-fuzz/corpus
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "privacy.h"
#include "fuzz.h"

static size_t chars_in(const uint8_t *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            c++;
    return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cf_privacy_result r = {0}, again = {0};
    int worst = cf_privacy_scan((const char *)data, size, &r);
    CHECK(worst == r.worst);
    CHECK(r.count <= CF_PRIVACY_FINDINGS_MAX);
    for (size_t k = 0; k < r.count; k++) {
        const struct cf_privacy_finding *f = &r.items[k];
        CHECK(f->start < f->end && f->end <= size);
        CHECK(f->severity == CF_PRIVACY_WARN || f->severity == CF_PRIVACY_BLOCK);
        CHECK(f->severity <= worst);
        CHECK(f->kind != NULL && f->kind[0] != '\0');
        CHECK(f->cstart == chars_in(data, f->start));
        CHECK(f->cend == chars_in(data, f->end));
        if (k > 0)
            CHECK(r.items[k - 1].end <= f->start);
    }
    cf_privacy_scan((const char *)data, size, &again);
    CHECK(again.count == r.count && again.worst == r.worst);
    for (size_t k = 0; k < r.count; k++)
        CHECK(again.items[k].start == r.items[k].start && again.items[k].end == r.items[k].end &&
              strcmp(again.items[k].kind, r.items[k].kind) == 0);
    json_t *a = json_array();
    cf_privacy_json_append(a, (const char *)data, size, &r, "body");
    CHECK(json_array_size(a) == r.count);
    char *out = json_dumps(a, JSON_COMPACT);
    CHECK(out != NULL);
    free(out);
    json_decref(a);
    cf_privacy_result_free(&again);
    cf_privacy_result_free(&r);
    return 0;
}
