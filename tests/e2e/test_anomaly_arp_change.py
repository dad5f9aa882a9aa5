"""The gateway's address answered from another MAC: one early warning
naming the address and both MACs; its end recorded when the real
gateway's MAC answers again."""
import pcapgen
from anomalylib import replay, values, warnings
from conftest import parse_time


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
    assert values(w, "macs") == ["02:ba:db:ad:ba:d1"], w
    assert parse_time(w["opened_at"]) == int((t0 + 12) * 1000), w
    # The baseline's next reply from the real MAC, at t0 + 15, ends it.
    assert parse_time(w["ended_at"]) == int((t0 + 15) * 1000), w
