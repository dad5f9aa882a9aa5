"""The wall clock jumps forward past the end of a maintenance window.

A system is down inside an hour-long window a person added: a planned
outage, no incident.  The daemon's wall clock moves +2 h, past the
window's end, which is a wall-clock time like the procedure's deadlines.
Within 2 s the planned outage ends and, the system being still down, an
incident opens, its outage counted from then.  (Before the fix the
window's timer still waited out its hour on the monotonic clock.)
"""
from conftest import (cli, db_rows, incidents_of, now_ms, parse_time,
                      rules_file, short_policy, system_rules, wait_for,
                      wait_socket)
from faketimelib import FakeClock

JUMP_S = 2 * 3600
SOON_MS = 2000


def test_jump_past_window_end(scenario):
    clock = FakeClock(scenario.dir)
    svc = scenario.listener()
    d = scenario.daemon()
    policy = short_policy(scenario.dir, notify="1h", notify_remind="30m")
    d.write_rules(rules_file(d.db, system_rules(
        "erp", svc.port, rto="4h", every="200ms", timeout="100ms"),
        policy=policy))
    d.start(env=clock.env())
    wait_socket(d.sock)
    rc, out, err = cli("--socket", d.sock, "maintenance", "add", "erp",
                       "--for", "1h", "--reason", "database upgrade")
    assert rc == 0 and "maintenance window added" in out, (out, err)
    win = db_rows(d.db, "SELECT starts_at, ends_at FROM maintenance")
    assert len(win) == 1, win

    svc.stop()
    planned = wait_for(lambda: db_rows(
        d.db, "SELECT * FROM outages WHERE system = 'erp'"), 10,
        "the planned outage of erp")
    assert planned[0]["planned"] == 1 and planned[0]["incident_id"] is None
    assert incidents_of(d.db, "erp") == []

    jumped = now_ms() + JUMP_S * 1000   # the daemon's wall clock, now
    clock.jump(+JUMP_S)
    inc = wait_for(lambda: incidents_of(d.db, "erp"), 10,
                   "an incident once the window's end is passed")[0]
    assert parse_time(inc["opened_at"]) - jumped <= SOON_MS, inc
    after = parse_time(inc["opened_at"]) - jumped
    print(f"+2h past a window: incident {after} ms after the jump")
    assert parse_time(inc["started_at"]) >= parse_time(win[0]["ends_at"])
    rows = db_rows(d.db, "SELECT planned, ended_at FROM outages WHERE "
                   "system = 'erp' ORDER BY id")
    assert [r["planned"] for r in rows] == [1, 0], rows
    assert rows[0]["ended_at"] is not None, rows
    assert "still down when its maintenance window closed" in d.run_log()
    d.stop()
