"""An auditor reads a database with `rtowatch --db FILE ...`.

The database is a real one: the daemon watched a service that went down
and came back (one incident, restored), then was stopped.  The auditor
lists incidents as a table, JSON and CSV, shows the incident with its
timeline, makes the usual mistakes (exit 2 for usage errors, 1 for a
missing file or an unknown incident) and must leave the file untouched:
the CLI reads read-only.
"""
import csv
import hashlib
import io
import json
import os
import re
import types

import pytest

from conftest import (Scenario, cli, incidents, parse_time,
                      rules_file, system_rules, wait_incident)

SYSTEM = "library-catalogue"

KEYS = {"id", "kind", "system", "level", "availability_level", "major",
        "status", "core", "critical_infrastructure", "rto_ms", "cause",
        "started_at", "opened_at", "notify_due_at", "restore_due_at",
        "restored_at", "within_rto"}
TIME_KEYS = ("started_at", "opened_at", "notify_due_at", "restore_due_at",
             "restored_at")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """A database holding one restored incident, its daemon stopped."""
    sc = Scenario(tmp_path_factory.mktemp("cli"))
    try:
        service = sc.listener()
        d = sc.daemon()
        d.write_rules(rules_file(d.db, system_rules(
            SYSTEM, service.port, core=False, ci=False, rto="1d")))
        d.start()
        service.wait_accepted(2)
        service.stop()
        wait_incident(d.db, SYSTEM)
        service.start()
        inc = wait_incident(d.db, SYSTEM, restored=True)
        d.stop()
        yield types.SimpleNamespace(db=d.db, dir=sc.dir, incident=inc)
    finally:
        sc.close()


def test_incidents_json(recorded):
    rows = incidents(recorded.db)
    assert len(rows) == 1, rows
    row = rows[0]
    assert KEYS <= set(row), f"missing keys: {KEYS - set(row)}"
    assert isinstance(row["id"], int) and row["id"] == recorded.incident["id"]
    assert row["kind"] == "outage" and row["system"] == SYSTEM
    assert row["status"] == "restored"
    for key in ("level", "availability_level", "rto_ms"):
        assert isinstance(row[key], int) and not isinstance(row[key], bool), \
            f"{key}: {row[key]!r} is not an integer"
    for key in ("major", "core", "critical_infrastructure", "within_rto"):
        assert isinstance(row[key], bool), f"{key}: {row[key]!r} not a bool"
    assert row["level"] == 1 and row["major"] is False
    assert row["rto_ms"] == 86400 * 1000
    assert "refused" in row["cause"].lower()
    for key in TIME_KEYS:
        parse_time(row[key])


def test_incidents_csv(recorded):
    rc, out, err = cli("--db", recorded.db, "incidents", "--format", "csv")
    assert rc == 0, err
    _, raw, _ = cli("--db", recorded.db, "incidents", "--format", "csv",
                    raw=True)
    assert raw.endswith(b"\r\n") and raw.count(b"\n") == raw.count(b"\r\n"), \
        f"RFC 4180 records end with CRLF: {raw!r}"
    reader = csv.DictReader(io.StringIO(out))
    assert KEYS <= set(reader.fieldnames), \
        f"missing columns: {KEYS - set(reader.fieldnames)}"
    rows = list(reader)
    assert len(rows) == 1, rows
    row, inc = rows[0], recorded.incident
    for key in ("id", "level", "rto_ms"):
        assert row[key] == str(inc[key]), f"{key}: {row[key]!r}"
    for key in ("kind", "system", "status", "cause") + TIME_KEYS:
        assert row[key] == inc[key], f"{key}: {row[key]!r} != {inc[key]!r}"


def test_incidents_table(recorded):
    rc, default, err = cli("--db", recorded.db, "incidents")
    assert rc == 0, err
    assert SYSTEM in default, default
    rc, table, err = cli("--db", recorded.db, "incidents", "--format",
                         "table")
    assert rc == 0, err
    assert table == default, "table is the default format"
    assert "no incidents" not in table


def test_show_text(recorded):
    rc, out, err = cli("--db", recorded.db, "show", recorded.incident["id"])
    assert rc == 0, err
    assert SYSTEM in out
    for event in ("opened", "restored"):
        assert event in out, f"timeline event {event!r} not shown:\n{out}"


