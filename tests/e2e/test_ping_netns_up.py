"""A host in a network namespace answers: every probe ok, no incident.

The daemon runs in a namespace of its own whose only link is a veth pair
to the watched host's namespace (pinglib.NetPair): the echo requests
really cross an interface and the replies come back from 198.18.0.2.
"""
from conftest import incidents, rules_file
from pinglib import TGT_ADDR, daemon_in, netpair, ping_system, wait_pings

__all__ = ["netpair"]


def test_ping_host_in_namespace_answers(scenario, netpair):
    d = daemon_in(netpair, scenario)
    d.write_rules(rules_file(d.db, ping_system(
        "router", TGT_ADDR, extra="count 2", every="300ms",
        timeout="250ms")))
    d.start()
    wait_pings(d, TGT_ADDR, "2/2", count=4)
    assert incidents(d.db) == [], d.tail()
    d.stop()
