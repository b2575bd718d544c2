/*
 * privacy: the patient-privacy guard (SPEC section 6).
 *
 * One forward pass over the bytes. Three things start a closer look:
 * - a digit: the run of digit groups it begins ("9123 456 784", "(604)
 *   555-0182") is classified by its shape, its check digits and the keywords
 *   around it (health card, SIN, chart number) — or is the civic number of a
 *   street address;
 * - a word: titles (Mr., Mme…) and "patient"/"client" are followed by a name;
 *   birth words (DOB, né le…) by a date; a letter-digit-letter word may be a
 *   postal code;
 * - an '@': an email address.
 * Keywords are only looked for around a candidate, so a clean text costs one
 * pass and a few comparisons per word. Findings that overlap keep the more
 * severe, then the longer; offsets are converted to characters at the end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "privacy.h"

#define HEALTH_WINDOW 40 /* characters between a health-card or SIN keyword and a run */
#define DOB_WINDOW 30    /* characters after a birth word in which its date is */
#define MRN_WINDOW 25    /* characters after a chart keyword in which its number is */
#define EXCERPT_CONTEXT 20
#define GROUPS_MAX 6

/* Keywords seen so far, in text order. */
struct hit {
    size_t start, end;
    const struct keyword *k;
};

struct hits {
    struct hit *items;
    size_t count, cap;
};

/* A digit run of 8 to 12 digits (or more) whose reading waits for the keywords after it. */
struct pending {
    size_t start, end;               /* the run */
    size_t health_start, health_end; /* the 8 to 12 digits a health keyword would block */
    int nine;                        /* 9 digits: a SIN next to SIN or NAS */
};

struct scan {
    const unsigned char *s;
    size_t len;
    struct cf_privacy_result *r;
    struct hits health, sin, mrn;
    struct pending *pending;
    size_t npending, pending_cap;
    size_t birth_seen; /* how far birth-date windows have looked */
};

/* ---- characters ---- */

/*
 * Decodes the code point at i; invalid or truncated UTF-8 is one U+FFFD per
 * byte; at or past the end it is 0.
 */
static size_t cp_at(const struct scan *sc, size_t i, uint32_t *cp)
{
    if (i >= sc->len) {
        *cp = 0;
        return 1;
    }
    const unsigned char *s = sc->s + i;
    size_t left = sc->len - i;
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t n = s[0] >= 0xF0 && s[0] < 0xF5 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 ? 2 : 0;
    if (s[0] >= 0xF5 || n == 0 || n > left) {
        *cp = 0xFFFD;
        return 1;
    }
    uint32_t v = s[0] & (0x7F >> n);
    for (size_t k = 1; k < n; k++) {
        if ((s[k] & 0xC0) != 0x80) {
            *cp = 0xFFFD;
            return 1;
        }
        v = (v << 6) | (s[k] & 0x3F);
    }
    *cp = v;
    return n;
}

/* The code point at i, 0 at the end. */
static uint32_t cp_at_(const struct scan *sc, size_t i)
{
    uint32_t cp = 0;
    if (i < sc->len)
        cp_at(sc, i, &cp);
    return cp;
}

/* The code point that ends just before i, 0 at the start. */
static uint32_t cp_before(const struct scan *sc, size_t i)
{
    if (i == 0)
        return 0;
    size_t j = i - 1;
    while (j > 0 && i - j < 4 && (sc->s[j] & 0xC0) == 0x80)
        j--;
    uint32_t cp;
    size_t n = cp_at(sc, j, &cp);
    return j + n == i ? cp : sc->s[i - 1];
}

static int is_digit_cp(uint32_t c)
{
    return c >= '0' && c <= '9';
}

static int is_upper_cp(uint32_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 0xC0 && c <= 0xDE && c != 0xD7);
}

static int is_letter_cp(uint32_t c)
{
    if (c < 0x80)
        return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
    if (c < 0xC0 || c == 0xD7 || c == 0xF7 || c == 0xFFFD)
        return 0;
    if (c >= 0x2000 && c <= 0x2BFF) /* punctuation, symbols, arrows */
        return 0;
    return 1;
}

static int is_alnum_cp(uint32_t c)
{
    return is_digit_cp(c) || is_letter_cp(c);
}

static int is_space_cp(uint32_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0xA0 || c == 0x202F ||
           c == 0x2009;
}

/* Lower case for ASCII and Latin-1 letters (what French and English use). */
static uint32_t fold(uint32_t c)
{
    return is_upper_cp(c) ? c + 32 : c;
}

static int is_digit_at(const struct scan *sc, size_t i)
{
    return i < sc->len && sc->s[i] >= '0' && sc->s[i] <= '9';
}

