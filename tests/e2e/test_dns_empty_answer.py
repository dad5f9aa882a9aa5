"""The name exists but has no record of the type asked: an incident.

The server knows example.test (it has an A record) but no MX: it
answers NOERROR with no answer.  For a mail domain that is an outage,
and the cause says which record is missing.
"""
from conftest import rules_file, start_daemon
from conftest import wait_incident
from dnsserver import dns, dns_system  # noqa: F401


def test_dns_empty_answer_opens_incident(scenario, dns):
    dns.add("example.test", "A", "127.0.0.1").start()
    d = scenario.daemon()
    d.write_rules(rules_file(d.db) + dns_system(
        "mail-dns", f"dns example.test server {dns.address} type MX"))
    start_daemon(d)

    inc = wait_incident(d.db, "mail-dns", timeout=15)
    assert inc["cause"] == (f"dns example.test MX server {dns.address}: "
                            f"dns-failure: no MX record for example.test "
                            f"(empty answer from {dns.address})"), inc
    d.stop()
