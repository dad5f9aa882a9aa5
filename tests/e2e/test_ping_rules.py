"""The ping check's rules: every option accepted, every mistake named.

`rtowatchd -n` on a file with the ping options in every form, then on one
with a mistake per line: each is reported at its line, with what is
wrong, and the file is refused.
"""
from conftest import POLICY, errors_at, parse_errors, rules_check


def test_ping_rules_good(workdir):
    path = workdir / "good.conf"
    path.write_text(
        f'include "{POLICY}"; system "core-router" {{\n'
        "    core yes\n"
        "    rto 4h\n"
        "    check ping 127.0.0.1\n"
        "    check ping ::1 count 3 loss 34% every 10s timeout 2s\n"
        "    check ping localhost count 5 loss 0 rtt above 150ms\n"
        "    check ping 127.0.0.2 loss 100% rtt above 1s count 100\n"
        "}\n")
    rc, out, err = rules_check(path)
    assert rc == 0, err
    assert out.strip() == "configuration OK"


def test_ping_rules_errors(workdir):
    path = workdir / "bad.conf"
    lines = [
        'system "s" {',
        "    core no",
        "    rto 1h",
        "    check ping 127.0.0.1 count 0",                  # 4
        "    check ping 127.0.0.1 count 101",                # 5
        "    check ping 127.0.0.1 loss 120%",                # 6
        "    check ping 127.0.0.1 loss lots",                # 7
        "    check ping 127.0.0.1 rtt below 10ms",           # 8
        "    check ping 127.0.0.1 rtt above fast",           # 9
        "    check ping bad_host! count 2",                  # 10
        "    check ping 127.0.0.1 port 22",                  # 11
        "    check ping 127.0.0.1 count",                    # 12
        "}",
    ]
    path.write_text("\n".join(lines) + "\n")
    rc, out, err = rules_check(path)
    assert rc == 1, (out, err)
    errs = parse_errors(err)
    want = {
        4: "count 0 out of range (1-100)",
        5: "count 101 out of range (1-100)",
        6: 'loss: "120%" is not a percentage (0% to 100%)',
        7: 'loss: "lots" is not a percentage (0% to 100%)',
        8: 'expected "rtt above DURATION", found "rtt below"',
        9: 'rtt above: "fast" is not a duration',
        10: 'ping check: "bad_host!" is not a host name or address',
        11: 'unknown ping check option "port"',
        12: "missing count",
    }
    for line, msg in want.items():
        found = errors_at(errs, path, line)
        assert any(msg in m for m in found), \
            f"line {line}: expected {msg!r}, got {found}\n{err}"
