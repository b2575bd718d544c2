"""`confer seed-demo` (roadmap step 3, item 9): an empty database becomes a realistic,
de-identified demo community in English and French; a database with members is refused."""
import os
import re
import subprocess

import pytest

from harness import BIN, Client, FreshDatabase, Server, psql

DEMO_PASSWORD = "demo passphrase for confer"


@pytest.fixture(scope="module")
def demo_url():
    db = FreshDatabase("seed")
    yield db.url
    db.drop()


def seed(url):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFER_")}
    env["CONFER_DATABASE_URL"] = url
    return subprocess.run([BIN, "seed-demo"], env=env, capture_output=True, text=True,
                          timeout=300)


def test_seed_demo_fills_an_empty_database_once(demo_url):
    r = seed(demo_url)
    assert r.returncode == 0, r.stderr
    m = re.search(r"seeded (\d+) members, (\d+) threads, (\d+) posts, (\d+) reactions, "
                  r"(\d+) accepted answers", r.stdout)
    assert m, r.stdout
    members, threads, posts, reactions, answers = map(int, m.groups())
    assert members >= 10 and threads >= 200 and posts >= 3 * threads // 2
    assert reactions > 0 and answers > 0
    assert DEMO_PASSWORD in r.stdout
    q = lambda sql: psql(demo_url, sql)  # noqa: E731
    assert q("SELECT count(*) FROM threads") == str(threads)
    assert int(q("SELECT count(DISTINCT network_id) FROM users")) >= 5
    assert int(q("SELECT count(DISTINCT category_id) FROM threads")) == 5
    assert int(q("SELECT count(*) FROM threads WHERE title ~ '[éèàç]'")) >= 30  # French
    assert int(q("SELECT count(*) FROM threads WHERE kind = 'question' "
                 "AND accepted_post_id IS NOT NULL")) == answers
    assert q("SELECT count(*) FROM posts WHERE body_html NOT LIKE '<%'") == "0"
    assert q("SELECT bool_and(created_at < now()) FROM posts") == "t"
    assert q("SELECT count(*) FROM threads t WHERE post_count <> "
             "(SELECT count(*) FROM posts p WHERE p.thread_id = t.id)") == "0"
    assert q("SELECT sum(thread_count) FROM categories") == str(threads)
    # demo content is de-identified: no health numbers, emails or phone numbers in bodies
    assert q(r"SELECT count(*) FROM posts WHERE body ~ '\d{8,}|@[a-z]+\.|\d{3}[- ]\d{4}'") == "0"
    again = seed(demo_url)
    assert again.returncode == 2 and "empty database" in again.stderr
    assert q("SELECT count(*) FROM threads") == str(threads)


def test_demo_accounts_sign_in_and_read_the_forum(demo_url):
    email = psql(demo_url, "SELECT email FROM users WHERE site_role = 'member' ORDER BY id "
                           "LIMIT 1")
    s = Server(database_url=demo_url, workers=1,
               extra_env={"CONFER_RATE_LIMITS": "off"}).start()
    try:
        c = Client(s, email, DEMO_PASSWORD)
        assert c.get("/api/v1/me").json()["guidelines_accepted"] is True
        page = c.get("/api/v1/threads?category=chronic-pain&limit=5").json()
        assert len(page["items"]) == 5 and page["next_cursor"]
        t = c.get(f"/api/v1/threads/{page['items'][0]['id']}?order=tree").json()
        assert t["posts"][0]["body_html"].startswith("<p>")
        assert c.call("POST", f"/api/v1/threads/{t['thread']['id']}/posts",
                      body={"body": "Joining in."}).status == 201
    finally:
        assert s.stop() == 0
