"""What the ping scenarios share: rules, and hosts in network namespaces.

A ping scenario that needs a remote host builds two network namespaces
joined by a veth pair: "mon", where the daemon runs (198.18.0.1/30), and
"tgt", the watched host (198.18.0.2/30).  198.18.0.0/15 is the
benchmarking range (RFC 2544): nothing real lives there, and since the
daemon runs inside "mon", which has no other link and no default route,
its echo requests can only go over the veth into "tgt".  The host's own
network is never touched.  Both namespaces (and with them the veth pair)
are removed when the scenario ends, whether it passed or not.

The Responder is a slow or selective host: a raw-socket echo responder
run inside "tgt" (whose kernel is told not to answer), that can delay its
replies or leave some of them out.
"""
import contextlib
import itertools
import json
import os
import selectors
import shutil
import subprocess
import sys
import tempfile

import pytest

from conftest import Daemon, wait_for

MON_ADDR = "198.18.0.1"
TGT_ADDR = "198.18.0.2"
BEHIND_TGT = "198.18.0.128/25"   # routed via tgt, which has no way on
BEHIND_ADDR = "198.18.0.130"
# IPv6: 2001:2::/48, the IPv6 benchmarking range (RFC 5180).
MON_ADDR6 = "2001:2::1"
TGT_ADDR6 = "2001:2::2"
BEHIND_TGT6 = "2001:2:0:1::/64"
BEHIND_ADDR6 = "2001:2:0:1::10"

_counter = itertools.count(1)


def ping_system(name, target, every="300ms", timeout="200ms", extra="",
                down_after=2, up_after=2, rto="1h"):
    """One system block with one ping check."""
    return (f'system "{name}" {{\n'
            f"    core no\n"
            f"    rto {rto}\n"
            f'    owner "e2e tests"\n'
            f"    check ping {target} {extra} every {every} "
            f"timeout {timeout}\n"
            f"    down after {down_after} failures\n"
            f"    up after {up_after} successes\n"
            f"}}\n")


def require_root(what):
    if os.geteuid() != 0:
        pytest.skip(f"{what} needs root (network namespaces, raw sockets)")


def run(*cmd, check=True):
    p = subprocess.run(list(cmd), capture_output=True, text=True,
                       timeout=30, stdin=subprocess.DEVNULL)
    if check and p.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)}: exit {p.returncode}: "
                             f"{p.stderr.strip()}")
    return p


def success_lines(daemon, target, replies=None):
    """The daemon's -v lines for successful pings of TARGET."""
    mark = f"ping {target}: "
    out = []
    for line in daemon.run_log().splitlines():
        if mark in line and "rtt min/avg/max" in line:
            if replies is None or f": {replies} repl" in line:
                out.append(line)
    return out


def wait_pings(daemon, target, replies=None, count=1, timeout=15):
    """Wait until DAEMON has logged COUNT successful pings of TARGET, with
    REPLIES ("2/3") when given; return their lines."""
    def enough():
        lines = success_lines(daemon, target, replies)
        return lines if len(lines) >= count else None
    what = f"{count} successful ping probe(s) of {target}"
    if replies is not None:
        what += f" with {replies} replies"
    return wait_for(enough, timeout, what)


class NetPair:
    """The namespaces "mon" and "tgt" of one scenario, unique names."""

    def __init__(self):
        base = f"rtw-{os.getpid()}-{next(_counter)}"
        self.mon = base + "-m"
        self.tgt = base + "-t"
        self.made = []

    def ip(self, ns, *args, check=True):
        return run("ip", "-n", ns, *args, check=check)

    def sh(self, ns, *cmd, check=True):
        return run("ip", "netns", "exec", ns, *cmd, check=check)

    def sysctl(self, ns, key, value):
        self.sh(ns, "sysctl", "-q", "-w", f"{key}={value}")

    def create(self):
        for ns in (self.mon, self.tgt):
            p = run("ip", "netns", "add", ns, check=False)
            if p.returncode != 0:
                self.close()
                pytest.skip(f"cannot create a network namespace: "
                            f"{p.stderr.strip()}")
            self.made.append(ns)
            self.ip(ns, "link", "set", "lo", "up")
        return self.veth()

    def veth(self):
        """The veth pair rtw0 (MON_ADDR, in "mon") - rtw1 (TGT_ADDR, in
        "tgt"), up: made by create(), or again after a test deleted it."""
        self.ip(self.mon, "link", "add", "rtw0", "type", "veth", "peer",
                "name", "rtw1", "netns", self.tgt)
        self.ip(self.mon, "addr", "add", f"{MON_ADDR}/30", "dev", "rtw0")
        self.ip(self.tgt, "addr", "add", f"{TGT_ADDR}/30", "dev", "rtw1")
        self.ip(self.mon, "link", "set", "rtw0", "up")
        self.ip(self.tgt, "link", "set", "rtw1", "up")
        return self

    def add_ipv6(self):
        """IPv6 on the veth pair too (no duplicate address detection, so
        the addresses work at once); skips when IPv6 is off."""
        for ns, dev, addr in ((self.mon, "rtw0", MON_ADDR6),
                              (self.tgt, "rtw1", TGT_ADDR6)):
            p = self.ip(ns, "-6", "addr", "add", f"{addr}/64", "dev", dev,
                        "nodad", check=False)
            if p.returncode != 0:
                pytest.skip(f"no IPv6 in network namespaces: "
                            f"{p.stderr.strip()}")
        return self

    def in_mon(self, daemon):
        """Run DAEMON inside "mon"."""
        daemon.wrapper = ["ip", "netns", "exec", self.mon, *daemon.wrapper]
        return daemon

    def close(self):
        for ns in reversed(self.made):
            run("ip", "netns", "del", ns, check=False)
        self.made = []


