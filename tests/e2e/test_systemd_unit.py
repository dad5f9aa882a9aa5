"""The service unit: systemd accepts it, and what it runs works.

systemd-analyze verify reads the unit as systemd would (directives,
executables); the installed path of rtowatchd is replaced by the built
one.  ExecStartPre must be the rules test, so that a broken rules file
stops a start before the daemon replaces a working one.
"""
import os
import re
import shutil
import subprocess

import pytest

from conftest import REPO, binary

UNIT = os.path.join(REPO, "systemd", "rtowatchd.service")
INSTALLED = "/usr/local/sbin/rtowatchd"


def unit_text():
    with open(UNIT, encoding="utf-8") as f:
        return f.read()


def directive(text, key):
    return re.findall(rf"^{key}=(.*)$", text, re.M)


def test_systemd_analyze_verify(tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    unit = tmp_path / "rtowatchd.service"
    unit.write_text(unit_text().replace(INSTALLED, binary("rtowatchd")))
    p = subprocess.run(["systemd-analyze", "verify", str(unit)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "rtowatchd.service" not in p.stdout + p.stderr, \
        p.stdout + p.stderr


def test_unit_is_notify_and_tests_the_rules_first(tmp_path):
    text = unit_text()
    assert directive(text, "Type") == ["notify"]
    assert directive(text, "ExecReload") == ["/bin/kill -HUP $MAINPID"]
    pre = directive(text, "ExecStartPre")
    assert len(pre) == 1, pre
    argv = pre[0].split()
    assert argv[0] == INSTALLED and "-n" in argv, argv
    # Run that very command on a good and on a broken rules file.
    good = os.path.join(REPO, "rules", "example.conf")
    bad = tmp_path / "bad.conf"
    bad.write_text('system "x" {\n core perhaps\n}\n')
    for rules, rc, out in ((good, 0, "configuration OK"),
                           (str(bad), 1, f"{bad}:2:")):
        cmd = [binary("rtowatchd")] + [
            rules if a == "/etc/rtowatch/rtowatch.conf" else a
            for a in argv[1:]]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        assert p.returncode == rc, (cmd, p.stdout, p.stderr)
        assert out in p.stdout + p.stderr, (cmd, p.stdout, p.stderr)
