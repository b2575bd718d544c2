"""One-to-one (and small) private conversations (roadmap step 4, SPEC sections 2 and 4):
only the participants read and write them; everyone else, moderators and admins included,
gets 404 (moderators will read a flagged post through the moderation queue, step 5)."""
import pytest

from harness import DATABASE_URL, Client, create_admin, problem, psql, register


@pytest.fixture(scope="module")
def people(server, admin):
    return {name: register(server, admin, network="ON", name=name).accept_guidelines()
            for name in ("Mentee Dana", "Mentor Eli", "Colleague Fay", "Outsider Gus")}


def start(client, others, title="Question about a taper", body="Could we talk it through?"):
    r = client.call("POST", "/api/v1/conversations", body={
        "participant_ids": [o.id for o in others], "title": title, "body": body})
    assert r.status == 201, r
    return r.json()


def test_participants_talk_privately(people):
    t = start(people["Mentee Dana"], [people["Mentor Eli"]])
    assert t["space"] == {"type": "conversation", "id": t["id"]}
    assert {p["id"] for p in t["participants"]} == {people["Mentee Dana"].id,
                                                    people["Mentor Eli"].id}
    assert t["subscription"] == "watching"
    r = people["Mentor Eli"].call("POST", f"/api/v1/threads/{t['id']}/posts",
                                  body={"body": "Of course: what dose now?"})
    assert r.status == 201
    page = people["Mentee Dana"].get(f"/api/v1/threads/{t['id']}").json()
    assert [p["body"] for p in page["posts"]] == ["Could we talk it through?",
                                                  "Of course: what dose now?"]
    theirs = people["Mentor Eli"].get("/api/v1/conversations").json()["items"]
    assert theirs[0]["id"] == t["id"] and theirs[0]["unread_count"] == 0  # he wrote the last
    mine = people["Mentee Dana"].get("/api/v1/conversations").json()["items"]
    assert mine[0]["id"] == t["id"] and mine[0]["unread_count"] == 1
    assert t["id"] not in [x["id"] for x in people["Colleague Fay"].get("/api/v1/conversations")
                           .json()["items"]]
    # never in the forum's lists
    assert t["id"] not in [x["id"] for x in people["Mentee Dana"].get("/api/v1/threads?limit=100")
                           .json()["items"]]


def test_conversations_are_404_to_everyone_else(people, server, admin):
    t = start(people["Mentee Dana"], [people["Mentor Eli"]], title="Private matter")
    post = people["Mentee Dana"].get(f"/api/v1/threads/{t['id']}").json()["posts"][0]
    moderator = register(server, admin, network="BC", role="moderator").accept_guidelines()
    coordinator = register(server, admin, network="ON", role="coordinator").accept_guidelines()
    for who in (people["Outsider Gus"], moderator, coordinator, admin):
        for path in (f"/api/v1/threads/{t['id']}", f"/api/v1/posts/{post['id']}",
                     f"/api/v1/posts/{post['id']}/revisions"):
            problem(who.get(path), 404, "not_found")
        problem(who.call("POST", f"/api/v1/threads/{t['id']}/posts", body={"body": "x"}), 404,
                "not_found")
        problem(who.call("PATCH", f"/api/v1/threads/{t['id']}", body={"locked": True}), 404,
                "not_found")
        problem(who.call("DELETE", f"/api/v1/posts/{post['id']}"), 404, "not_found")


def test_group_conversations_and_bad_requests(people):
    t = start(people["Mentee Dana"], [people["Mentor Eli"], people["Colleague Fay"],
                                      people["Mentor Eli"]])
    assert len(t["participants"]) == 3
    count = psql(DATABASE_URL, "SELECT count(*) FROM threads WHERE space_type = 'conversation'")
    for body, field in [
            ({"participant_ids": [], "title": "Empty", "body": "x"}, "participant_ids"),
            ({"participant_ids": None, "title": "Null", "body": "x"}, "participant_ids"),
            ({"participant_ids": 5, "title": "Not a list", "body": "x"}, "participant_ids"),
            ({"title": "Missing", "body": "x"}, "participant_ids"),
            ({"participant_ids": [people["Mentee Dana"].id], "title": "Alone", "body": "x"},
             "participant_ids"),
            ({"participant_ids": [999999999], "title": "Nobody", "body": "x"}, "participant_ids"),
            ({"participant_ids": ["x"], "title": "Bad id", "body": "x"}, "participant_ids"),
            ({"participant_ids": list(range(1, 30)), "title": "Crowd", "body": "x"},
             "participant_ids"),
            ({"participant_ids": [people["Mentor Eli"].id], "body": "x"}, "title"),
            ({"participant_ids": [people["Mentor Eli"].id], "title": "No body"}, "body")]:
        p = problem(people["Mentee Dana"].call("POST", "/api/v1/conversations", body=body), 422,
                    "validation_failed")
        assert any(e["field"] == field for e in p["errors"]), (body, p)
    assert psql(DATABASE_URL,
                "SELECT count(*) FROM threads WHERE space_type = 'conversation'") == count
