"""A truncated reply (TC bit): reported, not taken for an answer.

The server sets TC and leaves the records out (they did not fit in the
datagram).  The probe does not fall back to TCP; it says the answer was
truncated rather than calling it empty or malformed.
"""
from conftest import rules_file, start_daemon
from conftest import wait_incident
from dnsserver import dns, dns_system  # noqa: F401


def test_dns_truncated_reply_opens_incident(scenario, dns):
    dns.fail("big.example.test", "truncated").start()
    d = scenario.daemon()
    d.write_rules(rules_file(d.db) + dns_system(
        "big", f"dns big.example.test server {dns.address} type TXT"))
    start_daemon(d)

    inc = wait_incident(d.db, "big", timeout=15)
    assert inc["cause"] == (f"dns big.example.test TXT server "
                            f"{dns.address}: dns-failure: truncated reply "
                            f"(TC) from {dns.address}: TXT "
                            f"big.example.test does not fit in UDP"), inc
    d.stop()
