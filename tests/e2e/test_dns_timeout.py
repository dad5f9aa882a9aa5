"""A DNS server that reads queries and never answers: timeout.

The datagrams arrive (the server counts them), so there is no port
unreachable; the probe ends by probe.c's timer and the incident says how
long it waited.
"""
from conftest import rules_file, start_daemon
from conftest import wait_for, wait_incident
from dnsserver import dns, dns_system  # noqa: F401


def test_dns_silent_server_times_out(scenario, dns):
    dns.fail("www.example.test", "silent").start()
    d = scenario.daemon()
    d.write_rules(rules_file(d.db) + dns_system(
        "mute", f"dns www.example.test server {dns.address}",
        timeout="200ms"))
    start_daemon(d)

    inc = wait_incident(d.db, "mute", timeout=15)
    assert inc["cause"] == (f"dns www.example.test A server {dns.address}"
                            f": timeout: no answer within 200ms"), inc
    wait_for(lambda: dns.count() >= 2, 5, "the queries reached the server")
    d.stop()
