"""Revision redaction, re-review of an edited hidden post, and the notifications that
moderation sends (roadmap step 5, SPEC sections 5 and 7): post_hidden to the author,
flag_resolved to each flagger, in the same transaction as the event."""
import json

import pytest

from harness import DATABASE_URL, Client, create_admin, problem, psql, register


@pytest.fixture(scope="module")
def cast(server, admin):
    c = {n: register(server, admin, network="PE", name=n).accept_guidelines()
         for n in ("Author Ann", "Flagger One", "Flagger Two", "Flagger Three")}
    c["mentor"] = register(server, admin, network="PE", name="Mentor Meg",
                           profession="psychiatrist").accept_guidelines()
    c["moderator"] = register(server, admin, network="BC", role="moderator").accept_guidelines()
    g = admin.call("POST", "/api/v1/groups", body={"network": "PE", "name": "Redaction group"})
    c["group"] = g.json()
    for who, role in (("mentor", "mentor"), ("Author Ann", "mentee"), ("Flagger One", "mentee")):
        assert admin.call("PUT", f"/api/v1/groups/{c['group']['id']}/members/{c[who].id}",
                          body={"role": role}).status == 200
    c["category"] = c["Author Ann"].get("/api/v1/categories/general").json()
    return c


def post_in_forum(cast, body, title="Redaction case", ack=True):
    r = cast["Author Ann"].call("POST", "/api/v1/threads", body={
        "category_id": cast["category"]["id"], "title": title, "body": body,
        "acknowledge_privacy": ack})
    assert r.status == 201, r
    return r.json()["post"]


def notifications(client, unread=None):
    path = "/api/v1/notifications" + ("?unread=true" if unread else "")
    r = client.get(path)
    assert r.status == 200, r
    return r.json()


def test_a_moderator_redacts_an_earlier_version_for_good(cast):
    author, mod = cast["Author Ann"], cast["moderator"]
    post = post_in_forum(cast, "Seen with her daughter, phone 902-555-0163, for a taper.")
    r = author.call("PATCH", f"/api/v1/posts/{post['id']}",
                    body={"body": "Seen with her daughter for a taper.", "version": 1})
    assert r.status == 200, r
    # members and the author cannot redact; the current version cannot be redacted
    problem(cast["Flagger One"].call("POST", f"/api/v1/posts/{post['id']}/revisions/1/redact",
                                     body={"reason": "phone"}), 403, "forbidden")
    problem(author.call("POST", f"/api/v1/posts/{post['id']}/revisions/1/redact",
                        body={"reason": "phone"}), 403, "forbidden")
    problem(mod.call("POST", f"/api/v1/posts/{post['id']}/revisions/2/redact",
                     body={"reason": "phone"}), 409, "revision_current")
    problem(mod.call("POST", f"/api/v1/posts/{post['id']}/revisions/7/redact",
                     body={"reason": "phone"}), 404, "not_found")
    problem(mod.call("POST", f"/api/v1/posts/{post['id']}/revisions/x/redact",
                     body={"reason": "phone"}), 404, "not_found")
    problem(mod.call("POST", f"/api/v1/posts/{post['id']}/revisions/1/redact", body={}),
            422, "validation_failed")
    r = mod.call("POST", f"/api/v1/posts/{post['id']}/revisions/1/redact",
                 body={"reason": "a phone number"})
    assert r.status == 200, r
    rev = r.json()
    assert rev["version"] == 1 and rev["body"] is None
    assert rev["redacted"]["reason"] == "a phone number"
    assert rev["redacted"]["by"]["id"] == mod.id
    problem(mod.call("POST", f"/api/v1/posts/{post['id']}/revisions/1/redact",
                     body={"reason": "again"}), 409, "already_redacted")
    # the author sees the version without its text; the text is gone from the database
    items = author.get(f"/api/v1/posts/{post['id']}/revisions").json()["items"]
    assert [i["version"] for i in items] == [1, 2]
    assert items[0]["body"] is None and items[0]["redacted"] is not None
    assert items[1]["body"] == "Seen with her daughter for a taper."
    assert psql(DATABASE_URL, "SELECT count(*) FROM post_revisions WHERE body LIKE "
                "'%902-555-0163%' OR body_html LIKE '%902-555-0163%'") == "0"
    export = author.get("/api/v1/me/export").json()
    assert "902-555-0163" not in json.dumps(export)
    assert {"post_id": post["id"], "version": 1, "reason": "a phone number"}.items() <= \
        [r for r in export["forum"]["redacted_revisions"] if r["post_id"] == post["id"]][0].items()
    # logged, without the text
    log = psql(DATABASE_URL, "SELECT action || '|' || reason || '|' || after::text FROM "
               f"moderation_log WHERE target_type = 'post' AND target_id = {post['id']}")
    assert log == 'revision.redact|a phone number|{"version": 1, "redacted": true}'


