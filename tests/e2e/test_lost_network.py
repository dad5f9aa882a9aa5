"""Most systems fail at once: the monitoring host lost its network.

Under the shipped policy (lost-network above 50%), four systems failing
in the same round open one incident about the monitoring host, with the
four as its affected scope, instead of four incidents; its cause says
whether this host lost its network (with the procedure's telephone
fallback) or everything beyond it is unreachable.  When most come back
the host's incident is restored; a system still down then gets its own
incident.

Its times are the network's, not the moments the daemon decided: it
started at the first failure it hides and was restored at the first
success after it; the system still down keeps its own first failure as
the start of its outage, which goes on, on its own incident.
"""
from conftest import (POLICY, db_rows, incidents, parse_time, rules_file,
                      system_rules, wait_for, wait_incident)

HOST = "(monitoring host)"


def test_mass_failure_is_one_host_incident(scenario):
    lst = [scenario.listener() for _ in range(4)]
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, *[
        system_rules(f"svc{i}", l.port, core=True, ci=(i == 0), rto="1h")
        for i, l in enumerate(lst)], policy=POLICY))
    d.start()
    for l in lst:
        l.wait_accepted(2)
    for l in lst:
        l.stop()
    host = wait_incident(d.db, HOST)
    wait_for(lambda: len(db_rows(d.db, "SELECT 1 FROM incident_scope")) == 4,
             10, "all four listed as the host incident's affected scope")
    rows = incidents(d.db)
    assert [r["system"] for r in rows] == [HOST], rows
    # Classified as the most critical system it hides (core of CI: 3).
    assert host["level"] == 3, host
    # Which of the two it is depends on this machine's own network
    # (test_lost_network_which.py makes each happen): either way it says.
    cause = host["cause"]
    if "lost its network" in cause:
        assert "regional center" in cause and "5.3.7.3.3" in cause, cause
    else:
        assert "everything beyond it is unreachable" in cause, cause
        assert "regional center" not in cause, cause

    # Three back, one still down: the host's incident ends, the one left
    # gets an incident of its own.
    for l in lst[:3]:
        l.start()
    host = wait_incident(d.db, HOST, restored=True)
    own = wait_incident(d.db, "svc3")
    assert own["status"] == "open"
    assert len(incidents(d.db)) == 2

    query = ("SELECT s.system, s.started_at, s.ended_at, o.incident_id "
             "FROM incident_scope s JOIN outages o ON o.id = s.outage_id "
             "ORDER BY s.system")

    def scope_ended():
        rows = db_rows(d.db, query)
        return rows if all(r["ended_at"] for r in rows) else None
    scope = wait_for(scope_ended, 10, "every affected system's part ended")
    starts = [parse_time(r["started_at"]) for r in scope]
    assert parse_time(host["started_at"]) == min(starts), (host, scope)
    backs = [parse_time(r["ended_at"]) for r in scope[:3]]
    # The first success after the outage, before the daemon was sure.
    assert parse_time(host["restored_at"]) == min(backs), (host, scope)
    # svc3's outage goes on, from its own first failure, on its incident.
    assert own["started_at"] == scope[3]["started_at"], (own, scope)
    assert scope[3]["incident_id"] == own["id"] and scope[3]["ended_at"]
    assert len(db_rows(d.db, "SELECT 1 FROM outages WHERE system = "
                       "'svc3'")) == 1
    lst[3].start()
    wait_incident(d.db, "svc3", restored=True)
    d.stop()
