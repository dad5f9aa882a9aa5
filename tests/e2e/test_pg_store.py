"""The register on PostgreSQL (issue 21): `set database "postgresql://..."`.

A private PostgreSQL server is started by the test itself (initdb and
pg_ctl as nobody, in a temporary directory of its own, its Unix socket
there and TCP on a loopback port).  The daemon, pointed at it, watches a service
that stops: the outage, the incident, its clocks and its timeline are
PostgreSQL rows, the timeline's hash chain and the records it binds check
out (recomputed here as rtowatch verify does), the auditor role reads but
cannot write, nobody can edit the timeline, and a daemon killed with -9
and started again continues the same incident with nothing lost.
"""
import hashlib
import json
import os
import re
import sqlite3
import subprocess
import time

import pytest

from conftest import (REPO, SCENARIO_POLICY, cli, rules_file,
                      socket_path, system_rules, wait_for, wait_socket)
from pglib import PG_DB, PG_USER, Postgres, pg_missing

SYSTEM = "registry"
DOWN_AFTER = 3


@pytest.fixture
def pg():
    why = pg_missing()
    if why:
        pytest.skip(why)
    server = Postgres()
    yield server
    server.close()


def _netstring(b):
    return str(len(b)).encode() + b":" + b + b","


def _column_hash(table, rid, col, value):
    h = hashlib.sha256()
    for part in (table, str(rid), col):
        h.update(_netstring(part.encode()))
    if value is None:
        h.update(b"N")
    else:
        h.update(b"V")
        h.update(_netstring(value.encode()))
    return h.hexdigest()[:32]


def verify_chain(pg):
    """What rtowatch verify checks, recomputed from PostgreSQL's rows:
    each timeline row's link and hash (common/chain.c), and each record's
    last bound state against the row as it stands.  The number of rows."""
    rows = pg.rows("SELECT id, coalesce(incident_id, 0),"
                   " coalesce(warning_id, 0), at, event, actor, detail,"
                   " prev_hash, hash, coalesce(records, '') FROM timeline"
                   " ORDER BY id")
    prev = "0" * 64
    bound = {}
    for i, r in enumerate(rows, 1):
        rid, inc, warn, at, event, actor, detail, prev_hash, hsh, rec = r
        assert int(rid) == i, f"timeline ids not 1..n: {rid} at {i}"
        assert prev_hash == prev, f"row {rid}: broken link"
        h = hashlib.sha256(prev.encode())
        fields = [rid, inc, warn, at, event, actor, detail]
        if rec:
            fields.append(rec)
        for f in fields:
            h.update(_netstring(f.encode()))
        assert h.hexdigest() == hsh, f"row {rid} ({event}): hash mismatch"
        for line in rec.splitlines():
            table, key, *cols = line.split(" ")
            bound[(table, key)] = cols
        prev = hsh
    for (table, key), cols in bound.items():
        if cols == ["-"]:
            continue
        names = ",".join(c.split("=")[0] for c in cols)
        got = pg.rows(f"SELECT {names} FROM {table} WHERE id = {key}")
        # psql's CSV gives NULL and '' alike: ask which is which.
        nulls = pg.rows(f"SELECT " + ",".join(
            f"({c.split('=')[0]} IS NULL)::int" for c in cols)
            + f" FROM {table} WHERE id = {key}")
        assert got, f"{table} {key} is bound but gone"
        for c, v, isnull in zip(cols, got[0], nulls[0]):
            name, want = c.split("=")
            value = None if isnull == "1" else v
            assert _column_hash(table, key, name, value) == want, \
                f"{table} {key}: {name} does not match its bound state"
    return len(rows)


CHAIN_TABLES = ("warnings", "incidents", "outages", "clocks",
                "incident_scope", "notifications", "warning_indicators",
                "maintenance", "contacts", "timeline")


def verify_with_cli(scenario, pg):
    """The register's rows, copied as they are into an SQLite file the
    daemon made, pass the real `rtowatch verify`: PostgreSQL's chain and
    bound records are the very bytes verify expects.  Its output."""
    d = scenario.daemon("copy")
    d.write_rules(rules_file(d.db))
    d.start()
    wait_socket(d.sock)
    d.stop()
    con = sqlite3.connect(d.db)
    try:
        assert con.execute("SELECT count(*) FROM timeline").fetchone() \
            == (0,), "a daemon with no systems wrote a timeline row"
        for table in CHAIN_TABLES:
            rows = json.loads(pg.rows(
                f"SELECT coalesce(json_agg(t ORDER BY id), '[]')::text"
                f" FROM {table} t")[0][0])
            for r in rows:
                con.execute(f"INSERT INTO {table} ({', '.join(r)}) VALUES"
                            f" ({', '.join('?' * len(r))})",
                            list(r.values()))
        con.commit()
    finally:
        con.close()
    rc, out, err = cli("--db", d.db, "verify")
    assert rc == 0, f"rtowatch verify of the copy: {rc}\n{out}{err}"
    return out


