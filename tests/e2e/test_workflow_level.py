"""Confidentiality and integrity levels set by a person (5.3.2): the
incident's level is the highest of availability, confidentiality and
integrity; a raised level is notified again on its own clock (5.4.2), now
to the CISO too; the reason and the account are kept; no level is ever
lowered, not by a person and not by the RTO escalation that follows.
"""
import getpass

from conftest import (cli, db_rows, events, rules_file, short_policy,
                      system_rules, wait_for, wait_incident, wait_socket)


def test_person_raises_the_level(scenario):
    svc = scenario.listener()
    d = scenario.daemon()
    policy = short_policy(scenario.dir, notify="1h", notify_remind="30m")
    # Core, not critical infrastructure: level 2 in time, 3 beyond the RTO.
    d.write_rules(rules_file(d.db, system_rules(
        "registry", svc.port, core=True, rto="6s"), policy=policy))
    d.start()
    wait_socket(d.sock)
    svc.stop()
    inc = wait_incident(d.db, "registry")
    iid = inc["id"]
    assert inc["level"] == 2 and inc["major"] == 0, inc

    rc, out, err = cli("--socket", d.sock, "level", iid,
                       "--confidentiality", "3")
    assert rc == 2 and "--reason is required" in err, err
    rc, out, err = cli("--socket", d.sock, "level", iid,
                       "--confidentiality", "5", "--reason", "x")
    assert rc == 2, err
    rc, out, err = cli("--socket", d.sock, "level", iid,
                       "--confidentiality", "3", "--reason",
                       "student records readable by anyone")
    assert rc == 0, err
    row = db_rows(d.db, "SELECT level, availability_level, "
                  "confidentiality_level FROM incidents WHERE id = ?",
                  iid)[0]
    assert row == {"level": 3, "availability_level": 2,
                   "confidentiality_level": 3}, row
    ev = events(d.db, iid, "level set")
    assert len(ev) == 1 and ev[0]["actor"] == getpass.getuser()
    assert "student records readable by anyone" in ev[0]["detail"]
    notify = db_rows(d.db, "SELECT level FROM clocks WHERE incident_id = ? "
                     "AND kind = 'notify' ORDER BY level", iid)
    assert [c["level"] for c in notify] == [2, 3], notify
    raised = db_rows(d.db, "SELECT recipient FROM notifications WHERE "
                     "incident_id = ? AND event = 'level raised'", iid)
    assert sorted(r["recipient"] for r in raised) == ["ciso", "unit-head"]

    assert cli("--socket", d.sock, "level", iid, "--integrity", "4",
               "--reason", "grades altered")[0] == 0
    rc, out, err = cli("--socket", d.sock, "level", iid,
                       "--confidentiality", "1", "--reason", "oops")
    assert rc == 1 and "not lowered" in err, err

    # The RTO passes: major, availability 3, and the level stays 4.
    wait_for(lambda: events(d.db, iid, "reclassified"), 15,
             "the escalation past the RTO")
    row = db_rows(d.db, "SELECT level, availability_level, major, "
                  "confidentiality_level, integrity_level FROM incidents "
                  "WHERE id = ?", iid)[0]
    assert row == {"level": 4, "availability_level": 3, "major": 1,
                   "confidentiality_level": 3, "integrity_level": 4}, row
    svc.start()
    wait_incident(d.db, "registry", restored=True)
    row = db_rows(d.db, "SELECT level FROM incidents WHERE id = ?", iid)[0]
    assert row["level"] == 4, row
    d.stop()
