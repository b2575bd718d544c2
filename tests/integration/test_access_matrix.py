"""The access-control matrix of SPEC section 2 (roadmap step 4, item 8): every read and
write endpoint of a thread and its posts x each kind of caller x each space (the national
forum, a group, a conversation), asserting the exact status. The expected status comes
from the rules below, written once as SPEC section 2 states them; the cases are generated
from them, not copied by hand. This is what shows that no clinical conversation leaks."""
import itertools
import random
import string

import pytest

from harness import DATABASE_URL, Client, create_admin, psql, register

CALLERS = ["anonymous", "member_outside", "author", "mentor", "coordinator_network",
           "coordinator_other", "moderator", "admin", "suspended"]
SPACES = ["forum", "group", "conversation"]
# this run's own word, so that search never finds another run's posts
NONCE = "zq" + "".join(random.choice(string.ascii_lowercase) for _ in range(8))


# ---- the rules (SPEC section 2) ------------------------------------------------------

def reads(caller, space):
    """Who reads a thread of the space."""
    if space == "forum":
        return True
    if space == "group":  # members, the network's coordinators, moderators, admins
        return caller in ("author", "mentor", "suspended", "coordinator_network", "moderator",
                          "admin")
    return caller in ("author", "mentor", "suspended")  # conversation: participants only


def writes(caller, space):
    """Who starts threads, replies and reacts."""
    if space == "forum":
        return True
    return caller in ("author", "mentor", "suspended")  # group members, participants


def moderates(caller, space):
    """Who moderates: moderators and admins; coordinators in their network's groups;
    nobody in a conversation."""
    if space == "conversation":
        return False
    return caller in ("moderator", "admin") or (space == "group" and
                                                caller == "coordinator_network")


def accepts_answers(caller, space):
    return caller in ("author", "mentor") or moderates(caller, space)


def expected(op, caller, space):
    """The status SPEC section 2 gives op for caller in space."""
    if caller == "anonymous":
        return 401
    write = op not in ("get_thread", "get_post", "revisions", "list", "bookmark", "read",
                       "subscribe")
    if caller == "suspended" and write:
        return 403  # suspended members read but never write
    if not reads(caller, space):
        return 404  # what one may not read does not exist
    if op in ("get_thread", "get_post", "list", "bookmark", "read", "subscribe"):
        return 200
    if op == "revisions":
        return 200 if caller == "author" or moderates(caller, space) else 404
    if op == "reply":
        return 201 if writes(caller, space) else 403
    if op == "react":  # on the author's first post
        if not writes(caller, space):
            return 403
        return 409 if caller == "author" else 200
    if op == "edit_post":
        return 200 if caller == "author" else 403
    if op == "delete_post":
        return 204 if caller == "author" or moderates(caller, space) else 403
    if op == "edit_title":
        return 200 if caller == "author" or moderates(caller, space) else 403
    if op == "pin":
        return 200 if moderates(caller, space) else 403
    if op == "accept":
        return 200 if accepts_answers(caller, space) else 403
    if op == "flag":  # whoever reads a post may flag it (on a post of the author's)
        return 409 if caller == "author" else 201
    if op == "redact":  # the thread's moderators (a revision of the author's)
        return 200 if moderates(caller, space) else 403
    if op == "hide":  # moderators, and in a group its mentor (hide only)
        return 200 if moderates(caller, space) or (space == "group" and caller == "mentor") \
            else 403
    raise AssertionError(op)