def test_a_groups_coordinator_may_redact_but_a_mentor_may_not(cast, admin, server):
    author = cast["Author Ann"]
    r = author.call("POST", "/api/v1/threads", body={
        "group_id": cast["group"]["id"], "title": "Group case", "body": "Mr. Arsenault, 71.",
        "acknowledge_privacy": True})
    post = r.json()["post"]
    assert author.call("PATCH", f"/api/v1/posts/{post['id']}",
                       body={"body": "A man of 71.", "version": 1}).status == 200
    problem(cast["mentor"].call("POST", f"/api/v1/posts/{post['id']}/revisions/1/redact",
                                body={"reason": "name"}), 403, "forbidden")
    # outside the group: it does not exist
    problem(cast["Flagger Two"].call("POST", f"/api/v1/posts/{post['id']}/revisions/1/redact",
                                     body={"reason": "name"}), 404, "not_found")
    coordinator = register(server, admin, network="PE", role="coordinator").accept_guidelines()
    r = coordinator.call("POST", f"/api/v1/posts/{post['id']}/revisions/1/redact",
                         body={"reason": "a surname"})
    assert r.status == 200, r


def test_hiding_notifies_the_author_and_decisions_notify_the_flaggers(cast):
    author, mod = cast["Author Ann"], cast["moderator"]
    before = author.get("/api/v1/me").json()["unread_notifications"]
    post = post_in_forum(cast, "An opinion some will not like.", ack=False)
    # the author muted the thread: moderation notices still arrive
    assert author.call("PUT", f"/api/v1/threads/{post['thread_id']}/subscription",
                       body={"level": "muted"}).status == 200
    for who in ("Flagger One", "Flagger Two", "Flagger Three"):
        assert cast[who].call("POST", f"/api/v1/posts/{post['id']}/flags",
                              body={"reason": "disrespectful"}).status == 201
    mine = notifications(author, unread=True)
    hidden = [n for n in mine["items"] if n["post_id"] == post["id"]]
    assert [n["kind"] for n in hidden] == ["post_hidden"]
    assert hidden[0]["actor"] is None  # the moderators act as one; flaggers stay unnamed
    assert hidden[0]["thread_id"] == post["thread_id"] and hidden[0]["read_at"] is None
    assert hidden[0]["detail"] == {"cause": "flags"}  # never a note or who flagged
    assert author.get("/api/v1/me").json()["unread_notifications"] == before + 1
    # nothing for the flaggers yet; then the decision tells each one
    assert not [n for n in notifications(cast["Flagger One"])["items"]
                if n["post_id"] == post["id"]]
    r = mod.call("POST", f"/api/v1/moderation/posts/{post['id']}/decision",
                 body={"action": "keep", "note": "disagreement is not disrespect"})
    assert r.status == 200, r
    for who in ("Flagger One", "Flagger Two", "Flagger Three"):
        got = [n for n in notifications(cast[who])["items"] if n["post_id"] == post["id"]]
        assert [(n["kind"], n["detail"]["decision"]) for n in got] == [("flag_resolved", "keep")]
    # reading them
    ids = [n["id"] for n in hidden]
    problem(author.call("POST", "/api/v1/notifications/read", body={"ids": ["x"]}), 422,
            "validation_failed")
    problem(author.call("POST", "/api/v1/notifications/read", body={}), 422,
            "validation_failed")
    problem(author.call("POST", "/api/v1/notifications/read", body={"ids": None}), 422,
            "validation_failed")
    problem(author.call("POST", "/api/v1/notifications/read", body={"ids": list(range(1, 502))}),
            422, "validation_failed")
    # someone else's ids change nothing
    other = cast["Flagger One"]
    assert other.call("POST", "/api/v1/notifications/read", body={"ids": ids}).status == 200
    assert hidden[0]["id"] in [n["id"] for n in notifications(author, unread=True)["items"]]
    r = author.call("POST", "/api/v1/notifications/read", body={"ids": ids})
    assert r.status == 200 and r.json()["unread"] == before
    assert author.call("POST", "/api/v1/notifications/read",
                       body={"all": True}).json()["unread"] == 0
    # both are in the members' exports
    assert hidden[0]["id"] in [n["id"] for n in
                               author.get("/api/v1/me/export").json()["forum"]["notifications"]]
    flags = cast["Flagger One"].get("/api/v1/me/export").json()["forum"]["flags"]
    assert [f["decision"] for f in flags if f["post_id"] == post["id"]] == ["keep"]
    assert notifications(author, unread=True)["items"] == []
    assert author.get("/api/v1/me").json()["unread_notifications"] == 0


