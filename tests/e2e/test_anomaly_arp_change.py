"""The gateway's address, held by its MAC for 12s, answered from another
MAC: one early warning naming the address and both MACs, saying which it
was at before; it ends when the gateway's MAC alone has answered for
"end after", at the forged MAC's last claim."""
import pcapgen
from anomalylib import replay, values, warnings
from conftest import db_rows, parse_time


def test_arp_change_of_the_gateway(tmp_path):
    t0 = pcapgen.T0
    spoof = [(t0 + 12 + i * 0.5, pcapgen.arp_reply(pcapgen.GW_IP,
                                                   pcapgen.SPOOF_MAC))
             for i in range(6)]
    back = [(t0 + 20, pcapgen.arp_reply(pcapgen.GW_IP, pcapgen.GW_MAC))]
    pcap = pcapgen.write(tmp_path / "arp.pcap", pcapgen.merged(
        pcapgen.baseline(t0, 30), spoof, back))
    db, log, _ = replay(tmp_path, pcap)
    ws = warnings(db)
    assert len(ws) == 1, ws
    w = ws[0]
    assert w["summary"] == ("arp-change: 192.0.2.1 moved from "
                            "02:00:00:00:00:01 to 02:ba:db:ad:ba:d1"), w
    assert values(w, "targets") == ["192.0.2.1"], w
    assert sorted(values(w, "macs")) == ["02:00:00:00:00:01",
                                         "02:ba:db:ad:ba:d1"], w
    assert parse_time(w["opened_at"]) == int((t0 + 12) * 1000), w
    # The real MAC alone from t0 + 15 on: over at the forger's last.
    assert parse_time(w["ended_at"]) == int((t0 + 14.5) * 1000), w
    ended = [r["detail"] for r in db_rows(
        db, "SELECT detail FROM timeline WHERE warning_id = ?"
        " AND event = 'warning ended'", w["id"])]
    assert ended == ["192.0.2.1 only at 02:00:00:00:00:01 for 5s; 1 "
                     "flip-flop between 02:00:00:00:00:01 and "
                     "02:ba:db:ad:ba:d1"], ended