# ---- the world -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def world(server):
    admin = Client(server, create_admin()).accept_guidelines()
    c = {"admin": admin}
    c["author"] = register(server, admin, network="NS", name="Matrix Author").accept_guidelines()
    c["mentor"] = register(server, admin, network="ON", name="Matrix Mentor",
                           profession="psychiatrist").accept_guidelines()
    c["member_outside"] = register(server, admin, network="NS").accept_guidelines()
    c["coordinator_network"] = register(server, admin, network="NS",
                                        role="coordinator").accept_guidelines()
    c["coordinator_other"] = register(server, admin, network="NL",
                                      role="coordinator").accept_guidelines()
    c["moderator"] = register(server, admin, network="BC", role="moderator").accept_guidelines()
    c["suspended"] = register(server, admin, network="NS",
                              name="Matrix Suspended").accept_guidelines()
    g = admin.call("POST", "/api/v1/groups", body={"network": "NS", "name": "Matrix group"}).json()
    for who, role in (("mentor", "mentor"), ("author", "mentee"), ("suspended", "mentee")):
        r = admin.call("PUT", f"/api/v1/groups/{g['id']}/members/{c[who].id}", body={"role": role})
        assert r.status == 200, r
    category = admin.get("/api/v1/categories/mental-health").json()

    def new_thread(space):
        if space == "forum":
            body = {"category_id": category["id"]}
            r = c["author"].call("POST", "/api/v1/threads", body={
                **body, "title": "Matrix forum case", "body": "First post.", "kind": "question"})
            return r.json()["thread"], r.json()["post"]
        if space == "group":
            r = c["author"].call("POST", "/api/v1/threads", body={
                "group_id": g["id"], "title": "Matrix group case", "body": "First post.",
                "kind": "question"})
            return r.json()["thread"], r.json()["post"]
        r = c["author"].call("POST", "/api/v1/conversations", body={
            "participant_ids": [c["mentor"].id, c["suspended"].id],
            "title": "Matrix conversation", "body": "First post."})
        t = r.json()
        psql(DATABASE_URL, f"UPDATE threads SET kind = 'question' WHERE id = {t['id']}")
        first = c["author"].get(f"/api/v1/threads/{t['id']}").json()["posts"][0]
        return t, first

    spaces = {}
    for space in SPACES:
        t, first = new_thread(space)
        answer = c["mentor"].call("POST", f"/api/v1/threads/{t['id']}/posts",
                                  body={"body": "The mentor's answer."}).json()
        # words for search: one in a visible post, one in a post hidden by moderation
        visible = c["author"].call("POST", f"/api/v1/threads/{t['id']}/posts",
                                   body={"body": f"Matrixvisible {space}word {NONCE}."}).json()
        hidden = c["author"].call("POST", f"/api/v1/threads/{t['id']}/posts",
                                  body={"body": f"Matrixhidden {space}word {NONCE}."}).json()
        psql(DATABASE_URL, f"UPDATE posts SET state = 'hidden' WHERE id = {hidden['id']}")
        spaces[space] = {"thread": t, "first": first, "answer": answer, "group": g,
                         "visible": visible, "hidden": hidden}
    psql(DATABASE_URL, "UPDATE users SET suspended_until = now() + interval '30 days' "
         f"WHERE id = {c['suspended'].id}")
    return c, spaces


def fresh_post(c, s):
    """A post of the author's own, for the cases that change or delete it."""
    r = c["author"].call("POST", f"/api/v1/threads/{s['thread']['id']}/posts",
                         body={"body": "A post to change."})
    assert r.status == 201, r
    return r.json()


def call(server, c, caller, method, path, body=None):
    if caller == "anonymous":
        return server.request(method, path, body=body)
    return c[caller].call(method, path, body=body)


OPS = ["get_thread", "get_post", "revisions", "list", "reply", "react", "bookmark", "read",
       "subscribe", "edit_post", "delete_post", "edit_title", "pin", "accept", "hide", "flag",
       "redact"]


