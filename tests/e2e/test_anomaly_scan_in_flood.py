"""A port scan hidden in a flood of spoofed sources is still found: the
bounded source table evicts the one-packet sources, never the scanner,
which grows heavier with every probe.  Two early warnings: the flood
(SYN rate) and the scan, naming the scanner."""
import pcapgen
from anomalylib import replay, values, warnings

SCANNER = "203.0.113.66"
TARGET = "198.51.100.20"


def test_scan_inside_spoofed_flood(tmp_path):
    t0 = pcapgen.T0
    flood = tmp_path / "flood.pcap"
    pcapgen.write_spoofed_flood(flood, t0 + 5, 10, 300_000,
                                "198.51.100.10", quiet=0)
    # Merge the flood file's frames with a scan and a baseline.
    import struct
    frames = []
    with open(flood, "rb") as f:
        f.read(24)
        while True:
            hdr = f.read(16)
            if not hdr:
                break
            sec, usec, caplen, _ = struct.unpack("<IIII", hdr)
            frames.append((sec + usec / 1e6, f.read(caplen)))
    pcap = pcapgen.write(tmp_path / "scan-in-flood.pcap", pcapgen.merged(
        frames, pcapgen.baseline(t0, 30),
        pcapgen.port_scan(t0 + 5, 10, SCANNER, TARGET, range(1, 1001))))
    db, log, _ = replay(tmp_path, pcap)
    ws = warnings(db)
    assert len(ws) == 2, ws
    flood_w = [w for w in ws if w["summary"].startswith("syn-rate ")]
    scan_w = [w for w in ws if w["summary"].startswith(
        "distinct-ports-per-source ")]
    assert len(flood_w) == 1 and len(scan_w) == 1, ws
    assert values(scan_w[0], "sources") == [SCANNER], scan_w
    assert values(scan_w[0], "targets") == [TARGET], scan_w
