#!/usr/bin/python3
"""Validate (and help generate numbers for) the patient-privacy test corpus.

Files checked (same directory as this script):
  clean.jsonl        {"id", "lang", "text"}                 -- no identifiers at all
  identifiers.jsonl  {"id", "lang", "text", "expect": [...]} -- every identifier listed

Usage:
  check_corpus.py            validate both files, print counts, exit 1 on error
  check_corpus.py --gen [N]  print N freshly generated valid BC PHNs, Ontario
                             health numbers and SINs (all invented), for
                             writing new corpus entries

Standard library only.  All identifiers in the corpus are invented.
"""

import json
import os
import random
import re
import sys
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
CLEAN = os.path.join(HERE, "clean.jsonl")
IDENT = os.path.join(HERE, "identifiers.jsonl")

SEVERITY = {
    "bc_phn": "block",
    "ontario_health_number": "block",
    "health_card_number": "block",
    "sin": "block",
    "date_of_birth": "warn",
    "phone": "warn",
    "email": "warn",
    "postal_code": "warn",
    "mrn": "warn",
    "street_address": "warn",
    "name": "warn",
}

# ---------------------------------------------------------------- check digits


def digits(s):
    return "".join(c for c in s if c.isdigit())


def luhn_ok(d):
    total = 0
    for i, c in enumerate(reversed(d)):
        n = int(c)
        if i % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def luhn_complete(prefix):
    for c in "0123456789":
        if luhn_ok(prefix + c):
            return prefix + c
    raise AssertionError("unreachable")


BC_WEIGHTS = (2, 4, 8, 5, 10, 9, 7, 3)


def bc_phn_ok(d):
    if len(d) != 10 or d[0] != "9":
        return False
    r = sum(int(d[i + 1]) * w for i, w in enumerate(BC_WEIGHTS)) % 11
    if r in (0, 1):
        return False
    return int(d[9]) == 11 - r


def gen_bc_phn(rng):
    while True:
        p = "9" + "".join(rng.choice("0123456789") for _ in range(8))
        r = sum(int(p[i + 1]) * w for i, w in enumerate(BC_WEIGHTS)) % 11
        if r in (0, 1):
            continue
        d = p + str(11 - r)
        if not luhn_ok(d):  # keep kinds unambiguous
            return d


def gen_ontario(rng):
    return luhn_complete(rng.choice("12345678") + "".join(rng.choice("0123456789") for _ in range(8)))


def gen_sin(rng):
    return luhn_complete(rng.choice("12345679") + "".join(rng.choice("0123456789") for _ in range(7)))


# ---------------------------------------------------------------- patterns

