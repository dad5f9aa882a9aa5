"""The investigation report's clock (調查、處理及改善報告, 5.3.7.3.6):
「「4」、「3」級資安事件完成損害控制或復原作業後 ... 於一個月內」, so it
runs from damage controlled or restored, whichever came first, for every
level 3-4 incident, however it was opened, and it never starts again.

Through the real daemon and the real CLI, four level 3 records at once:

- "portal" (core business of critical infrastructure: level 3 when it
  opens) is declared controlled while it is down, then comes back: the
  clock runs from the control, and the restoration does not move it;
- "mail" (also level 3) comes back first and is controlled after: the
  clock runs from the restoration, and the control does not move it;
- "wiki" (core, level 2, no report owed) is controlled, comes back, and
  only then is raised to level 3 by its integrity: the clock starts, from
  the control, the earlier of the two;
- an early warning confirmed at level 3 (資安預警事件 → 確實事件), which is
  never "restored" by the monitoring: its control starts the clock.

Each report clock is due one report period (the scenario's 1 day) after
its start, and each incident has exactly one.
"""
import re

import pytest

from conftest import (Scenario, cli, db_rows, parse_time, rules_file,
                      short_policy, system_rules, wait_for, wait_incident,
                      wait_socket)

# Issue 21: the same scenario with the register in PostgreSQL.
pytestmark = pytest.mark.both_backends

DAY = 86400000


def ok(sock, *args):
    rc, out, err = cli("--socket", sock, *map(str, args))
    assert rc == 0, f"rtowatch {' '.join(map(str, args))}: {rc} {err}"
    return out


def row(db, i):
    return db_rows(db, "SELECT * FROM incidents WHERE id = ?", i)[0]


def report_clocks(db, i):
    return db_rows(db, "SELECT level, started_at, due_at FROM clocks"
                   " WHERE incident_id = ? AND kind = 'report'", i)


def only_report_clock(db, i, start_col):
    """The one report clock of I: it starts at START_COL's time and is due
    a day after."""
    rows = report_clocks(db, i)
    inc = row(db, i)
    assert len(rows) == 1, (f"incident {i} should owe one investigation "
                            f"report, from its {start_col}: {rows}")
    assert inc[start_col] is not None, inc
    assert parse_time(rows[0]["started_at"]) == parse_time(inc[start_col]), \
        (f"incident {i}: the report clock should run from {start_col} "
         f"{inc[start_col]} (controlled {inc['controlled_at']}, restored "
         f"{inc['restored_at']}), not from {rows[0]['started_at']}")
    assert parse_time(rows[0]["due_at"]) - parse_time(rows[0]["started_at"]) \
        == DAY, rows
    return rows[0]


def test_report_clock_runs_from_controlled_or_restored_whichever_first(
        tmp_path):
    sc = Scenario(tmp_path)
    try:
        portal, mail, wiki = sc.listener(), sc.listener(), sc.listener()
        d = sc.daemon()
        policy = short_policy(tmp_path, notify="1h", notify_remind="30m",
                              report="1d")
        d.write_rules(rules_file(
            d.db,
            system_rules("portal", portal.port, core=True, ci=True),
            system_rules("mail", mail.port, core=True, ci=True),
            system_rules("wiki", wiki.port, core=True),
            policy=policy))
        d.start()
        wait_socket(d.sock)
        for s in (portal, mail, wiki):
            s.wait_accepted(2)
            s.stop()
        p = wait_incident(d.db, "portal")["id"]
        m = wait_incident(d.db, "mail")["id"]
        w = wait_incident(d.db, "wiki")["id"]
        assert (row(d.db, p)["level"], row(d.db, m)["level"],
                row(d.db, w)["level"]) == (3, 3, 2)

        # portal: controlled while down, then back.
        ok(d.sock, "controlled", p, "--note", "traffic moved to the spare")
        assert report_clocks(d.db, p), \
            "damage controlled on a level 3 incident starts no report clock"
        portal.start()
        wait_incident(d.db, "portal", restored=True)

        # mail: back first, then controlled.
        mail.start()
        wait_incident(d.db, "mail", restored=True)
        ok(d.sock, "controlled", m)

        # wiki: controlled, back, then raised to level 3.
        ok(d.sock, "controlled", w)
        wiki.start()
        wait_incident(d.db, "wiki", restored=True)
        assert report_clocks(d.db, w) == [], "level 2 owes no report"
        ok(d.sock, "level", w, "--integrity", 3, "--reason",
           "student records were altered")

        # A confirmed early warning at level 3, controlled.
        out = ok(d.sock, "warning", "open", "--source", "N-ASOC",
                 "--summary", "web shell on the library server",
                 "--reference", "ASOC-2026-0042")
        wid = re.search(r"warning (\d+)", out).group(1)
        out = ok(d.sock, "warning", "confirm", wid, "--level", 3,
                 "--reason", "the web shell is there")
        k = int(re.search(r"incident (\d+) opened", out).group(1))
        assert row(d.db, k)["kind"] == "warning"
        ok(d.sock, "controlled", k, "--note", "the server is offline")

        only_report_clock(d.db, p, "controlled_at")
        only_report_clock(d.db, m, "restored_at")
        only_report_clock(d.db, w, "controlled_at")
        only_report_clock(d.db, k, "controlled_at")
        # The restoration came after the control: the clock did not move.
        assert parse_time(row(d.db, p)["restored_at"]) > \
            parse_time(row(d.db, p)["controlled_at"])
        assert parse_time(row(d.db, m)["controlled_at"]) > \
            parse_time(row(d.db, m)["restored_at"])
        assert parse_time(row(d.db, w)["restored_at"]) > \
            parse_time(row(d.db, w)["controlled_at"])

        # `show` lists the report clock of the confirmed warning too.
        rc, out, err = cli("--db", d.db, "show", k)
        assert rc == 0, err
        assert re.search(r"\breport\b", out), out
        d.stop()
    finally:
        sc.close()
