"""HTTP probes under valgrind: answers, TLS, timeouts and refusals.

Every way an http probe ends frees what it took: a good answer over TLS,
a request cut off by the timeout (the transfer is cancelled half way), a
refused connection, a name looked up through evdns.  valgrind's memcheck
watches the daemon through all of them, and its exit code (99 on an
error or a definite leak) must be the daemon's clean 0.  Runs against the
release build; the ASan build has its own leak checker.
"""
from conftest import VALGRIND, require_valgrind
from conftest import (incidents_of, rules_file, start_daemon,
                      wait_for, wait_incident)
from http_target import (  # noqa: F401
    CertAuthority, http_client, http_system, http_targets)


def test_http_probes_under_valgrind(scenario, workdir, http_targets,
                                    http_client):
    require_valgrind()
    ca = CertAuthority(workdir)
    cert, key = ca.issue("server", 365)
    tls = http_targets(cert, key)
    web = http_targets()
    slow = http_targets()
    slow.set(delay=60)
    gone = http_targets()
    gone.stop()

    d = scenario.daemon()
    d.wrapper = list(VALGRIND)
    slowly = {"every": "1500ms", "timeout": "1s"}
    d.write_rules(rules_file(
        d.db,
        http_system("tls", tls.url(),
                    f'ca-file "{ca.cert}" cert-expiry 1d', **slowly),
        http_system("web", web.url(host="localhost"), 'contains "Webmail"',
                    **slowly),
        http_system("slow", slow.url(), **slowly),
        http_system("gone", gone.url(), **slowly)))
    start_daemon(d)

    wait_incident(d.db, "slow", timeout=60)
    wait_incident(d.db, "gone", timeout=60)
    for t in (tls, web):
        n = len(t.requests)
        wait_for(lambda: len(t.requests) >= n + 2, 60,
                 f"two more probes of {t} under valgrind")
    assert incidents_of(d.db, "tls") == [] and incidents_of(d.db, "web") == []
    d.stop()    # requires exit 0: valgrind would exit 99 on a leak
    assert "definitely lost" not in d.log(), d.tail(80)
