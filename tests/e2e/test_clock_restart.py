"""kill -9 while three clocks run; start again after all their deadlines.

The clocks live in the database, so the restarted daemon re-arms them:
each missed deadline is recorded once, marked late, and the reminders
that fell due while it was down are not sent after the deadline they
were meant to warn of.  A second restart records nothing new.
"""
import pytest

from conftest import (db_rows, events, now_ms, parse_time, rules_file,
                      short_policy, system_rules, timeline, wait_for,
                      wait_incident)

# Issue 21: the same scenario with the register in PostgreSQL.
pytestmark = pytest.mark.both_backends


def test_kill9_with_three_clocks_then_restart(scenario):
    svc = scenario.listener()
    d = scenario.daemon()
    # Core business of critical infrastructure: level 3 at opening, 4
    # after the 1 s RTO, which adds a notify clock of its own (5.4.2).
    policy = short_policy(scenario.dir, notify="4s", notify_remind="2s",
                          restore34="6s", restore_remind="3s")
    d.write_rules(rules_file(d.db, system_rules(
        "sso", svc.port, core=True, ci=True, rto="1s", every="200ms",
        timeout="100ms"), policy=policy))
    d.start()
    svc.wait_accepted(2)
    svc.stop()
    inc = wait_incident(d.db, "sso")
    assert inc["level"] == 3
    wait_for(lambda: events(d.db, inc["id"], "reclassified"), 10,
             "the escalation at the RTO")

    def open_clocks():
        return db_rows(d.db, "SELECT id, kind, level, due_at FROM clocks "
                       "WHERE incident_id = ? AND stopped_at IS NULL "
                       "AND breached_at IS NULL ORDER BY id", inc["id"])

    clocks = open_clocks()
    # The restore clock runs on for the raised level (its deadline is
    # the same 36 h for 3 and 4); the level 3 notify clock stays its own.
    assert [(c["kind"], c["level"]) for c in clocks] == [
        ("notify", 3), ("restore", 4), ("notify", 4)], clocks
    d.kill9()
    before = [e["event"] for e in timeline(d.db, inc["id"])]
    assert not [e for e in before if "missed" in e], before

    # Past every deadline by more than the daemon's 2 s of grace, so
    # each is late when the daemon comes back.
    last_due = max(parse_time(c["due_at"]) for c in clocks)
    wait_for(lambda: now_ms() > last_due + 2500, 15,
             "every deadline passing while the daemon is down")
    d.start()
    wait_for(lambda: len([e for e in timeline(d.db, inc["id"])
                          if e["event"].endswith("deadline missed")]) == 3,
             10, "three missed deadlines after the restart")
    after = timeline(d.db, inc["id"])
    new = after[len(before):]
    missed = [e for e in new if e["event"].endswith("deadline missed")]
    assert sorted(e["event"] for e in missed) == [
        "notify deadline missed", "notify deadline missed",
        "restore deadline missed"], new
    for e in missed:
        assert "late by" in e["detail"], e
    # Reminders meant for before the deadline are not sent after it.
    assert not [e for e in new if e["event"].endswith("reminder")], new
    # The CISO is told of the level 3 and 4 misses (5.3.8).
    notes = db_rows(d.db, "SELECT recipient, event FROM notifications "
                    "WHERE incident_id = ? AND event LIKE '%missed'",
                    inc["id"])
    assert sorted(n["recipient"] for n in notes) == \
        ["ciso"] * 3 + ["unit-head"] * 3, notes

    # Service back: restore stops, the level-4 report clock starts.
    svc.start()
    wait_incident(d.db, "sso", restored=True)
    report = db_rows(d.db, "SELECT level, started_at, due_at FROM clocks "
                     "WHERE incident_id = ? AND kind = 'report'", inc["id"])
    assert len(report) == 1 and report[0]["level"] == 4, report

    # A clean restart: nothing fires again, nothing is doubled.
    count = len(timeline(d.db, inc["id"]))
    d.stop()
    d.start()
    svc.wait_accepted(svc.accepted + 3, what="probes after the restart")
    assert len(timeline(d.db, inc["id"])) == count, timeline(d.db, inc["id"])
    assert len(db_rows(d.db, "SELECT 1 FROM incidents")) == 1
    d.stop()
