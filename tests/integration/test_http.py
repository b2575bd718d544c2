"""The HTTP contract of SPEC section 4 that every endpoint shares: problem+json
errors with stable codes, 404/405/413/415/400, security headers, request ids,
ETags, and request framing that cannot be abused."""
import json
import re
import time

from harness import raw_exchange

SECURITY_HEADERS = ("x-content-type-options", "content-security-policy", "referrer-policy",
                    "x-request-id")


def assert_problem(r, status, code):
    assert r.status == status, r
    assert r.headers["content-type"] == "application/problem+json; charset=utf-8"
    p = r.json()
    assert p["type"] == "about:blank"
    assert p["status"] == status
    assert p["code"] == code
    assert isinstance(p["title"], str) and p["title"]
    return p


def test_unknown_api_path_is_404_problem(server):
    r = server.get("/api/v1/no-such-thing")
    assert_problem(r, 404, "not_found")
    assert r.headers["cache-control"] == "no-store"


def test_id_that_is_not_a_positive_integer_is_404(server):
    for path in ("/api/v1/networks/abc", "/api/v1/networks/0", "/api/v1/networks/-1",
                 "/api/v1/networks/99999999999999999999"):
        assert_problem(server.get(path), 404, "not_found")


def test_wrong_method_is_405_with_allow(server):
    r = server.request("DELETE", "/api/v1/networks")
    assert_problem(r, 405, "method_not_allowed")
    assert r.headers["allow"] == "GET, HEAD, OPTIONS"


def test_trace_is_405_not_echoed(server):
    r = server.request("TRACE", "/api/v1/networks")
    assert_problem(r, 405, "method_not_allowed")
    assert b"TRACE /api" not in r.body


def test_options_answers_allow(server):
    r = server.request("OPTIONS", "/api/v1/networks")
    assert r.status == 204
    assert r.headers["allow"] == "GET, HEAD, OPTIONS"


def test_body_over_one_mebibyte_is_413_problem(server):
    big = b'{"text":"' + b"a" * (1024 * 1024) + b'"}'
    r = server.request("POST", "/api/v1/networks", raw=big,
                       headers={"Content-Type": "application/json"})
    p = assert_problem(r, 413, "payload_too_large")
    assert "1048576" in p["detail"]
    # the server is still up and answers on a new connection
    assert server.get("/healthz").status == 200


def test_body_far_over_the_limit_is_refused_without_being_read(server):
    """Past evhttp's hard cap the connection is answered 413 and closed at once."""
    head = (b"POST /api/v1/networks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1073741824\r\n\r\n")
    out = raw_exchange(server.port, head + b"{", timeout=5)
    assert out.startswith(b"HTTP/1.1 413"), out[:200]
    assert server.get("/healthz").status == 200


