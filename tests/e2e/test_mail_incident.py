"""An incident told by email, through a real SMTP server (aiosmtpd).

A core system (not critical infrastructure) with an RTO of two seconds
goes down: the incident opens at level 2, which the unit head alone is
told of (5.3.8); a notify reminder follows; past the RTO it is
reclassified as major at level 3, which the CISO is told of too, with a
reminder of its own notify clock; then the service comes back.  Every
notification row arrives once, to the contact's address, with a subject
naming the level, the system and the event, and a body holding the
portal draft (通報內容草稿) filled from the rules and the incident.
"""
import pytest

from conftest import (db_rows, rules_file, short_policy, system_rules,
                      wait_for, wait_incident)
import smtpserver
from smtpserver import CISO, UNIT_HEAD, SmtpServer, mail_rules

# Issue 21: the same scenario with the register in PostgreSQL too.
pytestmark = [pytest.mark.both_backends,
              pytest.mark.skipif(smtpserver.available() is not None,
                                 reason=str(smtpserver.available()))]

ADDRESS = {"unit-head": UNIT_HEAD, "ciso": CISO}


def notes(db):
    return db_rows(db, "SELECT id, recipient, event, subject, state, "
                   "address, sent_at, attempts FROM notifications "
                   "ORDER BY id")


def test_incident_mailed_per_level(scenario):
    smtp = SmtpServer(scenario.dir).start()
    try:
        run(scenario, smtp)
    finally:
        smtp.stop()


def run(scenario, smtp):
    svc = scenario.listener()
    d = scenario.daemon()
    policy = short_policy(scenario.dir, notify="6s", notify_remind="5s")
    d.write_rules(rules_file(d.db, mail_rules(smtp.url), system_rules(
        "webmail", svc.port, core=True, rto="2s",
        owner="計算機中心 系統組"), policy=policy))
    d.start()
    svc.wait_accepted(2)
    svc.stop()
    inc = wait_incident(d.db, "webmail")
    assert inc["level"] == 2, inc

    def mailed(event, level):
        return [m for m in smtp.messages()
                if event in m.subject and f"level {level}" in m.subject]

    # Level 2: the unit head only.
    opened = wait_for(lambda: mailed("down, incident opened", 2), 15,
                      "the opening mail")
    assert [m.rcpt_tos for m in opened] == [[UNIT_HEAD]], opened
    rem2 = wait_for(lambda: mailed("notify reminder", 2), 15,
                    "the level-2 notify reminder by mail")
    assert [m.rcpt_tos for m in rem2] == [[UNIT_HEAD]], rem2

    # Major, level 3: the unit head and the CISO, each their own copy.
    major = wait_for(lambda: len(mailed("reclassified as major", 3)) == 2
                     and mailed("reclassified as major", 3), 15,
                     "the reclassification mailed to both")
    assert sorted(m.rcpt_tos[0] for m in major) == sorted([UNIT_HEAD, CISO])
    wait_for(lambda: len(mailed("notify reminder", 3)) == 2, 15,
             "the level-3 notify reminder mailed to both")

    svc.start()
    wait_incident(d.db, "webmail", restored=True)
    restored = wait_for(lambda: len(mailed("restored", 3)) == 2
                        and mailed("restored", 3), 15,
                        "the restoration mailed to both")
    assert sorted(m.rcpt_tos[0] for m in restored) == \
        sorted([UNIT_HEAD, CISO])

    # Every row the engine queued went out once, to its contact, and is
    # marked sent with the address; nothing else was mailed.
    # (Deadlines may still queue rows meanwhile: compare a settled pair.)
    def settled():
        r, m = notes(d.db), smtp.messages()
        return (all(n["state"] == "sent" for n in r) and len(m) == len(r)
                and (r, m))
    rows, msgs = wait_for(settled, 15, "every notification sent and "
                          "marked sent")
    ids = [m.message_id for m in msgs]
    assert len(ids) == len(set(ids)) == len(rows), (rows, msgs)
    for n in rows:
        assert n["address"] == ADDRESS[n["recipient"]], n
        assert n["sent_at"] is not None and n["attempts"] == 1, n
        got = [m for m in msgs if f"<rtowatch.{n['id']}." in m.message_id]
        assert len(got) == 1, (n, msgs)
        assert got[0].rcpt_tos == [n["address"]], (n, got)
        assert got[0].subject == n["subject"], (n, got)
        assert got[0].mail_from == "rtowatch@example.edu"
    assert {n["recipient"] for n in rows if "level 2" in n["subject"]} == \
        {"unit-head"}, rows

    # The body: both languages, the times, and the portal draft items.
    body = opened[0].body
    for text in ("資安事件", "Incident", "中斷至今 outage so far",
                 "Asia/Taipei", "尚未完成的期限 Deadlines still open",
                 "通報 notify", "損害控制或復原 restore",
                 "通報內容草稿",
                 "影響單位 Affected unit: 計算機中心 系統組",
                 "發生時間", "知悉時間", "事件說明", "影響等級",
                 "一般事件 general", "應變措施", "是否需要支援",
                 "通報人聯絡資料 Reporter contact: 網路組 王小明",
                 "+886-2-2345-6789", UNIT_HEAD,
                 f"IP/host 127.0.0.1", "事件分類"):
        assert text in body, f"{text!r} not in the opening mail:\n{body}"
    assert "重大事件 major" in major[0].body, major[0].body
    assert "中斷時間 outage lasted" in restored[0].body, restored[0].body
    assert "調查、處理及改善報告 report" in restored[0].body, \
        restored[0].body
    d.stop()
