"""Another process holds the database's write lock: the daemon keeps
watching on time, and what it saw meanwhile is recorded afterwards.

An administrator runs VACUUM, or leaves `sqlite3 rtowatch.db` open in a
transaction.  Here a real sqlite3 shell holds BEGIN EXCLUSIVE for about
ten seconds while two systems probed every 200 ms change: "alpha" goes
down and comes back, all inside the fault, and "beta" goes down and
stays down.  During the fault the daemon's own schedule figures
(SIGUSR1) must show the probes starting on time (p99 under 100 ms), and
`rtowatch status` must say the store is failing and how many changes
wait; after store-alert-after (3 s here) the log warns and a desktop
agent waiting on the event stream is told at once.  Once the lock is let go, both outages are in the records with the
times the test caused them, beta's incident was opened when beta went
down (not when the lock went away), the timeline's chain verifies and
nothing is written twice.  A person's change asked during the fault is
refused with 503, saying why.
"""
import re
import threading
import time

from conftest import (api, cli, db_rows, incidents_of, now_ms, parse_time,
                      rules_file, system_rules, wait_for, wait_socket)
import smtpserver
from storefault import Locker, schedule_stats

INTERVAL_MS = 200
# A probe every 200 ms, with 100 ms of timeout and the loop's own slack.
SLACK_MS = INTERVAL_MS + 200
FAULT_S = 10


def status(d):
    code, body = api(d.sock, "GET", "/v1/status")
    assert code == 200, body
    return body


def state_of(d, name):
    return {s["name"]: s["state"] for s in status(d)["systems"]}.get(name)


def test_a_held_write_lock_stalls_nothing_and_loses_nothing(scenario):
    # With a real SMTP server when aiosmtpd is there: the mail of what
    # happened under the lock goes out once, after it.
    smtp = None
    if smtpserver.available() is None:
        smtp = smtpserver.SmtpServer(scenario.dir).start()
    try:
        run(scenario, smtp)
    finally:
        if smtp is not None:
            smtp.stop()


