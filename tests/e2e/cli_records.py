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

The notification clock is 2 s, so every notify clock is past due by the
end.  The daemon is stopped; the file is then only read.

fill() makes a copy in which people's work is written with sqlite3, for
the fields no command can set yet: the lead's socket verbs (reported, set,
controlled) will set them through the daemon later.
"""
import datetime
import os
import shutil
import sqlite3
import types

from conftest import (Scenario, db_rows, incidents_of, now_ms, rules_file,
                      short_policy, system_rules, wait_for, wait_incident)

LIBRARY = "圖書館系統"
MAIL = "mail"
ERP = "erp"

# What the IMS team writes on the form of incident #3.
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
    "ticket": "AISAC-2026-0042",
    "acknowledged_by": "ims-alice",
    "reported_by": "ims-alice",
    "controlled_by": "ims-bob",
}


def _utc(ms):
    return datetime.datetime.fromtimestamp(
        ms / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso(ms):
    return (datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)
            .strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z")


def build(directory):
    """Run the scenario in DIRECTORY; return its database's path."""
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
            policy=policy))
        d.start()
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
        d.stop()
        return d.db
    finally:
        sc.close()


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


def fill(db, dest):
    """A copy of DB with incident #3's form filled in and its portal
    report, acknowledgement and damage control recorded (sqlite3: no
    command sets these yet), and the notify clocks of #1-#3 stopped as a
    report on the portal would: #1 and #3 in time, #2 a minute late."""
    copy(db, dest)
    con = sqlite3.connect(dest)
    with con:
        inc = con.execute("SELECT opened_at FROM incidents WHERE id = 3"
                          ).fetchone()
        opened = inc[0]
        sets = ", ".join(f"{k} = ?" for k in FORM)
        con.execute(f"UPDATE incidents SET {sets}, acknowledged_at = ?,"
                    " reported_at = ?, controlled_at = ? WHERE id = 3",
                    (*FORM.values(), opened, opened, opened))
        con.execute("UPDATE clocks SET stopped_at = started_at,"
                    " stopped_by = 'ims-alice: reported'"
                    " WHERE kind = 'notify' AND incident_id IN (1, 3)")
        # #2 was reported a minute late.
        con.execute("UPDATE clocks SET stopped_at = strftime("
                    "'%Y-%m-%dT%H:%M:%fZ', due_at, '+60 seconds'),"
                    " stopped_by = 'ims-alice: reported'"
                    " WHERE kind = 'notify' AND incident_id = 2")
    con.close()
    return dest


def recorded(tmp_path_factory, name):
    base = tmp_path_factory.mktemp(name)
    db = build(base)
    return types.SimpleNamespace(db=db, dir=str(base),
                                 filled=fill(db, os.path.join(
                                     str(base), "filled.db")))
