"""Test harness: real confer processes, real PostgreSQL clusters, real HTTP.

Used by the pytest suites (conftest.py) and the benchmarks. Nothing here mocks
the database or HTTP: a Server is the built binary on a free port, a Cluster is
a PostgreSQL instance started with the same helpers as scripts/test.
"""
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

BIN = os.environ.get("CONFER_TEST_BIN", "build/confer")
DATABASE_URL = os.environ.get("CONFER_TEST_DATABASE_URL", "")
PG_BINDIR = os.environ.get("CONFER_TEST_PG_BINDIR", "/usr/lib/postgresql/15/bin")
TMP = os.environ.get("CONFER_TEST_TMP", tempfile.gettempdir())
WEB_ROOT = os.environ.get("CONFER_TEST_WEB_ROOT", os.path.abspath("web"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_pg(cmd):
    """PostgreSQL refuses root: run its tools as the postgres account then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--"] + cmd
    return cmd


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-case names; the last value wins
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<Response {self.status} {self.body[:200]!r}>"


def request(port, method, path, body=None, headers=None, raw=None, timeout=30, source=None):
    """One HTTP/1.1 request on a fresh connection. body is JSON-encoded; raw is sent as is.
    source picks the client's loopback address (127.0.0.x), for per-address limits."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout,
                                      source_address=(source, 0) if source else None)
    hdrs = dict(headers or {})
    data = raw
    if body is not None:
        data = json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    try:
        conn.request(method, path, body=data, headers=hdrs)
        r = conn.getresponse()
        payload = r.read()
        return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, payload)
    finally:
        conn.close()


