"""depends "PARENT": one incident for a failure and what it takes down.

A child failing while a system it depends on is down opens no incident of
its own: it is listed on the parent's incident as affected scope
(可能影響範圍), with its times.  That holds when both fail in the same
moment too.  A child still down after its parent recovered gets its own
incident from then on; a child failing while its parent is fine gets its
own at once, the parent probed out of turn to be sure of it.
"""
from conftest import (db_rows, events, incidents, now_ms, parse_time,
                      rules_file, system_rules, wait_for, wait_incident)


def child_rules(port, parent, every="200ms"):
    return system_rules("mail", port, core=True, rto="1h", every=every,
                        timeout="100ms").replace(
        "    down after", f'    depends "{parent}"\n    down after')


def scope(db):
    return db_rows(db, "SELECT incident_id, system, started_at, ended_at "
                   "FROM incident_scope ORDER BY id")


def test_both_fail_at_once_one_incident(scenario):
    router = scenario.listener()
    mail = scenario.listener()
    d = scenario.daemon()
    d.write_rules(rules_file(d.db,
                             system_rules("router", router.port, core=True,
                                          ci=True, rto="1h"),
                             child_rules(mail.port, "router")))
    d.start()
    router.wait_accepted(2)
    mail.wait_accepted(2)
    router.stop()
    mail.stop()
    inc = wait_incident(d.db, "router")
    wait_for(lambda: scope(d.db), 10, "mail listed as affected scope")
    # More probe rounds: still only the router's incident.
    n = len(d.run_log())
    wait_for(lambda: d.run_log().count("mail:", n) >= 4, 10,
             "more failed probes of mail")
    rows = incidents(d.db)
    assert [r["system"] for r in rows] == ["router"], rows
    sc = scope(d.db)
    assert len(sc) == 1 and sc[0]["system"] == "mail", sc
    assert sc[0]["incident_id"] == inc["id"] and sc[0]["ended_at"] is None
    aff = events(d.db, inc["id"], "affected system down")
    assert len(aff) == 1 and "mail" in aff[0]["detail"], aff
    assert "可能影響範圍" in aff[0]["detail"]

    # mail back first: its part of the scope ends; then the router.
    mail.start()
    wait_for(lambda: scope(d.db)[0]["ended_at"] is not None, 10,
             "mail's scope ended")
    router.start()
    wait_incident(d.db, "router", restored=True)
    assert len(incidents(d.db)) == 1
    d.stop()


def test_child_still_down_after_parent_gets_own_incident(scenario):
    router = scenario.listener()
    mail = scenario.listener()
    d = scenario.daemon()
    d.write_rules(rules_file(d.db,
                             system_rules("router", router.port, core=True,
                                          rto="1h"),
                             child_rules(mail.port, "router")))
    d.start()
    router.wait_accepted(2)
    mail.wait_accepted(2)
    router.stop()
    mail.stop()
    parent = wait_incident(d.db, "router")
    wait_for(lambda: scope(d.db), 10, "mail listed as affected scope")
    router.start()
    back = wait_incident(d.db, "router", restored=True)
    own = wait_incident(d.db, "mail")
    assert own["id"] != parent["id"]
    # Its outage counts from the parent's recovery, not from before.
    assert parse_time(own["started_at"]) >= parse_time(back["restored_at"])
    assert scope(d.db)[0]["ended_at"] is not None
    assert own["status"] == "open"
    d.stop()


def test_child_alone_probes_parent_out_of_turn(scenario):
    router = scenario.listener()
    mail = scenario.listener()
    d = scenario.daemon()
    # The router is probed every 20 s: without an out-of-turn probe the
    # mail incident would wait for its next round.
    d.write_rules(rules_file(d.db,
                             system_rules("router", router.port, rto="1h",
                                          every="20s", timeout="1s"),
                             child_rules(mail.port, "router")))
    d.start()
    router.wait_accepted(1)
    mail.wait_accepted(2)
    seen = router.accepted
    t0 = now_ms()
    mail.stop()
    inc = wait_incident(d.db, "mail", timeout=8)
    assert now_ms() - t0 < 8000
    assert router.accepted > seen, "the router was not probed out of turn"
    assert [r["system"] for r in incidents(d.db)] == ["mail"]
    assert scope(d.db) == []
    assert "waiting for the state of router" in d.run_log()
    assert inc["status"] == "open"
    d.stop()