def run(op, server, c, s, caller):
    t, first = s["thread"], s["first"]
    tid = t["id"]
    if op == "get_thread":
        return call(server, c, caller, "GET", f"/api/v1/threads/{tid}")
    if op == "get_post":
        return call(server, c, caller, "GET", f"/api/v1/posts/{first['id']}")
    if op == "revisions":
        return call(server, c, caller, "GET", f"/api/v1/posts/{first['id']}/revisions")
    if op == "list":
        return call(server, c, caller, "GET", f"/api/v1/threads?group={s['group']['id']}")
    if op == "reply":
        return call(server, c, caller, "POST", f"/api/v1/threads/{tid}/posts",
                    {"body": "A reply."})
    if op == "react":
        return call(server, c, caller, "PUT", f"/api/v1/posts/{first['id']}/reactions/helpful")
    if op == "bookmark":
        return call(server, c, caller, "PUT", f"/api/v1/posts/{first['id']}/bookmark")
    if op == "read":
        return call(server, c, caller, "POST", f"/api/v1/threads/{tid}/read",
                    {"post_id": first["id"]})
    if op == "subscribe":
        return call(server, c, caller, "PUT", f"/api/v1/threads/{tid}/subscription",
                    {"level": "muted"})
    if op == "edit_post":
        p = fresh_post(c, s)
        return call(server, c, caller, "PATCH", f"/api/v1/posts/{p['id']}",
                    {"body": "Changed.", "version": 1})
    if op == "delete_post":
        p = fresh_post(c, s)
        return call(server, c, caller, "DELETE", f"/api/v1/posts/{p['id']}")
    if op == "edit_title":
        return call(server, c, caller, "PATCH", f"/api/v1/threads/{tid}",
                    {"title": f"Renamed by {caller}"})
    if op == "pin":
        return call(server, c, caller, "PATCH", f"/api/v1/threads/{tid}",
                    {"pinned": True, "reason": "matrix"})
    if op == "accept":
        return call(server, c, caller, "POST", f"/api/v1/threads/{tid}/answer",
                    {"post_id": s["answer"]["id"]})
    if op == "flag":
        p = fresh_post(c, s)
        return call(server, c, caller, "POST", f"/api/v1/posts/{p['id']}/flags",
                    {"reason": "off_topic", "note": "matrix"})
    if op == "hide":
        p = fresh_post(c, s)
        return call(server, c, caller, "POST", f"/api/v1/posts/{p['id']}/hide",
                    {"reason": "identifying details"})
    if op == "redact":
        p = fresh_post(c, s)
        r = c["author"].call("PATCH", f"/api/v1/posts/{p['id']}",
                             {"body": "Changed, the identifier out.", "version": 1})
        assert r.status == 200, r
        return call(server, c, caller, "POST", f"/api/v1/posts/{p['id']}/revisions/1/redact",
                    {"reason": "an identifier in the first version"})
    raise AssertionError(op)


CASES = [(op, caller, space) for op, caller, space in itertools.product(OPS, CALLERS, SPACES)
         # the group list is the group's; the forum's and conversations' lists are tested
         # by membership below
         if not (op == "list" and space != "group")]


@pytest.mark.parametrize("op,caller,space", CASES)
def test_access(server, world, op, caller, space):
    c, spaces = world
    r = run(op, server, c, spaces[space], caller)
    want = expected(op, caller, space)
    assert r.status == want, (op, caller, space, r.status, r.body[:200])
    if want == 404:
        assert r.json()["code"] == "not_found"  # never a hint that it exists


@pytest.mark.parametrize("caller", [x for x in CALLERS if x != "anonymous"])
def test_lists_show_exactly_what_one_may_read(server, world, caller):
    c, spaces = world
    forum = [x["id"] for x in c[caller].get("/api/v1/threads?limit=100").json()["items"]]
    assert spaces["forum"]["thread"]["id"] in forum
    for space in ("group", "conversation"):
        assert spaces[space]["thread"]["id"] not in forum  # private spaces never leak there
    mine = [x["id"] for x in c[caller].get("/api/v1/conversations?limit=100").json()["items"]]
    assert (spaces["conversation"]["thread"]["id"] in mine) == reads(caller, "conversation")
    marks = [m["post"]["id"] for m in c[caller].get("/api/v1/me/bookmarks?limit=100")
             .json()["items"]]
    for space in SPACES:
        if spaces[space]["first"]["id"] in marks:
            assert reads(caller, space), (caller, space)


