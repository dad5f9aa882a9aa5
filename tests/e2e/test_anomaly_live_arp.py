"""Live capture: the watched address answers ARP from another MAC.

From "tgt", ARP replies for 198.18.0.2 go out over its end of the veth
pair (a raw packet socket, only there): first from the real MAC, then
from a forged one 200ms later, then from the real one again.  The daemon
in "mon" records one early warning naming both MACs as a conflict (the
real MAC held the address too briefly to be called the one it had
before), and its end once only one MAC has answered for "end after".

Then the daemon starts while arping forges replies (the spoof going on
before it looks): the forged MAC is the first it sees, and the real host
answering is not reported as the one that moved.
"""
import shutil
import subprocess
import sys

import pytest

from anomalylib import values, warnings
from conftest import api, rules_file, wait_for
from pinglib import TGT_ADDR, daemon_in, netpair

__all__ = ["netpair"]

FORGED = "02:ba:db:ad:ba:d1"

SEND = f"""
import socket, struct, sys, time
real = bytes.fromhex(open("/sys/class/net/rtw1/address").read().strip()
                     .replace(":", ""))
forged = bytes.fromhex("{FORGED.replace(':', '')}")
ip = socket.inet_aton("{TGT_ADDR}")
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("rtw1", 0))
def reply(mac):
    body = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 2, mac, ip,
                       b"\\xff" * 6, socket.inet_aton("198.18.0.1"))
    s.send(b"\\xff" * 6 + mac + b"\\x08\\x06" + body)
for mac in sys.argv[1:]:
    reply(real if mac == "real" else forged)
    time.sleep(0.2)
print(real.hex(":"))
"""


def test_live_arp_change(scenario, netpair):
    d = daemon_in(netpair, scenario)
    d.write_rules(rules_file(d.db, 'anomaly "lan" interface "rtw0" {\n'
                             f'    arp-change "{TGT_ADDR}"\n'
                             "    end after 2s\n}\n"))
    d.start()
    wait_for(lambda: "anomaly lan: capturing on rtw0" in d.run_log(), 10,
             "the capture on rtw0")
    real = netpair.sh(netpair.tgt, sys.executable, "-c", SEND, "real",
                      "forged").stdout.strip()
    ws = wait_for(lambda: warnings(d.db) or None, 10,
                  "an early warning for the ARP change")
    assert len(ws) == 1, ws
    w = ws[0]
    assert w["summary"] == (f"arp-conflict: {TGT_ADDR} claimed by {real} "
                            f"and {FORGED}; which is its own is not known"), w
    assert sorted(values(w, "macs")) == sorted([real, FORGED]), w
    assert w["ended_at"] is None, w
    netpair.sh(netpair.tgt, sys.executable, "-c", SEND, "real")
    wait_for(lambda: warnings(d.db)[0]["ended_at"], 10,
             "the end of the ARP change")
    assert len(warnings(d.db)) == 1
    d.stop()


def test_daemon_started_during_a_spoof(scenario, netpair):
    if shutil.which("arping") is None:
        pytest.skip("arping is not installed (scripts/deps.sh check)")
    d = daemon_in(netpair, scenario)
    d.write_rules(rules_file(d.db, 'anomaly "lan" interface "rtw0" {\n'
                             f'    arp-change "{TGT_ADDR}"\n}}\n'))
    # The forger: unsolicited replies for TGT_ADDR every 100ms, 6s at most.
    spoof = subprocess.Popen(
        ["ip", "netns", "exec", netpair.tgt, "timeout", "6", "arping", "-q",
         "-U", "-P", "-p", "-i", "rtw1", "-s", FORGED, "-S", TGT_ADDR, "-W",
         "0.1", "-c", "60", TGT_ADDR], stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        d.start()
        wait_for(lambda: "anomaly lan: capturing on rtw0" in d.run_log(),
                 10, "the capture on rtw0")
        # Once the forger's replies are coming in, the real host answers.
        wait_for(lambda: api(d.sock, "GET", "/v1/status")[1]["traffic"][0]
                 ["packets"] >= 5, 5, "the forger's replies captured")
        assert spoof.poll() is None, "the forger stopped too soon"
        real = netpair.sh(netpair.tgt, sys.executable, "-c", SEND,
                          "real").stdout.strip()
        ws = wait_for(lambda: warnings(d.db) or None, 10,
                      "an early warning for the conflict")
    finally:
        spoof.wait(timeout=10)
    assert len(ws) == 1, ws
    w = ws[0]
    assert w["summary"] == (f"arp-conflict: {TGT_ADDR} claimed by {FORGED} "
                            f"and {real}; which is its own is not known"), w
    assert "moved" not in w["summary"], w
    assert sorted(values(w, "macs")) == sorted([real, FORGED]), w
    d.stop()
