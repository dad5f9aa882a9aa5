"""A SYN scan in tiny IP fragments (nmap -sS -f) is a port scan like any.

nmap -f cuts each SYN's 24 bytes of TCP into three fragments of 8: the
first holds the ports, the second the flags, the third the rest.  The
decoder reads the ports from the first fragment and the flags from the
second, and pairs them; the later fragments are not read as headers.

Those first fragments too short for the flags, and the second ones written
at offset 8 over them, are what RFC 1858 warns of: bad-fragment-rate counts
them, an early warning of its own beside the scan's.

Replayed: a capture of 1,000 ports in 3,000 fragments (pcapgen).  Live:
nmap -sS -f from "tgt" against 1,000 ports of the daemon's host in "mon"
(one try per port, a minute at most), seen by the daemon's block on rtw0
and written by tcpdump at the same time; the capture tcpdump wrote is
then replayed and must give the same warning.
"""
import shutil
import sys

import pytest

import pcapgen
from anomalylib import anomaly_rules, replay, tcpdump, values, warnings
from conftest import wait_for
from pinglib import MON_ADDR, TGT_ADDR, daemon_in, netpair

__all__ = ["netpair"]

SCANNER = "203.0.113.66"

# Four datagrams to the discard port, 0.5s apart: traffic, not a wait.
TRAILER = f"""
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(4):
    s.sendto(b"x", ("{MON_ADDR}", 9))
    time.sleep(0.5)
"""
TARGET = "198.51.100.20"


def scan_and_fragments(ws, source, period):
    """The scan's warning and the bad fragments', in that order."""
    ws = sorted(ws, key=lambda w: w["summary"].startswith("bad-fragment"))
    assert [w["summary"].split(" ")[0] for w in ws] == [
        "distinct-ports-per-source", "bad-fragment-rate"], ws
    assert ws[0]["summary"] == (f"distinct-ports-per-source above 100 in "
                                f"{period}: source {source}"), ws
    return ws


def test_fragmented_scan_replayed(tmp_path):
    t0 = pcapgen.T0
    scan = pcapgen.fragmented_scan(t0 + 5, 10, SCANNER, TARGET,
                                   range(1, 1001))
    assert len(scan) == 3000
    pcap = pcapgen.write(tmp_path / "fragments.pcap", pcapgen.merged(
        pcapgen.baseline(t0, 30), scan))
    db, log, _ = replay(tmp_path, pcap)
    ws = scan_and_fragments(warnings(db), SCANNER, "1m")
    assert values(ws[0], "targets") == [TARGET], ws
    lo, hi = map(int, values(ws[0], "ports")[0].split("-"))
    assert 1 <= lo and hi <= 1000 and hi - lo >= 100, ws
    # 1,000 probes in 10s, two bad fragments each.
    assert ws[1]["summary"] == "bad-fragment-rate 200/s above 50/s for 1s", ws
    assert values(ws[1], "sources") == [SCANNER], ws


def test_nmap_fragmented_scan_live_and_replayed(scenario, netpair, tmp_path):
    for tool in ("nmap", "tcpdump"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (scripts/deps.sh check)")
    d = daemon_in(netpair, scenario)
    d.write_rules(anomaly_rules(d.db, iface="rtw0", window="1s",
                                period="10s"))
    d.start()
    wait_for(lambda: "anomaly edge: capturing on rtw0" in d.run_log(), 10,
             "the capture on rtw0")
    pcap = tmp_path / "nmap-f.pcap"
    with tcpdump(netpair, pcap):
        nmap = netpair.sh(netpair.tgt, "timeout", "90", "nmap", "-sS",
                          "-f", "-Pn", "-n", "-T4", "--max-retries", "0",
                          "--host-timeout", "60s", "-p", "1-1000",
                          MON_ADDR, check=False)
        assert nmap.returncode == 0, nmap.stderr + nmap.stdout
        # nmap is done in a fraction of a second: a few datagrams after
        # it put packets past its window in the capture, so that the
        # replay, whose clock is the packets', closes that window too.
        netpair.sh(netpair.tgt, sys.executable, "-c", TRAILER)
        ws = wait_for(lambda: (lambda w: w if len(w) == 2 else None)(
            warnings(d.db)), 15, "early warnings for the fragmented scan "
            "and its fragments")
    ws = scan_and_fragments(ws, TGT_ADDR, "10s")
    assert values(ws[0], "targets") == [MON_ADDR], ws
    assert values(ws[1], "sources") == [TGT_ADDR], ws
    d.stop()

    # What tcpdump saw holds the fragments, and gives the same warning.
    data = pcap.read_bytes()
    frags = 0
    off = 24
    while off + 16 <= len(data):
        caplen = int.from_bytes(data[off + 8:off + 12], "little")
        frame = data[off + 16:off + 16 + caplen]
        if (len(frame) >= 34 and frame[12:14] == b"\x08\x00" and
                frame[23] == 6 and
                int.from_bytes(frame[20:22], "big") & 0x3fff):
            frags += 1
        off += 16 + caplen
    assert frags >= 2000, f"only {frags} TCP fragments in {pcap}"
    work = tmp_path / "replay"
    work.mkdir()
    rules = anomaly_rules(str(work / "anomaly.db"), iface="rtw0",
                          window="1s", period="10s")
    db, log, _ = replay(work, pcap, rules)
    rs = scan_and_fragments(warnings(db), TGT_ADDR, "10s")
    assert values(rs[0], "targets") == [MON_ADDR], rs
    assert values(rs[1], "sources") == [TGT_ADDR], rs
