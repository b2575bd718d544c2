"""Full-text search (roadmap step 7, items 1, 2 and 4; SPEC section 8): English and French
stemming, accents, websearch syntax (phrases, OR, -word), filters, ranking, HTML-safe
<mark> snippets, keyset pages, vectors kept up to date on every write, and access decided
in the query (the access matrix adds every kind of caller in every space)."""
import random
import string
from urllib.parse import quote

import pytest

from harness import DATABASE_URL, Client, create_admin, problem, psql, register

# A word of this run's own, so that other tests' posts never match.
N = "zq" + "".join(random.choice(string.ascii_lowercase) for _ in range(8))


@pytest.fixture(scope="module")
def member(server, admin):
    return register(server, admin, network="NS", name="Search Member").accept_guidelines()


@pytest.fixture(scope="module")
def other(server, admin):
    return register(server, admin, network="BC", name="Search Other").accept_guidelines()


def category(client, slug="chronic-pain"):
    return client.get(f"/api/v1/categories/{slug}").json()


def new_thread(client, title, body, slug="chronic-pain", tags=()):
    r = client.call("POST", "/api/v1/threads", body={
        "category_id": category(client, slug)["id"], "title": title, "body": body,
        "kind": "discussion", "tags": list(tags)})
    assert r.status == 201, r
    return r.json()["thread"], r.json()["post"]


def reply(client, thread, body):
    r = client.call("POST", f"/api/v1/threads/{thread['id']}/posts", body={"body": body})
    assert r.status == 201, r
    return r.json()


def search(client, q, **params):
    qs = "&".join(f"{k}={quote(str(v))}" for k, v in params.items())
    r = client.get(f"/api/v1/search?q={quote(q)}" + ("&" + qs if qs else ""))
    assert r.status == 200, r
    return r.json()


def post_ids(result):
    return [x["post_id"] for x in result["items"]]


@pytest.fixture(scope="module")
def corpus(member, other):
    """A small forum: English and French cases, one of each kind the tests look for."""
    t1, p1 = new_thread(member, f"Tapering opioids in rural practice {N}",
                        f"We are tapering a patient slowly over months. {N}", tags=["opioids"])
    p2 = reply(other, t1, f"Chronic pain clinics helped; the taper went well. {N}")
    p3 = reply(member, t1, f"Pain that is chronic needs patience, not a pill. {N}")
    t2, p4 = new_thread(other, f"Douleurs à l'épaule {N}",
                        f"Les douleurs chroniques de l'épaule et les médicaments. {N}",
                        slug="mental-health")
    p5 = reply(member, t2, f"Gabapentin or pregabalin for the neuropathic part? {N}")
    return {"t1": t1, "t2": t2, "p1": p1, "p2": p2, "p3": p3, "p4": p4, "p5": p5}


def test_english_stemming_finds_other_forms(member, corpus):
    ids = post_ids(search(member, f"tapered {N}"))
    # "tapering" in p1's title and body, "taper" in p2
    assert set(ids) == {corpus["p1"]["id"], corpus["p2"]["id"]}


def test_french_stemming_and_accents(member, corpus):
    # "douleur" (singular) finds "Douleurs"; "epaule" without its accent finds "épaule"
    assert post_ids(search(member, f"douleur {N}")) == [corpus["p4"]["id"]]
    assert post_ids(search(member, f"epaule {N}")) == [corpus["p4"]["id"]]
    # and the accented spelling finds it as well; "medicament" finds "médicaments"
    assert post_ids(search(member, f"épaules {N}")) == [corpus["p4"]["id"]]
    assert post_ids(search(member, f"medicament {N}")) == [corpus["p4"]["id"]]


def test_phrases_or_and_exclusion(member, corpus):
    # the phrase matches the words in that order only
    assert post_ids(search(member, f'"chronic pain" {N}')) == [corpus["p2"]["id"]]
    assert set(post_ids(search(member, f"chronic pain {N}"))) == {corpus["p2"]["id"],
                                                                  corpus["p3"]["id"]}
    assert set(post_ids(search(member, f"{N} gabapentin OR {N} clinics"))) == {
        corpus["p2"]["id"], corpus["p5"]["id"]}
    assert post_ids(search(member, f"chronic pain -clinic {N}")) == [corpus["p3"]["id"]]
    # leaving a phrase out keeps the posts that have its words apart
    assert post_ids(search(member, f'chronic pain {N} -"chronic pain"')) == [corpus["p3"]["id"]]


