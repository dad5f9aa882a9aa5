"""The disk under the database is full: an outage that begins and ends
meanwhile is recorded afterwards, with its true times.

The database lives on a small tmpfs of its own, which the test fills with
a dd'd file until the file system has no block left; the WAL is emptied
first (a TRUNCATE checkpoint) so that the daemon's next commit must grow
it and gets ENOSPC, as on a real full disk.  While the disk is full
"alpha" goes down and comes back; the daemon must say the store is
failing and keep probing on time.  The filler is deleted: the outage is
then in the records with the times the test caused it, and the timeline's
chain verifies.  Needs root for the mount; skipped otherwise.
"""
import contextlib
import os
import re
import shutil
import subprocess
import time

import pytest

from conftest import (api, cli, db_rows, incidents_of, now_ms, parse_time,
                      rules_file, system_rules, wait_for, wait_socket)
from storefault import schedule_stats

INTERVAL_MS = 200
SLACK_MS = INTERVAL_MS + 200


def state_of(d, name):
    code, body = api(d.sock, "GET", "/v1/status")
    assert code == 200, body
    return {s["name"]: s["state"] for s in body["systems"]}.get(name)


@contextlib.contextmanager
def tmpfs_disk(tmp_path, size):
    """A tmpfs of SIZE ("2m") at TMP_PATH/disk, unmounted afterwards; the
    test is skipped, with the reason, where it cannot be mounted."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    if shutil.which("mount") is None or shutil.which("dd") is None:
        pytest.skip("mount and dd are needed")
    mnt = tmp_path / "disk"
    mnt.mkdir()
    p = subprocess.run(["mount", "-t", "tmpfs", "-o",
                        f"size={size},mode=0755", "rtowatch-e2e", str(mnt)],
                       capture_output=True, text=True)
    if p.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {p.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


@pytest.fixture
def small_disk(tmp_path):
    with tmpfs_disk(tmp_path, "2m") as mnt:
        yield mnt


def fill(directory):
    """Write zeros into DIRECTORY/filler until the file system is full."""
    filler = os.path.join(str(directory), "filler")
    p = subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=4096"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode != 0 and "No space left" in p.stderr, p.stderr
    st = os.statvfs(str(directory))
    assert st.f_bavail == 0, f"{st.f_bavail} blocks still free"
    return filler


def test_an_outage_while_the_disk_is_full_is_recorded(scenario, small_disk):
    a = scenario.listener()
    b = scenario.listener()
    d = scenario.daemon()
    db = d.db = str(small_disk / "rtowatch.db")
    d.write_rules(rules_file(
        db,
        system_rules("alpha", a.port, every="200ms", down_after=2,
                     up_after=2),
        system_rules("beta", b.port, every="200ms", down_after=2,
                     up_after=2)))
    d.start()
    wait_socket(d.sock)
    wait_for(lambda: state_of(d, "alpha") == "up" and
             state_of(d, "beta") == "up", 20, "both systems up")

    # Nothing left in the WAL to write over: the next commit grows it.
    import sqlite3
    con = sqlite3.connect(str(db), timeout=5)
    busy, _, _ = con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    con.close()
    assert busy == 0, "the WAL could not be emptied"
    filler = fill(small_disk)
    try:
        schedule_stats(d)
        a.stop()
        a_down = now_ms()
        wait_for(lambda: re.search(r"alpha: down since .*incident \d+ "
                                   r"opened", d.run_log()), 10,
                 "alpha's outage seen while the disk is full")
        a.start()
        a_up = now_ms()
        wait_for(lambda: re.search(r"alpha back at .*incident \d+ restored",
                                   d.run_log()), 10,
                 "alpha back while the disk is full")
        assert re.search(r"refuses writes \(database or disk is full\)",
                         d.run_log()), d.tail()
        code, body = api(d.sock, "GET", "/v1/status")
        assert body["store"]["failing"] is True, body["store"]
        assert body["store"]["held"] >= 2, body["store"]
        # A few of the store's retries meet the full disk too.
        full_since = time.monotonic()
        wait_for(lambda: time.monotonic() - full_since > 3, 5,
                 "three seconds of retries against the full disk")
        assert incidents_of(db, "alpha") == [], \
            "written although the disk is full: the test proves nothing"
        rc, out, err = cli("--socket", d.sock, "status")
        assert rc == 0 and "store: FAILING" in out, (out, err)
        started, busy, late, p50, p99 = schedule_stats(d)
        print(f"while the disk was full: {started} probes started, late "
              f"p50 {p50} ms, p99 {p99} ms")
        assert p99 < 100, (p99, d.tail())
    finally:
        os.unlink(filler)

    wait_for(lambda: re.search(r"accepts writes again", d.run_log()), 10,
             "the held changes written once the disk has room")
    alpha = incidents_of(db, "alpha")
    assert len(alpha) == 1, alpha
    assert incidents_of(db, "beta") == [], "a false incident of beta"
    alpha = alpha[0]
    assert 0 <= parse_time(alpha["started_at"]) - a_down <= SLACK_MS, \
        (alpha, a_down)
    assert 0 <= parse_time(alpha["restored_at"]) - a_up <= SLACK_MS, \
        (alpha, a_up)
    assert alpha["status"] == "restored", alpha
    outages = db_rows(db, "SELECT system, started_at, ended_at FROM outages")
    assert outages == [{"system": "alpha",
                        "started_at": alpha["started_at"],
                        "ended_at": alpha["restored_at"]}], outages
    rc, out, err = cli("--db", db, "verify")
    assert rc == 0, (out, err)
    d.stop()
