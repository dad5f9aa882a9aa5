"""The name is gone from the DNS: NXDOMAIN opens an incident.

The server knows nothing of no.example.test and says so (RCODE 3); the
incident's cause says NXDOMAIN and names the name.
"""
from conftest import rules_file, start_daemon
from conftest import wait_incident
from dnsserver import dns, dns_system  # noqa: F401


def test_dns_nxdomain_opens_incident(scenario, dns):
    dns.add("www.example.test", "A", "127.0.0.1").start()
    d = scenario.daemon()
    d.write_rules(rules_file(d.db) + dns_system(
        "gone", f"dns no.example.test server {dns.address}"))
    start_daemon(d)

    inc = wait_incident(d.db, "gone", timeout=15)
    assert inc["cause"] == (f"dns no.example.test A server {dns.address}"
                            f": dns-failure: NXDOMAIN for "
                            f"no.example.test"), inc
    assert "dns-failure" in d.run_log()
    d.stop()
