"""Email and webhooks through the transactional outbox (roadmap step 6, items 4 and 6; SPEC
section 7). Real receivers on loopback (receivers.py): an SMTP sink and an HTTP server that
can be told to fail. Each module server has a database of its own, so that no other test's
server (without SMTP) claims its rows."""
import hashlib
import hmac
import json
import re
import signal
import tempfile
import time
import uuid

import pytest

from harness import Client, FreshDatabase, Server, create_admin, problem, psql, register
from receivers import SmtpSink, WebhookReceiver, parse, self_signed_cert

PUBLIC = "https://confer.test"
SECRET = "a webhook secret of some length"
BASE_ENV = {
    "CONFER_RATE_LIMITS": "off",
    "CONFER_PUBLIC_URL": PUBLIC,
    "CONFER_RETRY_BASE": "1",
    "CONFER_RETRY_MAX": "8",
    "CONFER_RETRY_ATTEMPTS": "4",
    "CONFER_OUTBOX_TIMEOUT": "10",
    "CONFER_SWEEP_INTERVAL": "1",
    "CONFER_DIGEST_INTERVAL": "3",
}


@pytest.fixture(scope="module")
def sink():
    s = SmtpSink()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def receiver():
    r = WebhookReceiver()
    yield r
    r.stop()


@pytest.fixture(scope="module")
def db():
    d = FreshDatabase("outbox")
    yield d
    d.drop()


@pytest.fixture(scope="module")
def srv(db, sink):
    s = Server(database_url=db.url,
               extra_env=dict(BASE_ENV, CONFER_SMTP_URL=sink.url())).start()
    yield s
    rc = s.stop()
    assert rc == 0, s.log_text()[-3000:]


@pytest.fixture(scope="module")
def admin(srv, db):
    return Client(srv, create_admin(db.url)).accept_guidelines()


@pytest.fixture(scope="module")
def people(srv, admin):
    return {
        "ann": register(srv, admin, name="Ann English").accept_guidelines(),
        "fred": register(srv, admin, name="Frédérique Lavoie", locale="fr").accept_guidelines(),
        "olive": register(srv, admin, name="Olive Off").accept_guidelines(),
        "dana": register(srv, admin, name="Dana Daily").accept_guidelines(),
    }


def thread(client, title, body="A question about tapering.", category=1):
    r = client.call("POST", "/api/v1/threads",
                    body={"category_id": category, "title": title, "body": body})
    assert r.status == 201, r
    return r.json()["thread"], r.json()["post"]


def reply(client, thread_id, to, body):
    r = client.call("POST", f"/api/v1/threads/{thread_id}/posts",
                    body={"body": body, "reply_to": to})
    assert r.status == 201, r
    return r.json()


def text_of(message):
    m = parse(message)
    return m, m.get_content()


def rows(db, sql):
    out = psql(db.url, sql)
    return [line.split("|") for line in out.splitlines()] if out else []


def settled(db, sql, timeout=15):
    """rows(sql) once no row's first column is 'pending' (the server records an attempt
    just after the receiver answers)."""
    deadline = time.time() + timeout
    while True:
        out = rows(db, sql)
        if (out and all(r[0] != "pending" for r in out)) or time.time() > deadline:
            return out
        time.sleep(0.05)


# --- email ------------------------------------------------------------------------------

