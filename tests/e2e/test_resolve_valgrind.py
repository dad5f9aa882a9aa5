"""Lookups cut short, under valgrind: no leak, no read of freed memory.

Probes by name wait on shared lookups in resolve.c; here some of those
lookups are never answered (a silent name) or fail (NXDOMAIN), some
answers carry a TTL of 0 s so that every probe asks again, and the
rules are reloaded twice while lookups are under way, which frees every
probe waiting on them.  The daemon stops with lookups still in flight.
valgrind's exit code (99 on an error or a definite/indirect leak) must
be the daemon's clean 0.  Runs against the release build; the ASan build
has its own checkers.
"""
from conftest import VALGRIND, require_valgrind
from conftest import rules_file, start_daemon, wait_for
from conftest import system_rules, wait_incident
from dnsserver import dns  # noqa: F401


def tcp_system(system, host, port, every="400ms", timeout="300ms"):
    return system_rules(system, port, core=True, host=host, every=every,
                        timeout=timeout, down_after=2)


def test_resolve_under_valgrind(scenario, dns):
    require_valgrind()

    dns.ttl = 0
    (dns.add("up.example.test", "A", "127.0.0.1")
        .add("up.example.test", "AAAA", "::1")
        .fail("mute.example.test", "silent")
        .start())
    lst = scenario.listener()
    d = scenario.daemon()
    d.wrapper = list(VALGRIND)
    systems = [tcp_system("up", "up.example.test", lst.port),
               tcp_system("up2", "up.example.test", lst.port),
               tcp_system("mute", "mute.example.test", lst.port),
               tcp_system("gone", "nx.example.test", lst.port)]
    d.write_rules(f'set resolver "{dns.address}"\nset dns-ttl 0s 1h\n'
                  + rules_file(d.db, *systems))
    start_daemon(d)
    for name in ("mute", "gone"):
        inc = wait_incident(d.db, name, timeout=60)
        assert "dns-failure" in inc["cause"], inc
    lst.wait_accepted(6, timeout=60, what="probes of up.example.test")

    for n in (1, 2):
        d.hup()
        wait_for(lambda: d.run_log().count("reloading ") >= n, 30,
                 f"reload {n} in the log")
        lst.wait_accepted(2, timeout=60, what=f"probes after reload {n}")
    asked = dns.asked("up.example.test", "A")
    assert asked >= 4, f"TTL 0 with dns-ttl 0s: only {asked} A queries"
    d.stop()    # requires exit 0: valgrind would exit 99 on a leak
    assert "definitely lost" not in d.log(), d.tail(80)
