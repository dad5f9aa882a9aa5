"""A mail server that refuses (451 to RCPT TO, or 550 to the end of DATA):
the rows stay queued and are tried again with backoff, each keeping the
server's reply as its last error; once a message has waited longer than
mail-alert-after, the incident gets ONE "mail failing" event on its
timeline (what the desktop agent shows) and the log a warning.  When the
server takes mail again, everything goes out and the log says so.
"""
import pytest

from conftest import (db_rows, events, rules_file, short_policy,
                      system_rules, wait_for, wait_incident)
import smtpserver
from smtpserver import SmtpServer, mail_rules

pytestmark = pytest.mark.skipif(smtpserver.available() is not None,
                                reason=str(smtpserver.available()))


def rows(db):
    return db_rows(db, "SELECT id, state, attempts, last_error, "
                   "next_try_at, alerted_at FROM notifications ORDER BY id")


@pytest.mark.parametrize("refuse,reply", [("rcpt:451", "451"),
                                          ("data:550", "550")])
def test_refused_then_alert(scenario, refuse, reply):
    smtp = SmtpServer(scenario.dir, refuse=refuse).start()
    try:
        run(scenario, smtp, reply)
    finally:
        smtp.stop()


def run(scenario, smtp, reply):
    svc = scenario.listener()
    d = scenario.daemon()
    d.write_rules(rules_file(
        d.db, mail_rules(smtp.url, retry="200ms 800ms", alert_after="2s"),
        system_rules("library", svc.port, core=False, rto="1h"),
        # One message: no reminder is queued while the test counts.
        policy=short_policy(scenario.dir, notify="1h",
                            notify_remind="30m")))
    d.start()
    svc.wait_accepted(2)
    svc.stop()
    inc = wait_incident(d.db, "library")

    r = wait_for(lambda: (lambda x: x and x[0]["attempts"] >= 3 and x)(
        rows(d.db)), 15, "the first message tried three times")
    first = r[0]
    assert first["state"] == "queued", first
    assert reply in first["last_error"], first
    assert first["next_try_at"] is not None

    alert = wait_for(lambda: events(d.db, inc["id"], "mail failing"), 15,
                     "the mail failing event on the incident")
    assert len(alert) == 1, alert
    assert alert[0]["actor"] == "rtowatchd"
    assert reply in alert[0]["detail"], alert
    assert "mail failing" in d.run_log()
    assert not smtp.messages()

    # Still failing, more retries and reminders: still one event.
    attempts = first["attempts"]
    wait_for(lambda: rows(d.db)[0]["attempts"] >= attempts + 3, 15,
             "more attempts")
    assert len(events(d.db, inc["id"], "mail failing")) == 1

    # The server takes mail again: all of it goes out, recovery logged.
    smtp.stop()
    smtp.start(refuse="")
    wait_for(lambda: all(x["state"] == "sent" for x in rows(d.db)), 20,
             "the row sent once the server accepts")
    wait_for(lambda: "mail is going out again" in d.run_log(), 10,
             "the recovery in the log")
    assert len(smtp.messages()) == len(rows(d.db)) == 1
    assert len(events(d.db, inc["id"], "mail failing")) == 1
    d.stop()