def raw_exchange(port, data, timeout=5.0, source=None):
    """Sends raw bytes and returns everything read until the server closes or goes quiet.
    source picks the client's loopback address, as for request()."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                  source_address=(source, 0) if source else None) as s:
        s.sendall(data)
        chunks = []
        try:
            while True:
                c = s.recv(65536)
                if not c:
                    break
                chunks.append(c)
        except socket.timeout:
            pass
        except ConnectionResetError:
            pass
        return b"".join(chunks)


class EventStream:
    """A Server-Sent Events client on a raw socket: the response's status and headers,
    then events ({"id", "event", "data"}; comments as {"comment"}) parsed from the
    chunked body as they arrive."""

    def __init__(self, port, path, token=None, last_event_id=None, rcvbuf=None, timeout=10):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        head = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "Accept: text/event-stream"]
        if token:
            head.append(f"Authorization: Bearer {token}")
        if last_event_id is not None:
            head.append(f"Last-Event-ID: {last_event_id}")
        self.sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        self.raw = b""
        self.body = b""
        self.closed = False
        while b"\r\n\r\n" not in self.raw:
            self._recv()
            if self.closed:
                raise ConnectionError("closed before the headers")
        head, self.raw = self.raw.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {k.strip().lower(): v.strip() for k, v in
                        (x.split(":", 1) for x in lines[1:])}
        self.chunked = self.headers.get("transfer-encoding") == "chunked"
        if self.status != 200:  # a problem+json answer: read it whole
            n = int(self.headers.get("content-length", "0"))
            while len(self.raw) < n and not self.closed:
                self._recv()
            self.problem = json.loads(self.raw[:n] or b"{}")

    def _recv(self):
        try:
            c = self.sock.recv(65536)
        except ConnectionResetError:
            c = b""
        if not c:
            self.closed = True
        self.raw += c

    def _dechunk(self):
        if not self.chunked:
            self.body += self.raw
            self.raw = b""
            return
        while b"\r\n" in self.raw:
            size_line, rest = self.raw.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0], 16)
            if len(rest) < size + 2:
                return
            if size == 0:
                self.raw = b""
                self.closed = True  # the stream's end
                return
            self.body += rest[:size]
            self.raw = rest[size + 2:]

    def next(self, timeout=10, comments=False):
        """The next event (a dict), or None when the stream ends or timeout passes."""
        deadline = time.time() + timeout
        while True:
            self._dechunk()
            while b"\n\n" in self.body:
                block, self.body = self.body.split(b"\n\n", 1)
                ev = {}
                for line in block.decode().split("\n"):
                    if line.startswith(":"):
                        ev["comment"] = line[1:].strip()
                        continue
                    k, _, v = line.partition(":")
                    v = v[1:] if v.startswith(" ") else v
                    ev[k] = ev[k] + "\n" + v if k == "data" and "data" in ev else v
                if "retry" in ev:
                    self.retry = int(ev.pop("retry"))
                if not ev or ("comment" in ev and not comments):
                    continue
                if "data" in ev and ev.get("event") not in (None, "resync"):
                    ev["json"] = json.loads(ev["data"])
                return ev
            if self.closed:
                return None
            left = deadline - time.time()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                self._recv()
            except socket.timeout:
                return None

    def events(self, n, timeout=10):
        """The next n events (fewer if the stream ends or times out)."""
        out = []
        deadline = time.time() + timeout
        while len(out) < n:
            ev = self.next(timeout=max(0.01, deadline - time.time()))
            if ev is None:
                break
            out.append(ev)
        return out

    def close(self):
        self.sock.close()


class Server:
    """A confer process on a free port; its stderr (the JSON log) goes to a file."""

    def __init__(self, database_url=None, workers=2, extra_env=None, args=None, web_root=None):
        self.port = free_port()
        self.database_url = database_url or DATABASE_URL
        self.workers = workers
        self.extra_env = extra_env or {}
        self.args = args or []
        self.web_root = web_root or WEB_ROOT
        fd, self.log_path = tempfile.mkstemp(prefix="confer-", suffix=".log", dir=TMP)
        os.close(fd)
        self.proc = None

    def start(self, wait=True):
        env = dict(os.environ)
        env.update({
            "CONFER_DATABASE_URL": self.database_url,
            "CONFER_LISTEN": f"127.0.0.1:{self.port}",
            "CONFER_WORKERS": str(self.workers),
            "CONFER_WEB_ROOT": self.web_root,
            "CONFER_LOG_LEVEL": "info",
        })
        env.update(self.extra_env)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([BIN, "serve"] + self.args, env=env,
                                     stdout=self.log, stderr=self.log)
        if wait:
            self.wait_healthy()
        return self

    def wait_healthy(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"confer exited with {self.proc.returncode}:\n{self.log_text()}")
            try:
                if request(self.port, "GET", "/healthz", timeout=2).status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("confer did not become healthy:\n" + self.log_text())

    def request(self, method, path, **kw):
        return request(self.port, method, path, **kw)

    def get(self, path, **kw):
        return request(self.port, "GET", path, **kw)

    def events(self, path="/api/v1/events", client=None, **kw):
        return EventStream(self.port, path, token=client.token if client else None, **kw)

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def log_lines(self):
        out = []
        for line in self.log_text().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Stops the process and returns its exit status (sanitizer reports fail it)."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.log.close()
        return rc


class Background:
    """Threads running a load until the `with` block ends: set self.threads, and have
    them return once self.stop is set."""

    def __init__(self):
        self.stop = threading.Event()
        self.threads = []

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(30)


class Cluster:
    """A private PostgreSQL cluster, for tests that stop and start the database."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="pg-", dir=TMP)
        os.chmod(self.dir, 0o755)
        self.data = os.path.join(self.dir, "data")
        self.logfile = os.path.join(self.dir, "pg.log")
        self.port = free_port()
        os.makedirs(self.data)
        if os.geteuid() == 0:
            shutil.chown(self.data, "postgres", "postgres")
            open(self.logfile, "a").close()
            shutil.chown(self.logfile, "postgres", "postgres")
        os.chmod(self.data, 0o700)
        subprocess.run(as_pg([f"{PG_BINDIR}/initdb", "-D", self.data, "-U", "confer", "-A",
                              "trust", "-E", "UTF8", "--locale=C.UTF-8"]),
                       check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write("listen_addresses = '127.0.0.1'\nunix_socket_directories = ''\n"
                    "fsync = off\nsynchronous_commit = off\n")

    @property
    def url(self):
        return f"postgresql://confer@127.0.0.1:{self.port}/postgres"

    def start(self):
        subprocess.run(as_pg([f"{PG_BINDIR}/pg_ctl", "-D", self.data, "-o", f"-p {self.port}",
                              "-l", self.logfile, "-w", "start"]),
                       check=True, stdout=subprocess.DEVNULL)

    def stop(self, mode="fast"):
        subprocess.run(as_pg([f"{PG_BINDIR}/pg_ctl", "-D", self.data, "-m", mode, "-w", "stop"]),
                       check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def destroy(self):
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


def psql(database_url, sql):
    """Runs SQL with psql and returns its unaligned output."""
    r = subprocess.run(["psql", database_url, "-v", "ON_ERROR_STOP=1", "-tAc", sql],
                       check=True, capture_output=True, text=True)
    return r.stdout.strip()


class FreshDatabase:
    """An empty database beside the test one (a server migrates it on start)."""

    def __init__(self, name):
        self.name = f"{name}_{os.getpid()}"
        self.admin_url = re.sub(r"/[^/]*$", "/postgres", DATABASE_URL)
        psql(self.admin_url, f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")
        psql(self.admin_url, f"CREATE DATABASE {self.name}")
        self.url = re.sub(r"/[^/]*$", f"/{self.name}", DATABASE_URL)

    def drop(self):
        psql(self.admin_url, f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")


_seq = [0]


def unique_email(prefix="user"):
    _seq[0] += 1
    return f"{prefix}.{os.getpid()}.{_seq[0]}.{int(time.time() * 1000) % 100000000}@example.ca"


STRONG_PASSWORD = "tundra kettle violin 7"


def create_admin(database_url=None, email=None, name="Site Admin", password=STRONG_PASSWORD,
                 network="BC"):
    """`confer admin create`, with the password on standard input."""
    email = email or unique_email("admin")
    env = dict(os.environ)
    env["CONFER_DATABASE_URL"] = database_url or DATABASE_URL
    r = subprocess.run([BIN, "admin", "create", "--email", email, "--name", name, "--network",
                        network], input=password + "\n", env=env, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return email


class Client:
    """A signed-in member talking to a server with a bearer token (or the cookie)."""

    def __init__(self, server, email, password=STRONG_PASSWORD, source=None):
        self.server = server
        self.email = email
        self.password = password
        r = server.request("POST", "/api/v1/sessions", body={"email": email, "password": password},
                           source=source)
        assert r.status == 201, r
        body = r.json()
        self.token = body["token"]
        self.csrf = body["csrf_token"]
        self.user = body["user"]
        self.id = self.user["id"]
        self.cookie = r.headers.get("set-cookie", "")

    def call(self, method, path, body=None, headers=None, **kw):
        h = {"Authorization": f"Bearer {self.token}"}
        h.update(headers or {})
        return self.server.request(method, path, body=body, headers=h, **kw)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def accept_guidelines(self):
        v = self.server.get("/api/v1/guidelines").json()["version"]
        r = self.call("POST", "/api/v1/me/guidelines", body={"version": v})
        assert r.status == 200, r
        return self

    def invite(self, email, network="BC", role=None):
        body = {"email": email, "network": network}
        if role:
            body["site_role"] = role
        return self.call("POST", "/api/v1/invitations", body=body)


def fresh_address():
    """A loopback address no earlier run used this hour (sign-in limits count per address,
    in the database)."""
    return f"127.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(2, 254)}"


def clear_of_window_end(period, needed=15):
    """Waits, if need be, until the current clock window of `period` seconds (the windows
    rate limits count in: a minute, an hour) has `needed` seconds left, so that a test's
    requests are all counted in one window."""
    left = period - time.time() % period
    if left < needed:
        time.sleep(left + 0.5)


def metrics(server):
    """The server's /metrics as {name or name{labels}: value}."""
    out = {}
    for line in server.get("/metrics").body.decode().splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
    return out


def register(server, inviter, network="BC", role=None, name="Dr Test Person",
             profession="family_physician", locale="en", password=STRONG_PASSWORD, source=None):
    """Invites a new member through `inviter` and registers them; returns a signed-in Client
    (signed in from the loopback address `source`, if given)."""
    email = unique_email("member")
    r = inviter.invite(email, network=network, role=role)
    assert r.status == 201, r
    r = server.request("POST", "/api/v1/users", body={
        "invite_code": r.json()["code"], "email": email, "display_name": name,
        "password": password, "profession": profession, "locale": locale})
    assert r.status == 201, r
    return Client(server, email, password, source=source)


def problem(r, status, code):
    """Asserts r is a problem+json answer with this status and code; returns its body."""
    assert r.status == status, r
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == code, r.json()
    return r.json()
