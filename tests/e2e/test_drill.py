"""A drill (資安演練, 5.8.1) through every path a real incident takes, with
the shipped policy's clocks compressed 600 times, through the real daemon,
a real SMTP server (aiosmtpd) and the desktop agent in a desktop of its
own (Xvfb, a session bus, dunst).

`rtowatch drill --system portal --level 3 --compressed 600` opens a drill
incident: the one-hour notification clock lasts 6 s (its reminders 30 and
10 minutes before fall 3 s and 5 s in), and it is missed; the portal
report starts the closure clock (36 h: 216 s), the damage control the
report clock (one month: about 72 minutes).  Every mail's subject begins
"[DRILL 演練]" and its body says it is a drill; every desktop notification
too; show, incidents, form 01 and the register say 演練 drill.  `rtowatch
drill report ID` lists what went where and when: each mail queued and
delivered, each event of the stream, each clock with its reminders and
missed deadline.  A drill is in neither the availability figures nor the
monthly digest, unless the digest is asked --include-drills.
"""
import datetime
import re

import pytest

from conftest import (cli, db_rows, events, parse_time, rules_file,
                      start_daemon, system_rules, wait_for, wait_socket)
from desktop import RtowatchNotify, desktop, shown_with, wait_shown
import smtpserver
from smtpserver import CISO, UNIT_HEAD, SmtpServer, mail_rules

assert desktop  # the fixture, imported for pytest

pytestmark = pytest.mark.skipif(smtpserver.available() is not None,
                                reason=str(smtpserver.available()))

MARK = "[DRILL 演練]"
FACTOR = 600
HOUR = 3600000


def run(sock, *args):
    return cli("--socket", sock, *map(str, args))


def ok(sock, *args):
    rc, out, err = run(sock, *args)
    assert rc == 0, f"rtowatch {' '.join(map(str, args))}: {rc} {err}"
    return out


def clock(db, i, kind):
    rows = db_rows(db, "SELECT * FROM clocks WHERE incident_id = ? AND"
                   " kind = ?", i, kind)
    assert len(rows) == 1, (kind, rows)
    return rows[0]


def length(c):
    return parse_time(c["due_at"]) - parse_time(c["started_at"])


