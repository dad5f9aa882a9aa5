"""The Debian package: it builds, lintian has nothing to say that is not
explained, and installed into a fresh root it puts every file in place,
creates the account, keeps the records on upgrade and on remove, and
deletes them only on purge.

The fresh root is the host's own file system under an overlay whose
upper layer is a tmpfs, in a mount namespace the test creates: dpkg and
the maintainer scripts run for real (chrooted), and nothing they write
reaches the host.  The package is built from a copy of the source tree,
so the tree's own bin/ and build/ are left alone.
"""
import os
import shutil
import subprocess

import pytest

from conftest import BIN_DIR, REPO

BUILD_TIMEOUT = 900
# The three tests read one package, built in 75-100 s: in one worker,
# which builds it once, not once in each.
pytestmark = pytest.mark.xdist_group("debian_package")


def need(*tools):
    for t in tools:
        if shutil.which(t) is None:
            pytest.skip(f"{t} is not installed")


@pytest.fixture(scope="module")
def deb(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("installing a package into a chroot needs root")
    if os.path.basename(BIN_DIR) == "asan":
        pytest.skip("the package is built from the sources, not from "
                    f"{BIN_DIR}: the release pass tests it once")
    need("dpkg-buildpackage", "dh", "unshare", "chroot")
    top = tmp_path_factory.mktemp("deb")
    src = top / "rtowatch"
    files = subprocess.run(["git", "-C", REPO, "ls-files", "-z"],
                           capture_output=True, check=True).stdout
    for rel in filter(None, files.decode().split("\0")):
        path = os.path.join(REPO, rel)
        if os.path.isfile(path):
            os.makedirs(src / os.path.dirname(rel), exist_ok=True)
            shutil.copy2(path, src / rel)
    p = subprocess.run(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=src,
                       capture_output=True, text=True,
                       timeout=BUILD_TIMEOUT)
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-4000:]
    debs = [f for f in os.listdir(top) if f.startswith("rtowatch_")
            and f.endswith(".deb")]
    assert len(debs) == 1, os.listdir(top)
    return top / debs[0]


def test_desktop_agent_is_a_package_of_its_own(deb):
    """A monitoring server needs no libnotify: the agent is split off."""
    agent = str(deb).replace("rtowatch_", "rtowatch-notify_")
    p = subprocess.run(["dpkg-deb", "-c", agent], capture_output=True,
                       text=True, check=True)
    files = {l.split()[-1] for l in p.stdout.splitlines()
             if not l.endswith("/")}
    assert {"./usr/bin/rtowatch-notify",
            "./usr/lib/systemd/user/rtowatch-notify.service",
            "./usr/share/man/man1/rtowatch-notify.1.gz"} <= files, files
    p = subprocess.run(["dpkg-deb", "-f", str(deb), "Depends"],
                       capture_output=True, text=True, check=True)
    assert "libnotify" not in p.stdout, p.stdout
    # rtowatchd loads these by dlopen (include/lazylib.h): dpkg-shlibdeps
    # does not see them in it, debian/control names them.
    deps = {d.strip().split()[0] for d in p.stdout.split(",")}
    assert {"libcurl4", "libpq5", "libssl3", "libevent-openssl-2.1-7",
            "libpcap0.8", "libpam0g"} <= deps, p.stdout


def test_lintian_has_only_explained_tags(deb):
    need("lintian")
    changes = str(deb).replace(".deb", ".changes")
    p = subprocess.run(["lintian", "--pedantic", "-I", changes],
                       capture_output=True, text=True, timeout=600)
    tags = [l for l in p.stdout.splitlines() if l[:2] in ("E:", "W:",
                                                          "I:", "P:")]
    print("\n".join(tags) or "lintian: no tags")
    # Explained in the report and README.Debian: the daemon is made for
    # systemd (sd_notify, the sandbox); there is no init.d script.
    explained = {"package-supports-alternative-init-but-no-init.d-script"}
    unexplained = [t for t in tags if t.split()[2] not in explained]
    assert not unexplained, p.stdout


