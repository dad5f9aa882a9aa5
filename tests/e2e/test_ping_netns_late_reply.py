"""Replies that come after their probe ended are dropped, never counted.

The host answers every echo request after 700 ms; each probe gives up at
300 ms and the next starts at 500 ms, so every reply arrives after its
own probe was judged (and while the next one waits for its own).  The
sequence map was cleared when the probe ended, so the late reply finds
nothing: every probe is a "no reply", none an ok, and nothing touches
freed memory (the ASan run of this scenario checks that).
"""
from conftest import rules_file, start_daemon, wait_for, wait_incident
from pinglib import (TGT_ADDR, Responder, daemon_in, netpair, ping_system,
                     success_lines)

__all__ = ["netpair"]


def test_ping_late_replies_are_dropped(scenario, netpair):
    resp = Responder(netpair, scenario.dir, delay_ms=700)
    try:
        d = daemon_in(netpair, scenario)
        d.write_rules(rules_file(d.db, ping_system(
            "far", TGT_ADDR, every="500ms", timeout="300ms",
            down_after=3)))
        start_daemon(d)
        inc = wait_incident(d.db, "far", timeout=15)
        assert "no reply (0/1)" in inc["cause"], inc["cause"]
        # Late replies did arrive, several of them ...
        wait_for(lambda: resp.answered() >= 5, 15,
                 "five late replies sent")
        # ... and not one was taken for a success.
        assert success_lines(d, TGT_ADDR) == [], d.tail()
        assert d.running
        d.stop()
    finally:
        resp.close()