def _incidents(pg):
    return pg.rows("SELECT id, status, started_at, restored_at FROM"
                   f" incidents WHERE system = '{SYSTEM}' ORDER BY id")


def _watch(scenario, pg):
    """A daemon on PG watching SYSTEM and a witness: (daemon, service,
    witness), started."""
    service = scenario.listener()
    witness = scenario.listener()   # its probes count the daemon's rounds
    d = scenario.daemon()
    d.write_rules(
        f'set database "{pg.uri}"; include "{SCENARIO_POLICY}"; '
        f'set socket "{socket_path(d.db)}"\n\n'
        + system_rules(SYSTEM, service.port, core=True, ci=True, rto="1h",
                       down_after=DOWN_AFTER, up_after=2)
        + system_rules("witness", witness.port, rto="1h"))
    d.start()
    return d, service, witness


def schema_version():
    """STORE_SCHEMA_VERSION, as include/store.h says: every backend's
    migrations reach it."""
    with open(os.path.join(REPO, "include", "store.h")) as f:
        return re.search(r"#define STORE_SCHEMA_VERSION\s+(\d+)",
                         f.read()).group(1)


def test_pg_register_outage_auditor_and_kill9(scenario, pg):
    d, service, witness = _watch(scenario, pg)
    service.wait_accepted(2)
    assert not os.path.exists(d.db), "a SQLite file was made beside PG"
    assert pg.rows("SELECT version FROM rtowatch_schema") == \
        [[schema_version()]]

    service.stop()                  # a real closed loopback port
    inc = wait_for(lambda: _incidents(pg), 15,
                   f"an incident of {SYSTEM} in PostgreSQL")
    assert len(inc) == 1 and inc[0][1] == "open", inc
    outages = pg.rows("SELECT incident_id, ended_at FROM outages"
                      f" WHERE system = '{SYSTEM}'")
    assert outages == [[inc[0][0], ""]], outages
    kinds = pg.rows("SELECT kind FROM clocks WHERE incident_id ="
                    f" {inc[0][0]} AND stopped_at IS NULL ORDER BY kind")
    assert ["notify"] in kinds and ["restore"] in kinds, kinds
    events = [r[0] for r in pg.rows(
        "SELECT event FROM timeline WHERE incident_id ="
        f" {inc[0][0]} ORDER BY id")]
    assert events and events[0] == "opened", events
    assert pg.rows("SELECT count(*) FROM timeline"
                   " WHERE hash LIKE 'pending-%'") == [["0"]]
    assert verify_chain(pg) >= 1

    # Auditors: SELECT only (GRANT rtowatch_auditor TO a person).
    pg.rows("CREATE ROLE alice LOGIN; GRANT rtowatch_auditor TO alice")
    rc, rows, err = pg.run("SELECT count(*) FROM incidents", user="alice")
    assert rc == 0 and rows == [["1"]], err
    rc, rows, err = pg.run("SELECT count(*) FROM timeline", user="alice")
    assert rc == 0 and int(rows[0][0]) >= 1, err
    # The CLI reads the register with the auditor's role.
    alice = pg.uri.replace(f"{PG_USER}@", "alice@")
    rc, out, err = cli("--db", alice, "verify")
    assert rc == 0 and "timeline chain OK" in out, (rc, out, err)
    rc, out, err = cli("--db", alice, "incidents", "--format", "json")
    assert rc == 0 and [i["id"] for i in json.loads(out)] == \
        [int(inc[0][0])], (rc, out, err)
    for sql in ("INSERT INTO timeline (at, event, actor, prev_hash, hash)"
                " VALUES ('x', 'forged', 'alice', 'x', 'y')",
                "UPDATE incidents SET status = 'closed'",
                "DELETE FROM outages",
                "UPDATE timeline SET detail = 'edited'"):
        rc, _, err = pg.run(sql, user="alice")
        assert rc != 0 and "permission denied" in err, (sql, err)
    # Nobody edits the timeline, not even the register's owner.
    for sql in ("UPDATE timeline SET detail = 'edited' WHERE id = 1",
                "DELETE FROM timeline WHERE id = 1",
                "TRUNCATE timeline CASCADE"):
        rc, _, err = pg.run(sql)
        assert rc != 0 and "append-only" in err, (sql, err)

    before = pg.rows("SELECT id, at, event, hash FROM timeline ORDER BY id")
    d.kill9()
    d.start()
    witness.wait_accepted(witness.accepted + DOWN_AFTER + 3,
                          what="probe rounds after the restart")
    after = _incidents(pg)
    assert len(after) == 1 and after[0][:3] == inc[0][:3], \
        f"the incident changed across kill -9: {inc} -> {after}"
    now = pg.rows("SELECT id, at, event, hash FROM timeline ORDER BY id")
    assert now[:len(before)] == before, "timeline rows lost or changed"

    service.start()
    back = wait_for(lambda: [i for i in _incidents(pg) if i[3]], 15,
                    f"{SYSTEM}'s incident restored in PostgreSQL")
    assert len(_incidents(pg)) == 1 and back[0][0] == inc[0][0], back
    assert back[0][1] == "restored"
    assert pg.rows("SELECT count(*) FROM outages WHERE ended_at IS NULL"
                   f" AND system = '{SYSTEM}'") == [["0"]]
    assert "restored" in [r[0] for r in pg.rows(
        f"SELECT event FROM timeline WHERE incident_id = {inc[0][0]}")]
    n = verify_chain(pg)
    assert n > len(before)
    d.stop()
    out = verify_with_cli(scenario, pg)
    assert f"timeline chain OK: {n} rows" in out, out
    rc, out, err = cli("--db", pg.uri, "verify")
    assert rc == 0 and f"timeline chain OK: {n} rows" in out, (out, err)


