"""The mail part of the rules, as an administrator meets it.

`rtowatchd -n` refuses an SMTP credentials file that its group or others
may read, names the policy's tell line of a recipient that has no contact
when mail is on, and accepts a complete mail setup.  Without "set smtp"
the daemon says once at start that mail is off, and its notifications
stay queued in the database.
"""
import os

from conftest import (POLICY, db_rows, errors_at, parse_errors, rules_check,
                      rules_file, start_daemon, system_rules, wait_for,
                      wait_incident)
from smtpserver import mail_rules

SYSTEM = ('system "s" { core yes; rto 1h; '
          'check tcp 127.0.0.1 port 1 every 1s }\n')


def write(workdir, text, name="r.conf"):
    path = workdir / name
    path.write_text(f'set database "{workdir}/r.db"; include "{POLICY}"\n'
                    + text)
    return path


def tell_line(recipient):
    with open(POLICY, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip().startswith(f'tell "{recipient}"'):
                return n
    raise AssertionError(f"no tell line for {recipient} in {POLICY}")


def with_credentials(workdir, url, mode, text="rtowatch:secret\n"):
    """Rules whose mail settings name a credentials file of MODE."""
    creds = workdir / "smtp-credentials"
    creds.write_text(text)
    os.chmod(creds, mode)
    return write(workdir, mail_rules(url, extra=f'set smtp-credentials '
                                     f'"{creds}"\n') + SYSTEM)


def test_complete_mail_setup_is_ok(workdir):
    path = with_credentials(workdir, "smtps://127.0.0.1:4650", 0o600,
                            "rtowatch:correct horse battery staple\n")
    rc, out, err = rules_check(path)
    assert rc == 0, err
    assert out.strip() == "configuration OK"


def test_credentials_readable_by_others_refused(workdir):
    path = with_credentials(workdir, "smtp://127.0.0.1:2525", 0o644)
    rc, out, err = rules_check(path)
    assert rc == 1, (out, err)
    assert "configuration OK" not in out
    # mail_rules() writes smtp-credentials on its 5th line; +1 for the
    # database line.
    msgs = errors_at(parse_errors(err), path, 6)
    assert msgs and "0644" in msgs[0] and "group or others" in msgs[0] \
        and "chmod 600" in msgs[0], err
    assert "secret" not in err and "secret" not in out


def test_recipient_without_contact_named_at_its_tell_line(workdir):
    path = write(workdir, 'set smtp "smtp://127.0.0.1:2525"\n'
                 'set mail-from "rtowatch@example.edu"\n'
                 'contact "unit-head" { email "netadmin@example.edu" }\n'
                 + SYSTEM)
    rc, out, err = rules_check(path)
    assert rc == 1, (out, err)
    errors = parse_errors(err)
    msgs = errors_at(errors, POLICY, tell_line("ciso"))
    assert msgs and '"ciso"' in msgs[0] and "contact" in msgs[0], err
    assert len(errors) == 1, err


def test_mail_mistakes_each_reported(workdir):
    path = write(workdir, 'set smtp "imap://127.0.0.1"\n'
                 'set mail-from "not an address"\n'
                 'contact "unit-head" { email "netadmin@example.edu" }\n'
                 'contact "ciso" { phone "123" }\n'
                 "set mail-alert-after soon\n" + SYSTEM)
    rc, out, err = rules_check(path)
    assert rc == 1, (out, err)
    errors = parse_errors(err)
    assert "smtp://" in " ".join(errors_at(errors, path, 2)), err
    assert "not an email address" in " ".join(errors_at(errors, path, 3))
    assert "missing email" in " ".join(errors_at(errors, path, 5)), err
    assert "duration" in " ".join(errors_at(errors, path, 6)), err
    # ciso has no email, so its tell line is named too.
    assert errors_at(errors, POLICY, tell_line("ciso")), err


def test_mail_off_says_so_and_keeps_rows_queued(scenario):
    port = scenario.closed_port()
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, system_rules("s", port, core=True)))
    start_daemon(d)
    inc = wait_incident(d.db, "s")
    rows = wait_for(lambda: db_rows(d.db, "SELECT state, attempts FROM "
                                    "notifications WHERE incident_id = ?",
                                    inc["id"]), 10, "a queued notification")
    assert all(r["state"] == "queued" and r["attempts"] == 0 for r in rows)
    assert d.run_log().count("mail is off") == 1, d.tail()
    d.stop()
