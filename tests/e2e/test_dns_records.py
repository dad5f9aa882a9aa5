"""MX and TXT answers, read and shown as an administrator writes them.

Two checks expect values the server does not hold, so their incidents'
causes show the records as they were rendered ("10 mail.example.test",
a quoted TXT string with its spaces); two more checks expect the right
values (an MX by its host name alone, and the whole TXT string) and stay
up, with no incident.
"""
from conftest import rules_file, start_daemon
from conftest import incidents, wait_for, wait_incident
from dnsserver import dns, dns_system  # noqa: F401


def test_dns_mx_and_txt_rendered(scenario, dns):
    (dns.add("example.test", "MX", "10 mail.example.test",
             "20 backup.example.test")
        .add("example.test", "TXT", "v=spf1 mx -all")
        .start())
    srv = dns.address
    d = scenario.daemon()
    d.write_rules(rules_file(d.db) + "\n".join([
        dns_system("mx-wrong", f"dns example.test server {srv} type MX "
                   f'expect "5 other.example.test"'),
        dns_system("txt-wrong", f"dns example.test server {srv} type txt "
                   f'expect "v=spf1 -all"'),
        dns_system("mx-right", f"dns example.test server {srv} type MX "
                   f"expect BACKUP.example.test."),
        dns_system("txt-right", f"dns example.test server {srv} type TXT "
                   f'expect "v=spf1 mx -all"'),
    ]))
    start_daemon(d)

    mx = wait_incident(d.db, "mx-wrong", timeout=15)
    assert mx["cause"] == (f"dns example.test MX server {srv}: "
                           "content-mismatch: MX is 10 mail.example.test, "
                           "20 backup.example.test, expected 5 "
                           "other.example.test"), mx
    txt = wait_incident(d.db, "txt-wrong", timeout=15)
    assert txt["cause"] == (f"dns example.test TXT server {srv}: "
                            'content-mismatch: TXT is "v=spf1 mx -all", '
                            "expected v=spf1 -all"), txt

    wait_for(lambda: d.run_log().count("txt-right: dns example.test TXT "
                                       f"server {srv}: ok in") >= 3
             and d.run_log().count("mx-right: dns example.test MX "
                                   f"server {srv}: ok in") >= 3,
             15, "the checks expecting the right values succeeding")
    assert {i["system"] for i in incidents(d.db)} == {"mx-wrong",
                                                       "txt-wrong"}
    d.stop()
