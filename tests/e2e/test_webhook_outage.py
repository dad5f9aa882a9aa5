"""An outage told through a signed webhook, beside mail.

A real HTTP receiver on loopback (webhookserver.py) checks each request's
HMAC-SHA256 signature itself.  A core system with an RTO of two seconds
goes down: the opening, the reclassification as major and the reminder
of each notify clock (the first notification's, and the one the
escalation adds, 5.4.2) each arrive once, signed, in order, and each puts
"webhook delivered" on the incident's timeline.

Then the receiver answers 503 while the service comes back: the
restoration is retried on mail-retry's schedule, the reason recorded.
The daemon is killed (kill -9) with it undelivered, the receiver stops
listening altogether, the daemon starts again and keeps trying; when the
receiver comes back every event has arrived exactly once, in the order
the outbox holds them, each with its own delivery key.  Undelivered past
mail-alert-after, it raised one "webhook failing" alert meanwhile.

Mail is configured beside it and off (no "set smtp"): its rows stay
queued and the webhook's go regardless.
"""
import os

import pytest

from conftest import (cli, db_rows, events, rules_file, system_rules, wait_for,
                      wait_incident)
from webhookserver import WebhookServer

# Issue 21: the same scenario with the register in PostgreSQL.
pytestmark = pytest.mark.both_backends

SECRET = b"e2e-webhook-secret-0123456789"

POLICY = """\
policy {{
    notify within 8s
    remind notify 6s before
    restore within 1h for levels 1-2
    restore within 30m for levels 3-4
    remind restore 10m before
    report within 1d for levels 3-4
    retention 3 years
    tell "unit-head" webhook "ims" for levels 1-4
    tell "ciso" for levels 3-4
}}
"""


def hook_rows(db):
    return db_rows(db, "SELECT id, incident_id, recipient, event, state,"
                   " attempts, last_error, address, created_at"
                   " FROM notifications WHERE channel = 'webhook'"
                   " ORDER BY id")


def write_rules(d, directory, hook, svc):
    secret = os.path.join(directory, "hook.key")
    with open(secret, "wb") as f:
        f.write(SECRET + b"\n")
    os.chmod(secret, 0o600)
    policy = os.path.join(directory, "policy.conf")
    with open(policy, "w", encoding="utf-8") as f:
        f.write(POLICY.format())
    d.write_rules(rules_file(
        d.db,
        "set mail-retry 200ms 1s\nset mail-alert-after 1s\n"
        f'webhook "ims" url "{hook.url("/rtowatch")}" format generic '
        f'secret-file "{secret}"\n',
        system_rules("webmail", svc.port, core=True, rto="2s"),
        policy=policy))


def check_once_in_order(db, hook):
    """Every webhook row sent, each received once (2xx) with a valid
    signature, in row order, with the row's delivery key; returns the
    rows."""
    rows = hook_rows(db)
    got = hook.accepted()
    assert all(r.signature_ok for r in got), got
    keys = [r.delivery for r in got]
    assert len(keys) == len(set(keys)), f"an event arrived twice: {got}"
    ids = [int(k.split("-")[1]) for k in keys]
    assert ids == sorted(ids), f"out of order: {got}"
    assert ids == [r["id"] for r in rows], (rows, got)
    for r, req in zip(rows, got):
        body = req.json
        assert body["delivery"] == req.delivery
        assert req.headers["Idempotency-Key"] == req.delivery
        assert body["event"] == r["event"], (r, body)
        assert body["system"] == "webmail" and body["source"] == "rtowatch"
        assert body["incident"] == r["incident_id"]
        assert r["state"] == "sent" and r["address"] == \
            f"http://127.0.0.1:{hook.port}", r
    return rows


def test_webhook_outage_receiver_down_kill9(scenario):
    with WebhookServer(secret=SECRET).start() as hook:
        run(scenario, hook)


