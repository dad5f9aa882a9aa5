"""An incident a person found (5.2.1: 「若發現或疑似資通安全事件時，由發現
人員...迅速通報」), opened with `rtowatch open`, through the real daemon,
the real CLI and a real SMTP server (aiosmtpd).

A person of the IMS team opens one on a system of the rules ("web", level
2) and one on something the rules do not watch (--title, level 3, as
confirmed ten minutes ago with --at).  Each is kind 'manual', says who
opened it (the caller's OS account, from the control socket) and why; its
one-hour notification clock (5.3.7.3.1, here the scenario's 4 s) runs from
the confirmation, reminds and is missed; its restore clock runs until a
person says it is restored; the level's recipients are mailed.  The level
3 one owes the investigation report from its damage control, the other
from its restoration once it is raised to level 3 (5.3.7.3.6).  A time in the future, no
system and no title, an unknown system and a missing reason are refused.
"""
import getpass
import re

import pytest

from conftest import (Scenario, cli, db_rows, events, fmt_ms, now_ms,
                      parse_time, rules_file, short_policy, system_rules,
                      wait_for, wait_socket)
import smtpserver
from smtpserver import CISO, UNIT_HEAD, SmtpServer, mail_rules

pytestmark = pytest.mark.skipif(smtpserver.available() is not None,
                                reason=str(smtpserver.available()))

USER = getpass.getuser()
REASON = "使用者回報網站首頁遭置換"
TITLE = "圖書館自動化系統"


def run(sock, *args):
    return cli("--socket", sock, *map(str, args))


def opened_id(out):
    m = re.search(r"incident (\d+): opened", out)
    assert m, out
    return int(m.group(1))


def clocks(db, i, kind):
    return db_rows(db, "SELECT * FROM clocks WHERE incident_id = ? AND"
                   " kind = ? ORDER BY id", i, kind)


