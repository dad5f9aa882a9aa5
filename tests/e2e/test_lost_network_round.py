"""Every system fails in one round, and comes back in one: one incident.

A round reaches the systems one probe at a time.  With `down after 1`
the first systems to fail are down before most of the others were even
probed again, so the share failing (lost-network above 50%) could not
say yet that the monitoring host lost its network: each opened an
incident of its own, and the host's incident came only once half of
them had (bench_mass.py: 5,001 incidents for 10,000 systems).  They must
wait until the systems not probed since they began to fail are, and all
twenty end up as the affected scope of one incident about the
monitoring host.

The same on the way back: the host's incident is restored once most are
back, and the systems not probed again since the network came back are
not "still down" but unknown; their next result ends their part of the
host's incident instead of opening twenty new ones.
"""
from conftest import POLICY, cli, db_rows, incidents, rules_file, \
    system_rules, wait_for, wait_incident

HOST = "(monitoring host)"
N = 20


def test_one_round_of_failures_is_one_host_incident(scenario):
    lst = [scenario.listener() for _ in range(N)]
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, *[
        system_rules(f"svc{i}", l.port, rto="1h", down_after=1,
                     up_after=1)
        for i, l in enumerate(lst)], policy=POLICY))
    d.start()
    for l in lst:
        l.wait_accepted(2)
    for l in lst:
        l.stop()
    wait_incident(d.db, HOST)
    wait_for(lambda: len(db_rows(d.db, "SELECT 1 FROM outages WHERE "
                                 "system LIKE 'svc%'")) == N, 10,
             f"all {N} outages recorded")
    rows = incidents(d.db)
    assert [r["system"] for r in rows] == [HOST], \
        f"{len(rows)} incidents for one mass failure: " \
        f"{sorted(r['system'] for r in rows)}"
    scope = db_rows(d.db, "SELECT system FROM incident_scope")
    assert len(scope) == N, scope
    assert "waiting for the systems not probed since" in d.run_log()

    for l in lst:
        l.start()
    wait_incident(d.db, HOST, restored=True)
    wait_for(lambda: not db_rows(d.db, "SELECT 1 FROM outages WHERE "
                                 "ended_at IS NULL"), 10,
             "every outage ended")
    rows = incidents(d.db)
    assert [r["system"] for r in rows] == [HOST], \
        f"{len(rows)} incidents after the systems came back: " \
        f"{sorted(r['system'] for r in rows)}"
    d.stop()


MANY = 400


def test_a_wave_longer_than_a_turn_is_still_one_incident(scenario):
    """MANY systems of one listener: the half of them that wait for the
    verdict are more writes than one turn of the loop may make
    (ENGINE_SLICE_MS, bench_mass.py's stall), so it is applied over
    several turns while the other results keep coming.  Still one
    incident, every system in its scope once, and a chain that
    verifies; and on the way back every outage ends on it."""
    lst = scenario.listener()
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, *[
        system_rules(f"svc{i}", lst.port, rto="1h", every="1s",
                     timeout="500ms", down_after=1, up_after=1)
        for i in range(MANY)], policy=POLICY))
    d.start()
    lst.wait_accepted(2 * MANY, 30, "two rounds of probes")
    assert not db_rows(d.db, "SELECT system FROM outages"), \
        "systems down before the listener stopped"
    lst.stop()
    wait_incident(d.db, HOST)
    wait_for(lambda: len(db_rows(d.db, "SELECT 1 FROM incident_scope")) ==
             MANY, 20, f"all {MANY} systems in the host's scope")
    rows = incidents(d.db)
    assert [r["system"] for r in rows] == [HOST], \
        f"{len(rows)} incidents for one mass failure"
    scope = db_rows(d.db, "SELECT DISTINCT system FROM incident_scope")
    assert len(scope) == MANY, f"{len(scope)} distinct systems in scope"
    rc, out, err = cli("--db", d.db, "verify")
    assert rc == 0, f"verify after the wave: {out}{err}"

    lst.start()
    wait_for(lambda: not db_rows(d.db, "SELECT 1 FROM outages WHERE "
                                 "ended_at IS NULL"), 20,
             "every outage ended")
    rows = incidents(d.db)
    assert [r["system"] for r in rows] == [HOST], \
        f"{len(rows)} incidents after the systems came back"
    d.stop()
    rc, out, err = cli("--db", d.db, "verify")
    assert rc == 0, f"verify after the recovery: {out}{err}"
