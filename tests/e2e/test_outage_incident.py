"""A watched service goes down and comes back: one incident, dated right.

The IMS team's main question, answered from the records: when did the
service stop (the first failed probe, not the Nth that made us sure), when
was the incident opened, when is the portal notification due (exactly one
hour after opening), when did the service come back (the first of the
successes, not the last) and was that within the RTO.

Timings: a probe every 500 ms, down after 3 failures, up after 3
successes.  So the first failure comes within one interval after the
service stopped, and the Nth at least two intervals after the first: the
bounds below tell the first from the Nth with room to spare for a slow
(ASan) build.
"""
import pytest

from conftest import (fmt_ms, incidents, now_ms, parse_time, rules_file,
                      show, system_rules, wait_for, wait_incident)

# Issue 21: the same scenario with the register in PostgreSQL.
pytestmark = pytest.mark.both_backends

SYSTEM = "webshop"
EVERY_MS = 500
DOWN_AFTER = 3
UP_AFTER = 3
SLACK_MS = 300       # how late the event loop may run a probe


def probe_lines(log, system):
    return [l for l in log.splitlines() if system in l]


def test_outage_opens_one_incident_then_restores_it(scenario):
    shop = scenario.listener()
    witness = scenario.listener()   # an unrelated system that stays up
    d = scenario.daemon()
    d.write_rules(rules_file(
        d.db,
        system_rules(SYSTEM, shop.port, core=True, ci=False, rto="1h",
                     every=f"{EVERY_MS}ms", timeout="250ms",
                     down_after=DOWN_AFTER, up_after=UP_AFTER),
        system_rules("witness", witness.port, rto="1h",
                     every=f"{EVERY_MS}ms", timeout="250ms")))
    d.start()

    # Up and probed: successful probes, each logged (-v) with the name.
    shop.wait_accepted(3, what=f"three successful probes of {SYSTEM}")
    wait_for(lambda: len(probe_lines(d.run_log(), SYSTEM)) >= 3, 10,
             f"-v: one log line per probe, naming {SYSTEM}")
    assert incidents(d.db) == [], "no incident while everything is up"

    # The service stops at T0.
    t0 = now_ms()
    shop.stop()
    inc = wait_incident(d.db, SYSTEM, timeout=15)

    # Exactly one incident, of this system, with the right attributes.
    rows = incidents(d.db)
    assert len(rows) == 1, f"expected exactly one incident: {rows}"
    inc = rows[0]
    assert isinstance(inc["id"], int)
    assert inc["kind"] == "outage"
    assert inc["system"] == SYSTEM
    assert inc["status"] == "open"
    assert inc["restored_at"] is None
    assert inc["within_rto"] is None
    assert inc["core"] is True and inc["critical_infrastructure"] is False
    assert inc["rto_ms"] == 3600 * 1000
    assert "refused" in inc["cause"].lower(), inc["cause"]
    # Core business, not critical infrastructure, as if back in time.
    assert inc["level"] == 2 and inc["availability_level"] == 2, inc
    assert inc["major"] is False, inc

    started = parse_time(inc["started_at"])
    opened = parse_time(inc["opened_at"])
    notify_due = parse_time(inc["notify_due_at"])
    restore_due = parse_time(inc["restore_due_at"])
    times = (f"T0={fmt_ms(t0)} started_at={inc['started_at']} "
             f"opened_at={inc['opened_at']}")
    # The outage starts at the first failed probe: after T0, within one
    # interval of it ...
    assert started >= t0, f"outage started before the service stopped: {times}"
    assert started <= t0 + EVERY_MS + SLACK_MS, \
        f"started_at is not the first failed probe: {times}"
    # ... and the incident opened at the Nth, (N-1) intervals later.
    assert started < opened, times
    assert opened - started >= (DOWN_AFTER - 1) * EVERY_MS - SLACK_MS, \
        f"started_at looks like the Nth failure, not the first: {times}"
    assert opened <= now_ms()
    # The notification clock: exactly one hour from opening.
    assert notify_due - opened == 3600 * 1000, \
        f"notify_due_at {inc['notify_due_at']} is not opened_at + 1h"
    assert restore_due > opened, inc

    log = d.run_log()
    assert any(SYSTEM in l and "down" in l.lower() and "incident" in l.lower()
               for l in log.splitlines()), \
        f"no log line saying {SYSTEM} is down and an incident opened:\n{log}"

    # More failed probes do not open another incident.
    witness.wait_accepted(DOWN_AFTER + 2, what="a few more probe rounds")
    rows = incidents(d.db)
    assert [r["id"] for r in rows] == [inc["id"]], rows
    assert rows[0]["status"] == "open"

    # The service is back at T1.
    t1 = now_ms()
    shop.start()
    back = wait_incident(d.db, SYSTEM, restored=True, timeout=15)
    rows = incidents(d.db)
    assert len(rows) == 1 and back["id"] == inc["id"], rows
    restored = parse_time(back["restored_at"])
    times = f"T1={fmt_ms(t1)} restored_at={back['restored_at']}"
    # Restored at the first success, not the Mth.
    assert restored >= t1, f"restored before the service was back: {times}"
    assert restored <= t1 + EVERY_MS + SLACK_MS, \
        f"restored_at is not the first successful probe: {times}"
    assert back["status"] == "restored"
    assert back["within_rto"] is True
    # Back in time: still general, same level.
    assert back["major"] is False and back["level"] == 2, back
    # What was recorded at opening did not change.
    for key in ("started_at", "opened_at", "notify_due_at", "cause",
                "system", "core", "critical_infrastructure", "rto_ms"):
        assert back[key] == inc[key], f"{key} changed at restoration"
    assert any(SYSTEM in l and "restored" in l.lower()
               for l in d.run_log().splitlines()), \
        f"no log line saying {SYSTEM} was restored"

    # The whole record and its timeline.
    rec = show(d.db, inc["id"])
    for key in ("id", "system", "level", "status", "started_at",
                "opened_at", "notify_due_at", "restored_at", "within_rto"):
        assert rec[key] == back[key], f"show: {key} {rec[key]!r} != {back[key]!r}"
    events = [e["event"] for e in rec["timeline"]]
    assert "opened" in events and "restored" in events, rec["timeline"]
    assert events.index("opened") < events.index("restored"), events
    for e in rec["timeline"]:
        assert set(e) >= {"id", "at", "event", "actor", "detail"}, e
        parse_time(e["at"])

    d.stop()
