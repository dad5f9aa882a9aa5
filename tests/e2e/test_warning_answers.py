"""Early warnings (資安預警事件) and their three answers.

An outside ticket (N-ASOC) is entered as a warning.  Confirmed (確實事件),
it opens an incident whose one-hour clock starts at the confirmation, not
at the warning; a false positive (誤判) and "cannot be determined"
(無法判斷) each need a reason and open nothing.  An answered warning
cannot be answered again.
"""
import getpass

import pytest

from conftest import (api, cli, db_rows, now_ms, parse_time, rules_file,
                      short_policy, system_rules, timeline, wait_socket)

# Issue 21: the same scenario with the register in PostgreSQL.
pytestmark = pytest.mark.both_backends


def warning_row(db, wid):
    return db_rows(db, "SELECT * FROM warnings WHERE id = ?", wid)[0]


def test_confirm_dismiss_undetermined(scenario):
    svc = scenario.listener()
    d = scenario.daemon()
    policy = short_policy(scenario.dir, notify="1h", notify_remind="30m")
    d.write_rules(rules_file(d.db, system_rules(
        "library", svc.port, core=True, ci=True), policy=policy))
    d.start()
    wait_socket(d.sock)

    rc, out, err = cli("--socket", d.sock, "warning", "open", "--source",
                       "N-ASOC", "--reference", "NASOC-2026-1107",
                       "--summary", "library host beaconing to a C2",
                       "--system", "library")
    assert rc == 0 and "warning 1: early warning" in out, (out, err)
    opened = parse_time(warning_row(d.db, 1)["opened_at"])
    for summary in ("scan from a student dorm", "odd DNS volume"):
        assert cli("--socket", d.sock, "warning", "open", "--source",
                   "S-ASOC", "--summary", summary)[0] == 0
    rc, out, err = cli("--socket", d.sock, "warning", "open", "--source",
                       "N-ASOC", "--summary", "x", "--system", "nowhere")
    assert rc == 1 and 'no system "nowhere"' in err, err

    before = now_ms()
    rc, out, err = cli("--socket", d.sock, "warning", "confirm", "1")
    assert rc == 0 and "incident" in out and "opened" in out, (out, err)
    w = warning_row(d.db, 1)
    assert w["state"] == "confirmed" and w["incident_id"], w
    assert w["answered_by"] == getpass.getuser()
    inc = db_rows(d.db, "SELECT * FROM incidents WHERE id = ?",
                  w["incident_id"])[0]
    assert inc["kind"] == "warning" and inc["system"] == "library", inc
    assert inc["warning_id"] == 1
    assert inc["level"] == 3, inc   # core of critical infrastructure
    confirmed_at = parse_time(inc["opened_at"])
    assert confirmed_at >= before > opened
    # The hour counts from the confirmation (the moment it became known).
    assert parse_time(inc["notify_due_at"]) - confirmed_at == 3600 * 1000
    clocks = db_rows(d.db, "SELECT kind, level, started_at FROM clocks "
                     "WHERE incident_id = ? ORDER BY id", inc["id"])
    assert [(c["kind"], c["level"]) for c in clocks] == [
        ("notify", 3), ("restore", 3)], clocks
    assert all(parse_time(c["started_at"]) == confirmed_at for c in clocks)
    notes = db_rows(d.db, "SELECT recipient FROM notifications WHERE "
                    "incident_id = ?", inc["id"])
    assert sorted(n["recipient"] for n in notes) == ["ciso", "unit-head"]
    assert [e["event"] for e in timeline(d.db, inc["id"])] == ["opened"]

    rc, out, err = cli("--socket", d.sock, "warning", "dismiss", "2")
    assert rc == 1 and "reason is required" in err, err
    assert warning_row(d.db, 2)["state"] == "open"
    assert cli("--socket", d.sock, "warning", "dismiss", "2", "--reason",
               "authorised penetration test")[0] == 0
    assert cli("--socket", d.sock, "warning", "undetermined", "3",
               "--reason", "logs rotated before we looked")[0] == 0
    w2, w3 = warning_row(d.db, 2), warning_row(d.db, 3)
    assert (w2["state"], w2["reason"], w2["incident_id"]) == (
        "false-positive", "authorised penetration test", None), w2
    assert (w3["state"], w3["incident_id"]) == ("undetermined", None), w3

    rc, out, err = cli("--socket", d.sock, "warning", "confirm", "2")
    assert rc == 1 and "already answered" in err, err
    assert len(db_rows(d.db, "SELECT id FROM incidents")) == 1

    # The warnings' own history, in the one hash-chained timeline.
    tl = db_rows(d.db, "SELECT warning_id, event FROM timeline WHERE "
                 "warning_id IS NOT NULL ORDER BY id")
    assert [(t["warning_id"], t["event"]) for t in tl] == [
        (1, "warning opened"), (2, "warning opened"), (3, "warning opened"),
        (1, "warning confirmed"), (2, "warning false positive"),
        (3, "warning undetermined")], tl
    status, body = api(d.sock, "GET", "/v1/warnings?state=open")
    assert status == 200 and body["warnings"] == [], body
    rc, out, err = cli("--db", d.db, "warnings")
    assert rc == 0 and "false-positive" in out and "NASOC" not in out
    d.stop()
