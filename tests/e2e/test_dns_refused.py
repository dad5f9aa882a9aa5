"""The DNS server stops: port unreachable is "refused", then restored.

While the server answers the check passes.  Once its socket is closed,
the kernel answers each query with ICMP port unreachable, which the
probe's connected UDP socket reports as ECONNREFUSED: the incident says
no DNS server is at that address.
"""
from conftest import rules_file, start_daemon
from conftest import incidents, wait_for, wait_incident
from dnsserver import dns, dns_system  # noqa: F401


def test_dns_server_stopped_is_refused(scenario, dns):
    dns.add("www.example.test", "A", "127.0.0.1").start()
    d = scenario.daemon()
    d.write_rules(rules_file(d.db) + dns_system(
        "resolver", f"dns www.example.test server {dns.address}"))
    start_daemon(d)
    wait_for(lambda: dns.count() >= 3, 15, "three queries answered")
    assert incidents(d.db) == []

    dns.stop()
    inc = wait_incident(d.db, "resolver", timeout=15)
    assert inc["cause"] == (f"dns www.example.test A server {dns.address}"
                            f": refused: no DNS server at {dns.address} "
                            f"(port unreachable)"), inc
    assert ": refused: " in d.run_log()
    d.stop()
