"""A DNS server that answers: the dns check passes, no incident.

The daemon asks a real DNS server on loopback for an A record; every
probe succeeds and nothing is recorded.  Probes that reach the server
but fail (a parser that rejects a good reply, an ID or question that does
not match) would open an incident after two probes.
"""
from conftest import rules_file, start_daemon
from conftest import incidents, wait_for
from dnsserver import dns, dns_system  # noqa: F401


def test_dns_a_record_ok(scenario, dns):
    dns.add("www.example.test", "A", "127.0.0.1", "127.0.0.2").start()
    d = scenario.daemon()
    d.write_rules(rules_file(d.db) + dns_system(
        "web-dns", f"dns www.example.test server {dns.address} type A "
        f"expect 127.0.0.2"))
    start_daemon(d)

    wait_for(lambda: d.run_log().count("web-dns: dns www.example.test A "
                                       f"server {dns.address}: ok in") >= 5,
             15, "five successful dns probes in the log")
    assert dns.count() >= 5
    assert incidents(d.db) == [], "no incident while the server answers"
    d.stop()
