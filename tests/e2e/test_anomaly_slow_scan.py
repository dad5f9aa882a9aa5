"""A scan at 4 ports a second: 132 ports in 33s, across a boundary of the
30s periods of distinct-ports-per-source (60 ports in one, 72 in the next,
never above 100 in either).  With slow-distinct-ports-per-source over 5
minutes beside it, the scan is found; without, it is missed, which is why
the second, longer period is there.

Live: the same with a real nmap -sS --scan-delay between two namespaces,
and tcpdump's capture of it replayed."""
import math
import shutil
import time

import pytest

import pcapgen
from anomalylib import ipv4_packets, replay, tcpdump, values, warnings
from conftest import rules_file, wait_for
from pinglib import MON_ADDR, TGT_ADDR, daemon_in, netpair

__all__ = ["netpair"]

SCANNER = "203.0.113.44"
TARGET = "198.51.100.11"


def rules(db, slow):
    return rules_file(db, 'anomaly "edge" interface "lo" {\n'
                      "    distinct-ports-per-source above 100 in 30s\n" +
                      ("    slow-distinct-ports-per-source above 100 in 5m\n"
                       if slow else "") + "}\n")


def test_slow_scan_found_by_the_longer_period(tmp_path):
    # 15s into a 30s period, well inside a 5 minute one.
    start = math.ceil(pcapgen.T0 / 300) * 300 + 15
    pcap = pcapgen.write(tmp_path / "slow.pcap", pcapgen.merged(
        pcapgen.baseline(start - 5, 45),
        pcapgen.port_scan(start, 33, SCANNER, TARGET, range(1, 133))))
    for slow in (False, True):
        work = tmp_path / f"slow-{slow}"
        work.mkdir()
        db, log, _ = replay(work, pcap, rules(str(work / "anomaly.db"),
                                              slow))
        ws = warnings(db)
        if not slow:
            assert ws == [], ws
            continue
        assert [w["summary"] for w in ws] == [
            "slow-distinct-ports-per-source above 100 in 5m: source "
            f"{SCANNER}"], ws
        assert values(ws[0], "targets") == [TARGET], ws
        lo, hi = map(int, values(ws[0], "ports")[0].split("-"))
        assert lo <= 2 and hi == 132, ws


# Live: nmap -sS at 4 ports a second.  The row (130 ports in 33s
# against 100 in 30s) scaled down to stay short: 60 ports, one every
# 250ms (--scan-delay), 15s in all.  The short period of 5s holds about
# 20 of them, under its 30; the slow one of 5 minutes holds all 60, over
# its 40.  A scan has to go faster than 6 ports a second for the short
# period to see it.
SHORT = ("    distinct-ports-per-source above 30 in 5s\n"
         "    end after 3s\n")
SLOW = SHORT + "    slow-distinct-ports-per-source above 40 in 5m\n"
SLOW_PERIOD = 300
SCAN_PORTS = 60


def live_rules(db):
    """Two blocks on rtw0: one with the short period alone (what the
    daemon had before), one with the slow period beside it."""
    return rules_file(db, *(f'anomaly "{name}" interface "rtw0" {{\n'
                            f"{body}}}\n" for name, body in
                            (("short", SHORT), ("slow", SLOW))))


def block_rules(db, body):
    return rules_file(db, 'anomaly "edge" interface "rtw0" {\n' + body +
                      "}\n")


def test_nmap_slow_scan_live_and_replayed(scenario, netpair, tmp_path):
    for tool in ("nmap", "tcpdump"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (scripts/deps.sh check)")
    d = daemon_in(netpair, scenario)
    d.write_rules(live_rules(d.db))
    d.start()
    for name in ("short", "slow"):
        wait_for(lambda: f"anomaly {name}: capturing on rtw0" in
                 d.run_log(), 10, f"block {name} capturing on rtw0")
    # The periods follow the packets' (wall) clock: the 15s scan must
    # fall in one 5 minute period, not be split by its end, or each half
    # holds only 30.  A clock to start at, not a wait for an event.
    left = SLOW_PERIOD - time.time() % SLOW_PERIOD
    if left < 25:
        time.sleep(left + 1)
    pcap = tmp_path / "slow-scan.pcap"
    with tcpdump(netpair, pcap):
        r = netpair.sh(netpair.tgt, "timeout", "40", "nmap", "-sS", "-Pn",
                       "-n", "--max-retries", "0", "--scan-delay", "250ms",
                       "--host-timeout", "35s", "-p", f"1-{SCAN_PORTS}",
                       MON_ADDR, check=False)
        assert r.returncode == 0, r.stderr + r.stdout
        ws = wait_for(lambda: [w for w in warnings(d.db)
                               if w["ended_at"]] or None, 15,
                      "a warning for the slow scan, ended (its ports "
                      "are then known)")
        ws = warnings(d.db)
    # The scan was slow: its 60 SYNs took 12s or more (5 ports a second
    # at most), as tcpdump saw them.
    syns = [t for t, proto, src, dst, _, dport, _ in ipv4_packets(pcap)
            if proto == 6 and src == TGT_ADDR and dst == MON_ADDR and
            1 <= dport <= SCAN_PORTS]
    assert len(syns) == SCAN_PORTS, syns
    assert syns[-1] - syns[0] >= 12, syns[-1] - syns[0]
    # Found by the slow period, and only by it: the block with the
    # short period alone (the old behaviour) says nothing.
    assert [(w["source"], w["summary"]) for w in ws] == [
        ("anomaly slow", "slow-distinct-ports-per-source above 40 in 5m: "
         f"source {TGT_ADDR}")], ws
    assert values(ws[0], "targets") == [MON_ADDR], ws
    lo, hi = map(int, values(ws[0], "ports")[0].split("-"))
    assert lo <= 10 and hi >= SCAN_PORTS - 10, ws
    d.stop()

    # tcpdump's capture replayed: the same, with either block alone.
    for name, body in (("short", SHORT), ("slow", SLOW)):
        work = tmp_path / f"replay-{name}"
        work.mkdir()
        db, _, _ = replay(work, pcap, block_rules(str(work / "anomaly.db"),
                                                  body))
        rs = warnings(db)
        if name == "short":
            assert rs == [], rs
            continue
        assert [w["summary"] for w in rs] == [ws[0]["summary"]], rs
        assert values(rs[0], "targets") == [MON_ADDR], rs
        assert values(rs[0], "ports") == values(ws[0], "ports"), rs