def test_non_json_body_is_415(server):
    r = server.request("POST", "/api/v1/networks", raw=b"name=x",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_problem(r, 415, "unsupported_media_type")
    r = server.request("POST", "/api/v1/networks", raw=b"{}",
                       headers={"Content-Type": "application/json; charset=latin-1"})
    assert_problem(r, 415, "unsupported_media_type")


def test_malformed_json_is_400_invalid_json(server):
    for raw in (b"{", b'{"a":1,}', b"[1,2", b'{"a":1}{"b":2}', b'{"a":1,"a":2}',
                b'{"n": 1' + b"0" * 400 + b"}", b"[" * 5000 + b"]" * 5000):
        r = server.request("POST", "/api/v1/networks", raw=raw,
                           headers={"Content-Type": "application/json"})
        assert_problem(r, 400, "invalid_json")


def test_invalid_utf8_is_400_invalid_json(server):
    for raw in (b'{"a":"\xff"}', b'{"a":"\xc0\xaf"}', b'{"a":"\xed\xa0\x80"}',
                b'{"a":"x\x00y"}'):
        r = server.request("POST", "/api/v1/networks", raw=raw,
                           headers={"Content-Type": "application/json; charset=utf-8"})
        assert_problem(r, 400, "invalid_json")


def test_valid_json_passes_the_body_checks_then_routing_decides(server):
    r = server.request("POST", "/api/v1/networks", body={"name": "x"})
    assert_problem(r, 405, "method_not_allowed")


def test_security_headers_on_success_error_and_static(server):
    for r in (server.get("/api/v1/networks"), server.get("/api/v1/nope"), server.get("/")):
        for h in SECURITY_HEADERS:
            assert h in r.headers, (h, r.headers)
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert "charset=" in r.headers["content-type"]


def test_api_responses_are_not_stored(server):
    assert server.get("/api/v1/networks").headers["cache-control"] == "no-store"
    assert server.get("/healthz").headers["cache-control"] == "no-store"


def test_request_id_is_generated_and_unique(server):
    a = server.get("/healthz").headers["x-request-id"]
    b = server.get("/healthz").headers["x-request-id"]
    assert a and b and a != b


def test_request_id_from_a_proxy_is_kept_when_it_is_a_plain_token(server):
    r = server.get("/healthz", headers={"X-Request-Id": "nginx-3f2a9c1d"})
    assert r.headers["x-request-id"] == "nginx-3f2a9c1d"
    r = server.get("/healthz", headers={"X-Request-Id": "<script>alert(1)</script>"})
    assert r.headers["x-request-id"] != "<script>alert(1)</script>"


def test_list_has_etag_and_if_none_match_gives_304(server):
    r = server.get("/api/v1/networks")
    assert r.status == 200
    etag = r.headers["etag"]
    r2 = server.get("/api/v1/networks", headers={"If-None-Match": etag})
    assert r2.status == 304
    assert r2.body == b""
    r3 = server.get("/api/v1/networks", headers={"If-None-Match": 'W/"0000000000000000"'})
    assert r3.status == 200


def test_head_has_headers_and_no_body(server):
    r = server.request("HEAD", "/api/v1/networks")
    assert r.status == 200
    assert r.body == b""
    assert int(r.headers["content-length"]) > 0


def test_networks_are_seeded_with_both_languages(server):
    items = server.get("/api/v1/networks").json()["items"]
    codes = [n["code"] for n in items]
    assert codes == ["BC", "ON", "NS", "NB", "NL", "PE"]
    ns = items[2]
    assert ns["name"] == {"en": "Nova Scotia", "fr": "Nouvelle-Écosse"}
    one = server.get(f"/api/v1/networks/{ns['id']}").json()
    assert one == ns
    assert server.get("/api/v1/networks").json()["next_cursor"] is None


def test_missing_network_is_404(server):
    assert_problem(server.get("/api/v1/networks/999999"), 404, "not_found")


def test_bad_query_strings_are_400(server):
    assert_problem(server.get("/api/v1/networks?a=1&a=2"), 400, "invalid_query")
    assert_problem(server.get("/api/v1/networks?a=%ff"), 400, "invalid_query")
    assert_problem(server.get("/api/v1/networks?a=%00"), 400, "invalid_query")


def test_bad_paths_are_400(server):
    assert_problem(server.get("/api/v1/networks%00"), 400, "invalid_path")
    assert_problem(server.get("/api/%ff"), 400, "invalid_path")


def test_body_on_get_is_refused_and_the_connection_closed(server):
    """A body evhttp does not read must not be parsed as a second request."""
    smuggled = b"GET /api/v1/networks/1 HTTP/1.1\r\nHost: x\r\n\r\n"
    req = (b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(smuggled)
           + smuggled)
    out = raw_exchange(server.port, req)
    assert out.startswith(b"HTTP/1.1 400"), out[:300]
    assert out.count(b"HTTP/1.1 ") == 1, out
    assert b"unexpected_body" in out


def test_content_length_with_transfer_encoding_is_refused(server):
    """libevent refuses this framing itself (its own 400 page); dispatch refuses it
    again should it ever get through. Either way: one 400 and a closed connection."""
    req = (b"POST /api/v1/networks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
           b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n")
    out = raw_exchange(server.port, req)
    assert out.startswith(b"HTTP/1.1 400"), out[:300]
    assert out.count(b"HTTP/1.1 ") == 1


def test_headers_over_16_kib_are_refused_and_server_survives(server):
    req = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (17 * 1024) + b"\r\n\r\n"
    out = raw_exchange(server.port, req)
    assert re.match(rb"HTTP/1\.[01] 4\d\d", out), out[:200]
    assert server.get("/healthz").status == 200


def test_malformed_request_line_is_4xx_and_server_survives(server):
    for line in (b"GARBAGE\r\n\r\n", b"GET\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
                 b"\x00\x01\x02\r\n\r\n"):
        out = raw_exchange(server.port, line)
        assert out == b"" or re.match(rb"HTTP/1\.[01] 4\d\d", out), (line, out[:200])
    assert server.get("/healthz").status == 200


def test_keep_alive_serves_several_requests_on_one_connection(server):
    req = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" * 3
    out = raw_exchange(server.port, req, timeout=1)
    assert out.count(b"HTTP/1.1 200") == 3


def test_access_log_has_route_not_path_and_no_query(server):
    rid = server.get("/api/v1/networks/3?secret=patient-name").headers["x-request-id"]
    # access lines are flushed by each worker every 250 ms
    deadline = time.time() + 5
    mine = []
    while not mine and time.time() < deadline:
        mine = [l for l in server.log_lines()
                if l.get("msg") == "request" and l.get("request_id") == rid]
        time.sleep(0.1)
    assert mine, server.log_text()[-2000:]
    assert mine[-1]["route"] == "/api/v1/networks/{id}"
    l = mine[-1]
    for key in ("ts", "method", "route", "status", "duration_ms", "request_id", "user_id"):
        assert key in l
    assert l["status"] == 200
    assert "patient-name" not in server.log_text()


def test_metrics_count_requests_by_route_and_status(server):
    server.get("/api/v1/networks/1")
    server.get("/api/v1/networks/999999")
    text = server.get("/metrics").body.decode()
    assert re.search(r'confer_http_requests_total\{method="GET",route="/api/v1/networks/\{id\}",'
                     r'status="200"\} [1-9]', text), text
    assert re.search(r'confer_http_requests_total\{method="GET",route="/api/v1/networks/\{id\}",'
                     r'status="404"\} [1-9]', text)
    assert 'confer_http_request_duration_seconds_bucket{method="GET",route="/api/v1/networks",' \
           in text or "confer_http_request_duration_seconds_bucket" in text
    assert re.search(r'confer_db_pool_connections\{state="ready"\} [1-9]', text)
    assert "confer_db_pool_waiting 0" in text
    m = re.search(r'confer_http_request_duration_seconds_count\{method="GET",'
                  r'route="/api/v1/networks/\{id\}"\} (\d+)', text)
    assert m and int(m.group(1)) >= 2
