"""https:// checks on the daemon's loop, with OpenSSL (issue 20).

An https check that follows no redirects runs on the loop's own client
(probes/tls_client.c): a non-blocking TLS handshake on the probe's socket,
then the same request and answer path as plain http.  libcurl's transfer
cost about 130 kB each and brought libcurl into the daemon.  The failures
a user reads must say what they said through curl, or better, so each
scenario here runs both ways (http_client: the loop, then
RTOWATCH_HTTP_CLIENT=curl), against real TLS servers on loopback with
certificates of a CA the test makes:

  byname     the same reached as "localhost": up, and the server was
             told the name (SNI)
  ipname     a certificate for "localhost" reached as 127.0.0.1
  notls      a server that answers in plain HTTP
  stall      a server that reads the ClientHello and never answers
  refused    a port nobody listens on
  boundary   cert-expiry just under and just over what is left

Then, on the loop only: a daemon with only https checks without
redirects never maps libcurl; a CA file that changed is read again at a
reload; a CA file that cannot be read is an error in the rules.
"""
import os
import re
import shutil
import socket
import threading

import pytest

from conftest import (incidents_of, rules_file, rules_check, start_daemon,
                      wait_for, wait_incident)
from http_target import (  # noqa: F401
    CertAuthority, http_client, http_system, http_targets)


def ok_lines(d, url):
    return [l for l in d.run_log().splitlines()
            if url in l and ": ok in " in l]


def mapped(d, lib):
    with open(f"/proc/{d.proc.pid}/maps", encoding="utf-8") as f:
        return f"/{lib}.so" in f.read()


class Staller:
    """Accepts, reads what the client sends, and never answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.hellos = 0
        self.held = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stop.is_set():
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            self.held.append(c)
            c.settimeout(1)
            try:
                if c.recv(4096)[:1] == b"\x16":     # a TLS handshake
                    self.hellos += 1
            except OSError:
                pass

    def close(self):
        self.stop.set()
        self.thread.join(5)
        for c in self.held:
            c.close()
        self.sock.close()


def test_https_failures_read_as_before(scenario, workdir, http_targets,
                                       http_client):
    ca = CertAuthority(workdir)
    cert, key = ca.issue("named", 365, san="DNS:localhost")
    named = http_targets(cert, key)
    sni = []
    named.context.sni_callback = lambda sock, name, ctx: sni.append(name)
    plain = http_targets()
    stall = Staller()
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))       # bound, never listening
    try:
        d = scenario.daemon()
        ca_opt = f'ca-file "{ca.cert}"'
        d.write_rules(rules_file(
            d.db,
            http_system("byname", named.url("/byname", host="localhost"),
                        ca_opt, every="500ms", timeout="400ms"),
            http_system("ipname", named.url(), ca_opt, every="500ms",
                        timeout="400ms"),
            http_system("notls", plain.url().replace("http:", "https:"),
                        ca_opt, every="500ms", timeout="400ms"),
            http_system("stall", f"https://127.0.0.1:{stall.port}/", ca_opt,
                        every="500ms", timeout="300ms"),
            http_system("refused",
                        f"https://127.0.0.1:{closed.getsockname()[1]}/",
                        ca_opt, every="500ms", timeout="400ms")))
        start_daemon(d)

        cause = wait_incident(d.db, "ipname")["cause"]
        assert "tls-error" in cause, cause
        assert "certificate" in cause, cause
        assert re.search(r"(not for |host name ')127\.0\.0\.1", cause), cause
        assert all(r["path"] == "/byname" for r in named.requests), \
            "nothing is sent over an unverified TLS"

        cause = wait_incident(d.db, "notls")["cause"]
        assert "tls-error" in cause, cause
        assert "wrong version number" in cause, cause

        cause = wait_incident(d.db, "stall")["cause"]
        assert re.search(r": timeout: connected, but the TLS handshake did "
                         r"not end within 300ms$", cause), cause
        assert stall.hellos > 0, "the ClientHello reached the server"

        cause = wait_incident(d.db, "refused")["cause"]
        assert ": refused: Connection refused" in cause, cause

        url = named.url("/byname", host="localhost")
        wait_for(lambda: len(ok_lines(d, url)) >= 3, 15,
                 "three ok probes of the check by name")
        assert incidents_of(d.db, "byname") == []
        assert "localhost" in sni, sni
        d.stop()
    finally:
        stall.close()
        closed.close()


def test_cert_expiry_at_the_boundary(scenario, workdir, http_targets,
                                     http_client):
    """A certificate good for 3 days: cert-expiry 71h is met, 73h is not.
    The date is the certificate's own notAfter either way."""
    ca = CertAuthority(workdir)
    cert, key = ca.issue("three", 3)
    tls = http_targets(cert, key)
    d = scenario.daemon()
    ca_opt = f'ca-file "{ca.cert}"'
    d.write_rules(rules_file(
        d.db,
        http_system("under", tls.url("/under"), f"{ca_opt} cert-expiry 71h",
                    every="500ms", timeout="400ms"),
        http_system("over", tls.url("/over"), f"{ca_opt} cert-expiry 73h",
                    every="500ms", timeout="400ms")))
    start_daemon(d)
    cause = wait_incident(d.db, "over")["cause"]
    assert "cert-expiring" in cause, cause
    assert f"certificate expires {ca.not_after(cert)}, within 3d 1h" in \
        cause or f"certificate expires {ca.not_after(cert)}, within 73h" in \
        cause, cause
    wait_for(lambda: len(ok_lines(d, tls.url("/under"))) >= 4, 15,
             "four ok probes under the bound")
    assert incidents_of(d.db, "under") == []
    d.stop()


