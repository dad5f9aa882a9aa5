"""The wall clock jumps two hours back while a mail waits to be retried.

The mail server refuses (451 to RCPT TO), so the incident's message is
queued with a next try at most mail-retry's longest wait ahead.  Then the
daemon's wall clock moves -2 h: that next try now lies two hours ahead
of the wall clock.  No retry waits longer than mail-retry's longest, so
once the server takes mail again the message goes out within seconds,
not two hours later, and once.
"""
import pytest

from conftest import (db_rows, rules_file, short_policy, system_rules,
                      wait_for, wait_incident)
from faketimelib import FakeClock
import smtpserver
from smtpserver import SmtpServer, mail_rules

pytestmark = pytest.mark.skipif(smtpserver.available() is not None,
                                reason=str(smtpserver.available()))

JUMP_S = 2 * 3600


def rows(db):
    return db_rows(db, "SELECT id, state, attempts FROM notifications"
                   " ORDER BY id")


def test_retry_after_jump_back_is_not_hours_late(scenario):
    clock = FakeClock(scenario.dir)
    smtp = SmtpServer(scenario.dir, refuse="rcpt:451").start()
    try:
        svc = scenario.listener()
        d = scenario.daemon()
        d.write_rules(rules_file(
            d.db, mail_rules(smtp.url, retry="1s 3s", alert_after="1h"),
            system_rules("library", svc.port, core=False, rto="1h"),
            # One message: no reminder is queued while the test counts.
            policy=short_policy(scenario.dir, notify="1h",
                                notify_remind="30m")))
        d.start(env=clock.env())
        svc.wait_accepted(2)
        svc.stop()
        wait_incident(d.db, "library")
        wait_for(lambda: (lambda r: r and r[0]["attempts"] >= 2)(
            rows(d.db)), 20, "the message refused twice")

        clock.jump(-JUMP_S)
        smtp.stop()
        smtp.start(refuse="")
        # Its next try was set on the old wall clock, 2 h ahead of the new
        # one; the longest wait is 3 s, so it goes out within a few.
        wait_for(lambda: all(r["state"] == "sent" for r in rows(d.db)), 15,
                 "the message sent within mail-retry's longest wait of "
                 "the server taking mail again")
        assert len(smtp.messages()) == len(rows(d.db)) == 1
        d.stop()
    finally:
        smtp.stop()
