"""The database file is deleted under the running daemon.

An administrator removes the database and its -wal and -shm files while
rtowatchd runs (a clean-up script, a mistaken rm).  SQLite goes on writing
through the descriptors it holds, so before this was handled every later
record went into a file nobody could open, and a restart found an empty
database.  Now the daemon notices within 5 s, writes the open database
back to its path, says so in its log and its timeline, and goes on
recording there: an outage before the removal and one after are both in
the file after a restart, and the hash chain verifies.  The probes keep
their schedule meanwhile (the daemon's own count of skipped starts and
its p99 lateness), though the database holds 64 MB of past maintenance
windows: the copy takes many turns of the loop.  Copied in one turn, it
held the loop about 200 ms here, a whole interval of the probes, and
some were skipped; 16 MB in one turn was 95 ms late, not told apart from
a loaded host's noise.
"""
import os
import re
import time

import storelib
from conftest import HEAVY, asan, cli
from storelib import FIRST, SECOND, Watched

PAD_MB = 64
# Half the probes' interval.  The copy in one turn was 194 ms late at
# 64 MB (some starts skipped); in steps, with the fsync and the deleted
# file's close each in one turn at the end, 66-107 ms (ASan as release:
# it is SQLite and the kernel); with each in a turn of its own, 19-49 ms.
# The ASan build beside three other scenarios is seen 150 ms late with no
# repair at all: under it a copy in one turn is told by the starts skipped.
LATE_MS = 300 if asan() else 100


@HEAVY
def test_deleted_database_is_written_back(scenario):
    w = Watched(scenario)
    d = w.d
    w.start()
    d.stop()
    storelib.pad(d.db, PAD_MB)
    w.start()
    before = w.outage(w.first, FIRST)

    w.schedule()        # clears the daemon's counts
    t0 = time.monotonic()
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(d.db + suffix):
            os.unlink(d.db + suffix)
    took = w.wait_repaired(t0, "deleted")
    assert "database file was deleted" in d.run_log()
    assert "nothing recorded was lost" in d.run_log()
    pages = int(re.search(r"the open database \((\d+) pages\)",
                          d.run_log()).group(1))
    assert pages > PAD_MB * 256, f"only {pages} pages copied"
    # The probes went on while it was noticed and repaired.
    w.witness.wait_accepted(3, what="probes after the repair")
    started, skipped, p99 = w.schedule()
    assert started > 0 and skipped == 0, (
        f"{skipped} probe starts skipped while the database was copied "
        f"({started} started): the loop was held a whole interval")
    assert p99 < LATE_MS, (f"probe starts late by {p99} ms (p99) during "
                           f"repair (bound {LATE_MS} ms)")

    # What is recorded from now on goes to the file on the path.
    after = w.outage(w.second, SECOND)
    storelib.check_records(d.db, before, after)
    d.stop()

    d.start()
    w.witness.wait_accepted(3, what="probes after the restart")
    storelib.check_records(d.db, before, after)
    host = storelib.host_rows(d.db)
    assert [r["event"] for r in host] == ["database file restored"], host
    assert "was deleted" in host[0]["detail"], host
    d.stop()
    rc, out, err = cli("--db", d.db, "verify")
    assert rc == 0 and "timeline chain OK" in out, (rc, out, err)
    print(f"noticed and written back {took:.2f} s after the rm; "
          f"probe start p99 {p99} ms over {started} starts")