def test_an_email_in_each_recipients_language_with_no_clinical_text(db, sink, people):
    ann, fred = people["ann"], people["fred"]
    t, first = thread(ann, "Tapering oxycodone in an older adult",
                      body="SECRET-CLINICAL-DETAIL the first post's text")
    p = reply(fred, t["id"], first["id"], "SECRET-CLINICAL-REPLY a reply's text")
    [msg] = sink.wait_for(ann.email)
    m, body = text_of(msg)
    assert m["To"].addresses[0].addr_spec == ann.email and msg["to"] == [ann.email]
    assert m["From"] == "confer <noreply@confer.test>"
    assert m["Subject"] == "[confer] New reply in “Tapering oxycodone in an older adult”"
    assert m["Content-Language"] == "en"
    assert "Frédérique Lavoie replied to your post in “Tapering oxycodone in an older adult”." \
        in body
    assert f"{PUBLIC}/#/threads/{t['id']}?post={p['id']}" in body
    assert f"{PUBLIC}/#/settings" in body
    assert "SECRET-CLINICAL" not in body and b"SECRET-CLINICAL" not in msg["data"]
    # the delivery id is the outbox row's, in a header and the Message-ID
    delivery = psql(db.url, f"SELECT delivery FROM outbox o JOIN users u ON u.id = o.user_id "
                            f"WHERE u.email = '{ann.email}'")
    assert m["X-Confer-Delivery"] == delivery and delivery in m["Message-ID"]

    reply(ann, t["id"], p["id"], "SECRET-CLINICAL-ANSWER another")
    [msg] = sink.wait_for(fred.email)
    m, body = text_of(msg)
    assert m["Subject"] == ("[confer] Nouvelle réponse dans "
                            "« Tapering oxycodone in an older adult »")
    assert m["Content-Language"] == "fr"
    assert "Ann English a répondu à votre message dans « Tapering oxycodone" in body
    assert "Vous recevez ce courriel selon vos préférences de notification" in body
    assert "SECRET-CLINICAL" not in body
    assert settled(db, "SELECT state FROM outbox WHERE channel = 'email'") == [["delivered"]] * 2


def test_off_sends_nothing_and_daily_sends_one_digest(db, srv, sink, people):
    ann, olive, dana = people["ann"], people["olive"], people["dana"]
    assert olive.call("PATCH", "/api/v1/me", body={"email_notifications": "off"}).status == 200
    assert dana.call("PATCH", "/api/v1/me", body={"email_notifications": "daily"}).status == 200
    to_olive, o1 = thread(olive, "Olive's thread on sleep")
    to_dana, d1 = thread(dana, "Dana's thread on buprenorphine")
    reply(ann, to_olive["id"], o1["id"], "An answer for Olive")
    r1 = reply(ann, to_dana["id"], d1["id"], "An answer for Dana")
    r2 = reply(ann, to_dana["id"], d1["id"], "And a second one")
    assert psql(db.url, f"SELECT count(*) FROM outbox o JOIN users u ON u.id = o.user_id "
                        f"WHERE u.email = '{olive.email}'") == "0"
    # one digest with both, after the digest interval, not one email each
    [msg] = sink.wait_for(dana.email, timeout=15)
    m, body = text_of(msg)
    assert m["Subject"] == "[confer] 2 new notifications"
    assert body.count("Ann English replied to your post in “Dana's thread on buprenorphine”") == 2
    assert f"{PUBLIC}/#/threads/{to_dana['id']}?post={r1['id']}" in body
    assert f"{PUBLIC}/#/threads/{to_dana['id']}?post={r2['id']}" in body
    # a notification read in the app before the next digest is left out of it
    r3 = reply(ann, to_dana["id"], d1["id"], "A third, read at once")
    note = dana.get("/api/v1/notifications?unread=true").json()["items"][0]
    assert note["post_id"] == r3["id"]
    assert dana.call("POST", "/api/v1/notifications/read", body={"ids": [note["id"]]}).status == 200
    time.sleep(5)  # past the next digest time
    assert len(sink.to(dana.email)) == 1
    assert sink.to(olive.email) == []
    # and a new one after that comes in the next digest
    r4 = reply(ann, to_dana["id"], d1["id"], "A fourth")
    msgs = sink.wait_for(dana.email, n=2, timeout=15)
    m, body = text_of(msgs[1])
    assert m["Subject"] == "[confer] 1 new notification"
    assert f"?post={r4['id']}" in body and f"?post={r3['id']}" not in body


def test_a_temporary_failure_is_retried_until_the_message_is_taken(db, sink, people):
    ann, fred = people["ann"], people["fred"]
    t, first = thread(fred, "Retry this one")
    before = len(sink.to(fred.email))
    sink.temp_failures = 2
    p = reply(ann, t["id"], first["id"], "The reply")
    msgs = sink.wait_for(fred.email, n=before + 1, timeout=20)
    assert len(msgs) == before + 1
    out = settled(db, "SELECT o.state, o.attempts, string_agg(a.status::text, ',' "
                      "ORDER BY a.id) FROM outbox o JOIN notifications n ON "
                      "n.id = o.notification_id JOIN outbox_attempts a ON a.outbox_id = o.id "
                      f"WHERE n.post_id = {p['id']} GROUP BY o.id")
    assert out == [["delivered", "3", "451,451,250"]]


