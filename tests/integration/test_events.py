"""Live updates (roadmap step 7, items 3 and 4; SPEC section 9): Server-Sent Events for a
thread and for a member's notifications, driven by LISTEN/NOTIFY: delivery across two
server processes sharing one database, ids and Last-Event-ID resume, heartbeats, access
checked when subscribing and for every event, the stream ended with its session, and a
client that does not read dropped instead of growing the server's memory."""
import threading
import time

import pytest

from harness import DATABASE_URL, Client, Server, create_admin, metrics, problem, psql, register


@pytest.fixture(scope="module")
def alice(server, admin):
    return register(server, admin, network="NS", name="Live Alice").accept_guidelines()


@pytest.fixture(scope="module")
def bob(server, admin):
    return register(server, admin, network="NS", name="Live Bob").accept_guidelines()


@pytest.fixture(scope="module")
def fast(server):
    """A second process on the same database, with a heartbeat every second and a small
    output limit per stream."""
    s = Server(extra_env={"CONFER_RATE_LIMITS": "off", "CONFER_SSE_HEARTBEAT": "1",
                          "CONFER_SSE_BUFFER": "16384", "CONFER_HTTP_TIMEOUT": "2"}).start()
    yield s
    assert s.stop() == 0, s.log_text()[-3000:]


def new_thread(client, title="A live case", body="First post."):
    cat = client.get("/api/v1/categories/chronic-pain").json()
    r = client.call("POST", "/api/v1/threads", body={
        "category_id": cat["id"], "title": title, "body": body, "kind": "discussion"})
    assert r.status == 201, r
    return r.json()["thread"], r.json()["post"]


def reply(client, thread, body):
    r = client.call("POST", f"/api/v1/threads/{thread['id']}/posts", body={"body": body})
    assert r.status == 201, r
    return r.json()


def metric(server, name):
    return int(metrics(server)[name])


def test_a_thread_stream_carries_its_events(server, alice, bob, admin):
    t, first = new_thread(alice)
    es = server.events(f"/api/v1/events?thread={t['id']}", alice)
    assert es.status == 200
    assert es.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert es.headers["cache-control"] == "no-store"
    assert es.headers["x-accel-buffering"] == "no"
    p = reply(bob, t, "A reply, live.")
    ev = es.next()
    assert ev["event"] == "post.created" and ev["json"]["id"] == p["id"]
    assert ev["json"]["body"] == "A reply, live." and ev["json"]["thread_id"] == t["id"]
    assert "my_reactions" not in ev["json"]  # a reader's own fields are not in events
    first_id = int(ev["id"])
    # an edit, a reaction, a title change, a hidden post: each an event, ids rising
    r = bob.call("PATCH", f"/api/v1/posts/{p['id']}", body={"body": "Edited.", "version": 1})
    assert r.status == 200, r
    assert alice.call("PUT", f"/api/v1/posts/{p['id']}/reactions/helpful").status == 200
    r = alice.call("PATCH", f"/api/v1/threads/{t['id']}", body={"title": "A live case, renamed"})
    assert r.status == 200, r
    r = admin.call("POST", f"/api/v1/posts/{p['id']}/hide", body={"reason": "identifiers"})
    assert r.status == 200, r
    evs = es.events(5)
    # the title's change also makes a new version of the first post
    assert [(e["event"], e["json"]["id"]) for e in evs] == [
        ("post.updated", p["id"]), ("post.updated", p["id"]), ("thread.updated", t["id"]),
        ("post.updated", first["id"]), ("post.hidden", p["id"])]
    ids = [first_id] + [int(e["id"]) for e in evs]
    assert ids == sorted(ids) and len(set(ids)) == 6
    assert evs[0]["json"]["body"] == "Edited." and evs[0]["json"]["version"] == 2
    assert evs[1]["json"]["reactions"]["helpful"] == 1
    assert evs[2]["json"]["title"] == "A live case, renamed" and evs[2]["json"]["id"] == t["id"]
    # a hidden post's text is never sent
    assert evs[4]["json"]["state"] == "hidden" and evs[4]["json"]["body"] is None
    assert evs[4]["json"]["body_html"] is None
    es.close()


