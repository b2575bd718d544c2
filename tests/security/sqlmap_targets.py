"""sqlmap at level 5, risk 3 against the API of a running confer server (roadmap step 9,
item 4). Run by tests/security/sqlmap, which starts the server on a throwaway database
seeded with the demo community.

Each target is one request as the web client sends it: a signed-in member's bearer token,
a JSON body or a query string, an id in the path marked with '*'. sqlmap tries every
parameter of it (JSON fields, query parameters, the path id; on the first target also the
User-Agent, Referer, Host and Cookie headers) with every PostgreSQL technique it has:
boolean and time-based blind, error-based, stacked queries, UNION. A target passes when
sqlmap tested each of its parameters and found none injectable; anything else (a finding,
a target it could not test) fails. Afterwards the accounts must be as they were: risk 3
sends OR-based payloads, which would rewrite every row of an injectable UPDATE.

usage: sqlmap_targets.py BASE_URL DATABASE_URL OUTPUT_DIR [TARGET_NAME ...]
"""
import json
import os
import re
import subprocess
import sys
import time
import urllib.request

DEMO_PASSWORD = "demo passphrase for confer"
ADMIN = "dr-maya-chen@demo.confer.example"
MEMBER = "dr-samuel-osei@demo.confer.example"
HEADERS_ONLY_ONCE = "user-agent,referer,host"


