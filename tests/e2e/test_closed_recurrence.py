"""A closed record never changes (5.4.7.3.6): a failure after closing, even
within the policy's reopen window, opens a new incident that names the
closed one as the one it recurs.

A core system (level 2 in time, 3 when major) with a 2 s RTO and a 30 s
reopen window goes down, comes back, and its incident is closed.  It then
fails again and stays down past its RTO.  Before the fix the closed
incident took the new outage: its level went 2 -> 3 and it became major
while it still said closed and "within the RTO: yes", with a level-3
notify clock that nobody could stop, and `incidents --status open` did
not list the system that was down.
"""
import json
import sqlite3

import pytest

from conftest import (cli, db_rows, incidents, incidents_of, rules_file,
                      short_policy, show, system_rules, wait_for,
                      wait_incident, wait_socket)


def test_failure_after_closing_opens_a_recurrence(scenario):
    svc = scenario.listener()
    d = scenario.daemon()
    policy = short_policy(scenario.dir, notify="1h", notify_remind="10m",
                          reopen="30s")
    d.write_rules(rules_file(d.db, system_rules(
        "library", svc.port, core=True, rto="2s", down_after=2),
        policy=policy))
    d.start()
    wait_socket(d.sock)
    svc.wait_accepted(2)

    svc.stop()
    first = wait_incident(d.db, "library")
    svc.start()
    first = wait_incident(d.db, "library", restored=True)
    assert first["level"] == 2 and first["within_rto"] is True, first
    fid = first["id"]
    for verb in (["set", fid, "scope", "the library catalogue"],
                 ["set", fid, "measures", "restarted the service"],
                 ["reported", fid, "--ticket", "AISAC-15"],
                 ["portal-closed", fid, "--result", "restored, closed"],
                 ["close", fid]):
        rc, out, err = cli("--socket", d.sock, *verb)
        assert rc == 0, (verb, err)
    closed = {
        "incident": db_rows(d.db, "SELECT * FROM incidents WHERE id = ?",
                            fid),
        "clocks": db_rows(d.db, "SELECT * FROM clocks WHERE "
                          "incident_id = ? ORDER BY id", fid),
        "outages": db_rows(d.db, "SELECT * FROM outages WHERE "
                           "incident_id = ? ORDER BY id", fid),
        "scope": db_rows(d.db, "SELECT * FROM incident_scope WHERE "
                         "incident_id = ? ORDER BY id", fid),
    }
    assert closed["incident"][0]["status"] == "closed"

    # Down again within the reopen window, and past the RTO.
    svc.stop()
    new = wait_for(lambda: next((i for i in incidents_of(d.db, "library")
                                 if i["id"] != fid and i["major"]), None),
                   15, "a new incident of library, major after its RTO")
    assert new["recurrence_of"] == fid, new
    assert new["status"] == "open" and new["level"] == 3, new

    # The closed record is as it was, to the byte.
    assert closed == {
        "incident": db_rows(d.db, "SELECT * FROM incidents WHERE id = ?",
                            fid),
        "clocks": db_rows(d.db, "SELECT * FROM clocks WHERE "
                          "incident_id = ? ORDER BY id", fid),
        "outages": db_rows(d.db, "SELECT * FROM outages WHERE "
                           "incident_id = ? ORDER BY id", fid),
        "scope": db_rows(d.db, "SELECT * FROM incident_scope WHERE "
                         "incident_id = ? ORDER BY id", fid),
    }
    assert not [e for e in show(d.db, fid)["timeline"]
                if e["event"] in ("failed again", "reclassified")]

    # The system that is down is among the open incidents.
    rc, out, err = cli("--db", d.db, "incidents", "--status", "open",
                       "--format", "json")
    assert rc == 0, err
    assert [(i["id"], i["system"]) for i in json.loads(out)] \
        == [(new["id"], "library")], out

    # Shown as a recurrence: show, JSON, form 01.
    rc, out, err = cli("--db", d.db, "show", new["id"])
    assert rc == 0 and f"recurrence of incident:  {fid}\n" in out, out
    assert show(d.db, new["id"])["recurrence_of"] == fid
    assert show(d.db, fid)["recurrence_of"] is None
    opened = [e for e in show(d.db, new["id"])["timeline"]
              if e["event"] == "opened"]
    assert f"a recurrence of incident {fid}, which was closed" in \
        opened[0]["detail"], opened
    rc, out, err = cli("--db", d.db, "report", new["id"], "--lang", "en")
    assert rc == 0, err
    assert f"incident #{fid}, which was closed" in out, out

    # Nothing changes a closed record, not even a direct write.
    con = sqlite3.connect(d.db, timeout=5)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="closed"):
            con.execute("UPDATE incidents SET level = 4 WHERE id = ?",
                        (fid,))
        with pytest.raises(sqlite3.DatabaseError, match="closed"):
            con.execute("INSERT INTO clocks (incident_id, kind, level, "
                        "started_at, due_at) VALUES (?, 'notify', 3, "
                        "'2026-01-01T00:00:00.000Z', "
                        "'2026-01-01T01:00:00.000Z')", (fid,))
    finally:
        con.rollback()
        con.close()

    svc.start()
    back = wait_for(lambda: next((i for i in incidents(d.db)
                                  if i["id"] == new["id"]
                                  and i["restored_at"]), None), 10,
                    "the new incident restored")
    assert back["within_rto"] is False
    d.stop()
