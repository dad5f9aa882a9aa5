"""The closure deadline (結案期限, 5.3.8) and the closure notice (結案通報),
through the real daemon, the real CLI and a real SMTP server (aiosmtpd).

5.3.8's table: 「接獲通報後 72 小時以內」 for levels 1-2, 36 hours for
levels 3-4, and closing is notified by telephone or mail with form
ISMS-P-009-01 (資通安全事件報告單).  The clock runs from the notification,
the time the portal took the report (`rtowatch reported`), reminds before
its deadline and, missed, says so to the level's recipients; closing the
record stops it and mails the closure notice with the form's fields.

The scenario's own policy makes the closure clocks short: 4 s for levels
1-2 with a reminder 2 s before, and 1 h for levels 3-4.  "web" (level 1)
is reported and left open: its reminder and then its missed deadline are
recorded and mailed to the unit head.  "portal" (level 3) is reported and
closed in time: no reminder, the clock stopped by the close, and the
closure notice mailed to the unit head and the CISO.
"""
import os
import re

import pytest

from conftest import (cli, db_rows, events, parse_time, rules_file,
                      system_rules, wait_for, wait_incident, wait_socket)
import smtpserver
from smtpserver import CISO, UNIT_HEAD, SmtpServer, mail_rules

# Issue 21: the same scenario with the register in PostgreSQL too.
pytestmark = [pytest.mark.both_backends,
              pytest.mark.skipif(smtpserver.available() is not None,
                                 reason=str(smtpserver.available()))]

POLICY = """\
policy {
    notify within 1h
    remind notify 30m before
    restore within 1h for levels 1-2
    restore within 30m for levels 3-4
    report within 1d for levels 3-4
    close within 4s for levels 1-2
    close within 1h for levels 3-4
    remind close 2s before
    retention 3 years
    tell "unit-head" for levels 1-4
    tell "ciso" for levels 3-4
}
"""
TICKET_WEB = "AISAC-2026-0201"
TICKET_PORTAL = "AISAC-2026-0202"
FORM = {
    "cause": "主機電源供應器故障",
    "scope": "入口網站中斷十分鐘",
    "measures": "更換電源供應器",
    "containment": "切換至備援主機",
    "investigation": "電源供應器老化",
    "root-cause": "未依期程汰換",
    "prevention": "每年檢查電源供應器",
    "prevention-tracking": "2027-01-31 前完成",
    "corrective-action-ref": "CAPA-2026-011",
}


def ok(sock, *args):
    rc, out, err = cli("--socket", sock, *map(str, args))
    assert rc == 0, f"rtowatch {' '.join(map(str, args))}: {rc} {err}"
    return out


def close_clocks(db, i):
    return db_rows(db, "SELECT * FROM clocks WHERE incident_id = ? AND"
                   " kind = 'close'", i)


def test_closure_deadline_reminds_is_missed_and_closing_notifies(tmp_path,
                                                                scenario):
    sc = scenario
    smtp = SmtpServer(tmp_path).start()
    try:
        web, portal = sc.listener(), sc.listener()
        d = sc.daemon()
        policy = os.path.join(tmp_path, "policy.conf")
        with open(policy, "w", encoding="utf-8") as f:
            f.write(POLICY)
        d.write_rules(rules_file(
            d.db, mail_rules(smtp.url),
            system_rules("web", web.port),
            system_rules("portal", portal.port, core=True, ci=True),
            policy=policy))
        d.start()
        wait_socket(d.sock)
        web.wait_accepted(2)
        portal.wait_accepted(2)
        web.stop()
        portal.stop()
        w = wait_incident(d.db, "web")["id"]
        p = wait_incident(d.db, "portal")["id"]
        web.start()
        portal.start()
        wait_incident(d.db, "web", restored=True)
        wait_incident(d.db, "portal", restored=True)
        assert close_clocks(d.db, w) == [], "no closure clock before the report"

        def mails(i, event):
            return [m for m in smtp.messages() if f"(incident {i})" in
                    m.subject and f"/ {event} " in m.subject]

        # web, level 1: reported, then left open past its deadline.
        ok(d.sock, "reported", w, "--ticket", TICKET_WEB)
        reported = parse_time(db_rows(
            d.db, "SELECT reported_at FROM incidents WHERE id = ?",
            w)[0]["reported_at"])
        rows = close_clocks(d.db, w)
        assert len(rows) == 1, \
            f"reporting on the portal starts no closure clock (5.3.8): {rows}"
        assert parse_time(rows[0]["started_at"]) == reported, rows
        assert parse_time(rows[0]["due_at"]) == reported + 4000, rows

        reminder = wait_for(lambda: events(d.db, w, "close reminder"), 10,
                            "the closure reminder")
        missed = wait_for(lambda: events(d.db, w, "close deadline missed"),
                          10, "the missed closure deadline")
        assert len(reminder) == 1 and len(missed) == 1, (reminder, missed)
        # 2 s before the deadline, then at it (a second of slack each).
        assert 0 <= parse_time(reminder[0]["at"]) - (reported + 2000) < 1000
        assert 0 <= parse_time(missed[0]["at"]) - (reported + 4000) < 1000
        assert parse_time(close_clocks(d.db, w)[0]["breached_at"]) >= \
            reported + 4000
        got = wait_for(lambda: mails(w, "close deadline missed") and
                       mails(w, "close reminder") and
                       (mails(w, "close reminder"),
                        mails(w, "close deadline missed")),
                       20, "the reminder and the missed deadline mailed")
        for m in got[0] + got[1]:
            assert m.rcpt_tos == [UNIT_HEAD], m
        assert "結案期限提醒" in got[0][0].subject
        assert "已逾結案期限" in got[1][0].subject
        assert "the close deadline of level 1" in got[1][0].body

        # portal, level 3: reported and closed before its deadline.
        ok(d.sock, "reported", p, "--ticket", TICKET_PORTAL)
        rows = close_clocks(d.db, p)
        assert len(rows) == 1 and parse_time(rows[0]["due_at"]) - \
            parse_time(rows[0]["started_at"]) == 3600000, rows
        for field, value in FORM.items():
            ok(d.sock, "set", p, field, value)
        ok(d.sock, "report-filed", p)
        ok(d.sock, "portal-closed", p, "--result", "已結案")
        ok(d.sock, "close", p)
        rows = close_clocks(d.db, p)
        assert rows[0]["stopped_at"] is not None and \
            rows[0]["breached_at"] is None and \
            rows[0]["reminders_done"] == 0, rows
        assert "closed" in rows[0]["stopped_by"], rows

        notices = wait_for(lambda: len(mails(p, "closed")) == 2 and
                           mails(p, "closed"), 20,
                           "the closure notice to the unit head and CISO")
        assert sorted(m.rcpt_tos[0] for m in notices) == \
            sorted([UNIT_HEAD, CISO])
        for m in notices:
            assert "結案通報" in m.subject, m.subject
            body = m.body
            assert "ISMS-P-009-01 資通安全事件報告單" in body, body
            assert f"通報單號 Portal ticket: {TICKET_PORTAL}" in body, body
            assert "結案結果 Portal result: 已結案" in body, body
            for value in FORM.values():
                assert value in body, (value, body)
            assert re.search(r"結案時間 Closed: \d{4}-\d\d-\d\d", body), body
            # The closure clock is no longer among the open deadlines.
            assert "結案 close" not in body, body
        d.stop()
    finally:
        smtp.stop()
