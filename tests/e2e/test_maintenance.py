"""Maintenance windows: planned outages open no incident.

An outage that begins inside a window of its system is recorded as
planned, with no incident and no clock.  One that is still going on when
the window closes becomes an incident, its outage counted from the
window's end.  A system already down when a window starts keeps its
incident.
"""
import datetime

from conftest import (db_rows, incidents, now_ms, parse_time, rules_file,
                      system_rules, wait_for, wait_incident)


def utc(ms):
    return datetime.datetime.fromtimestamp(
        ms / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def rules(d, port, start_ms, length):
    return rules_file(d.db, system_rules("erp", port, core=True, rto="1h"),
                      f'maintenance "erp" once {utc(start_ms)} for {length}\n')


def outages(db):
    return db_rows(db, "SELECT incident_id, planned, started_at, ended_at "
                   "FROM outages ORDER BY id")


def test_outage_inside_window_is_planned(scenario):
    svc = scenario.listener()
    d = scenario.daemon()
    d.write_rules(rules(d, svc.port, now_ms() - 2000, "60s"))
    d.start()
    svc.wait_accepted(2)
    svc.stop()
    wait_for(lambda: outages(d.db), 10, "the planned outage recorded")
    o = outages(d.db)[0]
    assert o["planned"] == 1 and o["incident_id"] is None, o
    svc.start()
    wait_for(lambda: outages(d.db)[0]["ended_at"] is not None, 10,
             "the planned outage ended")
    assert incidents(d.db) == []
    assert db_rows(d.db, "SELECT 1 FROM clocks") == []
    assert "planned outage" in d.run_log()
    d.stop()


def test_outage_past_window_end_becomes_incident(scenario):
    svc = scenario.listener()
    d = scenario.daemon()
    # The window began a while ago and ends 4 s from now (whole seconds).
    end = (now_ms() // 1000 + 4) * 1000
    d.write_rules(rules(d, svc.port, end - 10000, "10s"))
    d.start()
    svc.wait_accepted(2)
    svc.stop()
    wait_for(lambda: outages(d.db), 10, "the planned outage recorded")
    assert incidents(d.db) == [], "an incident inside the window"
    inc = wait_incident(d.db, "erp", timeout=15)
    started = parse_time(inc["started_at"])
    # Counted from the window's end, not from the first failure.
    assert end <= started <= end + 1500, (utc(end), inc["started_at"])
    o = outages(d.db)
    assert o[0]["planned"] == 1 and o[0]["ended_at"] is not None, o
    assert o[1]["planned"] == 0 and o[1]["incident_id"] == inc["id"], o
    d.stop()


def test_down_before_window_keeps_its_incident(scenario):
    svc = scenario.listener()
    d = scenario.daemon()
    start = now_ms() + 2500
    d.write_rules(rules(d, svc.port, start, "60s"))
    d.start()
    svc.wait_accepted(2)
    svc.stop()
    inc = wait_incident(d.db, "erp")
    wait_for(lambda: now_ms() > start + 1000, 10, "the window starting")
    rows = incidents(d.db)
    assert len(rows) == 1 and rows[0]["status"] == "open", rows
    svc.start()
    back = wait_incident(d.db, "erp", restored=True)
    assert back["id"] == inc["id"]
    d.stop()
