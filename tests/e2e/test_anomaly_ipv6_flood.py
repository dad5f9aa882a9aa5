"""A SYN flood over IPv6 against one server: one early warning, its
target and sources written as IPv6 addresses; a port scan over IPv6 in
the same file names its scanner."""
import pcapgen
from anomalylib import replay, values, warnings

TARGET = "2001:db8:100::10"
SCANNER = "2001:db8:bad::66"


def test_ipv6_flood_and_scan(tmp_path):
    t0 = pcapgen.T0
    flood = [(t0 + 5 + i / 8000,
              pcapgen.tcp6(f"2001:db8:bad::{1 + i % 300:x}", TARGET,
                           1024 + i % 50000, 80, pcapgen.SYN))
             for i in range(8000 * 8)]
    scan = [(t0 + 20 + i / 100, pcapgen.tcp6(SCANNER, "2001:db8:100::20",
                                             40000, port, pcapgen.SYN))
            for i, port in enumerate(range(1, 501))]
    pcap = pcapgen.write(tmp_path / "v6.pcap", pcapgen.merged(
        pcapgen.baseline(t0, 40), flood, scan))
    db, log, _ = replay(tmp_path, pcap)
    ws = warnings(db)
    assert len(ws) == 2, ws
    f, s = ws
    # 8000 SYN/s of the flood and the baseline's 30 handshakes a second.
    assert f["summary"] == "syn-rate 8030/s above 5000/s for 3s", f
    assert values(f, "targets")[0] == TARGET, f
    assert any(v.startswith("2001:db8:bad::") for v in values(f, "sources"))
    assert f["ended_at"] is not None, f
    assert s["summary"] == ("distinct-ports-per-source above 100 in 1m: "
                            f"source {SCANNER}"), s
    assert values(s, "targets") == ["2001:db8:100::20"], s
