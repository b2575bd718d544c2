"""The patient-privacy guard through the API (roadmap step 5, SPEC section 6): titles and
bodies are scanned on create, edit and preview; block refuses with no override, warn
refuses unless acknowledged (and the post records the acknowledgement); POST
/privacy/check gives the same findings for live feedback."""
import json

import pytest

from harness import DATABASE_URL, Client, create_admin, problem, psql, register

BC_PHN = "9698 658 215"          # valid mod-11 check digit
ONTARIO = "1234-567-897-AB"     # Luhn, with a version code
VALID_SIN = "130 692 544"       # Luhn, first digit neither 0 nor 8


@pytest.fixture(scope="module")
def cast(server, admin):
    c = {"writer": register(server, admin, network="NB", name="Guard Writer",
                            locale="fr").accept_guidelines(),
         "moderator": register(server, admin, network="BC",
                               role="moderator").accept_guidelines()}
    c["category"] = c["writer"].get("/api/v1/categories/general").json()
    return c


def thread_count():
    return int(psql(DATABASE_URL, "SELECT count(*) FROM threads"))


def new_thread(cast, title="A de-identified case", body="A 52-year-old on 2-4 mg q4h.", **kw):
    return cast["writer"].call("POST", "/api/v1/threads", body={
        "category_id": cast["category"]["id"], "title": title, "body": body, **kw})


def test_privacy_check_reports_kind_severity_offsets_and_excerpt(cast):
    text = ("PHN 9698 658 215 noté au formulaire. Revu M. Gagnon hier avec sa fille "
            "et son pharmacien; téléphone 514-555-0147.")
    r = cast["writer"].call("POST", "/api/v1/privacy/check", body={"text": text})
    assert r.status == 200, r
    out = r.json()
    assert out["worst"] == "block"
    found = {(f["kind"], f["severity"], text[f["start"]:f["end"]]) for f in out["findings"]}
    assert found == {("name", "warn", "Gagnon"), ("phone", "warn", "514-555-0147"),
                     ("bc_phn", "block", BC_PHN)}
    phn = [f for f in out["findings"] if f["kind"] == "bc_phn"][0]
    assert phn["province"] == "BC" and BC_PHN in phn["excerpt"]
    # offsets count characters: "é" is one, though two bytes
    assert text[phn["start"]:phn["end"]] == BC_PHN
    clean = cast["writer"].call("POST", "/api/v1/privacy/check", body={
        "text": "52-year-old, PHQ-9 18, seen 2026-03-14, methadone 80 mg, taper 1-0-1."}).json()
    assert clean == {"findings": [], "worst": None, "truncated": False}


def test_privacy_check_refuses_bad_input_and_strangers(cast, server):
    problem(cast["writer"].call("POST", "/api/v1/privacy/check", body={}), 422,
            "validation_failed")
    problem(cast["writer"].call("POST", "/api/v1/privacy/check", body={"text": 12}), 422,
            "validation_failed")
    problem(cast["writer"].call("POST", "/api/v1/privacy/check", body={"text": "x" * 50001}),
            422, "validation_failed")
    assert server.request("POST", "/api/v1/privacy/check", body={"text": "x"}).status == 401


def test_a_health_number_blocks_the_post_even_when_acknowledged(cast):
    before = thread_count()
    for ack in (False, True):
        p = problem(new_thread(cast, body=f"Her PHN is {BC_PHN}.", acknowledge_privacy=ack),
                    422, "privacy_blocked")
        assert [(f["kind"], f["field"]) for f in p["findings"]] == [("bc_phn", "body")]
    p = problem(new_thread(cast, body=f"OHIP {ONTARIO}, SIN {VALID_SIN}"), 422,
                "privacy_blocked")
    assert {f["kind"] for f in p["findings"]} == {"ontario_health_number", "sin"}
    p = problem(new_thread(cast, body="RAMQ: TREM 6512 2519"), 422, "privacy_blocked")
    assert p["findings"][0]["kind"] == "health_card_number"
    assert p["findings"][0]["province"] == "QC"
    assert thread_count() == before  # nothing was written


