"""Another SQLite file is moved over the database under the running
daemon.

Someone restores an old copy, or moves a file to the wrong name, over the
database while rtowatchd runs.  Before this was handled the daemon went on
writing into the file that had been replaced, which no longer had a name:
its records were lost at the next restart, and the file in its place was
an unrelated one.  Now the daemon notices within 5 s, keeps the file it
found as DB.replaced-TIME (untouched: it is someone's), writes its own
open database back to the path and goes on recording there; after a
restart the outages before and after are both in the file, the timeline
says what happened, and the chain verifies.
"""
import glob
import os
import sqlite3
import time

import storelib
from conftest import cli
from storelib import FIRST, SECOND, Watched


def test_replaced_database_is_kept_aside_and_written_back(scenario):
    w = Watched(scenario)
    d = w.d
    w.start()
    before = w.outage(w.first, FIRST)

    foreign = os.path.join(scenario.dir, "old-copy.db")
    storelib.sqlite_file(foreign, "someone else's data")
    w.schedule()
    t0 = time.monotonic()
    os.rename(foreign, d.db)
    took = w.wait_repaired(t0, "replaced")
    log = d.run_log()
    assert "was replaced by another file" in log, log

    # The file found in its place is kept, as it was.
    aside = glob.glob(d.db + ".replaced-*")
    assert len(aside) == 1, os.listdir(scenario.dir)
    assert f"kept as {aside[0]}" in log, log
    con = sqlite3.connect(f"file:{aside[0]}?mode=ro", uri=True)
    assert con.execute("SELECT v FROM foreign_data").fetchall() == \
        [("someone else's data",)]
    con.close()
    started, skipped, p99 = w.schedule()
    assert started > 0 and skipped == 0, (started, skipped)
    assert p99 < 100, f"probe starts late by {p99} ms (p99) during repair"

    after = w.outage(w.second, SECOND)
    storelib.check_records(d.db, before, after)
    d.stop()

    d.start()
    w.witness.wait_accepted(3, what="probes after the restart")
    storelib.check_records(d.db, before, after)
    host = storelib.host_rows(d.db)
    assert [r["event"] for r in host] == ["database file restored"], host
    assert aside[0] in host[0]["detail"], host
    d.stop()
    rc, out, err = cli("--db", d.db, "verify")
    assert rc == 0 and "timeline chain OK" in out, (rc, out, err)
    print(f"noticed and written back {took:.2f} s after the mv; "
          f"probe start p99 {p99} ms over {started} starts")
