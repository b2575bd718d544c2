"""The national forum's threads and posts (roadmap step 3, SPEC section 4 "Threads and
posts"): writing, reading (chronological and tree), lists with keyset cursors and ETags,
editing with versions, revisions, deletion, thread settings, answers, reactions,
bookmarks, reading state, subscriptions, mentions, preview and posting limits."""
import random
import re
import threading

import pytest

from harness import DATABASE_URL, Client, Server, create_admin, problem, psql, register


@pytest.fixture(scope="module")
def alice(server, admin):
    return register(server, admin, network="BC", name="Alice Tremblay").accept_guidelines()


@pytest.fixture(scope="module")
def bob(server, admin):
    return register(server, admin, network="ON", name="Bob Singh",
                    profession="psychiatrist").accept_guidelines()


@pytest.fixture(scope="module")
def moderator(server, admin):
    return register(server, admin, network="NS", role="moderator",
                    name="Mo Derator").accept_guidelines()


@pytest.fixture(scope="module")
def category(alice):
    r = alice.get("/api/v1/categories/chronic-pain")
    assert r.status == 200
    return r.json()


def new_thread(client, category, title="Tapering long-term opioids", body="What works?",
               **extra):
    r = client.call("POST", "/api/v1/threads", body={
        "category_id": category["id"], "title": title, "body": body, **extra})
    assert r.status == 201, r
    return r.json()


def reply(client, thread_id, body="A reply", **extra):
    r = client.call("POST", f"/api/v1/threads/{thread_id}/posts", body={"body": body, **extra})
    assert r.status == 201, r
    return r.json()


# ---- writing and reading ------------------------------------------------------------

def test_a_thread_with_its_first_post_and_replies(alice, bob, category):
    before = alice.get("/api/v1/categories/chronic-pain").json()["thread_count"]
    out = new_thread(alice, category, kind="case", tags=["opioids", "tapering"],
                     body="Patient in her 60s on **90 mg** MME.\n\nPlan?")
    t, first = out["thread"], out["post"]
    assert t["space"] == {"type": "category", "id": category["id"]}
    assert t["kind"] == "case" and t["status"] == "open" and t["tags"] == ["opioids", "tapering"]
    assert t["pinned"] is False and t["locked"] is False and t["post_count"] == 1
    assert t["author"]["id"] == alice.id and t["author"]["display_name"] == "Alice Tremblay"
    assert t["accepted_post_id"] is None and t["subscription"] == "watching"
    assert first["number"] == 1 and first["version"] == 1 and first["depth"] == 0
    assert first["body_html"] == "<p>Patient in her 60s on <strong>90 mg</strong> MME.</p>\n" \
                                 "<p>Plan?</p>\n"
    assert first["state"] == "visible" and first["reactions"] == {"helpful": 0, "thanks": 0}
    r1 = reply(bob, t["id"], "Slow taper, 10% a month.")
    r2 = reply(alice, t["id"], "Thanks — and if she refuses?", reply_to=r1["id"])
    assert r2["reply_to"] == r1["id"] and r2["depth"] == 1 and r2["number"] == 3
    page = bob.get(f"/api/v1/threads/{t['id']}").json()
    assert [p["id"] for p in page["posts"]] == [first["id"], r1["id"], r2["id"]]
    assert page["thread"]["post_count"] == 3 and page["next_cursor"] is None
    assert alice.get("/api/v1/categories/chronic-pain").json()["thread_count"] == before + 1
    assert alice.get(f"/api/v1/users/{alice.id}").json()["post_count"] >= 2


