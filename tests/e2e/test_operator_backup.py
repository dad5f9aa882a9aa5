"""`rtowatch backup FILE`: a copy of a live database, made while the
daemon writes (a flapping system opens and restores incidents every few
hundred milliseconds), that a second rtowatch reads on its own: one file,
no -wal beside it, journal mode DELETE, the same incidents and a chain
that verifies.  It refuses to overwrite a file unless --force.
(issue 17: "cp gives not an rtowatch database (schema version 0)".)
"""
import json
import os
import re
import shutil
import threading
import time

from conftest import (cli, db_rows, rules_file, system_rules,
                      wait_incident, wait_socket)


def flap(svc, stop, deadline):
    """Stop and start SVC until told to, at most 60 times, 20 s."""
    for _ in range(60):
        if stop.is_set() or time.monotonic() > deadline:
            break
        if svc.listening:
            svc.stop()
        else:
            svc.start()
        stop.wait(0.25)
    if not svc.listening:
        svc.start()


def check_copy(copy):
    """The copy alone, as an auditor's rtowatch reads it: its incidents."""
    assert not os.path.exists(copy + "-wal"), "the copy needs a -wal file"
    with open(copy, "rb") as f:
        header = f.read(20)
    assert header[:16] == b"SQLite format 3\0", header
    assert header[18] == 1 and header[19] == 1, \
        f"the copy is still in WAL mode: {header[18]}, {header[19]}"
    rc, out, err = cli("--db", copy, "incidents", "--format", "json")
    assert rc == 0, err
    rows = json.loads(out)
    rc, vout, verr = cli("--db", copy, "verify")
    assert rc == 0 and "timeline chain OK" in vout, (vout, verr)
    return rows


def test_backup_under_load(scenario):
    svc = scenario.listener()
    d = scenario.daemon()
    # Four systems on the one flapping service: each failure and return
    # is an outage, an incident or its "failed again", clocks, mail.
    names = ["catalogue", "loans", "opac", "ill"]
    d.write_rules(rules_file(d.db, *(system_rules(
        n, svc.port, every="100ms", timeout="50ms", down_after=1,
        up_after=1) for n in names)))
    d.start()
    wait_socket(d.sock)
    svc.stop()
    for n in names:
        wait_incident(d.db, n)
    svc.start()
    wait_incident(d.db, "catalogue", restored=True)

    stop = threading.Event()
    t = threading.Thread(target=flap, args=(svc, stop,
                                            time.monotonic() + 20))
    t.start()
    try:
        copies = []
        start = db_rows(d.db, "SELECT count(*) AS n FROM timeline")[0]["n"]
        deadline = time.monotonic() + 15
        for i in range(40):
            copy = os.path.join(scenario.dir, f"audit-{i}.db")
            rc, out, err = cli("--db", d.db, "backup", copy)
            assert rc == 0, (out, err)
            m = re.search(r"verified: integrity ok, schema version \d+, "
                          r"(\d+) incident\(s\)", out)
            assert m, out
            rows = check_copy(copy)
            assert len(rows) == int(m.group(1)), (rows, out)
            copies.append(db_rows(copy, "SELECT count(*) AS n FROM "
                                  "timeline")[0]["n"])
            grown = db_rows(d.db, "SELECT count(*) AS n FROM "
                            "timeline")[0]["n"] - start
            if (grown >= 40 and i >= 3) or time.monotonic() > deadline:
                break
    finally:
        stop.set()
        t.join(30)
    # The daemon was writing all along: the copies differ, and grow.
    assert copies == sorted(copies) and copies[0] < copies[-1], copies
    last = len(copies) - 1

    # A copy of the copy, on the auditor's own disk, reads the same.
    aud = os.path.join(scenario.dir, "auditor")
    os.mkdir(aud)
    shutil.copy(os.path.join(scenario.dir, f"audit-{last}.db"), aud)
    os.chmod(os.path.join(aud, f"audit-{last}.db"), 0o444)
    os.chmod(aud, 0o555)
    try:
        check_copy(os.path.join(aud, f"audit-{last}.db"))
    finally:
        os.chmod(aud, 0o755)

    # Not over an existing file unless asked.
    first = os.path.join(scenario.dir, "audit-0.db")
    before = open(first, "rb").read()
    rc, out, err = cli("--db", d.db, "backup", first)
    assert rc == 1 and "--force" in err, (out, err)
    assert open(first, "rb").read() == before
    d.stop()
    rc, out, err = cli("--db", d.db, "backup", "--force", first)
    assert rc == 0, (out, err)
    # Stopped, nothing moves: the copy holds exactly what the file does.
    live = db_rows(d.db, "SELECT count(*) AS n FROM incidents")[0]["n"]
    assert len(check_copy(first)) == live
    assert db_rows(first, "SELECT count(*) AS n FROM timeline") == \
        db_rows(d.db, "SELECT count(*) AS n FROM timeline")
    assert [f for f in os.listdir(scenario.dir) if ".tmp-" in f] == []


def test_backup_of_a_tampered_database_is_kept_and_said(scenario):
    svc = scenario.listener()
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, system_rules("catalogue", svc.port)))
    d.start()
    wait_socket(d.sock)
    svc.stop()
    iid = wait_incident(d.db, "catalogue")["id"]
    d.stop()
    import sqlite3
    con = sqlite3.connect(d.db)
    with con:
        con.execute("UPDATE incidents SET cause = 'nothing happened' "
                    "WHERE id = ?", (iid,))
    con.close()
    copy = os.path.join(scenario.dir, "evidence.db")
    rc, out, err = cli("--db", d.db, "backup", copy)
    assert rc == 1, (out, err)
    assert "NOT VERIFIED" in err and "incidents" in err, err
    # The copy is the database as it is, for whoever investigates.
    assert db_rows(copy, "SELECT cause FROM incidents WHERE id = ?",
                   iid)[0]["cause"] == "nothing happened"
    rc, vout, verr = cli("--db", copy, "verify")
    assert rc == 1, (vout, verr)
