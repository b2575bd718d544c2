"""Moderation (roadmap step 5, SPEC sections 4 "Moderation" and 5): flags, hiding pending
review, the queue, decisions, and moderators reading a flagged conversation post (logged)."""
import pytest

from harness import DATABASE_URL, Client, Server, create_admin, problem, psql, register


@pytest.fixture(scope="module")
def cast(server, admin):
    c = {n: register(server, admin, network="NB", name=n).accept_guidelines()
         for n in ("Writer", "Reader One", "Reader Two", "Reader Three", "Mentor Mo")}
    c["moderator"] = register(server, admin, network="BC", role="moderator").accept_guidelines()
    c["coordinator"] = register(server, admin, network="NB", role="coordinator").accept_guidelines()
    c["coordinator_pe"] = register(server, admin, network="PE",
                                   role="coordinator").accept_guidelines()
    g = admin.call("POST", "/api/v1/groups", body={"network": "NB", "name": "Flag group"}).json()
    admin.call("PUT", f"/api/v1/groups/{g['id']}/members/{c['Mentor Mo'].id}",
               body={"role": "mentor"})
    admin.call("PUT", f"/api/v1/groups/{g['id']}/members/{c['Writer'].id}",
               body={"role": "mentee"})
    c["group"] = g
    return c


def forum_post(cast, body="A post that may need review.", ack=False):
    cat = cast["Writer"].get("/api/v1/categories/general").json()
    r = cast["Writer"].call("POST", "/api/v1/threads", body={
        "category_id": cat["id"], "title": "Moderation test", "body": body,
        **({"acknowledge_privacy": True} if ack else {})})
    assert r.status == 201, r
    return r.json()["post"]


def flag(client, post, reason="disrespectful", note=""):
    return client.call("POST", f"/api/v1/posts/{post['id']}/flags",
                       body={"reason": reason, "note": note})


def test_a_member_flags_a_post_once(cast):
    post = forum_post(cast)
    r = flag(cast["Reader One"], post, note="tone")
    assert r.status == 201 and r.json()["reason"] == "disrespectful" and r.json()["status"] == "open"
    problem(flag(cast["Reader One"], post), 409, "already_flagged")
    problem(flag(cast["Writer"], post), 409, "own_post")
    problem(cast["Reader One"].call("POST", f"/api/v1/posts/{post['id']}/flags",
                                    body={"reason": "ugly"}), 422, "validation_failed")
    problem(flag(cast["Reader One"], {"id": 999999999}), 404, "not_found")
    assert cast["Reader Two"].get(f"/api/v1/posts/{post['id']}").json()["state"] == "visible"


def test_flags_from_three_members_hide_a_post_pending_review(cast):
    post = forum_post(cast, "Rude words.")
    for who in ("Reader One", "Reader Two"):
        assert flag(cast[who], post).status == 201
    assert cast["Reader Three"].get(f"/api/v1/posts/{post['id']}").json()["state"] == "visible"
    assert flag(cast["Reader Three"], post).status == 201
    seen = cast["Reader One"].get(f"/api/v1/posts/{post['id']}").json()
    assert seen["state"] == "hidden" and seen["body"] is None
    assert cast["Writer"].get(f"/api/v1/posts/{post['id']}").json()["body"] == "Rude words."
    queue = cast["moderator"].get("/api/v1/moderation/queue").json()["items"]
    item = [i for i in queue if i["post"]["id"] == post["id"]][0]
    assert item["post"]["body"] == "Rude words." and len(item["flags"]) == 3
    assert item["hidden_reason"] == "flags from 3 members"


def test_a_privacy_flag_from_a_mentor_hides_at_once(cast):
    post = forum_post(cast, "Ms. Example, seen Tuesday.", ack=True)
    assert post["privacy_acknowledged"] is True  # the guard warned of the name
    assert flag(cast["Mentor Mo"], post, reason="privacy", note="a name").status == 201
    assert cast["Reader One"].get(f"/api/v1/posts/{post['id']}").json()["state"] == "hidden"
    log = psql(DATABASE_URL, "SELECT action || '|' || reason FROM moderation_log WHERE "
               f"target_type = 'post' AND target_id = {post['id']}")
    assert log == "post.hide|privacy flag from a mentor, coordinator or moderator"
    # a privacy flag from a member alone does not
    other = forum_post(cast, "Another post.")
    assert flag(cast["Reader Two"], other, reason="privacy").status == 201
    assert cast["Reader One"].get(f"/api/v1/posts/{other['id']}").json()["state"] == "visible"


