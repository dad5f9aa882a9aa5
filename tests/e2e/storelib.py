"""What the database-file scenarios share: a daemon watching two systems
on loopback, an outage made on demand, and the daemon's own figures of
how late its probes started.

The database file is taken away under the running daemon the way an
administrator would (rm of the file and its -wal and -shm, or an mv of
another SQLite file over it); the scenarios then check what the daemon
did and what a restart finds in the file.
"""
import os
import re
import signal
import sqlite3
import time

from conftest import (db_rows, incidents, rules_file, show, system_rules,
                      wait_for, wait_incident)

FIRST = "ledger"      # fails before the file is taken away
SECOND = "payroll"    # fails after
NOTICE_S = 5          # the daemon must have noticed and repaired by then

_SCHEDULE = re.compile(r"schedule: (\d+) probes started, (\d+) skipped "
                       r"\(running\), (\d+) skipped \(loop late\); late "
                       r"p50 ([\d.]+) ms, p99 ([\d.]+) ms")


class Watched:
    """A daemon watching FIRST and SECOND (and a witness that never
    fails), every 200 ms."""

    def __init__(self, scenario):
        self.first = scenario.listener()
        self.second = scenario.listener()
        self.witness = scenario.listener()
        self.d = scenario.daemon()
        self.d.write_rules(rules_file(
            self.d.db,
            system_rules(FIRST, self.first.port, down_after=3, up_after=2),
            system_rules(SECOND, self.second.port, down_after=3,
                         up_after=2),
            system_rules("witness", self.witness.port)))

    def start(self):
        self.d.start()
        self.witness.wait_accepted(3, what="the daemon's first probes")

    def outage(self, lst, system):
        """Make SYSTEM fail until it has an incident, then come back
        until the incident is restored; return the incident."""
        lst.stop()
        wait_incident(self.d.db, system)
        lst.start()
        return wait_incident(self.d.db, system, restored=True)

    def schedule(self):
        """SIGUSR1: the daemon logs, and clears, its count of probe
        starts since the last one; return (started, skipped, p99 ms)."""
        before = self.d.log().count("schedule:")
        self.d.proc.send_signal(signal.SIGUSR1)
        wait_for(lambda: self.d.log().count("schedule:") > before, 10,
                 "the schedule line after SIGUSR1")
        m = _SCHEDULE.findall(self.d.log())[-1]
        return int(m[0]), int(m[1]) + int(m[2]), float(m[4])

    def wait_repaired(self, t0, what):
        """Within NOTICE_S of T0 (monotonic), the log says the file was
        written back and a file is at the path again."""
        d = self.d
        wait_for(lambda: "was written back to it" in d.run_log()
                 and os.path.exists(d.db), NOTICE_S - (time.monotonic()
                                                       - t0),
                 f"the daemon to notice that its database was {what} and "
                 f"write it back, within {NOTICE_S} s")
        took = time.monotonic() - t0
        assert took <= NOTICE_S, f"noticed after {took:.1f} s"
        return took


def host_rows(db):
    """The timeline rows about no incident: the daemon's own events."""
    return db_rows(db, "SELECT event, actor, detail FROM timeline WHERE"
                   " incident_id IS NULL AND warning_id IS NULL"
                   " ORDER BY id")


def check_records(db, before, after):
    """Both incidents, whole, with their timelines, are in the file DB."""
    rows = {i["id"]: i for i in incidents(db)}
    for inc in (before, after):
        assert inc["id"] in rows, (f"incident {inc['id']} of "
                                   f"{inc['system']} is missing: {rows}")
        got = rows[inc["id"]]
        for key in ("system", "started_at", "opened_at", "restored_at",
                    "level"):
            assert got[key] == inc[key], (key, inc, got)
        events = [e["event"] for e in show(db, inc["id"])["timeline"]]
        assert "opened" in events and "restored" in events, \
            f"incident {inc['id']}: timeline {events}"
    assert len(rows) == 2, f"expected exactly the two incidents: {rows}"


def pad(db, megabytes):
    """MEGABYTES of rows in a table of the administrator's own, written
    while the daemon is stopped: a database of a size that takes the
    daemon many turns of its loop to copy.  Not one of the tables bound to
    the chain (chain.c), so that verify still passes on it."""
    con = sqlite3.connect(db)
    reason = "replacement of the core switches, planned with the vendor " * 8
    n = megabytes * 1024 * 1024 // (len(reason) + 16)
    with con:
        con.execute("CREATE TABLE IF NOT EXISTS site_archive (note TEXT)")
        con.executemany("INSERT INTO site_archive VALUES (?)",
                        ((f"{i}: {reason}",) for i in range(n)))
    con.close()


def sqlite_file(path, value):
    """Another SQLite database, in WAL mode, with one table and row."""
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE foreign_data (v TEXT)")
    con.execute("INSERT INTO foreign_data VALUES (?)", (value,))
    con.commit()
    con.close()
