"""rtowatch verify checks the records the forms print, not only the
timeline (issue 15, item 5).

A real database (cli_records.py) is copied and each copy is edited with
the sqlite3 module the way someone holding the file would, one table at
a time: an incident's level, class, report time and ticket; a clock's
missed deadline; an outage's times; a queued mail; a row added or
removed.  The timeline is not touched, so its chain alone still holds;
verify must name the table, the row and the column that no longer match
and exit 1, and the forms must say they do not verify.  An untouched copy
verifies, and so does a database written before records were bound once
the daemon has upgraded it (a "records baseline" row binds what was
there).  Early warnings and maintenance windows, which the shared records
lack, come from a small scenario of their own.
"""
import hashlib
import sqlite3

import pytest

import cli_records
from conftest import (cli, db_rows, rules_file, system_rules, wait_for,
                      wait_socket)

UTF8 = {"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}


@pytest.fixture(scope="module")
def rec(tmp_path_factory):
    return cli_records.recorded(tmp_path_factory)


def edited(rec, tmp_path, name, *sql, src=None):
    db = cli_records.copy(src or rec.db, str(tmp_path / f"{name}.db"))
    con = sqlite3.connect(db)
    with con:
        for statement in sql:
            con.execute(statement)
    con.close()
    return db


def verify(db):
    return cli("--db", db, "verify")


def refused(db, *named):
    rc, out, err = verify(db)
    assert rc == 1, (rc, out, err)
    assert "chain OK" not in out, out
    for words in named:
        assert words in err, f"{words!r} not named:\n{err}"
    assert "the timeline chain is intact" in err, err
    return err


def test_untouched_records_verify(rec):
    rc, out, err = verify(rec.db)
    assert rc == 0, err
    assert "records OK: " in out, out
    n = sum(db_rows(rec.db, f"SELECT count(*) AS n FROM {t}")[0]["n"]
            for t in ("incidents", "outages", "clocks", "notifications"))
    assert f"records OK: {n} rows" in out, (n, out)


def test_incident_level_and_class_lowered(rec, tmp_path):
    db = edited(rec, tmp_path, "level", "UPDATE incidents SET level = 1,"
                " major = 0 WHERE id = 4")
    err = refused(db, "incidents row 4, column level: does not match",
                  "incidents row 4, column major: does not match")
    assert "incidents row 1" not in err and "incidents row 3" not in err
    # The forms print what is there, and say it does not verify.
    rc, out, err = cli("--db", db, "report", "4", "--lang", "en", env=UTF8)
    assert rc == 0, err
    assert "NOT VERIFIED: incidents row 4, column level" in out, out
    assert "NOT VERIFIED" in err, err
    rc, out, err = cli("--db", db, "register", "--lang", "en", env=UTF8)
    assert rc == 0 and "NOT VERIFIED" in out, out


def test_report_time_and_ticket_forged(rec, tmp_path):
    db = edited(rec, tmp_path, "reported", "UPDATE incidents SET"
                " reported_at = '2020-01-01T00:00:00.000Z', ticket ="
                " 'FORGED-1' WHERE id = 2")
    refused(db, "incidents row 2, column reported_at: does not match",
            "incidents row 2, column ticket: does not match")


def test_missed_deadline_erased(rec, tmp_path):
    clock = db_rows(rec.db, "SELECT id FROM clocks WHERE breached_at IS NOT"
                    " NULL ORDER BY id LIMIT 1")[0]["id"]
    db = edited(rec, tmp_path, "breached", "UPDATE clocks SET breached_at"
                f" = NULL WHERE id = {clock}")
    refused(db, f"clocks row {clock}, column breached_at: does not match")
    db = edited(rec, tmp_path, "stopped", "UPDATE clocks SET stopped_at ="
                f" due_at WHERE id = {clock}")
    refused(db, f"clocks row {clock}, column stopped_at: does not match")


def test_outage_times_moved(rec, tmp_path):
    o = db_rows(rec.db, "SELECT id FROM outages WHERE ended_at IS NOT NULL"
                " AND incident_id IS NOT NULL ORDER BY id LIMIT 1")[0]["id"]
    db = edited(rec, tmp_path, "outage", "UPDATE outages SET ended_at ="
                f" started_at, cause = 'nothing' WHERE id = {o}")
    refused(db, f"outages row {o}, column ended_at: does not match",
            f"outages row {o}, column cause: does not match")


def test_notification_rewritten_but_delivery_tries_unbound(rec, tmp_path):
    n = db_rows(rec.db, "SELECT id FROM notifications ORDER BY id DESC"
                " LIMIT 1")[0]["id"]
    db = edited(rec, tmp_path, "mail", "UPDATE notifications SET"
                f" recipient = 'nobody' WHERE id = {n}")
    refused(db, f"notifications row {n}, column recipient: does not match")
    # Form 01 prints when a mail went out: a forged delivery is named.
    db = edited(rec, tmp_path, "sent", "UPDATE notifications SET"
                " state = 'sent', sent_at = '2026-01-01T00:00:00.000Z'"
                f" WHERE id = {n}")
    refused(db, f"notifications row {n}, column sent_at: does not match")
    db = edited(rec, tmp_path, "delivery", "UPDATE notifications SET"
                " attempts = attempts + 1, last_error = 'refused'"
                f" WHERE id = {n}")
    rc, out, err = verify(db)
    assert rc == 0, (out, err)


def test_rows_added_and_removed(rec, tmp_path):
    db = edited(rec, tmp_path, "added", "INSERT INTO incidents (kind,"
                " system, core, critical_infrastructure, rto_ms, level,"
                " availability_level, major, status, started_at, opened_at,"
                " notify_due_at) SELECT kind, system, core,"
                " critical_infrastructure, rto_ms, level, availability_level,"
                " major, status, started_at, opened_at, notify_due_at FROM"
                " incidents WHERE id = 1")
    refused(db, "incidents row 5 is not in the chain")
    o = db_rows(rec.db, "SELECT max(id) AS id FROM outages")[0]["id"]
    db = edited(rec, tmp_path, "removed", "DELETE FROM outages WHERE id ="
                f" {o}")
    refused(db, f"outages row {o} was removed")


def test_forms_print_the_head_they_were_checked_against(rec):
    rc, out, err = verify(rec.db)
    head = out.splitlines()[0].rsplit(" ", 1)[1]
    rc, out, err = cli("--db", rec.db, "report", "3", "--lang", "en",
                       env=UTF8)
    assert rc == 0, err
    assert f"records verified against the chain head {head}" in out, out
    rc, out, err = cli("--db", rec.db, "register", env=UTF8)
    assert rc == 0 and f"已依雜湊鏈首 {head}" in out, out


def chain_hash(prev, row_id, incident, warning, at, event, actor, detail):
    """chain.h's hash of a row written before records were bound."""
    h = hashlib.sha256(prev.encode())
    for field in (str(row_id), str(incident or 0), str(warning or 0), at,
                  event, actor, detail):
        data = field.encode()
        h.update(f"{len(data)}:".encode() + data + b",")
    return h.hexdigest()


def downgrade(db):
    """DB as schema version 3 wrote it, before records were bound: no
    records column, no reported_entered_at nor drill_factor, the first
    append-only trigger, the chain hashed without records."""
    con = sqlite3.connect(db)
    with con:
        con.execute("DROP TRIGGER timeline_no_update")
        con.execute("DROP TRIGGER timeline_no_delete")
        con.execute("ALTER TABLE timeline DROP COLUMN records")
        con.execute("ALTER TABLE incidents DROP COLUMN reported_entered_at")
        # Migration 6 (the close clock, drills) came after records too.
        con.execute("ALTER TABLE incidents DROP COLUMN drill_factor")
        # Migration 7 (the response-time history) too.
        con.execute("DROP TABLE response_history")
        con.execute("DROP TABLE response_checks")
        # Migration 9 (cancelled maintenance windows) too.
        con.execute("ALTER TABLE maintenance DROP COLUMN cancelled_at")
        con.execute("ALTER TABLE maintenance DROP COLUMN cancelled_by")
        # Migrations 10, 12 and 14 (observations, each one's latest,
        # their time's index, which goes with its table) too.
        con.execute("DROP TABLE observations_latest")
        con.execute("DROP TABLE observations")
        # Migration 11 (nodes, the leaders' count, outbox claims) too.
        con.execute("DROP TABLE nodes")
        con.execute("DROP TABLE lead_term")
        con.execute("ALTER TABLE notifications DROP COLUMN claimed_by")
        con.execute("ALTER TABLE notifications DROP COLUMN claimed_until")
        # Migration 13 (the scope's index by outage) too.
        con.execute("DROP INDEX incident_scope_outage")
        # Migration 15 (the incidents' index by system) too.
        con.execute("DROP INDEX incidents_system")
        # Migration 16 (the incidents' index by start) too.
        con.execute("DROP INDEX incidents_started")
        prev = "0" * 64
        for r in con.execute("SELECT id, incident_id, warning_id, at,"
                             " event, actor, detail FROM timeline"
                             " ORDER BY id").fetchall():
            h = chain_hash(prev, *r)
            con.execute("UPDATE timeline SET prev_hash = ?, hash = ?"
                        " WHERE id = ?", (prev, h, r[0]))
            prev = h
        con.execute("CREATE TRIGGER timeline_no_update BEFORE UPDATE ON"
                    " timeline BEGIN SELECT RAISE(ABORT, 'the timeline is"
                    " append-only'); END")
        con.execute("CREATE TRIGGER timeline_no_delete BEFORE DELETE ON"
                    " timeline BEGIN SELECT RAISE(ABORT, 'the timeline is"
                    " append-only'); END")
        con.execute("PRAGMA user_version = 3")
    con.close()


def test_database_written_before_records_verifies_after_upgrade(
        rec, scenario, tmp_path):
    d = scenario.daemon("old")
    cli_records.copy(rec.db, d.db)
    downgrade(d.db)
    n = db_rows(d.db, "SELECT count(*) AS n FROM timeline")[0]["n"]
    rc, out, err = verify(d.db)
    assert rc == 1 and "start rtowatchd once to upgrade it" in err, err

    svc = scenario.listener()
    d.write_rules(rules_file(d.db, system_rules("upgraded", svc.port)))
    d.start()
    wait_socket(d.sock)
    d.stop()
    # The first row the upgraded daemon writes binds what was there
    # (the clocks of the open incident #4 may run on after it).
    base = db_rows(d.db, "SELECT id, event, detail, records FROM timeline"
                   " WHERE id > ? ORDER BY id", n)
    assert base and base[0]["event"] == "records baseline", base
    assert "from version 3 to" in base[0]["detail"], base
    assert "incidents 4 " in base[0]["records"], base
    assert "records baseline" not in [b["event"] for b in base[1:]], base
    rc, out, err = verify(d.db)
    assert rc == 0, err
    assert f"timeline chain OK: {n + len(base)} rows" in out, out
    # From then on an edit shows.
    db = edited(rec, tmp_path, "after-upgrade", "UPDATE incidents SET"
                " major = 0 WHERE id = 4", src=d.db)
    refused(db, "incidents row 4, column major: does not match")


def test_warnings_and_maintenance_are_bound(scenario, tmp_path):
    svc = scenario.listener()
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, system_rules("library", svc.port)))
    d.start()
    wait_socket(d.sock)
    rc, out, err = cli("--socket", d.sock, "warning", "open", "--source",
                       "N-ASOC", "--reference", "NASOC-1107", "--summary",
                       "beaconing to 192.0.2.7", "--system", "library")
    assert rc == 0, err
    rc, out, err = cli("--socket", d.sock, "maintenance", "add", "library",
                       "--for", "1h", "--reason", "kernel update")
    assert rc == 0, err
    wait_for(lambda: db_rows(d.db, "SELECT 1 FROM maintenance"), 10,
             "the maintenance window")
    d.stop()
    rc, out, err = verify(d.db)
    assert rc == 0, err
    w = db_rows(d.db, "SELECT id FROM warnings")[0]["id"]
    m = db_rows(d.db, "SELECT id FROM maintenance")[0]["id"]
    db = edited(None, tmp_path, "warning", "UPDATE warnings SET state ="
                f" 'false-positive', reason = 'nothing' WHERE id = {w}",
                src=d.db)
    refused(db, f"warnings row {w}, column state: does not match",
            f"warnings row {w}, column reason: does not match")
    db = edited(None, tmp_path, "maint", "UPDATE maintenance SET ends_at ="
                f" '2099-01-01T00:00:00.000Z' WHERE id = {m}", src=d.db)
    refused(db, f"maintenance row {m}, column ends_at: does not match")


