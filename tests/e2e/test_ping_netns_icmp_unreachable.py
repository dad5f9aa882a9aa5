"""A router answers "host unreachable" for the watched address.

198.18.0.130 lies behind the host in the "tgt" namespace, which has an
"unreachable" route for it: the echo request goes out over the veth and
the router (198.18.0.2) sends back an ICMP destination unreachable that
quotes it.  The probe matches the quoted echo to its request and fails at
once as unreachable, naming the error and who sent it.
"""
from conftest import rules_file, start_daemon, wait_incident
from pinglib import (BEHIND_ADDR, BEHIND_TGT, TGT_ADDR, daemon_in, netpair,
                     ping_system)

__all__ = ["netpair"]


def test_ping_icmp_host_unreachable(scenario, netpair):
    netpair.sysctl(netpair.tgt, "net.ipv4.ip_forward", 1)
    # Every probe must get its error back, not one a second.
    netpair.sysctl(netpair.tgt, "net.ipv4.icmp_ratelimit", 0)
    netpair.ip(netpair.tgt, "route", "add", "unreachable", BEHIND_TGT)
    netpair.ip(netpair.mon, "route", "add", BEHIND_TGT, "via", TGT_ADDR)

    d = daemon_in(netpair, scenario)
    # A long timeout: the failure must come from the ICMP error, at once.
    d.write_rules(rules_file(d.db, ping_system(
        "server", BEHIND_ADDR, every="2s", timeout="1500ms")))
    start_daemon(d)
    inc = wait_incident(d.db, "server", timeout=20)
    assert "unreachable:" in inc["cause"], inc["cause"]
    assert f"host unreachable (ICMP from {TGT_ADDR}) (0/1)" in \
        inc["cause"], inc["cause"]
    log = d.run_log()
    assert "unreachable: host unreachable" in log, d.tail()
    d.stop()