static int word_start(const struct scan *sc, size_t i)
{
    if (i == 0)
        return 1;
    unsigned char c = sc->s[i - 1];
    if (c < 0x80)
        return !((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'));
    return !is_alnum_cp(cp_before(sc, i));
}

/* Moves i forward by n characters (stopping at the end). */
static size_t forward_chars(const struct scan *sc, size_t i, size_t n)
{
    if (i + n <= sc->len) { /* ASCII, most often: n bytes */
        unsigned char any = 0;
        for (size_t k = 0; k < n; k++)
            any |= sc->s[i + k];
        if (any < 0x80)
            return i + n;
    }
    while (n > 0 && i < sc->len) {
        i++;
        while (i < sc->len && (sc->s[i] & 0xC0) == 0x80)
            i++;
        n--;
    }
    return i;
}

static size_t back_chars(const struct scan *sc, size_t i, size_t n)
{
    while (n-- > 0 && i > 0) {
        i--;
        while (i > 0 && (sc->s[i] & 0xC0) == 0x80)
            i--;
    }
    return i;
}

/* Skips spaces from i. */
static size_t skip_space(const struct scan *sc, size_t i)
{
    uint32_t cp;
    while (i < sc->len) {
        size_t n = cp_at(sc, i, &cp);
        if (!is_space_cp(cp))
            break;
        i += n;
    }
    return i;
}

/* ---- findings ---- */

static void add(struct scan *sc, size_t start, size_t end, const char *kind, int severity,
                const char *province)
{
    struct cf_privacy_result *r = sc->r;
    if (severity > r->worst)
        r->worst = severity;
    if (r->count == r->cap) {
        if (r->count >= CF_PRIVACY_FINDINGS_MAX * 4) {
            r->truncated = 1;
            return;
        }
        r->cap = r->cap ? r->cap * 2 : 8;
        r->items = cf_realloc(r->items, r->cap * sizeof(*r->items));
    }
    r->items[r->count++] = (struct cf_privacy_finding){
        .kind = kind, .province = province, .severity = severity, .start = start, .end = end};
}

/* ---- keywords ---- */

/*
 * Whether kw (lower case UTF-8) is at i as a whole word: letters compare
 * without case, a space in kw matches any run of spaces, an apostrophe matches
 * ' and ’. Returns the bytes matched, 0 when not.
 */
static size_t keyword_at(const struct scan *sc, size_t i, const char *kw)
{
    size_t j = i;
    const unsigned char *k = (const unsigned char *)kw;
    while (*k != '\0') {
        if (j >= sc->len)
            return 0;
        uint32_t cp;
        size_t n = cp_at(sc, j, &cp);
        if (*k == ' ') {
            if (!is_space_cp(cp))
                return 0;
            j = skip_space(sc, j);
            k++;
            continue;
        }
        if (*k == '\'') {
            if (cp != '\'' && cp != 0x2019)
                return 0;
            j += n;
            k++;
            continue;
        }
        if (*k < 0x80) {
            if (fold(cp) != *k)
                return 0;
            j += n;
            k++;
            continue;
        }
        uint32_t want = ((uint32_t)(k[0] & 0x1F) << 6) | (k[1] & 0x3F); /* 2-byte: é, º */
        if (fold(cp) != want)
            return 0;
        j += n;
        k += 2;
    }
    uint32_t after = 0;
    if (j < sc->len)
        cp_at(sc, j, &after);
    if (is_letter_cp(after) || !word_start(sc, i)) /* digits may follow: PHN9698658215 */
        return 0;
    return j - i;
}

enum keyword_kind { KW_HEALTH, KW_SIN, KW_MRN, KW_BIRTH };

struct keyword {
    const char *text; /* lower case; the first letter is ASCII */
    enum keyword_kind kind;
    const char *province;
};

/*
 * Health-card words (SPEC section 6, and the names other provinces use), SIN
 * words, the words before a chart number and birth words, by first letter.
 * Where two share a start, the longer comes first.
 */
static const struct keyword kw_a[] = {{"ahcip", KW_HEALTH, "AB"}, {NULL, 0, NULL}};
static const struct keyword kw_b[] = {{"birthdate", KW_BIRTH, NULL},
                                      {"birthday", KW_BIRTH, NULL},
                                      {"birth", KW_BIRTH, NULL},
                                      {"born", KW_BIRTH, NULL},
                                      {NULL, 0, NULL}};
static const struct keyword kw_c[] = {{"carte santé", KW_HEALTH, NULL},
                                      {"carte sante", KW_HEALTH, NULL},
                                      {"carte-santé", KW_HEALTH, NULL},
                                      {"carte d'assurance maladie", KW_HEALTH, NULL},
                                      {"carte d'assurance-maladie", KW_HEALTH, NULL},
                                      {"chart", KW_MRN, NULL},
                                      {NULL, 0, NULL}};
static const struct keyword kw_d[] = {{"dob", KW_BIRTH, NULL},
                                      {"d.o.b", KW_BIRTH, NULL},
                                      {"ddn", KW_BIRTH, NULL},
                                      {"dossier", KW_MRN, NULL},
                                      {NULL, 0, NULL}};
static const struct keyword kw_h[] = {{"health card", KW_HEALTH, NULL},
                                      {"health-card", KW_HEALTH, NULL},
                                      {"health number", KW_HEALTH, NULL},
                                      {"health insurance number", KW_HEALTH, NULL},
                                      {"health services number", KW_HEALTH, "SK"},
                                      {"hsn", KW_HEALTH, "SK"},
                                      {"hospital number", KW_MRN, NULL},
                                      {"hospital no", KW_MRN, NULL},
                                      {NULL, 0, NULL}};
static const struct keyword kw_m[] = {{"msi", KW_HEALTH, "NS"},         {"mcp", KW_HEALTH, "NL"},
                                      {"medicare", KW_HEALTH, NULL},    {"mrn", KW_MRN, NULL},
                                      {"medical record", KW_MRN, NULL}, {NULL, 0, NULL}};
static const struct keyword kw_n[] = {{"nam", KW_HEALTH, "QC"},
                                      {"numéro d'assurance maladie", KW_HEALTH, NULL},
                                      {"numero d'assurance maladie", KW_HEALTH, NULL},
                                      {"numéro d'assurance-maladie", KW_HEALTH, NULL},
                                      {"numero d'assurance-maladie", KW_HEALTH, NULL},
                                      {"nas", KW_SIN, NULL},
                                      {"n.a.s.", KW_SIN, NULL},
                                      {"numéro d'assurance sociale", KW_SIN, NULL},
                                      {"numero d'assurance sociale", KW_SIN, NULL},
                                      {"nº de dossier", KW_MRN, NULL},
                                      {"naissance", KW_BIRTH, NULL},
                                      {"né(e)", KW_BIRTH, NULL},
                                      {"née", KW_BIRTH, NULL},
                                      {"né", KW_BIRTH, NULL},
                                      {NULL, 0, NULL}};
static const struct keyword kw_o[] = {{"ohip", KW_HEALTH, "ON"}, {NULL, 0, NULL}};
static const struct keyword kw_p[] = {{"phn", KW_HEALTH, NULL},
                                      {"phin", KW_HEALTH, "MB"},
                                      {"personal health number", KW_HEALTH, NULL},
                                      {"patient number", KW_MRN, NULL},
                                      {"patient id", KW_MRN, NULL},
                                      {NULL, 0, NULL}};
static const struct keyword kw_r[] = {{"ramq", KW_HEALTH, "QC"},
                                      {"record number", KW_MRN, NULL},
                                      {"record no", KW_MRN, NULL},
                                      {NULL, 0, NULL}};
static const struct keyword kw_s[] = {{"sin", KW_SIN, NULL},
                                      {"s.i.n", KW_SIN, NULL},
                                      {"social insurance number", KW_SIN, NULL},
                                      {NULL, 0, NULL}};

static const struct keyword *const keywords_by_letter[26] = {
    ['a' - 'a'] = kw_a, ['b' - 'a'] = kw_b, ['c' - 'a'] = kw_c, ['d' - 'a'] = kw_d,
    ['h' - 'a'] = kw_h, ['m' - 'a'] = kw_m, ['n' - 'a'] = kw_n, ['o' - 'a'] = kw_o,
    ['p' - 'a'] = kw_p, ['r' - 'a'] = kw_r, ['s' - 'a'] = kw_s,
};

/* The keyword at i (a word start whose folded first letter is first), or NULL. */
static const struct keyword *keyword_of(const struct scan *sc, size_t i, uint32_t first, size_t *n)
{
    if (first < 'a' || first > 'z' || keywords_by_letter[first - 'a'] == NULL)
        return NULL;
    unsigned char second = i + 1 < sc->len ? sc->s[i + 1] : 0;
    if (second >= 'A' && second <= 'Z')
        second = (unsigned char)(second + 32);
    for (const struct keyword *k = keywords_by_letter[first - 'a']; k->text != NULL; k++) {
        /* the second byte decides most: a letter, '.', or the lead byte of é or º */
        unsigned char want = (unsigned char)k->text[1];
        if (want != ' ' && want != '\'' && second != want)
            continue;
        size_t m = keyword_at(sc, i, k->text);
        if (m > 0) {
            *n = m;
            return k;
        }
    }
    return NULL;
}

/* Characters from a to b (a <= b). */
static size_t chars_between(const struct scan *sc, size_t a, size_t b)
{
    size_t n = 0;
    for (size_t i = a; i < b; i++)
        if ((sc->s[i] & 0xC0) != 0x80)
            n++;
    return n;
}

/* Whether [a, b) is at most n characters (bytes decide most cases alone). */
static int within_chars(const struct scan *sc, size_t a, size_t b, size_t n)
{
    if (b - a <= n)
        return 1;
    if (b - a > 4 * n)
        return 0;
    return chars_between(sc, a, b) <= n;
}

static void hit_add(struct hits *h, size_t start, size_t end, const struct keyword *k)
{
    if (h->count == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 8;
        h->items = cf_realloc(h->items, h->cap * sizeof(*h->items));
    }
    h->items[h->count++] = (struct hit){.start = start, .end = end, .k = k};
}

/*
 * A keyword of h ending at most window characters before [start, end) or
 * beginning at most window characters after it; NULL if none. h is sorted.
 */
static const struct keyword *hit_near(const struct scan *sc, const struct hits *h, size_t start,
                                      size_t end, size_t window)
{
    size_t lo = 0, hi = h->count; /* the first hit starting at or after end */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (h->items[mid].start < end)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < h->count && within_chars(sc, end, h->items[lo].start, window))
        return h->items[lo].k;
    if (lo > 0 && h->items[lo - 1].end <= start &&
        within_chars(sc, h->items[lo - 1].end, start, window))
        return h->items[lo - 1].k;
    return NULL;
}

/* ---- digit runs ---- */

struct run {
    size_t start, end; /* the whole run, with a '(' or "+" before it */
    int n;             /* groups */
    size_t gs[GROUPS_MAX], ge[GROUPS_MAX];
    char sep[GROUPS_MAX]; /* the separator before group k (k > 0) */
    int digits;
    int paren; /* the first group was written "(604)" */
};

static int group_len(const struct run *u, int k)
{
    return (int)(u->ge[k] - u->gs[k]);
}

static int digits_in(const struct run *u, int a, int b)
{
    int d = 0;
    for (int k = a; k < b; k++)
        d += group_len(u, k);
    return d;
}

/* The digits of groups a..b-1 into out (NUL-terminated); returns how many. */
static int digits_of(const struct scan *sc, const struct run *u, int a, int b, char *out, int max)
{
    int d = 0;
    for (int k = a; k < b; k++)
        for (size_t i = u->gs[k]; i < u->ge[k] && d < max - 1; i++)
            out[d++] = (char)sc->s[i];
    out[d] = '\0';
    return d;
}

/* The separator between digit groups at j, its length in bytes, 0 if none. */
static size_t separator_at(const struct scan *sc, size_t j, char *kind)
{
    if (j >= sc->len)
        return 0;
    unsigned char c = sc->s[j];
    if (c == ' ' || c == '-' || c == '.') {
        *kind = (char)c;
        return 1;
    }
    uint32_t cp;
    size_t n = cp_at(sc, j, &cp);
    if (cp == 0xA0 || cp == 0x202F || cp == 0x2009 || cp == 0x2011 || cp == 0x2013) {
        *kind = cp == 0x2011 || cp == 0x2013 ? '-' : ' ';
        return n;
    }
    return 0;
}

/* Reads the digit groups from i (a digit); fills u. */
static void read_run(const struct scan *sc, size_t i, struct run *u)
{
    memset(u, 0, sizeof(*u));
    u->start = i;
    if (i > 0 && sc->s[i - 1] == '(') {
        u->start = i - 1;
        u->paren = 1;
    } else if (i > 0 && sc->s[i - 1] == '+' && sc->s[i] == '1') {
        u->start = i - 1;
    }
    size_t j = i;
    for (;;) {
        u->gs[u->n] = j;
        while (is_digit_at(sc, j))
            j++;
        u->ge[u->n] = j;
        u->digits += (int)(j - u->gs[u->n]);
        u->n++;
        if (u->n == GROUPS_MAX)
            break;
        char kind = 0;
        size_t next = j;
        if (u->paren && u->n == 1 && (next >= sc->len || sc->s[next] != ')')) {
            u->paren = 0; /* "(8525-964-518)": a parenthesis around the number */
            u->start = i;
        }
        if (u->paren && u->n == 1) {
            next++;
            kind = ')';
            char k2;
            next += separator_at(sc, next, &k2);
        } else {
            size_t n = separator_at(sc, next, &kind);
            if (n == 0)
                break;
            next += n;
        }
        if (!is_digit_at(sc, next))
            break;
        u->sep[u->n] = kind;
        j = next;
    }
    /* Dots join only a phone number written 604.555.0182. */
    int dots = 0, others = 0;
    for (int k = 1; k < u->n; k++) {
        if (u->sep[k] == '.')
            dots++;
        else
            others++;
    }
    int dotted_phone = dots == 2 && others == 0 && u->n == 3 && group_len(u, 0) == 3 &&
                       group_len(u, 1) == 3 && group_len(u, 2) == 4;
    if (dots > 0 && !dotted_phone) {
        for (int k = 1; k < u->n; k++)
            if (u->sep[k] == '.') {
                u->n = k;
                break;
            }
        u->digits = digits_in(u, 0, u->n);
    }
    if (u->paren && u->n == 1) { /* "(604)" alone */
        u->paren = 0;
        u->start = i;
    }
    u->end = u->ge[u->n - 1];
    if (u->paren == 0 && u->start < i && u->digits < 10) /* "+1" before something short */
        u->start = i;
}

static int luhn_valid(const char *d, int n)
{
    int sum = 0;
    for (int k = 0; k < n; k++) {
        int v = d[n - 1 - k] - '0';
        if (k % 2 == 1) {
            v *= 2;
            if (v > 9)
                v -= 9;
        }
        sum += v;
    }
    return sum % 10 == 0;
}

/* BC PHN: 10 digits starting 9; weights 2,4,8,5,10,9,7,3 on digits 2 to 9. */
static int bc_phn_valid(const char *d)
{
    static const int weights[] = {2, 4, 8, 5, 10, 9, 7, 3};
    if (d[0] != '9')
        return 0;
    int sum = 0;
    for (int k = 0; k < 8; k++)
        sum += (d[k + 1] - '0') * weights[k];
    int check = 11 - sum % 11;
    return check >= 1 && check <= 9 && d[9] - '0' == check;
}

static int sin_valid(const char *d)
{
    return d[0] != '0' && d[0] != '8' && luhn_valid(d, 9);
}

static int seps_uniform(const struct run *u, int a, int b)
{
    for (int k = a + 2; k < b; k++)
        if (u->sep[k] != u->sep[a + 1])
            return 0;
    return 1;
}

/* Groups a..b-1 are written 3-3-4 (with "(604) " allowed for the first). */
static int phone_shape(const struct run *u, int a, int b)
{
    return b - a == 3 && group_len(u, a) == 3 && group_len(u, a + 1) == 3 &&
           group_len(u, a + 2) == 4;
}

/* The value of group k (at most 9 digits read). */
static long group_value(const struct scan *sc, const struct run *u, int k)
{
    long v = 0;
    for (size_t i = u->gs[k]; i < u->ge[k] && i < u->gs[k] + 9; i++)
        v = v * 10 + (sc->s[i] - '0');
    return v;
}

/* The run starts with a date written with hyphens: 2026-03-14, 14-03-2026, 03-14-2026. */
static int date_shape(const struct scan *sc, const struct run *u)
{
    if (u->n < 3 || u->sep[1] != '-' || u->sep[2] != '-' || (u->n > 3 && u->sep[3] == '-'))
        return 0; /* 12-11-2345-678 is not a date */
    int l0 = group_len(u, 0), l1 = group_len(u, 1), l2 = group_len(u, 2);
    long a = group_value(sc, u, 0), b = group_value(sc, u, 1), c = group_value(sc, u, 2);
    if (l0 == 4 && l1 <= 2 && l2 <= 2)
        return b >= 1 && b <= 12 && c >= 1 && c <= 31;
    if (l0 <= 2 && l1 <= 2 && l2 == 4)
        return a >= 1 && b >= 1 && ((a <= 31 && b <= 12) || (a <= 12 && b <= 31));
    return 0;
}

/* One or two letters of an Ontario version code after the number, at j. */
static size_t version_code(const struct scan *sc, size_t j)
{
    size_t k = j;
    if (k < sc->len && (sc->s[k] == ' ' || sc->s[k] == '-'))
        k++;
    size_t n = 0;
    while (k + n < sc->len && sc->s[k + n] >= 'A' && sc->s[k + n] <= 'Z' && n < 3)
        n++;
    if (n < 1 || n > 2)
        return 0;
    uint32_t after = 0;
    if (k + n < sc->len)
        cp_at(sc, k + n, &after);
    return is_alnum_cp(after) ? 0 : k + n - j;
}

/*
 * Numbers with a check digit: 10 digits (one group or 4-3-3) for BC and
 * Ontario, 9 digits (one group or 3-3-3) for a SIN, anywhere in the run.
 * Returns 1 when one was found.
 */
static int check_digit_numbers(struct scan *sc, const struct run *u)
{
    int found = 0;
    if (u->digits < 9)
        return 0;
    for (int a = 0; a < u->n; a++) {
        for (int b = a + 1; b <= u->n && b - a <= 3; b++) {
            int d = digits_in(u, a, b);
            if (d != 9 && d != 10)
                continue;
            /* groups of 3 or more: two-digit groups are doses and scores more often */
            int one = b - a == 1, short_group = 0;
            for (int k = a; k < b; k++)
                short_group |= group_len(u, k) < 3;
            if (!one && (short_group || !seps_uniform(u, a, b)))
                continue;
            if (!one && u->sep[a + 1] != ' ' && u->sep[a + 1] != '-')
                continue;
            char s[16];
            digits_of(sc, u, a, b, s, sizeof(s));
            size_t start = u->gs[a], end = u->ge[b - 1];
            if (d == 10 && !phone_shape(u, a, b)) { /* 3-3-4 is a phone number */
                if (bc_phn_valid(s)) {
                    add(sc, start, end, "bc_phn", CF_PRIVACY_BLOCK, "BC");
                    found = 1;
                } else if (luhn_valid(s, 10)) {
                    end += version_code(sc, end);
                    add(sc, start, end, "ontario_health_number", CF_PRIVACY_BLOCK, "ON");
                    found = 1;
                }
            } else if (d == 9) {
                if (sin_valid(s)) {
                    add(sc, start, end, "sin", CF_PRIVACY_BLOCK, NULL);
                    found = 1;
                }
            }
        }
    }
    return found;
}

/*
 * Phone numbers in the run: ten digits in one group (eleven starting with 1), or
 * 3-3-4 groups anywhere in it, with a "1" group or "+1" before them when there is one;
 * the area code and the exchange start with 2 to 9 (North American numbering).
 * Returns 1 when one was found.
 */
static int phone_number(struct scan *sc, const struct run *u)
{
    const unsigned char *s = sc->s;
    if (u->n == 1) {
        size_t skip = u->digits == 11 && s[u->gs[0]] == '1';
        if (u->digits != 10 && !skip)
            return 0;
        if (s[u->gs[0] + skip] < '2' || s[u->gs[0] + skip + 3] < '2')
            return 0;
        add(sc, u->start, u->end, "phone", CF_PRIVACY_WARN, NULL);
        return 1;
    }
    int found = 0;
    for (int a = 0; a + 3 <= u->n; a++) {
        if (!phone_shape(u, a, a + 3) || s[u->gs[a]] < '2' || s[u->gs[a + 1]] < '2')
            continue;
        int first = a;
        if (a > 0 && group_len(u, a - 1) == 1 && s[u->gs[a - 1]] == '1')
            first = a - 1; /* 1-800-555-0144 */
        add(sc, first == 0 ? u->start : u->gs[first], u->ge[a + 2], "phone", CF_PRIVACY_WARN, NULL);
        found = 1;
        a += 2;
    }
    return found;
}

/* A street type after a civic number: English ones end the address. */
static const char *const street_types_en[] = {
    "street", "st", "avenue",   "ave",   "av",      "road",     "rd",         "boulevard", "blvd",
    "drive",  "dr", "crescent", "cres",  "court",   "ct",       "way",        "lane",      "ln",
    "place",  "pl", "terrace",  "trail", "highway", "hwy",      "parkway",    "pkwy",      "circle",
    "square", "sq", "close",    "gate",  "line",    "sideroad", "concession", NULL};

/* French street types come first: "4500, rue Sherbrooke". */
static const char *const street_types_fr[] = {
    "rue",   "avenue",    "av",        "boulevard", "boul",     "blvd",   "chemin",
    "ch",    "rang",      "route",     "place",     "montée",   "côte",   "impasse",
    "allée", "promenade", "croissant", "carré",     "terrasse", "ruelle", NULL};

static const char *const directions[] = {"n",    "s",   "e",     "w",     "ne",   "nw",
                                         "se",   "sw",  "north", "south", "east", "west",
                                         "nord", "sud", "est",   "ouest", NULL};

/* The end of the word starting at i (letters, with inner hyphens and apostrophes). */
static size_t word_end(const struct scan *sc, size_t i)
{
    size_t j = i;
    while (j < sc->len) {
        unsigned char c = sc->s[j];
        if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') {
            j++;
            continue;
        }
        uint32_t cp;
        size_t n = cp_at(sc, j, &cp);
        if (is_letter_cp(cp)) {
            j += n;
            continue;
        }
        if ((cp == '-' || cp == '\'' || cp == 0x2019) && j + n < sc->len) {
            uint32_t next;
            cp_at(sc, j + n, &next);
            if (is_letter_cp(next)) {
                j += n;
                continue;
            }
        }
        break;
    }
    return j;
}

