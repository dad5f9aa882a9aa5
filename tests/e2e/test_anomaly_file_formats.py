"""The same capture in the formats capture tools write gives the same
warnings, and a capture cut short is reported, not half-read in silence.

An analyst replays what tcpdump (classic pcap, microseconds), a
nanosecond-precision capture written on a host of the other byte order,
or Wireshark (pcapng) saved.  rtowatchd reads classic pcap files in
place and hands every other format to libpcap: each of the four files of
one SYN flood must give the same warning, with the same times.  A file
cut in the middle of a record (a copy interrupted, a full disk) ends the
replay with an error that says where, exit status 1, after recording
what the complete records showed.
"""
import os
import struct
import subprocess

import pcapgen
from anomalylib import anomaly_rules, replay, warnings
from conftest import SANITIZER_MARKS, binary

TARGET = "198.51.100.10"


def flood():
    t0 = pcapgen.T0
    return pcapgen.merged(pcapgen.baseline(t0, 20),
                          pcapgen.syn_flood(t0 + 5, 8, 8000, TARGET))


def write_classic(path, packets, nsec=False, big_endian=False):
    """Classic pcap in the variant asked for."""
    e = ">" if big_endian else "<"
    magic = 0xa1b23c4d if nsec else 0xa1b2c3d4
    scale = 1e9 if nsec else 1e6
    with open(path, "wb") as f:
        f.write(struct.pack(e + "IHHiIII", magic, 2, 4, 0, 0, 65535, 1))
        for t, frame in packets:
            sec = int(t)
            frac = int(round((t - sec) * scale))
            if frac >= scale:
                sec, frac = sec + 1, frac - int(scale)
            f.write(struct.pack(e + "IIII", sec, frac, len(frame),
                                len(frame)))
            f.write(frame)
    return path


def _block(kind, body):
    pad = (-len(body)) % 4
    total = 12 + len(body) + pad
    return (struct.pack("<II", kind, total) + body + b"\0" * pad
            + struct.pack("<I", total))


def write_pcapng(path, packets):
    """pcapng: a section header, one Ethernet interface (microseconds),
    an enhanced packet block per frame."""
    with open(path, "wb") as f:
        f.write(_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0,
                                                -1)))
        f.write(_block(0x00000001, struct.pack("<HHI", 1, 0, 65535)))
        for t, frame in packets:
            us = int(round(t * 1e6))
            f.write(_block(0x00000006, struct.pack(
                "<IIIII", 0, us >> 32, us & 0xffffffff, len(frame),
                len(frame)) + frame))
    return path


def summary(ws):
    """What must be the same whatever the file's format."""
    return [(w["summary"], w["opened_at"], w["ended_at"],
             [i["value"] for i in w["targets"]]) for w in ws]


def test_every_format_gives_the_same_warning(tmp_path):
    packets = flood()
    files = {
        "classic": pcapgen.write(tmp_path / "classic.pcap", packets),
        "nanoseconds, big-endian": write_classic(
            tmp_path / "ns-be.pcap", packets, nsec=True, big_endian=True),
        "microseconds, big-endian": write_classic(
            tmp_path / "us-be.pcap", packets, big_endian=True),
        "pcapng": write_pcapng(tmp_path / "capture.pcapng", packets),
    }
    seen = {}
    for name, path in files.items():
        work = tmp_path / name.replace(" ", "").replace(",", "-")
        work.mkdir()
        db, log, _ = replay(work, path)
        assert f"{len(packets)} packets in" in log, (name, log)
        # Classic files are walked in place; pcapng goes to libpcap.
        how = ("through libpcap" if name == "pcapng" else
               "classic pcap, read in place")
        assert f"(link type EN10MB, {how})" in log, (name, log)
        seen[name] = summary(warnings(db))
    first = seen["classic"]
    assert len(first) == 1 and first[0][3][0] == TARGET, first
    for name, s in seen.items():
        assert s == first, f"{name}: {s}\nclassic: {first}"


def test_a_truncated_capture_is_an_error_that_says_where(tmp_path):
    packets = flood()
    whole = pcapgen.write(tmp_path / "whole.pcap", packets)
    data = open(whole, "rb").read()
    # Cut inside the data of the record that starts 80% into the file.
    cut = tmp_path / "cut.pcap"
    off, n = 24, 0
    while off < len(data) * 0.8:
        caplen = struct.unpack_from("<I", data, off + 8)[0]
        off += 16 + caplen
        n += 1
    cut.write_bytes(data[:off + 16 + 10])
    db = str(tmp_path / "cut.db")
    conf = tmp_path / "cut.conf"
    conf.write_text(anomaly_rules(db))
    p = subprocess.run([binary("rtowatchd"), "-d", "-f", str(conf),
                        "--pcap-file", str(cut)], capture_output=True,
                       text=True, timeout=120, cwd="/")
    out = p.stdout + p.stderr
    assert not any(m in out for m in SANITIZER_MARKS), out
    assert p.returncode == 1, f"exit {p.returncode}\n{out}"
    assert (f"truncated file: record {n + 1} has" in out and
            f"stopped after {n} packets" in out), out
    # The flood lies in the complete part: its warning is recorded.
    ws = warnings(db)
    assert [w["targets"][0]["value"] for w in ws] == [TARGET], ws
    assert os.path.getsize(cut) < len(data)