def test_notifications_stream_to_their_member(server, alice, bob):
    t, first = new_thread(alice)
    mine = server.events("/api/v1/events", alice)
    theirs = server.events("/api/v1/events", bob)
    p = reply(bob, t, "Replying to Alice's case.")
    ev = mine.next()
    assert ev["event"] == "notification.created"
    assert ev["json"]["kind"] in ("reply", "watched") and ev["json"]["post_id"] == p["id"]
    assert ev["json"]["thread_title"] == "A live case"
    assert theirs.next(timeout=1) is None  # Bob's stream has nothing of Alice's
    mine.close()
    theirs.close()


def test_events_reach_a_subscriber_of_another_process(server, fast, alice, bob):
    t, first = new_thread(alice)
    on_fast = fast.events(f"/api/v1/events?thread={t['id']}", alice)
    on_main = server.events(f"/api/v1/events?thread={t['id']}", alice)
    p = reply(bob, t, "Written through the first process.")  # via `server`
    for es in (on_fast, on_main):
        ev = es.next()
        assert ev["event"] == "post.created" and ev["json"]["id"] == p["id"]
    q = reply(Client(fast, bob.email), t, "Written through the second.")
    for es in (on_fast, on_main):
        assert es.next()["json"]["id"] == q["id"]
    on_fast.close()
    on_main.close()


def test_resume_after_a_disconnect_with_last_event_id(server, alice, bob):
    t, first = new_thread(alice)
    es = server.events(f"/api/v1/events?thread={t['id']}", alice)
    p1 = reply(bob, t, "One.")
    ev = es.next()
    assert ev["json"]["id"] == p1["id"]
    es.close()
    missed = [reply(bob, t, f"Missed {i}.")["id"] for i in range(3)]
    again = server.events(f"/api/v1/events?thread={t['id']}", alice, last_event_id=ev["id"])
    got = again.events(3)
    assert [e["json"]["id"] for e in got] == missed
    p5 = reply(bob, t, "And live again.")
    assert again.next()["json"]["id"] == p5["id"]
    again.close()
    # without Last-Event-ID a stream starts now: nothing old is replayed
    fresh = server.events(f"/api/v1/events?thread={t['id']}", alice)
    assert fresh.next(timeout=1) is None
    fresh.close()
    # the query parameter works as the header does (EventSource cannot set headers)
    q = server.events(f"/api/v1/events?thread={t['id']}&last_event_id={ev['id']}", alice)
    assert [e["json"]["id"] for e in q.events(4)] == missed + [p5["id"]]
    q.close()


def test_a_resume_point_not_kept_asks_the_client_to_reload(server, alice, bob):
    t, first = new_thread(alice)
    es = server.events(f"/api/v1/events?thread={t['id']}", alice, last_event_id=10 ** 15)
    ev = es.next()
    assert ev["event"] == "resync" and int(ev["id"]) >= 0
    p = reply(bob, t, "After the resync.")
    assert es.next()["json"]["id"] == p["id"]
    es.close()
    # events pruned (older than a day) are behind the horizon: resync as well
    e2 = server.events(f"/api/v1/events?thread={t['id']}", alice)
    reply(bob, t, "To be pruned.")
    old = e2.next()
    e2.close()
    horizon = psql(DATABASE_URL, "SELECT seq FROM live_horizon")
    psql(DATABASE_URL, "UPDATE live_events SET created_at = now() - interval '2 days' "
         f"WHERE thread_id = {t['id']} AND seq <= {old['id']}")
    assert int(psql(DATABASE_URL, "SELECT cf_live_prune()")) >= 1
    assert int(psql(DATABASE_URL, "SELECT seq FROM live_horizon")) == int(old["id"])
    e3 = server.events(f"/api/v1/events?thread={t['id']}", alice, last_event_id=int(old["id"]) - 1)
    assert e3.next()["event"] == "resync"
    e3.close()
    psql(DATABASE_URL, f"UPDATE live_horizon SET seq = {horizon}")  # for the other tests


