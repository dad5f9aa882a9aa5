"""The http check's options are checked by `rtowatchd -n`.

A file using every option passes; each mistake is reported at its line.
"""
import textwrap

from conftest import POLICY
from conftest import check_lines_each_reported, rules_check

BAD = [
    ('check http "ftp://127.0.0.1/"', "http"),
    ('check http "http://127.0.0.1/" status 99', "status"),
    ('check http "http://127.0.0.1/" status 600', "status"),
    ('check http "http://127.0.0.1/" status 300-200', "status"),
    ('check http "http://127.0.0.1/" cert-expiry 14d', "cert-expiry"),
    ('check http "http://127.0.0.1/" method HEAD contains "x"', "contains"),
    ('check http "http://127.0.0.1/" method POST', "method"),
    ('check http "http://127.0.0.1/" header "no colon"', "header"),
    ('check http "http://127.0.0.1/" ca-file "ca.pem"', "ca-file"),
    ('check http "http://127.0.0.1/" contains ""', "contains"),
    ('check http "http://127.0.0.1/" colour blue', "colour"),
]


def test_http_rules_good_file(workdir):
    rules = workdir / "good.conf"
    rules.write_text(textwrap.dedent(f"""\
        set database "{workdir}/rtowatch.db"; include "{POLICY}"
        system "mail" {{
            core yes
            rto 4h
            check http "https://127.0.0.1:8443/" status 200 contains "Webmail" cert-expiry 14d ca-file "/etc/ssl/certs/ca-certificates.crt" every 10s timeout 2s
            check http "http://localhost/health" method HEAD header "X-Probe: 1" header "Accept: */*" status 200-299 follow-redirects
            check http "http://[::1]:8080/"
        }}
        """))
    rc, out, err = rules_check(rules)
    assert rc == 0, err
    assert "configuration OK" in out


def test_http_rules_each_mistake_reported(workdir):
    check_lines_each_reported(workdir, BAD)
