"""make install and make uninstall, into a DESTDIR as a package would.

Every file lands where Debian and systemd look for it, the units name
the installed programs, the installed rules pass their own test, an
existing configuration survives a second install, and make uninstall
removes everything but the configuration.
"""
import os
import subprocess

from conftest import REPO, binary

# PREFIX=/usr, as the Debian package installs.
FILES = {
    "usr/sbin/rtowatchd": 0o755,
    "usr/bin/rtowatch": 0o755,
    "usr/bin/rtowatch-notify": 0o755,
    "usr/lib/systemd/user/rtowatch-notify.service": 0o644,
    "usr/lib/systemd/system/rtowatchd.service": 0o644,
    "usr/lib/sysusers.d/rtowatch.conf": 0o644,
    "usr/lib/tmpfiles.d/rtowatch.conf": 0o644,
    "usr/share/doc/rtowatch/examples/example.conf": 0o644,
    "usr/share/doc/rtowatch/examples/policy.conf": 0o644,
    "usr/share/man/man8/rtowatchd.8": 0o644,
    "usr/share/man/man1/rtowatch.1": 0o644,
    "usr/share/man/man1/rtowatch-notify.1": 0o644,
    "usr/share/man/man5/rtowatch.conf.5": 0o644,
    "usr/share/bash-completion/completions/rtowatch": 0o644,
    "usr/share/zsh/vendor-completions/_rtowatch": 0o644,
    "etc/rtowatch/rtowatch.conf": 0o640,
    "etc/rtowatch/policy.conf": 0o640,
}
CONFIG = {f for f in FILES if f.startswith("etc/")}


def make(target, dest, prefix="/usr"):
    # -o all: install what is built, never rebuild under a running test.
    p = subprocess.run(["make", "--no-print-directory", "-C", REPO,
                        "-o", "all", target, f"DESTDIR={dest}",
                        f"PREFIX={prefix}"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr


def tree(root):
    files = {}
    for d, _, names in os.walk(root):
        for n in names:
            path = os.path.join(d, n)
            files[os.path.relpath(path, root)] = os.stat(path).st_mode & 0o777
    return files


def test_install_then_uninstall(tmp_path):
    binary("rtowatchd")
    dest = tmp_path / "dest"
    make("install", dest)
    assert tree(dest) == FILES

    unit = (dest / "usr/lib/systemd/system/rtowatchd.service").read_text()
    assert "ExecStart=/usr/sbin/rtowatchd -f /etc/rtowatch/rtowatch.conf" \
        in unit and "/usr/local" not in unit
    agent = (dest / "usr/lib/systemd/user/rtowatch-notify.service").read_text()
    assert "ExecStart=/usr/bin/rtowatch-notify" in agent
    assert (dest / "etc/rtowatch").stat().st_mode & 0o777 == 0o750

    # The installed rules, with the installed daemon, pass their test.
    p = subprocess.run([str(dest / "usr/sbin/rtowatchd"), "-n", "-f",
                        str(dest / "etc/rtowatch/rtowatch.conf")],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and "configuration OK" in p.stdout, p.stderr

    # The computer center's edits survive a second install.
    conf = dest / "etc/rtowatch/rtowatch.conf"
    conf.write_text(conf.read_text() + "\n# edited by the IMS team\n")
    make("install", dest)
    assert conf.read_text().endswith("# edited by the IMS team\n")

    make("uninstall", dest)
    assert set(tree(dest)) == CONFIG
    assert conf.read_text().endswith("# edited by the IMS team\n")


def test_default_prefix_is_usr_local(tmp_path):
    binary("rtowatchd")
    dest = tmp_path / "dest"
    p = subprocess.run(["make", "--no-print-directory", "-C", REPO, "-o",
                        "all", "install", f"DESTDIR={dest}"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert (dest / "usr/local/sbin/rtowatchd").is_file()
    assert (dest / "usr/local/lib/systemd/system/rtowatchd.service").is_file()
    assert (dest / "etc/rtowatch/rtowatch.conf").is_file()
