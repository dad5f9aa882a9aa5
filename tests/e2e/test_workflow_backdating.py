"""A missed notification deadline cannot be turned into a met one by
back-dating the portal report (issue 15, item 4).

One core system fails under a notification clock of seconds and nobody
reports it in time: the daemon records "notify deadline missed".  Then a
person tries `rtowatch reported --at` with times the record cannot hold:
before the incident was opened (confirmed), in the future, 1970 (which
used to mean "now"), a bare date.  Each is refused with its reason and
nothing changes.  A real report in +08:00 is accepted and stored in UTC,
with the time it was entered beside it; the clock stays missed (late) in
show, the register and form 01, which says "reported at X, entered at Y".
A second report without --reason is refused; with one it is a correction,
local to --tz, and the first ticket stays in the timeline beside it.
"""
import datetime

from conftest import (api, cli, db_rows, events, fmt_ms, now_ms, parse_time,
                      rules_file, short_policy, show, system_rules, timeline,
                      wait_for, wait_incident, wait_socket)

UTF8 = {"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
TPE = datetime.timezone(datetime.timedelta(hours=8))


def local(ms, tz=TPE, offset=True):
    """MS as a wall time of TZ to the second, with its offset or not."""
    t = datetime.datetime.fromtimestamp(ms / 1000, tz)
    return t.isoformat(timespec="seconds") if offset else \
        t.strftime("%Y-%m-%dT%H:%M:%S")


def test_backdated_report_is_refused_and_missed_stays_missed(scenario):
    svc = scenario.listener()
    d = scenario.daemon()
    policy = short_policy(scenario.dir, notify="2s", notify_remind="1s")
    d.write_rules(rules_file(d.db, system_rules("portal", svc.port,
                                                core=True), policy=policy))
    d.start()
    wait_socket(d.sock)
    svc.stop()
    inc = wait_incident(d.db, "portal")
    iid = inc["id"]
    wait_for(lambda: events(d.db, iid, "notify deadline missed"), 15,
             "the missed notification deadline")
    opened = parse_time(inc["opened_at"])

    def reported(*args, env=None):
        return cli("--socket", d.sock, *args[:0], "reported", iid,
                   "--ticket", "AISAC-2026-0100", *args, env=env)

    def untouched():
        row = db_rows(d.db, "SELECT reported_at, ticket FROM incidents "
                      "WHERE id = ?", iid)[0]
        assert row == {"reported_at": None, "ticket": None}, row
        clock = db_rows(d.db, "SELECT stopped_at FROM clocks WHERE "
                        "incident_id = ? AND kind = 'notify'", iid)
        assert clock[0]["stopped_at"] is None, clock

    # Before the incident was opened: refused, with both times named.
    rc, out, err = reported("--at", "2020-01-01T00:00:00Z")
    assert rc == 1, (rc, out, err)
    assert "before the incident's opening" in err, err
    assert inc["opened_at"][:19] in err, err
    rc, out, err = reported("--at", fmt_ms(opened - 1000))
    assert rc == 1 and "before the incident's opening" in err, err
    # In the future beyond a minute's skew.
    rc, out, err = reported("--at", fmt_ms(now_ms() + 3600_000))
    assert rc == 1 and "in the future" in err, (rc, err)
    # 1970 is not "now", neither from the CLI nor on the socket.
    rc, out, err = reported("--at", "1970-01-01T00:00:00Z")
    assert rc == 2 and "not a time" in err, (rc, err)
    status, body = api(d.sock, "POST", f"/v1/incidents/{iid}/reported",
                       {"ticket": "X", "at": "1970-01-01T00:00:00.000Z"})
    assert status == 400 and "not a time" in body["error"], (status, body)
    # A bare date or words: a usage error.
    for bad in ("2026-01-01", "yesterday", "2026-13-01T00:00"):
        rc, out, err = reported("--at", bad)
        assert rc == 2 and "is not a time like" in err, (bad, rc, err)
    untouched()

    # A real report time, given in Taipei's offset: stored in UTC.
    claimed = (opened // 1000 + 1) * 1000
    assert claimed <= now_ms()
    rc, out, err = reported("--at", local(claimed))
    assert rc == 0, err
    row = db_rows(d.db, "SELECT reported_at, reported_entered_at, ticket "
                  "FROM incidents WHERE id = ?", iid)[0]
    assert row["reported_at"] == fmt_ms(claimed), row
    entered = parse_time(row["reported_entered_at"])
    assert entered > claimed and abs(entered - now_ms()) < 30_000, row

    # The clock was recorded missed: it stays so, wherever it is shown.
    clock = db_rows(d.db, "SELECT stopped_at, breached_at, due_at FROM "
                    "clocks WHERE incident_id = ? AND kind = 'notify'",
                    iid)[0]
    assert clock["breached_at"] is not None, clock
    assert clock["stopped_at"] == fmt_ms(claimed) < clock["due_at"], clock
    states = [c["state"] for c in show(d.db, iid)["clocks"]
              if c["kind"] == "notify"]
    assert states == ["late"], states
    rc, out, err = cli("--db", d.db, "register", "--format", "csv")
    assert rc == 0, err
    head = out.splitlines()[0].split(",")
    line = [l.split(",") for l in out.splitlines()[1:]
            if l.startswith(f"{iid},")][0]
    assert line[head.index("clocks_met")] == "0", out
    assert line[head.index("clocks_late")] == "1", out

    # Form 01 says when it was entered, in both languages.
    rc, out, err = cli("--db", d.db, "--tz", "UTC", "report", iid,
                       "--lang", "en", env=UTF8)
    assert rc == 0, err
    assert (f"reported at {fmt_ms(claimed)[:10]} {fmt_ms(claimed)[11:19]}"
            in out), out
    assert "entered at " + row["reported_entered_at"][:10] in out, out
    assert "late" in out
    rc, out, err = cli("--db", d.db, "report", iid, env=UTF8)
    assert rc == 0 and "登錄於" in out, out

    # A second report is a correction: it needs a reason.
    rc, out, err = cli("--socket", d.sock, "reported", iid, "--ticket",
                       "AISAC-2026-0101")
    assert rc == 1 and "needs --reason" in err, (rc, err)
    assert "AISAC-2026-0100" in err, err
    fixed = claimed + 2000
    rc, out, err = cli("--socket", d.sock, "--tz", "Asia/Taipei",
                       "reported", iid, "--ticket", "AISAC-2026-0101",
                       "--at", local(fixed, offset=False), "--reason",
                       "the portal issued a new ticket number")
    assert rc == 0, err
    row = db_rows(d.db, "SELECT reported_at, ticket FROM incidents "
                  "WHERE id = ?", iid)[0]
    assert row == {"reported_at": fmt_ms(fixed),
                   "ticket": "AISAC-2026-0101"}, row
    names = [e["event"] for e in timeline(d.db, iid)]
    assert names.count("reported") == 1, names
    assert "report corrected" in names, names
    first = events(d.db, iid, "reported")[0]["detail"]
    corr = events(d.db, iid, "report corrected")[0]["detail"]
    assert "AISAC-2026-0100" in first, first
    assert "AISAC-2026-0100" in corr and "AISAC-2026-0101" in corr, corr
    assert "new ticket number" in corr, corr
    rc, out, err = cli("--db", d.db, "show", iid)
    assert rc == 0 and "AISAC-2026-0100" in out and \
        "report corrected" in out, out
    states = [c["state"] for c in show(d.db, iid)["clocks"]
              if c["kind"] == "notify"]
    assert states == ["late"], states
    d.stop()
    # Everything written, corrections included, is bound to the chain.
    rc, out, err = cli("--db", d.db, "verify")
    assert rc == 0 and "records OK" in out, (rc, out, err)


def test_follow_up_report_cannot_precede_the_raised_level(scenario):
    """After a report in time the level is raised (5.4.2): its own clock
    needs the follow-up report (續行通報), whose time cannot precede that
    clock; the first report's time may, when it is the first."""
    svc = scenario.listener()
    d = scenario.daemon()
    policy = short_policy(scenario.dir, notify="1h", notify_remind="30m")
    d.write_rules(rules_file(d.db, system_rules("registry", svc.port,
                                                core=True), policy=policy))
    d.start()
    wait_socket(d.sock)
    svc.stop()
    inc = wait_incident(d.db, "registry")
    iid = inc["id"]
    opened = parse_time(inc["opened_at"])
    first = (opened // 1000 + 1) * 1000
    wait_for(lambda: now_ms() > first, 5, "a second past the opening")
    rc, out, err = cli("--socket", d.sock, "reported", iid, "--ticket",
                       "AISAC-2026-0200", "--at", fmt_ms(first))
    assert rc == 0, err
    rc, out, err = cli("--socket", d.sock, "level", iid, "--integrity", "4",
                       "--reason", "grades altered")
    assert rc == 0, err
    raised = db_rows(d.db, "SELECT started_at FROM clocks WHERE incident_id"
                     " = ? AND kind = 'notify' AND level = 4", iid)[0]
    start = parse_time(raised["started_at"])

    rc, out, err = cli("--socket", d.sock, "reported", iid, "--ticket",
                       "AISAC-2026-0200", "--at", fmt_ms(first))
    assert rc == 1 and "follow-up report (續行通報)" in err, (rc, err)
    clock = db_rows(d.db, "SELECT stopped_at FROM clocks WHERE incident_id"
                    " = ? AND kind = 'notify' AND level = 4", iid)[0]
    assert clock["stopped_at"] is None, clock

    # Now: the follow-up, no reason needed; it stops the level-4 clock.
    rc, out, err = cli("--socket", d.sock, "reported", iid, "--ticket",
                       "AISAC-2026-0200", "--note", "續行通報")
    assert rc == 0, err
    clock = db_rows(d.db, "SELECT stopped_at FROM clocks WHERE incident_id"
                    " = ? AND kind = 'notify' AND level = 4", iid)[0]
    assert parse_time(clock["stopped_at"]) >= start, clock
    reps = events(d.db, iid, "reported")
    assert len(reps) == 2 and "follow-up" in reps[1]["detail"], reps
    # Nothing runs now: a third report is a correction.
    rc, out, err = cli("--socket", d.sock, "reported", iid, "--ticket",
                       "AISAC-2026-0201")
    assert rc == 1 and "needs --reason" in err, (rc, err)
    d.stop()
    rc, out, err = cli("--db", d.db, "verify")
    assert rc == 0, err
