"""Static files of the web client: MIME types, validators, no way out of web/."""
import os
import tempfile

import pytest

from harness import Server, TMP, raw_exchange


def test_root_serves_index_html(server):
    r = server.get("/")
    assert r.status == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert b"<!doctype html>" in r.body.lower()
    assert "default-src 'self'" in r.headers["content-security-policy"]


def test_css_has_its_mime_type(server):
    r = server.get("/style.css")
    assert r.status == 200
    assert r.headers["content-type"] == "text/css; charset=utf-8"


def test_etag_and_last_modified_revalidate_to_304(server):
    r = server.get("/index.html")
    etag, modified = r.headers["etag"], r.headers["last-modified"]
    assert server.get("/index.html", headers={"If-None-Match": etag}).status == 304
    assert server.get("/index.html", headers={"If-Modified-Since": modified}).status == 304
    assert server.get("/index.html", headers={"If-None-Match": '"other"'}).status == 200


def test_missing_file_is_404(server):
    r = server.get("/nope.js")
    assert r.status == 404
    assert r.json()["code"] == "not_found"


@pytest.mark.parametrize("path", [
    b"/../../../../etc/passwd",
    b"/%2e%2e/%2e%2e/etc/passwd",
    b"/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
    b"/..%2f..%2f..%2fetc%2fpasswd",
    b"/.%2e/.%2e/etc/passwd",
    b"/%252e%252e/etc/passwd",
    b"/..%5c..%5cetc%5cpasswd",
    b"/static/../../etc/passwd",
    b"//etc/passwd",
])
def test_traversal_attempts_are_404(server, path):
    out = raw_exchange(server.port, b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n"
                       b"Connection: close\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 404"), (path, out[:200])
    assert b"root:" not in out


@pytest.fixture(scope="module")
def web_with_links():
    root = tempfile.mkdtemp(prefix="web-", dir=TMP)
    with open(os.path.join(root, "index.html"), "w") as f:
        f.write("<!doctype html><title>t</title>")
    os.mkdir(os.path.join(root, "sub"))
    with open(os.path.join(root, "sub", "inside.txt"), "w") as f:
        f.write("inside")
    os.symlink("/etc/passwd", os.path.join(root, "leak.txt"))
    os.symlink("/etc", os.path.join(root, "etcdir"))
    os.symlink(os.path.join(root, "sub", "inside.txt"), os.path.join(root, "alias.txt"))
    s = Server(web_root=root, workers=1).start()
    yield s
    assert s.stop() == 0


def test_symlinks_out_of_web_root_are_404(web_with_links):
    assert web_with_links.get("/leak.txt").status == 404
    assert web_with_links.get("/etcdir/passwd").status == 404
    assert web_with_links.get("/etcdir/").status == 404


def test_files_and_links_inside_web_root_are_served(web_with_links):
    assert web_with_links.get("/sub/inside.txt").body == b"inside"
    assert web_with_links.get("/alias.txt").body == b"inside"
    assert web_with_links.get("/sub/").status == 404  # a folder without index.html


def test_non_get_on_static_is_405(server):
    r = server.request("PUT", "/index.html", body={})
    assert r.status == 405
    assert r.headers["allow"] == "GET, HEAD, OPTIONS"


def test_pages_carry_the_document_headers_and_json_does_not_need_them(server):
    page = server.get("/")
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cross-origin-opener-policy"] == "same-origin"
    assert "camera=()" in page.headers["permissions-policy"]
    api = server.get("/api/v1/networks")
    assert api.headers["content-security-policy"].startswith("default-src 'none'")
