"""The chat templates, and what a refusal does.

One outage told to five webhooks on a real loopback receiver: Slack,
Teams and Matrix style ones, each getting the JSON its service's incoming
webhooks accept (Slack: text and blocks; Teams: a message with an
Adaptive Card attachment; Matrix: an m.room.message content, msgtype and
body); one whose receiver answers 429 (too many requests) for a while,
which is retried until it is taken; and one that answers 404 (the URL
revoked), which is given up after three tries: the row is failed and
"webhook failed" is on the timeline, while the others are delivered.
"""
import os
import re

from conftest import (api, cli, db_rows, events, rules_file, system_rules,
                      wait_for, wait_incident, wait_socket)
from webhookserver import WebhookServer

SECRET = b"formats-secret"

POLICY = """\
policy {
    notify within 1h
    restore within 1h for levels 1-2
    restore within 30m for levels 3-4
    report within 1d for levels 3-4
    retention 3 years
    tell webhook "slack" webhook "teams" webhook "matrix" for levels 1-4
    tell webhook "busy" webhook "gone" for levels 1-4
}
"""


def rows(db, name):
    return db_rows(db, "SELECT id, event, state, attempts, last_error"
                   " FROM notifications WHERE channel = 'webhook'"
                   " AND recipient = ? ORDER BY id", name)


def test_webhook_formats_and_refusals(scenario):
    with WebhookServer(secret=SECRET).start() as hook:
        run(scenario, hook)


