"""Clocks as `show` and `incidents` give them after a level is raised
(issue 17, "Clocks in show"): the restore clock takes the raised level's
deadline and is named by that level; the notify clock of the lower level
is marked superseded; the incidents table's NOTIFY DUE is the raised
level's deadline, not the first one."""
import re

from conftest import (cli, parse_time, rules_file, short_policy,
                      system_rules, wait_incident, wait_socket)


def clock_lines(text):
    part = text.split("\nclocks:\n", 1)[1].split("\ntimeline:\n", 1)[0]
    return [l.split(None, 4) for l in part.splitlines()]


def test_raised_level_names_its_clocks(scenario):
    svc = scenario.listener()
    d = scenario.daemon()
    # Restore within 1h at levels 1-2, 30m at 3-4; notify within 1h.
    policy = short_policy(scenario.dir, notify="1h", notify_remind="30m",
                          restore12="1h", restore34="30m")
    d.write_rules(rules_file(d.db, system_rules(
        "registry", svc.port, core=True, rto="1h"), policy=policy))
    d.start()
    wait_socket(d.sock)
    svc.stop()
    inc = wait_incident(d.db, "registry")
    iid = inc["id"]
    assert inc["level"] == 2, inc
    rc, out, err = cli("--socket", d.sock, "level", iid, "--integrity",
                       "3", "--reason", "grades altered")
    assert rc == 0, err
    rc, out, err = cli("--db", d.db, "--tz", "UTC", "show", iid)
    assert rc == 0, err
    clocks = clock_lines(out)
    restore = [c for c in clocks if c[0] == "restore"]
    assert len(restore) == 1, out
    # 30 minutes from the start: the level-3 deadline, named level 3.
    started = parse_time(inc["started_at"])
    due = parse_time(restore[0][2] + "T" + restore[0][3] + ".000Z")
    assert abs(due - started - 1800_000) < 1500, (inc, out)
    assert restore[0][1] == "3", out
    notify = {c[1]: c for c in clocks if c[0] == "notify"}
    assert set(notify) == {"2", "3"}, out
    assert "superseded by level 3" in notify["2"][4], out
    assert "superseded" not in notify["3"][4], out
    # The notify deadline shown is level 3's, in show and in the table.
    n3 = f"{notify['3'][2]} {notify['3'][3]}"
    assert re.search(rf"^notify due:\s+{n3}$", out, re.M), out
    rc, table, err = cli("--db", d.db, "--tz", "UTC", "incidents")
    assert rc == 0, err
    row = [l for l in table.splitlines() if l.split()[:2] == [str(iid),
                                                             "registry"]]
    assert len(row) == 1 and n3 in row[0], table
    d.stop()
