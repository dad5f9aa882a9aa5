"""The IMS team looks for incidents: rtowatch incidents with its filters,
show with the recurring flag, and a table fit for a terminal.

The records come from real daemon runs (cli_records.py): three outages of
"圖書館系統" (#1-#3), a long one of "mail" (#4, major, still open) and a
planned one of "erp".  Filters are checked against what those runs
wrote, in every format; the table is checked for CJK alignment by
display width, for colours only on a terminal, and for fitting a narrow
terminal.
"""
import csv
import datetime
import fcntl
import io
import json
import os
import pty
import re
import struct
import subprocess
import termios
import unicodedata
import zoneinfo

import pytest

import cli_records
from cli_records import LIBRARY, MAIL
from conftest import binary, cli, db_rows, parse_time

UTF8 = {"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}


@pytest.fixture(scope="module")
def rec(tmp_path_factory):
    return cli_records.recorded(tmp_path_factory)


def ids(db, *args):
    rc, out, err = cli("--db", db, "incidents", "--format", "json", *args)
    assert rc == 0, f"incidents {' '.join(args)}: exit {rc}: {err}"
    return [r["id"] for r in json.loads(out)]


def cli_ids(db, *args):
    """ids, with global options (--tz) before the command."""
    cut = args.index("--from")
    rc, out, err = cli("--db", db, *args[:cut], "incidents", "--format",
                       "json", *args[cut:])
    assert rc == 0, err
    return [r["id"] for r in json.loads(out)]


def width(s):
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1
               for c in s)


def test_filters_by_system_level_status_kind_major(rec):
    assert ids(rec.db) == [1, 2, 3, 4]
    assert ids(rec.db, "--system", LIBRARY) == [1, 2, 3]
    assert ids(rec.db, "--system", MAIL) == [4]
    assert ids(rec.db, "--system", "erp") == [], "a planned outage opens none"
    # mail outlasted its 2 s RTO: major, level 2 (non-core, not in time).
    assert ids(rec.db, "--major") == [4]
    assert ids(rec.db, "--level", "2") == [1, 2, 3, 4]
    assert ids(rec.db, "--level", "1") == []
    assert ids(rec.db, "--status", "open") == [4]
    assert ids(rec.db, "--status", "restored") == [1, 2, 3]
    assert ids(rec.db, "--status", "closed") == []
    assert ids(rec.db, "--kind", "outage") == [1, 2, 3, 4]
    assert ids(rec.db, "--kind", "drill") == []
    assert ids(rec.db, "--system", LIBRARY, "--status", "open") == []


