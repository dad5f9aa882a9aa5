"""Real attack tools against the traffic counters, live on the veth pair of
pinglib.NetPair: the daemon in "mon" captures on rtw0, the tools run in
"tgt" (rtw1).  Each tool is bounded in count and time.

  nmap -sS, then nmap -sU from the same source once the first episode has
      ended: two warnings, the first's detail grown to the whole scan;
  hping3 -1 (ICMP echo) above packet-rate and icmp-rate both: named
      icmp-rate, its sources the flood's;
  hping3 -2 -s 123 (UDP from ntp's port, asked by no one): named
      udp-amplification-rate, its port 123/udp;
  nmap -sn of the local segment, ARP only: a host sweep.

tcpdump writes what rtw0 saw meanwhile, and the replay of that capture
through the same block gives the same warnings.
"""
import shutil

import pytest

from anomalylib import replay, tcpdump, values, warnings
from conftest import db_rows, rules_file, wait_for
from pinglib import MON_ADDR, TGT_ADDR, daemon_in, netpair

__all__ = ["netpair"]


def need(*tools):
    for tool in tools:
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (scripts/deps.sh check)")


def block(db, body):
    return rules_file(db, 'anomaly "edge" interface "rtw0" window 500ms '
                      '{\n' + body + "}\n")


def start(netpair, scenario, body):
    need("tcpdump")
    d = daemon_in(netpair, scenario)
    d.write_rules(block(d.db, body))
    d.start()
    wait_for(lambda: "anomaly edge: capturing on rtw0" in d.run_log(), 10,
             "the capture on rtw0")
    return d


def replayed(tmp_path, pcap, body):
    """The warnings of PCAP replayed through the same block."""
    work = tmp_path / "replay"
    work.mkdir()
    db, _, _ = replay(work, pcap, block(str(work / "anomaly.db"), body))
    return warnings(db)


def nmap(netpair, *args):
    r = netpair.sh(netpair.tgt, "timeout", "60", "nmap", "-Pn", "-n",
                   "--max-retries", "0", "--host-timeout", "50s", *args,
                   check=False)
    assert r.returncode == 0, r.stderr + r.stdout
    return r


SCANS = ("    distinct-ports-per-source above 100 in 1m\n"
         "    end after 1s\n")


def test_second_scan_after_the_first_ended(scenario, netpair, tmp_path):
    need("nmap")
    d = start(netpair, scenario, SCANS)
    pcap = tmp_path / "scans.pcap"
    with tcpdump(netpair, pcap):
        nmap(netpair, "-sS", "-T4", "-p", "1-1000", MON_ADDR)
        first = wait_for(lambda: [w for w in warnings(d.db)
                                  if w["ended_at"]] or None, 15,
                         "the SYN scan's warning, ended")
        # Same source, same minute: a new episode.
        nmap(netpair, "-sU", "-T5", "--min-rate", "1000", "-p", "1-300",
             MON_ADDR)
        ws = wait_for(lambda: (lambda w: w if len(w) == 2 else None)(
            warnings(d.db)), 15, "a second warning for the UDP scan")
    assert len(first) == 1, warnings(d.db)
    # Its figures are the whole scan's, not those when it was found.
    assert first[0]["summary"] == ("distinct-ports-per-source above 100 "
                                   f"in 1m: source {TGT_ADDR}"), first
    about = int(first[0]["detail"].split("about ")[1].split()[0])
    assert about >= 800, first[0]["detail"]
    lo, hi = map(int, values(first[0], "ports")[0].split("-"))
    assert lo <= 10 and hi >= 990, first
    assert all(w["summary"] == first[0]["summary"] for w in ws), ws
    d.stop()
    rs = replayed(tmp_path, pcap, SCANS)
    assert [w["summary"] for w in rs] == [w["summary"] for w in ws], rs


# packet-rate's threshold a little above the flood counter's: the
# segment's other packets (neighbour discovery, port unreachables) must
# not let it cross a window earlier when the flood begins late in one,
# and open the warning under its name.  Both are well under the flood's
# 1,000/s.
ICMP = ("    packet-rate above 600/s for 1s\n"
        "    icmp-rate above 500/s for 1s\n"
        "    end after 1s\n")