/* Whether the word [i, e) is one of list (case folded, ASCII or Latin-1). */
static int word_in(const struct scan *sc, size_t i, size_t e, const char *const *list)
{
    uint32_t first;
    cp_at(sc, i, &first);
    first = fold(first);
    for (const char *const *w = list; *w != NULL; w++) {
        if ((unsigned char)(*w)[0] < 0x80 && (unsigned char)(*w)[0] != first)
            continue;
        size_t m = keyword_at(sc, i, *w);
        if (m == e - i)
            return 1;
    }
    return 0;
}

static int capitalized(const struct scan *sc, size_t i, size_t e)
{
    uint32_t cp;
    size_t n = cp_at(sc, i, &cp);
    return is_upper_cp(cp) && i + n < e;
}

/* After a word ending at e, a '.' of an abbreviation. */
static size_t abbreviation_dot(const struct scan *sc, size_t e)
{
    return e < sc->len && sc->s[e] == '.' ? e + 1 : e;
}

/* A direction after a street (W, Est…): returns the new end. */
static size_t direction_after(const struct scan *sc, size_t e)
{
    size_t p = e;
    if (p >= sc->len || sc->s[p] != ' ')
        return e;
    p++;
    uint32_t cp;
    cp_at(sc, p, &cp);
    if (!is_upper_cp(cp))
        return e;
    size_t we = word_end(sc, p);
    if (we > p && word_in(sc, p, we, directions))
        return we; /* a dot after W ends the sentence more often than not */
    return e;
}

