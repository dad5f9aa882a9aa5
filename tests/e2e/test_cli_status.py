"""`rtowatch status` shows each check's last result, its round trip and
its failures in a row, as the IMS team reads them at a glance.

A service that answers: "ok in N ms: connected", N the round trip the
probe measured.  A closed port: "refused, N in a row: Connection
refused", N counting up while it stays closed, and no round trip.  The
same figures are in the socket's JSON (rtt_ms, failures).
"""
import re

from conftest import api, cli, rules_file, start_daemon, system_rules, \
    wait_for


def check_of(d, name):
    status, body = api(d.sock, "GET", "/v1/status")
    assert status == 200, body
    return next(s for s in body["systems"] if s["name"] == name)["checks"][0]


def test_status_shows_rtt_and_failures_in_a_row(scenario):
    svc = scenario.listener()
    closed = scenario.closed_port()
    d = scenario.daemon()
    d.write_rules(rules_file(
        d.db,
        system_rules("web", svc.port, every="200ms", timeout="150ms"),
        system_rules("gone", closed, every="200ms", timeout="150ms",
                     down_after=10)))
    start_daemon(d)

    gone = wait_for(lambda: (lambda c: c if c["failures"] >= 4 else None)(
        check_of(d, "gone")), 15, "four refused probes in a row")
    assert gone["result"] == "refused" and gone["rtt_ms"] is None, gone
    web = wait_for(lambda: (lambda c: c if c["result"] == "ok" else None)(
        check_of(d, "web")), 15, "an ok probe of web")
    assert isinstance(web["rtt_ms"], int) and 0 <= web["rtt_ms"] < 150, web
    assert web["failures"] == 0, web

    rc, out, err = cli("--socket", d.sock, "status")
    assert rc == 0, err
    lines = {l.split()[3]: l for l in out.splitlines()
             if l.startswith("    tcp 127.0.0.1 port ")}
    ok = lines[str(svc.port)]
    assert re.search(r" ok in \d+ ms: connected$", ok), ok
    bad = lines[str(closed)]
    m = re.search(r" refused, (\d+) in a row: Connection refused$", bad)
    assert m and int(m.group(1)) >= 4, bad
    assert " ms" not in bad, bad
    d.stop()
