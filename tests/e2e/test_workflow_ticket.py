"""Recording the portal's ticket number stops the notification clock
(5.3.7.3.1), through the real CLI and the control socket.

Two systems fail together under a notification clock of seconds.  The
IMS team reports one on the portal and records its ticket before the
deadline; the other is left alone.  The first's clock stops with the
ticket and the account that recorded it, and never reminds or breaches
afterwards; the second's deadline is missed, as the control.
"""
import getpass

from conftest import (api, cli, db_rows, events, rules_file, short_policy,
                      system_rules, timeline, wait_for, wait_incident,
                      wait_socket)


def test_ticket_stops_the_notify_clock(scenario):
    reported_svc = scenario.listener()
    ignored_svc = scenario.listener()
    d = scenario.daemon()
    policy = short_policy(scenario.dir, notify="5s", notify_remind="4s 1s")
    d.write_rules(rules_file(
        d.db,
        system_rules("portal-reported", reported_svc.port, core=True),
        system_rules("portal-ignored", ignored_svc.port, core=True),
        policy=policy))
    d.start()
    wait_socket(d.sock)
    reported_svc.stop()
    ignored_svc.stop()
    inc = wait_incident(d.db, "portal-reported")
    other = wait_incident(d.db, "portal-ignored")

    rc, out, err = cli("--socket", d.sock, "reported", inc["id"],
                       "--ticket", "AISAC-2026-0042", "--note",
                       "entered on the portal by phone back-up")
    assert rc == 0, err
    assert f"incident {inc['id']}: reported on the portal" in out, out

    # The control system's clock runs out; by then the reported one's
    # deadline has passed too.
    wait_for(lambda: events(d.db, other["id"], "notify deadline missed"),
             15, "the unreported incident's missed deadline")

    row = db_rows(d.db, "SELECT ticket, reported_at, reported_by FROM "
                  "incidents WHERE id = ?", inc["id"])[0]
    assert row["ticket"] == "AISAC-2026-0042", row
    assert row["reported_by"] == getpass.getuser(), row
    clock = db_rows(d.db, "SELECT stopped_at, stopped_by, breached_at FROM "
                    "clocks WHERE incident_id = ? AND kind = 'notify'",
                    inc["id"])
    assert len(clock) == 1 and clock[0]["stopped_at"] is not None, clock
    assert clock[0]["breached_at"] is None, clock
    assert "AISAC-2026-0042" in clock[0]["stopped_by"], clock

    names = [e["event"] for e in timeline(d.db, inc["id"])]
    assert "reported" in names, names
    assert "notify deadline missed" not in names, names
    after = names[names.index("reported"):]
    assert "notify reminder" not in after, names
    rep = events(d.db, inc["id"], "reported")[0]
    assert rep["actor"] == getpass.getuser()
    assert "AISAC-2026-0042" in rep["detail"]

    # The ticket is required, and an unknown incident is named.
    rc, out, err = cli("--socket", d.sock, "reported", inc["id"])
    assert rc == 2 and "--ticket is required" in err, err
    rc, out, err = cli("--socket", d.sock, "reported", "999", "--ticket",
                       "X")
    assert rc == 1 and "no incident 999" in err, err

    # Through the socket directly: the same action answers with its event.
    status, body = api(d.sock, "POST",
                       f"/v1/incidents/{other['id']}/reported",
                       {"ticket": "AISAC-2026-0043"})
    assert status == 200 and body["ok"] is True, body
    ev = [e for e in timeline(d.db, other["id"])
          if e["id"] == body["event"]]
    assert ev and ev[0]["event"] == "reported", (body, ev)
    d.stop()
