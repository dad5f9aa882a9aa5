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


def replay(tmp_path, pcap, rules=None):
    """Run rtowatchd --pcap-file on PCAP with the shared rules; return
    (database, its log, the peak RSS of the daemon in KiB).  Under ASan
    the quarantine is kept to 1 MiB: freed memory it holds back is the
    sanitizer's, not the daemon's, and would hide what the memory bounds
    measure."""
    db = str(tmp_path / "anomaly.db")
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