def run(scenario, hook):
    secret = os.path.join(scenario.dir, "hook.key")
    with open(secret, "wb") as f:
        f.write(SECRET)
    os.chmod(secret, 0o600)
    policy = os.path.join(scenario.dir, "policy.conf")
    with open(policy, "w", encoding="utf-8") as f:
        f.write(POLICY)
    hooks = "".join(
        f'webhook "{n}" url "{hook.url("/" + n)}" format {fmt} '
        f'secret-file "{secret}"\n'
        for n, fmt in (("slack", "slack"), ("teams", "teams"),
                       ("matrix", "matrix"), ("busy", "generic"),
                       ("gone", "generic")))
    hook.answer(429, "/busy")
    hook.answer(404, "/gone")
    svc = scenario.listener()
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, "set mail-retry 200ms 400ms\n" + hooks,
                             system_rules("portal", svc.port, core=True,
                                          rto="1h", owner="圖書館"),
                             policy=policy))
    d.start()
    svc.wait_accepted(2)
    svc.stop()
    inc = wait_incident(d.db, "portal")

    wait_for(lambda: all(hook.accepted("/" + n)
                         for n in ("slack", "teams", "matrix")), 15,
             "the opening at the three chat webhooks")

    slack = hook.accepted("/slack")[0].json
    assert set(slack) == {"text", "blocks"}, slack
    assert "portal" in slack["text"] and "level 2" in slack["text"]
    assert [b["type"] for b in slack["blocks"]] == ["header", "section"]
    header = slack["blocks"][0]["text"]
    assert header["type"] == "plain_text" and len(header["text"]) <= 150
    section = slack["blocks"][1]["text"]
    assert section["type"] in ("plain_text", "mrkdwn")
    assert 0 < len(section["text"]) <= 3000
    assert "服務中斷" in section["text"], section

    teams = hook.accepted("/teams")[0].json
    assert teams["type"] == "message", teams
    (att,) = teams["attachments"]
    assert att["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = att["content"]
    assert card["type"] == "AdaptiveCard" and card["version"], card
    assert card["$schema"].startswith("http://adaptivecards.io/")
    assert all(b["type"] == "TextBlock" and b["text"]
               for b in card["body"]), card
    assert "portal" in card["body"][0]["text"]

    matrix = hook.accepted("/matrix")[0].json
    assert matrix["msgtype"] == "m.text", matrix
    assert "portal" in matrix["body"] and "level 2" in matrix["body"]

    # Every request signed, every chat message unique by its key.
    assert all(r.signature_ok for r in hook.all()), hook.all()

    # 429 is "later", not "never": taken once the receiver is ready.
    wait_for(lambda: rows(d.db, "busy")[0]["attempts"] >= 3, 15,
             "the busy receiver tried again and again")
    assert rows(d.db, "busy")[0]["state"] == "queued"
    assert "HTTP 429" in rows(d.db, "busy")[0]["last_error"]
    hook.answer(200, "/busy")
    wait_for(lambda: rows(d.db, "busy")[0]["state"] == "sent", 15,
             "the busy receiver's event taken at last")
    assert len(hook.accepted("/busy")) == 1

    # 404 is "never": given up after three tries, on the timeline.
    gone = wait_for(lambda: rows(d.db, "gone")[0]["state"] == "failed"
                    and rows(d.db, "gone")[0], 15, "the 404 given up")
    assert gone["attempts"] == 3, gone
    assert len(hook.all("/gone")) == 3
    failed = events(d.db, inc["id"], "webhook failed")
    assert len(failed) == 1 and "HTTP 404" in failed[0]["detail"], failed
    assert '"gone"' in failed[0]["detail"]
    # The URL's path (a credential for Slack or Teams) is not told.
    assert "/gone" not in failed[0]["detail"]
    delivered = events(d.db, inc["id"], "webhook delivered")
    assert len(delivered) == 4, delivered

    # The API's incident names each outbox row's channel: a webhook's
    # row is not a mail to a contact of the same name.
    st, body = api(d.sock, "GET", f"/v1/incidents/{inc['id']}")
    assert st == 200, body
    notes = body["notifications"]
    assert sorted((n["channel"], n["recipient"]) for n in notes) == sorted(
        ("webhook", n) for n in ("slack", "teams", "matrix", "busy",
                                 "gone")), notes
    assert {n["state"] for n in notes if n["recipient"] == "gone"} == \
        {"failed"}
    d.stop()


def test_drill_report_tells_webhooks_from_mail(scenario):
    """rtowatch drill report lists a drill's webhook posts as webhooks,
    delivered to their receiver, apart from the mail (the API's
    notifications name their channel)."""
    with WebhookServer(secret=SECRET).start() as hook:
        secret = os.path.join(scenario.dir, "hook.key")
        with open(secret, "wb") as f:
            f.write(SECRET)
        os.chmod(secret, 0o600)
        policy = os.path.join(scenario.dir, "policy.conf")
        with open(policy, "w", encoding="utf-8") as f:
            f.write(POLICY.replace(
                '    tell webhook "busy" webhook "gone" for levels 1-4\n',
                ""))
        svc = scenario.listener()
        d = scenario.daemon()
        d.write_rules(rules_file(
            d.db, "".join(
                f'webhook "{n}" url "{hook.url("/" + n)}" format {n} '
                f'secret-file "{secret}"\n'
                for n in ("slack", "teams", "matrix")),
            system_rules("portal", svc.port, core=True), policy=policy))
        d.start()
        wait_socket(d.sock)
        rc, out, err = cli("--socket", d.sock, "drill", "--system",
                           "portal", "--level", "2", "--compressed", "600")
        assert rc == 0, err
        iid = int(re.search(r"\b(\d+)\b", out).group(1))
        wait_for(lambda: all(hook.accepted("/" + n)
                             for n in ("slack", "teams", "matrix")), 15,
                 "the drill at the three webhooks")
        wait_for(lambda: len(db_rows(d.db, "SELECT 1 FROM notifications"
                                     " WHERE state = 'sent'")) == 3, 10,
                 "the three rows sent")
        rc, out, err = cli("--socket", d.sock, "drill", "report", str(iid))
        assert rc == 0, err
        assert "郵件 Mail (SMTP): 0 queued, 0 delivered" in out, out
        assert "Webhooks: 3 queued, 3 delivered" in out, out
        assert out.count("delivered to the receiver") == 3, out
        assert "delivered to the mail server" not in out, out
        for n in ("slack", "teams", "matrix"):
            assert re.search(rf"#\d+ +webhook {n} ", out), out
        d.stop()
