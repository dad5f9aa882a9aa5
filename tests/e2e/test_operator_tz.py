"""Time and language as an operator reads them (issue 17, "Time and
language"): the timeline details' times in --tz in `show` and the forms,
and in the configured zone in mails (the stored timeline keeps UTC); the
zh-TW form's timeline events in Chinese; a raised level's mail subject
in Chinese; the level detail says "-" for an aspect not assessed, as
`show` does; `register` on a terminal speaks --lang."""
import re

import pytest

from conftest import (cli, events, rules_file, short_policy, start_daemon,
                      system_rules, wait_for, wait_incident)
import smtpserver
from smtpserver import SmtpServer, mail_rules

UTC_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


def timeline_text(out):
    return out.split("\ntimeline:\n", 1)[1]


@pytest.mark.skipif(smtpserver.available() is not None,
                    reason=str(smtpserver.available()))
def test_times_in_the_zone_and_chinese_events(scenario):
    smtp = SmtpServer(scenario.dir).start()
    try:
        svc = scenario.listener()
        d = scenario.daemon()
        policy = short_policy(scenario.dir, notify="1h",
                              notify_remind="30m")
        d.write_rules(rules_file(
            d.db, 'set timezone "Asia/Taipei"\n' + mail_rules(smtp.url),
            system_rules("webmail", svc.port, core=True, rto="1h"),
            policy=policy))
        d.start()
        svc.wait_accepted(1)
        svc.stop()
        inc = wait_incident(d.db, "webmail")
        iid = inc["id"]
        rc, out, err = cli("--socket", d.sock, "level", iid,
                           "--confidentiality", "3", "--reason", "外洩 leak")
        assert rc == 0, err

        # The stored detail keeps UTC (the chain binds it) ...
        opened = events(d.db, iid, "opened")[0]["detail"]
        assert UTC_STAMP.search(opened), opened
        # ... show gives it in --tz, like every other time it prints.
        for tz, hhmm in (("UTC", inc["started_at"][11:16]),
                         ("Asia/Taipei", None)):
            rc, out, err = cli("--db", d.db, "--tz", tz, "show", iid)
            assert rc == 0, err
            tl = timeline_text(out)
            assert not UTC_STAMP.search(tl), tl
            if hhmm:
                assert re.search(rf"down since \d{{4}}-\d\d-\d\d {hhmm}:",
                                 tl), tl
        # Taipei is UTC+8: the same detail eight hours on.
        h = (int(inc["started_at"][11:13]) + 8) % 24
        assert re.search(rf"down since \d{{4}}-\d\d-\d\d {h:02d}:", tl), tl

        # The level detail: an aspect not assessed is "-", not 0.
        level = events(d.db, iid, "level set")[0]["detail"]
        assert "confidentiality 3, integrity -:" in level, level
        assert "integrity 0" not in level, level

        # The zh-TW form: every timeline event in Chinese.
        rc, form, err = cli("--db", d.db, "report", iid)
        assert rc == 0, err
        part = form[form.index("開立事件"):]
        for zh in ("開立事件", "設定影響等級"):
            assert zh in part, part
        assert not re.search(r"\b(opened|level set)\b", part), part
        assert not UTC_STAMP.search(part), part

        # Mails: the detail's time in the configured zone, and the
        # raised level's subject in Chinese beside the English.
        def mail(event):
            return [m for m in smtp.messages() if event in m.subject]
        down = wait_for(lambda: mail("down, incident opened"), 15,
                        "the opening mail")[0]
        assert not UTC_STAMP.search(down.body), down.body
        assert "時間 Times (Asia/Taipei):" in down.body, down.body
        assert re.search(r"發生時間 happened: +\d{4}-\d\d-\d\d "
                         r"\d\d:\d\d:\d\d CST\s", down.body), down.body
        raised = wait_for(lambda: mail("level raised"), 15,
                          "the level-raised mail")[0]
        assert "影響等級提高" in raised.subject, raised.subject
        assert "level raised / level raised" not in raised.subject
        # Its detail (the timeline's, with a UTC deadline) in the zone.
        assert not UTC_STAMP.search(raised.body), raised.body
        d.stop()
    finally:
        smtp.stop()


def test_register_text_speaks_lang(scenario):
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, system_rules("portal",
                                                scenario.closed_port())))
    start_daemon(d)
    wait_incident(d.db, "portal")
    d.stop()
    rc, zh, err = cli("--db", d.db, "register")
    assert rc == 0, err
    assert "資通安全事件報告彙總表" in zh and "時間軸雜湊鏈" in zh, zh
    header = next(l for l in zh.splitlines() if "系統" in l.split())
    assert "通報單號" in header and "SYSTEM" not in header, zh
    assert "處理中" in zh and "general" not in zh, zh
    rc, en, err = cli("--db", d.db, "register", "--lang", "en")
    assert rc == 0, err
    assert "IMS-P-009-02 register" in en and "TICKET" in en, en
    assert "open" in en and "處理中" not in en, en