HEALTH_KW = re.compile(
    r"\b(?:PHN|OHIP|MSI|MCP|Medicare|health\s+card|health\s+number|"
    r"health\s+insurance\s+number|carte\s+sant[ée]|carte\s+d['’]assurance\s+maladie|"
    r"num[ée]ro\s+d['’]assurance\s+maladie|NAM|RAMQ)\b",
    re.IGNORECASE,
)
SIN_KW = re.compile(
    r"\b(?:SIN|NAS|social\s+insurance\s+number|num[ée]ro\s+d['’]assurance\s+sociale)\b",
    re.IGNORECASE,
)
BIRTH_KW = re.compile(
    r"(?:\bD\.O\.B\.|\bDOB\b|\bdate\s+of\s+birth\b|\bborn(?:\s+on)?\b|\bbirthdate\b|"
    r"\bdate\s+de\s+naissance\b|\bnée?\s+le\b|\bDDN\b)",
    re.IGNORECASE,
)
MRN_KW = re.compile(
    r"(?:\bMRN\b|\bchart\s*(?:#|number\b|no\.)|\bmedical\s+record\s+number\b|"
    r"\bhospital\s+number\b|\bnum[ée]ro\s+de\s+dossier\b|\bno\s+de\s+dossier\b|"
    r"\bdossier\s+no\b|#\s*de\s+dossier\b)",
    re.IGNORECASE,
)
MONTHS = (
    r"(?:jan(?:uary|\.)?|feb(?:ruary|\.)?|mar(?:ch|\.)?|apr(?:il|\.)?|may|june?|july?|"
    r"aug(?:ust|\.)?|sept?(?:ember|\.)?|oct(?:ober|\.)?|nov(?:ember|\.)?|dec(?:ember|\.)?|"
    r"janvier|f[ée]vrier|mars|avril|mai|juin|juillet|ao[uû]t|septembre|octobre|novembre|d[ée]cembre)"
)
DATE = re.compile(
    r"(?:\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/\d{4}\b|"
    r"\b" + MONTHS + r"\s+\d{1,2}(?:er)?,?\s+\d{4}\b|"
    r"\b\d{1,2}(?:er)?\s+" + MONTHS + r"\s+\d{4}\b)",
    re.IGNORECASE,
)
# digit groups separated by at most one space or hyphen
DIGIT_RUN = re.compile(r"\d+(?:[ -]\d+)*")
POSTAL_SHAPE = re.compile(r"\b[A-Za-z]\d[A-Za-z][ -]?\d[A-Za-z]\d\b")
POSTAL_VALID = re.compile(r"^[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] ?\d[ABCEGHJ-NPRSTV-Z]\d$", re.IGNORECASE)
PHONE_SHAPE = re.compile(r"(?:\(\d{3}\)\s?|\b\d{3}[-. ])\d{3}[-. ]\d{4}\b")
PHONE_VALID = re.compile(
    r"^(?:\+1 |1-)?(?:\([2-9]\d{2}\) ?|[2-9]\d{2}[-. ])[2-9]\d{2}[-. ]\d{4}$|^[2-9]\d{2}[2-9]\d{6}$"
)
EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
CAP = r"[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ]*(?:['’-][A-ZÀ-ÖØ-Þa-zà-öø-ÿ][a-zà-öø-ÿ]*)*"
TITLE_NAME = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Mme|Mlle)\.?|\bMiss|\bM\.|\bMonsieur|\bMadame)\s+(" + CAP + r")"
)
NOUN_NAME = re.compile(r"\b(?:[Pp]atiente?|[Cc]liente?)\s+(" + CAP + r")")
STREET_EN = re.compile(
    r"\b\d+,?\s+(?:[A-Z][\w'-]*\s+){1,3}(?:Street|St\.|St\b|Avenue|Ave\.|Road|Rd\.|Drive|Dr\.|"
    r"Crescent|Cres\.|Boulevard|Blvd\.?|Lane|Way|Court|Place)"
)
STREET_FR = re.compile(r"\b\d+,?\s+(?:rue|boulevard|boul\.|avenue|av\.|chemin|ch\.|rang|route|place|montée)\b",
                       re.IGNORECASE)
NAME_MATCH = re.compile(r"^" + CAP + r"(?: " + CAP + r")?$")


def find_identifier_shapes(text):
    """Return a list of (reason, snippet) for anything identifier-like in text."""
    out = []
    for m in DIGIT_RUN.finditer(text):
        n = len(digits(m.group()))
        if n >= 9:
            out.append(("9+ digit run", m.group()))
        elif n == 8:
            lo, hi = max(0, m.start() - 40), m.end() + 40
            if HEALTH_KW.search(text[lo:hi]):
                out.append(("8-digit run near health keyword", m.group()))
    if "@" in text:
        i = text.index("@")
        out.append(("@", text[max(0, i - 15): i + 15]))
    for m in POSTAL_SHAPE.finditer(text):
        out.append(("postal-code shape", m.group()))
    for m in PHONE_SHAPE.finditer(text):
        out.append(("phone shape", m.group()))
    for m in BIRTH_KW.finditer(text):
        d = DATE.search(text, m.end(), m.end() + 25)
        if d:
            out.append(("date after birth keyword", text[m.start(): d.end()]))
    for m in MRN_KW.finditer(text):
        if re.match(r"\s*[:#]?\s*[A-Za-z]?\d{5,}", text[m.end():]):
            out.append(("number after MRN keyword", text[m.start(): m.end() + 15]))
    for rx in (TITLE_NAME, NOUN_NAME):
        for m in rx.finditer(text):
            if len(m.group(1)) >= 2:
                out.append(("capitalised word after title/patient", m.group()))
    for rx in (STREET_EN, STREET_FR):
        for m in rx.finditer(text):
            out.append(("street-address shape", m.group()))
    return out


# ---------------------------------------------------------------- per-kind checks