def test_a_conversation_update_is_one_event_of_valid_json(server, alice, bob):
    r = alice.call("POST", "/api/v1/conversations", body={
        "participant_ids": [bob.id], "title": "A private question", "body": "Hello."})
    assert r.status == 201, r
    t = r.json()
    es = server.events(f"/api/v1/events?thread={t['id']}", bob)
    r = alice.call("PATCH", f"/api/v1/threads/{t['id']}", body={"title": "A private question, renamed"})
    assert r.status == 200, r
    evs = es.events(2)
    kinds = {e["event"]: e for e in evs}
    ev = kinds["thread.updated"]
    # the participants list spans lines in PostgreSQL's text: each is its own data line
    assert ev["json"]["title"] == "A private question, renamed"
    assert sorted(p["id"] for p in ev["json"]["participants"]) == sorted([alice.id, bob.id])
    es.close()


def test_catching_up_past_the_output_limit_is_not_a_drop(fast, alice, bob):
    """A client resuming far behind gets every event, paced by what it reads, even when
    they add up to more than CONFER_SSE_BUFFER (16 KiB here)."""
    c = Client(fast, alice.email)
    t, first = new_thread(c)
    es = fast.events(f"/api/v1/events?thread={t['id']}", c)
    p0 = reply(bob, t, "Start.")
    start = es.next()
    assert start["json"]["id"] == p0["id"]
    es.close()
    dropped = metric(fast, "confer_sse_dropped_total")
    missed = [reply(bob, t, f"Missed {i}: " + "a longer clinical note. " * 40)["id"]
              for i in range(40)]  # ~2 KB of JSON each, 80 KB in all
    again = fast.events(f"/api/v1/events?thread={t['id']}", c, last_event_id=start["id"])
    assert [e["json"]["id"] for e in again.events(40, timeout=15)] == missed
    assert metric(fast, "confer_sse_dropped_total") == dropped
    again.close()


def test_heartbeats_keep_an_idle_stream_open(fast, alice):
    c = Client(fast, alice.email)
    t, first = new_thread(c)
    es = fast.events(f"/api/v1/events?thread={t['id']}", c)
    ev = es.next(timeout=3, comments=True)
    assert ev == {"comment": "heartbeat"}
    # longer than CONFER_HTTP_TIMEOUT (2 s on this server): a quiet stream outlives it
    for _ in range(4):
        assert es.next(timeout=3, comments=True) == {"comment": "heartbeat"}
    assert not es.closed
    es.close()


def test_a_stream_ends_with_its_session(fast, admin, server):
    m = register(server, admin, network="NS").accept_guidelines()
    c = Client(fast, m.email)
    es = fast.events("/api/v1/events", c)
    assert c.call("DELETE", "/api/v1/sessions/current").status == 204
    deadline = time.time() + 5
    while time.time() < deadline and not es.closed:
        es.next(timeout=0.5, comments=True)
    assert es.closed  # the last chunk came within a heartbeat or two
    es.close()


def test_subscribing_checks_access(server, admin, alice):
    problem(server.request("GET", "/api/v1/events"), 401, "unauthenticated")
    g = admin.call("POST", "/api/v1/groups", body={"network": "NS", "name": "Live group"}).json()
    mentee = register(server, admin, network="NS").accept_guidelines()
    assert admin.call("PUT", f"/api/v1/groups/{g['id']}/members/{mentee.id}",
                      body={"role": "mentee"}).status == 200
    r = mentee.call("POST", "/api/v1/threads", body={
        "group_id": g["id"], "title": "A group's live case", "body": "Private."})
    assert r.status == 201, r
    t = r.json()["thread"]
    es = server.events(f"/api/v1/events?thread={t['id']}", alice)  # not in the group
    assert es.status == 404 and es.problem["code"] == "not_found"
    es.close()
    for bad in ("thread=abc", "thread=0", "thread=99999999"):
        es = server.events(f"/api/v1/events?{bad}", alice)
        assert es.status in (400, 404), bad
        es.close()
    es = server.events(f"/api/v1/events?thread={t['id']}", mentee, last_event_id="x")
    assert es.status == 400 and es.problem["code"] == "invalid_query"
    es.close()


