"""Anomaly blocks follow a reload, and no early warning is left open.

Live, on the veth pair of pinglib.NetPair: block "lan" watches
198.18.0.2's MAC (arp-change), a conflict that stays open until one MAC
alone has answered for "end after 5s", which makes every step below
observable.

  reload, a new block "scan" before "lan", which is as before but on other
      lines: "scan" captures at once;
      "lan" keeps its open warning and what it learnt, so that same
      warning ends, the real MAC alone answering;
  reload, "lan" changed and "scan" gone: the open warning ends, saying
      the rules were reloaded; "scan" stops capturing;
  stop: the warning then open ends, saying rtowatchd stopped;
  kill -9: the open warning stays open, and the next start ends it at its
      last record, saying the daemon stopped without ending it.
"""
import sys

from anomalylib import warnings
from conftest import api, db_rows, rules_file, wait_for
from pinglib import TGT_ADDR, daemon_in, netpair
from test_anomaly_live_arp import SEND

__all__ = ["netpair"]

SCAN = ('anomaly "scan" interface "rtw0" {\n'
        "    distinct-ports-per-source above 100 in 10s\n}\n")


def lan(*addrs):
    return ('anomaly "lan" interface "rtw0" {\n'
            "    icmp-rate above 100000/s for 10s\n" +
            "".join(f'    arp-change "{a}"\n' for a in addrs) +
            "    end after 5s\n}\n")


def ended_detail(db, warning_id):
    rows = db_rows(db, "SELECT detail FROM timeline WHERE warning_id = ? "
                   "AND event = 'warning ended'", warning_id)
    assert len(rows) == 1, rows     # ended once
    return rows[0]["detail"]


def send(netpair, *macs):
    netpair.sh(netpair.tgt, sys.executable, "-c", SEND, *macs)


def open_warning(d, count):
    """Wait for COUNT warnings in all, the newest open; return it."""
    ws = wait_for(lambda: (lambda w: w if len(w) == count else None)(
        warnings(d.db)), 10, f"early warning number {count}")
    w = max(ws, key=lambda x: x["id"])
    assert w["ended_at"] is None, w
    return w


def test_anomaly_blocks_reload_and_stop(scenario, netpair):
    d = daemon_in(netpair, scenario)
    d.write_rules(rules_file(d.db, lan(TGT_ADDR)))
    d.start()
    wait_for(lambda: "anomaly lan: capturing on rtw0" in d.run_log(), 10,
             "the capture on rtw0")
    send(netpair, "real", "forged")
    w1 = open_warning(d, 1)

    # A new block before the same one, whose lines move: "lan" goes on,
    # "scan" starts.
    d.write_rules(rules_file(d.db, SCAN + lan(TGT_ADDR)))
    d.hup()
    wait_for(lambda: "anomaly scan: capturing on rtw0" in d.run_log(), 10,
             "the new block capturing after the reload")
    status, body = api(d.sock, "GET", "/v1/status")
    assert [t["name"] for t in body["traffic"]] == ["scan", "lan"], body
    assert body["traffic"][1]["open_episodes"] == 1, body
    assert d.run_log().count("anomaly lan: capturing on rtw0") == 1
    send(netpair, "real")
    wait_for(lambda: next(x for x in warnings(d.db)
                          if x["id"] == w1["id"])["ended_at"], 10,
             "the first warning's end, by the real MAC")
    assert " only at " in ended_detail(d.db, w1["id"]), \
        ended_detail(d.db, w1["id"])

    # "lan" changed while an episode is open; "scan" gone.
    send(netpair, "forged")
    w2 = open_warning(d, 2)
    d.write_rules(rules_file(d.db, lan(TGT_ADDR, "198.18.0.3")))
    d.hup()
    wait_for(lambda: "anomaly scan: stopped capturing on rtw0" in
             d.run_log(), 10, "the removed block stopping")
    wait_for(lambda: next(x for x in warnings(d.db)
                          if x["id"] == w2["id"])["ended_at"], 10,
             "the changed block's warning ended")
    assert "the rules were reloaded and this block changed or went" in \
        ended_detail(d.db, w2["id"]), ended_detail(d.db, w2["id"])

    # A clean stop ends what is open.
    send(netpair, "real", "forged")
    w3 = open_warning(d, 3)
    d.stop()
    assert "rtowatchd stopped while the episode went on" in \
        ended_detail(d.db, w3["id"])

    # Killed, it cannot: the next start does, at the warning's last record.
    d.start()
    wait_for(lambda: "anomaly lan: capturing on rtw0" in d.run_log(), 10,
             "the capture after the restart")
    send(netpair, "real", "forged")
    w4 = open_warning(d, 4)
    d.kill9()
    assert next(x for x in warnings(d.db)
                if x["id"] == w4["id"])["ended_at"] is None
    d.start()
    wait_for(lambda: all(x["ended_at"] for x in warnings(d.db)), 10,
             "the killed run's warning ended at the next start")
    w = next(x for x in warnings(d.db) if x["id"] == w4["id"])
    assert w["ended_at"] == w["opened_at"], w   # its only record
    assert ("rtowatchd stopped without ending this episode (killed or "
            "crashed)") in ended_detail(d.db, w4["id"])
    assert "1 early warning left open by a run that did not stop " \
        "cleanly was ended" in d.run_log()
    d.stop()
