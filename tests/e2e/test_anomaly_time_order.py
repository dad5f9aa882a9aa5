"""A capture whose frames are not in time order (merged from two taps, or
edited before it was published) is counted in time order, and the replay
says how many frames were out of order.

The scan below crosses the boundary of two of its counter's periods and
its frames are shuffled among themselves: read in file order, time goes
back and forth across the boundary, each step resets the source's
distinct ports, and no period ever holds more than a handful.  In time
order each period holds 150 ports, over the 100 of the threshold.  One
more frame, 20 s older than its neighbours, is beyond any window: it is
counted, at the time of the frames before it, and said.
"""
import random

import pytest

import pcapgen
from anomalylib import replay, values, warnings
from test_anomaly_file_formats import write_pcapng

SCANNER = "203.0.113.66"
TARGET = "198.51.100.20"


@pytest.mark.parametrize("fmt", ["classic", "pcapng"])
def test_shuffled_scan_is_counted_in_time_order(tmp_path, fmt):
    # Classic pcap is walked in place (its window in pcapfile.c), pcapng
    # goes through libpcap (the window in capture.c): both reorder.
    t0 = pcapgen.T0
    # T0 is 40 s into a minute: the periods of 1m change at t0 + 20.
    edge = t0 + 20
    packets = pcapgen.merged(
        pcapgen.baseline(t0, 40),
        pcapgen.port_scan(edge - 0.3, 0.6, SCANNER, TARGET,
                          range(1, 301)))
    where = [i for i, (_, f) in enumerate(packets)
             if f[26:30] == bytes([203, 0, 113, 66])]
    assert len(where) == 300
    scan = [packets[i] for i in where]
    random.Random(16).shuffle(scan)
    for i, p in zip(where, scan):
        packets[i] = p
    # A stray frame from 20 s earlier, near the end of the file.
    stray = (t0 + 15, pcapgen.icmp_echo("192.0.2.10", "198.51.100.10"))
    packets.insert(len(packets) - 100, stray)
    # Out of order: earlier (in the file's milliseconds) than a frame
    # before it; the stray is not among them.
    moved, latest = -1, 0
    for t, _ in packets:
        ms = int(round(t * 1e6)) // 1000
        moved += ms < latest
        latest = max(latest, ms)
    pcap = (pcapgen.write(tmp_path / "shuffled.pcap", packets)
            if fmt == "classic" else
            write_pcapng(tmp_path / "shuffled.pcapng", packets))
    db, log, _ = replay(tmp_path, pcap)
    assert f"{len(packets)} packets in" in log, log
    ws = warnings(db)
    assert [w["summary"] for w in ws] == [
        f"distinct-ports-per-source above 100 in 1m: source {SCANNER}"], ws
    assert values(ws[0], "targets") == [TARGET], ws
    # Each frame earlier than one before it was put back in order.
    assert f"; {moved} out of time order, 1 beyond the reorder window;" \
        in log, log
    assert "not in time order:" in log, log
