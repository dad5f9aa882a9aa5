"""Packet loss against "loss 34%": one of three lost is fine, two is not.

The watched host answers through a responder that leaves out the replies
to chosen attempts of each probe.  With "count 3 loss 34%" the probe
fails when more than 34% are lost: 1/3 (33%) passes, 2/3 (67%) opens an
incident with the loss in its cause.
"""
from conftest import incidents, rules_file, wait_incident
from pinglib import (TGT_ADDR, Responder, daemon_in, netpair, ping_system,
                     wait_pings)

__all__ = ["netpair"]


def test_ping_loss_threshold(scenario, netpair):
    resp = Responder(netpair, scenario.dir, drop={1})
    try:
        d = daemon_in(netpair, scenario)
        d.write_rules(rules_file(d.db, ping_system(
            "link", TGT_ADDR, extra="count 3 loss 34%", every="400ms",
            timeout="300ms")))
        d.start()
        wait_pings(d, TGT_ADDR, "2/3", count=3)
        assert incidents(d.db) == [], d.tail()

        resp.set(drop={1, 2})
        inc = wait_incident(d.db, "link", timeout=15)
        assert "timeout:" in inc["cause"], inc["cause"]
        assert "2/3 lost (67% > 34%)" in inc["cause"], inc["cause"]
        d.stop()
    finally:
        resp.close()