def test_hyphenated_words(member, other):
    """A hyphenated word is looked for by the index as the whole word (schema/0018) and
    checked as typed: the whole finds it, in English and French, with a filter, left out
    with -word; its parts apart do not make a match for the whole."""
    w = N + "h"
    _, a = new_thread(member, f"Follow-up after the rendez-vous {w}",
                      f"The follow-up visit is booked; a self-harm screen was done. {w}")
    _, b = new_thread(other, f"Follow the plan {w}",
                      f"We follow it up weekly, and harm to self is assessed. {w}",
                      slug="mental-health")
    _, c = new_thread(other, f"Suivi {w}", f"Le rendez-vous de suivi est pris. {w}",
                      slug="mental-health")
    assert post_ids(search(member, f"follow-up {w}")) == [a["id"]]
    assert post_ids(search(member, f"self-harm {w}")) == [a["id"]]
    assert set(post_ids(search(member, f"rendez-vous {w}"))) == {a["id"], c["id"]}
    assert post_ids(search(member, f"rendez-vous {w}", category="mental-health")) == [c["id"]]
    assert set(post_ids(search(member, f"{w} -follow-up"))) == {b["id"], c["id"]}
    assert set(post_ids(search(member, f"{w} rendez-vous OR {w} follow-up"))) == {
        a["id"], c["id"]}
    # a quoted phrase with one keeps its order
    assert post_ids(search(member, f'"follow-up visit" {w}')) == [a["id"]]
    assert post_ids(search(member, f'"visit follow-up" {w}')) == []
    # the snippet marks the word
    item = search(member, f"follow-up {w}")["items"][0]
    assert "<mark>" in item["snippet"] and "<mark>" in item["title_html"]


def test_a_title_match_ranks_above_a_body_match(member, corpus):
    r = search(member, f"opioids {N}")
    # the title (weight A) and the tag-less body: only the first post carries the title
    assert post_ids(r)[0] == corpus["p1"]["id"]
    items = search(member, f"taper {N}")["items"]
    assert [x["post_id"] for x in items] == [corpus["p1"]["id"], corpus["p2"]["id"]]
    assert items[0]["rank"] > items[1]["rank"] > 0


def test_items_carry_the_thread_and_marked_snippets(member, corpus):
    item = search(member, f"gabapentin {N}")["items"][0]
    assert item["thread_id"] == corpus["t2"]["id"] and item["post_id"] == corpus["p5"]["id"]
    assert item["title"] == f"Douleurs à l'épaule {N}"
    assert item["title_html"] == f"Douleurs à l&#39;épaule <mark>{N}</mark>"
    assert "<mark>Gabapentin</mark>" in item["snippet"]
    assert item["space"] == {"type": "category", "id": corpus["t2"]["space"]["id"]}
    assert item["author"]["id"] == corpus["p5"]["author"]["id"]
    assert item["post_number"] == 2 and item["state"] == "visible"
    assert item["created_at"].endswith("Z")


def test_snippets_are_html_safe(member):
    t, p = new_thread(member, f"Markup in a case {N} xssprobe",
                      f'<script>alert(1)</script> <img src=x onerror=alert(2)> "quoted" & '
                      f"xssprobe {N} \ue000fake\ue001 marks")
    item = search(member, f"xssprobe {N}")["items"][0]
    s = item["snippet"]
    # ts_headline leaves tags out; whatever remains of them is escaped
    assert "<script" not in s and "<img" not in s and "alert" in s
    assert "&quot;quoted&quot; &amp;" in s
    # the only tags are the marks, balanced; private-use characters cannot forge one
    assert s.replace("<mark>", "").replace("</mark>", "").count("<") == 0
    assert s.count("<mark>") == s.count("</mark>") >= 1
    assert "\ue000" not in s and "\ue001" not in s
    assert "<mark>xssprobe</mark>" in s


def test_filters(member, other, corpus, admin):
    base = f"{N}"
    everything = set(post_ids(search(member, base, limit=100)))
    assert {corpus[k]["id"] for k in ("p1", "p2", "p3", "p4", "p5")} <= everything
    by_cat = set(post_ids(search(member, base, category="mental-health", limit=100)))
    assert by_cat == {corpus["p4"]["id"], corpus["p5"]["id"]}
    cat_id = corpus["t2"]["space"]["id"]
    assert set(post_ids(search(member, base, category=cat_id, limit=100))) == by_cat
    assert search(member, base, category="no-such-category")["items"] == []
    by_author = set(post_ids(search(member, base, author=other.id, limit=100)))
    assert by_author == {corpus["p2"]["id"], corpus["p4"]["id"]}
    by_tag = set(post_ids(search(member, base, tag="opioids", limit=100)))
    assert by_tag == {corpus["p1"]["id"], corpus["p2"]["id"], corpus["p3"]["id"]}
    # dates: move p3 into the past; a date range covers whole days (UTC)
    psql(DATABASE_URL, "UPDATE posts SET created_at = '2026-01-15 23:30:00+00' "
         f"WHERE id = {corpus['p3']['id']}")
    assert post_ids(search(member, base, **{"from": "2026-01-15", "to": "2026-01-15"})) == [
        corpus["p3"]["id"]]
    assert post_ids(search(member, base, **{"from": "2026-01-16", "to": "2026-01-20"})) == []
    assert post_ids(search(member, base, to="2026-01-15T23:00:00Z")) == []
    assert post_ids(search(member, base, to="2026-01-16T00:00:00+01:00", limit=100)) == []
    assert post_ids(search(member, base, to="2026-01-15T19:00:00-05:00", limit=100)) == [
        corpus["p3"]["id"]]
    assert corpus["p3"]["id"] not in post_ids(search(member, base, **{"from": "2026-02-01"},
                                                     limit=100))


