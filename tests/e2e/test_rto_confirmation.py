"""Major only when not restored within the RTO (seed 5.2.3), judged by the
real restoration time: the first of the "up after" successes.

A core system (level 2 in time, 3 when major) with a 2 s RTO, probed
every 450 ms, down after 2 failures and up after 2 successes.  Its
service comes back between the 4th and 5th probe after the first failure
(about 1.8 s in), so the first success lands before the RTO and the
second, which confirms it, after the RTO timer (2.25 s in).  The period
is 450 ms rather than 200 ms so that no probe falls on the RTO itself:
each side has 200 ms of margin.

- Confirmed: the incident was restored within the RTO: general, level 2,
  no reclassification, no mail to the CISO (told at levels 3-4), no
  investigation report clock.  Before the fix the RTO timer made it major
  at 2.001 s, while the restoration was awaiting its confirmation.
- Broken: the service fails again before the second success; there is no
  restoration within the RTO, so the incident is major as of the RTO, and
  the raised level's notify clock counts from the RTO, not from the
  moment the run broke.
"""
from conftest import (db_rows, events, fmt_ms, incidents_of, now_ms,
                      parse_time, rules_file, short_policy, system_rules,
                      wait_for, wait_incident)

RTO_MS = 2000
EVERY_MS = 450
BACK_AT_MS = 1575       # between the probes at 1350 and 1800 ms


def start(scenario, svc):
    d = scenario.daemon()
    policy = short_policy(scenario.dir, notify="1h", notify_remind="10m")
    d.write_rules(rules_file(d.db, system_rules(
        "erp", svc.port, core=True, rto=f"{RTO_MS}ms", every=f"{EVERY_MS}ms",
        down_after=2, up_after=2), policy=policy))
    d.start()
    svc.wait_accepted(2)
    return d


def outage_begins(d, svc):
    """Stop the service; return the incident and its first failure."""
    svc.stop()
    inc = wait_incident(d.db, "erp")
    assert inc["level"] == 2 and not inc["major"], inc
    return inc, parse_time(inc["started_at"])


def test_restored_before_rto_confirmed_after_is_general(scenario):
    svc = scenario.listener()
    d = start(scenario, svc)
    inc, first_fail = outage_begins(d, svc)
    wait_for(lambda: now_ms() >= first_fail + BACK_AT_MS, 5,
             "the moment to bring the service back")
    svc.start()
    row = wait_incident(d.db, "erp", restored=True, timeout=10)
    restored_at = parse_time(row["restored_at"])
    confirmed_at = parse_time(events(d.db, inc["id"], "restored")[0]["at"])
    # The scenario's premise: back before the RTO, confirmed after it.
    assert restored_at <= first_fail + RTO_MS, (
        f"the first success came at {fmt_ms(restored_at)}, after the RTO "
        f"({fmt_ms(first_fail + RTO_MS)}): the test missed its window")
    assert confirmed_at > first_fail + RTO_MS, (
        f"confirmed at {fmt_ms(confirmed_at)}, before the RTO: the test "
        f"missed its window")

    assert row["major"] is False and row["level"] == 2, row
    assert row["availability_level"] == 2, row
    assert row["within_rto"] is True, row
    assert not events(d.db, inc["id"], "reclassified")
    ciso = db_rows(d.db, "SELECT event FROM notifications WHERE "
                   "incident_id = ? AND recipient = 'ciso'", inc["id"])
    assert ciso == [], ciso
    clocks = db_rows(d.db, "SELECT kind, level FROM clocks WHERE "
                     "incident_id = ? ORDER BY id", inc["id"])
    assert clocks == [{"kind": "notify", "level": 2},
                      {"kind": "restore", "level": 2}], clocks
    assert not events(d.db, inc["id"], "restore deadline missed")
    assert "waiting for the successes to confirm it" in d.log()
    d.stop()


def test_run_broken_after_rto_is_major_as_of_rto(scenario):
    svc = scenario.listener()
    d = start(scenario, svc)
    inc, first_fail = outage_begins(d, svc)
    wait_for(lambda: now_ms() >= first_fail + BACK_AT_MS, 5,
             "the moment to bring the service back")
    before = svc.accepted
    svc.start()
    svc.wait_accepted(1, timeout=5)
    svc.stop()      # before the second success, 450 ms later
    assert svc.accepted == before + 1, "the second success came through"
    row = wait_for(lambda: next((i for i in incidents_of(d.db, "erp")
                                 if i["major"]), None), 10,
                   "the incident made major")
    assert row["level"] == 3 and row["restored_at"] is None, row
    rtoed = fmt_ms(first_fail + RTO_MS)
    recl = events(d.db, inc["id"], "reclassified")
    assert len(recl) == 1, recl
    assert f"major incident as of {rtoed}" in recl[0]["detail"], recl
    # Decided when the run broke, not by the timer at the RTO.
    assert parse_time(recl[0]["at"]) > first_fail + RTO_MS + EVERY_MS // 2
    notify3 = db_rows(d.db, "SELECT started_at FROM clocks WHERE "
                      "incident_id = ? AND kind = 'notify' AND level = 3",
                      inc["id"])
    assert notify3 == [{"started_at": rtoed}], notify3
    svc.start()
    row = wait_incident(d.db, "erp", restored=True, timeout=10)
    assert row["major"] is True and row["within_rto"] is False, row
    d.stop()
