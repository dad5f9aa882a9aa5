"""A DNS server gives the wrong address: an incident says which.

The check expects www.example.test to be 127.0.0.1; the server answers
127.0.0.9.  After two such probes the system is down and the incident's
cause names both the answer and the expectation.
"""
from conftest import rules_file, start_daemon
from conftest import incidents, wait_incident
from dnsserver import dns, dns_system  # noqa: F401


def test_dns_wrong_answer_opens_incident(scenario, dns):
    dns.add("www.example.test", "A", "127.0.0.9").start()
    d = scenario.daemon()
    d.write_rules(rules_file(d.db) + dns_system(
        "web-dns", f"dns www.example.test server {dns.address} "
        f"expect 127.0.0.1"))
    start_daemon(d)

    inc = wait_incident(d.db, "web-dns", timeout=15)
    assert inc["cause"] == (f"dns www.example.test A server {dns.address}"
                            f": content-mismatch: A is 127.0.0.9, "
                            f"expected 127.0.0.1"), inc
    assert "content-mismatch" in d.run_log()
    assert len(incidents(d.db)) == 1
    d.stop()
