"""A DNS server that refuses the query (RCODE 5): an incident.

A server up but refusing (recursion closed to us, an ACL) is a DNS
failure, told apart from a port that is closed: the cause names the
RCODE REFUSED and the server.
"""
from conftest import rules_file, start_daemon
from conftest import wait_incident
from dnsserver import dns, dns_system  # noqa: F401


def test_dns_rcode_refused_opens_incident(scenario, dns):
    dns.fail("www.example.test", "refused").start()
    d = scenario.daemon()
    d.write_rules(rules_file(d.db) + dns_system(
        "acl", f"dns www.example.test server {dns.address}"))
    start_daemon(d)

    inc = wait_incident(d.db, "acl", timeout=15)
    assert inc["cause"] == (f"dns www.example.test A server {dns.address}"
                            f": dns-failure: REFUSED from {dns.address} "
                            f"for www.example.test"), inc
    d.stop()
