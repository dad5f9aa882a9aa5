"""The wall clock jumps two hours forward under a running daemon.

An incident is open with its notification due in an hour, its outage an
hour from its RTO and a restore reminder an hour away.  Then the
daemon's wall clock moves +2 h (as after `date -s`, or a VM resumed after
a two-hour pause): every one of those wall-clock deadlines has passed.
Within 2 s of the jump each fires: the notify deadline is missed, the
incident is reclassified major at its RTO, the restore reminder comes,
each queued to the people the policy names, and each that is late says
it is late because the wall clock jumped, not that rtowatchd was not
running.  The jump is in the incident's timeline.  Probes keep their
schedule, which runs on the monotonic clock.  (Before the fix the loop's
timers still waited out their hour.)
"""
from conftest import (db_rows, events, incidents, now_ms, parse_time,
                      rules_file, short_policy, system_rules, timeline,
                      wait_for, wait_incident)
from faketimelib import FakeClock, schedule_stats

JUMP_S = 2 * 3600
SOON_MS = 2000          # each deadline fires this soon after the jump


def test_jump_forward_fires_passed_deadlines(scenario):
    clock = FakeClock(scenario.dir)
    svc = scenario.listener()
    d = scenario.daemon()
    # Level 1 (not core) at opening, level 2 past the 1 h RTO; notify
    # within 1 h; restore within 3 h, reminded 2 h before (at +1 h).
    policy = short_policy(scenario.dir, notify="1h", notify_remind="30m",
                          restore12="3h", restore34="4h",
                          restore_remind="2h")
    d.write_rules(rules_file(d.db, system_rules(
        "web", svc.port, rto="1h", every="200ms", timeout="100ms"),
        policy=policy))
    d.start(env=clock.env())
    svc.wait_accepted(2)
    svc.stop()
    inc = wait_incident(d.db, "web")
    assert (inc["level"], inc["major"]) == (1, 0), inc
    opened = parse_time(inc["opened_at"])
    assert [e["event"] for e in timeline(d.db, inc["id"])] == ["opened"]

    schedule_stats(d)           # clears the daemon's counts
    jumped = now_ms() + JUMP_S * 1000   # the daemon's wall clock, now
    clock.jump(+JUMP_S)
    wanted = ("notify deadline missed", "reclassified", "restore reminder")
    wait_for(lambda: all(events(d.db, inc["id"], w) for w in wanted), 10,
             "the deadlines the jump passed, fired")
    wanted += ("clock jump",)
    wait_for(lambda: events(d.db, inc["id"], "clock jump"), 5,
             "the jump in the timeline")
    tl = timeline(d.db, inc["id"])
    for w in wanted:
        got = [e for e in tl if e["event"] == w]
        assert len(got) == 1, (w, tl)
        late = parse_time(got[0]["at"]) - jumped
        assert late <= SOON_MS, (
            f"{w} recorded {late} ms after the jump", got[0])
        print(f"+2h: {w} recorded {late} ms after the jump")

    jump = events(d.db, inc["id"], "clock jump")[0]
    assert "+2h" in jump["detail"], jump
    names = [e["event"] for e in tl]
    assert names.index("clock jump") < names.index(
        "notify deadline missed"), names

    # Late, and why: the clock jumped over them while rtowatchd ran.
    for w in ("notify deadline missed", "restore reminder"):
        e = events(d.db, inc["id"], w)[0]
        assert "late by 1h" in e["detail"], e
        assert "wall clock jumped forward" in e["detail"], e
        assert "not running" not in e["detail"], e
    missed = events(d.db, inc["id"], "notify deadline missed")[0]
    assert "level 1" in missed["detail"], missed
    # The reminder for the restore deadline, an hour ahead of it.
    rem = events(d.db, inc["id"], "restore reminder")[0]
    assert "in 59m" in rem["detail"] or "in 1h" in rem["detail"], rem

    # Major at the RTO: level 2, a notify clock of its own for it.
    rec = events(d.db, inc["id"], "reclassified")[0]
    assert "longer than its RTO of 1h" in rec["detail"], rec
    inc = [i for i in incidents(d.db) if i["id"] == inc["id"]][0]
    assert (inc["level"], inc["major"]) == (2, 1), inc
    clocks = db_rows(d.db, "SELECT kind, level, due_at, breached_at, "
                     "reminders_done FROM clocks WHERE incident_id = ? "
                     "ORDER BY id", inc["id"])
    notify = [c for c in clocks if c["kind"] == "notify"]
    assert [c["level"] for c in notify] == [1, 2], clocks
    assert notify[0]["breached_at"] is not None, clocks
    assert notify[1]["breached_at"] is None, clocks
    restore = [c for c in clocks if c["kind"] == "restore"][0]
    assert parse_time(restore["due_at"]) == opened + 3 * 3600 * 1000
    assert restore["reminders_done"] == 1 and not restore["breached_at"]

    # Each told to the unit head, once.
    notes = db_rows(d.db, "SELECT recipient, event FROM notifications "
                    "WHERE incident_id = ? ORDER BY id", inc["id"])
    assert sorted(n["event"] for n in notes) == sorted([
        "down, incident opened", "notify deadline missed",
        "reclassified as major", "restore reminder"]), notes
    assert {n["recipient"] for n in notes} == {"unit-head"}, notes
    assert "the wall clock moved +2h" in d.run_log()

    # The probes kept their schedule across the jump.
    svc.start()
    svc.wait_accepted(10, what="probes after the jump")
    started, busy, missed_slots, p50, p99, worst = schedule_stats(d)
    assert started >= 10 and missed_slots == 0, (started, missed_slots)
    assert p99 < 100, f"probe start lateness p99 {p99} ms, max {worst} ms"
    print(f"+2h: {started} probe starts, late p50 {p50} ms, p99 {p99} ms, "
          f"max {worst} ms")

    # Back: two hours by the wall clock, beyond the RTO, as the record
    # already says; never before it began.
    back = wait_incident(d.db, "web", restored=True)
    length = parse_time(back["restored_at"]) - parse_time(back["started_at"])
    assert length >= JUMP_S * 1000, back
    assert back["within_rto"] == 0 and back["major"] == 1, back
    d.stop()
