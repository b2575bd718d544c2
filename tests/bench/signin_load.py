"""Sends sign-ins at a fixed rate (default 20 a second) for a number of seconds, each
on its own connection and thread, as separate people signing in would. Prints the
rate achieved and the statuses. Used by tests/bench/signin."""
import http.client
import json
import sys
import threading
import time

port, email, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
rate = float(sys.argv[4]) if len(sys.argv) > 4 else 20.0
seconds = float(sys.argv[5]) if len(sys.argv) > 5 else 10.0
statuses, lock = {}, threading.Lock()
body = json.dumps({"email": email, "password": password})


def one():
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        c.request("POST", "/api/v1/sessions", body=body,
                  headers={"Content-Type": "application/json"})
        st = c.getresponse().status
    except OSError:
        st = "error"
    finally:
        c.close()
    with lock:
        statuses[st] = statuses.get(st, 0) + 1


threads = []
t0 = time.monotonic()
n = int(rate * seconds)
for i in range(n):
    delay = t0 + i / rate - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    t = threading.Thread(target=one)
    t.start()
    threads.append(t)
for t in threads:
    t.join()
elapsed = time.monotonic() - t0
print(f"sign-ins: {n} in {elapsed:.1f}s ({n / elapsed:.1f}/s) statuses {statuses}")