def check_match(kind, match, text, start):
    """Return list of problems with one expected identifier."""
    p = []
    d = digits(match)
    before = text[max(0, start - 40): start]
    after = text[start + len(match): start + len(match) + 40]
    around = before + " " + after
    if kind == "bc_phn":
        if not bc_phn_ok(d):
            p.append("invalid BC PHN check digit")
        if not re.fullmatch(r"\d{10}|\d{4}([ -])\d{3}\1\d{3}", match):
            p.append("BC PHN not written 4-3-3 or unseparated")
    elif kind == "ontario_health_number":
        m = re.fullmatch(r"(\d{4}([ -])\d{3}\2\d{3}|\d{10})(?:[ -]?([A-Z]{1,2}))?", match)
        if not m:
            p.append("Ontario number not 4-3-3/unseparated with optional version code")
        if len(d) != 10 or not luhn_ok(d) or d[0] == "9":
            p.append("Ontario number fails Luhn / starts with 9")
    elif kind == "health_card_number":
        if not re.fullmatch(r"\(?\d+\)?(?:[ -]\d+)*", match) or not 8 <= len(d) <= 12:
            p.append("health card number is not an 8-12 digit run")
        if bc_phn_ok(d):
            p.append("health card number is a valid BC PHN")
        if len(d) in (9, 10) and luhn_ok(d):
            p.append("health card number is Luhn-valid 9/10 digits")
        if len(d) == 10 and re.fullmatch(r"\d{10}", match) and d[0] in "23456789" and d[3] in "23456789":
            p.append("unseparated 10-digit health card number is also phone-shaped")
        # SPEC section 6: any 8-12 digit run within 40 characters of a keyword, before or
        # after it, a phone number's included
        if not HEALTH_KW.search(around):
            p.append("no health-card keyword within 40 chars")
    elif kind == "sin":
        if len(d) != 9 or not re.fullmatch(r"\d{9}|\d{3}([ -])\d{3}\1\d{3}", match):
            p.append("SIN not 9 digits 3-3-3/unseparated")
        elif luhn_ok(d):
            if d[0] in "08":
                p.append("SIN starts with 0 or 8")
        elif not SIN_KW.search(around):
            p.append("non-Luhn SIN without SIN/NAS keyword within 40 chars")
        if HEALTH_KW.search(around):
            p.append("SIN within 40 chars of a health-card keyword (ambiguous)")
    elif kind == "date_of_birth":
        if not DATE.fullmatch(match):
            p.append("DOB not in a recognised date format")
        if not BIRTH_KW.search(text[max(0, start - 25): start]):
            p.append("no birth keyword right before DOB")
        if len(d) == 8 and re.fullmatch(r"[\d -]+", match) and HEALTH_KW.search(around):
            p.append("8-digit DOB within 40 chars of health keyword (ambiguous)")
    elif kind == "phone":
        if not PHONE_VALID.fullmatch(match):
            p.append("phone not a valid NANP format")
        if re.fullmatch(r"\d{10}", match) and (luhn_ok(d) or d[0] == "9"):
            p.append("unseparated phone is Luhn-valid or starts with 9")
        if "555" not in match:
            p.append("phone should use the 555 exchange")
    elif kind == "email":
        if not EMAIL.fullmatch(match) or not re.search(r"example\.(org|ca)$", match, re.I):
            p.append("email invalid or not @example.org/.ca")
    elif kind == "postal_code":
        if not POSTAL_VALID.fullmatch(match):
            p.append("invalid Canadian postal code")
    elif kind == "mrn":
        if not re.fullmatch(r"[A-Z]?\d{5,8}", match):
            p.append("MRN not [letter]5-8 digits")
        if not MRN_KW.search(text[max(0, start - 25): start]):
            p.append("no MRN keyword right before")
    elif kind == "street_address":
        if not re.match(r"\d+", match):
            p.append("street address does not start with a civic number")
        if not (STREET_EN.fullmatch(match) or STREET_FR.match(match) or
                re.fullmatch(STREET_EN.pattern + r"\s+[NSEW]", match)):
            p.append("street address not recognised")
    elif kind == "name":
        if not NAME_MATCH.fullmatch(match):
            p.append("name not one or two capitalised words")
        if not re.search(r"(?:\b(?:Mr|Mrs|Ms|Mme|Mlle)\.?|\bMiss|\bM\.|\bMonsieur|\bMadame|"
                         r"\b[Pp]atiente?|\b[Cc]liente?)\s+$", text[:start]):
            p.append("name not right after a title or patient/client")
    return p


# ---------------------------------------------------------------- main


