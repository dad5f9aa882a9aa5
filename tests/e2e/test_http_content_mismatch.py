"""The page loads but is not the right page: content mismatch.

"contains" looks at the first 1 MiB of the body: a 3 MiB page with the
text near its start is up; the same page with the text only past 1 MiB,
or a page without it, is down, and the cause quotes the missing text.
"""
from conftest import (incidents_of, rules_file, start_daemon, wait_for,
                      wait_incident)
from http_target import http_system, http_targets  # noqa: F401

MIB = 1024 * 1024


def test_http_content_mismatch(scenario, http_targets):
    plain = http_targets()
    plain.set(body="<html><title>Maintenance</title></html>")
    big_ok = http_targets()
    big_ok.set(body=b"<title>Webmail</title>" + b"x" * (3 * MIB))
    big_late = http_targets()
    big_late.set(body=b"x" * (MIB + 100) + b"Webmail")
    d = scenario.daemon()
    opts = 'contains "Webmail"'
    d.write_rules(rules_file(
        d.db,
        http_system("mail", plain.url(), opts),
        http_system("bigmail", big_ok.url(), opts),
        http_system("latemail", big_late.url(), opts)))
    start_daemon(d)

    inc = wait_incident(d.db, "mail")
    assert "content-mismatch" in inc["cause"], inc["cause"]
    assert 'body does not contain "Webmail"' in inc["cause"], inc["cause"]

    late = wait_incident(d.db, "latemail")
    assert 'body does not contain "Webmail"' in late["cause"], late["cause"]
    assert "first 1 MiB" in late["cause"], late["cause"]

    wait_for(lambda: len(big_ok.requests) >= 4, 15, "four probes of bigmail")
    assert incidents_of(d.db, "bigmail") == [], \
        "the text within the first MiB of a large page is found"
    d.stop()
