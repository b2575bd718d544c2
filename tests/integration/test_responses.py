"""The response commitment and the notifications of posts (roadmap step 6, SPEC section 7):
a mentee's post starts the thread's clock, a mentor's stops it and records the time; the
sweep notifies mentors when a clock falls due and the network's coordinators when it is
overdue, once each, one sweep at a time; every post notifies whom it concerns, in its own
transaction, and nobody who muted the thread or cannot read it."""
import time

import pytest

from harness import DATABASE_URL, Client, Server, create_admin, problem, psql, register


@pytest.fixture(scope="module")
def cast(server, admin):
    c = {"mentee": register(server, admin, network="NL", name="Mentee Mae").accept_guidelines(),
         "mentee2": register(server, admin, network="NL", name="Mentee Moe").accept_guidelines(),
         "mentor": register(server, admin, network="NL", name="Mentor Min",
                            profession="psychiatrist").accept_guidelines(),
         "outsider": register(server, admin, network="NL", name="Out Sider").accept_guidelines(),
         "coordinator": register(server, admin, network="NL",
                                 role="coordinator").accept_guidelines(),
         "coordinator_bc": register(server, admin, network="BC",
                                    role="coordinator").accept_guidelines(),
         "admin": admin}
    g = admin.call("POST", "/api/v1/groups", body={"network": "NL", "name": "Clock group"}).json()
    for who, role in (("mentor", "mentor"), ("mentee", "mentee"), ("mentee2", "mentee")):
        assert admin.call("PUT", f"/api/v1/groups/{g['id']}/members/{c[who].id}",
                          body={"role": role}).status == 200
    c["group"] = g
    return c


def notes(client, **kw):
    r = client.get("/api/v1/notifications?limit=100")
    assert r.status == 200, r
    return [n for n in r.json()["items"] if all(n.get(k) == v for k, v in kw.items())]


def group_thread(cast, who="mentee", title="A group case"):
    r = cast[who].call("POST", "/api/v1/threads", body={
        "group_id": cast["group"]["id"], "title": title, "body": "52M, low back pain, 90 MME."})
    assert r.status == 201, r
    return r.json()["thread"], r.json()["post"]


def test_a_mentees_post_starts_the_clock_and_a_mentors_stops_it(cast):
    t, first = group_thread(cast)
    assert t["awaiting_response_since"] is not None
    # another mentee's reply does not stop it
    assert cast["mentee2"].call("POST", f"/api/v1/threads/{t['id']}/posts",
                                body={"body": "Same question here."}).status == 201
    pending = cast["mentor"].get("/api/v1/responses/pending").json()["items"]
    item = [i for i in pending if i["thread_id"] == t["id"]][0]
    assert item["mentee"]["id"] == cast["mentee"].id and item["state"] == "waiting"
    assert [m["id"] for m in item["mentors"]] == [cast["mentor"].id]
    assert item["age_seconds"] >= 0 and item["due_at"] > item["started_at"]
    r = cast["mentor"].call("POST", f"/api/v1/threads/{t['id']}/posts",
                            body={"body": "Let us look at the taper."})
    assert r.status == 201
    assert cast["mentee"].get(f"/api/v1/threads/{t['id']}").json()["thread"][
        "awaiting_response_since"] is None
    assert t["id"] not in [i["thread_id"] for i in
                           cast["mentor"].get("/api/v1/responses/pending").json()["items"]]
    row = psql(DATABASE_URL, "SELECT responder_id || '|' || (response_seconds >= 0) FROM "
               f"response_clocks WHERE thread_id = {t['id']}")
    assert row == f"{cast['mentor'].id}|true"
    # the mentee asks again: a new clock
    cast["mentee"].call("POST", f"/api/v1/threads/{t['id']}/posts", body={"body": "Thanks; and?"})
    assert psql(DATABASE_URL, "SELECT count(*) FROM response_clocks WHERE thread_id = "
                f"{t['id']}") == "2"


def test_conversations_with_a_mentor_keep_a_clock_too(cast):
    r = cast["mentee"].call("POST", "/api/v1/conversations", body={
        "participant_ids": [cast["mentor"].id], "title": "A private question",
        "body": "Could we discuss a patient on methadone?"})
    assert r.status == 201, r
    t = r.json()
    assert t["awaiting_response_since"] is not None
    # between two members who mentor nothing, no clock
    r = cast["mentee"].call("POST", "/api/v1/conversations", body={
        "participant_ids": [cast["outsider"].id], "title": "Peers", "body": "Hello."})
    assert r.json()["awaiting_response_since"] is None
    cast["mentor"].call("POST", f"/api/v1/threads/{t['id']}/posts", body={"body": "Yes."})
    assert cast["mentee"].get(f"/api/v1/threads/{t['id']}").json()["thread"][
        "awaiting_response_since"] is None


def test_pending_by_role(cast):
    t, _ = group_thread(cast, title="Who sees this clock")
    def ids(who):
        r = cast[who].get("/api/v1/responses/pending?limit=100")
        assert r.status == 200, r
        return [i["thread_id"] for i in r.json()["items"]]
    assert t["id"] in ids("mentor")
    assert t["id"] in ids("coordinator")
    assert t["id"] in ids("admin")
    assert t["id"] not in ids("coordinator_bc")
    assert t["id"] not in ids("outsider")
    assert ids("mentee") == []  # mentees do not answer for clocks
    problem(cast["mentor"].get("/api/v1/responses/pending?cursor=zz!"), 400, "invalid_cursor")