def load(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                raise SystemExit(f"{path}:{n}: blank line")
            rows.append((n, json.loads(line)))
    return rows


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--gen":
        n = int(sys.argv[2]) if len(sys.argv) > 2 else 5
        rng = random.Random()
        print("bc_phn:", " ".join(gen_bc_phn(rng) for _ in range(n)))
        print("ontario:", " ".join(gen_ontario(rng) for _ in range(n)))
        print("sin:", " ".join(gen_sin(rng) for _ in range(n)))
        return 0

    errors, warnings = [], []
    seen = set()

    clean = load(CLEAN)
    ident = load(IDENT)

    lang_clean = Counter()
    for n, r in clean:
        where = f"clean.jsonl:{n} {r.get('id')}"
        if set(r) != {"id", "lang", "text"}:
            errors.append(f"{where}: keys {sorted(r)}")
        if r.get("id") in seen:
            errors.append(f"{where}: duplicate id")
        seen.add(r.get("id"))
        if not re.fullmatch(r"clean-\d{3}", r.get("id", "")):
            errors.append(f"{where}: bad id format")
        if r.get("lang") not in ("en", "fr"):
            errors.append(f"{where}: bad lang")
        lang_clean[r.get("lang")] += 1
        for reason, snip in find_identifier_shapes(r["text"]):
            errors.append(f"{where}: {reason}: {snip!r}")

    kind_lang = Counter()
    lang_ident = Counter()
    multi = 0
    for n, r in ident:
        where = f"identifiers.jsonl:{n} {r.get('id')}"
        if not {"id", "lang", "text", "expect"} <= set(r) <= {"id", "lang", "text", "expect", "note"}:
            errors.append(f"{where}: keys {sorted(r)}")
        if r.get("id") in seen:
            errors.append(f"{where}: duplicate id")
        seen.add(r.get("id"))
        if not re.fullmatch(r"id-\d{3}", r.get("id", "")):
            errors.append(f"{where}: bad id format")
        if r.get("lang") not in ("en", "fr"):
            errors.append(f"{where}: bad lang")
        lang_ident[r.get("lang")] += 1
        text = r["text"]
        exp = r.get("expect") or []
        if not exp:
            errors.append(f"{where}: empty expect")
        if len(exp) >= 2:
            multi += 1
        masked = text
        matches = [e.get("match") for e in exp]
        if len(set(matches)) != len(matches):
            errors.append(f"{where}: duplicate match strings")
        for e in exp:
            if set(e) != {"kind", "severity", "match"}:
                errors.append(f"{where}: expect keys {sorted(e)}")
                continue
            k, s, m = e["kind"], e["severity"], e["match"]
            if k not in SEVERITY:
                errors.append(f"{where}: unknown kind {k}")
                continue
            if SEVERITY[k] != s:
                errors.append(f"{where}: {k} should be {SEVERITY[k]}, got {s}")
            c = text.count(m)
            if c != 1:
                errors.append(f"{where}: match {m!r} occurs {c} times")
                continue
            if m != m.strip():
                errors.append(f"{where}: match {m!r} has surrounding whitespace")
            start = text.index(m)
            for prob in check_match(k, m, text, start):
                errors.append(f"{where}: {k} {m!r}: {prob}")
            if k == "phone" and HEALTH_KW.search(text[max(0, start - 40): start + len(m) + 40]):
                warnings.append(f"{where}: phone {m!r} within 40 chars of a health keyword "
                                f"(3-3-4 grouping should win)")
            kind_lang[(k, r["lang"])] += 1
            masked = masked.replace(m, "~" * len(m))
        # anything identifier-shaped left after removing the listed matches is unlisted
        for reason, snip in find_identifier_shapes(masked):
            errors.append(f"{where}: unlisted? {reason}: {snip!r}")

    print(f"clean.jsonl: {len(clean)} texts  " +
          "  ".join(f"{l}={lang_clean[l]}" for l in sorted(lang_clean)))
    print(f"identifiers.jsonl: {len(ident)} texts  " +
          "  ".join(f"{l}={lang_ident[l]}" for l in sorted(lang_ident)) +
          f"  multi-identifier texts={multi}")
    print(f"{'kind':24} {'severity':8} {'en':>4} {'fr':>4} {'total':>6}")
    for k in SEVERITY:
        en, fr = kind_lang[(k, "en")], kind_lang[(k, "fr")]
        print(f"{k:24} {SEVERITY[k]:8} {en:4} {fr:4} {en + fr:6}")
    print(f"{'all':33} {sum(v for (k, l), v in kind_lang.items() if l == 'en'):4} "
          f"{sum(v for (k, l), v in kind_lang.items() if l == 'fr'):4} {sum(kind_lang.values()):6}")

    if len(clean) < 120:
        errors.append(f"clean.jsonl has only {len(clean)} lines (< 120)")
    if len(ident) < 120:
        errors.append(f"identifiers.jsonl has only {len(ident)} lines (< 120)")
    if multi < 10:
        errors.append(f"only {multi} multi-identifier texts (< 10)")
    for k in SEVERITY:
        if kind_lang[(k, "en")] + kind_lang[(k, "fr")] < 10:
            errors.append(f"fewer than 10 {k} identifiers")

    for w in warnings:
        print("warning:", w)
    for e in errors:
        print("ERROR:", e)
    print("FAIL" if errors else "OK")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
