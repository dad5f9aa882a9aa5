"""A certificate that has expired: curl refuses it, the daemon says why.

The certificate is signed by the test CA (trusted through ca-file), so
the only thing wrong with it is its date.
"""
from conftest import rules_file, start_daemon, wait_incident
from http_target import (  # noqa: F401
    CertAuthority, http_client, http_system, http_targets)


def test_http_cert_expired(scenario, workdir, http_targets, http_client):
    ca = CertAuthority(workdir)
    cert, key = ca.issue("expired", -1)
    tls = http_targets(cert, key)
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, http_system(
        "webmail", tls.url(), f'ca-file "{ca.cert}"', every="500ms",
        timeout="400ms")))
    start_daemon(d)
    inc = wait_incident(d.db, "webmail")
    assert "cert-expired" in inc["cause"], inc["cause"]
    assert "certificate has expired" in inc["cause"], inc["cause"]
    d.stop()
