"""A scan at 4 ports a second: 132 ports in 33s, across a boundary of the
30s periods of distinct-ports-per-source (60 ports in one, 72 in the next,
never above 100 in either).  With slow-distinct-ports-per-source over 5
minutes beside it, the scan is found; without, it is missed, which is why
the second, longer period is there."""
import math

import pcapgen
from anomalylib import replay, values, warnings
from conftest import rules_file

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
