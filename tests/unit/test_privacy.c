/*
 * Unit tests of server/privacy.c: every rule of SPEC section 6 on its own, the
 * corpus of tests/privacy/ (clean vignettes find nothing; identifiers are found
 * with their kind and severity), and what must hold for any input.
 *
 *   test_privacy                 the cmocka tests
 *   test_privacy --scan          prints the findings of standard input as JSON
 *   test_privacy --report DIR    precision and recall over the corpus in DIR (or over
 *                                one .jsonl file, such as tests/privacy/holdout.jsonl)
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "privacy.h"

#ifndef CF_SOURCE_ROOT
#define CF_SOURCE_ROOT "."
#endif

/* The findings of text as "kind/severity/excerpt" lines, for messages. */
static void describe(const char *text, const struct cf_privacy_result *r, char *out, size_t size)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t k = 0; k < r->count && len < size; k++) {
        const struct cf_privacy_finding *f = &r->items[k];
        len += (size_t)snprintf(out + len, size - len, "[%s %s '%.*s'] ", f->kind,
                                cf_privacy_severity_name(f->severity), (int)(f->end - f->start),
                                text + f->start);
    }
}

/* Asserts text has exactly one finding, of kind and severity, whose text is match. */
static void expect_one(const char *text, const char *kind, int severity, const char *match)
{
    struct cf_privacy_result r = {0};
    cf_privacy_scan(text, strlen(text), &r);
    char d[1024];
    describe(text, &r, d, sizeof(d));
    if (r.count != 1 || strcmp(r.items[0].kind, kind) != 0 || r.items[0].severity != severity ||
        strlen(match) != r.items[0].end - r.items[0].start ||
        memcmp(text + r.items[0].start, match, strlen(match)) != 0)
        fail_msg("'%s': wanted one %s '%s', found %zu: %s", text, kind, match, r.count, d);
    assert_int_equal(r.worst, severity);
    cf_privacy_result_free(&r);
}

static void expect_none(const char *text)
{
    struct cf_privacy_result r = {0};
    cf_privacy_scan(text, strlen(text), &r);
    char d[1024];
    describe(text, &r, d, sizeof(d));
    if (r.count != 0 || r.worst != CF_PRIVACY_NONE)
        fail_msg("'%s': wanted no finding, found: %s", text, d);
    cf_privacy_result_free(&r);
}

static void bc_phn_with_its_check_digit(void **state)
{
    (void)state;
    expect_one("the form said 9876 543 218 in pencil", "bc_phn", CF_PRIVACY_BLOCK, "9876 543 218");
    expect_one("9698658215", "bc_phn", CF_PRIVACY_BLOCK, "9698658215");
    expect_one("card 9698-658-215.", "bc_phn", CF_PRIVACY_BLOCK, "9698-658-215");
    /* one digit off: not a PHN, not Luhn-valid either */
    expect_none("reference 9698 658 216 in the letter");
}

static void ontario_health_number_with_luhn_and_version_code(void **state)
{
    (void)state;
    expect_one("OHIP card is 1234 567 897 AB, renewed", "ontario_health_number", CF_PRIVACY_BLOCK,
               "1234 567 897 AB");
    expect_one("number 1234-567-897-ZX", "ontario_health_number", CF_PRIVACY_BLOCK,
               "1234-567-897-ZX");
    expect_one("1234567897", "ontario_health_number", CF_PRIVACY_BLOCK, "1234567897");
    expect_none("lot 1234 567 898 of the pharmacy");
}

static void keyword_anchored_runs_for_the_other_provinces(void **state)
{
    (void)state;
    expect_one("Her RAMQ is TREM 6512 2519 per the intake", "health_card_number", CF_PRIVACY_BLOCK,
               "6512 2519");
    expect_one("Alberta PHN 12345-6789", "health_card_number", CF_PRIVACY_BLOCK, "12345-6789");
    expect_one("carte d’assurance maladie : 4412 3456 78", "health_card_number", CF_PRIVACY_BLOCK,
               "4412 3456 78");
    expect_one("12345678 (MSI)", "health_card_number", CF_PRIVACY_BLOCK, "12345678");
    /* in parentheses (the held-out set found this one) */
    expect_one("numéro d'assurance maladie (8525-964-518) - je", "health_card_number",
               CF_PRIVACY_BLOCK, "8525-964-518");
    /* far from the keyword, or too short */
    expect_none("PHN (postherpetic neuralgia) since the shingles, on gabapentin 300 mg tid "
                "and now 12345678 steps a year");
    expect_none("Medicare covers 1234567 of it");
}

