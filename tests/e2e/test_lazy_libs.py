"""libcurl, libpq and OpenSSL are loaded only when the rules need them
(issue 20).

rtowatchd is not linked with either (include/lazylib.h): a daemon on
SQLite with tcp and plain http:// checks has neither in its memory map, and
its checks work.  https:// checks without redirects run on the loop with
OpenSSL (tls_client.c): a reload that adds one loads OpenSSL, not libcurl
or libpq, and one that adds a check following redirects loads libcurl then, and both work; rules with "set smtp" load it at start and the
incident's mail is delivered; "set database postgresql://..." loads libpq.
A library that cannot be loaded is a rules error naming it: at start the
daemon refuses the rules, at a reload it keeps the previous ones.  Before,
both were always mapped (DT_NEEDED), and a broken one stopped every start.

OpenSSL (libssl, libcrypto, libevent_openssl) likewise: the daemon's own
base64, HMAC and token compare need none of it.  An https:// check loads
it, and so does "set web tls" (with libpam, for the page's sign-in),
while the rules are read; the page's HTTPS then works.  libpcap (with libdbus and libsystemd behind it) comes
with an anomaly block, and libsystemd itself is not linked any more: the
daemon speaks sd_notify's and the journal's protocols on its own.  Before,
all were linked: 2.9 MB of them resident in every daemon.
"""
import http.client
import os
import ssl
import subprocess

import pytest

from conftest import (api, binary, rules_file, short_policy, start_daemon,
                      system_rules, wait_for, wait_incident)
from http_target import (  # noqa: F401
    CertAuthority, http_system, http_targets)
import smtpserver
from smtpserver import UNIT_HEAD, SmtpServer, free_port, mail_rules


def mapped(d, libs=("libcurl", "libpq")):
    """The libraries of LIBS in D's memory map: {"libcurl", "libpq"}."""
    with open(f"/proc/{d.proc.pid}/maps", encoding="utf-8") as f:
        text = f.read()
    return {lib for lib in libs if f"/{lib}.so" in text or
            f"/{lib}-" in text}


OPENSSL = ("libssl", "libcrypto", "libevent_openssl")
# What a daemon of tcp and plain http checks needs none of.
UNNEEDED = OPENSSL + ("libsystemd", "libgcrypt", "liblzma", "libzstd",
                      "liblz4", "libpcap", "libdbus", "libpam", "libaudit")


def ok_lines(d, url):
    return [l for l in d.run_log().splitlines()
            if url in l and ": ok in " in l]


def broken_libs(directory, names=("libcurl.so.4", "libpq.so.5")):
    """A directory whose NAMES are not libraries: with it in
    LD_LIBRARY_PATH, dlopen finds them first and fails."""
    path = os.path.join(str(directory), "broken-libs")
    os.makedirs(path)
    for name in names:
        with open(os.path.join(path, name), "w", encoding="utf-8") as f:
            f.write("not a library\n")
    os.chmod(path, 0o755)
    return path


def test_plain_checks_load_neither_https_by_reload_loads_curl(
        scenario, workdir, http_targets):
    svc = scenario.listener()
    web = http_targets()
    ca = CertAuthority(workdir)
    cert, key = ca.issue("good", 365)
    tls = http_targets(cert, key)
    d = scenario.daemon()
    plain = [system_rules("tcp-svc", svc.port),
             http_system("web", web.url("/login"), "status 200")]
    d.write_rules(rules_file(d.db, *plain))
    start_daemon(d)
    svc.wait_accepted(3)
    wait_for(lambda: len(ok_lines(d, web.url("/login"))) >= 3, 15,
             "three ok probes of the plain http check")
    assert mapped(d) == set(), (
        "a daemon with tcp and plain http checks on SQLite maps neither "
        "libcurl nor libpq")
    assert mapped(d, UNNEEDED) == set(), (
        "a daemon with tcp and plain http checks, no web TLS and no "
        "anomaly block maps no OpenSSL, libsystemd, libpcap or libpam")

    plain.append(http_system(
        "secure", tls.url(), f'ca-file "{ca.cert}"', every="500ms",
        timeout="400ms"))
    d.write_rules(rules_file(d.db, *plain))
    d.hup()
    wait_for(lambda: len(ok_lines(d, tls.url())) >= 3, 20,
             "three ok probes of the https check added by the reload")
    assert mapped(d) == set(), "an https check without redirects needs " \
        "neither library"
    assert mapped(d, OPENSSL) == set(OPENSSL), "the https check loaded " \
        "OpenSSL for the daemon's own TLS client"

    d.write_rules(rules_file(d.db, *plain, http_system(
        "moved", tls.url("/moved"), f'ca-file "{ca.cert}" follow-redirects',
        every="500ms", timeout="400ms")))
    d.hup()
    wait_for(lambda: len(ok_lines(d, tls.url("/moved"))) >= 3, 20,
             "three ok probes of the check with redirects")
    assert mapped(d) == {"libcurl"}, "redirects loaded libcurl only"
    assert tls.count("handshake_failures") == 0
    n = len(web.requests)
    wait_for(lambda: len(web.requests) > n, 10, "plain probes go on")
    d.stop()


