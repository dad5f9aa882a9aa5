"""The link to the watched host goes down: unreachable, "Network is
unreachable" from sendto().

With its only interface down the daemon's namespace has no route to
198.18.0.2 at all, so the kernel refuses the echo request at once.  The
incident says so in the kernel's words, as ping(8) would.
"""
from conftest import rules_file, wait_incident
from pinglib import TGT_ADDR, daemon_in, netpair, ping_system, wait_pings

__all__ = ["netpair"]


def test_ping_link_down_is_unreachable(scenario, netpair):
    d = daemon_in(netpair, scenario)
    d.write_rules(rules_file(d.db, ping_system(
        "router", TGT_ADDR, every="300ms", timeout="250ms")))
    d.start()
    wait_pings(d, TGT_ADDR)

    netpair.ip(netpair.mon, "link", "set", "rtw0", "down")
    inc = wait_incident(d.db, "router", timeout=15)
    assert "unreachable:" in inc["cause"], inc["cause"]
    assert f"sendto {TGT_ADDR}: Network is unreachable (0/1)" in \
        inc["cause"], inc["cause"]

    netpair.ip(netpair.mon, "link", "set", "rtw0", "up")
    wait_incident(d.db, "router", restored=True, timeout=20)
    d.stop()
