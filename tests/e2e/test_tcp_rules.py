"""The tcp check's options are checked by `rtowatchd -n`.

A file using every option passes; each mistake is reported at its line.
"""
import textwrap

from conftest import POLICY
from conftest import check_lines_each_reported, rules_check

BAD = [
    ("check tcp 127.0.0.1", "missing \"port N\""),
    ("check tcp 127.0.0.1 port 0", "port"),
    ('check tcp 127.0.0.1 port 25 expect ""', "expect: empty text"),
    ('check tcp 127.0.0.1 port 25 send ""', "send: empty text"),
    ('check tcp 127.0.0.1 port 25 expect "220" expect "250"',
     '"expect" given twice'),
    ('check tcp 127.0.0.1 port 25 send "a" send "b"', '"send" given twice'),
    ('check tcp 127.0.0.1 port 25 send "QUIT\\q"', "unknown escape \\q"),
    ("check tcp 127.0.0.1 port 25 connect-timeout 2s timeout 2s",
     "connect-timeout 2s must be below the check's timeout 2s"),
    ("check tcp 127.0.0.1 port 25 timeout 1s connect-timeout 3s",
     "connect-timeout 3s must be below the check's timeout 1s"),
    ("check tcp 127.0.0.1 port 25 connect-timeout soon",
     "connect-timeout"),
    ("check tcp 127.0.0.1 port 25 banner \"220\"", "banner"),
]


def test_tcp_rules_good_file(workdir):
    rules = workdir / "good.conf"
    rules.write_text(textwrap.dedent(f"""\
        set database "{workdir}/rtowatch.db"; include "{POLICY}"
        system "mail" {{
            core yes
            rto 4h
            check tcp 127.0.0.1 port 25 expect "220" every 10s timeout 2s
            check tcp 127.0.0.1 port 6379 send "PING\\r\\n" expect "+PONG" connect-timeout 500ms timeout 2s
            check tcp ::1 port 22 expect "SSH-2.0-" connect-timeout 1s
            check tcp localhost port 110 send "QUIT\\r\\n"
        }}
        """))
    rc, out, err = rules_check(rules)
    assert rc == 0, err
    assert "configuration OK" in out


def test_tcp_rules_each_mistake_reported(workdir):
    check_lines_each_reported(workdir, BAD)