def test_filters_by_date_in_the_zone_and_by_iso_time(rec):
    rows = json.loads(cli("--db", rec.db, "incidents", "--format",
                          "json")[1])
    started = {r["id"]: parse_time(r["started_at"]) for r in rows}
    # Today and tomorrow in Asia/Taipei (UTC+8, no DST).
    tpe = datetime.timezone(datetime.timedelta(hours=8))
    day = datetime.datetime.fromtimestamp(started[1] / 1000, tpe).date()
    nxt = day + datetime.timedelta(days=1)
    assert ids(rec.db, "--from", str(day), "--to", str(day)) == \
        [1, 2, 3, 4], "--to DAY includes the whole day"
    assert ids(rec.db, "--from", str(nxt)) == []
    assert ids(rec.db, "--to", str(day - datetime.timedelta(days=1))) == []
    # Los Angeles is 16 hours behind: its date of the same instant may be
    # another, and --tz says whose date --from means.
    la = zoneinfo.ZoneInfo("America/Los_Angeles")
    la_day = datetime.datetime.fromtimestamp(started[1] / 1000, la).date()
    assert cli_ids(rec.db, "--tz", "America/Los_Angeles", "--from",
                   str(la_day), "--to", str(la_day)) == [1, 2, 3, 4]
    assert ids(rec.db, "--from", str(la_day), "--to", str(la_day)) == \
        ([1, 2, 3, 4] if la_day == day else [])
    # A full ISO time between #2 and #3 splits them.
    mid = (started[2] + started[3]) // 2
    iso = datetime.datetime.fromtimestamp(
        mid / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f"
                                                    )[:-3] + "Z"
    assert ids(rec.db, "--from", iso) == [3, 4]
    assert ids(rec.db, "--to", iso) == [1, 2]
    local = datetime.datetime.fromtimestamp(mid / 1000, tpe).strftime(
        "%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+08:00"
    assert ids(rec.db, "--from", local) == [3, 4]


def test_overdue_is_a_running_clock_past_its_deadline(rec):
    # Before people's work every notify clock is late.
    assert ids(rec.raw, "--overdue") == [1, 2, 3, 4]
    # `rtowatch reported` stopped #1-#3's notify clocks: no longer overdue.
    assert ids(rec.db, "--overdue") == [4]
    rows = db_rows(rec.db, "SELECT DISTINCT incident_id FROM clocks"
                   " WHERE stopped_at IS NULL AND due_at <"
                   " strftime('%Y-%m-%dT%H:%M:%fZ', 'now') ORDER BY 1")
    assert [r["incident_id"] for r in rows] == [4]


@pytest.mark.parametrize("args,msg", [
    (["--level", "5"], "--level"),
    (["--status", "gone"], "--status"),
    (["--kind", "storm"], "--kind"),
    (["--from", "2026-13-01"], "--from"),
    (["--from", "yesterday"], "--from"),
    (["--from", "2026-02-31"], "--from"),
    (["--to", "2026-11-26T25:00"], "--to"),
    (["--to", "2026-11-26T09:00+8"], "--to"),
    (["--from", "2026-11-02", "--to", "2026-11-01"], "--to"),
])
def test_bad_filters_exit_2(rec, args, msg):
    rc, out, err = cli("--db", rec.db, "incidents", *args)
    assert rc == 2, f"{args}: exit {rc}"
    assert msg in err, err
    assert out == ""


def test_csv_filtered_parses_back(rec):
    rc, out, err = cli("--db", rec.db, "incidents", "--format", "csv",
                       "--system", LIBRARY)
    assert rc == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["id"] for r in rows] == ["1", "2", "3"]
    third = rows[2]
    assert third["system"] == LIBRARY
    for key, value in cli_records.FORM.items():
        assert third[key] == value, key


def test_json_carries_the_documented_form_fields(rec):
    rc, out, err = cli("--db", rec.db, "incidents", "--format", "json")
    assert rc == 0, err
    row = json.loads(out)[2]
    documented = {"id", "kind", "system", "owner", "level",
                  "availability_level", "major", "status", "core",
                  "critical_infrastructure", "rto_seconds", "rto_ms",
                  "cause", "started_at", "opened_at", "notify_due_at",
                  "restore_due_at", "restored_at", "within_rto",
                  "closed_at", "closed_by", "confidentiality_level",
                  "integrity_level", "category", "description", "scope",
                  "loss", "support", "measures", "containment",
                  "investigation", "root_cause", "prevention",
                  "prevention_tracking", "acknowledged_at",
                  "acknowledged_by", "reported_at", "ticket", "reported_by",
                  "controlled_at", "controlled_by", "report_filed_at",
                  "report_filed_by", "warning_id", "corrective_action_ref",
                  "other_units_affected", "major_reason", "portal_closed_at",
                  "portal_closed_by", "portal_result", "recurrence_of",
                  "reported_entered_at"}
    assert set(row) == documented, set(row) ^ documented
    readme = open(os.path.join(os.path.dirname(__file__), "..", "..",
                               "README.md"), encoding="utf-8").read()
    for key in documented:
        assert f"`{key}`" in readme, f"{key} is not documented in README"
    assert row["ticket"] == cli_records.TICKET
    assert row["acknowledged_by"] == cli_records.USER


