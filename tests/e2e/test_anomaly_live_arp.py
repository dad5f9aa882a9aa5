"""Live capture: the watched address answers ARP from another MAC.

From "tgt", three ARP replies for 198.18.0.2 go out over its end of the
veth pair (a raw packet socket, only there): first from the real MAC,
then from a forged one, then from the real one again.  The daemon in
"mon" records one early warning naming both MACs, and its end when the
real MAC answers again.
"""
import sys

from anomalylib import values, warnings
from conftest import rules_file, wait_for
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
                             f'    arp-change "{TGT_ADDR}"\n}}\n'))
    d.start()
    wait_for(lambda: "anomaly lan: capturing on rtw0" in d.run_log(), 10,
             "the capture on rtw0")
    real = netpair.sh(netpair.tgt, sys.executable, "-c", SEND, "real",
                      "forged").stdout.strip()
    ws = wait_for(lambda: warnings(d.db) or None, 10,
                  "an early warning for the ARP change")
    assert len(ws) == 1, ws
    w = ws[0]
    assert w["summary"] == (f"arp-change: {TGT_ADDR} moved from {real} "
                            f"to {FORGED}"), w
    assert values(w, "macs") == [FORGED], w
    assert w["ended_at"] is None, w
    netpair.sh(netpair.tgt, sys.executable, "-c", SEND, "real")
    wait_for(lambda: warnings(d.db)[0]["ended_at"], 10,
             "the end of the ARP change")
    assert len(warnings(d.db)) == 1
    d.stop()
