"""The control socket under valgrind: every kind of action, a refusal, a
malformed request, and a long poll still waiting at shutdown, then
SIGTERM.  memcheck's exit code (99 on any error or definite/indirect
leak) must be the daemon's clean 0.  Runs against the release build.
"""
import threading

from conftest import VALGRIND, require_valgrind
from conftest import (api, rules_file, system_rules, wait_for,
                      wait_incident, wait_socket)


def test_control_under_valgrind(scenario):
    require_valgrind()

    svc = scenario.listener()
    d = scenario.daemon()
    d.wrapper = list(VALGRIND)
    d.write_rules(rules_file(d.db, system_rules(
        "hr", svc.port, core=True, every="300ms", timeout="200ms")))
    d.start()
    wait_socket(d.sock, timeout=60)
    svc.stop()
    iid = wait_incident(d.db, "hr", timeout=30)["id"]
    inc = f"/v1/incidents/{iid}"

    for method, path, body, want in (
            ("GET", "/v1/status", None, 200),
            ("GET", "/v1/incidents?status=open", None, 200),
            ("GET", inc, None, 200),
            ("POST", inc + "/ack", {"note": "seen"}, 200),
            ("POST", inc + "/reported", {"ticket": "T-9"}, 200),
            ("POST", inc + "/set", {"field": "category", "value": "DOS-1"},
             200),
            ("POST", inc + "/level", {"integrity": 3, "reason": "r"}, 200),
            ("POST", inc + "/controlled", {}, 200),
            ("POST", inc + "/close", {}, 409),
            ("POST", "/v1/warnings", {"source": "N-ASOC", "summary": "s"},
             200),
            ("POST", "/v1/warnings/1/answer", {"answer": "confirmed"}, 200),
            ("POST", "/v1/maintenance", {"system": "hr", "for": "1h"}, 200),
            ("GET", "/v1/warnings", None, 200),
            ("GET", "/v1/events?after=0", None, 200),
            ("POST", inc + "/ack", {"bogus": 1}, 400)):
        status, reply = api(d.sock, method, path, body)
        assert status == want, (method, path, reply)

    # A client still waiting when the daemon stops gets its (empty) reply.
    _, last = api(d.sock, "GET", "/v1/events")
    got = {}
    waiter = threading.Thread(target=lambda: got.setdefault(
        "r", api(d.sock, "GET", f"/v1/events?after={last['last']}&wait=50")))
    waiter.start()
    wait_for(lambda: api(d.sock, "GET", "/v1/status")[1]["event_clients"]
             == 1, 30, "the long poll to be waiting")
    d.stop()    # requires exit 0: valgrind would exit 99 on a leak
    waiter.join(60)
    assert got["r"][0] == 200 and got["r"][1]["events"] == [], got
    assert "definitely lost" not in d.log(), d.tail(80)
