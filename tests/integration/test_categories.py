"""The national forum's categories (roadmap step 3, SPEC section 4 "Structure"): seeded in
English and French, ordered, readable by every member; admins create and edit them, logged."""
import json

import pytest

from harness import DATABASE_URL, Client, create_admin, problem, psql, register


@pytest.fixture(scope="module")
def member(server, admin):
    return register(server, admin, network="NB").accept_guidelines()


def categories(client):
    r = client.get("/api/v1/categories")
    assert r.status == 200, r
    return r.json()["items"]


def test_the_five_seeded_categories_are_listed_in_order_in_both_languages(member):
    items = categories(member)
    slugs = [c["slug"] for c in items]
    seeded = ["chronic-pain", "mental-health", "substance-use", "mentoring-practice", "general"]
    assert slugs[:5] == seeded
    pain = items[0]
    assert pain["name"] == {"en": "Chronic pain", "fr": "Douleur chronique"}
    assert pain["description"]["en"] and pain["description"]["fr"]
    assert isinstance(pain["id"], int) and isinstance(pain["thread_count"], int)
    assert "last_post_at" in pain
    positions = [c["position"] for c in items]
    assert positions == sorted(positions)


def test_categories_need_a_session_and_carry_an_etag(server, member):
    problem(server.get("/api/v1/categories"), 401, "unauthenticated")
    r = member.get("/api/v1/categories")
    etag = r.headers["etag"]
    again = member.get("/api/v1/categories", headers={"If-None-Match": etag})
    assert again.status == 304 and again.body == b""


def test_a_category_by_id_or_slug_and_404_otherwise(member):
    pain = categories(member)[0]
    assert member.get(f"/api/v1/categories/{pain['id']}").json() == pain
    assert member.get("/api/v1/categories/chronic-pain").json() == pain
    problem(member.get("/api/v1/categories/999999999"), 404, "not_found")
    problem(member.get("/api/v1/categories/no-such-thing"), 404, "not_found")
    problem(member.get("/api/v1/categories/0"), 404, "not_found")


def test_admin_creates_a_category_and_it_is_logged(admin, member):
    body = {"slug": "perinatal-care", "name": {"en": "Perinatal care", "fr": "Soins périnatals"},
            "description": {"en": "Pregnancy and postpartum.", "fr": "Grossesse et post-partum."}}
    r = admin.call("POST", "/api/v1/categories", body=body)
    assert r.status == 201, r
    c = r.json()
    assert c["slug"] == "perinatal-care" and c["name"]["fr"] == "Soins périnatals"
    assert c["thread_count"] == 0 and c["last_post_at"] is None
    assert c["position"] > max(x["position"] for x in categories(member) if x["id"] != c["id"])
    assert categories(member)[-1]["id"] == c["id"]
    log = psql(DATABASE_URL, "SELECT action || ' ' || actor_id || ' ' || (after->>'slug') FROM "
               f"moderation_log WHERE target_type = 'category' AND target_id = {c['id']}")
    assert log == f"category.create {admin.id} perinatal-care"
    problem(admin.call("POST", "/api/v1/categories", body=body), 409, "slug_taken")


def test_admin_edits_a_category_by_id_or_slug_with_before_and_after_logged(admin, member):
    r = admin.call("POST", "/api/v1/categories", body={
        "slug": "geriatrics", "name": {"en": "Older adults", "fr": "Aînés"}, "position": 500})
    cid = r.json()["id"]
    r = admin.call("PATCH", f"/api/v1/categories/{cid}",
                   body={"name": {"fr": "Personnes âgées"}, "position": 7})
    assert r.status == 200, r
    assert r.json()["name"] == {"en": "Older adults", "fr": "Personnes âgées"}
    assert r.json()["position"] == 7
    r = admin.call("PATCH", "/api/v1/categories/geriatrics", body={"slug": "older-adults"})
    assert r.status == 200 and r.json()["slug"] == "older-adults"
    assert member.get("/api/v1/categories/older-adults").json()["id"] == cid
    rows = psql(DATABASE_URL, "SELECT json_agg(json_build_object('b', before, 'a', after) ORDER BY "
                f"id) FROM moderation_log WHERE target_type = 'category' AND target_id = {cid} "
                "AND action = 'category.update'")
    changes = json.loads(rows)
    assert changes[0]["b"]["name"]["fr"] == "Aînés"
    assert changes[0]["a"]["name"]["fr"] == "Personnes âgées"
    assert changes[1]["b"]["slug"] == "geriatrics" and changes[1]["a"]["slug"] == "older-adults"
    problem(admin.call("PATCH", "/api/v1/categories/999999999", body={"position": 1}), 404,
            "not_found")
    problem(admin.call("PATCH", f"/api/v1/categories/{cid}", body={"slug": "general"}), 409,
            "slug_taken")


