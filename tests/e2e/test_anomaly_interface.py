"""An anomaly block's interface that goes away, or is not there yet.

On the veth pair of pinglib.NetPair, in namespace "mon":

  "late" names rtw5, which does not exist at start: one warning in the
      log, then quiet retries; once rtw5 appears, it captures ("again");
  "lan" captures on rtw0 and has an ARP-change episode open when rtw0 is
      deleted: the failure is logged once, not at every read, the open
      warning ends saying the capture failed, and when rtw0 is back the
      block captures again and sees the next change.
"""
import sys

from anomalylib import warnings
from conftest import db_rows, rules_file, wait_for
from pinglib import TGT_ADDR, daemon_in, netpair
from test_anomaly_live_arp import SEND

__all__ = ["netpair"]

RULES = ('anomaly "lan" interface "rtw0" {\n'
         f'    arp-change "{TGT_ADDR}"\n}}\n'
         'anomaly "late" interface "rtw5" {\n'
         "    icmp-rate above 100000/s for 10s\n}\n")


def count(d, text):
    return d.run_log().count(text)


def test_interface_gone_and_late(scenario, netpair):
    d = daemon_in(netpair, scenario)
    d.write_rules(rules_file(d.db, RULES))
    d.start()
    wait_for(lambda: "anomaly lan: capturing on rtw0" in d.run_log(), 10,
             "the capture on rtw0")
    wait_for(lambda: "anomaly late: cannot capture on rtw5: No such device "
             "exists; trying again every 5 s" in d.run_log(), 10,
             "rtw5's absence, logged")

    netpair.sh(netpair.tgt, sys.executable, "-c", SEND, "real", "forged")
    w = wait_for(lambda: warnings(d.db) or None, 10, "the ARP change")[0]
    netpair.ip(netpair.mon, "link", "del", "rtw0")
    wait_for(lambda: next(x for x in warnings(d.db)
                          if x["id"] == w["id"])["ended_at"], 10,
             "the open warning ended when its capture failed")
    detail = db_rows(d.db, "SELECT detail FROM timeline WHERE warning_id = ?"
                     " AND event = 'warning ended'", w["id"])[0]["detail"]
    assert "the capture on rtw0 failed" in detail, detail

    # Retried every 5 s (said at -v only), still one warning line each.
    wait_for(lambda: "anomaly lan: cannot capture on rtw0: No such device "
             "exists (try 2)" in d.run_log(), 15, "rtw0 retried, at -v")
    assert "anomaly late: cannot capture on rtw5: No such device exists " \
        "(try 2)" in d.run_log()
    assert count(d, "anomaly lan: the capture on rtw0 failed") == 1
    assert count(d, "; trying again every 5 s") == 2, d.run_log()

    # rtw5 appears, rtw0 comes back: both capture again, quietly retried.
    netpair.ip(netpair.mon, "link", "add", "rtw5", "type", "veth", "peer",
               "name", "rtw6")
    netpair.ip(netpair.mon, "link", "set", "rtw5", "up")
    netpair.veth()
    wait_for(lambda: "anomaly late: capturing on rtw5 (link type EN10MB), "
             "again" in d.run_log(), 10, "rtw5 captured once it exists")
    wait_for(lambda: "anomaly lan: capturing on rtw0 (link type EN10MB), "
             "again" in d.run_log(), 10, "rtw0 captured again")
    netpair.sh(netpair.tgt, sys.executable, "-c", SEND, "real", "forged")
    wait_for(lambda: len(warnings(d.db)) == 2 or None, 10,
             "the next ARP change, seen on the new rtw0")
    d.stop()
