"""The procedure's clocks keep time while the database refuses writes.

An incident opens while a sqlite3 shell holds the database's write lock,
under a policy of short clocks (notify within 4 s, reminders 3 s and 2 s
before).  Its reminders and its missed deadline fall inside the fault:
each must fire at its time, not when the lock goes away, and be in the
timeline afterwards with that time and no "late by"; the clock's row
says the deadline was missed when it was.
"""
import re
import time

from conftest import (api, db_rows, incidents_of, parse_time, rules_file,
                      short_policy, system_rules, timeline, wait_for,
                      wait_socket)
from storefault import Locker


def state_of(d, name):
    code, body = api(d.sock, "GET", "/v1/status")
    assert code == 200, body
    return {s["name"]: s["state"] for s in body["systems"]}.get(name)


def test_clocks_fire_on_time_under_a_held_lock(scenario):
    svc = scenario.listener()
    d = scenario.daemon()
    policy = short_policy(scenario.dir, notify="4s", notify_remind="3s 2s")
    d.write_rules(rules_file(d.db, system_rules(
        "gamma", svc.port, every="200ms", down_after=2), policy=policy))
    d.start()
    wait_socket(d.sock)
    wait_for(lambda: state_of(d, "gamma") == "up", 20, "gamma up")

    locker = Locker(d.db)
    try:
        svc.stop()
        m = wait_for(lambda: re.search(
            r"gamma: down since .*incident (\d+) opened", d.run_log()), 10,
            "gamma's incident opened under the lock")
        inc = m.group(1)
        wait_for(lambda: re.search(rf"incident {inc} \(gamma\): notify "
                                   r"deadline missed", d.run_log()), 10,
                 "the notify deadline missed while the lock is held")
        assert not locker.writable()
        assert incidents_of(d.db, "gamma") == []
    finally:
        locker.release()
        locker.close()
    wait_for(lambda: incidents_of(d.db, "gamma"), 10,
             "gamma's incident written")
    wait_for(lambda: any(e["event"] == "notify deadline missed"
                         for e in timeline(d.db, inc)), 10,
             "the missed deadline written")
    (i,) = incidents_of(d.db, "gamma")
    opened = parse_time(i["opened_at"])
    rows = {e["event"]: e for e in timeline(d.db, inc)}
    ev = [e for e in timeline(d.db, inc)]
    reminders = [e for e in ev if e["event"] == "notify reminder"]
    assert len(reminders) == 2, ev
    for e, offset in zip(reminders, (1000, 2000)):
        assert abs(parse_time(e["at"]) - opened - offset) < 500, (e, opened)
        assert "late by" not in e["detail"], e
    missed = rows["notify deadline missed"]
    assert abs(parse_time(missed["at"]) - opened - 4000) < 500, missed
    assert "late by" not in missed["detail"], missed
    (clock,) = db_rows(d.db, "SELECT reminders_done, breached_at FROM clocks"
                       " WHERE incident_id = ? AND kind = 'notify'", inc)
    assert clock["reminders_done"] == 2, clock
    assert clock["breached_at"] == missed["at"], (clock, missed)
    d.stop()
