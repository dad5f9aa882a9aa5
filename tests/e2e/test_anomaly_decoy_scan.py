"""A decoy scan (nmap -D) and an unrelated system's outage.

The daemon in "mon" watches "portal", a web server at 198.18.1.80 in
"tgt" that redirects to itself for ever: its check follows redirects, so
it fails and portal's incident opens, and every check makes six
connections to portal from 198.18.1.1, "mon"'s address on the segment.
Then nmap in "mon" scans 300 ports of a host from 198.18.1.9 with
decoys: 198.18.1.1 among them (a decoy is a real host's address, here
one that uses portal), and seven more addresses of "mon", live ones (the
target's answers reach them, and they reset).  The capture on rtw0 holds
nine scanners, the target's answers to each and the decoys' resets,
beside the daemon's own connections to portal.

  the scan aims at another host (198.18.1.2): its warning names that
      target alone and relates to no incident, while portal is checked
      (and fails) again and again; portal's timeline has no "related
      warning" and no suggested category;
  the scan aims at portal itself: its warning relates to portal's
      incident, "suggested category INT (external attack)".

Both warnings end once the scan is over, though 198.18.1.1, a source of
the scan, goes on connecting to portal.

On session 6's code (bc1a0bd) the first case related both warnings to
portal's incident: the scan's (INT), since each window related every
scanner's last destination, and 198.18.1.1's last one was portal, by its
own checks; and the flood's (DOS), since portal was among its five top
targets by those checks; and the scan's warning never ended while they
went on.  Before it (f85e3ca), the flood's alone.

tcpdump's capture of each is replayed through the same block: the same
sources and targets (a replay has no systems to relate to).
"""
import shutil
import subprocess
import sys

import pytest

from anomalylib import replay, tcpdump, values, warnings
from conftest import events, rules_file, wait_for, wait_incident
from pinglib import daemon_in, netpair

__all__ = ["netpair"]

CLIENT = "198.18.1.1"            # "mon" on the segment: portal's checks
SCANNER = "198.18.1.9"
DECOYS = [CLIENT] + [f"198.18.1.{i}" for i in range(11, 18)]
OTHER = "198.18.1.2"            # a host of "tgt" that no system is
PORTAL = "198.18.1.80"          # the unrelated system, in "tgt"
PORT = 8080

# Every answer a redirect to the same page: curl stops after its
# maximum of redirects, and the check fails.
LOOP = f"""
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("{PORTAL}", {PORT}))
s.listen(64)
print("ready", flush=True)
while True:
    c, _ = s.accept()
    c.settimeout(2)
    try:
        c.recv(4096)
        c.sendall(b"HTTP/1.1 302 Found\\r\\nLocation: /loop\\r\\n"
                  b"Content-Length: 0\\r\\nConnection: close\\r\\n\\r\\n")
    except OSError:
        pass
    c.close()
"""

PORTAL_RULES = f"""system "portal" {{
    core no
    rto 1h
    owner "e2e tests"
    check http "http://{PORTAL}:{PORT}/loop" follow-redirects every 500ms timeout 400ms
    down after 2 failures
}}
"""

# The scan's 2,700 SYNs and their answers in well under a second are a
# packet-rate flood too; portal's checks are about 100 packets a second.
BLOCK = ('anomaly "edge" interface "rtw0" window 500ms {\n'
         "    distinct-ports-per-source above 100 in 10s\n"
         "    packet-rate above 1000/s for 500ms\n"
         "    end after 2s\n"
         "}\n")
SCAN = "distinct-ports-per-source above 100 in 10s: source 198.18.1."


def need(*tools):
    for tool in tools:
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (scripts/deps.sh check)")


def segment(netpair):
    """198.18.1.0/24 on the pair: the scanner and its decoys in "mon"
    (CLIENT first: the address connections to the segment leave from),
    the other host and portal in "tgt"."""
    for addr in DECOYS + [SCANNER]:
        netpair.ip(netpair.mon, "addr", "add", f"{addr}/24", "dev", "rtw0")
    for addr in (OTHER, PORTAL):
        netpair.ip(netpair.tgt, "addr", "add", f"{addr}/24", "dev", "rtw1")