def test_icmp_flood_is_named_icmp_rate(scenario, netpair, tmp_path):
    need("hping3")
    d = start(netpair, scenario, ICMP)
    # 2,000 echo requests at 1,000/s, unanswered (the flood alone, not
    # its replies): both counters cross together.
    netpair.sysctl(netpair.mon, "net.ipv4.icmp_echo_ignore_all", 1)
    pcap = tmp_path / "icmp.pcap"
    with tcpdump(netpair, pcap):
        r = netpair.sh(netpair.tgt, "timeout", "10", "hping3", "-1", "-q",
                       "-i", "u1000", "-c", "2000", MON_ADDR, check=False)
        assert "2000 packets transmitted" in r.stdout + r.stderr, r
        ws = wait_for(lambda: warnings(d.db) or None, 15,
                      "a warning for the ICMP flood")
    assert len(ws) == 1, ws
    assert ws[0]["summary"].startswith("icmp-rate "), ws
    # The flood's sources (ICMP), not all traffic's; no port at all.
    assert values(ws[0], "sources")[0] == TGT_ADDR, ws
    assert values(ws[0], "ports") == [], ws
    d.stop()
    rs = replayed(tmp_path, pcap, ICMP)
    assert len(rs) == 1 and rs[0]["summary"].startswith("icmp-rate "), rs


UDP = ("    packet-rate above 600/s for 1s\n"
       "    udp-amplification-rate above 500/s for 1s\n"
       "    end after 1s\n")


def test_udp_from_ntp_port_is_amplification(scenario, netpair, tmp_path):
    need("hping3")
    d = start(netpair, scenario, UDP)
    pcap = tmp_path / "udp.pcap"
    with tcpdump(netpair, pcap):
        r = netpair.sh(netpair.tgt, "timeout", "10", "hping3", "-2", "-q",
                       "-s", "123", "-k", "-p", "4444", "-i", "u1000",
                       "-c", "2000", MON_ADDR, check=False)
        assert "2000 packets transmitted" in r.stdout + r.stderr, r
        ws = wait_for(lambda: warnings(d.db) or None, 15,
                      "a warning for the UDP flood from port 123")
    assert len(ws) == 1, ws
    assert ws[0]["summary"].startswith("udp-amplification-rate "), ws
    assert values(ws[0], "ports") == ["123/udp"], ws
    d.stop()
    rs = replayed(tmp_path, pcap, UDP)
    assert len(rs) == 1, rs
    assert rs[0]["summary"].startswith("udp-amplification-rate "), rs


SWEEP = "    distinct-hosts-per-source above 50 in 1m\n"


def test_arp_sweep_of_the_segment(scenario, netpair, tmp_path):
    need("nmap")
    # A /24 on the pair for tgt to sweep: ARP requests only, none routed.
    netpair.ip(netpair.tgt, "addr", "add", "198.18.1.2/24", "dev", "rtw1")
    d = start(netpair, scenario, SWEEP)
    pcap = tmp_path / "sweep.pcap"
    with tcpdump(netpair, pcap):
        r = netpair.sh(netpair.tgt, "timeout", "60", "nmap", "-sn", "-PR",
                       "-n", "-T5", "--max-retries", "0", "198.18.1.0/24",
                       check=False)
        assert r.returncode == 0, r.stderr + r.stdout
        ws = wait_for(lambda: warnings(d.db) or None, 15,
                      "a warning for the ARP sweep")
    assert [w["summary"] for w in ws] == [
        "distinct-hosts-per-source above 50 in 1m: source 198.18.1.2"], ws
    rows = db_rows(d.db, "SELECT count(*) AS n FROM warnings")
    assert rows[0]["n"] == 1, rows
    d.stop()
    rs = replayed(tmp_path, pcap, SWEEP)
    assert [w["summary"] for w in rs] == [w["summary"] for w in ws], rs
