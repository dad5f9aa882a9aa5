"""method HEAD and header options reach the server as written.

The server records each request: the method is HEAD, the extra headers
are there with their values, and the system stays up.
"""
from conftest import incidents, rules_file, start_daemon, wait_for
from http_target import http_system, http_targets  # noqa: F401


def test_http_head_and_headers(scenario, http_targets):
    web = http_targets()
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, http_system(
        "api", web.url("/health"),
        'method HEAD header "X-Probe: rtowatch e2e" '
        'header "Authorization: Bearer s3cret" status 200')))
    start_daemon(d)
    wait_for(lambda: len(web.requests) >= 3, 15, "three probes at the server")
    for r in web.requests:
        assert r["method"] == "HEAD", r
        assert r["path"] == "/health", r
        assert r["headers"].get("X-Probe") == "rtowatch e2e", r
        assert r["headers"].get("Authorization") == "Bearer s3cret", r
    assert incidents(d.db) == []
    d.stop()
