"""Most systems fail at once: did this host lose its network, or is
everything beyond its gateway unreachable?  Only the first carries the
procedure's telephone fallback (5.3.7.3.3): when this host is cut off the
portal may be out of reach too; when something upstream is down, the
portal is as reachable as ever and the telephone advice would mislead.

The daemon runs in a network namespace ("mon") whose only link is a veth
to "tgt", its default gateway; the three watched systems live behind it
(198.18.0.128/25, where "tgt" has no way on), so every probe fails.

- Link up, gateway answering ARP: everything beyond is unreachable.
- Link down (so no default route either): this host lost its network.
"""
from conftest import POLICY, rules_file, start_daemon, wait_incident
from pinglib import TGT_ADDR, daemon_in, netpair

__all__ = ["netpair"]

HOST = "(monitoring host)"
BEHIND = ["198.18.0.130", "198.18.0.131", "198.18.0.132"]


def rules(d):
    blocks = [f'system "app{i}" {{\n'
              f"    core yes\n    rto 1h\n"
              f"    check tcp {addr} port 443 every 200ms timeout 100ms\n"
              f"    down after 2 failures\n    up after 2 successes\n}}\n"
              for i, addr in enumerate(BEHIND)]
    return rules_file(d.db, *blocks, policy=POLICY)


def test_everything_beyond_the_gateway_is_unreachable(scenario, netpair):
    netpair.ip(netpair.mon, "route", "add", "default", "via", TGT_ADDR)
    d = daemon_in(netpair, scenario)
    d.write_rules(rules(d))
    start_daemon(d)
    host = wait_incident(d.db, HOST, timeout=15)
    cause = host["cause"]
    assert "this host's network is up" in cause, cause
    assert f"default gateway {TGT_ADDR} answers" in cause, cause
    assert "everything beyond it is unreachable" in cause, cause
    assert "regional center" not in cause and "telephone" not in cause, \
        cause
    d.stop()


def test_this_host_lost_its_network(scenario, netpair):
    netpair.ip(netpair.mon, "route", "add", "default", "via", TGT_ADDR)
    netpair.ip(netpair.mon, "link", "set", "rtw0", "down")
    d = daemon_in(netpair, scenario)
    d.write_rules(rules(d))
    start_daemon(d)
    host = wait_incident(d.db, HOST, timeout=15)
    cause = host["cause"]
    assert "this host lost its network" in cause, cause
    assert "no default route" in cause or "rtw0 is down" in cause, cause
    assert "telephone the regional center" in cause and "5.3.7.3.3" in \
        cause, cause
    d.stop()
