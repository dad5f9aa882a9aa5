"""A web service that answers well is probed and opens no incident.

Plain HTTP with a status and a text to find, and HTTPS with the test CA
(ca-file) and a certificate good for ten years under cert-expiry 14d: every
probe is "ok" in the daemon's log (-v), the server sees one request per
probe, each on a connection of its own, and no incident is recorded.
"""
from conftest import incidents, rules_file, start_daemon, wait_for
from http_target import (  # noqa: F401
    CertAuthority, http_client, http_system, http_targets)


def ok_lines(log, url):
    return [l for l in log.splitlines() if url in l and ": ok in " in l]


def test_http_and_https_up_no_incident(scenario, workdir, http_targets, http_client):
    ca = CertAuthority(workdir)
    cert, key = ca.issue("good", 365)
    web = http_targets()
    tls = http_targets(cert, key)
    d = scenario.daemon()
    d.write_rules(rules_file(
        d.db,
        http_system("web", web.url("/login"), 'status 200 contains "Webmail"'),
        http_system("secure", tls.url(),
                    f'ca-file "{ca.cert}" cert-expiry 14d',
                    every="500ms", timeout="400ms")))
    start_daemon(d)

    for url in (web.url("/login"), tls.url()):
        wait_for(lambda: len(ok_lines(d.run_log(), url)) >= 4, 20,
                 f"four ok probes of {url} in the log")
    assert incidents(d.db) == [], "no incident while the services answer"
    assert all(r["method"] == "GET" and r["path"] == "/login"
               for r in web.requests), web.requests
    assert len(web.requests) >= 4
    assert tls.count("handshake_failures") == 0
    d.stop()
