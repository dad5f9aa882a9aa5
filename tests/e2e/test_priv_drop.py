"""Started as root with "set user", the daemon becomes that user.

Outside systemd (a computer center may start it from a script or by
hand) rtowatchd opens its raw ICMP socket and its database as root, then
becomes the account of "set user"/"set group" and keeps CAP_NET_RAW and
nothing else.  The scenario creates a throwaway system account and group,
starts the daemon as root, and looks at what a system administrator would
look at: /proc/PID/status (the uids, gids and capability sets), the
database's owner and mode, and that pings of 127.0.0.1 still succeed and
an outage is still written to the database after the drop.
"""
import grp
import itertools
import os
import pwd
import shutil
import stat
import subprocess
import tempfile

import pytest

from conftest import (rules_file, socket_path, system_rules, wait_for,
                      wait_incident)
from pinglib import ping_system, wait_pings

CAP_NET_RAW = 13
_n = itertools.count(1)


def run(*cmd):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, f"{cmd}: {p.stderr}"


@pytest.fixture
def account():
    """A system user and group of its own, removed afterwards."""
    if os.geteuid() != 0:
        pytest.skip("dropping privileges needs the daemon started as root")
    for tool in ("useradd", "userdel", "groupadd", "groupdel"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (package passwd)")
    name = f"rtwe2e{os.getpid() % 100000}{next(_n)}"
    group = name + "g"
    run("groupadd", "--system", group)
    run("useradd", "--system", "--no-create-home", "--home-dir",
        "/nonexistent", "--shell", "/usr/sbin/nologin", name)
    try:
        yield name, group
    finally:
        subprocess.run(["userdel", name], capture_output=True)
        subprocess.run(["groupdel", group], capture_output=True)
        subprocess.run(["groupdel", name], capture_output=True)


def proc_status(pid):
    with open(f"/proc/{pid}/status", encoding="utf-8") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f
                    if ":\t" in line)


def test_root_start_drops_to_user_with_cap_net_raw_only(scenario, account):
    user, group = account
    uid = pwd.getpwnam(user).pw_uid
    gid = grp.getgrnam(group).gr_gid
    # pytest's own directories are root's and 0700: the state directory
    # lives where the service user can reach it, and the daemon makes
    # the last level itself, as it would make /var/lib/rtowatch.
    top = tempfile.mkdtemp(prefix="rtowatch-priv-")
    os.chmod(top, 0o755)
    try:
        db = os.path.join(top, "state", "rtowatch.db")
        sock = socket_path(db)
        closed = scenario.closed_port()
        d = scenario.daemon()
        d.write_rules(f'set user "{user}"\nset group "{group}"\n'
                      + rules_file(
                          db,
                          ping_system("lo4", "127.0.0.1", every="300ms",
                                      timeout="250ms"),
                          system_rules("closed", closed)))
        d.start()
        wait_for(lambda: f"running as {user} " in d.run_log(), 20,
                 f"the daemon to drop to {user}")
        st = proc_status(d.proc.pid)
        assert st["Uid"].split() == [str(uid)] * 4, st["Uid"]
        assert st["Gid"].split() == [str(gid)] * 4, st["Gid"]
        assert st["Groups"].split() == [str(gid)], st["Groups"]
        only_raw = 1 << CAP_NET_RAW
        for key in ("CapEff", "CapPrm", "CapBnd"):
            assert int(st[key], 16) == only_raw, \
                f"{key} {st[key]}: expected cap_net_raw only"
        assert int(st["CapInh"], 16) == 0 and int(st["CapAmb"], 16) == 0
        assert st["NoNewPrivs"] == "1"

        # After the drop: still pinging through the raw socket ...
        wait_pings(d, "127.0.0.1", count=3)
        assert "datagram ICMP socket" not in d.run_log(), d.tail()
        # ... and still writing the records.
        wait_incident(db, "closed")
        for path in (db, os.path.dirname(db)):
            s = os.stat(path)
            assert (s.st_uid, s.st_gid) == (uid, gid), path
        assert stat.S_IMODE(os.stat(db).st_mode) == 0o640
        assert stat.S_IMODE(os.stat(os.path.dirname(db)).st_mode) == 0o750
        # The control socket: bound by the account in a directory made
        # for it, so that it can also remove it at exit.
        wait_for(lambda: os.path.exists(sock), 10, f"the socket {sock}")
        for path in (sock, os.path.dirname(sock)):
            assert os.stat(path).st_uid == uid, path
        for side in ("-wal", "-shm"):
            if os.path.exists(db + side):
                s = os.stat(db + side)
                assert (s.st_uid, stat.S_IMODE(s.st_mode)) == (uid, 0o640)
        d.stop()
        assert not os.path.exists(sock), "socket left behind at exit"
    finally:
        shutil.rmtree(top, ignore_errors=True)


def test_unknown_user_refused(scenario):
    if os.geteuid() != 0:
        pytest.skip("the account is only looked up when started as root")
    d = scenario.daemon()
    d.write_rules('set user "no-such-rtowatch-user"\n'
                  + rules_file(d.db, system_rules("x", 9)))
    d.start()
    d.expected_running = False
    wait_for(lambda: not d.running, 15, "the daemon to refuse to start")
    assert d.returncode == 1
    assert 'set user "no-such-rtowatch-user": no such user' in d.log()
    assert not os.path.exists(d.db)
