"""The watched host answers, too slowly: "rtt above 50ms" fails.

A responder in the host's namespace answers every echo request after
150 ms.  The probe gets all its replies, but their average round trip is
above the limit: bad-status, with the measured time in the cause.
"""
import re

from conftest import rules_file, start_daemon, wait_incident
from pinglib import TGT_ADDR, Responder, daemon_in, netpair, ping_system

__all__ = ["netpair"]


def test_ping_rtt_above_limit(scenario, netpair):
    resp = Responder(netpair, scenario.dir, delay_ms=150)
    try:
        d = daemon_in(netpair, scenario)
        d.write_rules(rules_file(d.db, ping_system(
            "slow", TGT_ADDR, extra="count 2 rtt above 50ms", every="600ms",
            timeout="500ms")))
        start_daemon(d)
        inc = wait_incident(d.db, "slow", timeout=15)
        assert "bad-status:" in inc["cause"], inc["cause"]
        m = re.search(r"rtt (\d+\.\d) ms above 50 ms \(2/2 replies\)",
                      inc["cause"])
        assert m, inc["cause"]
        assert 150 <= float(m.group(1)) < 400, inc["cause"]

        # Faster than the limit: the incident is restored.
        resp.set(delay_ms=0)
        wait_incident(d.db, "slow", restored=True, timeout=15)
        d.stop()
    finally:
        resp.close()