static const char *const particles_fr[] = {"de", "du", "des", "la", "le", "l'", "d'", NULL};

/* A street address whose civic number is the run u (one group of 1 to 6 digits). */
static int street_address(struct scan *sc, const struct run *u)
{
    size_t p = u->end;
    if (p < sc->len && sc->s[p] >= 'A' && sc->s[p] <= 'Z' && !is_digit_at(sc, p + 1)) {
        uint32_t after = 0;
        if (p + 1 < sc->len)
            cp_at(sc, p + 1, &after);
        if (!is_letter_cp(after))
            p++; /* 123A */
    }
    int comma = p < sc->len && sc->s[p] == ',';
    if (comma)
        p++;
    size_t q = skip_space(sc, p);
    if (q == p || q >= sc->len || q - p > 3)
        return 0;
    size_t we = word_end(sc, q);
    if (we == q)
        return 0;
    /* French: the type first, then a name. */
    if (word_in(sc, q, we, street_types_fr)) {
        size_t e = abbreviation_dot(sc, we), last = 0;
        for (int words = 0; words < 5; words++) {
            size_t a = skip_space(sc, e);
            if (a == e || a - e > 3)
                break;
            size_t b = word_end(sc, a);
            if (b == a)
                break;
            if (capitalized(sc, a, b) || is_digit_at(sc, a)) {
                last = b;
                e = b;
            } else if (word_in(sc, a, b, particles_fr)) {
                e = b;
            } else {
                break;
            }
            if (b < sc->len && (sc->s[b] == '\'' || sc->s[b] == ','))
                break;
        }
        if (last == 0)
            return 0;
        add(sc, u->start, direction_after(sc, last), "street_address", CF_PRIVACY_WARN, NULL);
        return 1;
    }
    if (comma)
        return 0;
    /* English: one to three capitalized names (or 5th), then the type. */
    size_t a = q;
    for (int words = 0; words < 4; words++) {
        size_t b = word_end(sc, a);
        int ordinal = 0;
        if (b == a && is_digit_at(sc, a)) { /* 5th Avenue */
            size_t d = a;
            while (is_digit_at(sc, d))
                d++;
            b = word_end(sc, d);
            ordinal = b - d == 2;
        }
        if (b == a)
            return 0;
        if (words > 0 && word_in(sc, a, b, street_types_en) && capitalized(sc, a, b + 1)) {
            size_t e = direction_after(sc, abbreviation_dot(sc, b));
            add(sc, u->start, e, "street_address", CF_PRIVACY_WARN, NULL);
            return 1;
        }
        if (!ordinal && !capitalized(sc, a, b))
            return 0;
        size_t next = skip_space(sc, b);
        if (next == b || next - b > 1)
            return 0;
        a = next;
    }
    return 0;
}

