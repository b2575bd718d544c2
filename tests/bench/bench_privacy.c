/*
 * bench-privacy: how long the privacy guard takes over a 50,000-character post
 * (issue 6: under 1 ms). Four texts of exactly 50,000 characters:
 *   clinical  English and French case notes full of doses, lab values, dates and
 *             scores, with a few identifiers (what members write);
 *   digits    number runs, dose schedules and phone-like groups end to end (the
 *             scanner's busiest path: every run is classified);
 *   words     capitalized words after titles and "patient" (the name rules);
 *   births    birth words end to end, each opening a window where every word is
 *             tried as a date (the slowest text the review of the scanner found).
 * Each is scanned 2,000 times after a warm-up; the figures are per scan.
 * Exits 1 when the p99 of any text is 1 ms or more.
 *
 * usage: bench-privacy [runs]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "privacy.h"

#define CHARS 50000

static const char *const clinical[] = {
    "52-year-old woman with chronic low back pain, on hydromorphone 2-4 mg q4h PRN and "
    "pregabalin 75 mg bid; taper 90 -> 75 -> 60 mg MME over 3-4 weeks. ",
    "PHQ-9 18, GAD-7 12, COWS 14 at induction on 2026-03-14; buprenorphine 16 mg DIE. ",
    "Femme de 34 ans, douleur pelvienne chronique depuis 6 mois, TSH 2.45, créatinine "
    "98 µmol/L, QTc 478 ms; méthadone 80 mg DIE, revue le 14 mars 2026. ",
    "BP 138/86, A1c 7.9%, eGFR 58, ALT 112; UDS positive for fentanyl on 03/02/2026. ",
    "Mr. Tremblay (DOB 1984-03-12) can be reached at 514-555-0147. ",
    "Schedule 1-0-1 then 10-10-20 mg, #60 tabs, 7-day dispense, F11.20 and F32.1. ",
    "La patiente a un suivi au CLSC; dossier revu avec l'équipe, plan de sevrage des "
    "benzodiazépines sur 12 semaines, diazépam 5 mg HS. ",
};

static const char *const digits[] = {
    "1-0-1 2-2-2-2 10-10-20 90 75 60 ",
    "604 555 0182 ",
    "2026-03-14 ",
    "1234 5678 ",
    "138/86 7.9 58 112 ",
    "0.5-0-1 ",
    "12345 ",
    "9876 543 21 ",
};

/* Birth words, each opening a window in which every word is tried as a date. */
static const char *const births[] = {
    "né ", "DOB ", "born on ", "née le 1er ", "date de naissance ", "DOB 1 ", "birth March ",
};

static const char *const words[] = {
    "Mr. Smith ",      "patient John ", "Mme Gagnon ",         "the Patient Health Questionnaire ",
    "client Centred ", "Monsieur Roy ", "patiente Marie-Ève ", "Ms. Li and ",
};

/* Exactly CHARS characters of the pieces, one after the other. */
static char *build(const char *const *pieces, size_t n, size_t *len)
{
    char *out = malloc(CHARS * 4 + 1);
    size_t chars = 0, bytes = 0;
    for (size_t k = 0; chars < CHARS; k = (k + 1) % n) {
        for (const char *p = pieces[k]; *p != '\0' && chars < CHARS; p++) {
            out[bytes++] = *p;
            if (((unsigned char)*p & 0xC0) != 0x80)
                chars++;
            /* finish a multibyte character */
            while ((((unsigned char)p[1]) & 0xC0) == 0x80)
                out[bytes++] = *++p;
        }
    }
    out[bytes] = '\0';
    *len = bytes;
    return out;
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Prints the figures of one text; returns its p99 in microseconds. */
static double measure(const char *name, const char *text, size_t len, int runs)
{
    double *t = malloc(sizeof(double) * (size_t)runs);
    size_t found = 0;
    for (int i = -runs / 10; i < runs; i++) {
        struct cf_privacy_result r = {0};
        double t0 = now_us();
        cf_privacy_scan(text, len, &r);
        double t1 = now_us();
        if (i >= 0)
            t[i] = t1 - t0;
        found = r.count;
        cf_privacy_result_free(&r);
    }
    qsort(t, (size_t)runs, sizeof(double), cmp_double);
    double p50 = t[runs / 2], p99 = t[runs * 99 / 100];
    printf("%-9s %6zu bytes  findings %3zu  min %7.1f us  median %7.1f us  p99 %7.1f us  "
           "(%.0f MB/s)\n",
           name, len, found, t[0], p50, p99, len / p50);
    free(t);
    return p99;
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 2000;
    if (runs < 10)
        runs = 10;
    static const struct {
        const char *name;
        const char *const *pieces;
        size_t n;
    } texts[] = {
        {"clinical", clinical, sizeof(clinical) / sizeof(*clinical)},
        {"digits", digits, sizeof(digits) / sizeof(*digits)},
        {"words", words, sizeof(words) / sizeof(*words)},
        {"births", births, sizeof(births) / sizeof(*births)},
    };
    double worst = 0;
    for (size_t t = 0; t < sizeof(texts) / sizeof(*texts); t++) {
        size_t len;
        char *text = build(texts[t].pieces, texts[t].n, &len);
        double p = measure(texts[t].name, text, len, runs);
        worst = p > worst ? p : worst;
        free(text);
    }
    printf("target: p99 under 1000 us for 50,000 characters: %s\n",
           worst < 1000 ? "met" : "NOT met");
    return worst < 1000 ? 0 : 1;
}
