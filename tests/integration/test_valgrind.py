"""Roadmap step 9, item 5: a short server session under valgrind (memcheck), on a build
without sanitizers (scripts/test builds it in build-vg/ and names it in
CONFER_TEST_VALGRIND_BIN): signing in, a thread and a reply with Markdown and a
mention, reading, searching, a live event stream, a refused request or two, signing
out, then SIGTERM. valgrind must report no invalid access, no use of uninitialised
memory and no memory definitely or indirectly lost."""
import os
import re
import signal
import subprocess
import time

import pytest

from harness import (DATABASE_URL, STRONG_PASSWORD, TMP, WEB_ROOT, EventStream, create_admin, free_port,
                     request)

VG_BIN = os.environ.get("CONFER_TEST_VALGRIND_BIN", "")


@pytest.mark.skipif(not VG_BIN, reason="scripts/test sets CONFER_TEST_VALGRIND_BIN")
def test_a_short_session_under_valgrind_has_no_error_and_no_leak():
    port = free_port()
    log = os.path.join(TMP, f"valgrind-{os.getpid()}.log")
    env = dict(os.environ)
    env.pop("ASAN_OPTIONS", None)
    env.update({"CONFER_DATABASE_URL": DATABASE_URL, "CONFER_LISTEN": f"127.0.0.1:{port}",
                "CONFER_WORKERS": "2", "CONFER_RATE_LIMITS": "off", "CONFER_LOG_LEVEL": "warn",
                "CONFER_SSE_HEARTBEAT": "1", "CONFER_WEB_ROOT": WEB_ROOT})
    proc = subprocess.Popen(
        ["valgrind", "--tool=memcheck", "--leak-check=full", "--show-leak-kinds=definite,indirect",
         "--errors-for-leak-kinds=definite,indirect", "--error-exitcode=99", "--track-fds=no",
         f"--log-file={log}", VG_BIN, "serve"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            assert proc.poll() is None, open(log).read()[-3000:]
            try:
                if request(port, "GET", "/readyz", timeout=5).status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        else:
            pytest.fail("confer under valgrind did not become ready")
        email = create_admin()
        r = request(port, "POST", "/api/v1/sessions", body={"email": email, "password": STRONG_PASSWORD},
                    timeout=120)
        assert r.status == 201, r
        token = r.json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        g = request(port, "GET", "/api/v1/guidelines").json()
        assert request(port, "POST", "/api/v1/me/guidelines", body={"version": g["version"]},
                       headers=auth).status == 200
        cats = request(port, "GET", "/api/v1/categories", headers=auth).json()["items"]
        r = request(port, "POST", "/api/v1/threads", headers=auth, timeout=60, body={
            "category_id": cats[0]["id"], "title": "Valgrind session thread",
            "body": "**Tapering** plan: [guide](https://example.ca) and `code`.", "kind": "case"})
        assert r.status == 201, r
        tid = r.json()["thread"]["id"]
        events = EventStream(port, f"/api/v1/events?thread={tid}", token=token, timeout=60)
        assert events.status == 200
        r = request(port, "POST", f"/api/v1/threads/{tid}/posts", headers=auth, timeout=60,
                    body={"body": "A reply, with a phone 604-555-0199.", "acknowledge_privacy": True})
        assert r.status == 201, r
        assert any(e.get("event") == "post.created" for e in events.events(1, timeout=30))
        events.close()
        assert request(port, "GET", f"/api/v1/threads/{tid}?order=tree", headers=auth).status == 200
        assert request(port, "GET", "/api/v1/search?q=tapering", headers=auth, timeout=60).status == 200
        assert request(port, "POST", "/api/v1/preview", headers=auth, body={"body": "x"}).status == 200
        assert request(port, "GET", "/api/v1/threads/999999999", headers=auth).status == 404
        assert request(port, "POST", "/api/v1/preview", raw=b"{bad",
                       headers={**auth, "Content-Type": "application/json"}).status == 400
        assert request(port, "GET", "/index.html").status == 200
        assert request(port, "DELETE", "/api/v1/sessions/current", headers=auth).status == 204
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
    text = open(log).read()
    summary = re.search(r"ERROR SUMMARY: (\d+) errors", text)
    assert summary and summary.group(1) == "0", text[-6000:]
    assert rc == 0, f"exit {rc}\n{text[-6000:]}"
    for kind in ("definitely lost", "indirectly lost"):
        m = re.search(kind + r": ([\d,]+) bytes", text)
        assert m is None or m.group(1) == "0", text[-6000:]
