"""TLS verification is on by default: an untrusted certificate is a TLS
error, and so is a certificate for another name.

The server's certificate is signed by the test's own CA.  Without
ca-file the system's CAs do not know it; with ca-file but reached as
"localhost", the certificate (for IP 127.0.0.1 only) does not match.
"""
from conftest import rules_file, start_daemon, wait_incident
from http_target import (  # noqa: F401
    CertAuthority, http_client, http_system, http_targets)


def test_http_tls_errors(scenario, workdir, http_targets, http_client):
    ca = CertAuthority(workdir)
    cert, key = ca.issue("server", 365)
    tls = http_targets(cert, key)
    d = scenario.daemon()
    d.write_rules(rules_file(
        d.db,
        http_system("untrusted", tls.url(), every="500ms",
                    timeout="400ms"),
        http_system("wrongname", tls.url(host="localhost"),
                    f'ca-file "{ca.cert}"', every="500ms",
                    timeout="400ms")))
    start_daemon(d)

    inc = wait_incident(d.db, "untrusted")
    assert "tls-error" in inc["cause"], inc["cause"]
    assert "certificate" in inc["cause"], inc["cause"]
    assert "local issuer" in inc["cause"], inc["cause"]

    other = wait_incident(d.db, "wrongname")
    assert "tls-error" in other["cause"], other["cause"]
    assert "localhost" in other["cause"], other["cause"]
    assert tls.requests == [], "no request is sent over an unverified TLS"
    d.stop()