/* Words allowed between a chart keyword and its number. */
static const char *const mrn_fillers[] = {"no", "number", "numéro", "numero", "num", "nº", "de",
                                          "du", "id",     "is",     "was",    "est", NULL};

/* A chart number: the run (with its letter prefix at pre) after an MRN keyword. */
static int chart_number(struct scan *sc, const struct run *u, size_t pre)
{
    if (u->digits < 5 || u->digits > 12 || sc->mrn.count == 0)
        return 0;
    const struct hit *h = &sc->mrn.items[sc->mrn.count - 1]; /* the last one before */
    if (h->end > pre || !within_chars(sc, h->end, pre, MRN_WINDOW))
        return 0;
    /* Only "number", "no", "#", ':' and the like between. */
    for (size_t k = h->end; k < pre;) {
        uint32_t cp;
        size_t m = cp_at(sc, k, &cp);
        if (is_letter_cp(cp)) {
            size_t we = word_end(sc, k);
            if (!word_in(sc, k, we, mrn_fillers))
                return 0;
            k = we;
            continue;
        }
        if (is_digit_cp(cp))
            return 0;
        k += m;
    }
    add(sc, pre, u->end, "mrn", CF_PRIVACY_WARN, NULL);
    return 1;
}

/* Remembers a run of 8 digits or more, to read once the keywords after it are known. */
static void pending_add(struct scan *sc, const struct run *u)
{
    struct pending p = {.start = u->start, .end = u->end, .nine = u->digits == 9};
    /* the 8 to 12 digits: the whole run, or the first and longest of its groups that fit */
    for (int a = 0; a < u->n && p.health_end == 0; a++) {
        int d = 0;
        for (int b = a; b < u->n && d + group_len(u, b) <= 12; b++) {
            d += group_len(u, b);
            if (d >= 8) {
                p.health_start = a == 0 ? u->start : u->gs[a];
                p.health_end = u->ge[b];
            }
        }
    }
    if (p.health_end == 0 && !p.nine)
        return;
    if (sc->npending == sc->pending_cap) {
        sc->pending_cap = sc->pending_cap ? sc->pending_cap * 2 : 8;
        sc->pending = cf_realloc(sc->pending, sc->pending_cap * sizeof(*sc->pending));
    }
    sc->pending[sc->npending++] = p;
}

/* The runs that waited: a health-card keyword blocks them, a SIN keyword blocks nine digits. */
static void resolve_pending(struct scan *sc)
{
    for (size_t k = 0; k < sc->npending; k++) {
        const struct pending *p = &sc->pending[k];
        const struct keyword *kw =
            p->health_end ? hit_near(sc, &sc->health, p->start, p->end, HEALTH_WINDOW) : NULL;
        if (kw != NULL)
            add(sc, p->health_start, p->health_end, "health_card_number", CF_PRIVACY_BLOCK,
                kw->province);
        else if (p->nine && hit_near(sc, &sc->sin, p->start, p->end, HEALTH_WINDOW) != NULL)
            add(sc, p->start, p->end, "sin", CF_PRIVACY_BLOCK, NULL);
    }
}

/* Everything a run of digits starting at i can be; returns where scanning goes on. */
static size_t number_at(struct scan *sc, size_t i)
{
    struct run u;
    read_run(sc, i, &u);
    /* After where the rest of the run may start something else. */
    size_t next = u.n > 1 ? u.ge[0] : u.end;
    /*
     * Digits after one to four capitals at a word start (A0012345, TREM65122519,
     * PHN9698658215) are a chart number, a number with check digits, or a health
     * number next to its keyword; never a phone, a date or an address.
     */
    uint32_t before = cp_before(sc, i);
    if (is_letter_cp(before)) {
        size_t p = i;
        int letters = 0;
        while (p > 0 && letters < 5 && sc->s[p - 1] >= 'A' && sc->s[p - 1] <= 'Z') {
            p--;
            letters++;
        }
        if (letters == 0 || letters > 4 || !word_start(sc, p))
            return next; /* part of a word: A1c, F11, B12 */
        if (!check_digit_numbers(sc, &u) && !chart_number(sc, &u, p) && u.digits >= 8)
            pending_add(sc, &u);
        return next;
    }
    if (before == '.' || before == ',') {
        uint32_t b2 = cp_before(sc, i - 1);
        if (is_digit_cp(b2) && group_len(&u, 0) <= 6)
            return next; /* the decimals of 7.9 */
    }
    if (date_shape(sc, &u))
        return u.ge[2]; /* 2024-01-15, and what follows it is read on its own */
    if (check_digit_numbers(sc, &u))
        return u.end;
    if (u.digits >= 8)
        pending_add(sc, &u);
    uint32_t after = 0;
    if (u.end < sc->len)
        cp_at(sc, u.end, &after);
    if (!is_letter_cp(after) && phone_number(sc, &u))
        return u.end;
    if (chart_number(sc, &u, u.start))
        return u.end;
    /* the last group may be a civic number: "visit 3 12 Main Street" */
    struct run last = {.start = u.n == 1 ? u.start : u.gs[u.n - 1], .end = u.end, .n = 1};
    last.gs[0] = u.gs[u.n - 1];
    last.ge[0] = u.end;
    last.digits = group_len(&u, u.n - 1);
    if (last.digits <= 6 && !(u.n == 1 && u.paren))
        street_address(sc, &last);
    /* every sub-run has been read: check digits, phones, keywords, the address */
    return u.end;
}