/* What the review of the first version found unread (each gave no finding). */
static void numbers_after_dates_words_and_commas(void **state)
{
    (void)state;
    expect_one("Visit 2024-01-15 9698658215", "bc_phn", CF_PRIVACY_BLOCK, "9698658215");
    expect_one("2024-01-15 130 692 544", "sin", CF_PRIVACY_BLOCK, "130 692 544");
    expect_one("2024-01-15 604-555-0182", "phone", CF_PRIVACY_WARN, "604-555-0182");
    expect_one("L5-S1 9698 658 215", "bc_phn", CF_PRIVACY_BLOCK, "9698 658 215");
    expect_one("RAMQ: TREM65122519", "health_card_number", CF_PRIVACY_BLOCK, "65122519");
    expect_one("PHN9698658215", "bc_phn", CF_PRIVACY_BLOCK, "9698658215");
    expect_one("SIN130692544", "sin", CF_PRIVACY_BLOCK, "130692544");
    expect_one("96986 58215", "bc_phn", CF_PRIVACY_BLOCK, "96986 58215");
    expect_one("130692 544", "sin", CF_PRIVACY_BLOCK, "130692 544");
    struct cf_privacy_result r = {0};
    const char *two = "9698658215,1234567897";
    cf_privacy_scan(two, strlen(two), &r);
    assert_int_equal(r.count, 2);
    cf_privacy_result_free(&r);
    expect_one("health card 12-11-2345-678", "health_card_number", CF_PRIVACY_BLOCK,
               "12-11-2345-678");
    expect_one("born 12 March, 1984", "date_of_birth", CF_PRIVACY_WARN, "12 March, 1984");
    expect_one("born on the 3rd of May 1984", "date_of_birth", CF_PRIVACY_WARN, "3rd of May 1984");
    /* and what must stay clean around them */
    expect_none("A1c 7.9, F11.20, COVID19 x2, lot 2024-01-15 3, MMSE 28/30");
}

static void social_insurance_numbers(void **state)
{
    (void)state;
    expect_one("SIN 046 454 286 on the disability form", "sin", CF_PRIVACY_BLOCK, "046 454 286");
    /* not Luhn-valid but next to NAS */
    expect_one("son NAS : 123 456 788", "sin", CF_PRIVACY_BLOCK, "123 456 788");
    expect_one("social insurance number (065 579 567)", "sin", CF_PRIVACY_BLOCK, "065 579 567");
    /* Luhn-valid but starting with 8 (not a SIN) */
    expect_none("order 812 345 676 shipped");
}

static void dates_of_birth_in_english_and_french(void **state)
{
    (void)state;
    expect_one("DOB 1984-03-12, presenting with low back pain", "date_of_birth", CF_PRIVACY_WARN,
               "1984-03-12");
    expect_one("born on March 12, 1984 in Sudbury", "date_of_birth", CF_PRIVACY_WARN,
               "March 12, 1984");
    expect_one("née le 1er mars 1984", "date_of_birth", CF_PRIVACY_WARN, "1er mars 1984");
    expect_one("date de naissance : 12/03/1984", "date_of_birth", CF_PRIVACY_WARN, "12/03/1984");
    expect_one("D.O.B.: Mar. 12 1984", "date_of_birth", CF_PRIVACY_WARN, "Mar. 12 1984");
    /* dates without birth context, a birth year only, a sentence in between */
    expect_none("Seen on 2026-03-14 and again on 14 mars 2026.");
    expect_none("Born in 1984, she has had migraines since her teens.");
    expect_none("Born at term. Seen 2026-03-14 for follow-up.");
    expect_none("il ne le prend plus depuis le 12 mars 2026");
}

