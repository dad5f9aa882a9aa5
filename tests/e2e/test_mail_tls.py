"""Mail over TLS with a login, as a campus mail server wants it.

The aiosmtpd server has a self-signed certificate for 127.0.0.1 and
requires a login.  With STARTTLS required (or smtps://, TLS from the
start), the server's CA in smtp-ca-file and the account in a 0600
credentials file, the incident's mail arrives encrypted and
authenticated.  Without the CA the certificate is refused, and with a
wrong password the login is: either way nothing is sent, the rows stay
queued, and last_error says why.
"""
import os
import shutil

import pytest

from conftest import (db_rows, rules_file, short_policy, system_rules,
                      wait_for, wait_incident)
import smtpserver
from smtpserver import UNIT_HEAD, SmtpServer, mail_rules

pytestmark = [
    pytest.mark.skipif(smtpserver.available() is not None,
                       reason=str(smtpserver.available())),
    pytest.mark.skipif(shutil.which("openssl") is None,
                       reason="openssl (to make the test certificate) is "
                       "not installed; make deps-check installs it"),
]


def rows(db):
    return db_rows(db, "SELECT state, attempts, last_error FROM "
                   "notifications ORDER BY id")


def start(scenario, smtp, password="s3cret pass", ca=True, starttls=True):
    creds = os.path.join(scenario.dir, "smtp-credentials")
    with open(creds, "w", encoding="utf-8") as f:
        f.write(f"rtowatch:{password}\n")
    os.chmod(creds, 0o600)
    extra = f'set smtp-credentials "{creds}"\n'
    if ca:
        extra += f'set smtp-ca-file "{smtp.cert}"\n'
    if starttls and smtp.url.startswith("smtp://"):
        extra += "set smtp-starttls yes\n"
    svc = scenario.listener()
    d = scenario.daemon()
    d.write_rules(rules_file(
        d.db, mail_rules(smtp.url, retry="200ms 1s", extra=extra),
        system_rules("portal", svc.port, core=False, rto="1h"),
        policy=short_policy(scenario.dir)))
    d.start()
    svc.wait_accepted(2)
    svc.stop()
    wait_incident(d.db, "portal")
    return d


@pytest.mark.parametrize("tls", ["starttls", "implicit"])
def test_tls_and_login(scenario, tls):
    smtp = SmtpServer(scenario.dir, tls=tls,
                      auth="rtowatch:s3cret pass").start()
    try:
        d = start(scenario, smtp)
        msgs = wait_for(smtp.messages, 15, "the mail over TLS")
        assert msgs[0].rcpt_tos == [UNIT_HEAD]
        assert msgs[0].tls is True and msgs[0].login == "rtowatch", msgs
        wait_for(lambda: rows(d.db)[0]["state"] == "sent", 10,
                 "the row marked sent")
        d.stop()
    finally:
        smtp.stop()


@pytest.mark.parametrize("why,kw,words", [
    ("untrusted certificate", {"ca": False}, ("certificate", "SSL")),
    ("wrong password", {"password": "guess"}, ("535", "Login")),
])
def test_refused_tls_or_login_kept_queued(scenario, why, kw, words):
    smtp = SmtpServer(scenario.dir, tls="starttls",
                      auth="rtowatch:s3cret pass").start()
    try:
        d = start(scenario, smtp, **kw)
        r = wait_for(lambda: (lambda x: x and x[0]["attempts"] >= 2 and x)(
            rows(d.db)), 15, f"retries after the {why}")
        assert r[0]["state"] == "queued", r
        assert any(w in r[0]["last_error"] for w in words), r
        assert not smtp.messages()
        d.stop()
    finally:
        smtp.stop()
