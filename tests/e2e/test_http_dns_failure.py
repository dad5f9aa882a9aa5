"""A URL whose host name cannot be resolved: a DNS failure.

The name is under .invalid, the TLD reserved never to resolve (RFC 6761):
the daemon fails it itself, so no query leaves this host.
"""
from conftest import rules_file, start_daemon, wait_incident
from http_target import http_system


def test_http_dns_failure(scenario):
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, http_system(
        "ghost", "http://no-such-host.invalid/")))
    start_daemon(d)
    inc = wait_incident(d.db, "ghost")
    assert "dns-failure" in inc["cause"], inc["cause"]
    assert "cannot resolve no-such-host.invalid" in inc["cause"], \
        inc["cause"]
    d.stop()