def redirect_loop(netpair, log):
    p = subprocess.Popen(["ip", "netns", "exec", netpair.tgt,
                          sys.executable, "-c", LOOP], stdout=log,
                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    wait_for(lambda: b"ready" in open(log.name, "rb").read(), 10,
             "the redirect loop listening")
    return p


def portal_failures(d):
    return d.run_log().count(f"portal: http http://{PORTAL}:{PORT}/loop: "
                             "error: Maximum")


def scan_and_flood(ws):
    """The scan's warning and the flood's, by their summaries."""
    scans = [w for w in ws if w["summary"].startswith(SCAN)]
    floods = [w for w in ws if w["summary"].startswith("packet-rate ")]
    assert len(scans) + len(floods) == len(ws), ws
    return scans, floods


def both_seen(d):
    """Both warnings, once the scan's names all nine sources."""
    scans, floods = scan_and_flood(warnings(d.db))
    if len(scans) == 1 and len(floods) == 1 and \
            len(values(scans[0], "sources")) == 1 + len(DECOYS):
        return scans[0], floods[0]
    return None


def check_relations(ws, related, aim, inc):
    """The warnings WS and portal's "related warning" events RELATED:
    none unless the scan aimed at portal, then the scan's (INT) and the
    flood's (DOS).  Returns the scan's warning and the flood's."""
    scans, floods = scan_and_flood(ws)
    assert len(scans) == 1 and len(floods) == 1, ws
    scan, flood = scans[0], floods[0]
    if aim == OTHER:
        # Portal is among the flood's top five targets (its own checks),
        # but the flood is not aimed at it.
        assert scan["related_incidents"] == [], scan
        assert flood["related_incidents"] == [], flood
        assert related == [], related
        assert PORTAL not in scan["detail"], scan
    else:
        assert scan["related_incidents"] == [inc["id"]], scan
        assert flood["related_incidents"] == [inc["id"]], flood
        assert sorted(e["detail"] for e in related) == sorted(
            f"early warning {w['id']} (anomaly edge) targets {PORTAL}, "
            f"checked for system \"portal\", which is down: suggested "
            f"category {cat} (external attack, 5.2.3.1.4)"
            for w, cat in ((scan, "INT"), (flood, "DOS"))), related
    return scan, flood


@pytest.mark.parametrize("aim", [OTHER, PORTAL])
def test_decoy_scan_and_an_unrelated_outage(scenario, netpair, tmp_path,
                                            aim):
    need("nmap", "tcpdump")
    segment(netpair)
    log = open(tmp_path / "loop.log", "wb")
    loop = redirect_loop(netpair, log)
    try:
        d = daemon_in(netpair, scenario)
        d.write_rules(rules_file(d.db, PORTAL_RULES + BLOCK))
        d.start()
        wait_for(lambda: "anomaly edge: capturing on rtw0" in d.run_log(),
                 10, "the capture on rtw0")
        inc = wait_incident(d.db, "portal")
        assert "Maximum (5) redirects followed" in inc["cause"], inc
        pcap = tmp_path / "decoy.pcap"
        with tcpdump(netpair, pcap, count=40000):
            r = netpair.sh(netpair.mon, "timeout", "60", "nmap", "-sS",
                           "-Pn", "-n", "-T4", "--max-retries", "0",
                           "--host-timeout", "50s", "-e", "rtw0", "-S",
                           SCANNER, "-D", ",".join(DECOYS + ["ME"]),
                           "-p", "1-300", aim, check=False)
            assert r.returncode == 0, r.stderr + r.stdout
            wait_for(lambda: both_seen(d), 15, "the flood's warning and "
                     "the scan's, with its nine sources")
            # Portal checked, and failing, three times more while the
            # scan's warning is open: 18 connections from CLIENT, a
            # flagged source, to portal, over six windows.
            after = portal_failures(d) + 3
            wait_for(lambda: portal_failures(d) >= after, 10,
                     "three more checks of portal")
            check_relations(warnings(d.db), events(
                d.db, inc["id"], "related warning"), aim, inc)
            # The scan over, those connections do not keep its warning
            # open ("end after 2s").
            wait_for(lambda: all(w["ended_at"] for w in warnings(d.db)),
                     15, "both warnings ended, while portal's checks "
                     "go on")
        scan, flood = check_relations(warnings(d.db), events(
            d.db, inc["id"], "related warning"), aim, inc)
        d.stop()
    finally:
        loop.terminate()
        loop.wait(timeout=10)
        log.close()

    # Nine scanners (the decoys are sources as much as the scanner is),
    # all aiming at the one host scanned, which the flood aims at most.
    assert sorted(values(scan, "sources")) == sorted(DECOYS + [SCANNER]), \
        scan
    assert values(scan, "targets") == [aim], scan
    assert values(flood, "targets")[0] == aim, flood

    work = tmp_path / "replay"
    work.mkdir()
    db, _, _ = replay(work, pcap, rules_file(str(work / "anomaly.db"),
                                             BLOCK))
    scans, floods = scan_and_flood(warnings(db))
    assert [(sorted(values(x, "sources")), values(x, "targets"))
            for x in scans] == [(sorted(DECOYS + [SCANNER]), [aim])], scans
    assert [values(x, "targets")[0] for x in floods] == [aim], floods
