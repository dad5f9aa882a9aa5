"""The service unit: systemd accepts it, and what it runs works.

systemd-analyze verify reads the unit as systemd would (directives,
executables, the man pages of Documentation=); the installed path of
rtowatchd is replaced by the built one and the man pages are looked up in
man/.  ExecStartPre must be the rules test, so that a broken rules file
stops a start before the daemon replaces a working one.  The sandbox is
judged by systemd-analyze security, whose exposure score must stay at 2.0
or below ("OK"); the sysusers.d and tmpfiles.d snippets are applied to a
scratch root directory.
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


SYSTEMD = os.path.join(REPO, "systemd")
MAN = os.path.join(REPO, "man")
MAX_EXPOSURE = 2.0


def need(tool):
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (package systemd)")


def man_env(tmp_path):
    """MANPATH with man/*.N in a manN/ tree, for Documentation=man:..."""
    for page in os.listdir(MAN):
        section = page.rsplit(".", 1)[1]
        d = tmp_path / "man" / f"man{section}"
        d.mkdir(parents=True, exist_ok=True)
        (d / page).symlink_to(os.path.join(MAN, page))
    return dict(os.environ, MANPATH=str(tmp_path / "man"))


def verify(unit, env, *extra):
    p = subprocess.run(["systemd-analyze", "verify", *extra, str(unit)],
                       capture_output=True, text=True, timeout=60, env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    assert unit.name not in p.stdout + p.stderr, p.stdout + p.stderr


def test_systemd_analyze_verify(tmp_path):
    need("systemd-analyze")
    unit = tmp_path / "rtowatchd.service"
    unit.write_text(unit_text().replace(INSTALLED, binary("rtowatchd")))
    verify(unit, man_env(tmp_path))


def test_user_unit_of_the_desktop_agent_verifies(tmp_path):
    need("systemd-analyze")
    agent = os.path.join(os.path.dirname(binary("rtowatchd")),
                         "rtowatch-notify")
    if not os.access(agent, os.X_OK):
        pytest.skip(f"{agent} is not built (cli/rtowatch-notify.c)")
    with open(os.path.join(SYSTEMD, "rtowatch-notify.service"),
              encoding="utf-8") as f:
        text = f.read()
    unit = tmp_path / "rtowatch-notify.service"
    unit.write_text(text.replace("/usr/local/bin/rtowatch-notify", agent))
    # The user manager wants a runtime directory of its own.
    env = man_env(tmp_path)
    env["XDG_RUNTIME_DIR"] = str(tmp_path / "xdg")
    os.mkdir(env["XDG_RUNTIME_DIR"], 0o700)
    verify(unit, env, "--user")


def test_security_exposure_at_most_2(tmp_path):
    need("systemd-analyze")
    unit = tmp_path / "rtowatchd.service"
    unit.write_text(unit_text().replace(INSTALLED, binary("rtowatchd")))
    p = subprocess.run(["systemd-analyze", "security", "--offline=true",
                        "--no-pager", str(unit)],
                       capture_output=True, text=True, timeout=60,
                       cwd=str(tmp_path))
    out = p.stdout + p.stderr
    m = re.search(r"Overall exposure level for rtowatchd\.service: "
                  r"([0-9.]+) (\S+)", out)
    assert m, out
    score = float(m.group(1))
    print(f"rtowatchd.service exposure {score} {m.group(2)}")
    assert score <= MAX_EXPOSURE, out
    # What a reviewer checks first, spelled out.
    text = unit_text()
    assert directive(text, "User") == ["rtowatch"]
    assert directive(text, "CapabilityBoundingSet") == ["CAP_NET_RAW"]
    assert directive(text, "AmbientCapabilities") == ["CAP_NET_RAW"]
    assert directive(text, "ProtectSystem") == ["strict"]


def test_sysusers_and_tmpfiles_make_the_account_and_directories(tmp_path):
    need("systemd-sysusers")
    need("systemd-tmpfiles")
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    p = subprocess.run(["systemd-sysusers", f"--root={root}",
                        os.path.join(SYSTEMD, "rtowatch.sysusers")],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    with open(root / "etc" / "passwd", encoding="utf-8") as f:
        users = {l.split(":")[0]: l.rstrip("\n").split(":") for l in f}
    assert "rtowatch" in users, users
    pw = users["rtowatch"]
    uid, gid = int(pw[2]), int(pw[3])
    assert 0 < uid < 1000 and pw[5] == "/var/lib/rtowatch" \
        and pw[6] == "/usr/sbin/nologin", pw
    p = subprocess.run(["systemd-tmpfiles", "--create", f"--root={root}",
                        os.path.join(SYSTEMD, "rtowatch.tmpfiles")],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    for path, owner, mode in (("etc/rtowatch", (0, gid), 0o750),
                              ("var/lib/rtowatch", (uid, gid), 0o750)):
        st = os.stat(root / path)
        assert (st.st_uid, st.st_gid) == owner, path
        assert st.st_mode & 0o7777 == mode, (path, oct(st.st_mode))


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