@pytest.mark.skipif(smtpserver.available() is not None,
                    reason=str(smtpserver.available()))
def test_mail_loads_curl_and_the_mail_is_delivered(scenario):
    smtp = SmtpServer(scenario.dir).start()
    try:
        svc = scenario.listener()
        d = scenario.daemon()
        d.write_rules(rules_file(
            d.db, mail_rules(smtp.url, retry="200ms 1s"),
            system_rules("portal", svc.port, core=False, rto="1h"),
            policy=short_policy(scenario.dir)))
        start_daemon(d)
        assert mapped(d) == {"libcurl"}, "set smtp loaded libcurl at start"
        svc.wait_accepted(2)
        svc.stop()
        wait_incident(d.db, "portal")
        msgs = wait_for(smtp.messages, 15, "the incident's mail")
        assert msgs[0].rcpt_tos == [UNIT_HEAD]
        d.stop()
    finally:
        smtp.stop()


def test_postgresql_loads_libpq(scenario, pg_server):
    svc = scenario.listener()
    d = scenario.daemon()
    d.db = pg_server.new_database()
    d.write_rules(rules_file(d.db, system_rules("tcp-svc", svc.port)))
    start_daemon(d)
    svc.wait_accepted(3)
    assert mapped(d) == {"libpq"}, (
        "set database postgresql://... loaded libpq, and nothing needs "
        "libcurl")
    d.stop()


def start_beside_broken(scenario, workdir, names):
    """A daemon with one tcp check, started with broken copies of the
    libraries NAMES first in LD_LIBRARY_PATH: it starts, since its rules
    need none of them.  Returns it, its service, its rules, the broken
    libraries' directory and the environment."""
    broken = broken_libs(workdir, names)
    env = {"LD_LIBRARY_PATH": broken}
    svc = scenario.listener()
    d = scenario.daemon()
    tcp = system_rules("tcp-svc", svc.port)
    d.write_rules(rules_file(d.db, tcp))
    d.start(env=env)
    wait_for(lambda: " started: rules " in d.run_log(), 20,
             f"{d} to start although its {', '.join(names)} are broken")
    svc.wait_accepted(3)
    return d, svc, tcp, broken, env


def reload_refused(d, svc, rules, message):
    """A reload to RULES is refused with MESSAGE in the log; the daemon
    goes on with its tcp check."""
    d.write_rules(rules)
    d.hup()
    wait_for(lambda: message in d.run_log(), 10, f"the reload refused: "
             f"{message}")
    assert "not reloaded, still running on the previous rules" in \
        d.run_log(), d.tail()
    assert d.running
    n = svc.accepted
    wait_for(lambda: svc.accepted > n, 10, "the tcp check goes on")