@pytest.mark.parametrize("body,field,code", [
    ({"name": {"en": "X", "fr": "X"}}, "slug", "required"),
    ({"slug": "Bad Slug", "name": {"en": "X", "fr": "X"}}, "slug", "invalid"),
    ({"slug": "-x", "name": {"en": "X", "fr": "X"}}, "slug", "invalid"),
    ({"slug": "a--b", "name": {"en": "X", "fr": "X"}}, "slug", "invalid"),
    ({"slug": "12345", "name": {"en": "X", "fr": "X"}}, "slug", "invalid"),
    ({"slug": "x" * 41, "name": {"en": "X", "fr": "X"}}, "slug", "too_long"),
    ({"slug": "ok-slug"}, "name", "required"),
    ({"slug": "ok-slug", "name": "Pain"}, "name", "not_an_object"),
    ({"slug": "ok-slug", "name": {"en": "Pain"}}, "name.fr", "required"),
    ({"slug": "ok-slug", "name": {"en": "", "fr": "Douleur"}}, "name.en", "required"),
    ({"slug": "ok-slug", "name": {"en": "P" * 61, "fr": "D"}}, "name.en", "too_long"),
    ({"slug": "ok-slug", "name": {"en": "P", "fr": 5}}, "name.fr", "not_a_string"),
    ({"slug": "ok-slug", "name": {"en": "P", "fr": "D"}, "description": {"en": "d" * 501}},
     "description.en", "too_long"),
    ({"slug": "ok-slug", "name": {"en": "P", "fr": "D"}, "position": -1}, "position",
     "out_of_range"),
    ({"slug": "ok-slug", "name": {"en": "P", "fr": "D"}, "position": "1"}, "position",
     "not_an_integer"),
])
def test_bad_categories_are_refused_and_change_nothing(admin, member, body, field, code):
    before = categories(member)
    r = admin.call("POST", "/api/v1/categories", body=body)
    p = problem(r, 422, "validation_failed")
    assert any(e["field"] == field and e["code"] == code for e in p["errors"]), p
    assert categories(member) == before


def test_only_admins_create_or_edit_categories(member, server, admin):
    coordinator = register(server, admin, network="PE", role="coordinator").accept_guidelines()
    moderator = register(server, admin, network="PE", role="moderator").accept_guidelines()
    body = {"slug": "not-allowed", "name": {"en": "No", "fr": "Non"}}
    before = categories(member)
    for who in (member, coordinator, moderator):
        problem(who.call("POST", "/api/v1/categories", body=body), 403, "forbidden")
        problem(who.call("PATCH", "/api/v1/categories/general", body={"position": 1}), 403,
                "forbidden")
    assert categories(member) == before
    problem(admin.call("PATCH", "/api/v1/categories/general", body={}), 422, "validation_failed")


def test_names_are_stored_as_text_never_as_markup(admin, member):
    name = {"en": "<script>alert(1)</script>", "fr": "<img src=x onerror=alert(1)>"}
    r = admin.call("POST", "/api/v1/categories", body={"slug": "markup-test", "name": name})
    assert r.status == 201, r
    assert member.get("/api/v1/categories/markup-test").json()["name"] == name
