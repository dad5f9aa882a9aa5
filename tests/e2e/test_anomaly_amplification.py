"""UDP amplification is a reply no request asked for, or one much bigger
than its request; a DNS server answering its clients is not.

Replayed: a DNS server answering 2,500 queries a second for 4 seconds
(40-byte questions, 120-byte answers), each question in the capture:
no warning, though every answer comes from port 53 at 2,500/s, above the
threshold of 2,000/s.  The same answers with no question seen, and the
questions answered with replies 50 times their size, are amplification.

Live: a real DNS server (dnsmasq) in a namespace under dnsperf's load,
and unasked answers from port 53 by hping3; tcpdump's captures of both
replayed.
"""
import shutil
import subprocess

import pytest

import pcapgen
from anomalylib import ipv4_packets, replay, tcpdump, values, warnings
from conftest import fmt_ms, now_ms, parse_time, rules_file, wait_for
from pinglib import MON_ADDR, TGT_ADDR, daemon_in, netpair

__all__ = ["netpair"]

SERVER = "198.51.100.53"


def dns(start, seconds, rate, asked=True, answer=80):
    out = []
    for i in range(int(seconds * rate)):
        t = start + i / rate
        client = f"192.0.2.{10 + i % 100}"
        port = 20000 + i % 30000
        if asked:
            out.append((t, pcapgen.udp(client, SERVER, port, 53, b"q" * 12)))
        out.append((t + 0.0003, pcapgen.udp(SERVER, client, 53, port,
                                             b"a" * answer)))
    return out


def run(tmp_path, name, packets):
    work = tmp_path / name
    work.mkdir()
    pcap = pcapgen.write(work / f"{name}.pcap", packets)
    db = str(work / "anomaly.db")
    rules = rules_file(db, 'anomaly "edge" interface "lo" {\n'
                       "    udp-amplification-rate above 2000/s for 3s\n"
                       "}\n")
    db, _, _ = replay(work, pcap, rules)
    return warnings(db)


def test_dns_server_answering_its_clients(tmp_path):
    t0 = pcapgen.T0
    assert run(tmp_path, "asked", dns(t0, 4, 2500)) == []
    ws = run(tmp_path, "unasked", dns(t0, 4, 2500, asked=False))
    assert [w["summary"].split(" ")[0] for w in ws] == [
        "udp-amplification-rate"], ws
    ws = run(tmp_path, "oversized", dns(t0, 4, 2500, answer=3000))
    assert [w["summary"].split(" ")[0] for w in ws] == [
        "udp-amplification-rate"], ws


# Live: a real DNS server (dnsmasq, answering from its own configuration)
# in "mon", where the block captures, asked by dnsperf from "tgt" at 2,500
# queries a second for 4 seconds (10,000 at most, 15s at most): its
# answers come from port 53 at 2,500/s, above the threshold of 1,000/s,
# each asked for.  Then hping3 in "mon" sends 10,000 datagrams of 1,200
# bytes from port 53 to "tgt" that nobody asked for, 4,000/s for 2.5s
# (slower on a busy machine, still above 1,000/s): that is.
LIVE = ("    udp-amplification-rate above 1000/s for 2s\n"
        "    end after 2s\n")
DNS_RATE, DNS_SECONDS = 2500, 4


def live_block(db):
    return rules_file(db, 'anomaly "edge" interface "rtw0" window 500ms '
                      '{\n' + LIVE + "}\n")


def answers_per_second(pcap):
    """The DNS server's answers in PCAP, by second."""
    per = {}
    for t, proto, src, _, sport, _, _ in ipv4_packets(pcap):
        if proto == 17 and src == MON_ADDR and sport == 53:
            per[int(t)] = per.get(int(t), 0) + 1
    return per


def test_dns_server_live_and_replayed(scenario, netpair, tmp_path):
    for tool in ("dnsmasq", "dnsperf", "hping3", "tcpdump"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (scripts/deps.sh check)")
    log = tmp_path / "dnsmasq.log"
    dns = subprocess.Popen(
        ["ip", "netns", "exec", netpair.mon, "dnsmasq", "-k",
         "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
         "--bind-interfaces", f"--listen-address={MON_ADDR}",
         "--address=/rtowatch.test/192.0.2.53",
         f"--pid-file={tmp_path / 'dnsmasq.pid'}",
         f"--log-facility={log}"], stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        d = daemon_in(netpair, scenario)
        d.write_rules(live_block(d.db))
        d.start()
        wait_for(lambda: "anomaly edge: capturing on rtw0" in d.run_log(),
                 10, "the capture on rtw0")
        wait_for(lambda: log.exists() and "started" in log.read_text(), 10,
                 "dnsmasq started")
        queries = tmp_path / "queries"
        queries.write_text("".join(f"h{i}.rtowatch.test A\n"
                                   for i in range(100)))
        asked = tmp_path / "asked.pcap"
        with tcpdump(netpair, asked, count=40000):
            r = netpair.sh(netpair.tgt, "timeout", "15", "dnsperf", "-s",
                           MON_ADDR, "-d", str(queries), "-Q",
                           str(DNS_RATE), "-l", str(DNS_SECONDS), "-t", "2",
                           check=False)
            assert r.returncode == 0, r.stderr + r.stdout
        load_end = now_ms()
        # The server answered above the threshold (1,000/s) for longer
        # than its 2s: counted, its answers would be a warning.
        per = answers_per_second(asked)
        assert sum(n > 1000 for n in per.values()) >= 3, (per, r.stdout)
        unasked = tmp_path / "unasked.pcap"
        with tcpdump(netpair, unasked, count=40000):
            r = netpair.sh(netpair.mon, "timeout", "15", "hping3", "-2",
                           "-q", "-s", "53", "-k", "-p", "4444", "-d",
                           "1200", "-i", "u250", "-c", "10000", TGT_ADDR,
                           check=False)
            assert "10000 packets transmitted" in r.stdout + r.stderr, r
            ws = wait_for(lambda: warnings(d.db) or None, 15,
                          "a warning for the unasked answers")
        # One warning, and it began after the server's load had ended:
        # the load raised none.
        assert [w["summary"].split(" ")[0] for w in ws] == [
            "udp-amplification-rate"], ws
        assert parse_time(ws[0]["opened_at"]) > load_end, (
            ws, fmt_ms(load_end))
        assert values(ws[0], "ports") == ["53/udp"], ws
        assert values(ws[0], "sources") == [MON_ADDR], ws
        d.stop()
    finally:
        dns.terminate()
        dns.wait(timeout=10)

    # tcpdump's captures replayed: the load alone, none; the unasked
    # answers, the same warning.
    for name, pcap, want in (("asked", asked, []),
                             ("unasked", unasked,
                              ["udp-amplification-rate"])):
        work = tmp_path / f"replay-{name}"
        work.mkdir()
        db, _, _ = replay(work, pcap, live_block(str(work / "anomaly.db")))
        rs = warnings(db)
        assert [w["summary"].split(" ")[0] for w in rs] == want, (name, rs)
        if want:
            assert values(rs[0], "ports") == ["53/udp"], rs