SCRIPT = r"""
set -eu
R=$1/root
mount -t tmpfs tmpfs "$1"
mkdir "$1/upper" "$1/work" "$R"
mount -t overlay overlay \
    -o lowerdir=/,upperdir="$1/upper",workdir="$1/work" "$R"
mount -t proc proc "$R/proc"
cp "$2" "$R/tmp/rtowatch.deb"
run() { chroot "$R" "$@"; }
show() { run stat -c '%U:%G %a %n' "$@"; }
gone() { for f; do [ -e "$R$f" ] && echo "present $f" || echo "gone $f"; done; }

echo "== before"
run getent passwd rtowatch || echo "no account"
echo "== install"
run dpkg -i /tmp/rtowatch.deb >/dev/null
run getent passwd rtowatch
show /usr/sbin/rtowatchd /usr/bin/rtowatch /lib/systemd/system/rtowatchd.service \
    /etc/rtowatch /etc/rtowatch/rtowatch.conf /var/lib/rtowatch \
    /usr/share/man/man8/rtowatchd.8.gz /usr/share/man/man5/rtowatch.conf.5.gz \
    /usr/lib/sysusers.d/rtowatch.conf /usr/lib/tmpfiles.d/rtowatch.conf \
    /usr/share/doc/rtowatch/README.Debian
run /usr/sbin/rtowatchd -n -f /etc/rtowatch/rtowatch.conf
run systemctl is-enabled rtowatchd.service 2>/dev/null || true
# Records of three years, and an edited rules file.
run su -s /bin/sh -c 'echo records >/var/lib/rtowatch/rtowatch.db' rtowatch
echo "# ours" >>"$R/etc/rtowatch/rtowatch.conf"
echo "== upgrade"
run dpkg -i /tmp/rtowatch.deb >/dev/null
run cat /var/lib/rtowatch/rtowatch.db
tail -n 1 "$R/etc/rtowatch/rtowatch.conf"
echo "== remove"
run dpkg -r rtowatch >/dev/null
gone /usr/sbin/rtowatchd /lib/systemd/system/rtowatchd.service
run cat /var/lib/rtowatch/rtowatch.db
tail -n 1 "$R/etc/rtowatch/rtowatch.conf"
echo "== purge"
run dpkg -P rtowatch >/dev/null
gone /var/lib/rtowatch /etc/rtowatch
echo "== end"
"""


def sections(text):
    out, cur = {}, None
    for line in text.splitlines():
        if line.startswith("== "):
            cur = line[3:]
            out[cur] = []
        elif cur is not None:
            out[cur].append(line)
    return out


def test_install_upgrade_remove_purge_in_a_fresh_root(deb, tmp_path):
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    p = subprocess.run(["unshare", "--mount", "--propagation", "private",
                        "sh", "-c", SCRIPT, "sh", str(mnt), str(deb)],
                       capture_output=True, text=True, timeout=300)
    if "overlay" in p.stderr and "unknown filesystem" in p.stderr:
        pytest.skip("no overlayfs here: " + p.stderr.strip())
    assert p.returncode == 0 and "== end" in p.stdout, p.stdout + p.stderr
    s = sections(p.stdout)
    assert s["before"] == ["no account"], "the host already has rtowatch"

    inst = s["install"]
    assert inst[0].startswith("rtowatch:x:") and \
        inst[0].endswith(":/var/lib/rtowatch:/usr/sbin/nologin"), inst[0]
    modes = {l.split()[2]: (l.split()[0], l.split()[1]) for l in inst[1:12]}
    assert modes["/usr/sbin/rtowatchd"] == ("root:root", "755")
    assert modes["/usr/bin/rtowatch"] == ("root:root", "755")
    assert modes["/etc/rtowatch"] == ("root:rtowatch", "750")
    assert modes["/etc/rtowatch/rtowatch.conf"] == ("root:rtowatch", "640")
    assert modes["/var/lib/rtowatch"] == ("rtowatch:rtowatch", "750")
    for f in ("/lib/systemd/system/rtowatchd.service",
              "/usr/share/man/man8/rtowatchd.8.gz",
              "/usr/share/doc/rtowatch/README.Debian"):
        assert modes[f] == ("root:root", "644"), f
    assert "configuration OK" in inst[12]
    # Not enabled until the rules describe real systems (README.Debian).
    assert "enabled" not in inst[13:], inst

    assert s["upgrade"] == ["records", "# ours"]
    assert s["remove"] == ["gone /usr/sbin/rtowatchd",
                           "gone /lib/systemd/system/rtowatchd.service",
                           "records", "# ours"]
    assert s["purge"] == ["gone /var/lib/rtowatch", "gone /etc/rtowatch"]
