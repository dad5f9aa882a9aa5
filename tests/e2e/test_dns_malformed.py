"""A malformed DNS reply: an error naming what is wrong, no crash.

The server's reply has the right ID and question, but its answer's owner
name is a compression pointer to itself, which a careless parser follows
forever.  The probe reports it as an error and the incident's cause says
"malformed reply" and why; the daemon keeps running (and, under ASan,
reads nothing out of bounds).
"""
from conftest import rules_file, start_daemon
from conftest import wait_incident
from dnsserver import dns, dns_system  # noqa: F401


def test_dns_malformed_reply_is_an_error(scenario, dns):
    dns.fail("loop.example.test", "malformed").start()
    d = scenario.daemon()
    d.write_rules(rules_file(d.db) + dns_system(
        "looped", f"dns loop.example.test server {dns.address}"))
    start_daemon(d)

    inc = wait_incident(d.db, "looped", timeout=15)
    assert inc["cause"].startswith(
        f"dns loop.example.test A server {dns.address}: error: "
        f"malformed reply: answer 1: compression pointer"), inc
    assert "a loop?" in inc["cause"], inc
    assert "looped: dns loop.example.test A server" in d.run_log()
    assert ": error: malformed reply" in d.run_log()
    d.stop()
