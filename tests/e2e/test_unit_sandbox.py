"""The unit's sandbox does not break the daemon.

There is no systemd to start the unit here, so the scenario checks the
sandbox against what the daemon really does: it runs the release daemon
as systemd would run it (an unprivileged account, CAP_NET_RAW ambient,
nothing else in the bounding set) under strace, through ping, TCP and
HTTP checks on loopback, an outage that opens an incident, a reload and
a stats signal, and a stop.  Then every system call it made must be
allowed by the unit's SystemCallFilter= (as systemd-analyze expands the
groups), every socket family by RestrictAddressFamilies=, and no mapping
may be writable and executable (MemoryDenyWriteExecute=).
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile

import pytest

from conftest import (BIN_DIR, REPO, STOP_TIMEOUT, binary, rules_file,
                      system_rules, wait_for, wait_incident)
from http_target import http_system, http_targets  # noqa: F401
from pinglib import ping_system

UNIT = os.path.join(REPO, "systemd", "rtowatchd.service")
NOBODY = 65534


def unit_values(key):
    with open(UNIT, encoding="utf-8") as f:
        return [m.group(1).split() for m in
                re.finditer(rf"^{key}=(.*)$", f.read(), re.M)]


def syscall_groups():
    out = subprocess.run(["systemd-analyze", "syscall-filter"],
                         capture_output=True, text=True, check=True,
                         timeout=60).stdout
    groups, cur = {}, None
    for line in out.splitlines():
        if line.startswith("@"):
            cur = groups.setdefault(line.strip(), set())
        elif cur is not None and line.strip() and \
                not line.strip().startswith("#"):
            cur.add(line.strip())
    return groups


def expand(names, groups):
    out = set()
    for n in names:
        if n.startswith("@"):
            out |= expand(groups[n], groups)
        else:
            out.add(n)
    return out


def allowed_syscalls():
    """SystemCallFilter= lines in order: an allow list, then ~ removals."""
    groups = syscall_groups()
    allowed = None
    for words in unit_values("SystemCallFilter"):
        if words[0].startswith("~"):
            words[0] = words[0][1:]
            allowed -= expand(words, groups)
        else:
            allowed = (allowed or set()) | expand(words, groups)
    return allowed


def test_daemon_stays_inside_the_unit_sandbox(scenario, http_targets):
    if os.geteuid() != 0:
        pytest.skip("running the daemon as another account needs root")
    for tool in ("strace", "setpriv", "systemd-analyze"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    if os.path.basename(BIN_DIR) == "asan":
        pytest.skip("the sandbox is for the release build; ASan makes "
                    "system calls of its own")
    top = tempfile.mkdtemp(prefix="rtowatch-sandbox-")
    os.chown(top, NOBODY, NOBODY)
    os.chmod(top, 0o750)
    trace = os.path.join(top, "trace")
    proc = None
    try:
        closed = scenario.closed_port()
        up = scenario.listener()
        web = http_targets()
        rules = os.path.join(top, "rtowatchd.conf")
        db = os.path.join(top, "rtowatchd.db")
        with open(rules, "w", encoding="utf-8") as f:
            f.write(rules_file(
                db, system_rules("closed", closed),
                system_rules("fine", up.port),
                ping_system("lo4", "127.0.0.1"),
                http_system("web", web.url())))
        os.chmod(rules, 0o644)
        log = open(os.path.join(top, "log"), "wb")
        # systemd's end of sd_notify, so READY=1 and the watchdog pings
        # are part of the trace.
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify.bind(os.path.join(top, "notify"))
        os.chmod(os.path.join(top, "notify"), 0o666)
        env = dict(os.environ, NOTIFY_SOCKET=os.path.join(top, "notify"),
                   WATCHDOG_USEC="200000")
        proc = subprocess.Popen(
            ["strace", "-f", "-qq", "-o", trace, "setpriv",
             f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
             "--inh-caps=+net_raw", "--ambient-caps=+net_raw",
             "--bounding-set=-all,+net_raw", "--",
             binary("rtowatchd"), "-d", "-v", "-f", rules],
            cwd="/", env=env, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT)

        def text():
            with open(log.name, encoding="utf-8", errors="replace") as f:
                return f.read()

        def daemon_pid():
            for t in os.listdir(f"/proc/{proc.pid}/task"):
                with open(f"/proc/{proc.pid}/task/{t}/children") as f:
                    kids = f.read().split()
                if kids:
                    return int(kids[0])
            return None

        wait_for(lambda: proc.poll() is not None or
                 " started: rules " in text(), 30, "the daemon to start")
        assert proc.poll() is None, text()
        wait_for(lambda: "lo4: ping 127.0.0.1: ok" in text(), 20,
                 "a successful ping through the raw socket")
        wait_for(lambda: web.requests, 20, "an http probe")
        wait_incident(db, "closed", timeout=20)
        pid = daemon_pid()
        os.kill(pid, signal.SIGUSR1)
        os.kill(pid, signal.SIGHUP)
        wait_for(lambda: "reloading" in text(), 10, "the reload")
        os.kill(pid, signal.SIGTERM)
        assert proc.wait(timeout=STOP_TIMEOUT) == 0, text()
        assert "datagram ICMP socket" not in text(), text()
        notify.setblocking(False)
        got = []
        try:
            while True:
                got.append(notify.recv(4096))
        except BlockingIOError:
            pass
        notify.close()
        # READY=1 once, then the watchdog's pings (a STATUS= line may
        # come first: "leading", as the one node of an SQLite register).
        assert any(b"READY=1" in g for g in got) and b"WATCHDOG=1\n" in \
            b"\n".join(got) + b"\n", got
        with open(trace, encoding="utf-8", errors="replace") as f:
            lines = f.readlines()
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(top, ignore_errors=True)

    calls, families, wx = set(), set(), []
    started = False
    for line in lines:
        if not started:
            started = re.search(r'execve\("[^"]*rtowatchd"', line)
            continue
        m = re.match(r"\d+\s+(?:<\.\.\. )?([a-z0-9_]+)[( ]", line)
        if m:
            calls.add(m.group(1))
        s = re.search(r"\bsocket\((AF_\w+)", line)
        if s:
            families.add(s.group(1))
        p = re.search(r"\b(mmap|mprotect|pkey_mprotect)\(.*?"
                      r"(PROT_[A-Z_|]+)", line)
        if p and "PROT_EXEC" in p.group(2) and (
                "PROT_WRITE" in p.group(2) or p.group(1) != "mmap"):
            wx.append(line.strip())
    assert started and calls, "no trace of rtowatchd"
    print("system calls:", " ".join(sorted(calls)))
    denied = sorted(calls - allowed_syscalls())
    assert not denied, f"SystemCallFilter= would refuse {denied}"
    allowed_af = set(unit_values("RestrictAddressFamilies")[0])
    assert families <= allowed_af, \
        f"RestrictAddressFamilies= lacks {families - allowed_af}"
    assert not wx, f"MemoryDenyWriteExecute= would refuse {wx}"
