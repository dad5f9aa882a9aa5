"""The server accepts and reads the request but never answers in time.

The probe's timeout (300ms) is probe.c's: curl's own comes later, so the
cause is the daemon's "no answer within 300ms".
"""
from conftest import rules_file, start_daemon, wait_for, wait_incident
from http_target import http_system, http_targets  # noqa: F401


def test_http_timeout(scenario, http_targets):
    slow = http_targets()
    slow.set(delay=30)
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, http_system("slow", slow.url(),
                                               timeout="300ms")))
    start_daemon(d)
    inc = wait_incident(d.db, "slow")
    assert "timeout" in inc["cause"], inc["cause"]
    assert "no answer within 300ms" in inc["cause"], inc["cause"]
    # The request did reach the server: it was the answer that was late.
    wait_for(lambda: slow.requests, 5, "the request at the server")
    d.stop()