/* ---- dates of birth ---- */

static const char *const months[][2] = {
    {"january", "janvier"}, {"february", "février"},  {"march", "mars"},
    {"april", "avril"},     {"may", "mai"},           {"june", "juin"},
    {"july", "juillet"},    {"august", "août"},       {"september", "septembre"},
    {"october", "octobre"}, {"november", "novembre"}, {"december", "décembre"},
};

static const char *const month_abbrevs[][3] = {
    {"jan", "janv", NULL}, {"feb", "févr", "fevr"}, {"mar", NULL, NULL},   {"apr", "avr", NULL},
    {NULL, NULL, NULL},    {"jun", NULL, NULL},     {"jul", "juil", NULL}, {"aug", NULL, NULL},
    {"sep", "sept", NULL}, {"oct", NULL, NULL},     {"nov", NULL, NULL},   {"dec", "déc", NULL},
};

/* Whether c (lower case) starts a month's name: janvier, février, mars, avril… */
static int month_initial(unsigned char c)
{
    switch (c) {
    case 'j':
    case 'f':
    case 'm':
    case 'a':
    case 's':
    case 'o':
    case 'n':
    case 'd':
        return 1;
    default:
        return 0;
    }
}

/* The month named at i (1 to 12) and the end of its name (with a dot), or 0. */
static int month_at(const struct scan *sc, size_t i, size_t *end)
{
    unsigned char c = i < sc->len ? (unsigned char)(sc->s[i] | 0x20) : 0;
    if (!month_initial(c))
        return 0;
    size_t we = word_end(sc, i);
    if (we - i < 3 || we - i > 10) /* "mai" to "septembre"; not "de", "le", "on" */
        return 0;
    /* the first two bytes decide before any comparison (é's lead byte included) */
    unsigned char second = sc->s[i + 1];
    if (second >= 'A' && second <= 'Z')
        second = (unsigned char)(second + 32);
    for (int m = 0; m < 12; m++) {
        if ((unsigned char)months[m][0][0] != c)
            continue;
        for (int l = 0; l < 2; l++)
            if ((unsigned char)months[m][l][1] == second &&
                keyword_at(sc, i, months[m][l]) == we - i) {
                *end = we;
                return m + 1;
            }
        for (int l = 0; l < 3; l++)
            if (month_abbrevs[m][l] != NULL && (unsigned char)month_abbrevs[m][l][1] == second &&
                keyword_at(sc, i, month_abbrevs[m][l]) == we - i) {
                *end = abbreviation_dot(sc, we);
                return m + 1;
            }
    }
    return 0;
}

/* A number of 1 to 4 digits at i; its value, its length in *n. */
static int small_number(const struct scan *sc, size_t i, size_t *n)
{
    int v = 0;
    size_t k = 0;
    while (k < 5 && is_digit_at(sc, i + k))
        v = v * 10 + (sc->s[i + k++] - '0');
    *n = k;
    return k >= 1 && k <= 4 ? v : -1;
}

static int year_ok(int y, size_t n)
{
    return n == 2 || (n == 4 && y >= 1900 && y <= 2100);
}

/* The length of an ordinal's ending at p: 1st, 2nd, 3rd, 4th, 1er; 0 if none. */
static size_t ordinal_suffix(const struct scan *sc, size_t p)
{
    static const char *const endings[] = {"st", "nd", "rd", "th", "er", NULL};
    if (p + 2 > sc->len || (p + 2 < sc->len && is_letter_cp((unsigned char)sc->s[p + 2])))
        return 0;
    for (const char *const *e = endings; *e != NULL; e++)
        if (memcmp(sc->s + p, *e, 2) == 0)
            return 2;
    return 0;
}

/* A full date at i (day, month and year in any of the usual forms); its end, or 0. */
static size_t date_at(const struct scan *sc, size_t i)
{
    if (!is_digit_at(sc, i) && !month_initial((unsigned char)(sc->s[i] | 0x20)))
        return 0;
    size_t n1, n2, n3, p;
    int a = small_number(sc, i, &n1);
    if (a >= 0) {
        p = i + n1;
        /* 1984-03-12, 12/03/1984, 03.12.84 */
        if (p < sc->len && (sc->s[p] == '-' || sc->s[p] == '/' || sc->s[p] == '.')) {
            char sep = (char)sc->s[p];
            int b = small_number(sc, p + 1, &n2);
            size_t q = p + 1 + n2;
            if (b < 0 || n2 > 2 || q >= sc->len || sc->s[q] != sep)
                return 0;
            int c = small_number(sc, q + 1, &n3);
            if (c < 0 || is_digit_at(sc, q + 1 + n3))
                return 0;
            int ok = n1 == 4 ? year_ok(a, 4) && b >= 1 && b <= 12 && c >= 1 && c <= 31 && n3 <= 2
                             : n1 <= 2 && year_ok(c, n3) && a >= 1 && a <= 31 && b >= 1 &&
                                   b <= 31 && (a <= 12 || b <= 12);
            return ok ? q + 1 + n3 : 0;
        }
        /* 12 March 1984, 1er mars 1984, 3rd of May, 1984 */
        if (n1 > 2 || a < 1 || a > 31)
            return 0;
        p += ordinal_suffix(sc, p);
        size_t q = skip_space(sc, p), me;
        if (q > p && q + 3 <= sc->len && memcmp(sc->s + q, "of ", 3) == 0)
            q += 3;
        if (q == p || month_at(sc, q, &me) == 0)
            return 0;
        if (me < sc->len && sc->s[me] == ',')
            me++;
        size_t y = skip_space(sc, me);
        int c = small_number(sc, y, &n3);
        if (y == me || c < 0 || n3 != 4 || !year_ok(c, 4))
            return 0;
        return y + n3;
    }
    /* March 12, 1984 */
    size_t me;
    if (month_at(sc, i, &me) == 0)
        return 0;
    size_t d = skip_space(sc, me);
    int day = small_number(sc, d, &n1);
    if (d == me || day < 1 || day > 31 || n1 > 2)
        return 0;
    p = d + n1;
    p += ordinal_suffix(sc, p);
    if (p < sc->len && sc->s[p] == ',')
        p++;
    size_t y = skip_space(sc, p);
    int c = small_number(sc, y, &n3);
    if (y == p || c < 0 || n3 != 4 || !year_ok(c, 4))
        return 0;
    return y + n3;
}

