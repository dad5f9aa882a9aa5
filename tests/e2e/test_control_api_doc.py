"""docs/control-api.md against the daemon's route table.

`rtowatchd -R` prints the table the control socket dispatches on
("METHOD PATH ROLE [MEMBER,...]").  Every route must be documented with
its method and path, every documented route must exist, the queries must
be open to auditors and the actions to operators only, and an action's
body column must name exactly the members the route accepts (an
undocumented member is as wrong as a documented one the daemon refuses).

The members of an INCIDENT and a WARNING the page lists must be what the
daemon answers: it reads named columns, so a column a migration adds does
not reach the API until it is named in control.c and on the page.
"""
import os
import re
import subprocess

from conftest import (api, binary, rules_file, system_rules, wait_incident,
                      wait_socket)

DOC = os.path.join(os.path.dirname(__file__), "..", "..", "docs",
                   "control-api.md")


def doc_text():
    with open(DOC, encoding="utf-8") as f:
        return f.read()


def section(text, title):
    """The lines under '## TITLE...' up to the next '## '."""
    m = re.search(r"^## " + re.escape(title) + r".*?$(.*?)(?=^## |\Z)", text,
                  re.M | re.S)
    assert m, f"no section {title!r} in docs/control-api.md"
    return m.group(1)


def doc_path(p):
    """`/v1/incidents/ID/ack` -> /v1/incidents/:id/ack; a query dropped."""
    p = re.split(r"[\[?]", p)[0]
    return re.sub(r"/ID(?=/|$)", "/:id", p)


def body_members(cell):
    """The member names in a body cell: `{"to", "by": "phone|fax",
    "at"?}` -> {to, by, at}; values ("phone|fax", "2h") are not names."""
    return set(re.findall(r'"([a-z_]+)"\??\s*(?=[:,}\\])', cell))


def documented():
    """{(method, path): (role, members or None)} from the page."""
    text = doc_text()
    routes = {}
    queries = section(text, "Queries")
    assert "(operator, auditor)" in text.split("## Queries")[1].split("\n")[0]
    for m in re.finditer(r"^- `GET (/v1/[^`]*|/metrics)`", queries, re.M):
        routes[("GET", doc_path(m.group(1)))] = ("auditor", None)
    actions = section(text, "Actions")
    assert "(operator)" in text.split("## Actions")[1].split("\n")[0]
    for m in re.finditer(r"^\| `(/v1/[^`]*)` \| (.*?) \| ", actions, re.M):
        routes[("POST", doc_path(m.group(1)))] = (
            "operator", body_members(m.group(2)))
    return routes


def table():
    """{(method, path): (role, members or None)} from rtowatchd -R."""
    out = subprocess.run([binary("rtowatchd"), "-R"], capture_output=True,
                         text=True, timeout=10, check=True).stdout
    routes = {}
    for line in out.splitlines():
        f = line.split(" ")
        assert len(f) in (3, 4), line
        assert (f[0], f[1]) not in routes, f"route twice: {line}"
        routes[(f[0], f[1])] = (f[2], set(f[3].split(",")) if len(f) == 4
                                else None)
    return routes


def test_every_route_is_documented_and_every_documented_route_exists():
    doc, code = documented(), table()
    assert len(code) >= 20, code
    assert set(code) - set(doc) == set(), \
        f"routes missing from docs/control-api.md: {set(code) - set(doc)}"
    assert set(doc) - set(code) == set(), \
        f"documented routes the daemon lacks: {set(doc) - set(code)}"
    for key, (role, members) in code.items():
        drole, dmembers = doc[key]
        assert role == drole, (key, role, drole)
        if key[0] == "POST":
            assert members == dmembers, (key, members, dmembers)
        else:
            assert members is None, (key, members)


def listed(name):
    """The members the page gives for an INCIDENT or a WARNING."""
    m = re.search(r"^An? `" + name + r"` is `\{(.*?)\}`", doc_text(),
                  re.M | re.S)
    assert m, f"docs/control-api.md does not list the members of {name}"
    return set(re.findall(r'"([a-z_]+)"', m.group(1)))


def test_records_carry_the_documented_members(scenario):
    svc = scenario.listener()
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, system_rules("vpn", svc.port)))
    d.start()
    wait_socket(d.sock)
    svc.stop()
    iid = wait_incident(d.db, "vpn")["id"]
    status, body = api(d.sock, "POST", "/v1/warnings",
                       {"source": "N-ASOC", "summary": "scan from 192.0.2.7"})
    assert status == 200, body

    status, body = api(d.sock, "GET", "/v1/incidents")
    assert status == 200, body
    (inc,) = body["incidents"]
    assert inc["id"] == iid
    assert set(inc) == listed("INCIDENT"), set(inc) ^ listed("INCIDENT")
    status, body = api(d.sock, "GET", f"/v1/incidents/{iid}")
    assert status == 200, body
    assert set(body) == listed("INCIDENT") | {
        "timeline", "clocks", "affected", "notifications", "contacts"}

    status, body = api(d.sock, "GET", "/v1/warnings")
    assert status == 200, body
    (w,) = body["warnings"]
    assert set(w) == listed("WARNING"), set(w) ^ listed("WARNING")
    d.stop()
