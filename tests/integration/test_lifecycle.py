"""The server's life: start-up migrations, readiness that follows PostgreSQL
going away and coming back, graceful shutdown with requests in flight, and
concurrency through the asynchronous pool."""
import concurrent.futures
import os
import re
import signal
import socket
import subprocess
import threading
import time

import pytest

from harness import (BIN, DATABASE_URL, Client, Cluster, Server, create_admin, psql,
                     request)


def wait_for(predicate, timeout, interval=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def test_readyz_follows_postgresql_down_and_up_without_restart(cluster):
    s = Server(database_url=cluster.url, workers=2).start()
    try:
        assert s.get("/readyz").status == 200
        assert s.get("/api/v1/networks").status == 200
        cluster.stop()
        assert wait_for(lambda: s.get("/readyz").status == 503, 10), s.log_text()[-2000:]
        r = s.get("/readyz")
        assert r.json()["code"] == "not_ready"
        assert r.headers["retry-after"] == "1"
        # API requests fail fast with a clear 503 while the database is away
        t0 = time.time()
        r = s.get("/api/v1/networks")
        assert r.status == 503
        assert r.json()["code"] == "service_unavailable"
        assert "retry-after" in r.headers
        assert time.time() - t0 < 2
        # liveness does not depend on the database
        assert s.get("/healthz").status == 200
        cluster.start()
        # every worker's pool reconnects by itself; each request lands on any worker
        assert wait_for(lambda: all(s.get("/readyz").status == 200 for _ in range(6)), 20), \
            s.log_text()[-2000:]
        assert s.get("/api/v1/networks").status == 200
    finally:
        assert s.stop() == 0, s.log_text()[-3000:]
    assert "database connection" in s.log_text()


def test_server_starts_and_waits_while_the_pool_connects(cluster):
    s = Server(database_url=cluster.url, workers=1).start()
    try:
        # immediately after start the first queries succeed (queued until connected)
        assert s.get("/api/v1/networks").status == 200
    finally:
        assert s.stop() == 0


def hold_lock(url, seconds):
    """Holds an exclusive lock on networks for `seconds` from a psql session."""
    return subprocess.Popen(
        ["psql", url, "-v", "ON_ERROR_STOP=1", "-qc",
         f"BEGIN; LOCK TABLE networks IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep({seconds}); "
         "COMMIT;"], stdout=subprocess.DEVNULL)


def lock_held(url):
    return psql(url, "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                     "WHERE c.relname = 'networks' AND l.mode = 'AccessExclusiveLock' "
                     "AND l.granted") == "1"


def test_sigterm_drains_an_in_flight_request_and_stops_accepting():
    s = Server(workers=2).start()
    locker = hold_lock(DATABASE_URL, 3)
    try:
        assert wait_for(lambda: lock_held(DATABASE_URL), 10)
        result = {}

        def slow_request():
            result["r"] = s.get("/api/v1/networks", timeout=30)

        t = threading.Thread(target=slow_request)
        t.start()
        assert wait_for(lambda: "confer_http_requests_in_flight 2" in
                        s.get("/metrics").body.decode(), 5)  # the slow one and /metrics
        t_term = time.time()
        s.proc.send_signal(signal.SIGTERM)
        # new connections are refused once the listeners close
        def refused():
            try:
                socket.create_connection(("127.0.0.1", s.port), timeout=0.5).close()
                return False
            except OSError:
                return True
        assert wait_for(refused, 3)
        t.join(20)
        assert result["r"].status == 200, result
        assert len(result["r"].json()["items"]) == 6
        rc = s.proc.wait(timeout=20)
        assert rc == 0, s.log_text()[-3000:]
        # it waited for the database to answer rather than dropping the request
        assert time.time() - t_term > 1.0
        assert "shutting down" in s.log_text()
    finally:
        locker.wait(timeout=20)
        s.stop()


def test_a_client_gone_mid_answer_does_not_hold_up_the_shutdown():
    """A member who leaves while a long answer is still being written (a thread page of
    100 long posts, read through a small window, then the connection reset): the answer
    is dropped with its connection, and SIGTERM afterwards stops the server at once, not
    after CONFER_SHUTDOWN_TIMEOUT (it used to count that answer as still being written)."""
    s = Server(workers=1, extra_env={"CONFER_RATE_LIMITS": "off",
                                     "CONFER_SHUTDOWN_TIMEOUT": "60"}).start()
    try:
        member = Client(s, create_admin()).accept_guidelines()
        category = member.get("/api/v1/categories/chronic-pain").json()
        long_body = "Tapering went slowly over many weeks with the family doctor. " * 780
        r = member.call("POST", "/api/v1/threads", body={
            "category_id": category["id"], "title": "A long case, told in detail",
            "body": long_body})
        assert r.status == 201, r
        thread = r.json()["thread"]["id"]
        for _ in range(99):
            assert member.call("POST", f"/api/v1/threads/{thread}/posts",
                               body={"body": long_body}).status == 201
        page = member.get(f"/api/v1/threads/{thread}?limit=100")
        assert page.status == 200 and len(page.body) > 8_000_000, len(page.body)

        c = socket.socket()
        c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        c.settimeout(10)
        c.connect(("127.0.0.1", s.port))
        c.sendall(f"GET /api/v1/threads/{thread}?limit=100 HTTP/1.1\r\nHost: t\r\n"
                  f"Authorization: Bearer {member.token}\r\n\r\n".encode())
        assert c.recv(4096).startswith(b"HTTP/1.1 200")
        time.sleep(0.5)  # the server fills what the window lets through, then waits
        # leave without reading the rest: a reset, as a closed tab or a lost network gives
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        c.close()
        time.sleep(0.5)
        assert s.get("/healthz").status == 200
        t0 = time.time()
        assert s.stop(signal.SIGTERM, timeout=90) == 0
        assert time.time() - t0 < 10, s.log_text()[-2000:]
        assert "still in flight after the shutdown timeout" not in s.log_text()
    finally:
        s.stop()


def test_sigterm_on_idle_server_exits_zero_quickly():
    s = Server(workers=2).start()
    t0 = time.time()
    assert s.stop(signal.SIGTERM) == 0
    assert time.time() - t0 < 5


def test_sigint_stops_like_sigterm():
    s = Server(workers=1).start()
    assert s.stop(signal.SIGINT) == 0


def test_200_concurrent_database_requests_all_succeed():
    s = Server(workers=2).start()
    try:
        barrier = threading.Barrier(200)

        def one(i):
            barrier.wait(timeout=30)
            path = "/api/v1/networks" if i % 2 else f"/api/v1/networks/{i % 6 + 1}"
            return request(s.port, "GET", path, timeout=30)

        with concurrent.futures.ThreadPoolExecutor(max_workers=200) as ex:
            results = list(ex.map(one, range(200)))
        statuses = [r.status for r in results]
        assert statuses == [200] * 200, [r for r in results if r.status != 200][:3]
        assert all(r.json() for r in results)
    finally:
        assert s.stop() == 0, s.log_text()[-3000:]


def test_full_queue_answers_503_with_retry_after(cluster):
    """With one connection and a one-slot queue behind a lock, the overflow gets 503."""
    s = Server(database_url=cluster.url, workers=1,
               extra_env={"CONFER_DB_POOL": "1", "CONFER_DB_PIPELINE": "1",
                          "CONFER_DB_QUEUE": "1"}).start()
    locker = hold_lock(cluster.url, 3)
    try:
        assert wait_for(lambda: lock_held(cluster.url), 10)
        with concurrent.futures.ThreadPoolExecutor(max_workers=6) as ex:
            futures = [ex.submit(request, s.port, "GET", "/api/v1/networks", timeout=30)
                       for _ in range(6)]
            results = [f.result() for f in futures]
        statuses = sorted(r.status for r in results)
        assert statuses.count(200) == 2, statuses  # one in flight, one queued
        assert statuses.count(503) == 4, statuses
        for r in results:
            if r.status == 503:
                assert r.headers["retry-after"] == "1"
                assert r.json()["code"] == "service_unavailable"
    finally:
        locker.wait(timeout=20)
        assert s.stop() == 0, s.log_text()[-3000:]


def run_cli(*args, env=None):
    e = dict(os.environ)
    for k in list(e):
        if k.startswith("CONFER_") and not k.startswith("CONFER_TEST_"):
            del e[k]
    e.update(env or {})
    return subprocess.run([BIN, *args], env=e, capture_output=True, text=True, timeout=60)


def test_help_and_version():
    r = run_cli("--help")
    assert r.returncode == 0
    for word in ("serve", "migrate", "CONFER_DATABASE_URL", "CONFER_LISTEN", "CONFER_WORKERS"):
        assert word in r.stdout
    r = run_cli("--version")
    assert r.returncode == 0
    assert re.match(r"confer \d+\.\d+\.\d+", r.stdout)


@pytest.mark.parametrize("args,env,needle", [
    (["serve"], {}, "CONFER_DATABASE_URL"),
    (["serve", "--workers", "0"], {"CONFER_DATABASE_URL": "x"}, "--workers"),
    (["serve"], {"CONFER_DATABASE_URL": "x", "CONFER_LISTEN": "8080"}, "CONFER_LISTEN"),
    (["serve"], {"CONFER_DATABASE_URL": "x", "CONFER_DB_POOL": "many"}, "CONFER_DB_POOL"),
    (["serve"], {"CONFER_DATABASE_URL": "x", "CONFER_HASH_BOOST_MS": "-1"},
     "CONFER_HASH_BOOST_MS"),
    (["frobnicate"], {}, "unknown command"),
    (["serve", "--port", "1"], {"CONFER_DATABASE_URL": "x"}, "unknown option"),
])
def test_bad_settings_give_one_line_and_exit_2(args, env, needle):
    r = run_cli(*args, env=env)
    assert r.returncode == 2, r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert needle in lines[0]
    assert lines[0].startswith("confer: ")


def test_listen_port_in_use_is_a_clear_error():
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    port = blocker.getsockname()[1]
    try:
        r = run_cli("serve", "--no-migrate", env={"CONFER_DATABASE_URL": DATABASE_URL,
                                                   "CONFER_LISTEN": f"127.0.0.1:{port}"})
        assert r.returncode == 1
        assert "could not listen" in r.stderr
    finally:
        blocker.close()


def test_migrate_applies_once_and_is_a_no_op_after(cluster):
    r = run_cli("migrate", env={"CONFER_DATABASE_URL": cluster.url})
    assert r.returncode == 0, r.stderr
    assert "applied 0001_foundation" in r.stdout
    r = run_cli("migrate", env={"CONFER_DATABASE_URL": cluster.url})
    assert r.returncode == 0
    assert "up to date" in r.stdout
    versions = psql(cluster.url, "SELECT string_agg(name, ',' ORDER BY version) "
                                 "FROM schema_migrations")
    schema = os.path.join(os.path.dirname(__file__), "..", "..", "schema")
    files = sorted(f[:-4] for f in os.listdir(schema) if f.endswith(".sql"))
    assert versions.split(",") == files
    assert psql(cluster.url, "SELECT count(*) FROM networks") == "6"


def test_concurrent_migrations_apply_each_file_once(cluster):
    procs = [subprocess.Popen([BIN, "migrate"], env={**os.environ,
                                                      "CONFER_DATABASE_URL": cluster.url},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(3)]
    for p in procs:
        assert p.wait(timeout=60) == 0
    assert psql(cluster.url, "SELECT count(*) FROM networks") == "6"


def test_migrate_against_unreachable_database_fails_clearly():
    r = run_cli("migrate", env={"CONFER_DATABASE_URL": "postgresql://confer@127.0.0.1:1/x"})
    assert r.returncode == 1
    assert "could not connect to the database" in r.stderr


def test_stalled_and_idle_clients_are_disconnected_after_the_http_timeout():
    s = Server(workers=1, extra_env={"CONFER_HTTP_TIMEOUT": "1"}).start()
    try:
        def closed_within(sock, seconds):
            sock.settimeout(seconds)
            try:
                return sock.recv(4096) == b""
            except socket.timeout:
                return False
            except ConnectionResetError:
                return True

        stalled = socket.create_connection(("127.0.0.1", s.port))
        stalled.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # headers never finish
        idle = socket.create_connection(("127.0.0.1", s.port))  # says nothing at all
        t0 = time.time()
        assert closed_within(stalled, 5)
        assert closed_within(idle, 5)
        assert time.time() - t0 < 5
        stalled.close()
        idle.close()
        assert s.get("/healthz").status == 200
    finally:
        assert s.stop() == 0
