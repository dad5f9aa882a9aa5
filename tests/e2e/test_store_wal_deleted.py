"""The database's -wal and -shm files are deleted under the running
daemon, and the daemon then crashes.

An administrator tidying /var/lib/rtowatch takes the -wal and -shm files
for leftovers and removes them while rtowatchd runs.  In WAL mode the
newest records live in the -wal file until a checkpoint: before this was
handled the daemon went on appending to a -wal file nobody could see, and
a crash (kill -9) lost all of it.  Now the daemon notices within 5 s,
writes the open database back to its path, and what it records next goes
to the new file's own -wal: after kill -9 and a restart, the outages
before and after are both in the file and the chain verifies.
"""
import os
import time

import storelib
from conftest import cli
from storelib import FIRST, SECOND, Watched


def test_deleted_wal_is_written_back_and_survives_a_crash(scenario):
    w = Watched(scenario)
    d = w.d
    w.start()
    before = w.outage(w.first, FIRST)
    assert os.path.getsize(d.db + "-wal") > 0, "expected records in the WAL"

    t0 = time.monotonic()
    for suffix in ("-wal", "-shm"):
        os.unlink(d.db + suffix)
    w.wait_repaired(t0, "left without its -wal file")
    assert "lost its -wal" in d.run_log(), d.run_log()

    after = w.outage(w.second, SECOND)
    d.kill9()

    d.start()
    w.witness.wait_accepted(3, what="probes after the restart")
    storelib.check_records(d.db, before, after)
    d.stop()
    rc, out, err = cli("--db", d.db, "verify")
    assert rc == 0 and "timeline chain OK" in out, (rc, out, err)
