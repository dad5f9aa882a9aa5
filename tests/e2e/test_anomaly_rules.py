"""The anomaly blocks as an operator meets them: `rtowatchd -n` names a
bad BPF filter at its line, --pcap-file refuses what it cannot read, and
`rtowatch warnings` answers in CSV and refuses an unknown format."""
import subprocess

import pcapgen
from anomalylib import anomaly_rules, replay
from conftest import binary, cli, rules_file


def run_daemon(*args):
    return subprocess.run([binary("rtowatchd"), *map(str, args)],
                          capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)


def test_bad_filter_is_reported_at_its_line(tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text(rules_file(tmp_path / "x.db", 'anomaly "edge" '
                               'interface "eth0" filter "tcp port" {\n'
                               '    syn-rate above 10/s for 1s\n}\n'))
    p = run_daemon("-n", "-f", conf)
    assert p.returncode == 1, p
    assert (f"{conf}:3: filter \"tcp port\": can't parse filter "
            f"expression: syntax error") in p.stderr, p.stderr


def test_pcap_file_that_cannot_be_read(tmp_path):
    conf = tmp_path / "a.conf"
    conf.write_text(anomaly_rules(tmp_path / "a.db"))
    p = run_daemon("-d", "-f", conf, "--pcap-file", tmp_path / "none.pcap")
    assert p.returncode == 1 and "none.pcap" in p.stderr, p
    junk = tmp_path / "junk.pcap"
    junk.write_bytes(b"not a capture file at all")
    p = run_daemon("-d", "-f", conf, "-p", junk)
    assert p.returncode == 1 and "junk.pcap" in p.stderr, p


def test_pcap_file_needs_an_anomaly_block(tmp_path):
    conf = tmp_path / "none.conf"
    conf.write_text(rules_file(tmp_path / "n.db"))
    pcap = pcapgen.write(tmp_path / "b.pcap", pcapgen.baseline(pcapgen.T0, 1))
    p = run_daemon("-d", "-f", conf, "--pcap-file", pcap)
    assert p.returncode == 1 and "no anomaly block" in p.stderr, p


def test_warnings_csv_and_bad_format(tmp_path):
    t0 = pcapgen.T0
    pcap = pcapgen.write(tmp_path / "scan.pcap", pcapgen.merged(
        pcapgen.baseline(t0, 20),
        pcapgen.port_scan(t0 + 2, 5, "203.0.113.66", "198.51.100.20",
                          range(1, 301))))
    db, _, _ = replay(tmp_path, pcap)
    rc, out, err = cli("--db", db, "warnings", "--format", "csv")
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("id,source,reference,system,state,summary,")
    assert lines[0].endswith(",sources,targets,ports,macs,"
                             "related_incidents"), lines[0]
    assert len(lines) == 2 and ",203.0.113.66," in lines[1], out
    rc, out, err = cli("warnings", "--db", db)
    assert rc == 0 and "anomaly edge" in out and "203.0.113.66" in out, out
    # "//tmp/x" is the file /tmp/x, not a file on a host called "tmp".
    rc, out2, err = cli("--db", "/" + str(db), "warnings", "--format", "csv")
    assert rc == 0 and out2.splitlines() == lines, err
    rc, out, err = cli("--db", db, "warnings", "--format", "xml")
    assert rc == 2 and "unknown format" in err, err
    # The readers' one parser: its messages, its exit code, the usage line.
    rc, out, err = cli("--db", db, "warnings", "--state", "closed")
    assert rc == 2 and "--state is open, confirmed, false-positive or " \
        "undetermined, not closed" in err, err
    assert "usage: rtowatch [--db FILE] [--tz ZONE] warnings " in err, err
    rc, out, err = cli("--db", db, "warnings", "--state", "open",
                       "--format", "json")
    assert rc == 0 and '"state": "open"' in out, out
