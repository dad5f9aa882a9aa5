"""Without raw sockets the daemon pings through datagram ICMP sockets.

The daemon runs as nobody with no capabilities, in a namespace of its own
whose net.ipv4.ping_group_range admits every group (the sysctl belongs to
the namespace: the host's is not touched).  Raw sockets are refused, so
it falls back to the unprivileged ICMP sockets, says so, and pings
127.0.0.1 (and ::1) all the same.
"""
from conftest import incidents, rules_file
from pinglib import (as_nobody, netns, nobody_daemon, ping_system, run,
                     wait_pings)

__all__ = ["netns", "nobody_daemon"]


def test_ping_unprivileged_datagram_fallback(netns, nobody_daemon):
    d = as_nobody(nobody_daemon, netns)
    run("ip", "netns", "exec", netns, "sysctl", "-q", "-w",
        "net.ipv4.ping_group_range=0 2147483647")
    have6 = "::1" in run("ip", "-n", netns, "-6", "addr", "show", "dev",
                         "lo", check=False).stdout
    systems = [ping_system("lo4", "127.0.0.1", extra="count 2")]
    if have6:
        systems.append(ping_system("lo6", "::1", extra="count 2"))
    d.write_rules(rules_file(d.db, *systems))
    d.start()
    wait_pings(d, "127.0.0.1", "2/2", count=3)
    if have6:
        wait_pings(d, "::1", "2/2", count=3)
    log = d.run_log()
    assert "no raw IPv4 socket (Operation not permitted): using a " \
        "datagram ICMP socket" in log, d.tail()
    assert incidents(d.db) == [], d.tail()
    d.stop()