def test_https_only_never_maps_libcurl(scenario, workdir, http_targets):
    ca = CertAuthority(workdir)
    cert, key = ca.issue("good", 365)
    tls = http_targets(cert, key)
    d = scenario.daemon()
    secure = http_system("secure", tls.url(), f'ca-file "{ca.cert}"',
                         every="300ms", timeout="250ms")
    d.write_rules(rules_file(d.db, secure))
    d.start(env={"RTOWATCH_HTTP_CLIENT": "loop"})
    wait_for(lambda: len(ok_lines(d, tls.url())) >= 3, 20,
             "three ok probes of the https check")
    assert not mapped(d, "libcurl"), \
        "https checks without redirects run without libcurl"
    assert tls.count("handshake_failures") == 0

    # Redirects still go through libcurl, loaded by the reload.
    d.write_rules(rules_file(d.db, secure, http_system(
        "moved", tls.url("/moved"), f'ca-file "{ca.cert}" follow-redirects',
        every="300ms", timeout="250ms")))
    d.hup()
    wait_for(lambda: len(ok_lines(d, tls.url("/moved"))) >= 2, 20,
             "two ok probes of the check with redirects")
    assert mapped(d, "libcurl")
    d.stop()


def test_a_changed_ca_file_is_read_at_reload(scenario, workdir,
                                             http_targets):
    ca = CertAuthority(workdir)
    cert, key = ca.issue("good", 365)
    tls = http_targets(cert, key)
    other_dir = os.path.join(str(workdir), "other")
    os.makedirs(other_dir)
    other = CertAuthority(other_dir)
    trusted = os.path.join(str(workdir), "trusted.pem")
    shutil.copy(ca.cert, trusted)
    d = scenario.daemon()
    rules = rules_file(d.db, http_system(
        "secure", tls.url(), f'ca-file "{trusted}"', every="300ms",
        timeout="250ms"))
    d.write_rules(rules)
    d.start(env={"RTOWATCH_HTTP_CLIENT": "loop"})
    wait_for(lambda: len(ok_lines(d, tls.url())) >= 3, 20,
             "three ok probes with the server's CA trusted")

    # The operator trusts another CA only: the server's is now unknown.
    shutil.copy(other.cert, trusted)
    d.write_rules(rules + "\n")
    d.hup()
    cause = wait_incident(d.db, "secure")["cause"]
    assert "tls-error" in cause, cause
    assert "local issuer" in cause, cause
    d.stop()


def test_an_unreadable_ca_file_is_a_rules_error(scenario, workdir):
    d = scenario.daemon()
    missing = os.path.join(str(workdir), "missing.pem")
    d.write_rules(rules_file(d.db, http_system(
        "secure", "https://127.0.0.1:9/", f'ca-file "{missing}"')))
    rc, out, err = rules_check(d.rules)
    assert rc != 0, (out, err)
    assert f'ca-file "{missing}": cannot be read: No such file or ' \
        "directory" in err, err