/* A birth word ends at e: the first full date in the next DOB_WINDOW characters. */
static void birth_date_after(struct scan *sc, size_t e)
{
    if (sc->birth_seen >= e + 4 * DOB_WINDOW) /* past any window from e */
        return;
    size_t to = forward_chars(sc, e, DOB_WINDOW);
    /*
     * Where an earlier birth word's window already looked, every date was tried (and the
     * first one found): start after it, so that each byte is looked at once however many
     * birth words there are ("né né né…" must not cost 30 tries a word).
     */
    size_t p = e > sc->birth_seen ? e : sc->birth_seen;
    for (; p < to; p++) {
        sc->birth_seen = p;
        unsigned char c = sc->s[p];
        if (c == ' ')
            continue;
        if (c == '\n' || c == ';' || c == '!' || c == '?')
            return;              /* the sentence ended */
        if (c == '.' && p > e) { /* unless the dot ends a month: Mar. 12 */
            size_t w = p;
            while (w > e && is_letter_cp(cp_before(sc, w)))
                w = back_chars(sc, w, 1);
            size_t me;
            if (w == p || month_at(sc, w, &me) == 0)
                return;
        }
        if ((c & 0xC0) == 0x80 || !word_start(sc, p))
            continue;
        size_t end = date_at(sc, p);
        if (end > 0) {
            add(sc, p, end, "date_of_birth", CF_PRIVACY_WARN, NULL);
            sc->birth_seen = end;
            return;
        }
    }
    if (to > sc->birth_seen)
        sc->birth_seen = to;
}

/* ---- names ---- */

/* Titles before a name, as written (case matters: "M." but not "m."). */
static const char *const titles[] = {"Mr", "Mrs", "Ms", "Mx", "Miss", "Mme", "Mlle", "Mmes", NULL};

/* Words that follow "patient" or "client" with a capital and are not names. */
static const char *const not_names[] = {"health",
                                        "care",
                                        "safety",
                                        "portal",
                                        "experience",
                                        "education",
                                        "navigator",
                                        "advisory",
                                        "centred",
                                        "centered",
                                        "reported",
                                        "assessment",
                                        "services",
                                        "service",
                                        "medical",
                                        "partner",
                                        "family",
                                        "advocate",
                                        "questionnaire",
                                        "information",
                                        "i",
                                        "the",
                                        "he",
                                        "she",
                                        "they",
                                        "we",
                                        "you",
                                        "it",
                                        "his",
                                        "her",
                                        "their",
                                        "and",
                                        "or",
                                        "with",
                                        "in",
                                        "on",
                                        "at",
                                        "was",
                                        "is",
                                        "has",
                                        "had",
                                        "il",
                                        "elle",
                                        "de",
                                        "du",
                                        "la",
                                        "le",
                                        "les",
                                        "et",
                                        "ou",
                                        "est",
                                        "a",
                                        "avec",
                                        "dans",
                                        "en",
                                        "santé",
                                        "sante",
                                        "mon",
                                        "ma",
                                        "notre",
                                        "votre",
                                        "journal",
                                        "voice",
                                        "voices",
                                        "partners",
                                        "oriented",
                                        "first",
                                        "monday",
                                        "tuesday",
                                        "wednesday",
                                        "thursday",
                                        "friday",
                                        "saturday",
                                        "sunday",
                                        "lundi",
                                        "mardi",
                                        "mercredi",
                                        "jeudi",
                                        "vendredi",
                                        "samedi",
                                        "dimanche",
                                        "canada",
                                        "english",
                                        "french",
                                        "anglais",
                                        "français",
                                        "dr",
                                        "doctor",
                                        NULL};

/* A capitalized name at i (Tremblay, Nguyen-Roy, Marie-Ève, O'Brien), its end or 0. */
static size_t name_word(const struct scan *sc, size_t i)
{
    uint32_t cp;
    size_t n = cp_at(sc, i, &cp);
    if (!is_upper_cp(cp))
        return 0;
    size_t e = word_end(sc, i);
    if (e < i + n + 1) /* a single letter: Mr. X, patient A */
        return 0;
    uint32_t second;
    cp_at(sc, i + n, &second);
    if (is_upper_cp(second) && e - i <= 4) /* acronyms: patient ER, Mme BPCO */
        return 0;
    return e;
}

/* A name (one or two capitalized words) after the title or keyword ending at e. */
static void name_after(struct scan *sc, size_t e, int check_words)
{
    size_t p = e;
    if (p < sc->len && sc->s[p] == '.')
        p++;
    size_t a = skip_space(sc, p);
    if (a == p || a - p > 2)
        return;
    size_t b = name_word(sc, a);
    if (b == 0 || (check_words && word_in(sc, a, b, not_names)))
        return;
    size_t end = b;
    if (b + 1 < sc->len && sc->s[b] == ' ') {
        size_t c = name_word(sc, b + 1);
        if (c != 0 && !word_in(sc, b + 1, c, not_names) && !word_in(sc, b + 1, c, street_types_en))
            end = c;
    }
    add(sc, a, end, "name", CF_PRIVACY_WARN, NULL);
}

/* Whether the word [i, e) is exactly one of the case-sensitive titles. */
static int title_word(const struct scan *sc, size_t i, size_t e)
{
    size_t n = e - i;
    for (const char *const *t = titles; *t != NULL; t++)
        if (strlen(*t) == n && memcmp(sc->s + i, *t, n) == 0)
            return 1;
    return 0;
}

/* ---- postal codes and emails ---- */

static int postal_letter(unsigned char c, int first)
{
    c = (unsigned char)(c & ~0x20);
    if (c < 'A' || c > 'Z' || strchr("DFIOQU", c) != NULL)
        return 0;
    return !first || (c != 'W' && c != 'Z');
}

/* A postal code at i (A1A 1A1); its end or 0. */
static size_t postal_code(const struct scan *sc, size_t i)
{
    const unsigned char *s = sc->s;
    if (i + 6 > sc->len || !postal_letter(s[i], 1) || !is_digit_at(sc, i + 1) ||
        !postal_letter(s[i + 2], 0))
        return 0;
    size_t j = i + 3;
    char kind;
    size_t sep = separator_at(sc, j, &kind);
    if (sep > 0 && kind != '.')
        j += sep;
    if (j + 3 > sc->len || !is_digit_at(sc, j) || !postal_letter(s[j + 1], 0) ||
        !is_digit_at(sc, j + 2))
        return 0;
    /* both halves in the same case */
    int upper = s[i] < 'a';
    if ((s[i + 2] < 'a') != upper || (s[j + 1] < 'a') != upper)
        return 0;
    uint32_t after = 0;
    if (j + 3 < sc->len)
        cp_at(sc, j + 3, &after);
    return is_alnum_cp(after) ? 0 : j + 3;
}

static int email_local(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr(".!#$%&'*+/=?^_`{|}~-", c) != NULL;
}

static int domain_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.';
}

/* The '@' at i: an email address around it; returns where scanning goes on. */
static size_t email_at(struct scan *sc, size_t i)
{
    size_t a = i;
    while (a > 0 && i - a < 64 && email_local(sc->s[a - 1]) && sc->s[a - 1] != '\0')
        a--;
    while (a < i && (sc->s[a] == '.' || sc->s[a] == '\''))
        a++;
    size_t e = i + 1, last_dot = 0;
    while (e < sc->len && e - i < 255 && domain_char(sc->s[e])) {
        if (sc->s[e] == '.')
            last_dot = e;
        e++;
    }
    while (e > i + 1 && (sc->s[e - 1] == '.' || sc->s[e - 1] == '-'))
        e--; /* the end of the sentence */
    last_dot = 0;
    for (size_t k = i + 1; k < e; k++)
        if (sc->s[k] == '.')
            last_dot = k;
    if (a == i || last_dot == 0 || last_dot >= e - 2 || last_dot <= i + 1)
        return i + 1;
    for (size_t k = last_dot + 1; k < e; k++)
        if (!((sc->s[k] | 0x20) >= 'a' && (sc->s[k] | 0x20) <= 'z'))
            return i + 1;
    add(sc, a, e, "email", CF_PRIVACY_WARN, NULL);
    return e;
}