@pytest.mark.parametrize("caller,space", list(itertools.product(CALLERS, SPACES)))
def test_search_finds_exactly_what_one_may_read(server, world, caller, space):
    """Search decides access in its query: a visible post is found by whoever reads its
    thread, a hidden one by whoever moderates it, and nobody else learns of either."""
    c, spaces = world
    s = spaces[space]
    found = {}
    for word in ("matrixvisible", "matrixhidden"):
        r = call(server, c, caller, "GET", f"/api/v1/search?q={word}+{space}word+{NONCE}")
        if caller == "anonymous":
            assert r.status == 401
            return
        assert r.status == 200, r
        found[word] = [x["post_id"] for x in r.json()["items"]]
    assert found["matrixvisible"] == ([s["visible"]["id"]] if reads(caller, space) else [])
    assert found["matrixhidden"] == ([s["hidden"]["id"]] if moderates(caller, space) else [])


@pytest.mark.parametrize("caller,space", list(itertools.product(CALLERS, SPACES)))
def test_live_events_subscribe_as_one_reads(server, world, caller, space):
    """GET /events?thread= answers a stream to whoever reads the thread, 404 otherwise."""
    c, spaces = world
    tid = spaces[space]["thread"]["id"]
    es = server.events(f"/api/v1/events?thread={tid}", None if caller == "anonymous"
                       else c[caller])
    try:
        want = 401 if caller == "anonymous" else 200 if reads(caller, space) else 404
        assert es.status == want, (caller, space, es.status)
        if want == 404:
            assert es.problem["code"] == "not_found"
    finally:
        es.close()


def test_the_matrix_covers_every_thread_and_post_endpoint():
    """A new thread or post route must join the matrix (or this list of exceptions)."""
    from test_openapi import routes_in_code
    covered = {
        ("GET", "/api/v1/threads/{id}"), ("GET", "/api/v1/posts/{id}"),
        ("GET", "/api/v1/posts/{id}/revisions"), ("GET", "/api/v1/threads"),
        ("POST", "/api/v1/threads/{id}/posts"), ("PUT", "/api/v1/posts/{id}/reactions/{name}"),
        ("PUT", "/api/v1/posts/{id}/bookmark"), ("POST", "/api/v1/threads/{id}/read"),
        ("PUT", "/api/v1/threads/{id}/subscription"), ("PATCH", "/api/v1/posts/{id}"),
        ("DELETE", "/api/v1/posts/{id}"), ("PATCH", "/api/v1/threads/{id}"),
        ("POST", "/api/v1/threads/{id}/answer"), ("POST", "/api/v1/posts/{id}/hide"),
        ("POST", "/api/v1/posts/{id}/flags"), ("POST", "/api/v1/posts/{id}/revisions/{n}/redact"),
        ("GET", "/api/v1/search"), ("GET", "/api/v1/events"),
    }
    # undoing what the matrix does (same checks), or lists of one's own
    exceptions = {
        ("DELETE", "/api/v1/threads/{id}/answer"), ("DELETE", "/api/v1/posts/{id}/bookmark"),
        ("POST", "/api/v1/posts/{id}/unhide"),
        ("DELETE", "/api/v1/posts/{id}/reactions/{name}"), ("POST", "/api/v1/threads"),
        ("GET", "/api/v1/me/bookmarks"),
    }
    routes = {(m.upper(), p) for m, p in routes_in_code()
              if p.startswith("/api/v1/threads") or p.startswith("/api/v1/posts")
              or p in ("/api/v1/me/bookmarks", "/api/v1/search", "/api/v1/events")}
    assert routes - covered - exceptions == set(), routes - covered - exceptions
