"""Live capture: a port scan across a veth pair is an early warning.

The daemon runs in namespace "mon" with an anomaly block on its end of the
veth pair (pinglib.NetPair, 198.18.0.0/30, the benchmarking range); from
"tgt", 198.18.0.2 opens connections to 300 ports of 198.18.0.1, one SYN
each, which the kernel in "mon" refuses.  The capture is non-blocking on
the daemon's event loop: the warning is recorded while the daemon runs,
naming the scanner.  Both namespaces, and the traffic, are gone after.
"""
import sys

from anomalylib import anomaly_rules, values, warnings
from conftest import api, wait_for
from pinglib import MON_ADDR, TGT_ADDR, daemon_in, netpair

__all__ = ["netpair"]

SCAN = f"""
import socket
for port in range(1, 301):
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect(("{MON_ADDR}", port))
    except BlockingIOError:
        pass
    s.close()
"""


def test_live_port_scan_on_veth(scenario, netpair):
    d = daemon_in(netpair, scenario)
    d.write_rules(anomaly_rules(d.db, iface="rtw0", window="500ms",
                                period="10s"))
    d.start()
    wait_for(lambda: "anomaly edge: capturing on rtw0" in d.run_log(), 10,
             "the capture on rtw0")
    assert warnings(d.db) == []
    netpair.sh(netpair.tgt, sys.executable, "-c", SCAN)
    ws = wait_for(lambda: warnings(d.db) or None, 15,
                  "an early warning for the scan")
    assert len(ws) == 1, ws
    w = ws[0]
    assert w["summary"] == ("distinct-ports-per-source above 100 in 10s: "
                            f"source {TGT_ADDR}"), w
    assert values(w, "targets") == [MON_ADDR], w
    # rtowatch status shows the block's counts through the socket.
    status, body = api(d.sock, "GET", "/v1/status")
    assert status == 200, body
    traffic = body["traffic"]
    assert [(t["name"], t["interface"]) for t in traffic] == [
        ("edge", "rtw0")], traffic
    assert traffic[0]["packets"] >= 300, traffic
    assert traffic[0]["open_episodes"] >= 1, traffic
    assert traffic[0]["dropped"] == 0, traffic
    # The episode ends after 5 s without packets from the scanner.
    w = wait_for(lambda: [x for x in warnings(d.db) if x["ended_at"]], 20,
                 "the end of the scan's episode")[0]
    assert len(warnings(d.db)) == 1
    d.stop()
