"""A maintenance window added by a person (rtowatch maintenance add): an
outage inside it is planned, with no incident, also after a kill -9 and a
restart; a system without a window opens its incident as usual.
"""
from conftest import (cli, db_rows, incidents_of, rules_file, system_rules,
                      wait_for, wait_incident, wait_socket)


def test_adhoc_window(scenario):
    patched = scenario.listener()
    other = scenario.listener()
    d = scenario.daemon()
    d.write_rules(rules_file(
        d.db, system_rules("mail-relay", patched.port),
        system_rules("dns-cache", other.port)))
    d.start()
    wait_socket(d.sock)

    rc, out, err = cli("--socket", d.sock, "maintenance", "add",
                       "mail-relay", "--for", "1h", "--reason",
                       "kernel update")
    assert rc == 0 and "maintenance window added" in out, (out, err)
    rc, out, err = cli("--socket", d.sock, "maintenance", "add", "nowhere",
                       "--for", "1h")
    assert rc == 1 and 'no system "nowhere"' in err, err
    rc, out, err = cli("--socket", d.sock, "maintenance", "add",
                       "mail-relay", "--for", "soon")
    assert rc == 1 and "duration" in err, err
    win = db_rows(d.db, "SELECT system, reason, created_by FROM maintenance")
    assert len(win) == 1 and win[0]["reason"] == "kernel update", win

    patched.stop()
    other.stop()
    wait_incident(d.db, "dns-cache")
    planned = wait_for(lambda: db_rows(
        d.db, "SELECT * FROM outages WHERE system = 'mail-relay'"), 10,
        "the planned outage of mail-relay")
    assert planned[0]["planned"] == 1 and planned[0]["incident_id"] is None

    d.kill9()
    d.start()
    wait_socket(d.sock)
    # The daemon reads its windows back: still planned, still no incident.
    wait_for(lambda: "mail-relay: still down" in d.run_log(), 10,
             "the planned outage taken up again")
    assert incidents_of(d.db, "mail-relay") == []
    rows = db_rows(d.db, "SELECT planned, ended_at FROM outages WHERE "
                   "system = 'mail-relay'")
    assert len(rows) == 1 and rows[0]["ended_at"] is None, rows
    patched.start()
    wait_for(lambda: db_rows(d.db, "SELECT ended_at FROM outages WHERE "
                             "system = 'mail-relay' AND ended_at IS NOT "
                             "NULL"), 10, "the planned outage's end")
    assert incidents_of(d.db, "mail-relay") == []
    d.stop()