def test_show_flags_the_third_outage_recurring(rec):
    rc, out, err = cli("--db", rec.raw, "show", "3", "--format", "json")
    assert rc == 0, err
    rec3 = json.loads(out)
    assert rec3["recurring"] is True and rec3["recurring_with"] == [1, 2]
    kinds = {c["kind"]: c for c in rec3["clocks"]}
    assert kinds["restore"]["state"] == "met"
    assert kinds["notify"]["state"] == "overdue"
    for i in (1, 2, 4):
        one = json.loads(cli("--db", rec.db, "show", i, "--format",
                             "json")[1])
        assert one["recurring"] is False and one["recurring_with"] == [], i
    rc, out, err = cli("--db", rec.db, "show", "3", env=UTF8)
    assert rc == 0, err
    assert re.search(r"^recurring:\s+yes, after #1, #2$", out, re.M), out
    # Four needed: not recurring.  Same category only: #3 was set to
    # EQU-2, #1 and #2 have none.
    rc, out, _ = cli("--db", rec.db, "show", "3", "--recur-count", "4")
    assert re.search(r"^recurring:\s+no$", out, re.M), out
    rc, out, _ = cli("--db", rec.db, "show", "3", "--recur-by",
                     "category")
    assert re.search(r"^recurring:\s+no$", out, re.M), out
    rc, out, _ = cli("--db", rec.db, "show", "2", "--recur-count", "2",
                     "--recur-by", "category")
    assert re.search(r"^recurring:\s+yes, after #1$", out, re.M), out


def test_table_aligns_chinese_names_by_display_width(rec):
    rc, out, err = cli("--db", rec.db, "incidents", env=UTF8)
    assert rc == 0, err
    lines = out.splitlines()
    header = next(l for l in lines if l.startswith("ID"))
    col = width(header[:header.index("CLASS")])
    rows = [l for l in lines if re.match(r"^\s*\d+\s", l)]
    assert len(rows) == 4
    assert any(LIBRARY in r for r in rows)
    for r in rows:
        m = re.search(r"\s(general|major)\s", r)
        assert m, r
        assert width(r[:m.start(1)]) == col, \
            f"CLASS column misaligned in {r!r} (header {header!r})"
    # Plain text off a terminal: no colour codes.
    assert "\033[" not in out


def run_on_tty(args, columns):
    """rtowatch ARGS with stdout on a pseudo-terminal COLUMNS wide."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ,
                struct.pack("HHHH", 24, columns, 0, 0))
    env = dict(os.environ, **UTF8)
    env.pop("NO_COLOR", None)
    env["TERM"] = "xterm"
    p = subprocess.Popen([binary("rtowatch"), *args], stdout=slave,
                         stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                         env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert p.wait(timeout=30) == 0, p.stderr.read()
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


def test_colours_and_width_only_on_a_terminal(rec):
    out = run_on_tty(["--db", rec.db, "incidents"], 200)
    assert "\033[1;31mmajor\033[0m" in out, out
    assert "\033[33mopen\033[0m" in out, out
    narrow = run_on_tty(["--db", rec.db, "incidents"], 90)
    plain = re.sub(r"\033\[[0-9;]*m", "", narrow)
    for line in plain.splitlines():
        assert width(line) <= 90, f"{width(line)} columns: {line!r}"
    # Times lose their year and seconds, the system name is cut.
    assert re.search(r"^\s+1  \S+\s+2  general  restored  \d\d-\d\d "
                     r"\d\d:\d\d  ", plain, re.M), plain
    assert "ID" in plain and "NOTIFY DUE" in plain
    # 72 columns: OPENED goes, then NOTIFY DUE; the rest stays.
    tiny = re.sub(r"\033\[[0-9;]*m", "", run_on_tty(
        ["--db", rec.db, "incidents"], 72))
    assert all(width(l) <= 72 for l in tiny.splitlines()), tiny
    assert "OPENED" not in tiny and "RESTORED" in tiny, tiny
