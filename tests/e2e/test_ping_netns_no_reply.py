"""The watched host stops answering pings: a timeout incident, then back.

Inside its namespace the host is told to ignore echo requests
(net.ipv4.icmp_echo_ignore_all), the way a firewall drops them: nothing
comes back, so after "down after 2" the incident opens with the cause
"no reply (0/2)".  Answering again restores it.
"""
from conftest import incidents, rules_file, wait_incident
from pinglib import TGT_ADDR, daemon_in, netpair, ping_system, wait_pings

__all__ = ["netpair"]


def test_ping_no_reply_opens_timeout_incident(scenario, netpair):
    d = daemon_in(netpair, scenario)
    d.write_rules(rules_file(d.db, ping_system(
        "router", TGT_ADDR, extra="count 2", every="300ms",
        timeout="250ms")))
    d.start()
    wait_pings(d, TGT_ADDR, "2/2")

    netpair.sysctl(netpair.tgt, "net.ipv4.icmp_echo_ignore_all", 1)
    inc = wait_incident(d.db, "router", timeout=15)
    assert "timeout" in inc["cause"], inc["cause"]
    assert "no reply (0/2)" in inc["cause"], inc["cause"]
    assert f"ping {TGT_ADDR}" in inc["cause"], inc["cause"]

    netpair.sysctl(netpair.tgt, "net.ipv4.icmp_echo_ignore_all", 0)
    back = wait_incident(d.db, "router", restored=True, timeout=15)
    assert back["id"] == inc["id"]
    assert len(incidents(d.db)) == 1
    d.stop()
