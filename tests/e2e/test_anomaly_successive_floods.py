"""Three floods of three kinds, one after the other: a SYN flood, an ICMP
flood, then UDP replies from NTP servers (amplification).  Each is its
own early warning, opened by its own counter, and each names its own
target, sources and port: the heavy hitters of a kind of traffic are
kept while a warning of that kind may open, whichever came before.
"""
import pcapgen
from anomalylib import replay, values, warnings

SYN_TARGET = "198.51.100.10"
ICMP_SOURCE = "203.0.113.9"
ICMP_TARGET = "198.51.100.11"
AMP_TARGET = "198.51.100.12"


def test_each_flood_names_its_own_heavy_hitters(tmp_path):
    t0 = pcapgen.T0
    icmp = [(t0 + 25 + i / 3000,
             pcapgen.icmp_echo(ICMP_SOURCE, ICMP_TARGET, i))
            for i in range(3000 * 5)]
    amp = [(t0 + 45 + i / 3000,
            pcapgen.udp(f"203.0.113.{100 + i % 20}", AMP_TARGET, 123,
                        40000 + i % 1000, b"x" * 400))
           for i in range(3000 * 5)]
    pcap = pcapgen.write(tmp_path / "floods.pcap", pcapgen.merged(
        pcapgen.baseline(t0, 60),
        pcapgen.syn_flood(t0 + 5, 8, 8000, SYN_TARGET), icmp, amp))
    db, _, _ = replay(tmp_path, pcap)
    ws = sorted(warnings(db), key=lambda w: w["opened_at"])
    assert [w["summary"].split()[0] for w in ws] == [
        "syn-rate", "icmp-rate", "udp-amplification-rate"], ws
    assert all(w["ended_at"] is not None for w in ws), ws
    syn, icmp_w, amp_w = ws
    assert values(syn, "targets")[0] == SYN_TARGET, syn
    assert values(syn, "ports")[0] == "80/tcp", syn
    assert all(s.startswith("203.0.113.") for s in values(syn, "sources"))
    assert values(icmp_w, "targets")[0] == ICMP_TARGET, icmp_w
    assert values(icmp_w, "sources")[0] == ICMP_SOURCE, icmp_w
    assert f"top sources: {ICMP_SOURCE}" in icmp_w["detail"], icmp_w
    assert values(amp_w, "targets")[0] == AMP_TARGET, amp_w
    assert values(amp_w, "ports")[0] == "123/udp", amp_w
    assert all(s.startswith("203.0.113.1") for s in
               values(amp_w, "sources")[:5]), amp_w
