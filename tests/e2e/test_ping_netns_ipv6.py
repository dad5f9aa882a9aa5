"""IPv6 across a veth pair: the host answers, and a router's ICMPv6
"no route to destination" for an address behind it is an unreachable.

The same two namespaces as the IPv4 scenarios, with addresses from the
IPv6 benchmarking range 2001:2::/48.  The host in "tgt" forwards, and has
an "unreachable" route for 2001:2:0:1::/64: it answers echo requests to
itself and sends ICMPv6 destination unreachable, quoting our request, for
that prefix.
"""
from conftest import incidents_of, rules_file, wait_incident
from pinglib import (BEHIND_ADDR6, BEHIND_TGT6, TGT_ADDR6, daemon_in,
                     netpair, ping_system, wait_pings)

__all__ = ["netpair"]


def test_ping_ipv6_answer_and_unreachable(scenario, netpair):
    netpair.add_ipv6()
    netpair.sysctl(netpair.tgt, "net.ipv6.conf.all.forwarding", 1)
    netpair.sysctl(netpair.tgt, "net.ipv6.icmp.ratelimit", 0)
    netpair.ip(netpair.tgt, "-6", "route", "add", "unreachable",
               BEHIND_TGT6)
    netpair.ip(netpair.mon, "-6", "route", "add", BEHIND_TGT6, "via",
               TGT_ADDR6)

    d = daemon_in(netpair, scenario)
    d.write_rules(rules_file(
        d.db,
        ping_system("router6", TGT_ADDR6, extra="count 2", every="300ms",
                    timeout="250ms"),
        ping_system("server6", BEHIND_ADDR6, every="2s",
                    timeout="1500ms")))
    d.start()
    wait_pings(d, TGT_ADDR6, "2/2", count=3)
    inc = wait_incident(d.db, "server6", timeout=20)
    assert "unreachable:" in inc["cause"], inc["cause"]
    assert f"no route to destination (ICMP from {TGT_ADDR6}) (0/1)" in \
        inc["cause"], inc["cause"]
    assert incidents_of(d.db, "router6") == [], d.tail()
    d.stop()