static void phone_numbers(void **state)
{
    (void)state;
    expect_one("call (604) 555-0182 after 5", "phone", CF_PRIVACY_WARN, "(604) 555-0182");
    expect_one("cell 514-555-0147.", "phone", CF_PRIVACY_WARN, "514-555-0147");
    expect_one("416.555.0199", "phone", CF_PRIVACY_WARN, "416.555.0199");
    expect_one("at +1 709 555 0123 or", "phone", CF_PRIVACY_WARN, "+1 709 555 0123");
    expect_one("1-800-555-0144", "phone", CF_PRIVACY_WARN, "1-800-555-0144");
    /* dose schedules, tapers, blood pressure and lab values are not phones */
    expect_none("hydromorphone 2-4 mg q4h, 1-0-1, then 10-10-20 mg, BP 138/86, TSH 2.45");
    expect_none("taper 90 -> 75 -> 60 mg MME over 3-4 weeks; PHQ-9 18, GAD-7 12");
}

static void emails_and_postal_codes(void **state)
{
    (void)state;
    expect_one("write to j.tremblay@example.ca today", "email", CF_PRIVACY_WARN,
               "j.tremblay@example.ca");
    expect_one("lives near V5K 0A1", "postal_code", CF_PRIVACY_WARN, "V5K 0A1");
    expect_one("code postal H2X1Y4.", "postal_code", CF_PRIVACY_WARN, "H2X1Y4");
    expect_none("B12 low, L5-S1 disc, T4 normal, A1c 7.9%, F11.20");
    expect_none("the @mentor handle and an @ sign");
}

static void chart_numbers_and_street_addresses(void **state)
{
    (void)state;
    expect_one("MRN: A0012345 at discharge", "mrn", CF_PRIVACY_WARN, "A0012345");
    expect_one("numéro de dossier 7823451", "mrn", CF_PRIVACY_WARN, "7823451");
    expect_one("chart # 00456123", "mrn", CF_PRIVACY_WARN, "00456123");
    expect_none("chart review on 2026-03-14 showed 12 visits");
    expect_one("she lives at 1234 Main Street with her son", "street_address", CF_PRIVACY_WARN,
               "1234 Main Street");
    expect_one("789 Queen St W.", "street_address", CF_PRIVACY_WARN, "789 Queen St W");
    expect_one("au 4500, rue Sherbrooke Est depuis mai", "street_address", CF_PRIVACY_WARN,
               "4500, rue Sherbrooke Est");
    expect_one("77 chemin du Lac", "street_address", CF_PRIVACY_WARN, "77 chemin du Lac");
    expect_none("2 tablets at bedtime, 3 Advil Extra Strength a day");
}

static void names_after_titles_and_patient(void **state)
{
    (void)state;
    expect_one("Mr. Tremblay came back", "name", CF_PRIVACY_WARN, "Tremblay");
    expect_one("j'ai revu Mme Nguyen-Roy hier", "name", CF_PRIVACY_WARN, "Nguyen-Roy");
    expect_one("M. Gagnon refuse", "name", CF_PRIVACY_WARN, "Gagnon");
    expect_one("my patient John Smith has", "name", CF_PRIVACY_WARN, "John Smith");
    expect_one("la patiente Marie-Ève a", "name", CF_PRIVACY_WARN, "Marie-Ève");
    /* placeholders and phrases are not names */
    expect_none("Mr. X and Mme B. and patient A, client Y");
    expect_none("the Patient Health Questionnaire and client Centred care");
    expect_none("the patient was seen; the client prefers mornings");
}

