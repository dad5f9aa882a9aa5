"""rtowatch-notify's command line, and its systemd user unit.

The unit is read by systemd itself (`systemd-analyze verify --user`),
with ExecStart pointed at the built agent; the man page it names is the
man/ tests' business (--man=no here).
"""
import os
import shutil
import subprocess

import pytest

from conftest import REPO, binary

UNIT = os.path.join(REPO, "systemd", "rtowatch-notify.service")


def run(*args):
    return subprocess.run([binary("rtowatch-notify"), *args],
                          capture_output=True, text=True, timeout=30,
                          stdin=subprocess.DEVNULL)


def test_version():
    p = run("-V")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("rtowatch-notify "), p.stdout


def test_usage_errors():
    for args in (["-x"], ["-s"], ["extra"]):
        p = run(*args)
        assert p.returncode == 2, (args, p)
        assert "usage: rtowatch-notify [-dV] [-s socket]" in p.stderr, p


def directives(text, key):
    return [l.split("=", 1)[1].strip() for l in text.splitlines()
            if l.startswith(key + "=")]


def test_user_unit(tmp_path):
    with open(UNIT, encoding="utf-8") as f:
        text = f.read()
    # Restarted after a crash, not after a clean stop; part of the
    # graphical session, whose display and notification server it needs.
    assert directives(text, "Restart") == ["on-failure"]
    assert directives(text, "WantedBy") == ["graphical-session.target"]
    assert directives(text, "PartOf") == ["graphical-session.target"]
    exec_start = directives(text, "ExecStart")
    assert len(exec_start) == 1
    assert exec_start[0].split()[0].endswith("/rtowatch-notify")

    if shutil.which("systemd-analyze") is None:
        pytest.skip("no systemd-analyze here to verify the unit with")
    unit = tmp_path / "rtowatch-notify.service"
    unit.write_text(text.replace(exec_start[0].split()[0],
                                 binary("rtowatch-notify")))
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    env = dict(os.environ, XDG_RUNTIME_DIR=str(runtime))
    p = subprocess.run(["systemd-analyze", "verify", "--user", "--man=no",
                        str(unit)], capture_output=True, text=True,
                       timeout=60, env=env)
    if p.returncode != 0 and "Failed to initialize manager" in p.stderr:
        pytest.skip(f"systemd-analyze --user cannot run here: {p.stderr}")
    # verify exits 0 on some warnings: any line about the unit fails it.
    assert p.returncode == 0 and str(unit) not in p.stderr, p.stderr