@pytest.fixture
def netpair():
    require_root("this scenario")
    pair = NetPair().create()
    try:
        yield pair
    finally:
        pair.close()


class Responder:
    """An echo responder in namespace NS: answers each echo request after
    DELAY ms, except those whose rtowatch attempt number is in DROP.  The
    settings live in a JSON file read for each request, so set() changes
    them on the fly."""

    SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          "ping_responder.py")

    def __init__(self, pair, directory, delay_ms=0, drop=()):
        self.pair = pair
        self.settings = os.path.join(str(directory), "responder.json")
        self.log = os.path.join(str(directory), "responder.log")
        self.set(delay_ms, drop)
        pair.sysctl(pair.tgt, "net.ipv4.icmp_echo_ignore_all", 1)
        self._log = open(self.log, "ab")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", pair.tgt, sys.executable, self.SCRIPT,
             self.settings], stdout=self._log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL)
        wait_for(lambda: b"ready" in open(self.log, "rb").read(), 10,
                 "the echo responder to start")

    def set(self, delay_ms=0, drop=()):
        tmp = self.settings + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"delay_ms": delay_ms, "drop": sorted(drop)}, f)
        os.replace(tmp, self.settings)

    def answered(self):
        with open(self.log, "rb") as f:
            return f.read().count(b"answered")

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def daemon_in(pair, scenario):
    """A daemon of SCENARIO that will run inside PAIR's "mon"."""
    return pair.in_mon(scenario.daemon())


def unique_dir(prefix):
    """A fresh directory under /tmp that any user may enter."""
    d = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
    os.chmod(d, 0o755)
    return d



# ------------------------------------------------- an unprivileged daemon

NOBODY = ("nobody", "nogroup")


def _nobody_ids():
    import grp
    import pwd
    try:
        return pwd.getpwnam(NOBODY[0]).pw_uid, grp.getgrnam(NOBODY[1]).gr_gid
    except KeyError:
        pytest.skip(f"no user {NOBODY[0]} or group {NOBODY[1]} to run the "
                    f"daemon unprivileged")


def as_nobody(daemon, ns):
    """Run DAEMON in namespace NS as nobody:nogroup with no capabilities
    at all (setpriv from util-linux): no raw sockets."""
    daemon.wrapper = ["ip", "netns", "exec", ns, "setpriv",
                      f"--reuid={NOBODY[0]}", f"--regid={NOBODY[1]}",
                      "--clear-groups", "--inh-caps=-all",
                      "--bounding-set=-all", *daemon.wrapper]
    return daemon


@pytest.fixture
def nobody_daemon():
    """A daemon (not started) whose directory, under /tmp, belongs to
    nobody, so that it can run unprivileged; stopped and removed after."""
    require_root("running the daemon as another user")
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is not installed")
    uid, gid = _nobody_ids()
    d = unique_dir("rtw-nobody-")
    os.chown(d, uid, gid)
    daemon = Daemon(d)
    try:
        yield daemon
    finally:
        found = daemon.cleanup()
        shutil.rmtree(d, ignore_errors=True)
        if found:
            pytest.fail("sanitizer report:\n" + "\n".join(found),
                        pytrace=False)


@pytest.fixture
def netns():
    """One fresh network namespace with its loopback up; removed after."""
    require_root("this scenario")
    name = f"rtw-{os.getpid()}-{next(_counter)}-u"
    p = run("ip", "netns", "add", name, check=False)
    if p.returncode != 0:
        pytest.skip(f"cannot create a network namespace: {p.stderr.strip()}")
    try:
        run("ip", "-n", name, "link", "set", "lo", "up")
        yield name
    finally:
        run("ip", "netns", "del", name, check=False)


@contextlib.contextmanager
def ns_server(ns, script, args, cwd, what):
    """SCRIPT (Python source) run with ARGS in network namespace NS, once
    it printed "ready"; killed afterwards.  WHAT names it in the error."""
    p = subprocess.Popen(["ip", "netns", "exec", ns, "/usr/bin/python3",
                          "-c", script, *args], cwd=cwd,
                         stdout=subprocess.PIPE, text=True)
    sel = selectors.DefaultSelector()
    sel.register(p.stdout, selectors.EVENT_READ)
    try:
        assert sel.select(15) and p.stdout.readline() == "ready\n", \
            f"{what} did not start"
        yield p
    finally:
        sel.close()
        p.kill()
        p.wait()
        p.stdout.close()
