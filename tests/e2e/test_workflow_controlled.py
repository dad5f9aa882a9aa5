""""Damage controlled" (損害控制, 5.3.4) stops the restore clock while the
system is still down: the deadline then passes without a "missed" event,
while the same deadline of an incident nobody controlled is missed, as the
control.  The acknowledgement is recorded by account, once as the
record's, each time in the timeline.
"""
import getpass

from conftest import (cli, db_rows, events, rules_file, short_policy,
                      system_rules, timeline, wait_for, wait_incident,
                      wait_socket)


def test_damage_controlled_stops_restore_clock(scenario):
    held = scenario.listener()
    loose = scenario.listener()
    d = scenario.daemon()
    policy = short_policy(scenario.dir, notify="1h", notify_remind="30m",
                          restore12="4s", restore_remind="1s")
    d.write_rules(rules_file(
        d.db, system_rules("payroll", held.port),
        system_rules("printing", loose.port), policy=policy))
    d.start()
    wait_socket(d.sock)
    held.stop()
    loose.stop()
    inc = wait_incident(d.db, "payroll")
    other = wait_incident(d.db, "printing")

    assert cli("--socket", d.sock, "ack", inc["id"])[0] == 0
    assert cli("--socket", d.sock, "ack", inc["id"], "--note",
               "second look")[0] == 0
    rc, out, err = cli("--socket", d.sock, "controlled", inc["id"],
                       "--note", "traffic moved to the standby server")
    assert rc == 0 and "restore clock stopped" in out, (out, err)

    wait_for(lambda: events(d.db, other["id"], "restore deadline missed"),
             15, "the uncontrolled incident's missed restore deadline")
    names = [e["event"] for e in timeline(d.db, inc["id"])]
    assert "restore deadline missed" not in names, names
    assert names.count("acknowledged") == 2, names
    clock = db_rows(d.db, "SELECT stopped_at, stopped_by, breached_at FROM "
                    "clocks WHERE incident_id = ? AND kind = 'restore'",
                    inc["id"])[0]
    assert clock["stopped_at"] and clock["breached_at"] is None, clock
    assert "damage controlled" in clock["stopped_by"], clock
    row = db_rows(d.db, "SELECT controlled_by, acknowledged_at, "
                  "acknowledged_by, restored_at FROM incidents WHERE "
                  "id = ?", inc["id"])[0]
    assert row["controlled_by"] == getpass.getuser(), row
    assert row["restored_at"] is None, row       # still down
    first_ack = events(d.db, inc["id"], "acknowledged")[0]
    assert row["acknowledged_at"] == first_ack["at"], (row, first_ack)
    d.stop()
