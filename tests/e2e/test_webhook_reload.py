"""A webhook's URL corrected by a reload (SIGHUP).

The rules point the webhook at a path whose receiver answers 503: the
opening is retried there.  The administrator corrects the URL and
reloads; the queued event goes to the new URL, once, with the same
delivery key.
"""
import os

from conftest import (db_rows, rules_file, system_rules, wait_for,
                      wait_incident)
from webhookserver import WebhookServer

SECRET = b"reload-secret"

POLICY = """\
policy {
    notify within 1h
    restore within 1h for levels 1-4
    report within 1d for levels 3-4
    retention 3 years
    tell webhook "ims" for levels 1-4
}
"""


def test_webhook_url_corrected_by_reload(scenario):
    with WebhookServer(secret=SECRET).start() as hook:
        key = os.path.join(scenario.dir, "hook.key")
        with open(key, "wb") as f:
            f.write(SECRET)
        os.chmod(key, 0o600)
        policy = os.path.join(scenario.dir, "policy.conf")
        with open(policy, "w", encoding="utf-8") as f:
            f.write(POLICY)
        hook.answer(503, "/old")
        svc = scenario.listener()
        d = scenario.daemon()

        def rules(path):
            d.write_rules(rules_file(
                d.db, "set mail-retry 200ms 400ms\n"
                f'webhook "ims" url "{hook.url(path)}" secret-file "{key}"\n',
                system_rules("dns", svc.port), policy=policy))
        rules("/old")
        d.start()
        svc.wait_accepted(2)
        svc.stop()
        wait_incident(d.db, "dns")
        wait_for(lambda: len(hook.all("/old")) >= 2, 15,
                 "the opening retried at the old URL")
        keys = {r.delivery for r in hook.all("/old")}
        assert len(keys) == 1, hook.all("/old")

        rules("/new")
        d.hup()
        got = wait_for(lambda: hook.accepted("/new"), 15,
                       "the opening at the corrected URL")
        assert len(got) == 1 and got[0].delivery in keys, got
        assert got[0].signature_ok
        wait_for(lambda: db_rows(d.db, "SELECT state FROM notifications")
                 == [{"state": "sent"}], 10, "the row sent")
        assert len(hook.accepted("/new")) == 1
        assert not hook.accepted("/old")
        d.stop()