def test_access_is_checked_for_every_event(server, admin):
    g = admin.call("POST", "/api/v1/groups", body={"network": "NS", "name": "Live group 2"}).json()
    mentor = register(server, admin, network="NS", profession="psychiatrist").accept_guidelines()
    mentee = register(server, admin, network="NS").accept_guidelines()
    leaver = register(server, admin, network="NS").accept_guidelines()
    for who, role in ((mentor, "mentor"), (mentee, "mentee"), (leaver, "mentee")):
        assert admin.call("PUT", f"/api/v1/groups/{g['id']}/members/{who.id}",
                          body={"role": role}).status == 200
    t = mentee.call("POST", "/api/v1/threads", body={
        "group_id": g["id"], "title": "Group case", "body": "Private."}).json()["thread"]
    stays = server.events(f"/api/v1/events?thread={t['id']}", mentor)
    leaves = server.events(f"/api/v1/events?thread={t['id']}", leaver)
    p1 = reply(mentee, t, "Before anyone leaves.")
    assert stays.next()["json"]["id"] == p1["id"]
    assert leaves.next()["json"]["id"] == p1["id"]
    assert admin.call("DELETE", f"/api/v1/groups/{g['id']}/members/{leaver.id}").status == 204
    p2 = reply(mentee, t, "After one left.")
    assert stays.next()["json"]["id"] == p2["id"]
    assert leaves.next(timeout=1.5) is None  # no longer a reader: nothing more
    stays.close()
    leaves.close()


def test_a_client_that_does_not_read_is_dropped(fast, alice, bob):
    c = Client(fast, alice.email)
    t, first = new_thread(c)
    before = metric(fast, "confer_sse_dropped_total")
    slow = fast.events(f"/api/v1/events?thread={t['id']}", c, rcvbuf=4096)
    big = "A long case description, repeated to fill the stream. " * 700  # ~38 KB
    writer = Client(fast, bob.email)
    deadline = time.time() + 20
    while metric(fast, "confer_sse_dropped_total") == before and time.time() < deadline:
        reply(writer, t, big)
    assert metric(fast, "confer_sse_dropped_total") == before + 1
    # the server closed it: reading on ends (before all posts arrived), nothing hangs
    slow.sock.settimeout(5)
    got = 0
    while not slow.closed:
        slow._recv()
        got += 1
    assert slow.closed
    slow.close()
    # a client that reads keeps receiving
    ok = fast.events(f"/api/v1/events?thread={t['id']}", c)
    p = reply(writer, t, "Still flowing.")
    assert ok.next()["json"]["id"] == p["id"]
    ok.close()


def test_concurrent_writers_arrive_in_id_order_without_loss(server, alice, bob):
    t, first = new_thread(alice)
    es = server.events(f"/api/v1/events?thread={t['id']}", alice)
    created = []
    lock = threading.Lock()

    def write(client, n):
        for i in range(n):
            p = reply(client, t, f"Concurrent {i}.")
            with lock:
                created.append(p["id"])

    writers = [threading.Thread(target=write, args=(c, 15)) for c in (alice, bob, alice, bob)]
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    evs = es.events(60, timeout=15)
    assert sorted(e["json"]["id"] for e in evs) == sorted(created)
    ids = [int(e["id"]) for e in evs]
    assert ids == sorted(ids)
    es.close()


def test_metrics_count_subscribers(fast, alice):
    c = Client(fast, alice.email)
    n = metric(fast, "confer_sse_subscribers")
    es = [fast.events("/api/v1/events", c) for _ in range(3)]
    assert metric(fast, "confer_sse_subscribers") == n + 3
    assert metric(fast, "confer_sse_listening") == 1
    for e in es:
        e.close()
    # a closed client is noticed (its socket reads end of file) and forgotten
    deadline = time.time() + 5
    while metric(fast, "confer_sse_subscribers") != n and time.time() < deadline:
        time.sleep(0.05)
    assert metric(fast, "confer_sse_subscribers") == n
