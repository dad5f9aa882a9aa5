"""Helpers for the scenarios where the database refuses writes: another
process holding its write lock (a real sqlite3 shell), and the daemon's
own figures of how late its probes started."""
import re
import signal
import sqlite3
import subprocess

from conftest import wait_for

SCHEDULE_RE = re.compile(
    r"schedule: (\d+) probes started, (\d+) skipped \(running\), (\d+) "
    r"skipped \(loop late\); late p50 ([\d.]+) ms, p99 ([\d.]+) ms")


class Locker:
    """`sqlite3 DB` holding the write lock: BEGIN EXCLUSIVE and a SELECT,
    then the transaction stays open until release().  The shell is fed on
    its stdin and answers each SELECT on its stdout, so the test knows
    when it holds the lock and when it has let go."""

    def __init__(self, db):
        self.db = str(db)
        self.proc = subprocess.Popen(
            ["sqlite3", "-batch", self.db], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            bufsize=1)
        self._say("BEGIN EXCLUSIVE; SELECT 'locked';", "locked")
        assert not self.writable(), \
            "sqlite3 said BEGIN EXCLUSIVE, yet the database takes writes"

    def _say(self, sql, answer):
        self.proc.stdin.write(sql + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline().strip()
        assert line == answer, f"sqlite3 {self.db}: {sql!r} -> {line!r}"

    def writable(self):
        """Can another connection begin a write now, without waiting?"""
        con = sqlite3.connect(self.db, timeout=0, isolation_level=None)
        try:
            con.execute("BEGIN IMMEDIATE")
            con.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError as e:
            assert "locked" in str(e) or "busy" in str(e), e
            return False
        finally:
            con.close()

    def release(self):
        if self.proc is None:
            return
        self._say("COMMIT; SELECT 'released';", "released")
        self.proc.stdin.close()
        self.proc.wait(timeout=10)
        self.proc = None

    def close(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None


def schedule_stats(d):
    """SIGUSR1, then the daemon's own figures since the last SIGUSR1:
    (started, skipped running, skipped late, p50 ms, p99 ms)."""
    before = d.log().count("schedule:")
    d.proc.send_signal(signal.SIGUSR1)
    wait_for(lambda: d.log().count("schedule:") > before, 10,
             "the schedule line after SIGUSR1")
    m = SCHEDULE_RE.findall(d.log())
    assert m, f"no schedule line with lateness figures\n{d.tail()}"
    s = m[-1]
    return int(s[0]), int(s[1]), int(s[2]), float(s[3]), float(s[4])
