"""The daemon stops in the middle of an outage and is started again.

Whether it was stopped cleanly (SIGTERM, as systemd does) or killed
(kill -9, a crash), the restarted daemon continues the same outage: there
is still exactly one incident, still open, with the same start; no second
incident opens however many failed probes follow; and when the service
comes back, that same incident is restored.
"""
import pytest

from conftest import (fmt_ms, incidents, now_ms, parse_time, rules_file,
                      system_rules, wait_incident)

# Issue 21: the same scenario with the register in PostgreSQL.
pytestmark = pytest.mark.both_backends

SYSTEM = "registry"
DOWN_AFTER = 3


@pytest.mark.parametrize("how", ["sigterm", "kill9"])
def test_restart_mid_outage_continues_the_same_incident(scenario, how):
    service = scenario.listener()
    witness = scenario.listener()   # its probes count the daemon's rounds
    d = scenario.daemon()
    d.write_rules(rules_file(
        d.db,
        system_rules(SYSTEM, service.port, core=True, ci=True, rto="1h",
                     down_after=DOWN_AFTER, up_after=2),
        system_rules("witness", witness.port, rto="1h")))
    d.start()
    service.wait_accepted(2)

    service.stop()
    inc = wait_incident(d.db, SYSTEM)
    assert inc["status"] == "open"

    if how == "sigterm":
        d.stop()                    # asserts a clean exit 0
    else:
        d.kill9()

    # Daemon gone: the record is there, unchanged, still open.
    rows = incidents(d.db)
    assert len(rows) == 1 and rows[0]["id"] == inc["id"], rows
    assert rows[0]["status"] == "open" and rows[0]["restored_at"] is None

    d.start()
    # Several rounds of probes (all failing for SYSTEM) after the restart:
    # enough that a daemon that forgot the outage would open another.
    witness.wait_accepted(DOWN_AFTER + 3,
                          what="probe rounds after the restart")
    rows = incidents(d.db)
    assert len(rows) == 1, f"a second incident after the restart: {rows}"
    again = rows[0]
    assert again["id"] == inc["id"]
    assert again["status"] == "open" and again["restored_at"] is None
    for key in ("started_at", "opened_at", "notify_due_at", "level",
                "major"):
        assert again[key] == inc[key], \
            f"{key} changed across the restart: {inc[key]!r} -> {again[key]!r}"

    t1 = now_ms()
    service.start()
    back = wait_incident(d.db, SYSTEM, restored=True)
    rows = incidents(d.db)
    assert len(rows) == 1, rows
    assert back["id"] == inc["id"], "the restore went to another incident"
    assert back["status"] == "restored"
    assert parse_time(back["restored_at"]) >= t1, \
        f"restored_at {back['restored_at']} before T1 {fmt_ms(t1)}"
    assert back["started_at"] == inc["started_at"]
    assert back["within_rto"] is True
    # Core business of critical infrastructure, back in time.
    assert back["level"] == 3 and back["major"] is False, back

    d.stop()