def test_notifications_page_with_a_cursor(cast):
    flagger = cast["Flagger Two"]
    got, cursor = [], None
    while True:
        path = "/api/v1/notifications?limit=1" + (f"&cursor={cursor}" if cursor else "")
        page = flagger.get(path).json()
        got += [n["id"] for n in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert got == sorted(got, reverse=True) and len(got) == len(set(got)) >= 1
    problem(flagger.get("/api/v1/notifications?unread=maybe"), 400, "invalid_query")
    problem(flagger.get("/api/v1/notifications?cursor=zz!"), 400, "invalid_cursor")


def test_no_notification_for_someone_who_can_no_longer_read(cast, admin):
    author = cast["Author Ann"]
    r = author.call("POST", "/api/v1/threads", body={
        "group_id": cast["group"]["id"], "title": "Leaving member case",
        "body": "A case for the group."})
    post = r.json()["post"]
    flagger = cast["Flagger One"]
    assert flagger.call("POST", f"/api/v1/posts/{post['id']}/flags",
                        body={"reason": "off_topic"}).status == 201
    assert admin.call("DELETE", f"/api/v1/groups/{cast['group']['id']}/members/"
                      f"{flagger.id}").status in (200, 204)
    assert cast["moderator"].call("POST", f"/api/v1/moderation/posts/{post['id']}/decision",
                                  body={"action": "keep"}).status == 200
    assert not [n for n in notifications(flagger)["items"]
                if n["post_id"] == post["id"] and n["kind"] == "flag_resolved"]
    # and what was sent before leaving no longer shows the group thread's title
    r = author.call("POST", "/api/v1/threads", body={
        "group_id": cast["group"]["id"], "title": "Second group case", "body": "Another."})
    second = r.json()["post"]
    assert admin.call("PUT", f"/api/v1/groups/{cast['group']['id']}/members/{flagger.id}",
                      body={"role": "mentee"}).status == 200
    assert flagger.call("POST", f"/api/v1/posts/{second['id']}/flags",
                        body={"reason": "off_topic"}).status == 201
    assert cast["moderator"].call("POST", f"/api/v1/moderation/posts/{second['id']}/decision",
                                  body={"action": "keep"}).status == 200
    got = [n for n in notifications(flagger)["items"]
           if n["post_id"] == second["id"] and n["kind"] == "flag_resolved"]
    assert got[0]["thread_title"] == "Second group case"
    assert admin.call("DELETE", f"/api/v1/groups/{cast['group']['id']}/members/"
                      f"{flagger.id}").status in (200, 204)
    got = [n for n in notifications(flagger)["items"]
           if n["post_id"] == second["id"] and n["kind"] == "flag_resolved"]
    assert got[0]["thread_title"] is None


def test_an_author_editing_a_hidden_post_asks_for_review(cast):
    author, mod = cast["Author Ann"], cast["moderator"]
    post = post_in_forum(cast, "Mr. Doucette, 58, on 90 MME.")
    r = mod.call("POST", f"/api/v1/posts/{post['id']}/hide", body={"reason": "a surname"})
    assert r.status == 200 and r.json()["state"] == "hidden"
    assert [n["kind"] for n in notifications(author)["items"]
            if n["post_id"] == post["id"]] == ["post_hidden"]
    r = author.call("PATCH", f"/api/v1/posts/{post['id']}",
                    body={"body": "A man of 58 on 90 MME.", "version": 1})
    assert r.status == 200 and r.json()["state"] == "hidden"
    items = mod.get("/api/v1/moderation/queue?limit=100").json()["items"]
    item = [i for i in items if i["post"]["id"] == post["id"]][0]
    assert [(f["reason"], f["flagger"]["id"]) for f in item["flags"]] == [("review", author.id)]
    r = mod.call("POST", f"/api/v1/moderation/posts/{post['id']}/decision",
                 body={"action": "keep", "note": "de-identified now"})
    assert r.json()["post"]["state"] == "visible"
    got = [n for n in notifications(author)["items"]
           if n["post_id"] == post["id"] and n["kind"] == "flag_resolved"]
    assert got and got[0]["detail"]["decision"] == "keep"
    # and the identifier can now go from the history
    assert mod.call("POST", f"/api/v1/posts/{post['id']}/revisions/1/redact",
                    body={"reason": "a surname"}).status == 200
    # members cannot raise a review flag themselves
    problem(cast["Flagger Two"].call("POST", f"/api/v1/posts/{post['id']}/flags",
                                     body={"reason": "review"}), 422, "validation_failed")


def test_a_moderators_note_stays_with_moderators(cast):
    author, mod = cast["Author Ann"], cast["moderator"]
    post = post_in_forum(cast, "A reply with an aside.", ack=False)
    assert cast["Flagger Two"].call("POST", f"/api/v1/posts/{post['id']}/flags",
                                    body={"reason": "other"}).status == 201
    r = mod.call("POST", f"/api/v1/moderation/posts/{post['id']}/decision",
                 body={"action": "hide", "note": "Flagger Two again; third time this week"})
    assert r.status == 200, r
    got = [n for n in notifications(author)["items"]
           if n["post_id"] == post["id"] and n["kind"] == "post_hidden"]
    assert got and got[0]["detail"] == {"cause": "moderator"}
    assert "Flagger" not in json.dumps(notifications(author))


def test_the_review_flag_is_settled_by_unhiding_and_never_counts_toward_hiding(cast):
    author, mod = cast["Author Ann"], cast["moderator"]
    post = post_in_forum(cast, "Mr. Gallant, 44, tapering.")
    assert mod.call("POST", f"/api/v1/posts/{post['id']}/hide",
                    body={"reason": "a surname"}).status == 200
    assert author.call("PATCH", f"/api/v1/posts/{post['id']}",
                       body={"body": "A man of 44, tapering.", "version": 1}).status == 200
    r = mod.call("POST", f"/api/v1/posts/{post['id']}/unhide", body={"reason": "fixed"})
    assert r.status == 200 and r.json()["state"] == "visible"
    pending = [i["post"]["id"] for i in mod.get("/api/v1/moderation/queue?limit=100")
               .json()["items"]]
    assert post["id"] not in pending  # the author's request is settled
    # two members' flags are two, not three with the author's
    for who in ("Flagger One", "Flagger Two"):
        assert cast[who].call("POST", f"/api/v1/posts/{post['id']}/flags",
                              body={"reason": "other"}).status == 201
    assert cast["Flagger Three"].get(f"/api/v1/posts/{post['id']}").json()["state"] == "visible"


def test_a_new_title_is_a_version_and_the_old_one_can_be_redacted(cast):
    author, mod = cast["Author Ann"], cast["moderator"]
    r = author.call("POST", "/api/v1/threads", body={
        "category_id": cast["category"]["id"], "title": "Case of Mme Thibodeau",
        "body": "A woman of 60 with CRPS.", "acknowledge_privacy": True})
    assert r.status == 201, r
    tid, first = r.json()["thread"]["id"], r.json()["post"]
    r = author.call("PATCH", f"/api/v1/threads/{tid}", body={"title": "A case of CRPS"})
    assert r.status == 200, r
    items = author.get(f"/api/v1/posts/{first['id']}/revisions").json()["items"]
    assert [(i["version"], i["title"]) for i in items] == [
        (1, "Case of Mme Thibodeau"), (2, "A case of CRPS")]
    assert items[1]["body"] == "A woman of 60 with CRPS."
    assert mod.call("POST", f"/api/v1/posts/{first['id']}/revisions/1/redact",
                    body={"reason": "a surname in the title"}).status == 200
    assert psql(DATABASE_URL, "SELECT count(*) FROM post_revisions WHERE title LIKE "
                "'%Thibodeau%'") == "0"
    # a moderator's retitle is logged without the titles, and asks no review
    r = mod.call("PATCH", f"/api/v1/threads/{tid}",
                 body={"title": "CRPS after a wrist fracture", "reason": "clearer"})
    assert r.status == 200, r
    log = psql(DATABASE_URL, "SELECT before::text || after::text FROM moderation_log WHERE "
               f"action = 'thread.update' AND target_id = {tid}")
    assert "CRPS" not in log and "revisions" in log
    # acknowledging with no title changes nothing
    r = author.call("PATCH", f"/api/v1/threads/{tid}",
                    body={"status": "resolved", "acknowledge_privacy": True})
    assert r.status == 200, r
    assert author.get(f"/api/v1/posts/{first['id']}").json()["privacy_acknowledged"] is True
    plain = post_in_forum(cast, "Nothing to acknowledge.", ack=False)
    r = author.call("PATCH", f"/api/v1/threads/{plain['thread_id']}",
                    body={"status": "resolved", "acknowledge_privacy": True})
    assert r.status == 200, r
    assert author.get(f"/api/v1/posts/{plain['id']}").json()["privacy_acknowledged"] is False