def test_pg_server_down_changes_held_then_written(scenario, pg):
    """PostgreSQL stops while the service fails and comes back while it is
    restored: the daemon holds the changes in order and writes them with
    their own times once the server is back; nothing is lost."""
    d, service, witness = _watch(scenario, pg)
    service.wait_accepted(2)

    pg.stop(mode="fast")
    t_down = time.time()
    service.stop()
    witness.wait_accepted(witness.accepted + DOWN_AFTER + 3,
                          what="probe rounds with the register down")
    service.start()
    service.wait_accepted(service.accepted + 3,
                          what="the service's probes, good again")
    wait_for(lambda: "refuses writes" in d.run_log(), 10,
             "the daemon saying the register refuses writes")
    assert d.running, d.tail()

    pg.start()
    inc = wait_for(lambda: [i for i in _incidents(pg) if i[3]], 20,
                   "the held outage and its restore written to PostgreSQL")
    assert len(_incidents(pg)) == 1, _incidents(pg)
    started = inc[0][2]
    # Its own time, decided while the register was down, not the time
    # it was written.
    assert _epoch(started) >= t_down - 1, (started, t_down)
    assert inc[0][1] == "restored", inc
    # The notice of the opening, composed from the incident's row when
    # its turn to be written came (store_later), is in the outbox.
    notes = pg.rows("SELECT event, body FROM notifications"
                    f" WHERE incident_id = {inc[0][0]} ORDER BY id")
    assert notes and SYSTEM in notes[0][1], notes
    assert pg.rows("SELECT count(*) FROM timeline"
                   " WHERE hash LIKE 'pending-%'") == [["0"]]
    verify_chain(pg)
    wait_for(lambda: "written with their original times" in d.run_log(),
             10, "the daemon saying the held changes were written")
    d.stop()


