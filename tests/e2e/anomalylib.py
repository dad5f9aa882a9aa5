"""What the traffic-counter scenarios share: one rules file with every
counter, a replay of a capture file through rtowatchd --pcap-file, and
the warnings as `rtowatch warnings --format json` lists them."""
import json
import os
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
    return json.loads(out)["warnings"]


def values(warning, kind):
    return [i["value"] for i in warning[kind]]