/* Properties that hold for any text: sorted, disjoint, in bounds, worst consistent. */
static void check_invariants(const char *text, size_t len)
{
    struct cf_privacy_result r = {0};
    int worst = cf_privacy_scan(text, len, &r);
    int seen = CF_PRIVACY_NONE;
    size_t chars = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)text[i] & 0xC0) != 0x80)
            chars++;
    assert_true(r.count <= CF_PRIVACY_FINDINGS_MAX);
    for (size_t k = 0; k < r.count; k++) {
        const struct cf_privacy_finding *f = &r.items[k];
        assert_true(f->start < f->end && f->end <= len);
        assert_true(f->cstart < f->cend && f->cend <= chars);
        if (k > 0)
            assert_true(r.items[k - 1].end <= f->start);
        if (f->severity > seen)
            seen = f->severity;
    }
    assert_true(worst >= seen);
    assert_int_equal(worst, r.worst);
    cf_privacy_result_free(&r);
}

static void offsets_are_characters(void **state)
{
    (void)state;
    const char *text = "Élève déjà vue, téléphone : 514-555-0147";
    struct cf_privacy_result r = {0};
    cf_privacy_scan(text, strlen(text), &r);
    assert_int_equal(r.count, 1);
    assert_int_equal(r.items[0].cstart, 28);
    assert_int_equal(r.items[0].cend, 40);
    json_t *a = json_array();
    cf_privacy_json_append(a, text, strlen(text), &r, "body");
    json_t *f = json_array_get(a, 0);
    assert_string_equal(json_string_value(json_object_get(f, "kind")), "phone");
    assert_string_equal(json_string_value(json_object_get(f, "severity")), "warn");
    assert_string_equal(json_string_value(json_object_get(f, "field")), "body");
    assert_int_equal(json_integer_value(json_object_get(f, "start")), 28);
    assert_string_equal(json_string_value(json_object_get(f, "excerpt")),
                        "vue, téléphone : 514-555-0147");
    json_decref(a);
    cf_privacy_result_free(&r);
    check_invariants(text, strlen(text));
}

static void hostile_input_keeps_the_invariants(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "",
        "9",
        "(",
        "(604",
        "(604)",
        "+1",
        "@",
        "a@",
        "@b.c",
        "x@y.",
        "Mr.",
        "Mr. ",
        "M.",
        "patient",
        "DOB",
        "DOB 1984-",
        "1984-03-",
        "\xff\xfe\xc3",
        "\xe2\x80",
        "1 2 3 4 5 6 7 8",
        "1-1-1-1-1-1-1-1-1-1-1-1-1-1",
        "PHN 1 2 3 4 5 6 7 8 9 0 1 2 3",
        "4500, rue",
        "4500 Main",
        "V5K",
        "V5K 0A",
        "né le 1er",
        "SIN 123",
        "MRN A",
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        check_invariants(texts[i], strlen(texts[i]));
    /* every prefix of a text full of findings */
    const char *full = "Mr. Tremblay (DOB 1984-03-12), PHN 9698 658 215, SIN 046 454 286, "
                       "cell 514-555-0147, j@example.ca, V5K 0A1, MRN A0012345, "
                       "1234 Main Street, née le 1er mars 1984.";
    for (size_t n = 0; n <= strlen(full); n++)
        check_invariants(full, n);
    /* many findings: the list is capped, the severity is not */
    size_t size = 20000;
    char *many = malloc(size);
    size_t len = 0;
    while (len + 40 < size)
        len += (size_t)snprintf(many + len, size - len, "x@example.ca 514-555-0147 ");
    len += (size_t)snprintf(many + len, size - len, "9698658215");
    struct cf_privacy_result r = {0};
    assert_int_equal(cf_privacy_scan(many, len, &r), CF_PRIVACY_BLOCK);
    assert_int_equal(r.count, CF_PRIVACY_FINDINGS_MAX);
    assert_true(r.truncated);
    cf_privacy_result_free(&r);
    free(many);
}

/* ---- the corpus ---- */

struct tally {
    int texts, clean_texts, clean_with_findings;
    int expected, found, wrong_kind, findings, false_positives;
};

static json_t *load_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    json_t *all = json_array();
    char line[16384];
    while (fgets(line, sizeof(line), f) != NULL) {
        if (line[0] == '\n' || line[0] == '\0')
            continue;
        json_error_t e;
        json_t *o = json_loads(line, 0, &e);
        if (o == NULL) {
            fclose(f);
            json_decref(all);
            fail_msg("%s: %s", path, e.text);
        }
        json_array_append_new(all, o);
    }
    fclose(f);
    return all;
}

