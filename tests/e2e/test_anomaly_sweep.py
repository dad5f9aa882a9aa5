"""A ping sweep of a /24: one source, 254 hosts.  One early warning for
distinct hosts, naming the source; the ICMP rate stays far too low to
be a flood."""
import pcapgen
from anomalylib import replay, values, warnings

SCANNER = "203.0.113.77"


def test_sweep_names_the_source(tmp_path):
    t0 = pcapgen.T0
    pcap = pcapgen.write(tmp_path / "sweep.pcap", pcapgen.merged(
        pcapgen.baseline(t0, 30),
        pcapgen.sweep(t0 + 5, 10, SCANNER)))
    db, log, _ = replay(tmp_path, pcap)
    ws = warnings(db)
    assert len(ws) == 1, ws
    w = ws[0]
    assert w["summary"] == ("distinct-hosts-per-source above 50 in 1m: "
                            f"source {SCANNER}"), w
    assert values(w, "sources") == [SCANNER], w
    assert values(w, "targets")[0].startswith("198.51.100."), w