def test_drill_runs_every_path_marked_and_reports_what_arrived(
        scenario, desktop, tmp_path):
    smtp = SmtpServer(tmp_path).start()
    agent = None
    try:
        portal = scenario.listener()
        d = scenario.daemon()
        d.write_rules(rules_file(
            d.db, mail_rules(smtp.url),
            system_rules("portal", portal.port, core=True, ci=True)))
        start_daemon(d)
        wait_socket(d.sock)
        agent = RtowatchNotify(desktop, scenario.dir, d.sock).start()
        agent.wait_log("following ")

        rc, out, err = run(d.sock, "drill", "--compressed", 600, "--real")
        assert rc == 2 and "not both" in err, err
        rc, out, err = run(d.sock, "drill", "--compressed", 0)
        assert rc == 2 and "1 to 3600" in err, err
        out = ok(d.sock, "drill", "--system", "portal", "--level", 3,
                 "--compressed", FACTOR, "--note", "115 年度資安通報演練")
        m = re.search(r"incident (\d+): 演練 DRILL opened", out)
        assert m, out
        i = int(m.group(1))
        inc = db_rows(d.db, "SELECT * FROM incidents WHERE id = ?", i)[0]
        assert (inc["kind"], inc["system"], inc["level"],
                inc["drill_factor"]) == ("drill", "portal", 3, FACTOR), inc

        # The shipped clocks, 600 times shorter.
        n = clock(d.db, i, "notify")
        assert length(n) == HOUR // FACTOR, n
        assert length(clock(d.db, i, "restore")) == 36 * HOUR // FACTOR
        start = parse_time(n["started_at"])
        wait_for(lambda: events(d.db, i, "notify deadline missed"), 15,
                 "the drill's notify deadline missed (6 s)")
        rem = events(d.db, i, "notify reminder")
        assert len(rem) == 2, rem
        # 30 and 10 minutes before the hour: 3 s and 5 s in, +1 s slack.
        for ev, due in zip(rem, (3000, 5000)):
            assert 0 <= parse_time(ev["at"]) - start - due < 1000, ev
        missed = events(d.db, i, "notify deadline missed")[0]
        assert 0 <= parse_time(missed["at"]) - start - 6000 < 1000, missed

        ok(d.sock, "reported", i, "--ticket", "DRILL-2026-01")
        assert length(clock(d.db, i, "close")) == 36 * HOUR // FACTOR
        ok(d.sock, "controlled", i)
        r = clock(d.db, i, "report")
        # One month (28 to 31 days), compressed.
        assert 28 * 24 * HOUR // FACTOR <= length(r) <= \
            31 * 24 * HOUR // FACTOR, r

        # The open deadlines in `status` are marked too.
        out = ok(d.sock, "status")
        lines = [l for l in out.splitlines() if re.match(rf"{i}\s+portal", l)]
        assert len(lines) == 2 and all("[演練 DRILL]" in l for l in lines), \
            out

        # Mail: every message marked, to the level's recipients.
        wait_for(lambda: db_rows(d.db, "SELECT id FROM notifications") and
                 all(x["state"] == "sent" for x in db_rows(
                     d.db, "SELECT state FROM notifications")), 20,
                 "every notification of the drill mailed")
        mails = [x for x in smtp.messages() if f"(incident {i})" in
                 x.subject]
        sent = db_rows(d.db, "SELECT * FROM notifications WHERE"
                       " incident_id = ?", i)
        assert len(mails) == len(sent) == 8, (mails, sent)
        for x in mails:
            assert x.subject.startswith(MARK), x.subject
            assert x.body.startswith("*** 演練 DRILL"), x.body[:200]
        for event in ("drill opened", "notify reminder",
                      "notify deadline missed"):
            got = sorted(x.rcpt_tos[0] for x in mails if f"/ {event} " in
                         x.subject)
            assert got == sorted([UNIT_HEAD, CISO] * (
                2 if event == "notify reminder" else 1)), (event, got)

        # The desktop: each shown notification says drill.
        wait_shown(desktop, MARK, "portal", "opened")
        wait_shown(desktop, MARK, "notify deadline missed")
        shown = [x for x in desktop.from_app() if "portal" in
                 x.get("summary", "")]
        assert len(shown) >= 4, shown
        for x in shown:
            assert x["summary"].startswith(MARK), x
        assert len(shown_with(desktop, "notify reminder")) == 2

        # What arrived where and when.
        rc, out, err = run(d.sock, "drill", "report", i)
        assert rc == 0, err
        assert f"演練 DRILL incident {i}: portal" in out, out
        assert "compressed 600 times" in out, out
        assert "8 queued, 8 delivered" in out, out
        assert out.count("delivered to the mail server") == 8, out
        for x in sent:
            assert f"#{x['id']}" in out, (x, out)
        for ev in ("opened", "notify reminder", "notify deadline missed",
                   "reported", "damage controlled"):
            assert ev in out, (ev, out)
        assert re.search(r"notify\s+level 3: .* 2 reminder\(s\), deadline "
                         r"missed", out), out
        assert re.search(r"report\s+level 3: .* running", out), out
        rc, out2, err = run(d.sock, "drill", "show", i)
        assert rc == 0 and out2 == out
        rc, out, err = run(d.sock, "drill", "report", 99)
        assert rc == 1 and "no incident 99" in err, err

        # Marked in the CLI's outputs and forms.
        rc, out, err = cli("--db", d.db, "show", i)
        assert rc == 0 and re.search(r"kind:\s+演練 drill", out), out
        rc, out, err = cli("--db", d.db, "incidents")
        assert rc == 0 and "[演練 DRILL] portal" in out, out
        rc, out, err = cli("--db", d.db, "report", i)
        assert rc == 0 and "演練 DRILL" in out and "5.8.1" in out, out
        rc, out, err = cli("--db", d.db, "register")
        assert rc == 0 and "[演練 DRILL] portal" in out, out

        # Out of the availability figures and the monthly digest.
        today = datetime.datetime.now(datetime.timezone.utc)
        rc, out, err = cli("--db", d.db, "--tz", "UTC", "availability",
                           "--from", today.strftime("%Y-%m-01"), "--to",
                           (today + datetime.timedelta(days=1)).strftime(
                               "%Y-%m-%d"))
        assert rc == 0 and "portal" not in out and \
            "no systems with outages" in out, out
        out = ok(d.sock, "drill", "--title", "桌上演練 tabletop")
        j = int(re.search(r"incident (\d+):", out).group(1))
        assert db_rows(d.db, "SELECT level FROM incidents WHERE id = ?",
                       j)[0]["level"] == 1
        month = today.strftime("%Y-%m")
        rc, out, err = cli("--db", d.db, "--tz", "UTC", "digest", "--month",
                           month)
        assert rc == 0, err
        assert re.search(r"incidents\s*[:：]?\s*0\b", out) or \
            re.search(r"事件數\s*[:：]?\s*0\b", out), out
        assert "tabletop" not in out, out
        rc, out, err = cli("--db", d.db, "--tz", "UTC", "digest", "--month",
                           month, "--include-drills")
        assert rc == 0, err
        assert re.search(r"事件數\s*[:：]?\s*1\b", out), out
        assert "[演練 DRILL] 桌上演練 tabletop" in out, out

        agent.stop()
        agent = None
        d.stop()
    finally:
        if agent is not None:
            agent.cleanup()
        smtp.stop()
