"""A standby's reads after PostgreSQL restarts (issue 21).

Two nodes share a private PostgreSQL register: n1 leads, n2 stands by.
A standby writes next to nothing on its records connection, so a server
restart is found out there only by its next read: the first `status`
after the restart used to answer 500.  A read refused because the
connection was lost is tried once more on a fresh one; and while the
register really cannot be reached, the answer says so (503 and why), not
a bare 500.
"""
import time

import pytest  # noqa: F401  (the fixture's skip)

from conftest import api, short_policy, wait_for
from smtpserver import SmtpServer
from test_pg_lead import PAIR, start_nodes, status
from test_pg_store import pg  # noqa: F401  (its server)


def start_pair(scenario, pg):
    smtp = SmtpServer(scenario.dir)       # never started: not the point
    service = scenario.listener()
    policy = short_policy(scenario.dir, notify="1h", notify_remind="30m")
    nodes = start_nodes(scenario, pg, smtp, service, policy, PAIR)
    return nodes["n1"], nodes["n2"]


def test_standby_status_after_server_restart(scenario, pg):
    n1, n2 = start_pair(scenario, pg)
    assert status(n2)["node"] == {"name": "n2", "role": "standby"}

    pg.stop(mode="fast")
    pg.start()
    # The very first status after the restart: answered in full.
    t0 = time.monotonic()
    code, body = api(n2.sock, "GET", "/v1/status")
    took = time.monotonic() - t0
    assert code == 200, (code, body, n2.tail())
    assert "connecting again to read" in n2.run_log(), n2.tail()
    print(f"first status after the restart: {took * 1000:.0f} ms")
    assert body["node"] == {"name": "n2", "role": "standby"}, body
    assert {n["name"] for n in body["nodes"]} == {"n1", "n2"}, body
    # And the incidents' list, another read of the same connection.
    pg.stop(mode="fast")
    pg.start()
    code, body = api(n2.sock, "GET", "/v1/incidents")
    assert code == 200, (code, body, n2.tail())
    for d in (n1, n2):
        d.stop()


def test_standby_status_register_unreachable(scenario, pg):
    n1, n2 = start_pair(scenario, pg)
    pg.stop(mode="fast")
    code, body = api(n2.sock, "GET", "/v1/status")
    # Not a bare 500: the register cannot be reached, and why.
    assert code == 503, (code, body)
    assert "cannot read the register" in body["error"], body
    print(body["error"])
    # libpq's reason, quoted.
    assert "refused" in body["error"] or "connect" in body["error"], body
    pg.start()
    wait_for(lambda: api(n2.sock, "GET", "/v1/status")[0] == 200, 10,
             "n2 reading again once the server is back")
    for d in (n1, n2):
        d.stop()
