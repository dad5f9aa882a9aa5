"""The web server stops: connections are refused, an incident opens."""
from conftest import (incidents, rules_file, start_daemon, wait_for,
                      wait_incident)
from http_target import http_system, http_targets  # noqa: F401


def test_http_refused_when_server_stops(scenario, http_targets):
    web = http_targets()
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, http_system("intranet", web.url())))
    start_daemon(d)
    wait_for(lambda: len(web.requests) >= 3, 15, "three probes answered")
    assert incidents(d.db) == []

    web.stop()
    inc = wait_incident(d.db, "intranet")
    assert "refused" in inc["cause"], inc["cause"]
    assert "Connection refused" in inc["cause"], inc["cause"]
    d.stop()
