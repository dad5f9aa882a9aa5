"""Maintenance windows people add can be listed and cancelled, and
`status` shows a system inside a window as "maintenance", not plain "up".
A system down inside a window that is cancelled is an outage from then
on: its incident opens.  (issue 17: "can be added but not listed or
cancelled; status shows a system in a window as plain up".)
"""
import subprocess

from conftest import (binary, cli, db_rows, incidents_of, rules_file,
                      system_rules, wait_for, wait_incident, wait_socket)


def state(sock, system):
    rc, out, err = cli("--socket", sock, "status")
    assert rc == 0, err
    for line in out.splitlines():
        f = line.split()
        if f and f[0] == system:
            return f[1]
    raise AssertionError(f"{system} not in status:\n{out}")


def test_list_cancel_and_status(scenario):
    svc = scenario.listener()
    other = scenario.listener()
    d = scenario.daemon()
    d.write_rules(rules_file(
        d.db, system_rules("catalogue", svc.port),
        system_rules("loans", other.port),
        'maintenance "loans" weekly sunday 02:00 for 2h\n'))
    d.start()
    wait_socket(d.sock)
    svc.wait_accepted(2)
    wait_for(lambda: state(d.sock, "catalogue") == "up", 10, "catalogue up")

    rc, out, err = cli("--socket", d.sock, "maintenance", "add",
                       "catalogue", "--for", "1h", "--reason",
                       "更換硬碟 disk swap")
    assert rc == 0, err
    # Up, but inside its window.
    assert state(d.sock, "catalogue") == "maintenance"
    assert state(d.sock, "loans") == "up"

    rc, out, err = cli("--socket", d.sock, "maintenance", "list")
    assert rc == 0, err
    rows = [l for l in out.splitlines() if "catalogue" in l]
    assert len(rows) == 1 and "更換硬碟 disk swap" in rows[0], out
    wid = rows[0].split()[0]
    assert wid == str(db_rows(d.db, "SELECT id FROM maintenance")[0]["id"])
    assert "in the rules" in out and "loans" in out and \
        "weekly sunday 02:00 for 2h" in out, out

    # Down inside the window: planned, no incident.
    svc.stop()
    wait_for(lambda: db_rows(d.db, "SELECT id FROM outages WHERE "
                             "planned = 1"), 10, "a planned outage")
    assert incidents_of(d.db, "catalogue") == []

    rc, out, err = cli("--socket", d.sock, "maintenance", "cancel", wid,
                       "--reason", "done early")
    assert rc == 0, err
    assert "cancelled" in out, out
    inc = wait_incident(d.db, "catalogue", what="the incident once the "
                        "window was cancelled")
    assert inc["status"] == "open"
    wait_for(lambda: state(d.sock, "catalogue") == "down", 10,
             "catalogue down in status")
    rc, out, err = cli("--socket", d.sock, "maintenance", "list")
    assert rc == 0 and "no maintenance window added" in out, out
    row = db_rows(d.db, "SELECT cancelled_at, cancelled_by FROM "
                  "maintenance")[0]
    assert row["cancelled_at"] and row["cancelled_by"], row

    rc, out, err = cli("--socket", d.sock, "maintenance", "cancel", wid)
    assert rc == 1 and "cancelled already" in err, (out, err)
    rc, out, err = cli("--socket", d.sock, "maintenance", "cancel", "99")
    assert rc == 1 and "no maintenance window 99" in err, (out, err)
    d.stop()
    rc, out, err = cli("--db", d.db, "verify")
    assert rc == 0, (out, err)

    # Cancelling changes records: operators only; listing is a query.
    routes = subprocess.run([binary("rtowatchd"), "-R"], capture_output=True,
                            text=True, check=True).stdout.splitlines()
    assert "POST /v1/maintenance/:id/cancel operator reason" in routes
    assert "GET /v1/maintenance auditor" in routes