def test_a_refused_address_fails_at_once(db, srv, admin, sink, people):
    u = register(srv, admin, name="Refused Reader").accept_guidelines()
    sink.reject[u.email] = 550  # the mail server knows no such mailbox
    t, first = thread(u, "A thread whose author cannot be mailed")
    p = reply(people["olive"], t["id"], first["id"], "A reply")
    out = settled(db, "SELECT o.state, o.attempts, o.last_status FROM outbox o JOIN "
                      f"notifications n ON n.id = o.notification_id WHERE n.post_id = {p['id']}")
    assert out == [["failed", "1", "550"]]
    assert sink.to(u.email) == []


def a_reply_notified(server, db, title):
    """On a fresh database: an admin, a member who starts a thread and another who replies
    (a reply notification, so an email for the author). Returns the author."""
    admin = Client(server, create_admin(db.url)).accept_guidelines()
    author = register(server, admin, name="Thread Author").accept_guidelines()
    replier = register(server, admin, name="Replier").accept_guidelines()
    t, first = thread(author, title)
    reply(replier, t["id"], first["id"], "A reply")
    return author


def test_a_server_without_smtp_leaves_emails_to_one_with_it(sink):
    db = FreshDatabase("outbox_nosmtp")
    plain = Server(database_url=db.url, workers=1, extra_env=BASE_ENV).start()
    try:
        a = a_reply_notified(plain, db, "Mailed by the other server")
        time.sleep(2)  # two claims at least
        assert rows(db, "SELECT state, attempts FROM outbox") == [["pending", "0"]]
        assert plain.stop() == 0
        plain = Server(database_url=db.url, workers=1,
                       extra_env=dict(BASE_ENV, CONFER_SMTP_URL=sink.url())).start()
        [msg] = sink.wait_for(a.email)
        assert parse(msg)["Subject"] == "[confer] New reply in “Mailed by the other server”"
    finally:
        assert plain.stop() == 0
        db.drop()


# --- webhooks -------------------------------------------------------------------------------

def make_hook(admin, url, events, secret=SECRET):
    r = admin.call("POST", "/api/v1/webhooks", body={"url": url, "events": events,
                                                      "secret": secret})
    assert r.status == 201, r
    return r.json()


