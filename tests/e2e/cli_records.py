"""A database of real records for the rtowatch CLI scenarios.

build() runs the real daemon against listeners on 127.0.0.1:

- "圖書館系統" (core, RTO 1h) goes down and comes back three times: three
  incidents (#1-#3), level 2, each restored within the RTO; with "reopen
  within 0s" each failure is an incident of its own, so the third is
  recurring (3 within 90 days);
- "mail" (not core, RTO 2s) goes down and stays down: incident #4,
  level 1, then major and level 2 when it outlasts its RTO, still open
  when the daemon stops;
- "erp" fails inside a maintenance window: a planned outage, no incident.

The notification clock is 2 s, and every notify clock is missed.  A copy
of the database is kept then (`raw`: nothing done by people).  Then the
IMS team works through the real CLI and the daemon's control socket: #1
reported on the portal in time (--at), #2 a second past its deadline,
#3 acknowledged, its form filled in field by field, reported and damage
controlled; #4 left alone, its clocks overdue.  The daemon is stopped;
the files are then only read.
"""
import datetime
import getpass
import os
import sqlite3
import types

from conftest import (Scenario, cli, db_rows, incidents_of, now_ms,
                      parse_time, rules_file, short_policy, system_rules,
                      wait_for, wait_incident, wait_socket)

LIBRARY = "圖書館系統"
MAIL = "mail"
ERP = "erp"
USER = getpass.getuser()

# What the IMS team writes on the form of incident #3 (rtowatch set).
FORM = {
    "category": "EQU-2",
    "description": "圖書館系統主機無法連線，讀者無法查詢館藏",
    "scope": "圖書館館藏查詢與借還書服務中斷",
    "loss": "無資料遺失；服務中斷約一秒",
    "support": "否，不需申請支援",
    "measures": "切換至備援主機並重新啟動服務",
    "containment": "09:30 切換備援主機，09:31 服務恢復",
    "investigation": "檢查系統日誌，發現電源供應器告警",
    "root_cause": "電源供應器老化故障",
    "prevention": "更換電源供應器並建立雙電源",
    "prevention_tracking": "2026-12-31 前完成，每月檢查電源狀態",
}
TICKET = "AISAC-2026-0042"


def _utc(ms):
    return datetime.datetime.fromtimestamp(
        ms / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso(ms):
    return (datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)
            .strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z")


def copy(db, dest):
    """A standalone copy of DB (no -wal file) at DEST."""
    if os.path.exists(dest):
        os.unlink(dest)
    src = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    dst = sqlite3.connect(dest)
    src.backup(dst)
    src.close()
    dst.execute("PRAGMA journal_mode = DELETE")
    dst.close()
    return dest


def _verb(sock, *args):
    rc, out, err = cli("--socket", sock, *args)
    assert rc == 0, f"rtowatch {' '.join(map(str, args))}: exit {rc}: {err}"
    return out


def _work(d):
    """The IMS team's part, through the control socket."""
    def opened(i):
        return parse_time(db_rows(d.db, "SELECT opened_at FROM incidents"
                                  " WHERE id = ?", i)[0]["opened_at"])

    def notify_due(i):
        return parse_time(db_rows(d.db, "SELECT due_at FROM clocks WHERE"
                                  " incident_id = ? AND kind = 'notify'",
                                  i)[0]["due_at"])

    _verb(d.sock, "reported", 1, "--ticket", "AISAC-2026-0040", "--at",
          _iso(opened(1) + 1000))
    _verb(d.sock, "reported", 2, "--ticket", "AISAC-2026-0041", "--at",
          _iso(notify_due(2) + 1000))
    _verb(d.sock, "ack", 3, "--note", "on it")
    for field, value in FORM.items():
        _verb(d.sock, "set", 3, field.replace("_", "-"), value)
    _verb(d.sock, "reported", 3, "--ticket", TICKET, "--at",
          _iso(opened(3) + 1000))
    _verb(d.sock, "controlled", 3)


def build(directory):
    """Run the scenario in DIRECTORY; return the paths of the database
    before people's work (a copy) and after it."""
    sc = Scenario(directory)
    try:
        lib, mail, erp = sc.listener(), sc.listener(), sc.listener()
        d = sc.daemon()
        policy = short_policy(directory, notify="2s", notify_remind="1s",
                              reopen="0s")
        d.write_rules(rules_file(
            d.db,
            system_rules(LIBRARY, lib.port, core=True, rto="1h"),
            system_rules(MAIL, mail.port, core=False, rto="2s"),
            system_rules(ERP, erp.port, core=True, rto="4h"),
            f'maintenance "{ERP}" once {_utc(now_ms() - 2000)} for 1h\n',
            'category "EQU-2" "電力異常" "power failure"\n',
            policy=policy))
        d.start()
        wait_socket(d.sock)
        lib.wait_accepted(2)
        for n in range(1, 4):
            lib.stop()
            wait_for(lambda: len(incidents_of(d.db, LIBRARY)) == n, 15,
                     f"incident {n} of {LIBRARY}")
            lib.start()
            wait_for(lambda: all(i["restored_at"] for i in
                                 incidents_of(d.db, LIBRARY)), 15,
                     f"incident {n} of {LIBRARY} restored")
        mail.stop()
        wait_incident(d.db, MAIL)
        wait_for(lambda: incidents_of(d.db, MAIL)[0]["major"], 15,
                 f"{MAIL} reclassified major past its RTO")
        erp.stop()
        wait_for(lambda: db_rows(d.db, "SELECT 1 FROM outages WHERE system"
                                 " = ? AND planned = 1", ERP), 15,
                 "the planned outage of erp")
        erp.start()
        wait_for(lambda: db_rows(d.db, "SELECT 1 FROM outages WHERE system"
                                 " = ? AND ended_at IS NOT NULL", ERP), 15,
                 "the planned outage of erp ended")
        # Every notify clock missed (#1-#3, and #4's for level 1 and,
        # after the reclassification, level 2): --overdue finds them.
        wait_for(lambda: db_rows(d.db, "SELECT count(*) AS n FROM clocks"
                                 " WHERE kind = 'notify' AND breached_at"
                                 " IS NOT NULL")[0]["n"] == 5, 15,
                 "all five notify clocks missed")
        raw = copy(d.db, os.path.join(str(directory), "raw.db"))
        _work(d)
        d.stop()
        return raw, d.db
    finally:
        sc.close()


_RECORDED = []


def recorded(tmp_path_factory):
    """The records, built once in each test process (an xdist worker)
    and shared by the modules that use them: they only read them, and
    edit copies (copy()).  A build takes 8-15 s, and four modules built
    it each in each worker, sixteen times a pass."""
    if not _RECORDED:
        base = tmp_path_factory.mktemp("cli-records")
        raw, db = build(base)
        _RECORDED.append(types.SimpleNamespace(raw=raw, db=db,
                                               dir=str(base)))
    return _RECORDED[0]
