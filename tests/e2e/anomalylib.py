"""What the traffic-counter scenarios share: one rules file with every
counter, a replay of a capture file through rtowatchd --pcap-file, and
the warnings as `rtowatch warnings --format json` lists them."""
import contextlib
import json
import os
import signal
import subprocess

from conftest import SANITIZER_MARKS, binary, cli, rules_file

# Thresholds well above the baseline of pcapgen (100 events/s), holds of
# 3s, episodes ended after 5s of calm: each file stays a few seconds long.
ANOMALY = """anomaly "edge" interface "{iface}" window {window} {{
    syn-rate above 5000/s for 3s
    syn-unanswered above 80% for 3s
    packet-rate above 100000/s for 3s
    icmp-rate above 2000/s for 3s
    udp-amplification-rate above 2000/s for 3s
    bad-fragment-rate above 50/s for 1s
    distinct-ports-per-source above 100 in {period}
    distinct-hosts-per-source above 50 in {period}
    arp-change "192.0.2.1"
    end after 5s
}}
"""

REPLAY_TIMEOUT = 120


def anomaly_rules(db, iface="lo", window="1s", period="60s", extra=""):
    return rules_file(db, ANOMALY.format(iface=iface, window=window,
                                         period=period) + extra)


def replay(tmp_path, pcap, rules=None, db=None):
    """Run rtowatchd --pcap-file on PCAP with the shared rules and DB
    (anomaly.db, unless a PostgreSQL register is given); return
    (database, its log, the peak RSS of the daemon in KiB).  Under ASan
    the quarantine is kept to 1 MiB: freed memory it holds back is the
    sanitizer's, not the daemon's, and would hide what the memory bounds
    measure."""
    db = db or str(tmp_path / "anomaly.db")
    conf = tmp_path / "anomaly.conf"
    conf.write_text(rules or anomaly_rules(db))
    log = tmp_path / "rtowatchd.log"
    with open(log, "wb") as out:
        p = subprocess.Popen([binary("rtowatchd"), "-d", "-f", str(conf),
                              "--pcap-file", str(pcap)], stdout=out,
                             stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, cwd="/",
                             env=dict(os.environ, ASAN_OPTIONS=":".join(
                                 o for o in (os.environ.get("ASAN_OPTIONS"),
                                             "quarantine_size_mb=1") if o)))
        try:
            _, status, usage = os.wait4(p.pid, 0)
        except BaseException:
            p.kill()
            raise
        p.returncode = os.waitstatus_to_exitcode(status)
    text = log.read_text(errors="replace")
    assert not any(m in text for m in SANITIZER_MARKS), text
    assert p.returncode == 0, f"rtowatchd exited {p.returncode}:\n{text}"
    return db, text, usage.ru_maxrss


def warnings(db):
    rc, out, err = cli("--db", db, "warnings", "--format", "json")
    assert rc == 0, f"rtowatch warnings exited {rc}: {err}"
    return json.loads(out)


def values(warning, kind):
    return [i["value"] for i in warning[kind]]


# The last packet of a scenario's capture (tcpdump).
CAPTURE_END = b"rtowatch: end of the scenario's capture"


@contextlib.contextmanager
def tcpdump(netpair, pcap, iface="rtw0", count=20000):
    """tcpdump writing what crosses IFACE in NETPAIR's "mon" to PCAP (at
    most COUNT packets, a buffer of 16 MiB for nmap's bursts) while the
    block runs, for the scenario's capture to be replayed after it.
    libpcap hands packets over in blocks: a datagram from "tgt" marks the
    end, and tcpdump is stopped once it is in the file, so that nothing
    before it is left in a block."""
    import sys
    from conftest import wait_for
    from pinglib import MON_ADDR
    err_path = f"{pcap}.err"
    with open(err_path, "wb") as err:
        dump = subprocess.Popen(
            ["ip", "netns", "exec", netpair.mon, "tcpdump", "-i", iface,
             "-n", "-U", "-B", "16384", "-Z", "root", "-c", str(count),
             "-w", str(pcap)], stdout=subprocess.DEVNULL, stderr=err)
    try:
        wait_for(lambda: "listening on" in open(err_path).read(), 10,
                 "tcpdump listening")
        yield
        netpair.sh(netpair.tgt, sys.executable, "-c",
                   "import socket; socket.socket(socket.AF_INET, "
                   f"socket.SOCK_DGRAM).sendto({CAPTURE_END!r}, "
                   f"({MON_ADDR!r}, 9))")
        wait_for(lambda: CAPTURE_END in open(pcap, "rb").read(), 10,
                 "the end of the capture written")
    finally:
        dump.send_signal(signal.SIGINT)
        try:
            dump.wait(timeout=10)
        except subprocess.TimeoutExpired:
            dump.kill()
            dump.wait()


def ipv4_packets(pcap):
    """The IPv4 packets of an Ethernet capture tcpdump wrote (classic
    pcap, this host's byte order), as (time, protocol, source,
    destination, source port, destination port, IP length); the ports are
    those of an unfragmented TCP or UDP packet, else 0."""
    import ipaddress
    import struct
    data = open(pcap, "rb").read()
    order = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") \
        else ">"
    nano = data[:4] in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    off = 24
    while off + 16 <= len(data):
        sec, frac, caplen, _ = struct.unpack(order + "IIII",
                                             data[off:off + 16])
        frame = data[off + 16:off + 16 + caplen]
        off += 16 + caplen
        if len(frame) < 34 or frame[12:14] != b"\x08\x00":
            continue
        ip = frame[14:]
        hl = (ip[0] & 15) * 4
        proto = ip[9]
        sport = dport = 0
        if (proto in (6, 17) and
                not int.from_bytes(ip[6:8], "big") & 0x3fff and
                len(ip) >= hl + 4):
            sport, dport = struct.unpack("!HH", ip[hl:hl + 4])
        yield (sec + frac / (1e9 if nano else 1e6), proto,
               str(ipaddress.IPv4Address(ip[12:16])),
               str(ipaddress.IPv4Address(ip[16:20])), sport, dport,
               int.from_bytes(ip[2:4], "big"))