def test_a_person_opens_an_incident_and_its_clocks_run(tmp_path):
    sc = Scenario(tmp_path)
    smtp = SmtpServer(tmp_path).start()
    try:
        web = sc.listener()
        d = sc.daemon()
        d.write_rules(rules_file(
            d.db, mail_rules(smtp.url),
            system_rules("web", web.port, core=True),
            policy=short_policy(tmp_path, notify="4s",
                                notify_remind="3s 2s", report="1d")))
        d.start()
        wait_socket(d.sock)
        web.wait_accepted(2)

        # Refusals first: nothing may be recorded by them.
        rc, out, err = run(d.sock, "open", "--level", 2, "--reason", REASON)
        assert rc == 2 and "--system NAME" in err, (rc, err)
        rc, out, err = run(d.sock, "open", "--system", "nosuch", "--level",
                           2, "--reason", REASON)
        assert rc == 1 and 'no system "nosuch"' in err, (rc, err)
        rc, out, err = run(d.sock, "open", "--system", "web", "--level", 2)
        assert rc == 2 and "--reason" in err, (rc, err)
        rc, out, err = run(d.sock, "open", "--title", TITLE, "--level", 3,
                           "--reason", REASON, "--at",
                           fmt_ms(now_ms() + 3600000))
        assert rc == 1 and "in the future" in err, (rc, err)
        assert db_rows(d.db, "SELECT id FROM incidents") == []

        before = now_ms()
        rc, out, err = run(d.sock, "open", "--system", "web", "--level", 2,
                           "--reason", REASON)
        assert rc == 0, (out, err)
        a = opened_id(out)
        confirmed = now_ms() - 600000
        rc, out, err = run(d.sock, "open", "--title", TITLE, "--level", 3,
                           "--reason", "館員發現異常登入", "--at",
                           fmt_ms(confirmed))
        assert rc == 0, (out, err)
        b = opened_id(out)

        inc = db_rows(d.db, "SELECT * FROM incidents WHERE id = ?", a)[0]
        assert (inc["kind"], inc["system"], inc["level"], inc["status"],
                inc["core"], inc["owner"]) == \
            ("manual", "web", 2, "open", 1, "e2e tests"), inc
        opened = events(d.db, a, "opened")
        assert len(opened) == 1 and opened[0]["actor"] == USER, opened
        assert REASON in opened[0]["detail"] and "5.2.1" in \
            opened[0]["detail"], opened
        # The one-hour clock (4 s here) from the confirmation, now.
        n = clocks(d.db, a, "notify")
        assert len(n) == 1, n
        start = parse_time(n[0]["started_at"])
        assert before <= start <= now_ms(), n
        assert parse_time(n[0]["due_at"]) == start + 4000, n
        assert parse_time(inc["notify_due_at"]) == start + 4000, inc
        assert len(clocks(d.db, a, "restore")) == 1

        inc_b = db_rows(d.db, "SELECT * FROM incidents WHERE id = ?", b)[0]
        assert (inc_b["kind"], inc_b["system"], inc_b["level"]) == \
            ("manual", TITLE, 3), inc_b
        assert parse_time(inc_b["started_at"]) == confirmed
        assert parse_time(clocks(d.db, b, "notify")[0]["started_at"]) == \
            confirmed

        # The clock runs: two reminders, then the deadline missed.
        wait_for(lambda: events(d.db, a, "notify deadline missed"), 10,
                 "the manual incident's notify deadline missed")
        assert len(events(d.db, a, "notify reminder")) == 2
        # B's fell due long ago: recorded at once, and late.
        missed = wait_for(lambda: events(d.db, b, "notify deadline missed"),
                          10, "the back-dated incident's missed deadline")
        assert "late by" in missed[0]["detail"], missed

        # The level 3 one owes the report from its damage control.
        rc, out, err = run(d.sock, "controlled", b)
        assert rc == 0, err
        r = clocks(d.db, b, "report")
        ctl = db_rows(d.db, "SELECT controlled_at FROM incidents WHERE"
                      " id = ?", b)[0]["controlled_at"]
        assert len(r) == 1 and r[0]["started_at"] == ctl, (r, ctl)

        # A person says A is restored; raised to level 3 afterwards, it
        # owes the report from that restoration.
        rc, out, err = run(d.sock, "restored", a, "--at",
                           fmt_ms(now_ms() + 3600000))
        assert rc == 1 and "in the future" in err, err
        rc, out, err = run(d.sock, "restored", a, "--note", "首頁已還原")
        assert rc == 0, err
        inc = db_rows(d.db, "SELECT * FROM incidents WHERE id = ?", a)[0]
        assert inc["status"] == "restored" and inc["restored_at"], inc
        rs = clocks(d.db, a, "restore")[0]
        assert rs["stopped_at"] == inc["restored_at"], rs
        assert events(d.db, a, "restored")[0]["actor"] == USER
        rc, out, err = run(d.sock, "restored", a)
        assert rc == 1 and "already restored" in err, err
        assert clocks(d.db, a, "report") == []
        rc, out, err = run(d.sock, "level", a, "--integrity", 3, "--reason",
                           "會員資料遭竄改")
        assert rc == 0, err
        r = clocks(d.db, a, "report")
        assert len(r) == 1 and r[0]["started_at"] == inc["restored_at"], r

        # The level's recipients: the unit head; for B the CISO too.
        def opening(i):
            return [m for m in smtp.messages() if f"(incident {i})" in
                    m.subject and "incident opened by a person" in
                    m.subject]
        ma = wait_for(lambda: opening(a), 20, "A's opening mail")
        mb = wait_for(lambda: len(opening(b)) == 2 and opening(b), 20,
                      "B's opening mails")
        assert [m.rcpt_tos for m in ma] == [[UNIT_HEAD]], ma
        assert sorted(m.rcpt_tos[0] for m in mb) == sorted([UNIT_HEAD, CISO])
        assert "人員發現並開立資安事件" in ma[0].subject, ma[0].subject
        assert REASON in ma[0].body and USER in ma[0].body, ma[0].body
        # The portal draft says a person found it, not the monitoring.
        assert f"事件說明 Description: web：{REASON}（人員發現 found by a " \
            "person, 5.2.1）" in ma[0].body, ma[0].body
        assert "detected by the monitoring" not in ma[0].body

        # show and the form say who opened it.
        rc, out, err = cli("--db", d.db, "show", a)
        assert rc == 0 and re.search(r"kind:\s+manual", out), out
        rc, out, err = cli("--db", d.db, "report", a)
        assert rc == 0 and "人工登錄" in out and USER in out, out
        d.stop()
    finally:
        smtp.stop()
        sc.close()