def call(base, method, path, token=None, body=None):
    req = urllib.request.Request(base + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def sign_in(base, email):
    status, body = call(base, "POST", "/api/v1/sessions",
                        body={"email": email, "password": DEMO_PASSWORD})
    assert status == 201, (status, body)
    return body["token"]


def psql(url, sql):
    return subprocess.run(["psql", url, "-XAtqc", sql], check=True, capture_output=True,
                          text=True).stdout.strip()


def targets(base, db):
    admin = sign_in(base, ADMIN)
    member = sign_in(base, MEMBER)
    for t in (admin, member):
        status, g = call(base, "GET", "/api/v1/guidelines")
        call(base, "POST", "/api/v1/me/guidelines", t, {"version": g["version"]})
    cat = psql(db, "SELECT slug FROM categories ORDER BY id LIMIT 1")
    cat_id = psql(db, "SELECT id FROM categories ORDER BY id LIMIT 1")
    status, t = call(base, "POST", "/api/v1/threads", member, {
        "category_id": int(cat_id), "title": "A thread for sqlmap",
        "body": "Tapering a long-term opioid dose.", "kind": "question"})
    assert status == 201, (status, t)
    tid, pid = t["thread"]["id"], t["posts"][0]["id"] if "posts" in t else None
    if pid is None:
        pid = int(psql(db, f"SELECT id FROM posts WHERE thread_id = {tid} AND number = 1"))
    member_id = int(psql(db, f"SELECT id FROM users WHERE email = '{MEMBER}'"))
    status, g = call(base, "POST", "/api/v1/groups", admin, {"network": "BC",
                                                             "name": "sqlmap group"})
    assert status == 201, (status, g)
    status, inv = call(base, "POST", "/api/v1/invitations", admin,
                       {"email": "sqlmap-new@demo.confer.example", "network": "BC"})
    assert status == 201, (status, inv)
    status, hook = call(base, "POST", "/api/v1/webhooks", admin, {
        "url": "http://127.0.0.1:9/hook", "events": ["ping"],
        "secret": "a webhook secret of some length"})
    assert status == 201, (status, hook)
    j = "application/json"
    # (name, token, method, path, JSON body or None, extra sqlmap arguments)
    return [
        # the first also tries the headers and the session cookie, signed in by cookie
        ("me, by cookie, with headers", None, "GET", "/api/v1/me", None,
         ["--cookie", f"confer_session={admin}", "--ignore-code", "401"]),
        ("sign-in", None, "POST", "/api/v1/sessions",
         {"email": ADMIN, "password": DEMO_PASSWORD}, ["--ignore-code", "401"]),
        ("register", None, "POST", "/api/v1/users",
         {"invite_code": inv["code"], "email": "sqlmap-new@demo.confer.example",
          "display_name": "Dr Sql Map", "password": "a long enough passphrase here",
          "profession": "family_physician", "locale": "en"}, ["--ignore-code", "404"]),
        ("search", member, "GET",
         f"/api/v1/search?q=opioid&category={cat}&author={member_id}&after=2020-01-01"
         "&before=2030-01-01&sort=relevance&limit=10", None, []),
        ("thread list", member, "GET", f"/api/v1/threads?category={cat}&sort=latest&limit=10",
         None, []),
        ("thread by id", member, "GET", f"/api/v1/threads/{tid}*", None, []),
        ("category by name", member, "GET", f"/api/v1/categories/{cat}*", None, []),
        ("directory", member, "GET", "/api/v1/users?q=osei&limit=5", None, []),
        ("new thread", member, "POST", "/api/v1/threads",
         {"category_id": int(cat_id), "title": "Sleep and pain", "body": "A question.",
          "kind": "question"}, []),
        ("reply", member, "POST", f"/api/v1/threads/{tid}/posts",
         {"body": "A reply about tapering.", "reply_to": pid}, []),
        ("edit", member, "PATCH", f"/api/v1/posts/{pid}*",
         {"body": "An edited first post."}, []),
        ("flag", admin, "POST", f"/api/v1/posts/{pid}/flags",
         {"reason": "other", "note": "a note"}, []),
        ("privacy check", member, "POST", "/api/v1/privacy/check",
         {"body": "A 54-year-old with back pain."}, []),
        ("conversation", member, "POST", "/api/v1/conversations",
         {"participant_ids": [1], "title": "A question", "body": "Hello."}, []),
        ("group", admin, "POST", "/api/v1/groups",
         {"network": "BC", "name": "A group", "description": "Cases."}, []),
        ("group member", admin, "PUT", f"/api/v1/groups/{g['id']}/members/{member_id}*",
         {"role": "mentee"}, []),
        ("meeting", admin, "POST", f"/api/v1/groups/{g['id']}/meetings",
         {"starts_at": "2030-01-15T18:30:00-05:00", "duration_minutes": 60, "mode": "video",
          "where": "https://meet.example.ca/abc", "agenda": "Two cases."}, []),
        ("profile", member, "PATCH", "/api/v1/me",
         {"display_name": "Dr Samuel Osei", "locale": "fr"}, []),
        ("invitation", admin, "POST", "/api/v1/invitations",
         {"email": "someone@demo.confer.example", "network": "BC"}, []),
        ("reports", admin, "GET", "/api/v1/reports/summary?from=2025-01-01&to=2030-12-31"
         "&network=BC", None, []),
        ("moderation log", admin, "GET", "/api/v1/moderation/log?limit=5", None, []),
        ("moderation queue", admin, "GET", "/api/v1/moderation/queue?limit=5", None, []),
        ("notifications", member, "GET", "/api/v1/notifications?limit=5&unread=true", None, []),
        ("webhook", admin, "PATCH", f"/api/v1/webhooks/{hook['id']}*",
         {"events": ["ping"], "active": True}, []),
        ("suspend", admin, "POST", f"/api/v1/moderation/users/{member_id}/suspend",
         {"reason": "testing", "until": "2030-01-01T00:00:00Z"}, []),
    ]


def run(base, out, name, token, method, path, body, extra):
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    log = os.path.join(out, slug + ".log")
    args = ["sqlmap", "-u", base + path, "--method", method, "--level", "5", "--risk", "3",
            "--dbms", "PostgreSQL", "--batch", "--threads", "4", "--disable-coloring",
            "--flush-session", "--output-dir", os.path.join(out, "sqlmap"),
            "-H", "Content-Type: application/json", "--ignore-code", "400,403,404,409,422"]
    if token:
        args += ["-H", f"Authorization: Bearer {token}"]
    if body is not None:
        args += ["--data", json.dumps(body)]
    if "--cookie" not in extra:
        args += ["--skip", HEADERS_ONLY_ONCE]
    if "--ignore-code" in extra:  # one list for sqlmap
        i = args.index("--ignore-code")
        args[i + 1] += "," + extra[extra.index("--ignore-code") + 1]
        extra = [a for k, a in enumerate(extra) if a != "--ignore-code"
                 and (k == 0 or extra[k - 1] != "--ignore-code")]
    started = time.time()
    with open(log, "w") as f:
        rc = subprocess.run(args + extra, stdout=f, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL).returncode
    text = open(log, errors="replace").read()
    param = r"((?:\(custom\) )?(?:[A-Z][A-Za-z]* )?parameter '[^']+')"
    tested = re.findall(r"testing for SQL injection on " + param, text)
    clean = set(re.findall(param + r" does not seem to be injectable", text))
    # a candidate sqlmap itself then proved a false positive ends "does not seem to be
    # injectable" too; one it kept is a finding
    found = [p for p in tested if p not in clean]
    if "identified the following injection point" in text:
        found.append("(sqlmap identified an injection point)")
    rejected = text.count("false positive or unexploitable injection point detected")
    codes = re.search(r"HTTP error codes detected during run:\n(.*?)\n", text)
    ok = rc == 0 and tested and not found and \
        "all tested parameters do not appear to be injectable" in text
    return {"target": name, "method": method, "path": path, "tested": len(tested),
            "found": found, "false_positives": rejected,
            "errors": codes.group(1) if codes else "", "seconds": round(time.time() - started),
            "ok": bool(ok), "log": log}


def snapshot(db):
    return psql(db, "SELECT string_agg(concat_ws('|', id, email, password_hash, site_role, "
                    "network_id), ',' ORDER BY id) FROM users WHERE email LIKE '%@demo.%' "
                    "AND email NOT LIKE 'sqlmap-%'") + psql(
        db, "SELECT string_agg(concat_ws('|', id, slug), ',' ORDER BY id) FROM categories")


def main():
    base, db, out = sys.argv[1:4]
    only = set(sys.argv[4:])
    os.makedirs(out, exist_ok=True)
    before = snapshot(db)
    results = []
    for t in targets(base, db):
        if only and t[0] not in only:
            continue
        r = run(base, out, *t)
        results.append(r)
        print(f"{'ok    ' if r['ok'] else 'FAILED'} {r['target']:<28} {r['method']:<6} "
              f"{r['tested']:>2} parameters, {r['seconds']:>4} s"
              + (f", {r['false_positives']} candidate(s) proved false" if r["false_positives"]
                 else "")
              + (f"  injectable: {r['found']}" if r["found"] else "")
              + ("" if r["ok"] else f"  (see {r['log']})"), flush=True)
    after = snapshot(db)
    accounts_unchanged = before == after
    print("accounts and categories unchanged" if accounts_unchanged
          else "FAILED: accounts or categories changed during the run")
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump({"results": results, "accounts_unchanged": accounts_unchanged}, f, indent=1)
    passed = sum(r["ok"] for r in results) + accounts_unchanged
    failed = len(results) + 1 - passed
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
