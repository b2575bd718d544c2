import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from harness import Client, Cluster, Server, create_admin  # noqa: E402


@pytest.fixture(scope="session")
def server():
    """One server shared by the tests that only read; stopped cleanly at the end,
    and its exit status checked (a sanitizer report makes it non-zero)."""
    s = Server(workers=2, extra_env={"CONFER_RATE_LIMITS": "off"}).start()
    yield s
    rc = s.stop()
    assert rc == 0, f"confer exited with {rc}:\n{s.log_text()[-4000:]}"


@pytest.fixture(scope="module")
def admin(server):
    """An admin of the shared server who has accepted the guidelines, one per test file."""
    return Client(server, create_admin()).accept_guidelines()


@pytest.fixture
def cluster():
    """A private PostgreSQL cluster of the test's own, for stopping and starting it."""
    c = Cluster()
    c.start()
    yield c
    c.destroy()