def test_keyset_pages_walk_every_hit_once(member):
    t, first = new_thread(member, f"Paging case {N} pagingword", f"pagingword {N} first")
    ids = {first["id"]}
    for i in range(6):
        ids.add(reply(member, t, f"pagingword {N} reply {i} " + "pagingword " * i)["id"])
    seen, cursor, pages = [], None, 0
    while True:
        r = search(member, f"pagingword {N}", limit=2, **({"cursor": cursor} if cursor else {}))
        seen += post_ids(r)
        pages += 1
        ranks = [x["rank"] for x in r["items"]]
        assert ranks == sorted(ranks, reverse=True)
        cursor = r["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == len(ids) and pages == 4


def test_vectors_follow_every_write(member, admin):
    t, first = new_thread(member, f"Old heading {N} oldtitleword", f"originalword {N}")
    p = reply(member, t, f"replyword {N}")
    # an edit replaces the body's words
    r = member.call("PATCH", f"/api/v1/posts/{p['id']}", body={"body": f"editedword {N}",
                                                                "version": 1})
    assert r.status == 200, r
    assert post_ids(search(member, f"replyword {N}")) == []
    assert post_ids(search(member, f"editedword {N}")) == [p["id"]]
    # a new title is found on the first post, the old one no longer
    r = member.call("PATCH", f"/api/v1/threads/{t['id']}", body={"title": f"New heading {N} "
                                                                          "newtitleword"})
    assert r.status == 200, r
    assert post_ids(search(member, f"oldtitleword {N}")) == []
    assert post_ids(search(member, f"newtitleword {N}")) == [first["id"]]
    # a deleted post is gone for members; moderators still find it, marked deleted
    assert member.call("DELETE", f"/api/v1/posts/{p['id']}").status == 204
    assert post_ids(search(member, f"editedword {N}")) == []
    items = search(admin, f"editedword {N}")["items"]
    assert [x["post_id"] for x in items] == [p["id"]] and items[0]["state"] == "deleted"


def test_hidden_posts_only_for_moderators(member, other, admin):
    t, first = new_thread(member, f"Hidden case {N}", f"hiddenword {N} first")
    p = reply(other, t, f"hiddenword {N} to hide")
    r = admin.call("POST", f"/api/v1/posts/{p['id']}/hide", body={"reason": "identifiers"})
    assert r.status == 200, r
    assert post_ids(search(member, f"hiddenword {N}")) == [first["id"]]
    assert post_ids(search(other, f"hiddenword {N}")) == [first["id"]]  # even its author
    assert set(post_ids(search(admin, f"hiddenword {N}"))) == {first["id"], p["id"]}


def test_a_group_filter_on_a_group_one_does_not_read_is_404(server, member, admin):
    g = admin.call("POST", "/api/v1/groups", body={"network": "NS", "name": "Search group"})
    assert g.status == 201, g
    problem(member.get(f"/api/v1/search?q={N}&group={g.json()['id']}"), 404, "not_found")
    assert admin.get(f"/api/v1/search?q={N}&group={g.json()['id']}").status == 200


def test_a_query_without_words_finds_nothing(member, corpus):
    # nothing to look for, or only words to leave out: nothing found (such a query
    # would otherwise rank every post)
    for q in ("-", "!!! ???", '""', "-opioids", f"-{N}", f"gabapentin OR -{N}"):
        assert search(member, q)["items"] == [], q


@pytest.mark.parametrize("query", [
    "", "q=", "q=%20%20", "q=" + "a" * 501, "q=x%01y", f"q={N}&limit=0", f"q={N}&limit=101",
    f"q={N}&group=abc", f"q={N}&group=0", f"q={N}&author=-3",
    f"q={N}&tag=Bad_Tag", f"q={N}&from=2026-02-30", f"q={N}&to=2026-13-01",
    f"q={N}&from=2026-11-22T25:00:00Z", f"q={N}&from=2026-11-22T10:00:00",
    f"q={N}&to=yesterday", f"q={N}&category=x&group=1", f"q={N}&from=2025-02-29",
    f"q={N}&from=2026-11-22T10:00:00%2B16:00",
])
def test_bad_parameters_are_400(member, query):
    problem(member.get("/api/v1/search?" + query), 400, "invalid_query")


def test_a_cursor_not_ours_is_400(member):
    problem(member.get(f"/api/v1/search?q={N}&cursor=nope"), 400, "invalid_cursor")
    problem(member.get(f"/api/v1/search?q={N}&cursor=MQ"), 400, "invalid_cursor")  # one part


def test_good_dates_are_accepted(member):
    for d in ("2024-02-29", "2026-11-22T21:40:00.123Z", "2026-11-22T21:40:00-05:00",
              "2026-11-22T21:40:00+15:59"):
        assert member.get(f"/api/v1/search?q={N}&from={quote(d)}").status == 200, d


def test_search_needs_a_session(server):
    problem(server.request("GET", f"/api/v1/search?q={N}"), 401, "unauthenticated")