/* Character offset of byte offset b in text. */
static size_t char_offset(const char *text, size_t b)
{
    size_t n = 0;
    for (size_t i = 0; i < b; i++)
        if (((unsigned char)text[i] & 0xC0) != 0x80)
            n++;
    return n;
}

/*
 * Scores one corpus text: each expected identifier must overlap a finding of its
 * kind and severity; each finding that overlaps no expected identifier is a
 * false positive. Failures are printed when verbose.
 */
static int score(json_t *item, struct tally *t, int verbose)
{
    const char *id = json_string_value(json_object_get(item, "id"));
    const char *text = json_string_value(json_object_get(item, "text"));
    json_t *expect = json_object_get(item, "expect");
    size_t len = strlen(text);
    struct cf_privacy_result r = {0};
    cf_privacy_scan(text, len, &r);
    int ok = 1;
    t->texts++;
    t->findings += (int)r.count;
    char *matched = calloc(r.count + 1, 1);
    size_t i;
    json_t *e;
    json_array_foreach(expect, i, e)
    {
        const char *kind = json_string_value(json_object_get(e, "kind"));
        const char *sev = json_string_value(json_object_get(e, "severity"));
        const char *m = json_string_value(json_object_get(e, "match"));
        const char *at = strstr(text, m);
        t->expected++;
        if (at == NULL) {
            fail_msg("%s: match '%s' not in the text", id, m);
        }
        size_t ms = (size_t)(at - text), me = ms + strlen(m);
        int hit = 0, overlapped = 0;
        for (size_t k = 0; k < r.count; k++) {
            const struct cf_privacy_finding *f = &r.items[k];
            if (f->start < me && ms < f->end) {
                overlapped = 1;
                matched[k] = 1;
                if (strcmp(f->kind, kind) == 0 &&
                    strcmp(cf_privacy_severity_name(f->severity), sev) == 0)
                    hit = 1;
            }
        }
        if (hit) {
            t->found++;
        } else {
            ok = 0;
            if (overlapped)
                t->wrong_kind++;
            if (verbose)
                printf("%s: missed %s '%s'\n", id, kind, m);
        }
    }
    for (size_t k = 0; k < r.count; k++)
        if (!matched[k]) {
            ok = 0;
            t->false_positives++;
            if (verbose)
                printf("%s: false positive %s '%.*s' at %zu\n", id, r.items[k].kind,
                       (int)(r.items[k].end - r.items[k].start), text + r.items[k].start,
                       char_offset(text, r.items[k].start));
        }
    if (json_array_size(expect) == 0) {
        t->clean_texts++;
        if (r.count > 0)
            t->clean_with_findings++;
    }
    free(matched);
    cf_privacy_result_free(&r);
    return ok;
}

/* dir's clean.jsonl and identifiers.jsonl, or the one .jsonl file named. */
static int run_corpus(const char *dir, struct tally *t, int verbose)
{
    int failures = 0;
    static const char *const files[] = {"clean.jsonl", "identifiers.jsonl"};
    size_t dl = strlen(dir);
    int one = dl > 6 && strcmp(dir + dl - 6, ".jsonl") == 0;
    for (size_t f = 0; f < (one ? 1u : 2u); f++) {
        char path[1024];
        if (one)
            snprintf(path, sizeof(path), "%s", dir);
        else
            snprintf(path, sizeof(path), "%s/%s", dir, files[f]);
        json_t *all = load_lines(path);
        if (all == NULL)
            fail_msg("could not open %s", path);
        size_t i;
        json_t *item;
        json_array_foreach(all, i, item)
        {
            if (!score(item, t, verbose))
                failures++;
        }
        json_decref(all);
    }
    return failures;
}

static void the_corpus_is_read_right(void **state)
{
    (void)state;
    struct tally t = {0};
    int failures = run_corpus(CF_SOURCE_ROOT "/tests/privacy", &t, 1);
    failures += run_corpus(CF_SOURCE_ROOT "/tests/privacy/holdout.jsonl", &t, 1);
    assert_true(t.clean_texts >= 100);
    assert_true(t.texts - t.clean_texts >= 100);
    if (failures > 0)
        fail_msg("%d corpus texts are read wrong (above)", failures);
}

