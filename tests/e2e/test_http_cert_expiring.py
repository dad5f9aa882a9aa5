"""A certificate good for two more days, checked with cert-expiry 14d.

The service works, but its certificate expires within the bound: the
incident's cause gives the expiry date (read from the leaf certificate)
and the bound.  The same server checked with cert-expiry 1d is up.
"""
from conftest import (incidents_of, rules_file, start_daemon, wait_for,
                      wait_incident)
from http_target import (  # noqa: F401
    CertAuthority, http_client, http_system, http_targets)


def test_http_cert_expiring_within_bound(scenario, workdir, http_targets, http_client):
    ca = CertAuthority(workdir)
    cert, key = ca.issue("soon", 2)
    tls = http_targets(cert, key)
    d = scenario.daemon()
    d.write_rules(rules_file(
        d.db,
        http_system("webmail", tls.url(),
                    f'ca-file "{ca.cert}" cert-expiry 14d', every="500ms",
                    timeout="400ms"),
        http_system("relaxed", tls.url("/relaxed"),
                    f'ca-file "{ca.cert}" cert-expiry 1d', every="500ms",
                    timeout="400ms")))
    start_daemon(d)
    inc = wait_incident(d.db, "webmail")
    cause = inc["cause"]
    assert "cert-expiring" in cause, cause
    assert f"certificate expires {ca.not_after(cert)}, within 14d" in cause, \
        cause

    wait_for(lambda: sum(r["path"] == "/relaxed" for r in tls.requests) >= 4,
             15, "four probes of the relaxed check")
    assert incidents_of(d.db, "relaxed") == [], \
        "two days left is fine under cert-expiry 1d"
    d.stop()
