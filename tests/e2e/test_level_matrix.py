"""The 5.3.2 availability matrix, as the daemon applies it.

One daemon watches seven systems, one per case of the matrix:

- four that go down and stay down well within their RTO (1 h), one per
  (core, critical infrastructure) pair: at opening each incident has the
  level "as if restored in time" (not core: 1, core: 2, core and critical
  infrastructure: 3; critical infrastructure without core counts as not
  core) and is general, not major;
- three with a 2 s RTO that stay down longer than that and then come back:
  at restoration each is major, outside its RTO, and one level higher
  (not core: 2, core: 3, core and critical infrastructure: 4).

The daemon runs once for the whole file (module fixture); each case of the
matrix is its own test.
"""
import types

import pytest

from conftest import (BACKENDS, Scenario, fmt_ms, incidents, now_ms, parse_time,
                      rules_file, short_policy, system_rules, wait_for)

LATE_RTO_MS = 2000
MARGIN_MS = 500      # how far past the RTO the late systems stay down

IN_TIME = [
    # core, critical infrastructure, level at opening
    (False, False, 1),
    (True, False, 2),
    (True, True, 3),
    (False, True, 1),
]
LATE = [
    # core, critical infrastructure, level at opening, level when late
    (False, False, 1, 2),
    (True, False, 2, 3),
    (True, True, 3, 4),
]


def name(kind, core, ci):
    return f"{kind}-core-{'yes' if core else 'no'}-ci-{'yes' if ci else 'no'}"


def case_id(core, ci, *_):
    return f"core={'yes' if core else 'no'},ci={'yes' if ci else 'no'}"


@pytest.fixture(scope="module", params=BACKENDS)
def matrix_run(tmp_path_factory, request):
    """Run the scenario once a backend (issue 21: the register in SQLite,
    then in PostgreSQL); return what was seen at opening and at the
    end."""
    pg = request.getfixturevalue("pg_server") if request.param == "pg" \
        else None
    sc = Scenario(tmp_path_factory.mktemp("level_matrix"), pg=pg)
    try:
        d = sc.daemon()
        blocks, late_listeners = [], {}
        for core, ci, _ in IN_TIME:
            blocks.append(system_rules(name("in-time", core, ci),
                                       sc.closed_port(), core=core, ci=ci,
                                       rto="1h"))
        for core, ci, _, _ in LATE:
            lst = sc.listener()
            late_listeners[name("late", core, ci)] = lst
            blocks.append(system_rules(name("late", core, ci), lst.port,
                                       core=core, ci=ci,
                                       rto=f"{LATE_RTO_MS // 1000}s"))
        # Seven systems failing together would be the monitoring host's
        # lost network under the shipped policy: not what this tests.
        d.write_rules(rules_file(d.db, *blocks, policy=short_policy(
            sc.dir, notify="1h", notify_remind="10m")))
        d.start()
        for lst in late_listeners.values():
            lst.wait_accepted(2)

        for lst in late_listeners.values():
            lst.stop()
        everyone = ([name("in-time", c, i) for c, i, _ in IN_TIME]
                    + list(late_listeners))
        first_seen = {}     # system -> (row, when we read it)

        def all_opened():
            asked = now_ms()
            for row in incidents(d.db):
                first_seen.setdefault(row["system"], (row, asked))
            return all(s in first_seen for s in everyone)
        wait_for(all_opened, 20, f"an incident for each of {everyone}")

        # Keep the late systems down until their RTO is well past.
        late_end = max(parse_time(first_seen[s][0]["started_at"])
                       for s in late_listeners) + LATE_RTO_MS + MARGIN_MS
        wait_for(lambda: now_ms() > late_end, 20,
                 f"the clock to pass {fmt_ms(late_end)}")
        for lst in late_listeners.values():
            lst.start()

        def late_restored():
            rows = incidents(d.db)
            done = [r for r in rows if r["system"] in late_listeners
                    and r["restored_at"] is not None]
            return rows if len(done) == len(late_listeners) else None
        wait_for(late_restored, 20, "the late systems to be restored")
        final = incidents(d.db)
        d.stop()
        yield types.SimpleNamespace(first_seen=first_seen, final=final)
    finally:
        sc.close()


def only_incident(rows, system):
    mine = [r for r in rows if r["system"] == system]
    assert len(mine) == 1, f"expected one incident of {system}: {mine}"
    return mine[0]


@pytest.mark.parametrize("core,ci,level", IN_TIME,
                         ids=[case_id(*c) for c in IN_TIME])
def test_level_at_opening_as_if_restored_in_time(matrix_run, core, ci, level):
    system = name("in-time", core, ci)
    row, _ = matrix_run.first_seen[system]
    assert row["kind"] == "outage"
    assert row["core"] is core
    assert row["critical_infrastructure"] is ci
    assert row["rto_ms"] == 3600 * 1000
    assert row["level"] == level, f"{system}: {row}"
    assert row["availability_level"] == level, f"{system}: {row}"
    assert row["major"] is False, f"{system}: {row}"
    assert row["status"] == "open"
    assert "refused" in row["cause"].lower(), row["cause"]
    # Still down at the end, still one incident, still general.
    end = only_incident(matrix_run.final, system)
    assert end["id"] == row["id"]
    assert end["status"] == "open" and end["restored_at"] is None
    assert end["level"] == level and end["major"] is False, end


@pytest.mark.parametrize("core,ci,level,late_level", LATE,
                         ids=[case_id(*c) for c in LATE])
def test_level_raised_when_not_restored_in_time(matrix_run, core, ci, level,
                                                late_level):
    system = name("late", core, ci)
    row, seen_at = matrix_run.first_seen[system]
    started = parse_time(row["started_at"])
    # Read while the outage was still shorter than the RTO: general, and
    # the level as if restored in time.
    if seen_at < started + LATE_RTO_MS:
        assert row["major"] is False, f"{system} major before its RTO: {row}"
        assert row["level"] == level, f"{system}: {row}"

    end = only_incident(matrix_run.final, system)
    assert end["id"] == row["id"]
    restored = parse_time(end["restored_at"])
    assert restored - started > LATE_RTO_MS, end
    assert end["status"] == "restored"
    assert end["within_rto"] is False, f"{system}: {end}"
    assert end["major"] is True, f"{system}: {end}"
    assert end["level"] == late_level, f"{system}: {end}"
    assert end["availability_level"] == late_level, f"{system}: {end}"
    assert end["started_at"] == row["started_at"]
    assert end["opened_at"] == row["opened_at"]
