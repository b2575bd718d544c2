"""Reports for funders (roadmap step 6, SPEC section 10): GET /reports/summary in JSON and
CSV, for a period and a network; coordinators their own network, admins any or all."""
import datetime
import time

import pytest

from harness import DATABASE_URL, Client, create_admin, problem, psql, register


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.fixture(scope="module")
def world(server):
    t0 = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=1)
    admin = Client(server, create_admin()).accept_guidelines()
    c = {"admin": admin,
         "coordinator": register(server, admin, network="ON",
                                 role="coordinator").accept_guidelines(),
         "coordinator_ns": register(server, admin, network="NS",
                                    role="coordinator").accept_guidelines(),
         "moderator": register(server, admin, network="ON", role="moderator").accept_guidelines(),
         "mentor": register(server, admin, network="ON", name="Report Mentor",
                            profession="psychiatrist").accept_guidelines(),
         "mentee": register(server, admin, network="ON", name="Report Mentee",
                            profession="nurse_practitioner").accept_guidelines()}
    g = admin.call("POST", "/api/v1/groups", body={"network": "ON", "name": "Report group"}).json()
    for who, role in (("mentor", "mentor"), ("mentee", "mentee")):
        assert admin.call("PUT", f"/api/v1/groups/{g['id']}/members/{c[who].id}",
                          body={"role": role}).status == 200
    r = c["mentee"].call("POST", "/api/v1/threads", body={
        "group_id": g["id"], "title": "Report case", "body": "A case for the report."})
    t = r.json()["thread"]
    assert c["mentor"].call("POST", f"/api/v1/threads/{t['id']}/posts",
                            body={"body": "An answer."}).status == 201
    cat = c["mentee"].get("/api/v1/categories/chronic-pain").json()
    forum = c["mentee"].call("POST", "/api/v1/threads", body={
        "category_id": cat["id"], "title": "Report forum case", "body": "In the forum."}).json()
    assert c["mentor"].call("POST", f"/api/v1/posts/{forum['post']['id']}/flags",
                            body={"reason": "off_topic"}).status == 201
    assert c["moderator"].call("POST",
                               f"/api/v1/moderation/posts/{forum['post']['id']}/decision",
                               body={"action": "keep"}).status == 200
    # a meeting held an hour ago (meetings are planned ahead, so written here directly)
    psql(DATABASE_URL, "INSERT INTO meetings (group_id, starts_at, duration_minutes, mode, "
         f"created_by) VALUES ({g['id']}, now() - interval '1 second', 60, 'video', "
         f"{c['mentor'].id})")
    time.sleep(0.01)
    c["from"], c["to"] = iso(t0), iso(datetime.datetime.now(datetime.timezone.utc)
                                      + datetime.timedelta(seconds=1))
    return c


def test_a_coordinator_reports_on_their_network(world):
    r = world["coordinator"].get(f"/api/v1/reports/summary?from={world['from']}&to={world['to']}")
    assert r.status == 200, r
    rep = r.json()
    assert rep["network"] == "ON"
    members = {(m["network"], m["profession"]): m["members"] for m in rep["active_members"]}
    assert members[("ON", "psychiatrist")] >= 1 and members[("ON", "nurse_practitioner")] >= 1
    assert all(n == "ON" for n, _ in members)
    activity = {(a["space"], a["category"]): (a["threads"], a["posts"]) for a in rep["activity"]}
    assert activity[("group", None)] == (1, 2)
    assert activity[("category", "chronic-pain")] == (1, 1)
    fr = rep["first_response"]
    assert (fr["clocks"], fr["answered"], fr["waiting"]) == (1, 1, 0)
    assert fr["median_seconds"] >= 0 and fr["p90_seconds"] >= fr["median_seconds"]
    assert float(fr["within_72h_share"]) == 1.0
    assert rep["flags"]["raised"] == 1 and rep["flags"]["resolved"] == 1
    assert rep["flags"]["by_reason"] == {"off_topic": 1}
    assert rep["meetings"] == {"held": 1, "groups": 1, "minutes": 60}
    # the same period for another network shows none of it
    ns = world["coordinator_ns"].get(
        f"/api/v1/reports/summary?from={world['from']}&to={world['to']}").json()
    assert ns["network"] == "NS" and ns["activity"] == [] and ns["meetings"]["held"] == 0


def test_who_may_report_on_what(world):
    period = f"from={world['from']}&to={world['to']}"
    problem(world["coordinator"].get(f"/api/v1/reports/summary?network=NS&{period}"), 403,
            "forbidden")
    problem(world["moderator"].get(f"/api/v1/reports/summary?{period}"), 403, "forbidden")
    problem(world["mentee"].get(f"/api/v1/reports/summary?{period}"), 403, "forbidden")
    everyone = world["admin"].get(f"/api/v1/reports/summary?{period}").json()
    assert everyone["network"] is None
    on = world["admin"].get(f"/api/v1/reports/summary?network=on&{period}").json()
    assert on["network"] == "ON" and on["first_response"]["clocks"] == 1
    problem(world["admin"].get("/api/v1/reports/summary?network=ZZ"), 404, "network_unknown")
    for bad in ("from=yesterday", f"from={world['to']}&to={world['from']}",
                "from=2000-01-01&to=2026-01-01", "network="):
        r = world["admin"].get(f"/api/v1/reports/summary?{bad}")
        assert r.status == 400, (bad, r)


def test_the_report_as_csv(world):
    r = world["coordinator"].get(f"/api/v1/reports/summary?from={world['from']}&to={world['to']}",
                                 headers={"Accept": "text/csv"})
    assert r.status == 200, r
    assert r.headers["content-type"].startswith("text/csv")
    lines = r.body.decode().split("\r\n")
    assert lines[0] == "section,dimension,value"
    rows = {tuple(line.split(",")[:2]): line.split(",")[2] for line in lines[1:] if line}
    assert rows[("period", "network")] == "ON"
    assert rows[("threads", "group")] == "1" and rows[("posts", "group")] == "2"
    assert rows[("first_response", "answered")] == "1"
    assert rows[("flags", "by_reason/off_topic")] == "1"
    assert rows[("meetings", "held")] == "1"
    assert rows[("active_members", "ON/psychiatrist")] >= "1"
