"""The ping probes under valgrind: replies, late replies, ICMP errors and
a reload that cancels probes in flight, with no leak and no invalid read.

A slow responder keeps echo requests awaited when SIGHUP cancels their
probes; the late replies then arrive for probes that no longer exist.
valgrind's exit code (99 on any error or definite leak) must be the
daemon's clean 0.  Runs against the release build only.
"""
from conftest import VALGRIND, require_valgrind
from conftest import rules_file, wait_for, wait_incident
from pinglib import (BEHIND_ADDR, BEHIND_TGT, TGT_ADDR, Responder, netpair,
                     ping_system, wait_pings)

__all__ = ["netpair"]


def test_ping_under_valgrind(scenario, netpair):
    require_valgrind()
    netpair.sysctl(netpair.tgt, "net.ipv4.ip_forward", 1)
    netpair.sysctl(netpair.tgt, "net.ipv4.icmp_ratelimit", 0)
    netpair.ip(netpair.tgt, "route", "add", "unreachable", BEHIND_TGT)
    netpair.ip(netpair.mon, "route", "add", BEHIND_TGT, "via", TGT_ADDR)
    resp = Responder(netpair, scenario.dir, delay_ms=150)
    try:
        d = scenario.daemon()
        d.wrapper = list(VALGRIND)
        netpair.in_mon(d)
        rules = rules_file(
            d.db,
            ping_system("slow", TGT_ADDR, extra="count 3", every="1s",
                        timeout="800ms"),
            ping_system("lo", "127.0.0.1", every="500ms", timeout="400ms"),
            ping_system("gone", BEHIND_ADDR, every="1s", timeout="800ms"))
        d.write_rules(rules)
        d.start()
        wait_pings(d, TGT_ADDR, "3/3", timeout=60)
        wait_incident(d.db, "gone", timeout=60)
        # Reload while requests to the slow host are awaited, twice.
        for _ in range(2):
            n = resp.answered()
            wait_for(lambda: resp.answered() > n, 30, "a reply in flight")
            d.hup()
            wait_for(lambda: d.run_log().count("reloading") >= _ + 1, 30,
                     "the reload")
        wait_pings(d, "127.0.0.1", count=3, timeout=60)
        d.stop()
        assert "definitely lost" not in d.log(), d.tail(80)
    finally:
        resp.close()
