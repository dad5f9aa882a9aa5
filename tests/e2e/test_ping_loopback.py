"""Ping 127.0.0.1: three echo requests a probe, all answered, no incident.

The simplest thing a ping check must do, against this host's own
loopback: every probe gets its three replies, the daemon says so with the
round-trip times (-v), and nothing is ever opened.
"""
from conftest import incidents, rules_file, wait_for
from pinglib import ping_system, require_root, success_lines, wait_pings


def test_ping_loopback_ipv4_ok(scenario):
    require_root("pinging through a raw ICMP socket")
    d = scenario.daemon()
    d.write_rules(rules_file(
        d.db,
        ping_system("lo4", "127.0.0.1", extra="count 3", every="300ms",
                    timeout="250ms"),
        # A name, looked up through evdns (from /etc/hosts).
        ping_system("byname", "localhost", every="300ms",
                    timeout="250ms")))
    d.start()
    wait_pings(d, "127.0.0.1", "3/3", count=4)
    wait_for(lambda: any(l.startswith("byname: ping localhost: ok")
                         for l in d.run_log().splitlines()), 15,
             "a successful ping of localhost, by name")
    line = success_lines(d, "127.0.0.1", "3/3")[0]
    assert "3/3 replies, rtt min/avg/max " in line and line.endswith(" ms"), \
        line
    # As root the daemon has its raw socket, no fallback.
    assert "datagram ICMP socket" not in d.run_log(), d.tail()
    assert incidents(d.db) == [], d.tail()
    d.stop()
