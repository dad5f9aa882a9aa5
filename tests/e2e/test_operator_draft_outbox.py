"""`rtowatch draft ID` prints an incident's portal draft (通報內容草稿),
the text to paste into the national portal, and `rtowatch outbox` each
notice with its state, tries, next try and last error; both read the
database, as an auditor's read commands do, with no daemon needed.
(issue 17: "reachable only with sqlite3".)
"""
import json

import pytest

from conftest import (cli, db_rows, rules_file, short_policy, system_rules,
                      wait_for, wait_incident)
import smtpserver
from smtpserver import SmtpServer, mail_rules

pytestmark = pytest.mark.skipif(smtpserver.available() is not None,
                                reason=str(smtpserver.available()))


def test_draft_and_outbox(scenario):
    smtp = SmtpServer(scenario.dir, refuse="rcpt:451").start()
    try:
        run(scenario, smtp)
    finally:
        smtp.stop()


def run(scenario, smtp):
    svc = scenario.listener()
    d = scenario.daemon()
    d.write_rules(rules_file(
        d.db, mail_rules(smtp.url, retry="200ms 800ms", alert_after="1h"),
        system_rules("library", svc.port, owner="圖書館 library"),
        policy=short_policy(scenario.dir, notify="1h",
                            notify_remind="30m")))
    d.start()
    svc.wait_accepted(2)
    svc.stop()
    inc = wait_incident(d.db, "library")
    wait_for(lambda: [r for r in db_rows(
        d.db, "SELECT attempts FROM notifications") if r["attempts"] >= 2],
        15, "a notice tried twice")

    rc, out, err = cli("--db", d.db, "draft", inc["id"])
    assert rc == 0, err
    assert out.startswith("==== 通報內容草稿 Portal draft"), out
    assert "影響單位 Affected unit: 圖書館 library" in out, out
    assert f"rtowatch 事件編號 incident {inc['id']}" in out, out
    body = db_rows(d.db, "SELECT body FROM notifications ORDER BY id DESC "
                   "LIMIT 1")[0]["body"]
    assert body.rstrip("\n").endswith(out.rstrip("\n")), (body, out)
    assert "Times (" not in out      # the notice's head is not pasted

    rc, out, err = cli("--db", d.db, "draft", "999")
    assert rc == 1 and "no incident 999" in err, (out, err)

    rc, out, err = cli("--db", d.db, "outbox", env={"COLUMNS": "200"})
    assert rc == 0, err
    lines = out.splitlines()
    assert "STATE" in lines[1] and "TRIES" in lines[1] and \
        "LAST ERROR" in lines[1], out
    assert "queued" in out and "451" in out, out
    rc, out, err = cli("--db", d.db, "outbox", "--format", "json")
    assert rc == 0, err
    rows = json.loads(out)
    assert rows and rows[0]["state"] == "queued", rows
    assert rows[0]["attempts"] >= 2 and "451" in rows[0]["last_error"]
    assert rows[0]["next_try_at"] and rows[0]["incident_id"] == inc["id"]

    smtp.stop()
    smtp.start(refuse="")
    wait_for(lambda: all(r["state"] == "sent" for r in db_rows(
        d.db, "SELECT state FROM notifications")), 20, "all sent")
    d.stop()
    rc, out, err = cli("--db", d.db, "outbox")
    assert rc == 0 and "nothing waiting" in out, (out, err)
    rc, out, err = cli("--db", d.db, "outbox", "--all", "--format", "csv")
    assert rc == 0, err
    assert out.splitlines()[0].startswith("id,incident_id,recipient"), out
    assert ",sent," in out, out
