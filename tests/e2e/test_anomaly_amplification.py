"""UDP amplification is a reply no request asked for, or one much bigger
than its request; a DNS server answering its clients is not.

Replayed: a DNS server answering 2,500 queries a second for 4 seconds
(40-byte questions, 120-byte answers), each question in the capture:
no warning, though every answer comes from port 53 at 2,500/s, above the
threshold of 2,000/s.  The same answers with no question seen, and the
questions answered with replies 50 times their size, are amplification.
"""
import pcapgen
from anomalylib import replay, warnings
from conftest import rules_file

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