def run(scenario, hook):
    svc = scenario.listener()
    d = scenario.daemon()
    write_rules(d, scenario.dir, hook, svc)
    d.start()
    svc.wait_accepted(2)
    svc.stop()
    inc = wait_incident(d.db, "webmail")
    assert inc["level"] == 2, inc

    def arrived(*names):
        """Every event named arrived, as many times as it is named: the
        clocks' rows are made seconds apart, and a row made after the
        wait would be sent between the reads of the check."""
        got = [r.json["event"] for r in hook.accepted()]
        return all(got.count(n) >= names.count(n) for n in names) and got
    got = wait_for(lambda: arrived("down, incident opened",
                                   "reclassified as major",
                                   "notify reminder", "notify reminder"),
                   20, "the opening, the escalation and both clocks' "
                   "reminders")
    assert got[0] == "down, incident opened", got
    levels = {r.json["event"]: r.json["level"] for r in hook.accepted()}
    assert levels["down, incident opened"] == 2, levels
    assert levels["reclassified as major"] == 3, levels
    wait_for(lambda: all(r["state"] == "sent" for r in hook_rows(d.db))
             and len(events(d.db, inc["id"], "webhook delivered")) ==
             len(hook_rows(d.db)), 10, "each delivery on the timeline")
    check_once_in_order(d.db, hook)
    # Mail is off: its rows wait, and did not hold the webhook's up.
    mail = db_rows(d.db, "SELECT state FROM notifications"
                   " WHERE channel = 'email'")
    assert mail and all(m["state"] == "queued" for m in mail), mail

    # The receiver answers 503 while the service comes back.
    hook.answer(503)
    before = len(hook.accepted())
    svc.start()
    wait_incident(d.db, "webmail", restored=True)

    def head():
        """The oldest undelivered row, once the restoration is queued
        (a deadline missed meanwhile may come before it)."""
        rows = [r for r in hook_rows(d.db) if r["state"] == "queued"]
        return (any(r["event"] == "restored" for r in rows) and rows[0])

    def retried():
        row = head()
        return row and row["attempts"] >= 2 and row
    row = wait_for(retried, 15, "the restoration queued, retried after "
                   "503s")
    assert "HTTP 503" in row["last_error"], row

    # kill -9 with it undelivered; the receiver stops listening.
    d.kill9()
    hook.stop()
    d.start()
    wait_for(lambda: " started: rules " in d.run_log(), 20, "the daemon back")

    def refused():
        row = head()
        return row and "onnect" in (row["last_error"] or "") and row
    wait_for(refused, 15, "tried again after the restart, refused")
    assert len(hook.accepted()) == before
    # Undelivered past mail-alert-after: the alert, once, as for mail.
    failing = wait_for(lambda: events(d.db, inc["id"], "webhook failing"),
                       15, "the webhook failing alert")
    assert "HTTP 503" in failing[0]["detail"] or \
        "onnect" in failing[0]["detail"], failing
    assert "webhook failing" in d.log()

    # The receiver comes back: everything arrives, once, in order.
    hook.answer(200)
    hook.start()
    # The last rows the scenario makes are the two clocks' missed
    # deadlines (8 s after the opening and after the escalation).
    wait_for(lambda: arrived("restored", "notify deadline missed",
                             "notify deadline missed") and
             all(r["state"] == "sent" for r in hook_rows(d.db)),
             20, "every webhook row sent once the receiver is back")
    rows = check_once_in_order(d.db, hook)
    got = [r.json["event"] for r in hook.accepted()]
    assert got.count("notify reminder") == 2, got
    assert got.count("notify deadline missed") == 2, got
    assert len(events(d.db, inc["id"], "webhook failing")) == 1
    assert not events(d.db, inc["id"], "mail failing")
    restored = [r for r in hook.accepted() if r.json["event"] == "restored"]
    assert len(restored) == 1, restored
    assert len(events(d.db, inc["id"], "webhook delivered")) == len(rows)
    # The secret never reaches the log.
    assert SECRET.decode() not in d.log()
    d.stop()
    # Form 01 lists what went out, the webhook named as such.
    rc, out, err = cli("--db", d.db, "report", inc["id"],
                       env={"LC_ALL": "C.UTF-8"})
    assert rc == 0, err
    assert "webhook ims" in out and f"http://127.0.0.1:{hook.port}" in out