def test_decisions_resolve_every_open_flag(cast):
    kept, hidden, deleted = (forum_post(cast, f"Post {i}.") for i in range(3))
    for p in (kept, hidden, deleted):
        flag(cast["Reader One"], p, reason="spam")
        flag(cast["Reader Two"], p, reason="off_topic")
    problem(cast["Reader One"].get("/api/v1/moderation/queue"), 403, "forbidden")
    problem(cast["Reader One"].call("POST", f"/api/v1/moderation/posts/{kept['id']}/decision",
                                    body={"action": "keep"}), 403, "forbidden")
    mod = cast["moderator"]
    r = mod.call("POST", f"/api/v1/moderation/posts/{kept['id']}/decision",
                 body={"action": "keep", "note": "fine"})
    assert r.status == 200 and all(f["status"] == "resolved" for f in r.json()["flags"])
    assert r.json()["post"]["state"] == "visible"
    assert mod.call("POST", f"/api/v1/moderation/posts/{hidden['id']}/decision",
                    body={"action": "hide", "note": "spam"}).json()["post"]["state"] == "hidden"
    assert mod.call("POST", f"/api/v1/moderation/posts/{deleted['id']}/decision",
                    body={"action": "delete"}).json()["post"]["state"] == "deleted"
    problem(mod.call("POST", f"/api/v1/moderation/posts/{kept['id']}/decision",
                     body={"action": "keep"}), 409, "nothing_to_decide")
    problem(mod.call("POST", f"/api/v1/moderation/posts/{kept['id']}/decision",
                     body={"action": "burn"}), 422, "validation_failed")
    pending = [i["post"]["id"] for i in mod.get("/api/v1/moderation/queue?limit=100")
               .json()["items"]]
    resolved = [i["post"]["id"] for i in mod.get("/api/v1/moderation/queue?status=resolved&"
                                                 "limit=100").json()["items"]]
    for p in (kept, hidden, deleted):
        assert p["id"] not in pending and p["id"] in resolved
    actions = psql(DATABASE_URL, "SELECT string_agg(action, ',' ORDER BY id) FROM moderation_log "
                   f"WHERE target_type = 'post' AND target_id IN ({kept['id']}, {hidden['id']}, "
                   f"{deleted['id']})")
    assert actions == "post.decision.keep,post.decision.hide,post.decision.delete"


def test_coordinators_review_their_networks_groups_only(cast):
    r = cast["Writer"].call("POST", "/api/v1/threads", body={
        "group_id": cast["group"]["id"], "title": "Group post to flag", "body": "Hmm."})
    post = r.json()["post"]
    assert flag(cast["Mentor Mo"], post, reason="clinical_safety").status == 201
    mine = [i["post"]["id"] for i in cast["coordinator"].get("/api/v1/moderation/queue?limit=100")
            .json()["items"]]
    assert post["id"] in mine
    theirs = [i["post"]["id"] for i in cast["coordinator_pe"]
              .get("/api/v1/moderation/queue?limit=100").json()["items"]]
    assert post["id"] not in theirs
    problem(cast["coordinator_pe"].call("POST", f"/api/v1/moderation/posts/{post['id']}/decision",
                                        body={"action": "keep"}), 404, "not_found")
    assert cast["coordinator"].call("POST", f"/api/v1/moderation/posts/{post['id']}/decision",
                                    body={"action": "keep"}).status == 200


def test_moderators_read_a_conversation_post_only_once_flagged_and_it_is_logged(cast):
    t = cast["Writer"].call("POST", "/api/v1/conversations", body={
        "participant_ids": [cast["Reader One"].id], "title": "Private",
        "body": "Something troubling."}).json()
    post = cast["Writer"].get(f"/api/v1/threads/{t['id']}").json()["posts"][0]
    mod = cast["moderator"]
    problem(mod.get(f"/api/v1/posts/{post['id']}"), 404, "not_found")
    assert flag(cast["Reader One"], post, reason="disrespectful").status == 201
    seen = mod.get(f"/api/v1/posts/{post['id']}")
    assert seen.status == 200 and seen.json()["body"] == "Something troubling."
    problem(mod.get(f"/api/v1/threads/{t['id']}"), 404, "not_found")  # the rest stays closed
    items = [i for i in mod.get("/api/v1/moderation/queue?limit=100").json()["items"]
             if i["post"]["id"] == post["id"]]
    assert items and items[0]["thread"]["space"]["type"] == "conversation"
    reads = psql(DATABASE_URL, "SELECT count(*) FROM moderation_log WHERE action = "
                 f"'conversation.read' AND target_id = {post['id']} AND actor_id = {mod.id}")
    assert int(reads) >= 2
    # members outside it still get 404, flagged or not
    problem(cast["Reader Two"].get(f"/api/v1/posts/{post['id']}"), 404, "not_found")


