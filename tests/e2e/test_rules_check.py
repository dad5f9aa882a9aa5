"""A system administrator tests rule files with `rtowatchd -n -f FILE`.

Every rule file shipped in rules/ must pass.  A file with many mistakes
gets every one of them reported as FILE:LINE: message (not only the
first) and exit 1; a mistake in an included file names that file and its
line.  Message texts are still being settled, so each error is matched by
file, line and one key word.
"""
import glob
import os
import re
import textwrap

import pytest

from conftest import POLICY, REPO, errors_at, parse_errors, rules_check

SHIPPED = sorted(glob.glob(os.path.join(REPO, "rules", "*.conf")))


@pytest.mark.parametrize(
    "path", SHIPPED or [None],
    ids=[os.path.basename(p) for p in SHIPPED] or ["no-rules-files"])
def test_shipped_rules_file_passes(path):
    if path is None:
        pytest.fail(f"no rule files found: {REPO}/rules/*.conf is empty or "
                    f"missing, but every shipped rule file must be tested "
                    f"with rtowatchd -n", pytrace=False)
    rc, out, err = rules_check(path)
    assert rc == 0, f"rtowatchd -n -f {path} exited {rc}:\n{err}"
    assert "configuration OK" in out, f"stdout: {out!r} stderr: {err!r}"


def test_good_file_prints_configuration_ok(workdir):
    rules = workdir / "good.conf"
    rules.write_text(textwrap.dedent(f"""\
        # A small, correct file using every statement of the language.
        set database "{workdir}/rtowatch.db"; include "{POLICY}"
        include "systems.conf"

        system "web" {{
            core yes
            critical-infrastructure no
            rto 10s
            owner "System Group"
            check tcp 127.0.0.1 port 8080 every 1s timeout 500ms
            down after 3 failures
            up after 2 successes
        }}
        system "dns" {{ core yes; critical-infrastructure yes; rto 4h; check tcp 127.0.0.1 port 53; }}
        """))
    (workdir / "systems.conf").write_text(textwrap.dedent("""\
        system "library" {
            core no
            rto 3d
            check tcp 127.0.0.1 port 8081 every 250ms timeout 100ms
            down after 100 failures
            up after 2 successes
        }
        """))
    rc, out, err = rules_check(rules)
    assert rc == 0, f"exit {rc}, stderr:\n{err}"
    assert out.strip() == "configuration OK", f"stdout: {out!r}"
    assert not (workdir / "rtowatch.db").exists(), \
        "-n only tests the rules: it must not create the database"


# One mistake per system, each on a line of its own.  Each entry: a marker
# that ends the line with the mistake, the key words of which at least one
# must be in its message, and other lines where the same error may
# legitimately be reported instead (a missing setting belongs to its block:
# its first or its last line).
BROKEN = """\
# Seven mistakes; rtowatchd -n must report every one of them.
set database "{db}"; include "{policy}"

system "alpha" {{
    core no
    rto 1h
    colour blue                                             # @unknown
    check tcp 127.0.0.1 port 1 every 1s timeout 500ms
}}

system "alpha" {{                                           # @duplicate
    core no
    rto 1h
    check tcp 127.0.0.1 port 2 every 1s timeout 500ms
}}

system "no-rto" {{                                          # @missing-rto
    core yes
    check tcp 127.0.0.1 port 3 every 1s timeout 500ms
}}                                                          # @missing-rto-end

system "slow" {{
    core no
    rto 1h
    check tcp 127.0.0.1 port 4 every 1s timeout 1s          # @timeout
}}

system "big-port" {{
    core no
    rto 1h
    check tcp 127.0.0.1 port 70000 every 1s timeout 500ms   # @port
}}

system "eager" {{
    core no
    rto 1h
    check tcp 127.0.0.1 port 5 every 1s timeout 500ms
    down after 0 failures                                   # @down-after
}}

system "typo" {{
    core no
    rto 1h
    check tcp 127.0.0.1 port 6 every 5x timeout 500ms       # @duration
}}
"""

EXPECTED = [
    # (marker, key words, what)
    ("@unknown", ("unknown",), "unknown keyword"),
    ("@duplicate", ("duplicate",), "duplicate system name"),
    ("@missing-rto", ("rto",), "missing rto"),
    ("@timeout", ("timeout",), "timeout not below the interval"),
    ("@port", ("port", "70000"), "port out of range"),
    ("@down-after", ("down", "0"), "down after 0"),
    ("@duration", ("5x", "duration"), "bad duration"),
]
# Where else an error may be reported.
ALSO = {"@missing-rto": "@missing-rto-end"}


def marker_lines(text):
    """{marker: line number} for the '# @marker' comments of TEXT."""
    lines = {}
    for n, line in enumerate(text.splitlines(), start=1):
        m = re.search(r"# (@[\w-]+)", line)
        if m:
            lines[m.group(1)] = n
    return lines


def test_broken_file_reports_every_error_with_file_and_line(workdir):
    rules = workdir / "broken.conf"
    text = BROKEN.format(db=workdir / "rtowatch.db", policy=POLICY)
    rules.write_text(text)
    lines = marker_lines(text)

    rc, out, err = rules_check(rules)
    assert rc == 1, f"expected exit 1 for a file with errors, got {rc}"
    assert "configuration OK" not in out
    errors = parse_errors(err)
    for line in err.splitlines():
        assert parse_errors(line), \
            f"stderr line is not FILE:LINE: message: {line!r}"

    missing = []
    for marker, words, what in EXPECTED:
        at = [lines[marker]] + ([lines[ALSO[marker]]] if marker in ALSO
                                else [])
        msgs = [m for n in at for m in errors_at(errors, rules, n)]
        if not any(w in m.lower() for m in msgs for w in words):
            missing.append(f"{what}: expected broken.conf:{at[0]}: with "
                           f"one of {words}, got {msgs}")
    assert not missing, ("errors not reported:\n  " + "\n  ".join(missing)
                         + f"\nfull stderr:\n{err}")

    allowed = set(lines.values())
    stray = [e for e in errors if e[1] not in allowed]
    assert not stray, (f"errors reported on lines without a mistake "
                       f"(bad recovery after an error?): {stray}\n{err}")


def test_error_in_included_file_names_that_file_and_line(workdir):
    (workdir / "systems.d").mkdir()
    main = workdir / "main.conf"
    main.write_text(textwrap.dedent(f"""\
        set database "{workdir}/rtowatch.db"; include "{POLICY}"
        include "systems.d/library.conf"
        system "web" {{
            core yes
            rto 1h
            check tcp 127.0.0.1 port 8080 every 1s timeout 500ms
        }}
        """))
    (workdir / "systems.d" / "library.conf").write_text(textwrap.dedent("""\
        # The library's systems.
        system "catalogue" {
            core no
            rto 1d
            shelf 12
            check tcp 127.0.0.1 port 8081 every 1s timeout 500ms
        }
        """))
    rc, out, err = rules_check(main)
    assert rc == 1, f"exit {rc}; stdout {out!r}; stderr:\n{err}"
    errors = parse_errors(err)
    msgs = errors_at(errors, "library.conf", 5)
    assert any("unknown" in m.lower() or "shelf" in m for m in msgs), \
        f"expected library.conf:5: naming the unknown keyword, got:\n{err}"
    assert errors_at(errors, main, 2) == [], \
        f"the error belongs to the included file, not the include line:\n{err}"