def test_a_library_that_cannot_load_is_a_rules_error(scenario, workdir):
    d, svc, tcp, broken, env = start_beside_broken(
        scenario, workdir, ("libcurl.so.4", "libpq.so.5"))
    reload_refused(d, svc, rules_file(d.db, tcp, http_system(
        "secure", "https://127.0.0.1:9/", "follow-redirects")),
        "an https:// check needs libcurl, which cannot be loaded: "
        f"{broken}/libcurl.so.4")
    d.stop()

    # At start, the rules are refused and the daemon exits 1.
    rules = os.path.join(str(workdir), "pg.conf")
    with open(rules, "w", encoding="utf-8") as f:
        f.write('set database "postgresql://rtowatch@127.0.0.1:9/r"\n'
                + tcp)
    p = subprocess.run([binary("rtowatchd"), "-n", "-f", rules],
                       env={**os.environ, **env}, capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 1, p
    assert "set database (a PostgreSQL register) needs libpq, which " \
        f"cannot be loaded: {broken}/libpq.so.5" in p.stderr, p.stderr
    assert "127.0.0.1:9/r" not in p.stderr, \
        "the conninfo (it may hold a password) is not in the message"


def web_tls(workdir):
    """A port and the rules of a web page over TLS on it."""
    cert, key = CertAuthority(workdir).issue("web", 365)
    port = free_port()
    return port, (f"set web listen 127.0.0.1:{port}\n"
                  f'set web tls cert "{cert}" key "{key}"\n')


def https_get(port, path):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    c = http.client.HTTPSConnection("127.0.0.1", port, timeout=10,
                                    context=ctx)
    try:
        c.request("GET", path)
        r = c.getresponse()
        r.read()
        return r.status, dict(r.getheaders())
    finally:
        c.close()


def test_web_tls_loads_openssl_and_its_https_works(scenario, workdir):
    svc = scenario.listener()
    port, web = web_tls(workdir)
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, web, system_rules("tcp-svc", svc.port)))
    start_daemon(d)
    wait_for(lambda: f"web page on https://127.0.0.1:{port}" in d.run_log(),
             10, "the TLS listener")
    assert mapped(d, OPENSSL + ("libpam",)) == {*OPENSSL, "libpam"}, \
        "set web tls loaded libssl, libcrypto, libevent_openssl and libpam"
    assert mapped(d) == set(), "and neither libcurl nor libpq"
    assert mapped(d, ("libpcap", "libsystemd")) == set()
    # Over TLS, a caller not signed in is sent to the sign-in form.
    status, headers = https_get(port, "/")
    assert status == 303 and headers["Location"] == "/signin"
    svc.wait_accepted(2)
    d.stop()


def test_a_broken_openssl_is_a_rules_error(scenario, workdir):
    d, svc, tcp, broken, env = start_beside_broken(
        scenario, workdir, ("libssl.so.3",))
    # A reload adding an https check (the daemon's own TLS client), then
    # one turning on the page's TLS: both refused, the daemon goes on.
    reload_refused(d, svc, rules_file(d.db, tcp, http_system(
        "secure", "https://127.0.0.1:9/")),
        "an https:// check needs OpenSSL (libssl, libcrypto, "
        f"libevent_openssl), which cannot be loaded: {broken}/libssl.so.3")
    port, web = web_tls(workdir)
    reload_refused(d, svc, rules_file(d.db, web, tcp),
                   "set web tls needs OpenSSL (libssl, libcrypto, "
                   "libevent_openssl), which cannot be loaded: "
                   f"{broken}/libssl.so.3")
    d.stop()

    # At start, the same rules are refused and the daemon exits 1.
    p = subprocess.run([binary("rtowatchd"), "-n", "-f", d.rules],
                       env={**os.environ, **env}, capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 1, p
    assert "set web tls needs OpenSSL" in p.stderr and \
        f"{broken}/libssl.so.3" in p.stderr, p.stderr


def test_an_anomaly_block_loads_libpcap_and_captures(scenario):
    svc = scenario.listener()
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, system_rules("tcp-svc", svc.port)))
    start_daemon(d)
    svc.wait_accepted(2)
    assert mapped(d, ("libpcap",)) == set()
    # A reload that adds a capture on lo, with a filter compiled then.
    d.write_rules(rules_file(d.db, system_rules("tcp-svc", svc.port),
                             'anomaly "edge" interface "lo" filter "tcp" {\n'
                             "    syn-rate above 5000/s for 3s\n}\n"))
    d.hup()
    wait_for(lambda: "anomaly edge: capturing on lo" in d.run_log(), 10,
             "the capture on lo")
    assert mapped(d, ("libpcap",)) == {"libpcap"}
    assert mapped(d, OPENSSL) == set(), "a capture needs no OpenSSL"
    status, body = api(d.sock, "GET", "/v1/status")
    assert status == 200, body
    # The probes of tcp-svc cross lo: the capture counts them.
    wait_for(lambda: api(d.sock, "GET", "/v1/status")[1]["traffic"][0]
             ["packets"] > 0, 10, "packets counted on lo")
    d.stop()
