"""Running beyond one machine (roadmap step 10, SPEC section 12), on loopback: a
PostgreSQL primary, a streaming replica made by pg_basebackup, two confer instances
against them and nginx in front. Everything is driven through nginx, as members would.

The replica replays two seconds late (recovery_min_apply_delay), so that a read it
answers is visibly behind: a session that has just written must still see its write,
and one that has not may not, until the replica catches up.

Checked: a session holds on both instances; a session reads its own writes; sign-in
limits are shared by the instances and counted per client address, read from
X-Forwarded-For only as nginx wrote it; live events reach a stream on either instance
once each; each webhook delivery, email and due-response notice is sent once; one
instance stopped mid-run loses no write and no live event (its streams resume on the
other); the replica stopped mid-run fails no read, and is used again once back."""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import pytest

from harness import (PG_BINDIR, TMP, Background, Client, Cluster, EventStream, Server, as_pg,
                     clear_of_window_end, create_admin, free_port, fresh_address, metrics, psql,
                     register, request)
from receivers import SmtpSink, WebhookReceiver

WINDOW = 6       # CONFER_REPLICA_WINDOW: longer than the replica's 2 s delay plus a probe
APPLY_DELAY = 2  # the replica's recovery_min_apply_delay, in seconds
PROXY_ADDR = "127.0.0.2"  # nginx connects to confer from here; the only trusted proxy


class Replica(Cluster):
    """A streaming replica of a Cluster, made with pg_basebackup -R (started and
    stopped as a Cluster is)."""

    def __init__(self, primary):  # no initdb: the data comes from the primary
        self.dir = tempfile.mkdtemp(prefix="pg-replica-", dir=TMP)
        os.chmod(self.dir, 0o755)
        self.data = os.path.join(self.dir, "data")
        self.logfile = os.path.join(self.dir, "pg.log")
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        subprocess.run(as_pg([f"{PG_BINDIR}/pg_basebackup", "-h", "127.0.0.1", "-p",
                              str(primary.port), "-U", "confer", "-D", self.data, "-R",
                              "-X", "stream", "-c", "fast"]), check=True,
                       stdout=subprocess.DEVNULL)
        with open(os.path.join(self.data, "postgresql.auto.conf"), "a") as f:
            f.write(f"recovery_min_apply_delay = '{APPLY_DELAY}s'\n")

    def database_url(self, db="confer"):
        return f"postgresql://confer@127.0.0.1:{self.port}/{db}"


NGINX_CONF = """
daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    upstream confer {{
        server 127.0.0.1:{a} max_fails=1 fail_timeout=3s;
        server 127.0.0.1:{b} max_fails=1 fail_timeout=3s;
        keepalive 16;
        keepalive_timeout 20s;
    }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 1m;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_bind {proxy_addr};
        proxy_connect_timeout 2s;
        proxy_next_upstream error timeout;
        location / {{
            proxy_pass http://confer;
        }}
        location /api/v1/events {{
            proxy_pass http://confer;
            proxy_buffering off;
            proxy_read_timeout 1h;
        }}
    }}
}}
"""


