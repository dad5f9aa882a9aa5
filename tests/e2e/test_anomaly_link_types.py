"""Captures of other link types: BSD loopback (DLT_NULL, in the byte order
of the host that captured, and DLT_LOOP, in network order) is decoded like
Ethernet; a link type rtowatchd does not decode (PPP here) is refused with
an error naming it, exit status 1, instead of "2005 packets" and no word
about the attack they hold.  Live, a block on an interface of such a link
type does not start, and the log and rtowatch status say why."""
import shutil
import subprocess

import pytest

import pcapgen
from anomalylib import anomaly_rules, replay, values, warnings
from conftest import SANITIZER_MARKS, api, binary, cli, wait_for

SCANNER = "203.0.113.66"
TARGET = "198.51.100.20"


def scan():
    t0 = pcapgen.T0
    return pcapgen.merged(
        pcapgen.baseline(t0, 20),
        pcapgen.port_scan(t0 + 5, 5, SCANNER, TARGET, range(1, 501)))


def test_null_and_loop_captures_show_the_scan(tmp_path):
    files = {
        "null-le": pcapgen.loopback(scan()),
        "null-be": pcapgen.loopback(scan(), order=">"),
        "loop": pcapgen.loopback(scan(), pcapgen.LINKTYPE_LOOP),
    }
    for name, packets in files.items():
        work = tmp_path / name
        work.mkdir()
        link = pcapgen.LINKTYPE_LOOP if name == "loop" else \
            pcapgen.LINKTYPE_NULL
        pcap = pcapgen.write(work / "scan.pcap", packets, link)
        db, log, _ = replay(work, pcap)
        assert f"{len(packets)} packets in" in log, (name, log)
        assert "(link type " + ("LOOP" if name == "loop" else "NULL") in \
            log, (name, log)
        ws = warnings(db)
        assert [w["summary"] for w in ws] == [
            "distinct-ports-per-source above 100 in 1m: "
            f"source {SCANNER}"], (name, ws)
        assert values(ws[0], "targets") == [TARGET], (name, ws)


def test_an_unknown_link_type_is_refused(tmp_path):
    # A PPP capture: its frames are not Ethernet, nor anything decoded.
    packets = [(t, b"\xff\x03\x00\x21" + f[14:]) for t, f in scan()]
    pcap = pcapgen.write(tmp_path / "ppp.pcap", packets,
                         pcapgen.LINKTYPE_PPP)
    db = str(tmp_path / "ppp.db")
    conf = tmp_path / "ppp.conf"
    conf.write_text(anomaly_rules(db))
    p = subprocess.run([binary("rtowatchd"), "-d", "-f", str(conf),
                        "--pcap-file", str(pcap)], capture_output=True,
                       text=True, timeout=60, cwd="/")
    out = p.stdout + p.stderr
    assert not any(m in out for m in SANITIZER_MARKS), out
    assert p.returncode == 1, f"exit {p.returncode}\n{out}"
    assert (f"{pcap}: link type PPP (9) is not one rtowatchd decodes" in
            out), out
    assert "packets in" not in out, out


def test_live_block_on_an_unknown_link_type_does_not_start(scenario,
                                                          tmp_path):
    # libpcap's "dbus-session" device gives D-Bus messages (DBUS, 231),
    # and no other link type: a bus of the test's own, on a socket in
    # its directory.
    if shutil.which("dbus-daemon") is None:
        pytest.skip("no dbus-daemon (scripts/deps.sh check installs dbus)")
    sock = tmp_path / "bus"
    bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork",
                            "--nopidfile", f"--address=unix:path={sock}"],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: sock.exists(), 10, "the test's D-Bus")
        d = scenario.daemon()
        d.write_rules(anomaly_rules(d.db, iface="dbus-session",
                                    window="500ms", period="10s"))
        d.start(env={"DBUS_SESSION_BUS_ADDRESS": f"unix:path={sock}"})
        refused = ("anomaly edge: dbus-session: link type DBUS (231) is "
                   "not one rtowatchd decodes")
        wait_for(lambda: refused in d.run_log() or
                 "anomaly edge: capturing on dbus-session" in d.run_log(),
                 10, "the block on dbus-session started or refused")
        log = d.run_log()
        assert refused in log and "this block does not capture" in log, log
        assert "capturing on dbus-session" not in log, log
        # rtowatch status says why the block counts nothing.
        status, body = api(d.sock, "GET", "/v1/status")
        assert status == 200, body
        [t] = body["traffic"]
        assert t["name"] == "edge" and t["packets"] == 0, t
        assert t["error"].startswith("link type DBUS (231) is not one "
                                     "rtowatchd decodes"), t
        rc, out, err = cli("--socket", d.sock, "status")
        assert rc == 0, err
        assert "NOT CAPTURING: link type DBUS (231)" in out, out
        d.stop()
    finally:
        bus.terminate()
        bus.wait(timeout=10)
