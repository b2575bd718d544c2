"""Hostile HTTP (roadmap step 9, item 2): slow headers and bodies, oversized and
malformed requests, invalid and overlong UTF-8, deeply nested JSON, huge numbers, NUL
bytes, duplicate parameters, path traversal and request smuggling. Each is answered
with a clean 4xx or a closed connection; the server stays up, serves others meanwhile,
and its memory stays flat. test_http.py has the simpler framing cases."""
import json
import os
import re
import socket
import threading
import time

import pytest

from harness import STRONG_PASSWORD, Client, Server, create_admin, raw_exchange, register

TIMEOUT = 2  # CONFER_HTTP_TIMEOUT of this file's server, seconds


@pytest.fixture(scope="module")
def hostile():
    # a small ASan quarantine, so that resident memory shows what the server keeps
    env = {"CONFER_HTTP_TIMEOUT": str(TIMEOUT), "CONFER_RATE_LIMITS": "off",
           "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=1"}
    s = Server(extra_env=env).start()
    admin = Client(s, create_admin())
    admin.accept_guidelines()
    yield s, admin
    assert s.stop() == 0, s.log_text()[-3000:]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def status_of(out):
    m = re.match(rb"HTTP/1\.[01] (\d{3})", out)
    return int(m.group(1)) if m else None


def post_raw(port, path, body, token, extra=b""):
    head = (f"POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n").encode()
    return raw_exchange(port, head + extra + b"\r\n" + body, timeout=5)


def test_slow_headers_are_cut_off_while_others_are_served(hostile):
    server, _ = hostile
    slow = []
    for _ in range(40):  # slowloris: many connections, each a header line now and then
        c = socket.create_connection(("127.0.0.1", server.port))
        c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n")
        slow.append(c)
    # others are served at once meanwhile
    t0 = time.monotonic()
    assert server.get("/healthz").status == 200
    assert time.monotonic() - t0 < 1
    closed = 0
    deadline = time.monotonic() + TIMEOUT + 4
    for c in slow:
        c.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            c.sendall(b"X-Slow: 1\r\n")
            data = c.recv(65536)
            while data:  # an answer (408 or 400) then the close, or the close alone
                assert status_of(data) in (None, 400, 408), data[:100]
                data = c.recv(65536)
            closed += 1
        except (ConnectionResetError, BrokenPipeError):
            closed += 1
        except socket.timeout:
            pass
        finally:
            c.close()
    assert closed == len(slow), f"{len(slow) - closed} slow connections still open"
    assert server.get("/healthz").status == 200


def test_a_slow_body_is_cut_off(hostile):
    server, admin = hostile
    c = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT + 5)
    c.sendall((f"POST /api/v1/threads HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {admin.token}\r\n"
               "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"title\":").encode())
    t0 = time.monotonic()
    try:
        data = c.recv(65536)
        while data:
            assert status_of(data) in (None, 400, 408), data[:100]
            data = c.recv(65536)
    except ConnectionResetError:
        pass
    assert time.monotonic() - t0 < TIMEOUT + 4
    c.close()
    assert server.get("/healthz").status == 200


def test_deeply_nested_json_is_400(hostile):
    server, admin = hostile
    for body in (b"[" * 100000 + b"]" * 100000, b'{"a":' * 50000 + b"1" + b"}" * 50000,
                 b"[" * 200000):
        out = post_raw(server.port, "/api/v1/preview", body, admin.token)
        assert status_of(out) == 400 and b'"invalid_json"' in out, out[:300]


