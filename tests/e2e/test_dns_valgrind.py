"""Every way a dns probe ends, under valgrind: no leak, no bad read.

One daemon watches five names on one real DNS server: one answers, one
is NXDOMAIN, one gets a malformed reply, one a reply with another ID
first, one is never answered; then the server stops (port unreachable).
valgrind's memcheck must find nothing: its exit code (99 on an error or
a definite/indirect leak) must be the daemon's clean 0.  Runs against
the release build; the ASan build has its own checkers.
"""
from conftest import VALGRIND, require_valgrind
from conftest import rules_file, start_daemon
from conftest import wait_for, wait_incident
from dnsserver import dns, dns_system  # noqa: F401


def test_dns_probes_under_valgrind(scenario, dns):
    require_valgrind()

    (dns.add("www.example.test", "A", "127.0.0.1")
        .add("example.test", "TXT", "v=spf1 -all")
        .add("odd.example.test", "A", "127.0.0.1")
        .fail("odd.example.test", "wrong-id-first")
        .fail("loop.example.test", "malformed")
        .fail("mute.example.test", "silent")
        .start())
    srv = dns.address
    d = scenario.daemon()
    d.wrapper = list(VALGRIND)
    timing = dict(every="400ms", timeout="300ms")
    d.write_rules(rules_file(d.db) + "\n".join([
        dns_system("www", f"dns www.example.test server {srv}", **timing),
        dns_system("txt", f"dns example.test server {srv} type TXT "
                   f'expect "v=spf1 -all"', **timing),
        dns_system("odd", f"dns odd.example.test server {srv}", **timing),
        dns_system("gone", f"dns nx.example.test server {srv}", **timing),
        dns_system("loop", f"dns loop.example.test server {srv}", **timing),
        dns_system("mute", f"dns mute.example.test server {srv}",
                   **timing),
    ]))
    start_daemon(d)
    for name, result in (("gone", "dns-failure"), ("loop", "error"),
                         ("mute", "timeout")):
        inc = wait_incident(d.db, name, timeout=60)
        assert f": {result}: " in inc["cause"], inc
    wait_for(lambda: d.run_log().count("www: dns www.example.test A "
                                       f"server {srv}: ok in") >= 3, 60,
             "successful probes under valgrind")

    dns.stop()
    inc = wait_incident(d.db, "www", timeout=60)
    assert ": refused: " in inc["cause"], inc
    d.stop()    # requires exit 0: valgrind would exit 99 on a leak
    assert "definitely lost" not in d.log(), d.tail(80)