def test_tree_order_is_depth_first_with_depth_capped_at_8(alice, bob, category):
    t = new_thread(alice, category, title="Deep discussion")["thread"]
    a = reply(bob, t["id"], "a")
    b = reply(alice, t["id"], "b")
    a1 = reply(alice, t["id"], "a1", reply_to=a["id"])
    chain = [a1]
    for i in range(9):
        chain.append(reply(bob, t["id"], f"deep {i}", reply_to=chain[-1]["id"]))
    tree = bob.get(f"/api/v1/threads/{t['id']}?order=tree&limit=100").json()["posts"]
    ids = [p["id"] for p in tree]
    assert ids[:3] == [ids[0], a["id"], a1["id"]]
    assert ids[-1] == b["id"]  # b comes after a's whole subtree
    depths = {p["id"]: p["depth"] for p in tree}
    assert depths[a["id"]] == 0 and depths[a1["id"]] == 1
    assert max(depths.values()) == 8
    assert depths[chain[-1]["id"]] == 8
    chrono = bob.get(f"/api/v1/threads/{t['id']}").json()["posts"]
    assert [p["number"] for p in chrono] == list(range(1, len(chrono) + 1))
    # the tree pages like every other list
    seen, cursor = [], None
    while True:
        q = f"/api/v1/threads/{t['id']}?order=tree&limit=4" + (f"&cursor={cursor}" if cursor else "")
        page = bob.get(q).json()
        seen += [p["id"] for p in page["posts"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids


def test_pagination_over_500_posts_returns_each_exactly_once(alice, category):
    t = new_thread(alice, category, title="A very long thread")["thread"]
    psql(DATABASE_URL, f"""
        DO $$ DECLARE i integer; BEGIN
          FOR i IN 2..520 LOOP
            PERFORM cf_post_create({alice.id}, {t['id']}, NULL, 'post ' || i, '<p>post ' || i || '</p>',
                                   NULL, false, 0);
          END LOOP; END $$""")
    for order in ("chronological", "tree"):
        seen, cursor, pages = [], None, 0
        while True:
            q = f"/api/v1/threads/{t['id']}?order={order}&limit=37"
            page = alice.get(q + (f"&cursor={cursor}" if cursor else "")).json()
            seen += [p["id"] for p in page["posts"]]
            pages += 1
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == 520 and len(set(seen)) == 520, order
        assert pages == 15


def test_thread_lists_page_with_cursors_pinned_first_and_filters(alice, bob, moderator, admin):
    slug = f"list-test-{random.randrange(10**9)}"
    r = admin.call("POST", "/api/v1/categories", body={
        "slug": slug, "name": {"en": "List test", "fr": "Test de liste"}})
    assert r.status == 201, r
    cat = r.json()
    made = [new_thread(alice if i % 2 else bob, cat, title=f"Listed thread {i}",
                       kind="question" if i % 3 == 0 else "discussion",
                       tags=["sleep"] if i % 4 == 0 else [])["thread"] for i in range(12)]
    pin = made[3]["id"]
    r = moderator.call("PATCH", f"/api/v1/threads/{pin}", body={"pinned": True,
                                                                 "reason": "useful"})
    assert r.status == 200 and r.json()["pinned"] is True
    seen, cursor = [], None
    while True:
        q = f"/api/v1/threads?category={slug}&limit=5" + (f"&cursor={cursor}" if cursor else "")
        page = alice.get(q).json()
        seen += [x["id"] for x in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    newest_first = [t["id"] for t in reversed(made) if t["id"] != pin]
    assert seen == [pin] + newest_first
    by_id = alice.get(f"/api/v1/threads?category={cat['id']}&limit=100").json()["items"]
    assert [x["id"] for x in by_id] == seen
    questions = alice.get(f"/api/v1/threads?category={slug}&kind=question").json()["items"]
    assert {x["id"] for x in questions} == {t["id"] for i, t in enumerate(made) if i % 3 == 0}
    tagged = alice.get(f"/api/v1/threads?category={slug}&tag=sleep").json()["items"]
    assert {x["id"] for x in tagged} == {t["id"] for i, t in enumerate(made) if i % 4 == 0}
    mine = alice.get(f"/api/v1/threads?category={slug}&author={bob.id}").json()["items"]
    assert {x["id"] for x in mine} == {t["id"] for i, t in enumerate(made) if i % 2 == 0}
    created = alice.get(f"/api/v1/threads?category={slug}&sort=created&limit=100").json()
    assert [x["id"] for x in created["items"]][0] == pin
    everywhere = alice.get("/api/v1/threads?limit=100").json()["items"]
    assert made[-1]["id"] in [x["id"] for x in everywhere]
    assert alice.get("/api/v1/threads?category=no-such-category").json()["items"] == []


def test_lists_and_threads_answer_304_to_their_etag(alice, category):
    t = new_thread(alice, category, title="Etag thread")["thread"]
    for path in (f"/api/v1/threads/{t['id']}", "/api/v1/threads?category=chronic-pain"):
        r = alice.get(path)
        assert r.status == 200 and r.headers.get("etag")
        again = alice.get(path, headers={"If-None-Match": r.headers["etag"]})
        assert again.status == 304 and again.body == b""
    r = alice.get(f"/api/v1/threads/{t['id']}")
    reply(alice, t["id"], "changes the page")
    assert alice.get(f"/api/v1/threads/{t['id']}",
                     headers={"If-None-Match": r.headers["etag"]}).status == 200


@pytest.mark.parametrize("query", [
    "limit=0", "limit=101", "limit=ten", "sort=best", "status=pending", "kind=poll",
    "tag=Bad%20Tag", "author=abc", "cursor=not-a-cursor!", "cursor=AAAA", "group=abc",
    "group=0", "group=1&category=general",
])
def test_bad_list_queries_are_400(alice, query):
    r = alice.get(f"/api/v1/threads?{query}")
    assert r.status == 400, (query, r)
    assert r.json()["code"] in ("invalid_query", "invalid_cursor")


def test_unread_counts_and_reading_state(alice, bob, category):
    t = new_thread(alice, category, title="Unread thread")["thread"]
    posts = [reply(alice, t["id"], f"r{i}") for i in range(3)]
    seen = bob.get(f"/api/v1/threads/{t['id']}").json()["thread"]
    assert seen["unread_count"] == 4
    r = bob.call("POST", f"/api/v1/threads/{t['id']}/read", body={"post_id": posts[0]["id"]})
    assert r.status == 200 and r.json()["unread_count"] == 2
    # never moves back
    r = bob.call("POST", f"/api/v1/threads/{t['id']}/read", body={"post_id": posts[0]["id"] - 1})
    assert r.json()["unread_count"] == 2
    listed = [x for x in bob.get("/api/v1/threads?category=chronic-pain&limit=100")
              .json()["items"] if x["id"] == t["id"]][0]
    assert listed["unread_count"] == 2
    assert alice.get(f"/api/v1/threads/{t['id']}").json()["thread"]["unread_count"] == 0
    other = new_thread(alice, category, title="Another thread")["post"]
    problem(bob.call("POST", f"/api/v1/threads/{t['id']}/read", body={"post_id": other["id"]}),
            422, "validation_failed")


def test_subscriptions(alice, bob, category):
    t = new_thread(alice, category, title="Subscribed thread")["thread"]
    assert t["subscription"] == "watching"
    assert bob.get(f"/api/v1/threads/{t['id']}").json()["thread"]["subscription"] == "normal"
    r = bob.call("PUT", f"/api/v1/threads/{t['id']}/subscription", body={"level": "muted"})
    assert r.status == 200 and r.json()["subscription"] == "muted"
    assert bob.get(f"/api/v1/threads/{t['id']}").json()["thread"]["subscription"] == "muted"
    problem(bob.call("PUT", f"/api/v1/threads/{t['id']}/subscription", body={"level": "loud"}),
            422, "validation_failed")
    problem(bob.call("PUT", "/api/v1/threads/999999999/subscription", body={"level": "muted"}),
            404, "not_found")


# ---- Markdown, mentions, preview -------------------------------------------------------

XSS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    "[click](javascript:alert(1))",
    "[click](JAVASCRIPT:alert(1))",
    "[click](jav&#x61;script:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](data:image/svg+xml;base64,PHN2Zz4=)",
    "[x](https://ok.example \"a\" onmouseover=\"alert(1)\")",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<iframe src=\"https://evil.example\"></iframe>",
    "[x]: javascript:alert(1)\n\n[ref][x]",
    "<div onclick=\"alert(1)\">hi</div>",
]


def assert_safe_html(html):
    for tag in re.findall(r"<\s*([a-zA-Z0-9]+)([^>]*)>", html):
        name, attrs = tag[0].lower(), tag[1]
        assert name in {"p", "br", "em", "strong", "code", "pre", "ul", "ol", "li", "a", "h1",
                        "h2", "h3", "h4", "h5", "h6", "blockquote", "hr"}, html
        for attr in re.findall(r"\s([a-zA-Z-]+)=", attrs):
            assert attr in {"href", "rel", "class", "title", "data-user-id", "start"}, html
    for href in re.findall(r'href="([^"]*)"', html):
        assert re.match(r"^(https?:|mailto:|/[^/]|#)", href), html
    # whatever the source said shows as text: no unescaped quote can open an attribute
    for text in re.split(r"<[^>]*>", html):
        assert '"' not in text and "<" not in text, html


@pytest.mark.parametrize("attack", XSS)
def test_xss_never_reaches_stored_html(alice, category, attack):
    out = new_thread(alice, category, title=f"XSS {attack}"[:200], body=attack,
                     tags=["xss"])
    assert out["thread"]["title"] == f"XSS {attack}"[:200]  # stored as text, not markup
    html = out["post"]["body_html"]
    assert_safe_html(html)
    stored = psql(DATABASE_URL, f"SELECT body_html FROM posts WHERE id = {out['post']['id']}")
    assert_safe_html(stored)
    r = alice.call("POST", "/api/v1/preview", body={"body": attack})
    assert r.status == 200
    assert_safe_html(r.json()["html"])


def test_bad_tags_are_refused(alice, category):
    for tags in (["<script>"], ["UPPER"], ["a" * 31], ["a", "b", "c", "d", "e", "f"], "sleep",
                 [5]):
        r = alice.call("POST", "/api/v1/threads", body={
            "category_id": category["id"], "title": "Tag test", "body": "x", "tags": tags})
        p = problem(r, 422, "validation_failed")
        assert any(e["field"] == "tags" for e in p["errors"])


def test_links_get_nofollow_noopener(alice, category):
    html = new_thread(alice, category, title="Links",
                      body="See [the guideline](https://cfpc.ca/x).")["post"]["body_html"]
    assert 'href="https://cfpc.ca/x" rel="nofollow noopener"' in html


def test_mentions_link_members_and_are_recorded(alice, bob, category):
    handle = bob.get("/api/v1/me").json()["handle"]
    body = f"@{handle} what would you do? cc @nobody-here-at-all and `@{handle}` in code"
    post = new_thread(alice, category, title="Mention test", body=body)["post"]
    assert f'<a class="mention" href="/u/{bob.id}" data-user-id="{bob.id}">@{handle}</a>' \
        in post["body_html"]
    assert "@nobody-here-at-all" in post["body_html"]
    assert f"<code>@{handle}</code>" in post["body_html"]
    assert psql(DATABASE_URL, f"SELECT user_id FROM post_mentions WHERE post_id = {post['id']}") \
        == str(bob.id)
    r = alice.call("POST", "/api/v1/preview", body={"body": f"hi @{handle}"})
    assert r.json()["mentions"] == [{"handle": handle, "user_id": bob.id}]


def test_handles_are_made_from_names_and_unique(server, admin):
    one = register(server, admin, name="Dr. Amélie Côté")
    two = register(server, admin, name="Dr Amelie Cote")
    h1, h2 = one.get("/api/v1/me").json()["handle"], two.get("/api/v1/me").json()["handle"]
    assert h1.startswith("dr-amelie-cote") and h2.startswith("dr-amelie-cote") and h1 != h2


# ---- editing, revisions, deleting -------------------------------------------------------

def test_edits_carry_versions_and_conflicts_return_the_current_post(alice, bob, moderator,
                                                                    category):
    post = new_thread(alice, category, title="Edit me", body="first")["post"]
    r = alice.call("PATCH", f"/api/v1/posts/{post['id']}", body={"body": "second", "version": 1})
    assert r.status == 200 and r.json()["version"] == 2 and r.json()["body"] == "second"
    assert r.json()["edited_at"] is not None
    r = alice.call("PATCH", f"/api/v1/posts/{post['id']}", body={"body": "stale", "version": 1})
    p = problem(r, 409, "edit_conflict")
    assert p["post"]["version"] == 2 and p["post"]["body"] == "second"
    assert alice.get(f"/api/v1/posts/{post['id']}").json()["body"] == "second"
    problem(bob.call("PATCH", f"/api/v1/posts/{post['id']}", body={"body": "x", "version": 2}),
            403, "forbidden")
    revs = alice.get(f"/api/v1/posts/{post['id']}/revisions").json()["items"]
    assert [(x["version"], x["body"]) for x in revs] == [(1, "first"), (2, "second")]
    assert moderator.get(f"/api/v1/posts/{post['id']}/revisions").status == 200
    problem(bob.get(f"/api/v1/posts/{post['id']}/revisions"), 404, "not_found")
    problem(alice.call("PATCH", f"/api/v1/posts/{post['id']}", body={"body": "x"}), 422,
            "validation_failed")


def test_concurrent_edits_of_one_version_let_exactly_one_win(alice, category):
    post = new_thread(alice, category, title="Race", body="v1")["post"]
    results = []

    def edit(i):
        r = alice.call("PATCH", f"/api/v1/posts/{post['id']}",
                       body={"body": f"edit {i}", "version": 1})
        results.append(r.status)

    threads = [threading.Thread(target=edit, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200] + [409] * 7
    revs = alice.get(f"/api/v1/posts/{post['id']}/revisions").json()["items"]
    assert [x["version"] for x in revs] == [1, 2]


def test_deleted_posts_keep_their_place_and_moderators_see_them(alice, bob, moderator,
                                                                category):
    t = new_thread(alice, category, title="Delete in me")["thread"]
    victim = reply(bob, t["id"], "regrettable")
    r = bob.call("DELETE", f"/api/v1/posts/{victim['id']}")
    assert r.status == 204
    for reader in (alice, bob):
        shown = [p for p in reader.get(f"/api/v1/threads/{t['id']}").json()["posts"]
                 if p["id"] == victim["id"]][0]
        assert shown["state"] == "deleted" and shown["body"] is None and shown["body_html"] is None
    seen = moderator.get(f"/api/v1/posts/{victim['id']}").json()
    assert seen["state"] == "deleted" and seen["body"] == "regrettable"
    assert alice.get(f"/api/v1/threads/{t['id']}").json()["thread"]["post_count"] == 1
    problem(bob.call("DELETE", f"/api/v1/posts/{victim['id']}"), 404, "not_found")
    other = reply(alice, t["id"], "mine")
    problem(bob.call("DELETE", f"/api/v1/posts/{other['id']}"), 403, "forbidden")
    assert moderator.call("DELETE", f"/api/v1/posts/{other['id']}?reason=off-topic").status == 204
    log = psql(DATABASE_URL, "SELECT action || ' ' || reason FROM moderation_log WHERE "
               f"target_type = 'post' AND target_id = {other['id']}")
    assert log == "post.delete off-topic"


def test_deleting_the_first_post_deletes_the_thread(alice, bob, moderator, category):
    out = new_thread(alice, category, title="Short lived")
    before = alice.get("/api/v1/categories/chronic-pain").json()["thread_count"]
    assert alice.call("DELETE", f"/api/v1/posts/{out['post']['id']}").status == 204
    problem(bob.get(f"/api/v1/threads/{out['thread']['id']}"), 404, "not_found")
    assert moderator.get(f"/api/v1/threads/{out['thread']['id']}").json()["thread"]["deleted"]
    assert alice.get("/api/v1/categories/chronic-pain").json()["thread_count"] == before - 1
    listed = [x["id"] for x in bob.get("/api/v1/threads?category=chronic-pain&limit=100")
              .json()["items"]]
    assert out["thread"]["id"] not in listed
    problem(bob.call("POST", f"/api/v1/threads/{out['thread']['id']}/posts", body={"body": "x"}),
            404, "not_found")


# ---- thread settings, locking, moving, answers -------------------------------------------

def test_authors_edit_their_thread_and_moderators_pin_lock_and_move_logged(alice, bob,
                                                                           moderator, category):
    t = new_thread(alice, category, title="Settings")["thread"]
    r = alice.call("PATCH", f"/api/v1/threads/{t['id']}",
                   body={"title": "Settings, renamed", "tags": ["sleep"], "kind": "question"})
    assert r.status == 200 and r.json()["title"] == "Settings, renamed"
    assert r.json()["tags"] == ["sleep"] and r.json()["kind"] == "question"
    problem(bob.call("PATCH", f"/api/v1/threads/{t['id']}", body={"title": "Mine now"}), 403,
            "forbidden")
    problem(alice.call("PATCH", f"/api/v1/threads/{t['id']}", body={"pinned": True}), 403,
            "forbidden")
    problem(alice.call("PATCH", f"/api/v1/threads/{t['id']}", body={"title": "no"}), 422,
            "validation_failed")
    general = alice.get("/api/v1/categories/general").json()
    r = moderator.call("PATCH", f"/api/v1/threads/{t['id']}",
                       body={"locked": True, "category_id": general["id"], "reason": "moved"})
    assert r.status == 200 and r.json()["locked"] is True
    assert r.json()["space"] == {"type": "category", "id": general["id"]}
    assert alice.get("/api/v1/categories/general").json()["thread_count"] == \
        general["thread_count"] + 1
    problem(bob.call("POST", f"/api/v1/threads/{t['id']}/posts", body={"body": "late"}), 409,
            "thread_locked")
    log = psql(DATABASE_URL, "SELECT after::text FROM moderation_log WHERE target_type = 'thread'"
               f" AND target_id = {t['id']}")
    assert '"locked": true' in log and f'"category_id": {general["id"]}' in log
    problem(moderator.call("PATCH", f"/api/v1/threads/{t['id']}", body={"category_id": 99999999}),
            422, "validation_failed")


def test_question_threads_accept_an_answer(alice, bob, moderator, category):
    out = new_thread(alice, category, title="Which taper schedule?", kind="question")
    t = out["thread"]
    answer = reply(bob, t["id"], "10% a month")
    problem(bob.call("POST", f"/api/v1/threads/{t['id']}/answer", body={"post_id": answer["id"]}),
            403, "forbidden")
    problem(alice.call("POST", f"/api/v1/threads/{t['id']}/answer",
                       body={"post_id": out["post"]["id"]}), 422, "validation_failed")
    r = alice.call("POST", f"/api/v1/threads/{t['id']}/answer", body={"post_id": answer["id"]})
    assert r.status == 200
    assert r.json()["accepted_post_id"] == answer["id"] and r.json()["status"] == "resolved"
    r = alice.call("DELETE", f"/api/v1/threads/{t['id']}/answer")
    assert r.status == 200 and r.json()["accepted_post_id"] is None
    assert moderator.call("POST", f"/api/v1/threads/{t['id']}/answer",
                          body={"post_id": answer["id"]}).status == 200
    discussion = new_thread(alice, category, title="Not a question")["thread"]
    problem(alice.call("POST", f"/api/v1/threads/{discussion['id']}/answer",
                       body={"post_id": answer["id"]}), 409, "not_a_question")


def test_case_threads_are_marked_resolved_by_their_author(alice, bob, category):
    t = new_thread(alice, category, title="A case", kind="case")["thread"]
    r = alice.call("PATCH", f"/api/v1/threads/{t['id']}", body={"status": "resolved"})
    assert r.status == 200 and r.json()["status"] == "resolved"
    resolved = alice.get("/api/v1/threads?category=chronic-pain&status=resolved&limit=100")
    assert t["id"] in [x["id"] for x in resolved.json()["items"]]
    problem(bob.call("PATCH", f"/api/v1/threads/{t['id']}", body={"status": "open"}), 403,
            "forbidden")


# ---- reactions and bookmarks ------------------------------------------------------------

def test_reactions_count_and_say_whether_i_reacted(alice, bob, moderator, category):
    post = new_thread(alice, category, title="React to me")["post"]
    r = bob.call("PUT", f"/api/v1/posts/{post['id']}/reactions/helpful")
    assert r.status == 200 and r.json()["reactions"] == {"helpful": 1, "thanks": 0}
    assert r.json()["my_reactions"] == ["helpful"]
    r = bob.call("PUT", f"/api/v1/posts/{post['id']}/reactions/helpful")  # idempotent
    assert r.json()["reactions"]["helpful"] == 1
    moderator.call("PUT", f"/api/v1/posts/{post['id']}/reactions/thanks")
    seen = alice.get(f"/api/v1/posts/{post['id']}").json()
    assert seen["reactions"] == {"helpful": 1, "thanks": 1} and seen["my_reactions"] == []
    r = bob.call("DELETE", f"/api/v1/posts/{post['id']}/reactions/helpful")
    assert r.json()["reactions"]["helpful"] == 0 and r.json()["my_reactions"] == []
    problem(alice.call("PUT", f"/api/v1/posts/{post['id']}/reactions/helpful"), 409, "own_post")
    problem(bob.call("PUT", f"/api/v1/posts/{post['id']}/reactions/love"), 404, "not_found")
    problem(bob.call("PUT", "/api/v1/posts/999999999/reactions/thanks"), 404, "not_found")


def test_bookmarks(alice, bob, category):
    posts = [new_thread(alice, category, title=f"Bookmark {i}")["post"] for i in range(3)]
    for p in posts:
        r = bob.call("PUT", f"/api/v1/posts/{p['id']}/bookmark")
        assert r.status == 200 and r.json()["bookmarked"] is True
    page = bob.get("/api/v1/me/bookmarks?limit=2").json()
    assert [x["post"]["id"] for x in page["items"]] == [posts[2]["id"], posts[1]["id"]]
    assert page["items"][0]["thread"]["title"] == "Bookmark 2"
    rest = bob.get(f"/api/v1/me/bookmarks?limit=2&cursor={page['next_cursor']}").json()
    assert [x["post"]["id"] for x in rest["items"]][:1] == [posts[0]["id"]]
    assert bob.call("DELETE", f"/api/v1/posts/{posts[1]['id']}/bookmark").status == 200
    ids = [x["post"]["id"] for x in bob.get("/api/v1/me/bookmarks?limit=100").json()["items"]]
    assert posts[1]["id"] not in ids and posts[0]["id"] in ids
    assert alice.get("/api/v1/me/bookmarks").json()["items"] == [] or \
        all(x["post"]["id"] not in [p["id"] for p in posts]
            for x in alice.get("/api/v1/me/bookmarks").json()["items"])


# ---- bad input, access -----------------------------------------------------------------

@pytest.mark.parametrize("body,field", [
    ({"title": "Hi", "body": "x"}, "title"),
    ({"title": "T" * 201, "body": "x"}, "title"),
    ({"title": "Fine title", "body": ""}, "body"),
    ({"title": "Fine title", "body": "x" * 50001}, "body"),
    ({"title": "Fine title"}, "body"),
    ({"body": "x"}, "title"),
    ({"title": "Fine title", "body": "x", "kind": "poll"}, "kind"),
    ({"title": "Fine title", "body": "x", "acknowledge_privacy": "yes"}, "acknowledge_privacy"),
    ({"title": "Fine title", "body": "x", "category_id": "one"}, "category_id"),
    ({"title": "Fine title", "body": "x", "category_id": 999999999}, "category_id"),
])
def test_bad_threads_are_refused_and_change_nothing(alice, category, body, field):
    count = psql(DATABASE_URL, "SELECT count(*) FROM threads")
    body = {"category_id": category["id"], **body}
    p = problem(alice.call("POST", "/api/v1/threads", body=body), 422, "validation_failed")
    assert any(e["field"] == field for e in p["errors"]), p
    assert psql(DATABASE_URL, "SELECT count(*) FROM threads") == count


def test_bad_replies_are_refused(alice, bob, category):
    t = new_thread(alice, category, title="Replies")["thread"]
    other = new_thread(alice, category, title="Other")["post"]
    problem(bob.call("POST", f"/api/v1/threads/{t['id']}/posts", body={"body": ""}), 422,
            "validation_failed")
    problem(bob.call("POST", f"/api/v1/threads/{t['id']}/posts",
                     body={"body": "x", "reply_to": other["id"]}), 422, "validation_failed")
    problem(bob.call("POST", "/api/v1/threads/999999999/posts", body={"body": "x"}), 404,
            "not_found")
    assert bob.get(f"/api/v1/threads/{t['id']}").json()["thread"]["post_count"] == 1


def test_every_forum_endpoint_needs_a_session(server):
    for method, path in [("GET", "/api/v1/threads"), ("POST", "/api/v1/threads"),
                         ("GET", "/api/v1/threads/1"), ("PATCH", "/api/v1/threads/1"),
                         ("POST", "/api/v1/threads/1/posts"), ("GET", "/api/v1/posts/1"),
                         ("PUT", "/api/v1/posts/1/reactions/helpful"),
                         ("PUT", "/api/v1/posts/1/bookmark"), ("GET", "/api/v1/me/bookmarks"),
                         ("POST", "/api/v1/preview")]:
        body = {} if method in ("POST", "PATCH") else None
        problem(server.request(method, path, body=body), 401, "unauthenticated")


def test_writing_needs_the_guidelines_and_no_suspension(server, admin, category):
    newcomer = register(server, admin, network="NL")
    problem(newcomer.call("POST", "/api/v1/threads", body={
        "category_id": category["id"], "title": "Too early", "body": "x"}), 403,
        "guidelines_not_accepted")
    assert newcomer.get("/api/v1/threads").status == 200  # reading is fine
    newcomer.accept_guidelines()
    psql(DATABASE_URL, "UPDATE users SET suspended_until = now() + interval '1 day' "
         f"WHERE id = {newcomer.id}")
    problem(newcomer.call("POST", "/api/v1/threads", body={
        "category_id": category["id"], "title": "Suspended", "body": "x"}), 403, "suspended")
    # reading goes on: the thread, marking it read, muting it, bookmarking a post
    out = new_thread(admin, category, title="Read while suspended")
    assert newcomer.get(f"/api/v1/threads/{out['thread']['id']}").status == 200
    assert newcomer.call("POST", f"/api/v1/threads/{out['thread']['id']}/read",
                         body={"post_id": out["post"]["id"]}).status == 200
    assert newcomer.call("PUT", f"/api/v1/threads/{out['thread']['id']}/subscription",
                         body={"level": "muted"}).status == 200
    assert newcomer.call("PUT", f"/api/v1/posts/{out['post']['id']}/bookmark").status == 200
    problem(newcomer.call("PUT", f"/api/v1/posts/{out['post']['id']}/reactions/thanks"), 403,
            "suspended")
    problem(newcomer.call("POST", f"/api/v1/threads/{out['thread']['id']}/posts",
                          body={"body": "x"}), 403, "suspended")


def test_posting_limits_answer_429_with_retry_after(admin):
    s = Server(workers=1, extra_env={"CONFER_POST_INTERVAL": "5",
                                     "CONFER_THREAD_INTERVAL": "15"}).start()
    try:
        member = register(s, Client(s, create_admin()).accept_guidelines()).accept_guidelines()
        cat = member.get("/api/v1/categories/general").json()
        t = new_thread(member, cat, title="First thread")["thread"]
        r = member.call("POST", "/api/v1/threads", body={
            "category_id": cat["id"], "title": "Second thread", "body": "x"})
        problem(r, 429, "rate_limited")
        assert 1 <= int(r.headers["retry-after"]) <= 15
        r = member.call("POST", f"/api/v1/threads/{t['id']}/posts", body={"body": "too soon"})
        problem(r, 429, "rate_limited")
        assert 1 <= int(r.headers["retry-after"]) <= 5
        assert member.get(f"/api/v1/threads/{t['id']}").json()["thread"]["post_count"] == 1
    finally:
        assert s.stop() == 0


def test_my_export_includes_what_i_wrote_and_set(alice, bob, category):
    out = new_thread(alice, category, title="Exported thread", body="exported body")
    bob.call("PUT", f"/api/v1/posts/{out['post']['id']}/reactions/thanks")
    bob.call("PUT", f"/api/v1/posts/{out['post']['id']}/bookmark")
    mine = alice.get("/api/v1/me/export").json()["forum"]
    assert out["thread"]["id"] in [t["id"] for t in mine["threads"]]
    post = [p for p in mine["posts"] if p["id"] == out["post"]["id"]][0]
    assert post["revisions"][0]["body"] == "exported body"
    theirs = bob.get("/api/v1/me/export").json()["forum"]
    assert {"post_id": out["post"]["id"], "kind": "thanks"}.items() <= \
        [r for r in theirs["reactions"] if r["post_id"] == out["post"]["id"]][0].items()
    assert out["post"]["id"] in [b["post_id"] for b in theirs["bookmarks"]]


def test_a_renamed_member_shows_under_the_new_name_everywhere(server, admin, category):
    member = register(server, admin, name="Before Rename").accept_guidelines()
    out = new_thread(member, category, title="Rename test")
    reply(member, out["thread"]["id"], "my reply")
    r = member.call("PATCH", "/api/v1/me", body={"display_name": "After Rename"})
    assert r.status == 200, r
    page = member.get(f"/api/v1/threads/{out['thread']['id']}").json()
    assert page["thread"]["author"]["display_name"] == "After Rename"
    assert {p["author"]["display_name"] for p in page["posts"]} == {"After Rename"}
    listed = [x for x in member.get("/api/v1/threads?category=chronic-pain&limit=100")
              .json()["items"] if x["id"] == out["thread"]["id"]][0]
    assert listed["author"]["display_name"] == "After Rename"