def run(scenario, smtp):
    a = scenario.listener()
    b = scenario.listener()
    d = scenario.daemon()
    d.write_rules(rules_file(
        d.db,
        "set store-alert-after 3s\n",
        smtpserver.mail_rules(smtp.url) if smtp is not None else "",
        system_rules("alpha", a.port, every="200ms", down_after=2,
                     up_after=2),
        system_rules("beta", b.port, every="200ms", down_after=2,
                     up_after=2)))
    d.start()
    wait_socket(d.sock)
    wait_for(lambda: state_of(d, "alpha") == "up" and
             state_of(d, "beta") == "up", 20, "both systems up")

    # A desktop agent following the event stream: it is told when the
    # store has failed for store-alert-after, though nothing can be
    # written to the timeline the stream is made of.
    code, body = api(d.sock, "GET", "/v1/events")
    assert code == 200, body
    last = body["last"]
    alert = {}
    follower = threading.Thread(target=lambda: alert.update(zip(
        ("code", "body"), api(d.sock, "GET",
                              f"/v1/events?after={last}&wait=30"))))
    follower.start()
    wait_for(lambda: status(d)["event_clients"] == 1, 10,
             "the event stream's follower waiting")

    locker = Locker(d.db)
    try:
        fault_start = time.monotonic()
        schedule_stats(d)           # the figures from here on
        a.stop()
        a_down = now_ms()
        b.stop()
        b_down = now_ms()
        wait_for(lambda: re.search(r"alpha: down since .*incident \d+ "
                                   r"opened", d.run_log()), 10,
                 "alpha's outage seen while the lock is held")
        wait_for(lambda: re.search(r"beta: down since .*incident \d+ "
                                   r"opened", d.run_log()), 10,
                 "beta's outage seen while the lock is held")
        a.start()
        a_up = now_ms()
        wait_for(lambda: state_of(d, "alpha") == "up", 10,
                 "alpha back while the lock is held")
        assert not locker.writable(), "the lock went away too early"

        st = status(d)["store"]
        assert st["failing"] is True, st
        assert st["held"] >= 3, st      # alpha opened, restored; beta
        assert st["since"] is not None and st["error"], st
        rc, out, err = cli("--socket", d.sock, "status")
        assert rc == 0, err
        assert re.search(r"store: FAILING .* since .*\n +\d+ changes", out), \
            out
        assert "refuses writes" in d.run_log()

        # A person's change cannot be judged on records that miss what
        # is held: refused, with the reason.
        inc = int(re.search(r"beta: down since .*incident (\d+) opened",
                            d.run_log()).group(1))
        code, body = api(d.sock, "POST", f"/v1/incidents/{inc}/ack",
                         {"note": "seen"})
        assert code == 503, (code, body)
        assert "database is failing" in body["error"], body

        follower.join(15)
        assert alert.get("code") == 200, alert
        ev = alert["body"]["events"]
        assert len(ev) == 1 and ev[0]["event"] == "store failing" and \
            ev[0]["transient"] is True, ev
        assert "changes are held in memory" in ev[0]["detail"], ev
        assert alert["body"]["last"] == last, alert
        # store-alert-after is 3s; the store's 1 s retry tick may add one
        # on a loaded machine, never take one away.
        assert re.search(r"store failing \(資料庫寫入失敗\): the database "
                         r".* has refused writes for [34](\.\d+)?s", d.run_log()), \
            d.tail()
        assert status(d)["store"]["alerted"] is True

        wait_for(lambda: time.monotonic() - fault_start >= FAULT_S,
                 FAULT_S + 5, "the fault to last its time")
        started, busy, late, p50, p99 = schedule_stats(d)
        print(f"during the {FAULT_S} s lock: {started} probes started, "
              f"late p50 {p50} ms, p99 {p99} ms, skipped {busy}+{late}")
        assert started >= 2 * (FAULT_S * 1000 // INTERVAL_MS) * 0.8, \
            (started, d.tail())
        assert p99 < 100, (f"probes started late while the database was "
                           f"locked: p99 {p99} ms\n{d.tail()}")
        # Starts skipped because the loop was late: none from the store;
        # a rare one on a loaded machine is not what this is about.
        assert late <= started // 50, (late, d.tail())
        if smtp is not None:
            assert smtp.messages() == [], \
                "mail went out while its row could not be marked sent"
    finally:
        locker.release()
        locker.close()

    wait_for(lambda: not status(d)["store"]["failing"], 10,
             "the held changes written once the lock is gone")
    assert re.search(r"store: .* accepts writes again: .* the \d+ changes "
                     r"held in memory meanwhile were written",
                     d.run_log()), d.tail()

    alpha = incidents_of(d.db, "alpha")
    beta = incidents_of(d.db, "beta")
    assert len(alpha) == 1 and len(beta) == 1, (alpha, beta)
    alpha, beta = alpha[0], beta[0]
    started = parse_time(alpha["started_at"])
    restored = parse_time(alpha["restored_at"])
    assert 0 <= started - a_down <= SLACK_MS, (alpha, a_down)
    assert 0 <= restored - a_up <= SLACK_MS, (alpha, a_up)
    assert alpha["status"] == "restored", alpha
    assert beta["status"] == "open" and beta["restored_at"] is None, beta
    b_started = parse_time(beta["started_at"])
    assert 0 <= b_started - b_down <= SLACK_MS, (beta, b_down)
    # Opened (and its notify clock started) at the second failure, not
    # when the lock went away.
    assert parse_time(beta["opened_at"]) - b_started <= 2 * SLACK_MS, beta

    outages = db_rows(d.db, "SELECT system, started_at, ended_at"
                      " FROM outages ORDER BY system")
    assert [o["system"] for o in outages] == ["alpha", "beta"], outages
    assert outages[0]["started_at"] == alpha["started_at"], outages
    assert outages[0]["ended_at"] == alpha["restored_at"], outages
    assert outages[1]["ended_at"] is None, outages
    clocks = db_rows(d.db, "SELECT incident_id, kind, level, started_at"
                     " FROM clocks WHERE incident_id = ?", beta["id"])
    assert {c["kind"] for c in clocks} >= {"notify", "restore"}, clocks
    assert all(c["started_at"] == beta["opened_at"] for c in clocks), clocks
    for what, inc in (("opened", alpha), ("restored", alpha),
                      ("opened", beta)):
        rows = db_rows(d.db, "SELECT id FROM timeline WHERE incident_id = ?"
                       " AND event = ?", inc["id"], what)
        assert len(rows) == 1, (what, inc["id"], rows)
    mails = db_rows(d.db, "SELECT incident_id, event, count(*) AS n"
                    " FROM notifications GROUP BY incident_id, event,"
                    " recipient HAVING n > 1")
    assert mails == [], mails
    assert db_rows(d.db, "SELECT count(*) AS n FROM timeline"
                   " WHERE event = 'store recovered'")[0]["n"] == 1

    rc, out, err = cli("--db", d.db, "verify")
    assert rc == 0, (out, err)

    if smtp is not None:
        rows = db_rows(d.db, "SELECT id, incident_id, event FROM"
                       " notifications ORDER BY id")
        assert len(rows) == 3, rows     # two opened, one restored
        wait_for(lambda: all(r["state"] == "sent" for r in db_rows(
            d.db, "SELECT state FROM notifications")), 20,
            "the mail held during the fault sent once it is over")
        subjects = sorted(m.subject for m in smtp.messages())
        assert len(subjects) == 3 and len(set(subjects)) == 3, subjects

    # The clocks of beta's incident run again from the records.
    code, body = api(d.sock, "POST", f"/v1/incidents/{beta['id']}/ack",
                     {"note": "seen"})
    assert code == 200, body
    d.stop()
