"""The watched host's namespace disappears (the machine is gone): the
veth pair goes with it, and the probes fail as unreachable; the daemon
runs on."""
from conftest import rules_file, wait_incident
from pinglib import TGT_ADDR, daemon_in, netpair, ping_system, run, wait_pings

__all__ = ["netpair"]


def test_ping_target_namespace_removed(scenario, netpair):
    d = daemon_in(netpair, scenario)
    d.write_rules(rules_file(d.db, ping_system(
        "router", TGT_ADDR, every="300ms", timeout="250ms")))
    d.start()
    wait_pings(d, TGT_ADDR)

    run("ip", "netns", "del", netpair.tgt)
    netpair.made.remove(netpair.tgt)
    inc = wait_incident(d.db, "router", timeout=15)
    assert "unreachable:" in inc["cause"], inc["cause"]
    assert "Network is unreachable" in inc["cause"], inc["cause"]
    assert d.running
    d.stop()
