"""A web service answers 500: the incident's cause says so, then it heals.

The check has no "status" option, so 2xx and 3xx are good: a redirect
(302, not followed) keeps the system up, a 500 takes it down and the cause
names the status and the range that was expected; back to 200, the
incident is restored.
"""
from conftest import (incidents, rules_file, start_daemon, wait_for,
                      wait_incident)
from http_target import http_system, http_targets  # noqa: F401


def test_http_bad_status_opens_incident_with_status(scenario, http_targets):
    web = http_targets()
    web.set(status=302)
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, http_system("portal", web.url())))
    start_daemon(d)
    wait_for(lambda: len(web.requests) >= 4, 15, "four probes answered 302")
    assert incidents(d.db) == [], "a 3xx answer is up by default"

    web.set(status=500)
    inc = wait_incident(d.db, "portal")
    cause = inc["cause"]
    assert "bad-status" in cause, cause
    assert "status 500" in cause, cause
    assert "expected 200-399" in cause, cause
    assert web.url() in cause, cause

    web.set(status=200)
    back = wait_incident(d.db, "portal", restored=True)
    assert back["id"] == inc["id"]
    d.stop()
