"""A webhook over HTTPS, as a receiver beyond the host would be.

The receiver (webhookserver.py) has a self-signed certificate for
127.0.0.1.  The webhook whose rules give that certificate as its ca-file
delivers the opening, signed; the same receiver named without it is
refused by the certificate check, and that row stays queued, retried,
with the TLS error as its reason: a webhook never posts to a receiver it
cannot authenticate.
"""
import os
import shutil

import pytest

from conftest import (db_rows, rules_file, system_rules, wait_for,
                      wait_incident)
from webhookserver import WebhookServer

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None,
                                reason="openssl (to make the test "
                                "certificate) is not installed")

SECRET = b"tls-secret"

POLICY = """\
policy {
    notify within 1h
    restore within 1h for levels 1-4
    report within 1d for levels 3-4
    retention 3 years
    tell webhook "trusted" webhook "untrusted" for levels 1-4
}
"""


def row(db, name):
    (r,) = db_rows(db, "SELECT state, attempts, last_error, address"
                   " FROM notifications WHERE recipient = ?"
                   " AND event = 'down, incident opened'", name)
    return r


def test_webhook_over_https(scenario):
    with WebhookServer(secret=SECRET, tls_dir=scenario.dir).start() as hook:
        key = os.path.join(scenario.dir, "hook.key")
        with open(key, "wb") as f:
            f.write(SECRET)
        os.chmod(key, 0o600)
        policy = os.path.join(scenario.dir, "policy.conf")
        with open(policy, "w", encoding="utf-8") as f:
            f.write(POLICY)
        svc = scenario.listener()
        d = scenario.daemon()
        d.write_rules(rules_file(
            d.db, "set mail-retry 200ms 400ms\n"
            f'webhook "trusted" url "{hook.url("/t")}" secret-file "{key}" '
            f'ca-file "{hook.cert}"\n'
            f'webhook "untrusted" url "{hook.url("/u")}" '
            f'secret-file "{key}"\n',
            system_rules("vpn", svc.port), policy=policy))
        d.start()
        svc.wait_accepted(2)
        svc.stop()
        wait_incident(d.db, "vpn")

        got = wait_for(lambda: hook.accepted("/t"), 15,
                       "the opening over HTTPS")
        assert len(got) == 1 and got[0].signature_ok, got
        assert got[0].json["event"] == "down, incident opened"
        wait_for(lambda: row(d.db, "trusted")["state"] == "sent", 10,
                 "the trusted row sent")
        assert row(d.db, "trusted")["address"] == \
            f"https://127.0.0.1:{hook.port}"

        r = wait_for(lambda: row(d.db, "untrusted")["attempts"] >= 2 and
                     row(d.db, "untrusted"), 15,
                     "the untrusted receiver tried again")
        assert r["state"] == "queued", r
        assert any(w in r["last_error"] for w in ("certificate", "SSL")), r
        assert not hook.all("/u")
        d.stop()
