"""rtowatch verify: the timeline's hash chain catches tampering.

A real database (cli_records.py) is copied, and each copy is tampered
with the sqlite3 module the way someone with the file would: a row edited,
a row deleted, a row inserted in the middle (the append-only triggers
dropped first, as they must be), the newest row removed.  verify names the
first row changed, inserted or removed and exits 1; on the untouched file
it exits 0 with the count and head, which an independent Python
implementation of the chain (chain.h) recomputes.
"""
import hashlib
import re
import sqlite3

import pytest

import cli_records
from conftest import cli


@pytest.fixture(scope="module")
def rec(tmp_path_factory):
    return cli_records.recorded(tmp_path_factory)


def chain_hash(prev, row_id, incident, warning, at, event, actor, detail,
               records=None):
    """chain.h, written again from its description: the records the row
    binds, when it has any, are an eighth field."""
    h = hashlib.sha256(prev.encode())
    fields = [str(row_id), str(incident or 0), str(warning or 0), at,
              event, actor, detail]
    if records:
        fields.append(records)
    for field in fields:
        data = field.encode()
        h.update(f"{len(data)}:".encode() + data + b",")
    return h.hexdigest()


def rows(db):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute("SELECT id, incident_id, warning_id, at, event,"
                           " actor, detail, prev_hash, hash, records"
                           " FROM timeline ORDER BY id").fetchall()
    finally:
        con.close()


def tamper(rec, tmp_path, name, *sql, params=()):
    db = cli_records.copy(rec.db, str(tmp_path / f"{name}.db"))
    con = sqlite3.connect(db)
    with con:
        con.execute("DROP TRIGGER timeline_no_update")
        con.execute("DROP TRIGGER timeline_no_delete")
        for i, statement in enumerate(sql):
            con.execute(statement, params[i] if i < len(params) else ())
    con.close()
    return db


def verify(db, *args):
    return cli("--db", db, "verify", *args)


def test_untouched_chain_verifies_with_count_and_head(rec):
    all_rows = rows(rec.db)
    assert len(all_rows) >= 10, "the scenario should have written events"
    prev = "0" * 64
    for r in all_rows:
        assert r[7] == prev, f"row {r[0]}: prev_hash does not link"
        prev = chain_hash(prev, *r[:7], r[9])
        assert r[8] == prev, f"row {r[0]}: the daemon's hash differs"
    before = open(rec.db, "rb").read()
    rc, out, err = verify(rec.db)
    assert rc == 0, err
    assert out.splitlines()[0] == (f"timeline chain OK: {len(all_rows)} "
                                   f"rows, head {prev}")
    assert out.splitlines()[1].startswith("records OK: "), out
    assert open(rec.db, "rb").read() == before, "verify changed the file"


def test_edited_row_is_named(rec, tmp_path):
    db = tamper(rec, tmp_path, "edited", "UPDATE timeline SET detail ="
                " 'nothing happened' WHERE id = 3")
    rc, out, err = verify(db)
    assert rc == 1, (rc, out, err)
    assert "timeline row 3 was changed" in err, err
    assert "2 rows verified" in err, err
    assert "chain OK" not in out


def test_edited_time_is_named(rec, tmp_path):
    db = tamper(rec, tmp_path, "time", "UPDATE timeline SET at ="
                " '2026-01-01T00:00:00.000Z' WHERE id = 5")
    rc, out, err = verify(db)
    assert rc == 1 and "timeline row 5 was changed" in err, err


def test_deleted_row_is_named(rec, tmp_path):
    db = tamper(rec, tmp_path, "deleted", "DELETE FROM timeline WHERE id = 4")
    rc, out, err = verify(db)
    assert rc == 1, (rc, out, err)
    assert "timeline row 4 was removed" in err, err
    db = tamper(rec, tmp_path, "deleted2",
                "DELETE FROM timeline WHERE id IN (4, 5, 6)")
    rc, out, err = verify(db)
    assert rc == 1 and "timeline rows 4 to 6 were removed" in err, err
    db = tamper(rec, tmp_path, "deleted1", "DELETE FROM timeline WHERE id = 1")
    rc, out, err = verify(db)
    assert rc == 1 and "timeline row 1 was removed" in err, err


def test_inserted_row_is_named(rec, tmp_path):
    """A forger who knows the chain makes row 4 link to row 3 properly and
    renumbers the rows after it; the old row 4 still links to row 3."""
    r3 = rows(rec.db)[2]
    forged = (4, r3[1], None, r3[3], "reported", "ims-mallory",
              "reported in time, ticket FAKE-1")
    h = chain_hash(r3[8], *forged)
    db = tamper(rec, tmp_path, "inserted",
                "UPDATE timeline SET id = -id WHERE id >= 4",
                "UPDATE timeline SET id = 1 - id WHERE id < 0",
                "INSERT INTO timeline (id, incident_id, warning_id, at,"
                " event, actor, detail, prev_hash, hash)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                params=((), (), (*forged, r3[8], h)))
    rc, out, err = verify(db)
    assert rc == 1, (rc, out, err)
    assert "timeline row 4 was inserted" in err, err


def test_appended_row_without_the_chain_is_named(rec, tmp_path):
    last = rows(rec.db)[-1]
    db = tamper(rec, tmp_path, "appended",
                "INSERT INTO timeline (incident_id, at, event, actor,"
                " detail, prev_hash, hash) VALUES (1, ?, 'closed',"
                " 'ims-mallory', '', ?, ?)",
                params=((last[3], last[8], "f" * 64),))
    rc, out, err = verify(db)
    assert rc == 1, (rc, out, err)
    assert re.search(rf"timeline row {last[0] + 1} was changed", err), err


def test_head_printed_on_a_register_tells_removed_newest_rows(rec, tmp_path):
    """Removing the newest rows leaves a valid chain: the head printed on
    an earlier register is what shows it."""
    rc, out, err = cli("--db", rec.db, "register", "--format", "csv")
    assert rc == 0, err
    head = out.splitlines()[1].rsplit(",", 1)[1]
    n = len(rows(rec.db))
    rc, out, err = verify(rec.db, "--head", head)
    assert rc == 0, err
    assert f"head {head} is row {n}; 0 rows were added after it" in out
    db = tamper(rec, tmp_path, "truncated",
                f"DELETE FROM timeline WHERE id = {n}")
    # A shorter chain is still a chain, but the newest row bound the
    # records its step wrote (#3 damage controlled): they no longer match.
    rc, out, err = verify(db)
    assert rc == 1, (rc, out, err)
    assert "timeline chain is intact" in err, err
    assert "incidents row 3, column controlled_at: does not match" in err
    rc, out, err = verify(db, "--head", head)
    assert rc == 1, (rc, out, err)
    assert f"head {head} is not in the chain" in err, err
    # The head of an older copy, with events added since, is found.
    older = rows(rec.db)[n - 3][8]
    rc, out, err = verify(rec.db, "--head", older)
    assert rc == 0 and f"is row {n - 2}; 2 rows were added after it" in out


def test_bad_head_is_a_usage_error(rec):
    rc, out, err = verify(rec.db, "--head", "xyz")
    assert rc == 2 and "--head" in err, err