def test_huge_numbers_are_refused_cleanly(hostile):
    server, admin = hostile
    for value in ("1e400", "-1e400", "123456789012345678901234567890", "9223372036854775808",
                  "-9223372036854775809", "0.5", "1e2"):
        body = f'{{"body": "x", "version": {value}}}'.encode()
        out = post_raw(server.port, "/api/v1/preview", body, admin.token)
        assert status_of(out) in (200, 400, 422), (value, out[:300])
    thread = admin.call("POST", "/api/v1/threads", body={
        "category_id": 1, "title": "Numbers", "body": "x", "kind": "discussion"}).json()
    pid = thread["post"]["id"]
    for value in ("1e400", "123456789012345678901234567890", "-1", "1.5"):
        body = f'{{"body": "y", "version": {value}}}'.encode()
        out = raw_exchange(server.port, (
            f"PATCH /api/v1/posts/{pid} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {admin.token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body)
        # the body is whole JSON: the version itself is refused, never a 500
        assert status_of(out) in (400, 409, 422), (value, out[:300])
    # nothing changed
    assert admin.get(f"/api/v1/posts/{pid}").json()["body"] == "x"


def test_nul_bytes_are_refused(hostile):
    server, admin = hostile
    assert status_of(raw_exchange(server.port, b"GET /api/v1/networks%00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")) == 400
    assert status_of(raw_exchange(server.port, b"GET /api/v1/search?q=a%00b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                                  b"Authorization: Bearer " + admin.token.encode() + b"\r\n\r\n")) == 400
    out = raw_exchange(server.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-A: a\x00b\r\n\r\n")
    assert out == b"" or status_of(out) in (200, 400), out[:200]
    # an escaped NUL in a JSON string: jansson refuses it before any handler sees it
    out = post_raw(server.port, "/api/v1/threads",
                   b'{"category_id": 1, "title": "Nul\\u0000title", "body": "x", "kind": "case"}',
                   admin.token)
    assert status_of(out) == 400 and b"invalid_json" in out, out[:300]
    out = post_raw(server.port, "/api/v1/preview", b'{"body": "a\x00b"}', admin.token)
    assert status_of(out) == 400, out[:300]
    assert server.get("/healthz").status == 200


def test_invalid_and_overlong_utf8_are_refused(hostile):
    server, admin = hostile
    for path in (b"/api/v1/%C0%AFnetworks", b"/api/v1/networks/%E0%80%AF", b"/%ED%A0%80",
                 b"/api/v1/networks/%FF", b"/api/v1/\xc0\xafnetworks"):
        out = raw_exchange(server.port, b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert status_of(out) in (400, 404) or out == b"", (path, out[:200])
    for body in (b'{"body": "\xc0\xaf"}', b'{"body": "\xed\xa0\x80"}', b'{"body": "\xf8\x88\x80\x80\x80"}'):
        out = post_raw(server.port, "/api/v1/preview", body, admin.token)
        assert status_of(out) == 400 and b"invalid_json" in out, (body, out[:300])


def test_duplicate_parameters_are_400(hostile):
    server, admin = hostile
    r = admin.get("/api/v1/threads?category=1&category=2")
    assert r.status == 400 and r.json()["code"] == "invalid_query"
    r = admin.get("/api/v1/search?q=a&q=b")
    assert r.status == 400 and r.json()["code"] == "invalid_query"


def test_path_traversal_never_leaves_the_web_root(hostile):
    server, _ = hostile
    for path in (b"/../../etc/passwd", b"/%2e%2e/%2e%2e/etc/passwd", b"/js/..%2f..%2fetc/passwd",
                 b"/js/%2e%2e%5c%2e%2e%5cetc%5cpasswd", b"/..\\..\\etc\\passwd", b"/js/../../../etc/passwd",
                 b"//etc/passwd", b"/%252e%252e/etc/passwd"):
        out = raw_exchange(server.port, b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert b"root:" not in out, path
        assert status_of(out) in (400, 404) or out == b"", (path, out[:200])


def test_request_smuggling_framings_are_refused(hostile):
    server, _ = hostile
    hidden = b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n"  # 38 bytes
    cases = [
        # two different lengths: 2 reads "{}", 40 reads the hidden request as body
        b"POST /api/v1/preview HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}" + hidden,
        # the same behind a path refused before the framing is looked at
        b"POST /x/. HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 38\r\n\r\n"
        + hidden,
        # a blank before the colon: another header to evhttp, a length to a proxy
        b"POST /api/v1/preview HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length : 38\r\n\r\n" + hidden,
        # a signed length
        b"POST /api/v1/preview HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: +2\r\n\r\n{}" + hidden,
        # TE with CL, the other order
        b"POST /api/v1/preview HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Length: 3\r\nContent-Type: application/json\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n",
        # an obfuscated TE
        b"POST /api/v1/preview HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n"
        b"Content-Type: application/json\r\n\r\n2\r\n{}\r\n0\r\n\r\n" + hidden,
        # a bad chunk size
        b"POST /api/v1/preview HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Type: application/json\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
        # a negative length
        b"POST /api/v1/preview HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: -5\r\n\r\n{}",
    ]
    # kept alive (no Connection: close), so that a second request hidden in a body
    # would be answered too
    for req in cases:
        out = raw_exchange(server.port, req, timeout=TIMEOUT + 3)
        # one answer at most, never a second request served from the first's body
        assert out == b"" or status_of(out) in (400, 401, 404, 411, 413, 501), (req[:80], out[:300])
        assert out.count(b"HTTP/1.") <= 1, out[:500]
        assert b"<!doctype html>" not in out.lower(), out[:500]
    assert server.get("/healthz").status == 200


def test_oversized_requests_then_memory_stays_flat(hostile):
    server, admin = hostile
    auth = b"Authorization: Bearer " + admin.token.encode() + b"\r\n"
    json_head = b"POST /api/v1/preview HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n" + auth
    requests = [
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: " + b"a" * (64 * 1024) + b"\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(3000)) + b"\r\n",
        b"GET /" + b"a" * (64 * 1024) + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        json_head + b"Content-Length: 2000000\r\n\r\n" + b"a" * 200000,
        json_head + b"Content-Length: 100000\r\n\r\n" + b"[" * 100000,
        json_head + b"Content-Length: 14\r\n\r\n" + b'{"body": "\xc0\xaf"}',
        json_head + b"Content-Length: 31\r\n\r\n" + b'{"body": "' + b"x" * 19 + b'"}',
    ]

    def barrage(rounds):
        errors = []

        def one():
            for _ in range(rounds):
                for req in requests:
                    # the answer comes at once; a connection the server keeps open is
                    # not waited for
                    out = raw_exchange(server.port, req, timeout=0.5)
                    code = status_of(out)
                    if out and code is None or code is not None and code >= 500:
                        errors.append(out[:200])

        threads = [threading.Thread(target=one) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == [], errors[:3]

    barrage(3)  # warm up: pools, buffers and caches at their working size
    before = rss_kib(server.proc.pid)
    barrage(12)
    after = rss_kib(server.proc.pid)
    assert server.get("/healthz").status == 200
    assert after - before < 8 * 1024, f"resident memory grew from {before} to {after} KiB"
