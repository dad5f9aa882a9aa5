"""A reply with another ID is ignored; the right one still counts.

Before each true answer the server sends a reply with a different ID and
a different address (what a late reply to an old query, or a spoofing
attempt, looks like).  The probe must ignore it and take the true
answer: the check expects 127.0.0.1, and the stray reply's 127.9.9.9
would be a mismatch, so any incident means the ID was not checked.
"""
from conftest import rules_file, start_daemon
from conftest import incidents, wait_for
from dnsserver import dns, dns_system  # noqa: F401


def test_dns_reply_with_wrong_id_ignored(scenario, dns):
    (dns.add("www.example.test", "A", "127.0.0.1")
        .fail("www.example.test", "wrong-id-first").start())
    d = scenario.daemon()
    d.write_rules(rules_file(d.db) + dns_system(
        "spoofed", f"dns www.example.test server {dns.address} "
        f"expect 127.0.0.1"))
    start_daemon(d)

    wait_for(lambda: d.run_log().count("spoofed: dns www.example.test A "
                                       f"server {dns.address}: ok in") >= 5,
             15, "five successful probes despite the stray replies")
    assert "ignored a reply to another query" in d.run_log()
    assert incidents(d.db) == []
    d.stop()