def last_delivery(admin, hook, state, timeout=10):
    """The webhook's newest delivery once it is in this state (its log is written just
    after the receiver answers)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = admin.get(f"/api/v1/webhooks/{hook['id']}/deliveries")
        assert r.status == 200, r
        items = r.json()["items"]
        if items and items[0]["state"] == state:
            return items[0]
        time.sleep(0.05)
    raise AssertionError(f"the newest delivery is not {state}: {items[:1]}")


def check_signature(req, secret=SECRET):
    want = "sha256=" + hmac.new(secret.encode(), req["body"], hashlib.sha256).hexdigest()
    assert req["headers"]["x-confer-signature"] == want


def test_webhooks_are_for_admins_and_their_input_is_checked(srv, admin, people):
    others = [people["ann"]] + [register(srv, admin, role=role).accept_guidelines()
                                for role in ("coordinator", "moderator")]
    for who in others:
        problem(who.call("POST", "/api/v1/webhooks", body={
            "url": "https://example.ca/hook", "events": ["*"], "secret": SECRET}),
            403, "forbidden")
        problem(who.get("/api/v1/webhooks"), 403, "forbidden")
        problem(who.get("/api/v1/webhooks/1/deliveries"), 403, "forbidden")
    problem(srv.get("/api/v1/webhooks"), 401, "unauthenticated")
    r = problem(admin.call("POST", "/api/v1/webhooks", body={}), 422, "validation_failed")
    assert {e["field"] for e in r["errors"]} >= {"url", "events", "secret"}
    for body, field in (
            ({"url": "ftp://example.ca/x", "events": ["*"], "secret": SECRET}, "url"),
            ({"url": "https://exa mple.ca/", "events": ["*"], "secret": SECRET}, "url"),
            ({"url": "https:///nohost", "events": ["*"], "secret": SECRET}, "url"),
            ({"url": "https://example.ca/h", "events": ["post.created", "nope"],
              "secret": SECRET}, "events"),
            ({"url": "https://example.ca/h", "events": [], "secret": SECRET}, "events"),
            ({"url": "https://example.ca/h", "events": "post.created", "secret": SECRET},
             "events"),
            ({"url": "https://example.ca/h", "events": ["*"], "secret": "short"}, "secret"),
            ({"url": "https://example.ca/h", "events": ["*"], "secret": SECRET,
              "active": "yes"}, "active")):
        r = problem(admin.call("POST", "/api/v1/webhooks", body=body), 422, "validation_failed")
        assert [e["field"] for e in r["errors"]] == [field], (body, r)
    before = len(admin.get("/api/v1/webhooks").json()["items"])
    hook = make_hook(admin, "https://example.ca/hook", ["post.created", "post.created", "ping"])
    assert hook["events"] == ["post.created", "ping"] and hook["active"] is True
    assert "secret" not in hook and SECRET not in json.dumps(hook)
    assert len(admin.get("/api/v1/webhooks").json()["items"]) == before + 1
    r = admin.call("PATCH", f"/api/v1/webhooks/{hook['id']}", body={"active": False})
    assert r.status == 200 and r.json()["active"] is False
    problem(admin.call("PATCH", f"/api/v1/webhooks/{hook['id']}", body={}), 422,
            "validation_failed")
    problem(admin.call("PATCH", "/api/v1/webhooks/999999", body={"active": True}), 404,
            "not_found")
    assert admin.call("DELETE", f"/api/v1/webhooks/{hook['id']}").status == 204
    problem(admin.get(f"/api/v1/webhooks/{hook['id']}"), 404, "not_found")
    problem(admin.get(f"/api/v1/webhooks/{hook['id']}/deliveries"), 404, "not_found")
    problem(admin.call("DELETE", f"/api/v1/webhooks/{hook['id']}"), 404, "not_found")
    problem(admin.call("POST", "/api/v1/webhooks/999999/ping"), 404, "not_found")
    log = admin.get("/api/v1/moderation/log?limit=10").json()["items"]
    assert [e["action"] for e in log[:3]] == ["webhook.delete", "webhook.update", "webhook.create"]
    assert SECRET not in json.dumps(log)


def test_ping_is_signed_and_logged(admin, receiver):
    hook = make_hook(admin, receiver.url("/ping"), ["thread.created"])
    r = admin.call("POST", f"/api/v1/webhooks/{hook['id']}/ping")
    assert r.status == 202
    delivery = r.json()
    [req] = receiver.wait_for(1, path="/ping")
    h = req["headers"]
    assert h["x-confer-event"] == "ping" and h["content-type"] == "application/json"
    assert h["x-confer-delivery"] == delivery["delivery"]
    uuid.UUID(h["x-confer-delivery"])
    check_signature(req)
    body = json.loads(req["body"])
    assert body["id"] == delivery["delivery"] and body["event"] == "ping"
    assert body["data"] == {"webhook_id": hook["id"]}
    item = last_delivery(admin, hook, "delivered")
    assert item["last_status"] == 200 and item["delivery"] == delivery["delivery"]
    assert [a["status"] for a in item["log"]] == [200]
    assert admin.get(f"/api/v1/webhooks/{hook['id']}").json()["deliveries"]["delivered"] == 1
    # the log pages newest first, and filters by state
    second = admin.call("POST", f"/api/v1/webhooks/{hook['id']}/ping").json()
    page = admin.get(f"/api/v1/webhooks/{hook['id']}/deliveries?limit=1").json()
    assert [i["id"] for i in page["items"]] == [second["id"]] and page["next_cursor"]
    page = admin.get(f"/api/v1/webhooks/{hook['id']}/deliveries?limit=1&cursor="
                     f"{page['next_cursor']}").json()
    assert [i["id"] for i in page["items"]] == [delivery["id"]] and page["next_cursor"] is None
    assert admin.get(f"/api/v1/webhooks/{hook['id']}/deliveries?state=failed"
                     ).json()["items"] == []
    problem(admin.get(f"/api/v1/webhooks/{hook['id']}/deliveries?state=lost"), 400,
            "invalid_query")
    problem(admin.get(f"/api/v1/webhooks/{hook['id']}/deliveries?cursor=nonsense"), 400,
            "invalid_cursor")


def test_events_carry_ids_links_and_titles_never_bodies(admin, receiver, people, srv):
    ann, fred = people["ann"], people["fred"]
    hook = make_hook(admin, receiver.url("/events"), ["*"])
    t, first = thread(ann, "A forum thread for the hook", body="WEBHOOK-SECRET-BODY")
    got = receiver.wait_for(2, path="/events")
    by_event = {r["headers"]["x-confer-event"]: r for r in got}
    assert set(by_event) == {"thread.created", "post.created"}
    for r in got:
        check_signature(r)
        assert b"WEBHOOK-SECRET-BODY" not in r["body"]
    data = json.loads(by_event["thread.created"]["body"])["data"]
    assert data["thread"]["id"] == t["id"] and data["thread"]["title"] == t["title"]
    assert data["thread"]["url"] == f"{PUBLIC}/#/threads/{t['id']}"
    assert data["thread"]["space"] == {"type": "category", "id": 1}
    assert data["thread"]["category"] == "chronic-pain"
    data = json.loads(by_event["post.created"]["body"])["data"]
    assert data["post"]["id"] == first["id"] and data["post"]["author_id"] == ann.id
    assert data["post"]["url"] == f"{PUBLIC}/#/threads/{t['id']}?post={first['id']}"
    # a conversation is not announced; a flag on it names it by ids only
    r = ann.call("POST", "/api/v1/conversations", body={
        "participant_ids": [fred.id], "title": "PRIVATE-CONVERSATION-TITLE", "body": "Hello"})
    assert r.status == 201, r
    conv = r.json()
    conv_post = ann.get(f"/api/v1/threads/{conv['id']}").json()["posts"][0]
    assert fred.call("POST", f"/api/v1/posts/{conv_post['id']}/flags",
                     body={"reason": "other", "note": "FLAG-NOTE"}).status == 201
    [flag] = receiver.wait_for(1, path="/events", event="flag.created")
    data = json.loads(flag["body"])["data"]
    assert data["thread"]["id"] == conv["id"] and data["thread"]["title"] is None
    assert data["flag"]["reason"] == "other" and data["post"]["id"] == conv_post["id"]
    got = receiver.received(path="/events")
    assert all(b"PRIVATE-CONVERSATION-TITLE" not in r["body"] and b"FLAG-NOTE" not in r["body"]
               and b"Hello" not in r["body"] for r in got)
    assert [r["headers"]["x-confer-event"] for r in got].count("post.created") == 1
    # a post hidden by a moderator: the cause, never the reason
    r = admin.call("POST", f"/api/v1/posts/{first['id']}/hide",
                   body={"reason": "HIDE-REASON-TEXT for the log"})
    assert r.status == 200, r
    [hidden] = receiver.wait_for(1, path="/events", event="post.hidden")
    data = json.loads(hidden["body"])["data"]
    assert data["post"]["id"] == first["id"] and data["cause"] == "moderator"
    assert data["thread"]["title"] == t["title"] and b"HIDE-REASON" not in hidden["body"]
    # a new member
    register(srv, admin, name="Newly Joined")
    [u] = receiver.wait_for(1, path="/events", event="user.created")
    user = json.loads(u["body"])["data"]["user"]
    assert user["display_name"] == "Newly Joined" and "email" not in user
    assert admin.call("PATCH", f"/api/v1/webhooks/{hook['id']}",
                      body={"active": False}).status == 200


def test_retries_back_off_exponentially_and_stop_after_a_2xx(db, admin, receiver):
    hook = make_hook(admin, receiver.url("/retry"), ["ping"])
    receiver.fail_next = 3
    r = admin.call("POST", f"/api/v1/webhooks/{hook['id']}/ping")
    got = receiver.wait_for(4, path="/retry", timeout=30)
    assert [g["status"] for g in got] == [500, 500, 500, 200]
    assert len({g["headers"]["x-confer-delivery"] for g in got}) == 1
    assert [g["headers"]["x-confer-attempt"] for g in got] == ["1", "2", "3", "4"]
    assert len({g["body"] for g in got}) == 1  # the same body, so the same signature
    gaps = [b["at"] - a["at"] for a, b in zip(got, got[1:])]
    # CONFER_RETRY_BASE=1: 1 s, then 2 s, then 4 s (each a little later, never earlier)
    for gap, want in zip(gaps, (1, 2, 4)):
        assert want - 0.05 <= gap <= want + 2.0, gaps
    assert gaps[0] < gaps[1] < gaps[2], gaps
    d = last_delivery(admin, hook, "delivered")
    time.sleep(3)
    assert len(receiver.received(path="/retry")) == 4  # nothing after the 2xx
    assert d["delivery"] == r.json()["delivery"]
    assert d["state"] == "delivered" and d["attempts"] == 4
    assert [a["status"] for a in d["log"]] == [500, 500, 500, 200]
    assert d["log"][0]["error"].startswith("HTTP 500: receiver is down")


def test_a_delivery_given_up_can_be_sent_again(db, admin):
    down = WebhookReceiver()
    try:
        down.fail_always = True
        hook = make_hook(admin, down.url("/down"), ["ping"])
        d = admin.call("POST", f"/api/v1/webhooks/{hook['id']}/ping").json()
        down.wait_for(4, timeout=30)  # CONFER_RETRY_ATTEMPTS=4
        failed = last_delivery(admin, hook, "failed")
        assert failed["id"] == d["id"] and failed["attempts"] == 4
        problem(admin.call("POST", f"/api/v1/webhooks/{hook['id']}/deliveries/999999/redeliver"),
                404, "not_found")
        down.fail_always = False
        r = admin.call("POST", f"/api/v1/webhooks/{hook['id']}/deliveries/{d['id']}/redeliver")
        assert r.status == 202 and r.json()["state"] == "pending"
        got = down.wait_for(5, timeout=15)
        assert got[-1]["status"] == 200
        assert got[-1]["headers"]["x-confer-delivery"] == d["delivery"]
        assert last_delivery(admin, hook, "delivered")["id"] == d["id"]
        problem(admin.call("POST", f"/api/v1/webhooks/{hook['id']}/deliveries/{d['id']}"
                                   "/redeliver"), 409, "not_failed")
    finally:
        down.stop()


def test_old_deliveries_are_pruned(db):
    kept = psql(db.url, "SELECT count(*) FROM outbox")
    ids = rows(db, "SELECT id FROM outbox WHERE state = 'delivered' ORDER BY id LIMIT 2")
    assert len(ids) == 2
    psql(db.url, f"UPDATE outbox SET finished_at = now() - interval '31 days' "
                 f"WHERE id = {ids[0][0]}")
    psql(db.url, f"UPDATE outbox SET finished_at = now() - interval '29 days' "
                 f"WHERE id = {ids[1][0]}")
    deadline = time.time() + 10
    while time.time() < deadline and psql(
            db.url, f"SELECT count(*) FROM outbox WHERE id = {ids[0][0]}") != "0":
        time.sleep(0.1)
    assert psql(db.url, f"SELECT count(*) FROM outbox WHERE id IN ({ids[0][0]}, {ids[1][0]})"
                ) == "1"
    assert int(psql(db.url, "SELECT count(*) FROM outbox")) >= int(kept) - 1


def test_metrics_show_the_outbox(srv):
    text = srv.get("/metrics").body.decode()
    assert re.search(r'^confer_outbox_pending\{channel="email"\} \d+$', text, re.M)
    assert re.search(r'^confer_outbox_pending\{channel="webhook"\} \d+$', text, re.M)
    m = re.search(r'^confer_outbox_delivered_total\{channel="email"\} (\d+)$', text, re.M)
    assert m and int(m.group(1)) >= 3
    m = re.search(r'^confer_outbox_retried_total\{channel="webhook"\} (\d+)$', text, re.M)
    assert m and int(m.group(1)) >= 3


# --- restarts ---------------------------------------------------------------------------------

def backlog_server(db, extra=None):
    return Server(database_url=db.url, workers=1,
                  extra_env=dict(BASE_ENV, **(extra or {}))).start()


@pytest.mark.parametrize("how", ["sigterm", "sigkill"])
def test_a_backlog_survives_a_restart(how):
    db = FreshDatabase(f"outbox_{how}")
    slow = WebhookReceiver(threaded=False)  # one request at a time: a queue forms
    slow.delay = 0.05
    s = backlog_server(db)
    try:
        admin = Client(s, create_admin(db.url)).accept_guidelines()
        hook = make_hook(admin, slow.url("/slow"), ["ping"])
        ids = {admin.call("POST", f"/api/v1/webhooks/{hook['id']}/ping").json()["delivery"]
               for _ in range(60)}
        slow.wait_for(8, timeout=20)
        killed_at = time.time()
        rc = s.stop(sig=signal.SIGTERM if how == "sigterm" else signal.SIGKILL)
        if how == "sigterm":
            assert rc == 0, s.log_text()[-3000:]
        before = len(slow.received())
        assert before < 60, "the backlog was gone before the restart"
        s = backlog_server(db)
        got = slow.wait_for(len(ids), timeout=40)
        deadline = time.time() + 30
        while time.time() < deadline and psql(
                db.url, "SELECT count(*) FROM outbox WHERE state <> 'delivered'") != "0":
            time.sleep(0.1)
        got = slow.received()
        seen = [g["headers"]["x-confer-delivery"] for g in got]
        assert set(seen) == ids  # nothing lost
        assert psql(db.url, "SELECT count(*) FROM outbox WHERE state = 'delivered'") == "60"
        dups = {d for d in seen if seen.count(d) > 1}
        if how == "sigterm":
            assert dups == set(), "a graceful stop finishes and records what it sent"
        # Sent again after a 2xx left the receiver: only an answer the server was killed
        # before it read or recorded it (this receiver answers one request at a time, so
        # a few at most).
        again = []
        for d in dups:
            mine = [g for g in got if g["headers"]["x-confer-delivery"] == d]
            # (what arrived after the kill was never answered to the killed server)
            first_ok = min((g["at"] for g in mine if g["answered"] and g["status"] == 200
                            and (how == "sigterm" or g["at"] < killed_at)), default=None)
            if first_ok is not None and any(g["at"] > first_ok for g in mine):
                again.append(first_ok)
        assert len(again) <= (3 if how == "sigkill" else 0), again
        assert all(killed_at - 1 <= at <= killed_at for at in again), (again, killed_at)
    finally:
        s.stop()
        slow.stop()
        db.drop()


# --- TLS ----------------------------------------------------------------------------------------

def mail_over_tls(mode, trusted):
    """A server mailing a reply's notification to a sink that speaks TLS (mode), with or
    without the sink's certificate as its CA. Returns (sink messages, the outbox row's
    state and last error, the expected subject)."""
    with tempfile.TemporaryDirectory() as d:
        cert, key = self_signed_cert(d)
        tls_sink = SmtpSink(mode, cert, key)
        db = FreshDatabase(f"outbox_{mode}_{int(trusted)}")
        env = dict(BASE_ENV, CONFER_SMTP_URL=tls_sink.url())
        if trusted:
            env["CONFER_SMTP_CA_FILE"] = cert
        s = Server(database_url=db.url, workers=1, extra_env=env).start()
        try:
            a = a_reply_notified(s, db, "A thread mailed over TLS")
            deadline = time.time() + 15
            while time.time() < deadline and not tls_sink.messages and psql(
                    db.url, "SELECT count(*) FROM outbox_attempts") == "0":
                time.sleep(0.1)
            if trusted:
                tls_sink.wait_for(a.email)
            return list(tls_sink.messages), rows(db, "SELECT state, last_error FROM outbox")[0]
        finally:
            assert s.stop() == 0
            tls_sink.stop()
            db.drop()


@pytest.mark.parametrize("mode", ["starttls", "tls"])
def test_email_over_starttls_and_tls(mode):
    [msg], _ = mail_over_tls(mode, trusted=True)
    assert msg["tls"] is True
    assert parse(msg)["Subject"] == "[confer] New reply in “A thread mailed over TLS”"


def test_a_certificate_that_does_not_verify_is_not_trusted():
    messages, (state, error) = mail_over_tls("starttls", trusted=False)
    assert messages == []
    assert state == "pending" and "certificate" in error.lower(), error
