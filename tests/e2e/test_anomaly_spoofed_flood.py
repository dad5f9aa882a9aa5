"""A SYN flood from a million spoofed sources, each seen once: one early
warning (the SYN rate; no source is a scanner), and the daemon's memory
stays bounded: the per-source table is fixed and evicts, it never grows.

The daemon logs its own peak resident memory (VmHWM) at the end of a
replay.  Measured on the release build: 11.9 MiB after the 5,400-packet
baseline, 14.2 MiB after this million-source flood.  A source's first
packet takes only a 16-byte index entry (8192 of them, 128 KiB); the
580-byte slot with its bitmaps comes with the second, so one-packet
sources never touch the big table; the rest of the difference is the SYN
table (256 KiB) and the sketches being touched.  Anything that kept
state per source would need at least 16 MiB more for a million of them,
so the flood may add at most 8 MiB to the baseline's peak, in either
build.  The ASan build also keeps a shadow byte for every 8 bytes of the
mapped capture the walk reads (daemon/pcapfile.c); on some kernels those
pages stay resident (8.8 MiB for this 70 MB file on Linux 6.18, where
the shadow's mapping held 10.1 MiB at the end and the flood's peak was
10.4 MiB above the baseline's).  That is the sanitizer's memory, not the
daemon's: under ASan the bound is the file's size / 8 more.
"""
import os
import re

import pcapgen
from anomalylib import replay, values, warnings
from conftest import asan

TARGET = "198.51.100.10"
SOURCES = 1_000_000
GROWTH_BOUND_KIB = 8 * 1024


def peak_kib(log):
    m = re.search(r"peak memory (\d+) KiB", log)
    assert m, log
    return int(m.group(1))


def test_spoofed_flood_bounded_memory(tmp_path):
    base_dir = tmp_path / "baseline"
    base_dir.mkdir()
    pcap = pcapgen.write(base_dir / "baseline.pcap",
                         pcapgen.baseline(pcapgen.T0, 30))
    _, log, _ = replay(base_dir, pcap)
    baseline_kib = peak_kib(log)

    pcap = pcapgen.write_spoofed_flood(tmp_path / "spoofed.pcap",
                                       pcapgen.T0, 20, SOURCES, TARGET)
    db, log, _ = replay(tmp_path, pcap)
    shadow_kib = (os.path.getsize(pcap) // 8 // 1024
                  if asan() else 0)
    os.unlink(pcap)
    assert f"{SOURCES + 1083} packets in" in log, log
    ws = warnings(db)
    assert len(ws) == 1, ws
    w = ws[0]
    assert w["summary"].startswith("syn-rate "), w
    assert values(w, "targets")[0] == TARGET, w
    assert w["ended_at"] is not None, w
    flood_kib = peak_kib(log)
    print(f"peak memory: baseline {baseline_kib} KiB, "
          f"{SOURCES} spoofed sources {flood_kib} KiB")
    assert flood_kib - baseline_kib < GROWTH_BOUND_KIB + shadow_kib, (
        baseline_kib, flood_kib, shadow_kib)