def test_twenty_flags_a_day_then_429():
    s = Server(workers=1, extra_env={"CONFER_FLAGS_PER_DAY": "2"}).start()
    try:
        admin = Client(s, create_admin()).accept_guidelines()
        writer = register(s, admin).accept_guidelines()
        reader = register(s, admin).accept_guidelines()
        cat = writer.get("/api/v1/categories/general").json()
        posts = []
        for i in range(3):
            r = writer.call("POST", "/api/v1/threads", body={
                "category_id": cat["id"], "title": f"Flag limit {i}", "body": "x"})
            posts.append(r.json()["post"])
            psql(DATABASE_URL, f"UPDATE users SET last_thread_at = NULL, last_post_at = NULL "
                 f"WHERE id = {writer.id}")
        assert flag(reader, posts[0]).status == 201
        assert flag(reader, posts[1]).status == 201
        r = flag(reader, posts[2])
        problem(r, 429, "rate_limited")
        assert int(r.headers["retry-after"]) >= 1
    finally:
        assert s.stop() == 0


# ---- suspensions and the log ---------------------------------------------------------

def test_suspending_and_unsuspending_a_member(cast, admin, server):
    member = register(server, admin, network="NB").accept_guidelines()
    mod = cast["moderator"]
    cat = member.get("/api/v1/categories/general").json()
    r = mod.call("POST", f"/api/v1/moderation/users/{member.id}/suspend",
                 body={"until": "2099-01-01T00:00:00Z", "reason": "repeated disrespect"})
    assert r.status == 200 and r.json()["suspended_until"].startswith("2099-01-01")
    problem(member.call("POST", "/api/v1/threads", body={
        "category_id": cat["id"], "title": "While suspended", "body": "x"}), 403, "suspended")
    assert member.get("/api/v1/threads").status == 200  # reading goes on
    r = mod.call("POST", f"/api/v1/moderation/users/{member.id}/unsuspend",
                 body={"reason": "served"})
    assert r.status == 200 and "suspended_until" not in r.json()
    assert member.call("POST", "/api/v1/threads", body={
        "category_id": cat["id"], "title": "Back again", "body": "x"}).status == 201
    for body, field in [({"reason": "no end"}, "until"),
                        ({"until": "2020-01-01T00:00:00Z", "reason": "past"}, "until"),
                        ({"until": "someday", "reason": "unreadable"}, "until"),
                        ({"until": "2099-01-01T00:00:00Z"}, "reason"),
                        ({"until": "2099-01-01T00:00:00Z", "reason": None}, "reason")]:
        p = problem(mod.call("POST", f"/api/v1/moderation/users/{member.id}/suspend", body=body),
                    422, "validation_failed")
        assert p["errors"][0]["field"] == field
    assert member.get("/api/v1/me").json().get("suspended_until") is None
    problem(mod.call("POST", f"/api/v1/moderation/users/{admin.id}/suspend",
                     body={"until": "2099-01-01T00:00:00Z", "reason": "not allowed"}), 403, "forbidden")
    problem(cast["Reader One"].call("POST", f"/api/v1/moderation/users/{member.id}/suspend",
                                    body={"until": "2099-01-01T00:00:00Z", "reason": "not allowed"}),
            403, "forbidden")
    problem(mod.call("POST", "/api/v1/moderation/users/999999999/suspend",
                     body={"until": "2099-01-01T00:00:00Z", "reason": "nobody"}), 404, "not_found")
    log = mod.get(f"/api/v1/moderation/log?target_type=user&target_id={member.id}").json()
    assert [e["action"] for e in log["items"]] == ["user.unsuspend", "user.suspend"]
    assert log["items"][1]["reason"] == "repeated disrespect"
    assert log["items"][1]["actor"]["id"] == mod.id
    assert log["items"][1]["after"]["suspended_until"].startswith("2099-01-01")


def test_the_moderation_log_pages_and_filters(cast):
    mod = cast["moderator"]
    first = mod.get("/api/v1/moderation/log?limit=2").json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = mod.get(f"/api/v1/moderation/log?limit=2&cursor={first['next_cursor']}").json()
    assert second["items"][0]["id"] < first["items"][1]["id"]
    hides = mod.get("/api/v1/moderation/log?action=post.hide&limit=100").json()["items"]
    assert hides and all(e["action"] == "post.hide" for e in hides)
    problem(cast["Reader One"].get("/api/v1/moderation/log"), 403, "forbidden")
    problem(cast["coordinator"].get("/api/v1/moderation/log"), 403, "forbidden")
    problem(mod.get("/api/v1/moderation/log?actor=abc"), 400, "invalid_query")