def test_a_warning_needs_acknowledging_and_is_recorded(cast):
    before = thread_count()
    p = problem(new_thread(cast, title="Mme Tremblay, douleur chronique"), 422,
                "privacy_warning")
    assert [(f["kind"], f["field"]) for f in p["findings"]] == [("name", "title")]
    assert thread_count() == before
    r = new_thread(cast, body="DOB 1984-03-12, low back pain.", acknowledge_privacy=True)
    assert r.status == 201, r
    assert r.json()["post"]["privacy_acknowledged"] is True
    # a clean text records no acknowledgement, asked for or not
    r = new_thread(cast, acknowledge_privacy=True)
    assert r.status == 201 and r.json()["post"]["privacy_acknowledged"] is False
    problem(new_thread(cast, acknowledge_privacy="yes"), 422, "validation_failed")


def test_replies_edits_titles_and_conversations_are_scanned(cast, admin):
    t = new_thread(cast).json()
    tid, first = t["thread"]["id"], t["post"]
    w = cast["writer"]
    problem(w.call("POST", f"/api/v1/threads/{tid}/posts",
                   body={"body": "Call her at (604) 555-0182."}), 422, "privacy_warning")
    r = w.call("POST", f"/api/v1/threads/{tid}/posts",
               body={"body": "Call her at (604) 555-0182.", "acknowledge_privacy": True})
    assert r.status == 201 and r.json()["privacy_acknowledged"] is True
    # an edit that adds a SIN is refused and changes nothing
    problem(w.call("PATCH", f"/api/v1/posts/{first['id']}",
                   body={"body": f"SIN {VALID_SIN}", "version": 1,
                         "acknowledge_privacy": True}), 422, "privacy_blocked")
    assert w.get(f"/api/v1/posts/{first['id']}").json()["version"] == 1
    # a title edit with a postal code warns; acknowledged, the first post records it
    problem(w.call("PATCH", f"/api/v1/threads/{tid}", body={"title": "Case near H2X 1Y4"}),
            422, "privacy_warning")
    r = w.call("PATCH", f"/api/v1/threads/{tid}",
               body={"title": "Case near H2X 1Y4", "acknowledge_privacy": True})
    assert r.status == 200 and r.json()["title"] == "Case near H2X 1Y4"
    assert w.get(f"/api/v1/posts/{first['id']}").json()["privacy_acknowledged"] is True
    # conversations too
    mod = cast["moderator"]
    p = problem(w.call("POST", "/api/v1/conversations", body={
        "participant_ids": [mod.id], "title": "Question",
        "body": "Écrivez-moi : j.tremblay@example.ca"}), 422, "privacy_warning")
    assert p["findings"][0]["kind"] == "email"


def test_preview_shows_the_findings_without_refusing(cast):
    r = cast["writer"].call("POST", "/api/v1/preview", body={
        "title": "Mr. Smith", "body": "Né le 1er mars 1984. PHN 9698658215"})
    assert r.status == 200, r
    out = r.json()
    assert out["privacy"]["worst"] == "block"
    kinds = {(f["field"], f["kind"]) for f in out["privacy"]["findings"]}
    assert kinds == {("body", "date_of_birth"), ("body", "bc_phn"), ("title", "name")}
    assert "<p>" in out["html"]
    clean = cast["writer"].call("POST", "/api/v1/preview", body={"body": "Taper 30-20-10 mg."})
    assert clean.json()["privacy"] == {"findings": [], "worst": None}


def test_moderators_see_the_acknowledgement_in_the_queue(cast, admin):
    r = new_thread(cast, body="Ms. Okafor agreed to share this.", acknowledge_privacy=True)
    post = r.json()["post"]
    flagger = register(cast["writer"].server, admin, network="BC").accept_guidelines()
    assert flagger.call("POST", f"/api/v1/posts/{post['id']}/flags",
                        body={"reason": "privacy"}).status == 201
    items = cast["moderator"].get("/api/v1/moderation/queue?limit=100").json()["items"]
    item = [i for i in items if i["post"]["id"] == post["id"]][0]
    assert item["post"]["privacy_acknowledged"] is True
    assert json.dumps(item).count("Okafor") >= 1  # moderators read the text
