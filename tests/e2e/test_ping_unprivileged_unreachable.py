"""A datagram ICMP socket sees ICMP errors on its error queue.

The unprivileged daemon (nobody, no capabilities, ping_group_range open
in its namespace) pings an address behind a router that answers "host
unreachable".  A datagram ICMP socket gets no ICMP error as a packet: the
kernel queues it with our own echo request (IP_RECVERR).  The probe must
match it to its request and fail as unreachable, not as a timeout.
"""
from conftest import rules_file, start_daemon, wait_incident
from pinglib import (BEHIND_ADDR, BEHIND_TGT, TGT_ADDR, as_nobody, netpair,
                     nobody_daemon, ping_system)

__all__ = ["netpair", "nobody_daemon"]


def test_ping_unprivileged_icmp_unreachable(netpair, nobody_daemon):
    netpair.sysctl(netpair.mon, "net.ipv4.ping_group_range",
                   "0 2147483647")
    netpair.sysctl(netpair.tgt, "net.ipv4.ip_forward", 1)
    netpair.sysctl(netpair.tgt, "net.ipv4.icmp_ratelimit", 0)
    netpair.ip(netpair.tgt, "route", "add", "unreachable", BEHIND_TGT)
    netpair.ip(netpair.mon, "route", "add", BEHIND_TGT, "via", TGT_ADDR)

    d = as_nobody(nobody_daemon, netpair.mon)
    d.write_rules(rules_file(d.db, ping_system(
        "server", BEHIND_ADDR, every="2s", timeout="1500ms")))
    start_daemon(d)
    inc = wait_incident(d.db, "server", timeout=20)
    assert f"host unreachable (ICMP from {TGT_ADDR}) (0/1)" in \
        inc["cause"], inc["cause"]
    assert "datagram ICMP socket" in d.run_log(), d.tail()
    d.stop()
