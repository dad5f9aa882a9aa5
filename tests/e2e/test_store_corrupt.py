"""Damaged pages in the middle of the database.

A disk error or a copy cut short leaves garbage in a page of the
timeline.  Before this was handled rtowatchd started on such a file
without a word (nothing read at start touches that page) and went on
writing on top of the damage, until the next event failed to append;
only verify noticed, as an unexplained "malformed" error.  Now the daemon runs PRAGMA quick_check at start,
refuses to start (exit non-zero) and says what SQLite found and how to
recover; rtowatch verify reports the damage too and exits 1.  The way
to recover it gives works: followed as written (with the sqlite3 tool),
it yields a file that verifies and that the daemon starts on.
"""
import os
import shutil
import sqlite3
import subprocess

import pytest

from conftest import cli, db_rows, wait_for
from storelib import FIRST, Watched

GARBAGE = b"\xde\xad\xbe\xef" * 1024


def page_of(db, table):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        size = con.execute("PRAGMA page_size").fetchone()[0]
        count = con.execute("PRAGMA page_count").fetchone()[0]
        root = con.execute("SELECT rootpage FROM sqlite_master WHERE"
                           " type = 'table' AND name = ?",
                           (table,)).fetchone()[0]
        return size, count, root
    finally:
        con.close()


def quick_check(db):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return [r[0] for r in con.execute("PRAGMA quick_check")]
    except sqlite3.DatabaseError as e:
        return [str(e)]
    finally:
        con.close()


def test_damaged_database_is_refused_at_start(scenario):
    w = Watched(scenario)
    d = w.d
    w.start()
    w.outage(w.first, FIRST)
    d.stop()
    assert not os.path.exists(d.db + "-wal"), \
        "a clean stop should leave everything in the database file"
    assert quick_check(d.db) == ["ok"]

    # The timeline's page, in the middle of the file, overwritten as dd
    # conv=notrunc would.
    size, count, root = page_of(d.db, "timeline")
    assert 1 < root < count, (root, count)
    with open(d.db, "r+b") as f:
        f.seek((root - 1) * size)
        f.write(GARBAGE[:size])
    found = quick_check(d.db)
    assert found != ["ok"], "the damage should be visible to quick_check"

    d.start()
    wait_for(lambda: not d.running, 10, "rtowatchd to refuse the file")
    d.expected_running = False
    assert d.returncode != 0, f"exit {d.returncode}\n{d.tail()}"
    log = d.run_log()
    assert "the database is damaged" in log and "quick_check" in log, log
    assert "rtowatch --db NEW.db verify" in log, log
    assert f"page {root}:" in log.lower(), log
    assert " started: rules " not in log, "it started on a damaged file"

    rc, out, err = cli("--db", d.db, "verify")
    assert rc != 0, (rc, out, err)
    assert "damaged" in err and "quick_check" in err, err
    # What SQLite found is named: the damaged page.
    assert f"page {root}:" in err.lower(), err
    assert "rtowatch --db NEW.db verify" in err, err

    # The salvage, as the daemon wrote it, to a new file.
    if shutil.which("sqlite3") is None:
        pytest.skip("the sqlite3 tool is not installed (scripts/deps.sh "
                    "check installs it)")
    recipe = [line.strip() for line in log.splitlines()
              if line.strip().startswith("sqlite3 ")]
    assert len(recipe) == 1, log
    new = os.path.join(scenario.dir, "salvaged.db")
    p = subprocess.run(["sh", "-c", recipe[0].replace("NEW.db", new)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, (recipe, p.stdout, p.stderr)
    # The damaged page held the timeline: the salvaged file has the
    # records but not the chain that bound them, and verify says so
    # rather than passing it as a register an auditor can trust.
    rc, out, err = cli("--db", new, "verify")
    assert rc == 1 and "is not in the chain" in err, (rc, out, err)
    assert "quick_check" not in err, (rc, out, err)
    # What the damage spared is there: the incident itself.
    assert [r["system"] for r in db_rows(new, "SELECT system FROM"
                                         " incidents")] == [FIRST]
    for suffix in ("-wal", "-shm"):
        if os.path.exists(d.db + suffix):
            os.unlink(d.db + suffix)
    os.replace(new, d.db)
    w.start()
    assert "the database is damaged" not in d.run_log()
    d.stop()