def test_posts_notify_whom_they_concern_and_nobody_muted_or_outside(cast):
    t, first = group_thread(cast, title="Notify the group")
    # a new group thread: every member but the author
    for who in ("mentor", "mentee2"):
        assert [n["kind"] for n in notes(cast[who], post_id=first["id"])] == ["group_thread"]
    assert notes(cast["outsider"], post_id=first["id"]) == []
    assert notes(cast["mentee"], post_id=first["id"]) == []  # not of one's own post
    # mention beats reply: one notification each
    mention = cast["mentee2"].call("POST", f"/api/v1/threads/{t['id']}/posts", body={
        "body": "@mentor-min what do you think?", "reply_to": first["id"]}).json()
    assert [n["kind"] for n in notes(cast["mentor"], post_id=mention["id"])] == ["mention"]
    assert [n["kind"] for n in notes(cast["mentee"], post_id=mention["id"])] == ["reply"]
    got = notes(cast["mentee"], post_id=mention["id"])[0]
    assert got["actor"]["id"] == cast["mentee2"].id and got["thread_title"] == "Notify the group"
    # watching, and muting
    assert cast["mentee2"].call("PUT", f"/api/v1/threads/{t['id']}/subscription",
                                body={"level": "watching"}).status == 200
    assert cast["mentee"].call("PUT", f"/api/v1/threads/{t['id']}/subscription",
                               body={"level": "muted"}).status == 200
    reply = cast["mentor"].call("POST", f"/api/v1/threads/{t['id']}/posts",
                                body={"body": "Taper by 10% a month.",
                                      "reply_to": first["id"]}).json()
    assert [n["kind"] for n in notes(cast["mentee2"], post_id=reply["id"])] == ["watched"]
    assert notes(cast["mentee"], post_id=reply["id"]) == []  # muted: not even the reply


def test_an_accepted_answer_tells_its_author(cast):
    r = cast["mentee"].call("POST", "/api/v1/threads", body={
        "group_id": cast["group"]["id"], "title": "A question", "body": "Which dose?",
        "kind": "question"})
    t = r.json()["thread"]
    answer = cast["mentor"].call("POST", f"/api/v1/threads/{t['id']}/posts",
                                 body={"body": "Start low."}).json()
    assert cast["mentee"].call("POST", f"/api/v1/threads/{t['id']}/answer",
                               body={"post_id": answer["id"]}).status == 200
    got = notes(cast["mentor"], post_id=answer["id"], kind="answer_accepted")
    assert len(got) == 1 and got[0]["actor"]["id"] == cast["mentee"].id


def test_the_sweep_notifies_due_then_overdue_once_each(cast, admin):
    """A server with a due time of 2 s, overdue of 4 s, sweeping every second; a second
    server sweeps the same database at the same time (one at a time, never twice)."""
    env = {"CONFER_RATE_LIMITS": "off", "CONFER_RESPONSE_DUE": "2",
           "CONFER_RESPONSE_OVERDUE": "4", "CONFER_SWEEP_INTERVAL": "1"}
    servers = [Server(workers=1, extra_env=env).start() for _ in range(2)]
    try:
        mentee = Client(servers[0], cast["mentee"].email)
        r = mentee.call("POST", "/api/v1/threads", body={
            "group_id": cast["group"]["id"], "title": "Unanswered case",
            "body": "Still waiting for advice."})
        t, first = r.json()["thread"], r.json()["post"]
        conv = mentee.call("POST", "/api/v1/conversations", body={
            "participant_ids": [cast["mentor"].id], "title": "Unanswered conversation",
            "body": "Are you there?"}).json()
        deadline = time.time() + 30
        while time.time() < deadline:
            if psql(DATABASE_URL, "SELECT count(*) FROM response_clocks WHERE thread_id IN "
                    f"({t['id']}, {conv['id']}) AND overdue_notified_at IS NOT NULL") == "2":
                break
            time.sleep(0.5)
        time.sleep(2.5)  # more sweeps: still once each
        due = notes(cast["mentor"], post_id=first["id"], kind="response_due")
        assert len(due) == 1 and due[0]["detail"]["mentee"]["id"] == cast["mentee"].id
        state = Client(servers[1], cast["mentor"].email).get(
            "/api/v1/responses/pending?limit=100").json()["items"]
        assert [i["state"] for i in state if i["thread_id"] == t["id"]] == ["overdue"]
        over = [n for n in notes(cast["coordinator"], kind="response_overdue")
                if n["post_id"] == first["id"]]
        assert len(over) == 1 and over[0]["thread_title"] == "Unanswered case"
        # the conversation's is named by people and ages only: coordinators cannot read it
        conv_over = [n for n in notes(cast["coordinator"], kind="response_overdue")
                     if n["thread_id"] is None and n["detail"]["space"] == "conversation"]
        assert len(conv_over) >= 1 and conv_over[-1]["detail"]["mentee"]["id"] == cast["mentee"].id
        assert notes(cast["coordinator_bc"], kind="response_overdue") == []
        assert len(notes(cast["mentor"], post_id=first["id"], kind="response_due")) == 1
    finally:
        for s in servers:
            assert s.stop() == 0, s.log_text()[-3000:]
