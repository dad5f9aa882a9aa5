"""Many systems fail and come back while the disk is full: every change of
the groups the database refused is written afterwards, in order, with
its true times.

The probe results of one turn of the loop are written as one transaction
(a savepoint each, one COMMIT).  On a full disk that COMMIT is what fails
(the WAL has to grow): the group is rolled back, and each change in it
must then be held in memory like a change refused on its own, not lost
with the rollback while the daemon goes on as if it were written.  The
filler and the emptied WAL are test_store_disk_full.py's; the tmpfs is
larger (written back one transaction each, thirty systems' changes grow
the WAL by megabytes).  Needs root for the mount; skipped otherwise.
"""
import os
import re
import sqlite3

import pytest

from conftest import (api, cli, db_rows, incidents, now_ms, parse_time,
                      rules_file, system_rules, wait_for, wait_socket)
from test_store_disk_full import SLACK_MS, fill, state_of, tmpfs_disk

N = 30


@pytest.fixture
def small_disk(tmp_path):
    # Thirty systems' changes held and replayed outgrow test_store_disk_full's
    # 2 MB.
    with tmpfs_disk(tmp_path, "24m") as mnt:
        yield mnt


def test_groups_refused_by_a_full_disk_are_written_later(scenario,
                                                         small_disk):
    lst = [scenario.listener() for _ in range(N)]
    names = [f"svc{i}" for i in range(N)]
    d = scenario.daemon()
    db = d.db = str(small_disk / "rtowatch.db")
    d.write_rules(rules_file(db, *[
        system_rules(n, l.port, every="200ms", down_after=1, up_after=1)
        for n, l in zip(names, lst)]))
    d.start()
    wait_socket(d.sock)
    wait_for(lambda: all(state_of(d, n) == "up" for n in names), 20,
             "every system up")

    con = sqlite3.connect(db, timeout=5)
    busy, _, _ = con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    con.close()
    assert busy == 0, "the WAL could not be emptied"
    filler = fill(small_disk)
    try:
        down = now_ms()
        for l in lst:
            l.stop()
        down_slack = SLACK_MS + now_ms() - down
        wait_for(lambda: len(re.findall(r"svc\d+: down since .*incident "
                                        r"\d+ opened", d.run_log())) == N,
                 10, f"all {N} outages seen while the disk is full")
        up = now_ms()
        for l in lst:
            l.start()
        up_slack = SLACK_MS + now_ms() - up
        wait_for(lambda: len(re.findall(r"svc\d+ back at .*incident \d+ "
                                        r"restored", d.run_log())) == N,
                 10, f"all {N} back while the disk is full")
        assert re.search(r"refuses writes \(database or disk is full\)",
                         d.run_log()), d.tail()
        code, body = api(d.sock, "GET", "/v1/status")
        assert body["store"]["failing"] is True, body["store"]
        assert body["store"]["held"] >= 2 * N, body["store"]
        assert incidents(db) == [], \
            "written although the disk is full: the test proves nothing"
    finally:
        os.unlink(filler)

    wait_for(lambda: re.search(r"accepts writes again", d.run_log()), 10,
             "the held changes written once the disk has room")
    rows = incidents(db)
    assert sorted(r["system"] for r in rows) == sorted(names), rows
    for r in rows:
        assert r["status"] == "restored", r
        assert 0 <= parse_time(r["started_at"]) - down <= down_slack, \
            (r, down)
        assert 0 <= parse_time(r["restored_at"]) - up <= up_slack, (r, up)
    outages = db_rows(db, "SELECT system FROM outages WHERE ended_at IS "
                      "NOT NULL")
    assert len(outages) == N, outages
    rc, out, err = cli("--db", db, "verify")
    assert rc == 0, (out, err)
    # The store's retries met the full disk: nothing was dropped as wrong.
    assert "cannot be written and is dropped" not in d.run_log(), d.tail()
    d.stop()
