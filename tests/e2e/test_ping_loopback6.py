"""Ping ::1: IPv6 echo through the ICMPv6 socket, no incident."""
import pytest

from conftest import incidents, rules_file
from pinglib import ping_system, require_root, run, wait_pings


def test_ping_loopback_ipv6_ok(scenario):
    require_root("pinging through a raw ICMPv6 socket")
    if "::1" not in run("ip", "-6", "addr", "show", "dev", "lo",
                        check=False).stdout:
        pytest.skip("this host has no IPv6 loopback address ::1")
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, ping_system(
        "lo6", "::1", extra="count 2", every="300ms", timeout="250ms")))
    d.start()
    wait_pings(d, "::1", "2/2", count=3)
    assert incidents(d.db) == [], d.tail()
    d.stop()
