"""A port scan: one source SYNs a thousand ports of one server.  One
early warning, naming the scanner, its target and the ports' range."""
import pytest

import pcapgen
from anomalylib import replay, values, warnings

# Issue 21: the warnings' statements on PostgreSQL too.
pytestmark = pytest.mark.both_backends

SCANNER = "203.0.113.66"
TARGET = "198.51.100.20"


def test_port_scan_names_the_scanner(tmp_path, scenario):
    t0 = pcapgen.T0
    pcap = pcapgen.write(tmp_path / "portscan.pcap", pcapgen.merged(
        pcapgen.baseline(t0, 30),
        pcapgen.port_scan(t0 + 5, 10, SCANNER, TARGET, range(1, 1001))))
    db, log, _ = replay(tmp_path, pcap, db=scenario.register("anomaly"))
    ws = warnings(db)
    assert len(ws) == 1, ws
    w = ws[0]
    assert w["summary"] == ("distinct-ports-per-source above 100 in 1m: "
                            f"source {SCANNER}"), w
    assert values(w, "sources") == [SCANNER], w
    assert values(w, "targets") == [TARGET], w
    lo, hi = map(int, values(w, "ports")[0].split("-"))
    assert 1 <= lo and hi <= 1000 and hi - lo >= 100, w
    assert w["ended_at"] is not None, w
