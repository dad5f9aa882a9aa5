"""The one-hour notification clock (5.3.7.3.1), with a clock of seconds.

An outage opens an incident; nobody records the portal report, so the
reminders come before the deadline, in order, then the missed deadline,
each once, each in the timeline and queued as a notification to the
people the policy names for the level.  The restore clock stops when the
service is back.
"""
import pytest

from conftest import (db_rows, events, incidents, parse_time, rules_file,
                      short_policy, system_rules, timeline, wait_for,
                      wait_incident)

# Issue 21: the same scenario with the register in PostgreSQL.
pytestmark = pytest.mark.both_backends

NOTIFY_MS = 4000


def test_reminders_then_deadline_missed(scenario):
    svc = scenario.listener()
    d = scenario.daemon()
    policy = short_policy(scenario.dir, notify="4s", notify_remind="3s 1s")
    d.write_rules(rules_file(d.db, system_rules(
        "mail", svc.port, core=True, rto="1h", every="200ms",
        timeout="100ms"), policy=policy))
    d.start()
    svc.wait_accepted(2)
    svc.stop()
    inc = wait_incident(d.db, "mail")
    opened = parse_time(inc["opened_at"])
    assert parse_time(inc["notify_due_at"]) - opened == NOTIFY_MS

    wait_for(lambda: events(d.db, inc["id"], "notify deadline missed"), 15,
             "the missed notify deadline in the timeline")
    names = [e["event"] for e in timeline(d.db, inc["id"])]
    assert names[:4] == ["opened", "notify reminder", "notify reminder",
                         "notify deadline missed"], names
    rem = events(d.db, inc["id"], "notify reminder")
    # 3 s and 1 s before the deadline, not before, not much after.
    for e, before in zip(rem, (3000, 1000)):
        at = parse_time(e["at"])
        assert opened + NOTIFY_MS - before <= at <= \
            opened + NOTIFY_MS - before + 1500, (e, inc)
        assert "late" not in e["detail"], e
    missed = events(d.db, inc["id"], "notify deadline missed")[0]
    assert parse_time(missed["at"]) >= opened + NOTIFY_MS
    assert "late" not in missed["detail"], missed

    # Level 2 (core, in time): the unit head is told each time, the CISO
    # never (5.3.8).
    notes = db_rows(d.db, "SELECT recipient, event, subject, state FROM "
                    "notifications WHERE incident_id = ? ORDER BY id",
                    inc["id"])
    assert {n["recipient"] for n in notes} == {"unit-head"}, notes
    assert [n["event"] for n in notes] == [
        "down, incident opened", "notify reminder", "notify reminder",
        "notify deadline missed"], notes
    assert all(n["state"] == "queued" for n in notes)
    assert all("level 2" in n["subject"] and "mail" in n["subject"]
               for n in notes), notes

    clocks = db_rows(d.db, "SELECT kind, level, reminders_done, "
                     "breached_at, stopped_at FROM clocks WHERE "
                     "incident_id = ? ORDER BY id", inc["id"])
    kinds = {c["kind"]: c for c in clocks}
    assert set(kinds) == {"notify", "restore"}, clocks
    assert kinds["notify"]["reminders_done"] == 2
    assert kinds["notify"]["breached_at"] is not None
    assert kinds["restore"]["stopped_at"] is None

    # Back: restore stops, and level 2 opens no report clock; nothing
    # fired twice meanwhile.
    before = len(timeline(d.db, inc["id"]))
    svc.start()
    wait_incident(d.db, "mail", restored=True)
    clocks = db_rows(d.db, "SELECT kind, stopped_at, stopped_by FROM clocks "
                     "WHERE incident_id = ?", inc["id"])
    restore = [c for c in clocks if c["kind"] == "restore"]
    assert restore and restore[0]["stopped_at"] is not None, clocks
    assert "restored" in restore[0]["stopped_by"]
    assert not [c for c in clocks if c["kind"] == "report"], clocks
    names = [e["event"] for e in timeline(d.db, inc["id"])]
    assert names.count("notify deadline missed") == 1, names
    assert names.count("notify reminder") == 2, names
    assert len(names) == before + 1 and names[-1] == "restored", names
    assert len(incidents(d.db)) == 1
    d.stop()
