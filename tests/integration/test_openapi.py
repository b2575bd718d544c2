"""docs/openapi.yaml must describe exactly the routes the server has (SPEC section 4:
the API reference must match the code)."""
import os
import re

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


def routes_in_code():
    src = open(os.path.join(ROOT, "server", "routes.c")).read()
    out = set()
    for methods, path in re.findall(r'\{(CF_[A-Z_ |]+),\s*"([^"]+)"', src):
        for m in methods.split("|"):
            out.add((m.strip()[3:].lower(), path))
    return out


def routes_in_openapi():
    out = set()
    path = None
    for line in open(os.path.join(ROOT, "docs", "openapi.yaml")):
        m = re.match(r"^  (/\S*):\s*$", line)
        if m:
            path = m.group(1)
            continue
        if re.match(r"^\S", line):
            path = None
        m = re.match(r"^    (get|post|put|patch|delete):\s*$", line)
        if m and path:
            out.add((m.group(1), path))
    return out


def test_every_route_is_documented_and_every_documented_route_exists():
    code, doc = routes_in_code(), routes_in_openapi()
    assert code, "no routes found in server/routes.c"
    assert code - doc == set(), f"undocumented routes: {sorted(code - doc)}"
    assert doc - code == set(), f"documented but missing: {sorted(doc - code)}"


def test_every_operation_has_an_operation_id():
    text = open(os.path.join(ROOT, "docs", "openapi.yaml")).read()
    ops = len(re.findall(r"^    (?:get|post|put|patch|delete):\s*$", text, re.M))
    ids = len(re.findall(r"^      operationId: \w+$", text, re.M))
    assert ops == ids and ops > 0


def test_the_document_is_valid_yaml_with_resolvable_references():
    import yaml
    doc = yaml.safe_load(open(os.path.join(ROOT, "docs", "openapi.yaml")))
    assert doc["openapi"].startswith("3.1")
    text = open(os.path.join(ROOT, "docs", "openapi.yaml")).read()
    for ref in set(re.findall(r'\$ref: "#/components/(\w+)/(\w+)"', text)):
        assert ref[1] in doc["components"][ref[0]], f"dangling $ref {ref}"