def column_hash(table, row_id, col, value):
    """chain.c's column hash, written again from the README: SHA-256 over
    the netstrings of table, row and column, then N for NULL or V and the
    value's netstring; its first 128 bits in hex."""
    def ns(b):
        return f"{len(b)}:".encode() + b + b","
    h = hashlib.sha256(ns(table.encode()) + ns(str(row_id).encode())
                       + ns(col.encode()))
    if value is None:
        h.update(b"N")
    else:
        h.update(b"V" + ns(str(value).encode()))
    return h.hexdigest()[:32]


def test_record_lines_are_what_the_readme_says(rec):
    """The latest line bound for incident #3 is its row, column by column,
    as an independent implementation computes it."""
    con = sqlite3.connect(f"file:{rec.db}?mode=ro", uri=True)
    try:
        cur = con.execute("SELECT * FROM incidents WHERE id = 3")
        cols = [c[0] for c in cur.description]
        row = cur.fetchone()
        lines = [l for (r,) in con.execute(
            "SELECT records FROM timeline WHERE records IS NOT NULL"
            " ORDER BY id") for l in r.split("\n")
            if l.startswith("incidents 3 ")]
    finally:
        con.close()
    want = "incidents 3 " + " ".join(
        f"{c}={column_hash('incidents', 3, c, v)}" for c, v in
        zip(cols, row))
    assert lines and lines[-1] == want, (lines[-1:], want)


def test_contacts_are_bound(scenario, tmp_path):
    """Form 01 lists who was told, how and when: a contact moved in time
    or given another channel is named by verify."""
    svc = scenario.listener()
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, system_rules("library", svc.port)))
    d.start()
    wait_socket(d.sock)
    rc, out, err = cli("--socket", d.sock, "open", "--system", "library",
                       "--level", "1", "--reason", "a person found it")
    assert rc == 0, err
    i = db_rows(d.db, "SELECT id FROM incidents")[0]["id"]
    rc, out, err = cli("--socket", d.sock, "contact", str(i), "--to",
                       "區網中心", "--by", "phone")
    assert rc == 0, err
    d.stop()
    rc, out, err = verify(d.db)
    assert rc == 0, err
    c = db_rows(d.db, "SELECT id FROM contacts")[0]["id"]
    db = edited(None, tmp_path, "contact", "UPDATE contacts SET channel ="
                f" 'fax', at = '2026-01-01T00:00:00.000Z' WHERE id = {c}",
                src=d.db)
    refused(db, f"contacts row {c}, column channel: does not match",
            f"contacts row {c}, column at: does not match")
