"""The outbox loses nothing: the mail server is down for a while, the
daemon is killed (kill -9) with messages pending, and when both are back
every message arrives, once, and in order within each incident.

Then the daemon is killed again while mail is flowing: delivery is at
least once across such a crash, and every copy carries its row's
Message-ID, so the set of Message-IDs received is exactly the outbox.
"""
import re

import pytest

from conftest import (db_rows, rules_file, short_policy, system_rules,
                      wait_for, wait_incident)
import smtpserver
from smtpserver import UNIT_HEAD, SmtpServer, mail_rules

pytestmark = pytest.mark.skipif(smtpserver.available() is not None,
                                reason=str(smtpserver.available()))

ID_RE = re.compile(r"^<rtowatch\.(\d+)\.\d+@example\.edu>$")


def rows(db):
    return db_rows(db, "SELECT id, incident_id, recipient, state, attempts,"
                   " last_error, next_try_at FROM notifications ORDER BY id")


def row_id(msg):
    m = ID_RE.match(msg.message_id)
    assert m, f"unexpected Message-ID {msg.message_id!r}"
    return int(m.group(1))


def check_order(db, msgs):
    """Within each incident and recipient, rows arrive in id order."""
    incident = {r["id"]: (r["incident_id"], r["recipient"])
                for r in rows(db)}
    last = {}
    for m in msgs:
        i = row_id(m)
        key = incident[i]
        assert last.get(key, 0) <= i, \
            f"row {i} arrived after row {last[key]} of {key}: {msgs}"
        last[key] = i


def test_server_down_then_kill9(scenario):
    smtp = SmtpServer(scenario.dir)       # not started: refused
    try:
        run(scenario, smtp)
    finally:
        smtp.stop()


def run(scenario, smtp):
    a, b = scenario.listener(), scenario.listener()
    d = scenario.daemon()
    policy = short_policy(scenario.dir, notify="8s",
                          notify_remind="7s 6s 5s")
    d.write_rules(rules_file(
        d.db, mail_rules(smtp.url, retry="200ms 1s"),
        system_rules("alpha", a.port, core=True, rto="1h"),
        system_rules("beta", b.port, core=True, rto="1h"),
        policy=policy))
    d.start()
    a.wait_accepted(2)
    b.wait_accepted(2)
    a.stop()
    b.stop()
    ia = wait_incident(d.db, "alpha")
    ib = wait_incident(d.db, "beta")
    assert ia["id"] != ib["id"]

    # The server is down: rows are tried again and again, and say why.
    def failing():
        r = rows(d.db)
        return (len({x["incident_id"] for x in r}) == 2
                and all(x["state"] == "queued" for x in r)
                and any(x["attempts"] >= 3 for x in r) and r)
    r = wait_for(failing, 20, "rows of both incidents retried")
    tried = [x for x in r if x["attempts"] > 0]
    assert all(x["last_error"] and "onnect" in x["last_error"]
               for x in tried), tried
    assert not smtp.messages()

    # kill -9 with all of it pending, and restart.
    wait_for(lambda: len(rows(d.db)) >= 4, 15, "reminders queued too")
    d.kill9()
    d.start()
    wait_for(lambda: " started: rules " in d.run_log(), 20,
             "the daemon back")
    smtp.start()

    def all_sent():
        """Every row sent and every row's message received; reminders
        may still queue rows meanwhile, so the pair is read until it
        agrees."""
        r, m = rows(d.db), smtp.messages()
        return (all(x["state"] == "sent" for x in r) and len(r) >= 4
                and {row_id(x) for x in m} == {x["id"] for x in r}
                and (r, m))
    r, msgs = wait_for(all_sent, 30, "every queued row sent once the "
                       "server is back")
    assert sorted(row_id(m) for m in msgs) == [x["id"] for x in r], \
        (r, msgs)
    assert all(m.rcpt_tos == [UNIT_HEAD] for m in msgs), msgs
    check_order(d.db, msgs)

    # Killed again while mail flows: the reminders still to come and a
    # burst of restorations are queued; kill -9 as the first arrives.
    sent_before = len(msgs)
    a.start()
    b.start()
    wait_for(lambda: len(smtp.messages()) > sent_before, 20,
             "more mail after the services came back")
    d.kill9()
    d.start()
    wait_incident(d.db, "alpha", restored=True)
    wait_incident(d.db, "beta", restored=True)
    r, msgs = wait_for(all_sent, 30, "every row sent after the second "
                       "kill -9")
    # At least once: each row's Message-ID is there; a copy sent twice
    # (the 250 came, the kill beat the commit) is the same Message-ID.
    assert {row_id(m) for m in msgs} == {x["id"] for x in r}, (r, msgs)
    assert len(msgs) - len({m.message_id for m in msgs}) <= 4, msgs
    restored = [m for m in msgs if "restored" in m.subject]
    assert len({m.message_id for m in restored}) == 2, restored
    check_order(d.db, msgs)
    d.stop()