def _epoch(iso):
    import datetime
    return datetime.datetime.strptime(
        iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def test_pg_two_nodes_keep_one_chain(scenario, pg):
    """Two daemons on one register with the same rules (two nodes, issue
    21): one leads and writes, the other stands by; nothing is doubled,
    no transaction is lost, and the chain verifies.  (test_pg_lead.py
    kills the leader.)"""
    daemons = []
    services = [scenario.listener(), scenario.listener()]
    for name in ("north", "south"):
        d = scenario.daemon(name)
        d.write_rules(
            f'set database "{pg.uri}"; include "{SCENARIO_POLICY}"; '
            f'set socket "{socket_path(d.db)}"; set node "{name}"\n\n'
            + "".join(system_rules(n, s.port, rto="1h", down_after=2,
                                   up_after=1)
                      for n, s in zip(("north", "south"), services)))
        daemons.append(d)
    daemons[0].start()
    services[0].wait_accepted(1)    # the schema made, by one of them
    daemons[1].start()
    for s in services:
        s.wait_accepted(s.accepted + 2)
    # Three outages each.
    for rnd in range(3):
        for s in services:
            s.stop()
        wait_for(lambda: pg.rows(
            "SELECT count(*) FROM outages WHERE ended_at IS NULL")
            == [["2"]], 15, f"both systems down (round {rnd + 1})")
        for s in services:
            s.start()
        wait_for(lambda: pg.rows(
            "SELECT count(*) FROM outages WHERE ended_at IS NULL")
            == [["0"]], 15, f"both systems back (round {rnd + 1})")
    # The roles while both run: once north stops, south may take the
    # lead before its own stop, as it should.
    assert pg.rows("SELECT name, role FROM nodes ORDER BY name") == \
        [["north", "leader"], ["south", "standby"]]
    for d in daemons:
        d.stop()
    assert pg.rows("SELECT system, count(*) FROM incidents GROUP BY system"
                   " ORDER BY system") == [["north", "1"], ["south", "1"]]
    assert pg.rows("SELECT count(*) FROM outages") == [["6"]]
    n = verify_chain(pg)
    assert n >= 12, n
    rc, out, err = cli("--db", pg.uri, "verify")
    assert rc == 0 and f"timeline chain OK: {n} rows" in out, (out, err)


PG_WRITERS_LOCK = 7526465302289283176   # daemon/store_pg.c STORE_PG_LOCK


def test_pg_writers_lock_held_elsewhere_holds_changes(scenario, pg):
    """Every transaction of the daemon takes the writers' advisory lock
    first: while another session holds it, the daemon's changes wait in
    memory (it says so), in order; once it is let go they are written,
    the outage with its own start."""
    d, service, witness = _watch(scenario, pg)
    service.wait_accepted(2)
    holder = subprocess.Popen(
        [os.path.join(pg.bin, "psql"), "-X", "-q", "-At", "-h", "127.0.0.1",
         "-p",
         str(pg.port), "-U", PG_USER, "-d", PG_DB],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        holder.stdin.write(f"SELECT pg_advisory_lock({PG_WRITERS_LOCK});\n"
                           "SELECT 'held';\n")
        holder.stdin.flush()
        got = [holder.stdout.readline() for _ in range(2)]
        assert got[-1].strip() == "held", got   # the lock is ours
        t_down = time.time()
        service.stop()
        wait_for(lambda: "refuses writes" in d.run_log(), 10,
                 "the daemon holding its changes behind the lock")
        witness.wait_accepted(witness.accepted + DOWN_AFTER + 2,
                              what="probe rounds while the lock is held")
        assert _incidents(pg) == [], "written while the lock was held"
    finally:
        holder.stdin.write("SELECT pg_advisory_unlock_all();\n\\q\n")
        holder.stdin.flush()
        holder.wait(timeout=10)
    inc = wait_for(lambda: _incidents(pg), 15,
                   "the held incident written once the lock is free")
    assert len(inc) == 1 and inc[0][1] == "open", inc
    assert _epoch(inc[0][2]) >= t_down - 1
    wait_for(lambda: "accepts writes again" in d.run_log(), 10,
             "the daemon saying the held changes were written")
    verify_chain(pg)
    d.stop()


def test_pg_reconnected_session_still_bounds_its_lock_wait(scenario, pg):
    """After PostgreSQL restarts, the daemon's new session waits for the
    writers' lock no longer than its first did: with the lock held
    elsewhere, changes are held and probes go on (a session made again
    without its lock_timeout waited for the lock forever, and the loop
    with it)."""
    d, service, witness = _watch(scenario, pg)
    service.wait_accepted(2)
    pg.stop(mode="fast")
    pg.start()
    # Something to write: the daemon notices the lost session and makes
    # a new one.
    service.stop()
    inc = wait_for(lambda: _incidents(pg), 20,
                   "the incident written through a new session")
    wait_for(lambda: "connected again" in d.run_log(), 10,
             "the daemon saying it connected again")
    holder = subprocess.Popen(
        [os.path.join(pg.bin, "psql"), "-X", "-q", "-At", "-h", pg.dir,
         "-p", str(pg.port), "-U", PG_USER, "-d", PG_DB],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        holder.stdin.write(f"SELECT pg_advisory_lock({PG_WRITERS_LOCK});\n"
                           "SELECT 'held';\n")
        holder.stdin.flush()
        got = [holder.stdout.readline() for _ in range(2)]
        assert got[-1].strip() == "held", got
        refusals = d.run_log().count("refuses writes")
        service.start()             # the restoration, to write
        wait_for(lambda: d.run_log().count("refuses writes") > refusals,
                 10, "the daemon holding its changes behind the lock")
        witness.wait_accepted(witness.accepted + 5,
                              what="probe rounds while the lock is held")
        assert [i[3] for i in _incidents(pg)] == [""], \
            "written while the lock was held"
    finally:
        holder.stdin.write("SELECT pg_advisory_unlock_all();\n\\q\n")
        holder.stdin.flush()
        holder.wait(timeout=10)
    back = wait_for(lambda: [i for i in _incidents(pg) if i[3]], 15,
                    "the held restoration written once the lock is free")
    assert back[0][0] == inc[0][0]
    verify_chain(pg)
    d.stop()