/* Every title and body of a JSON document, scanned; returns how many were. */
static int scan_titles_and_bodies(json_t *v, int *with_findings)
{
    int n = 0;
    if (json_is_object(v)) {
        const char *key;
        json_t *child;
        json_object_foreach(v, key, child)
        {
            if (json_is_string(child) && (strcmp(key, "title") == 0 || strcmp(key, "body") == 0)) {
                struct cf_privacy_result r = {0};
                const char *text = json_string_value(child);
                if (cf_privacy_scan(text, strlen(text), &r) != CF_PRIVACY_NONE) {
                    char d[1024];
                    describe(text, &r, d, sizeof(d));
                    printf("demo data: %s\n", d);
                    (*with_findings)++;
                }
                cf_privacy_result_free(&r);
                n++;
            } else {
                n += scan_titles_and_bodies(child, with_findings);
            }
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *child;
        json_array_foreach(v, i, child) n += scan_titles_and_bodies(child, with_findings);
    }
    return n;
}

/* The demo community is seeded without the API: its texts must pass the guard too. */
static void the_demo_data_passes_the_guard(void **state)
{
    (void)state;
    json_error_t e;
    json_t *demo = json_load_file(CF_SOURCE_ROOT "/data/demo.json", 0, &e);
    if (demo == NULL)
        fail_msg("data/demo.json: %s", e.text);
    int with_findings = 0;
    int n = scan_titles_and_bodies(demo, &with_findings);
    json_decref(demo);
    assert_true(n >= 50);
    assert_int_equal(with_findings, 0);
}

static int report(const char *dir)
{
    struct tally t = {0};
    int failures = run_corpus(dir, &t, 1);
    int true_positives = t.findings - t.false_positives;
    printf("texts: %d (%d clean, %d with identifiers)\n", t.texts, t.clean_texts,
           t.texts - t.clean_texts);
    printf("identifiers expected: %d, found with the right kind and severity: %d, "
           "found as another kind: %d\n",
           t.expected, t.found, t.wrong_kind);
    printf("findings: %d, false positives: %d (in clean texts: %d texts)\n", t.findings,
           t.false_positives, t.clean_with_findings);
    printf("precision: %.3f, recall: %.3f\n",
           t.findings ? (double)true_positives / t.findings : 1.0,
           t.expected ? (double)t.found / t.expected : 1.0);
    return failures > 0;
}

static int scan_stdin(void)
{
    static char buf[1 << 20];
    size_t len = fread(buf, 1, sizeof(buf), stdin);
    struct cf_privacy_result r = {0};
    cf_privacy_scan(buf, len, &r);
    json_t *a = json_array();
    cf_privacy_json_append(a, buf, len, &r, NULL);
    char *out = json_dumps(a, JSON_INDENT(2));
    puts(out);
    free(out);
    json_decref(a);
    cf_privacy_result_free(&r);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--scan") == 0)
        return scan_stdin();
    if (argc > 2 && strcmp(argv[1], "--report") == 0)
        return report(argv[2]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bc_phn_with_its_check_digit),
        cmocka_unit_test(ontario_health_number_with_luhn_and_version_code),
        cmocka_unit_test(keyword_anchored_runs_for_the_other_provinces),
        cmocka_unit_test(social_insurance_numbers),
        cmocka_unit_test(numbers_after_dates_words_and_commas),
        cmocka_unit_test(dates_of_birth_in_english_and_french),
        cmocka_unit_test(phone_numbers),
        cmocka_unit_test(emails_and_postal_codes),
        cmocka_unit_test(chart_numbers_and_street_addresses),
        cmocka_unit_test(names_after_titles_and_patient),
        cmocka_unit_test(offsets_are_characters),
        cmocka_unit_test(hostile_input_keeps_the_invariants),
        cmocka_unit_test(the_corpus_is_read_right),
        cmocka_unit_test(the_demo_data_passes_the_guard),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
