"""A DNS server that fails (SERVFAIL): an incident naming the server.

SERVFAIL is the server's own failure (its upstream or its zone is
broken), told apart from NXDOMAIN: the cause names the RCODE and the
server that sent it.
"""
from conftest import rules_file, start_daemon
from conftest import wait_incident
from dnsserver import dns, dns_system  # noqa: F401


def test_dns_servfail_opens_incident(scenario, dns):
    dns.fail("broken.example.test", "servfail").start()
    d = scenario.daemon()
    d.write_rules(rules_file(d.db) + dns_system(
        "broken", f"dns broken.example.test server {dns.address} type MX"))
    start_daemon(d)

    inc = wait_incident(d.db, "broken", timeout=15)
    assert inc["cause"] == (f"dns broken.example.test MX server "
                            f"{dns.address}: dns-failure: SERVFAIL from "
                            f"{dns.address} for broken.example.test"), inc
    d.stop()