/* ---- words ---- */

/* The word at i (a letter at a word start); returns where scanning goes on. */
static size_t word_at(struct scan *sc, size_t i)
{
    size_t pc = postal_code(sc, i);
    if (pc > 0) {
        add(sc, i, pc, "postal_code", CF_PRIVACY_WARN, NULL);
        return pc;
    }
    size_t e = word_end(sc, i);
    uint32_t first;
    cp_at(sc, i, &first);
    first = fold(first);
    size_t n;
    const struct keyword *k = keyword_of(sc, i, first, &n);
    if (k != NULL) {
        switch (k->kind) {
        case KW_HEALTH:
            hit_add(&sc->health, i, i + n, k);
            break;
        case KW_SIN:
            hit_add(&sc->sin, i, i + n, k);
            break;
        case KW_MRN:
            hit_add(&sc->mrn, i, i + n, k);
            break;
        case KW_BIRTH:
            birth_date_after(sc, i + n);
            break;
        }
        if (i + n > e)
            e = i + n;
    }
    switch (first) {
    case 'm':
        if (title_word(sc, i, e) ||
            (e == i + 1 && sc->s[i] == 'M' && e < sc->len && sc->s[e] == '.'))
            name_after(sc, e, 0);
        else if (keyword_at(sc, i, "monsieur") == e - i || keyword_at(sc, i, "madame") == e - i)
            name_after(sc, e, 1);
        break;
    case 'p':
        if (keyword_at(sc, i, "patient") == e - i || keyword_at(sc, i, "patiente") == e - i)
            name_after(sc, e, 1);
        break;
    case 'c':
        if (keyword_at(sc, i, "client") == e - i || keyword_at(sc, i, "cliente") == e - i)
            name_after(sc, e, 1);
        break;
    default:
        break;
    }
    return e > i ? e : i + 1;
}

/* ---- the scan ---- */

static int finding_cmp(const void *a, const void *b)
{
    const struct cf_privacy_finding *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if (x->severity != y->severity)
        return y->severity - x->severity;
    return x->end > y->end ? -1 : x->end < y->end;
}

/* Keeps, of findings that overlap, the more severe and then the longer. */
static void resolve_overlaps(struct cf_privacy_result *r)
{
    if (r->count == 0)
        return;
    qsort(r->items, r->count, sizeof(*r->items), finding_cmp);
    size_t out = 0;
    for (size_t k = 0; k < r->count; k++) {
        struct cf_privacy_finding *f = &r->items[k];
        if (out > 0 && f->start < r->items[out - 1].end) {
            struct cf_privacy_finding *prev = &r->items[out - 1];
            int better =
                f->severity > prev->severity ||
                (f->severity == prev->severity && f->end - f->start > prev->end - prev->start);
            if (better)
                *prev = *f;
            continue;
        }
        r->items[out++] = *f;
    }
    r->count = out;
    /* a replacement can overlap the one before it now: once more */
    for (size_t k = 1; k < r->count;) {
        if (r->items[k].start < r->items[k - 1].end) {
            memmove(&r->items[k], &r->items[k + 1], (r->count - k - 1) * sizeof(*r->items));
            r->count--;
        } else {
            k++;
        }
    }
    if (r->count > CF_PRIVACY_FINDINGS_MAX) {
        r->count = CF_PRIVACY_FINDINGS_MAX;
        r->truncated = 1;
    }
}

/* Byte offsets to characters, in one pass (the findings are sorted). */
static void char_offsets(const struct scan *sc, struct cf_privacy_result *r)
{
    size_t pos = 0, chars = 0;
    for (size_t k = 0; k < r->count; k++) {
        struct cf_privacy_finding *f = &r->items[k];
        chars += chars_between(sc, pos, f->start);
        f->cstart = chars;
        chars += chars_between(sc, f->start, f->end);
        f->cend = chars;
        pos = f->end;
    }
}

int cf_privacy_scan(const char *text, size_t len, struct cf_privacy_result *r)
{
    struct scan sc = {.s = (const unsigned char *)text, .len = len, .r = r};
    size_t i = 0;
    while (i < len) {
        unsigned char c = sc.s[i];
        if (c >= '0' && c <= '9') {
            i = number_at(&sc, i);
        } else if (c == '@') {
            i = email_at(&sc, i);
        } else if (c < 0x80 && !((c | 0x20) >= 'a' && (c | 0x20) <= 'z')) {
            i++;
        } else {
            uint32_t cp;
            size_t n = cp_at(&sc, i, &cp);
            if (is_letter_cp(cp) && word_start(&sc, i))
                i = word_at(&sc, i);
            else
                i += n;
        }
    }
    resolve_pending(&sc);
    resolve_overlaps(r);
    char_offsets(&sc, r);
    cf_free(sc.health.items);
    cf_free(sc.sin.items);
    cf_free(sc.mrn.items);
    cf_free(sc.pending);
    return r->worst;
}

void cf_privacy_result_free(struct cf_privacy_result *r)
{
    cf_free(r->items);
    memset(r, 0, sizeof(*r));
}

const char *cf_privacy_severity_name(int severity)
{
    return severity == CF_PRIVACY_BLOCK ? "block" : "warn";
}

void cf_privacy_json_append(json_t *array, const char *text, size_t len,
                            const struct cf_privacy_result *r, const char *field)
{
    struct scan sc = {.s = (const unsigned char *)text, .len = len};
    for (size_t k = 0; k < r->count; k++) {
        const struct cf_privacy_finding *f = &r->items[k];
        /* up to EXCERPT_CONTEXT characters each side, in whole words */
        size_t a = back_chars(&sc, f->start, EXCERPT_CONTEXT);
        size_t b = forward_chars(&sc, f->end, EXCERPT_CONTEXT);
        uint32_t cp;
        while (a < f->start && (is_letter_cp(cp_before(&sc, a)) || is_space_cp(cp_at_(&sc, a))))
            a += cp_at(&sc, a, &cp);
        while (b > f->end && (is_letter_cp(cp_at_(&sc, b)) || is_space_cp(cp_before(&sc, b))))
            b = back_chars(&sc, b, 1);
        json_t *o = json_object();
        json_object_set_new(o, "kind", json_string(f->kind));
        json_object_set_new(o, "severity", json_string(cf_privacy_severity_name(f->severity)));
        json_object_set_new(o, "start", json_integer((json_int_t)f->cstart));
        json_object_set_new(o, "end", json_integer((json_int_t)f->cend));
        json_t *excerpt = json_stringn(text + a, b - a);
        json_object_set_new(o, "excerpt", excerpt ? excerpt : json_string(""));
        if (f->province != NULL)
            json_object_set_new(o, "province", json_string(f->province));
        if (field != NULL)
            json_object_set_new(o, "field", json_string(field));
        json_array_append_new(array, o);
    }
}