def test_show_json(recorded):
    inc = recorded.incident
    rc, out, err = cli("--db", recorded.db, "show", inc["id"], "--format",
                       "json")
    assert rc == 0, err
    rec = json.loads(out)
    assert isinstance(rec, dict), out
    for key in KEYS:
        assert rec.get(key) == inc[key], f"{key}: {rec.get(key)!r}"
    timeline = rec["timeline"]
    assert isinstance(timeline, list) and timeline, rec
    for e in timeline:
        assert {"id", "at", "event", "actor", "detail"} <= set(e), e
        parse_time(e["at"])
    events = [e["event"] for e in timeline]
    assert "opened" in events and "restored" in events, events


@pytest.mark.parametrize("args", [
    ["frobnicate"],
    ["incidents", "--format", "xml"],
    ["incidents", "--no-such-option"],
    ["show", "1", "--format", "xml"],
], ids=["unknown-command", "bad-format", "unknown-option",
        "show-bad-format"])
def test_usage_error_exits_2(recorded, args):
    rc, out, err = cli("--db", recorded.db, *args)
    assert rc == 2, f"rtowatch {' '.join(args)}: exit {rc}, stderr {err!r}"
    assert err.strip(), "a usage error says what is wrong on stderr"


def test_missing_database_exits_1_and_creates_nothing(tmp_path):
    missing = tmp_path / "nowhere.db"
    rc, out, err = cli("--db", missing, "incidents", "--format", "json")
    assert rc == 1, f"exit {rc}, stderr {err!r}"
    assert err.strip()
    assert not missing.exists(), "the CLI created the missing database"


def test_unknown_incident_exits_1(recorded):
    rc, out, err = cli("--db", recorded.db, "show", "999999")
    assert rc == 1, f"exit {rc}, stderr {err!r}"
    assert err.strip()


def test_cli_does_not_modify_the_database(recorded):
    def state():
        with open(recorded.db, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        st = os.stat(recorded.db)
        return digest, st.st_size, st.st_mtime_ns

    before = state()
    iid = recorded.incident["id"]
    for args in (["incidents"], ["incidents", "--format", "json"],
                 ["incidents", "--format", "csv"], ["show", iid],
                 ["show", iid, "--format", "json"], ["show", "999999"],
                 ["incidents", "--format", "xml"]):
        cli("--db", recorded.db, *args)
    assert state() == before, "the database file changed under the CLI"


def test_empty_database_says_no_incidents(scenario):
    """A fresh daemon, nothing down: the CLI says so in every format."""
    service = scenario.listener()
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, system_rules("quiet", service.port)))
    d.start()
    service.wait_accepted(2)
    rc, out, err = cli("--db", d.db, "incidents")
    assert rc == 0, err
    assert "no incidents" in out.lower(), out
    assert incidents(d.db) == []
    rc, out, err = cli("--db", d.db, "incidents", "--format", "csv")
    assert rc == 0, err
    reader = csv.DictReader(io.StringIO(out))
    assert KEYS <= set(reader.fieldnames or []), f"no header row: {out!r}"
    assert list(reader) == []
    d.stop()


def help_commands():
    """(name, first usage line) of each command `rtowatch --help` lists,
    the database readers and the socket verbs, in its order."""
    rc, out, err = cli("--help")
    assert rc == 0 and err == "", err
    cmds, section = [], None
    for line in out.splitlines():
        if line == "commands:" or line.startswith("workflow, "):
            section = line
        elif not line.strip() or line.startswith("RECURRING"):
            section = None
        elif section and re.match(r"  [a-z]", line):
            name, _, usage = line[2:].partition(" ")
            # "  warning confirm|...": another form of the one above
            if name not in [n for n, _ in cmds]:
                cmds.append((name, usage))
    return cmds


def test_usage_errors_print_the_line_help_lists(tmp_path):
    """Every command --help lists is one rtowatch runs, and its usage
    error (exit 2) repeats the usage --help gives for it: the list and
    the errors come from the same table."""
    cmds = help_commands()
    names = [n for n, _ in cmds]
    assert {"incidents", "show", "warnings", "verify"} <= set(names), names
    assert {"status", "ack", "close", "open", "drill"} <= set(names), names
    env = {"RTOWATCH_SOCKET": str(tmp_path / "no.sock")}
    for name, usage in cmds:
        rc, out, err = cli("--db", tmp_path / "no.db", name,
                           "--no-such-option", env=env)
        assert rc == 2, (name, rc, err)
        assert "unknown command" not in err, (name, err)
        lines = [l for l in err.splitlines() if l.startswith("usage: ")]
        assert lines and f" {name} " in lines[0] + " " and \
            lines[0].endswith(usage.rstrip()), (name, usage, err)
