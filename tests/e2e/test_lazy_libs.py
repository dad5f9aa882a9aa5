"""libcurl and libpq are loaded only when the rules need them (issue 20).

rtowatchd is not linked with either (include/lazylib.h): a daemon on
SQLite with tcp and plain http:// checks has neither in its memory map, and
its checks work.  https:// checks without redirects run on the loop with
OpenSSL (tls_client.c): a reload that adds one loads no library, and one
that adds a check following redirects loads libcurl then, and both work; rules with "set smtp" load it at start and the
incident's mail is delivered; "set database postgresql://..." loads libpq.
A library that cannot be loaded is a rules error naming it: at start the
daemon refuses the rules, at a reload it keeps the previous ones.  Before,
both were always mapped (DT_NEEDED), and a broken one stopped every start.
"""
import os
import shutil
import subprocess

import pytest

from conftest import (binary, rules_file, short_policy, start_daemon,
                      system_rules, wait_for, wait_incident)
from http_target import (  # noqa: F401
    CertAuthority, http_system, http_targets)
import smtpserver
from smtpserver import UNIT_HEAD, SmtpServer, mail_rules


def mapped(d):
    """The libraries of interest in D's memory map: {"libcurl", "libpq"}."""
    with open(f"/proc/{d.proc.pid}/maps", encoding="utf-8") as f:
        text = f.read()
    return {lib for lib in ("libcurl", "libpq")
            if f"/{lib}.so" in text}


def ok_lines(d, url):
    return [l for l in d.run_log().splitlines()
            if url in l and ": ok in " in l]


def broken_libs(directory):
    """A directory whose libcurl.so.4 and libpq.so.5 are not libraries:
    with it in LD_LIBRARY_PATH, dlopen finds them first and fails."""
    path = os.path.join(str(directory), "broken-libs")
    os.makedirs(path)
    for name in ("libcurl.so.4", "libpq.so.5"):
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

    plain.append(http_system(
        "secure", tls.url(), f'ca-file "{ca.cert}"', every="500ms",
        timeout="400ms"))
    d.write_rules(rules_file(d.db, *plain))
    d.hup()
    wait_for(lambda: len(ok_lines(d, tls.url())) >= 3, 20,
             "three ok probes of the https check added by the reload")
    assert mapped(d) == set(), "an https check without redirects needs " \
        "neither library"

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


def test_a_library_that_cannot_load_is_a_rules_error(scenario, workdir):
    broken = broken_libs(workdir)
    env = {"LD_LIBRARY_PATH": broken}
    svc = scenario.listener()
    d = scenario.daemon()
    tcp = system_rules("tcp-svc", svc.port)
    d.write_rules(rules_file(d.db, tcp))
    # Neither is needed: the broken files are never opened.
    d.start(env=env)
    wait_for(lambda: " started: rules " in d.run_log(), 20,
             f"{d} to start although its libcurl and libpq are broken")
    svc.wait_accepted(3)

    # A reload that needs libcurl is refused; the daemon goes on.
    d.write_rules(rules_file(d.db, tcp, http_system(
        "secure", "https://127.0.0.1:9/", "follow-redirects")))
    d.hup()
    wait_for(lambda: "not reloaded, still running on the previous rules"
             in d.run_log(), 10, "the reload refused")
    log = d.run_log()
    assert "an https:// check needs libcurl, which cannot be loaded: " \
        f"{broken}/libcurl.so.4" in log, d.tail()
    assert d.running
    n = svc.accepted
    wait_for(lambda: svc.accepted > n, 10, "the tcp check goes on")
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
