"""A system that fails again soon after it was restored (flapping).

Within the policy's reopen window the same incident goes on: open again,
"failed again" in its timeline, a second outage on it, no second record
and no second 1-hour clock.  After the window a new failure is a new
incident.
"""
from conftest import (db_rows, events, incidents, now_ms, parse_time,
                      rules_file, short_policy, system_rules, wait_for,
                      wait_incident)


def daemon_for(scenario, svc, reopen):
    d = scenario.daemon()
    policy = short_policy(scenario.dir, notify="1h", notify_remind="10m",
                          reopen=reopen)
    d.write_rules(rules_file(d.db, system_rules(
        "vpn", svc.port, core=True, rto="1h"), policy=policy))
    return d.start()


def test_failing_again_within_window_reopens(scenario):
    svc = scenario.listener()
    d = daemon_for(scenario, svc, "30s")
    svc.wait_accepted(2)
    svc.stop()
    first = wait_incident(d.db, "vpn")
    svc.start()
    wait_incident(d.db, "vpn", restored=True)
    svc.stop()
    wait_for(lambda: events(d.db, first["id"], "failed again"), 10,
             "the incident reopened")
    rows = incidents(d.db)
    assert len(rows) == 1, rows
    assert rows[0]["status"] == "open" and rows[0]["restored_at"] is None
    # What the incident said at first still stands.
    for key in ("started_at", "opened_at", "notify_due_at"):
        assert rows[0][key] == first[key], key
    # One cause, named once, however often it flaps for it.
    assert rows[0]["cause"] == first["cause"], rows[0]["cause"]
    outages = db_rows(d.db, "SELECT incident_id, ended_at FROM outages "
                      "ORDER BY id")
    assert [o["incident_id"] for o in outages] == [first["id"]] * 2
    assert outages[0]["ended_at"] and outages[1]["ended_at"] is None
    notify = db_rows(d.db, "SELECT 1 FROM clocks WHERE kind = 'notify'")
    assert len(notify) == 1, "a second 1-hour clock for the same problem"
    restore = db_rows(d.db, "SELECT stopped_at FROM clocks "
                      "WHERE kind = 'restore'")
    assert restore == [{"stopped_at": None}], restore
    svc.start()
    back = wait_incident(d.db, "vpn", restored=True)
    assert back["id"] == first["id"] and len(incidents(d.db)) == 1
    d.stop()


def test_failing_after_window_opens_new_incident(scenario):
    svc = scenario.listener()
    d = daemon_for(scenario, svc, "1s")
    svc.wait_accepted(2)
    svc.stop()
    first = wait_incident(d.db, "vpn")
    svc.start()
    back = wait_incident(d.db, "vpn", restored=True)
    wait_for(lambda: now_ms() > parse_time(back["restored_at"]) + 1500, 5,
             "the reopen window passing")
    svc.stop()
    wait_for(lambda: len(incidents(d.db)) == 2, 10, "a second incident")
    assert not events(d.db, first["id"], "failed again")
    d.stop()
