"""A scan aimed at a system that is down relates its early warning to the
system's incident, and the incident's timeline suggests the category of
an external attack (5.2.3.1.4): INT for a scan.

In namespace "mon", the daemon watches "web" at 198.18.0.2 port 9, where
nothing listens in "tgt": the system goes down and its incident opens.
Then 198.18.0.1 (in "mon") opens connections to 300 ports of
198.18.0.2: the anomaly block on rtw0 sees the scan, whose target is the
address of web's failing check.  Likewise a second MAC claiming
198.18.0.2 (forged ARP replies from "tgt"): the ARP conflict concerns
the address web's check targets, and relates to its incident.
"""
import sys

from anomalylib import ANOMALY, values, warnings
from conftest import events, rules_file, wait_for, wait_incident
from pinglib import MON_ADDR, TGT_ADDR, daemon_in, netpair
from test_anomaly_live_arp import SEND as ARP_SEND

__all__ = ["netpair"]

SCAN = f"""
import socket
for port in range(1, 301):
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect(("{TGT_ADDR}", port))
    except BlockingIOError:
        pass
    s.close()
"""

WEB = f"""system "web" {{
    core no
    rto 1h
    owner "e2e tests"
    check tcp {TGT_ADDR} port 9 every 300ms timeout 200ms
    down after 2 failures
}}
"""


def test_scan_of_a_down_system_relates_to_its_incident(scenario, netpair):
    d = daemon_in(netpair, scenario)
    d.write_rules(rules_file(d.db, WEB + ANOMALY.format(
        iface="rtw0", window="500ms", period="10s")))
    d.start()
    wait_for(lambda: "anomaly edge: capturing on rtw0" in d.run_log(), 10,
             "the capture on rtw0")
    inc = wait_incident(d.db, "web")
    netpair.sh(netpair.mon, sys.executable, "-c", SCAN)
    ws = wait_for(lambda: [w for w in warnings(d.db)
                           if w["related_incidents"]] or None, 15,
                  "the scan's warning, related to web's incident")
    assert len(ws) == 1, warnings(d.db)
    w = ws[0]
    assert w["summary"].endswith(f"source {MON_ADDR}"), w
    assert values(w, "targets") == [TGT_ADDR], w
    assert w["related_incidents"] == [inc["id"]], w
    rel = events(d.db, inc["id"], "related warning")
    assert len(rel) == 1, rel
    assert (f"early warning {w['id']} (anomaly edge) targets {TGT_ADDR}, "
            f"checked for system \"web\", which is down: suggested "
            f"category INT (external attack, 5.2.3.1.4)") == \
        rel[0]["detail"], rel
    d.stop()


def test_arp_conflict_of_a_down_system_relates_to_its_incident(scenario,
                                                               netpair):
    """The address web's failing check targets is claimed by a second MAC:
    the ARP conflict's warning relates to web's incident, through that
    address (an ARP conflict concerns no other)."""
    d = daemon_in(netpair, scenario)
    d.write_rules(rules_file(d.db, WEB + 'anomaly "lan" interface "rtw0" {\n'
                             f'    arp-change "{TGT_ADDR}"\n}}\n'))
    d.start()
    wait_for(lambda: "anomaly lan: capturing on rtw0" in d.run_log(), 10,
             "the capture on rtw0")
    inc = wait_incident(d.db, "web")
    netpair.sh(netpair.tgt, sys.executable, "-c", ARP_SEND, "real",
               "forged")
    ws = wait_for(lambda: [w for w in warnings(d.db)
                           if w["related_incidents"]] or None, 15,
                  "the ARP conflict's warning, related to web's incident")
    assert len(ws) == 1, warnings(d.db)
    w = ws[0]
    assert w["summary"].startswith(f"arp-conflict: {TGT_ADDR} "), w
    assert w["related_incidents"] == [inc["id"]], w
    rel = events(d.db, inc["id"], "related warning")
    assert len(rel) == 1, rel
    assert f"targets {TGT_ADDR}, checked for system \"web\"" in \
        rel[0]["detail"], rel
    d.stop()