class Nginx:
    """nginx in front of the two instances; `request` speaks to it as a Server would."""

    def __init__(self, a, b):
        self.dir = tempfile.mkdtemp(prefix="nginx-", dir=TMP)
        os.chmod(self.dir, 0o777)  # its workers run as nobody when we are root
        self.port = free_port()
        self.conf = os.path.join(self.dir, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(NGINX_CONF.format(dir=self.dir, a=a.port, b=b.port, port=self.port,
                                      proxy_addr=PROXY_ADDR))
        self.proc = subprocess.Popen(["nginx", "-c", self.conf, "-p", self.dir],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                if request(self.port, "GET", "/healthz", timeout=2).status == 200:
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not start: " + self.proc.stderr.read().decode())

    def request(self, method, path, **kw):
        return request(self.port, method, path, **kw)

    def get(self, path, **kw):
        return request(self.port, "GET", path, **kw)

    def stop(self):
        self.proc.send_signal(signal.SIGQUIT)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def sign_in(proxy, email):
    """Each sign-in from a loopback address of its own: the limit of six a minute counts
    per client address, and every client here is on loopback."""
    return Client(proxy, email, source=fresh_address())


def member(proxy, admin, name, profession="family_physician"):
    """Invited into NL by the admin, registered and signed in through nginx."""
    return register(proxy, admin, network="NL", name=name, profession=profession,
                    source=fresh_address()).accept_guidelines()


def group_of(admin, name, mentor, mentee):
    """A group in NL with this mentor and mentee."""
    r = admin.call("POST", "/api/v1/groups", body={"network": "NL", "name": name})
    assert r.status == 201, r
    g = r.json()
    for who, role in ((mentor, "mentor"), (mentee, "mentee")):
        assert admin.call("PUT", f"/api/v1/groups/{g['id']}/members/{who.id}",
                          body={"role": role}).status == 200
    return g


def wait_for(what, check, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def handled_by(server, request_ids):
    """How many of these X-Request-Id values this instance's access log shows."""
    n = 0
    for line in server.log_lines():
        if line.get("msg") == "request" and line.get("request_id") in request_ids:
            n += 1
    return n


@pytest.fixture(scope="module")
def stack():
    primary = Cluster()
    primary.start()
    psql(primary.url, "CREATE DATABASE confer")
    url = primary.url.rsplit("/", 1)[0] + "/confer"
    # migrate once, then copy: the replica starts from a migrated database
    subprocess.run([os.environ.get("CONFER_TEST_BIN", "build/confer"), "migrate"],
                   env=dict(os.environ, CONFER_DATABASE_URL=url), check=True,
                   capture_output=True)
    replica = Replica(primary)
    replica.start()
    sink, hooks = SmtpSink(), WebhookReceiver()
    env = {"CONFER_REPLICA_URL": replica.database_url(), "CONFER_REPLICA_WINDOW": str(WINDOW),
           "CONFER_TRUSTED_PROXIES": PROXY_ADDR, "CONFER_POST_INTERVAL": "0",
           "CONFER_THREAD_INTERVAL": "0", "CONFER_SMTP_URL": sink.url(),
           "CONFER_PUBLIC_URL": "https://confer.test", "CONFER_RESPONSE_DUE": "3",
           "CONFER_RESPONSE_OVERDUE": "3600", "CONFER_SWEEP_INTERVAL": "1",
           "CONFER_RETRY_BASE": "1", "CONFER_SSE_HEARTBEAT": "2"}
    a = Server(database_url=url, workers=2, extra_env=env).start()
    b = Server(database_url=url, workers=2, extra_env=env).start()
    proxy = Nginx(a, b)
    s = {"primary": primary, "replica": replica, "url": url, "a": a, "b": b, "proxy": proxy,
         "sink": sink, "hooks": hooks, "env": env}
    try:
        admin = sign_in(proxy, create_admin(url)).accept_guidelines()
        s["admin"] = admin
        s["people"] = [member(proxy, admin, f"Member {i}") for i in range(4)]
        for inst in (a, b):
            wait_for("the replica to be usable",
                     lambda: metrics(inst).get("confer_replica_usable") == 1)
        yield s
    finally:
        proxy.stop()
        rcs = [srv.stop() for srv in (a, b) if srv.proc.poll() is None]
        sink.stop()
        hooks.stop()
        replica.destroy()
        primary.destroy()
    assert all(rc == 0 for rc in rcs), rcs


def test_a_session_holds_on_both_instances(stack):
    proxy, a, b = stack["proxy"], stack["a"], stack["b"]
    m = sign_in(proxy, stack["people"][0].email)
    ids = [f"scale-hold-{i:04d}" for i in range(20)]
    for rid in ids:
        r = m.get("/api/v1/me", headers={"X-Request-Id": rid})
        assert r.status == 200 and r.json()["id"] == m.id, r
    # (the access logs are written every 250 ms)
    wait_for("the access logs", lambda: handled_by(a, ids) + handled_by(b, ids) == 20)
    on_a, on_b = handled_by(a, ids), handled_by(b, ids)
    assert on_a >= 5 and on_b >= 5, (on_a, on_b)
    # signed out through one instance: refused by both at once
    assert m.call("DELETE", "/api/v1/sessions/current").status == 204
    for i in range(6):
        assert m.get("/api/v1/me").status == 401


def test_a_session_reads_its_own_writes_and_others_read_the_replica(stack):
    proxy, a, b = stack["proxy"], stack["a"], stack["b"]
    writer = sign_in(proxy, stack["people"][1].email)
    reader = sign_in(proxy, stack["people"][2].email)
    r = writer.call("POST", "/api/v1/threads", body={
        "category_id": 1, "title": "Read your writes", "body": "The first post."})
    assert r.status == 201, r
    tid = r.json()["thread"]["id"]
    time.sleep(WINDOW + 1)  # the reader's sign-in is out of the window too
    before = sum(metrics(s).get("confer_replica_reads_total", 0) for s in (a, b))
    stale = 0
    for i in range(12):
        r = writer.call("POST", f"/api/v1/threads/{tid}/posts", body={"body": f"Reply {i}"})
        assert r.status == 201, r
        pid = r.json()["id"]
        # the writer, on whichever instance: always there
        t = writer.get(f"/api/v1/threads/{tid}")
        assert t.status == 200 and pid in [p["id"] for p in t.json()["posts"]], i
        assert writer.get(f"/api/v1/posts/{pid}").status == 200
        # a reader who wrote nothing reads the replica, two seconds behind
        seen = reader.get(f"/api/v1/threads/{tid}").json()["posts"]
        stale += pid not in [p["id"] for p in seen]
    assert stale >= 10, (f"only {stale} of 12 reads were behind: the replica was not used",
                         [{k: v for k, v in metrics(s).items() if "replica" in k} for s in (a, b)])
    after = sum(metrics(s).get("confer_replica_reads_total", 0) for s in (a, b))
    assert after - before >= 12
    # a thread the replica does not have yet is asked of the primary, not answered 404
    retried = sum(metrics(s).get("confer_replica_retried_total", 0) for s in (a, b))
    r = writer.call("POST", "/api/v1/threads", body={
        "category_id": 1, "title": "Not on the replica yet", "body": "New."})
    assert r.status == 201, r
    assert reader.get(f"/api/v1/threads/{r.json()['thread']['id']}").status == 200
    assert sum(metrics(s).get("confer_replica_retried_total", 0) for s in (a, b)) > retried
    # and it catches up
    wait_for("the replica to catch up",
             lambda: pid in [p["id"] for p in
                             reader.get(f"/api/v1/threads/{tid}").json()["posts"]],
             timeout=APPLY_DELAY + 5)


def test_a_member_removed_from_a_group_loses_it_at_once(stack):
    """The replica still has the membership for two seconds; the removal stamps the
    member's sessions, so their reads go to the primary, which has not."""
    proxy, admin = stack["proxy"], stack["admin"]
    mentor = sign_in(proxy, stack["people"][1].email)
    mentee = sign_in(proxy, stack["people"][2].email)
    g = group_of(admin, "Revocation", mentor, mentee)
    t = mentor.call("POST", "/api/v1/threads", body={
        "group_id": g["id"], "title": "A case for the group", "body": "Details."})
    assert t.status == 201, t
    tid = t.json()["thread"]["id"]
    time.sleep(WINDOW + 1)
    a, b = stack["a"], stack["b"]
    before = sum(metrics(s)["confer_replica_reads_total"] for s in (a, b))
    assert mentee.get(f"/api/v1/threads/{tid}").status == 200
    assert sum(metrics(s)["confer_replica_reads_total"] for s in (a, b)) > before
    assert admin.call("DELETE", f"/api/v1/groups/{g['id']}/members/{mentee.id}").status == 204
    for _ in range(4):  # on either instance, at once
        r = mentee.get(f"/api/v1/threads/{tid}")
        assert r.status == 404, r


def test_sign_in_limits_are_shared_and_per_client_address(stack):
    proxy = stack["proxy"]
    email = stack["people"][3].email
    wrong = {"email": email, "password": "not the password at all"}
    clear_of_window_end(60, 10)  # the limit counts in windows of a clock minute
    # six a minute from one address, counted across both instances; a forged
    # X-Forwarded-For changes nothing (nginx appends the real address, confer reads
    # from the right)
    statuses = [proxy.request("POST", "/api/v1/sessions", body=wrong, source="127.0.0.5",
                              headers={"X-Forwarded-For": f"10.9.8.{i}"}).status
                for i in range(8)]
    assert statuses[:6] == [401] * 6 and statuses[6:] == [429, 429], statuses
    # another address is not held back by the first
    r = proxy.request("POST", "/api/v1/sessions", body=wrong, source="127.0.0.6")
    assert r.status == 401, r
    # and the sessions list shows the member's own address, not the proxy's
    c = Client(proxy, email, source="127.0.0.7")  # its own address: not yet limited
    mine = c.get("/api/v1/me/sessions").json()["items"]
    assert [s["ip"] for s in mine if s["current"]] == ["127.0.0.7"]


def test_live_events_reach_streams_on_either_instance_once(stack):
    proxy, a, b = stack["proxy"], stack["a"], stack["b"]
    m = sign_in(proxy, stack["people"][0].email)
    t = m.call("POST", "/api/v1/threads", body={
        "category_id": 1, "title": "Live across instances", "body": "Start."}).json()["thread"]
    streams = [EventStream(proxy.port, f"/api/v1/events?thread={t['id']}", token=m.token)
               for _ in range(4)]
    assert all(s.status == 200 for s in streams)
    time.sleep(0.3)
    subs = [metrics(s).get("confer_sse_subscribers", 0) for s in (a, b)]
    assert subs[0] >= 1 and subs[1] >= 1, subs
    posted = []
    for i in range(10):
        r = m.call("POST", f"/api/v1/threads/{t['id']}/posts", body={"body": f"Live {i}"})
        assert r.status == 201, r
        posted.append(r.json()["id"])
    for s in streams:
        got = [e["json"]["id"] for e in s.events(10, timeout=15)
               if e.get("event") == "post.created"]
        assert got == posted
        extra = [e for e in s.events(3, timeout=1) if e.get("event") == "post.created"]
        assert extra == [], extra
        s.close()


def test_deliveries_emails_and_due_notices_are_sent_once(stack):
    proxy, admin, hooks, sink = stack["proxy"], stack["admin"], stack["hooks"], stack["sink"]
    r = admin.call("POST", "/api/v1/webhooks", body={
        "url": hooks.url("/once"), "events": ["post.created", "response.due"],
        "secret": "a webhook secret of some length"})
    assert r.status == 201, r
    # a group with a mentor: a mentee's unanswered question falls due after 3 s
    mentor = member(proxy, admin, "Mentor Scale", profession="psychiatrist")
    mentee = member(proxy, admin, "Mentee Scale")
    g = group_of(admin, "Scale group", mentor, mentee)
    q = mentee.call("POST", "/api/v1/threads", body={
        "group_id": g["id"], "title": "Unanswered at scale", "body": "Tapering question."})
    assert q.status == 201, q
    tid = q.json()["thread"]["id"]
    posts = [q.json()["post"]["id"]]
    for i in range(14):  # each reply mails the mentor (immediate emails)
        r = mentee.call("POST", f"/api/v1/threads/{tid}/posts", body={"body": f"More {i}"})
        assert r.status == 201, r
        posts.append(r.json()["id"])
    got = hooks.wait_for(len(posts), path="/once", event="post.created", timeout=30)
    due = hooks.wait_for(1, path="/once", event="response.due", timeout=30)
    time.sleep(3)  # more sweeps and claims on both instances: still once each
    got = hooks.received(path="/once", event="post.created")
    ids = sorted(json.loads(g_["body"])["data"]["post"]["id"] for g_ in got)
    assert ids == sorted(posts)  # each post once, none missing
    deliveries = [g_["headers"]["x-confer-delivery"] for g_ in got]
    assert len(set(deliveries)) == len(deliveries)
    assert len(hooks.received(path="/once", event="response.due")) == 1, due
    notices = mentor.get("/api/v1/notifications?limit=100").json()["items"]
    assert len([n for n in notices if n["kind"] == "response_due"]) == 1
    # every email the outbox holds for the mentor arrived, each once (its Message-ID is
    # the delivery's id)
    wait_for("the mentor's emails", lambda: psql(stack["url"], (
        "SELECT count(*) FROM outbox WHERE channel = 'email' AND state = 'pending' "
        f"AND user_id = {mentor.id}")) == "0")
    queued = set(psql(stack["url"], "SELECT delivery FROM outbox WHERE channel = 'email' "
                                    f"AND user_id = {mentor.id}").split())
    assert queued, "the mentor was mailed"
    mails = [m_ for m_ in sink.messages if mentor.email in m_["to"]]
    mids = [re.search(rb"Message-ID: <([0-9a-f-]+)@", m_["data"]).group(1).decode()
            for m_ in mails]
    assert sorted(mids) == sorted(queued)


class Load(Background):
    """Writers and readers through nginx until stopped; every outcome recorded."""

    def __init__(self, proxy, writer, readers, tid):
        super().__init__()
        self.proxy, self.writer, self.readers, self.tid = proxy, writer, readers, tid
        self.writes, self.reads = [], []
        self.threads = [threading.Thread(target=self.write)] + [
            threading.Thread(target=self.read, args=(r,)) for r in readers]

    def write(self):
        i = 0
        while not self.stop.is_set():
            i += 1
            try:
                r = self.writer.call("POST", f"/api/v1/threads/{self.tid}/posts",
                                     body={"body": f"Under load {i}"}, timeout=15)
                self.writes.append((r.status, r.json().get("id") if r.status == 201 else None))
            except OSError as e:
                self.writes.append((type(e).__name__, None))

    def read(self, reader):
        while not self.stop.is_set():
            try:
                self.reads.append(reader.get(f"/api/v1/threads/{self.tid}", timeout=15).status)
            except OSError as e:
                self.reads.append(type(e).__name__)


def resume(proxy, token, path, last_id):
    return EventStream(proxy.port, path, token=token, last_event_id=last_id)


def test_the_replica_stopped_mid_run_fails_no_read(stack):
    proxy, a, b, replica = stack["proxy"], stack["a"], stack["b"], stack["replica"]
    writer = sign_in(proxy, stack["people"][1].email)
    readers = [sign_in(proxy, p.email) for p in stack["people"][2:4]]
    t = writer.call("POST", "/api/v1/threads", body={
        "category_id": 1, "title": "Replica away", "body": "Start."}).json()["thread"]
    time.sleep(WINDOW + 1)
    with Load(proxy, writer, readers, t["id"]) as load:
        time.sleep(1.5)
        replica.stop("fast")
        time.sleep(3)
        usable = [metrics(s)["confer_replica_usable"] for s in (a, b)]
        replica.start()
        wait_for("the replica to be used again",
                 lambda: all(metrics(s)["confer_replica_usable"] == 1 for s in (a, b)))
        reads_back = sum(metrics(s)["confer_replica_reads_total"] for s in (a, b))
        time.sleep(1.5)
    assert usable == [0, 0], usable
    assert load.reads and set(load.reads) == {200}, sorted(set(map(str, load.reads)))
    assert {w[0] for w in load.writes} == {201}
    after = sum(metrics(s)["confer_replica_reads_total"] for s in (a, b))
    assert after > reads_back, "reads went back to the replica"


def test_one_instance_stopped_mid_run_loses_nothing(stack):
    proxy, a, b = stack["proxy"], stack["a"], stack["b"]
    writer = sign_in(proxy, stack["people"][1].email)
    readers = [sign_in(proxy, p.email) for p in stack["people"][2:4]]
    t = writer.call("POST", "/api/v1/threads", body={
        "category_id": 1, "title": "An instance away", "body": "Start."}).json()["thread"]
    path = f"/api/v1/events?thread={t['id']}"
    streams = [EventStream(proxy.port, path, token=writer.token) for _ in range(4)]
    seen = [[] for _ in streams]
    with Load(proxy, writer, readers, t["id"]) as load:
        time.sleep(1.5)
        assert a.stop() == 0, a.log_text()[-3000:]  # SIGTERM: it finishes what it holds
        time.sleep(3)
    # every stream: events until its instance ended it, then resumed through nginx
    # (on the other instance) from the last id it had
    written = [w[1] for w in load.writes if w[0] == 201]
    for k, s in enumerate(streams):
        last = None
        deadline = time.time() + 20
        while time.time() < deadline and (not seen[k] or seen[k][-1] != written[-1]):
            ev = s.next(timeout=2)
            if ev is None and s.closed:
                s.close()
                s = streams[k] = resume(proxy, writer.token, path, last)
                assert s.status == 200
                continue
            if ev and ev.get("event") == "post.created":
                seen[k].append(ev["json"]["id"])
            if ev and "id" in ev:
                last = ev["id"]
        s.close()
        assert seen[k] == written, (k, len(seen[k]), len(written))
    statuses = {w[0] for w in load.writes}
    assert statuses == {201}, statuses
    assert set(load.reads) == {200}, sorted(set(map(str, load.reads)))
    assert len(written) > 20
    stored = psql(stack["url"], "SELECT count(*) FROM posts WHERE id = ANY('{%s}'::bigint[])"
                  % ",".join(map(str, written)))
    assert int(stored) == len(written)
