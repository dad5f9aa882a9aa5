"""A SYN flood against one server: one early warning for the episode,
naming the counter, its value and the target; its end recorded once the
flood stops; the episode's sources, targets and ports listed for sharing.
"""
import pcapgen
from anomalylib import replay, values, warnings
from conftest import db_rows, fmt_ms, parse_time

TARGET = "198.51.100.10"


def test_syn_flood_opens_one_warning_with_its_target(tmp_path):
    t0 = pcapgen.T0
    # 10 s of 8000 SYN/s from 203.0.113.0/24, never answered, inside
    # 30 s of ordinary traffic.
    pcap = pcapgen.write(tmp_path / "synflood.pcap", pcapgen.merged(
        pcapgen.baseline(t0, 30),
        pcapgen.syn_flood(t0 + 5, 10, 8000, TARGET)))
    db, log, _ = replay(tmp_path, pcap)
    ws = warnings(db)
    assert len(ws) == 1, ws
    w = ws[0]
    assert w["source"] == "anomaly edge" and w["state"] == "open", w
    assert w["summary"].startswith("syn-rate "), w
    assert "above 5000/s for 3s" in w["summary"], w
    rate = int(w["summary"].split()[1].rstrip("/s"))
    assert 7500 <= rate <= 8500, w
    assert values(w, "targets")[0] == TARGET, w
    assert f"top targets: {TARGET}" in w["detail"], w
    assert all(s.startswith("203.0.113.") for s in values(w, "sources")), w
    assert values(w, "ports")[0] == "80/tcp", w
    # Opened once held for 3 s, ended when the flood stopped.
    opened, ended = parse_time(w["opened_at"]), parse_time(w["ended_at"])
    start = int((t0 + 5) * 1000)
    assert start + 3000 <= opened <= start + 4000, fmt_ms(opened)
    assert start + 9000 <= ended <= start + 10000, fmt_ms(ended)
    events = [r["event"] for r in db_rows(
        db, "SELECT event FROM timeline WHERE warning_id = ? ORDER BY id",
        w["id"])]
    assert events == ["warning opened", "warning ended"], events
