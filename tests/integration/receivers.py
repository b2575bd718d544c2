"""Real receivers on loopback for the outbox tests: an SMTP sink that records the
messages it is given (plain, STARTTLS or TLS from the first byte) and an HTTP server
that records webhook deliveries and can be told to fail. Both speak the real protocols
to the real server; nothing is mocked."""
import email
import email.policy
import http.server
import os
import socketserver
import ssl
import subprocess
import threading
import time


def wait_until(count, n, timeout, what):
    """Polls count() until it reaches n; returns its last list or fails saying what."""
    deadline = time.time() + timeout
    while True:
        got = count()
        if len(got) >= n:
            return got
        if time.time() > deadline:
            raise AssertionError(f"{len(got)} of {n} {what} arrived")
        time.sleep(0.05)


def self_signed_cert(directory):
    """A certificate for 127.0.0.1 (and its key) in directory, made by openssl."""
    cert, key = os.path.join(directory, "sink.crt"), os.path.join(directory, "sink.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


class _SmtpHandler(socketserver.StreamRequestHandler):
    def setup(self):
        sink = self.server.sink
        self.tls = False
        if sink.mode == "tls":
            self.request = sink.context.wrap_socket(self.request, server_side=True)
            self.tls = True
        super().setup()

    def send(self, line):
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def rewrap(self):
        self.request = self.server.sink.context.wrap_socket(self.request, server_side=True)
        self.rfile = self.request.makefile("rb")
        self.wfile = self.request.makefile("wb")
        self.tls = True

    def handle(self):
        sink = self.server.sink
        self.send("220 sink.test ESMTP")
        mail_from, rcpts = None, []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            text = line.decode("ascii", "replace").rstrip("\r\n")
            verb = text.split(" ", 1)[0].upper()
            if verb == "EHLO":
                lines = ["sink.test", "8BITMIME", "SIZE 10485760"]
                if sink.mode == "starttls" and not self.tls:
                    lines.insert(1, "STARTTLS")
                for ext in lines[:-1]:
                    self.send("250-" + ext)
                self.send("250 " + lines[-1])
            elif verb == "HELO":
                self.send("250 sink.test")
            elif verb == "STARTTLS" and sink.mode == "starttls" and not self.tls:
                self.send("220 ready to start TLS")
                self.rewrap()
                mail_from, rcpts = None, []
            elif verb == "MAIL":
                if sink.mode == "starttls" and not self.tls:
                    self.send("530 must issue STARTTLS first")
                    continue
                mail_from = text[text.index("<") + 1:text.index(">")]
                rcpts = []
                self.send("250 ok")
            elif verb == "RCPT":
                address = text[text.index("<") + 1:text.index(">")]
                if address in sink.reject:
                    self.send(f"{sink.reject[address]} no such mailbox")
                else:
                    rcpts.append(address)
                    self.send("250 ok")
            elif verb == "DATA":
                self.send("354 end with <CRLF>.<CRLF>")
                data = []
                while True:
                    chunk = self.rfile.readline()
                    if not chunk or chunk == b".\r\n":
                        break
                    data.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                with sink.lock:
                    fail = sink.temp_failures > 0
                    if fail:
                        sink.temp_failures -= 1
                    else:
                        sink.messages.append({"from": mail_from, "to": list(rcpts),
                                              "data": b"".join(data), "tls": self.tls,
                                              "at": time.time()})
                self.send("451 try again later" if fail else "250 queued")
            elif verb in ("RSET", "NOOP"):
                self.send("250 ok")
            elif verb == "QUIT":
                self.send("221 bye")
                return
            else:
                self.send("502 not implemented")


class _ThreadingTCP(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


class SmtpSink:
    """mode: "plain", "starttls" (STARTTLS offered and required) or "tls" (smtps)."""

    def __init__(self, mode="plain", cert=None, key=None):
        self.mode = mode
        self.messages = []
        self.reject = {}          # address -> SMTP code answered to RCPT
        self.temp_failures = 0    # DATA answered 451 this many times
        self.lock = threading.Lock()
        self.context = None
        if mode != "plain":
            self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.context.load_cert_chain(cert, key)
        self.server = _ThreadingTCP(("127.0.0.1", 0), _SmtpHandler)
        self.server.sink = self
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self):
        scheme = {"plain": "smtp", "starttls": "smtp+starttls", "tls": "smtps"}[self.mode]
        return f"{scheme}://127.0.0.1:{self.port}"

    def to(self, address):
        with self.lock:
            return [m for m in self.messages if address in m["to"]]

    def wait_for(self, address, n=1, timeout=20):
        return wait_until(lambda: self.to(address), n, timeout, f"messages to {address}")

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def parse(message):
    """The message as email.message.EmailMessage (headers decoded, body as text)."""
    return email.message_from_bytes(message["data"], policy=email.policy.default)


class _WebhookHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        receiver = self.server.receiver
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        if receiver.delay:
            time.sleep(receiver.delay)
        with receiver.lock:
            status = 200
            if receiver.fail_always or receiver.fail_next > 0:
                status = receiver.fail_status
                receiver.fail_next = max(0, receiver.fail_next - 1)
            record = {"at": time.time(), "path": self.path, "body": body,
                      "headers": {k.lower(): v for k, v in self.headers.items()},
                      "status": status, "answered": False}
            receiver.requests.append(record)
        answer = b'{"ok":true}' if status < 300 else b"receiver is down for the test"
        try:
            self.send_response(status)
            if not receiver.threaded:
                self.close_connection = True  # one request a connection, or the next waits
                self.send_header("Connection", "close")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
            self.wfile.flush()
            record["answered"] = True  # the answer left; the sender may still not read it
        except OSError:
            self.close_connection = True  # the sender is gone (killed, or it gave up)

    def log_message(self, fmt, *args):
        pass


class WebhookReceiver:
    """threaded=False answers one request at a time, so a backlog forms behind it."""

    def __init__(self, threaded=True):
        self.requests = []
        self.fail_next = 0
        self.fail_always = False
        self.fail_status = 500
        self.delay = 0.0
        self.threaded = threaded
        self.lock = threading.Lock()
        cls = http.server.ThreadingHTTPServer if threaded else http.server.HTTPServer
        self.server = cls(("127.0.0.1", 0), _WebhookHandler)
        self.server.receiver = self
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path="/hook"):
        return f"http://127.0.0.1:{self.port}{path}"

    def received(self, path=None, event=None):
        with self.lock:
            return [r for r in self.requests
                    if (path is None or r["path"] == path)
                    and (event is None or r["headers"].get("x-confer-event") == event)]

    def wait_for(self, n, path=None, event=None, timeout=20):
        return wait_until(lambda: self.received(path, event), n, timeout, "requests")

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
