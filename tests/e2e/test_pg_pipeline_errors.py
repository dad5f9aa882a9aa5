"""A write refused inside PostgreSQL's pipeline, and a server fault in the
middle of one (issue 21).

On PostgreSQL a change's writes are sent without waiting for their
answers (store_pg.c, pipeline mode): the error of a write comes back at
the next read, RELEASE or COMMIT of the same change.  These scenarios
aim at that:
- a write refused for good (a test-only trigger on outages refuses one
  system's rows) while several systems fail in the same turn: that
  change is not recorded, nor claimed by the daemon's status, the other
  systems' changes of the same group are, the log names the statement
  refused (not the later one that reported it) and the chain verifies;
  the same on SQLite, where the write is refused at once;
- the records' connection ended by the server (pg_terminate_backend,
  from a trigger, so that it lands in the middle of one group's writes,
  and again while the held changes are written back) during a mass
  failure: every change is held in order and written once after
  reconnecting, nothing lost or doubled;
- a held change refused for good when it is written back: the "dropped"
  line quotes the statement refused, not the change's first one.
"""
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import (api, cli, db_edit, db_rows, incidents, parse_time,
                      rules_file, system_rules, wait_for, wait_socket)

# Test-only: the register refuses the outage row of the system "bad".
# The incident's row is written before it (store_outage_open) and the
# timeline's after it, so on PostgreSQL the refusal is read later.
REFUSE_SQLITE = """
CREATE TRIGGER refuse_bad BEFORE INSERT ON outages WHEN NEW.system = 'bad'
BEGIN SELECT RAISE(ABORT, 'the test refuses the outage of bad'); END
"""
REFUSE_PG = """
CREATE FUNCTION refuse_bad() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.system = 'bad' THEN
        RAISE EXCEPTION 'the test refuses the outage of bad';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER refuse_bad BEFORE INSERT ON outages FOR EACH ROW
    EXECUTE FUNCTION refuse_bad();
"""

# The writers' advisory lock (store_pg.c, STORE_PG_LOCK).
STORE_PG_LOCK = 7526465302289283176

REFUSED_RE = re.compile(r"the statement refused: (.*)$", re.M)


def pg_value(uri, sql):
    """SQL's one value, as psql prints it unaligned."""
    from pglib import pg_bin
    p = subprocess.run([os.path.join(pg_bin(), "psql"), "-X", "-qAt", uri,
                        "-c", sql], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def states(d):
    code, body = api(d.sock, "GET", "/v1/status")
    assert code == 200, body
    return {s["name"]: s for s in body["systems"]}


def start(scenario, names, name="rtowatchd"):
    lst = {n: scenario.listener() for n in names}
    d = scenario.daemon(name)
    d.write_rules(rules_file(d.db, *[
        system_rules(n, lst[n].port, every="200ms", down_after=1,
                     up_after=1) for n in names]))
    d.start()
    wait_socket(d.sock)
    wait_for(lambda: all(s["state"] == "up" for s in states(d).values()),
             10, "every system up")
    return d, lst


def opened(d):
    return set(re.findall(r"(\w+): down since .*incident \d+ opened",
                          d.run_log()))


@pytest.mark.both_backends
def test_write_refused_mid_change(scenario, backend):
    names = ["good1", "bad", "good2"]
    d, lst = start(scenario, names)
    db_edit(d.db, REFUSE_PG if backend == "pg" else REFUSE_SQLITE)
    # The three fail in the same turn: one group, a savepoint each.
    fail_together(d, lst.values())
    wait_for(lambda: opened(d) >= {"good1", "good2"}, 10,
             "the good systems' incidents opened")
    wait_for(lambda: REFUSED_RE.search(d.run_log()), 10,
             "the refusal logged")
    log = d.run_log()
    assert "the test refuses the outage of bad" in log, d.tail()
    # The statement the register refused, every time it is said.
    refused = REFUSED_RE.findall(log)
    assert refused and all(s.startswith("INSERT INTO outages")
                           for s in refused), refused
    # Not applied in memory: the daemon does not claim an incident.
    st = states(d)["bad"]
    assert st["state"] != "down" and st["incident"] is None, st
    assert "bad" not in opened(d), d.tail()
    rows = incidents(d.db)
    assert sorted(r["system"] for r in rows) == ["good1", "good2"], rows
    assert db_rows(d.db, "SELECT count(*) AS n FROM outages WHERE system"
                   " = 'bad'") == [{"n": 0}]
    # One turn's results (one group): the three failed together.
    seen = {m[0]: parse_time(m[1]) for m in re.findall(
        r"(\w+): tcp \S+ port \d+ down since (\S+), observed", log)}
    assert len(seen) == 3, seen
    assert max(seen.values()) - min(seen.values()) < 50, seen
    # The good ones' changes in full: an outage each, and the status
    # names the register's incident.
    st = states(d)
    for r in rows:
        assert db_rows(d.db, "SELECT count(*) AS n FROM outages WHERE "
                       "incident_id = ?", r["id"]) == [{"n": 1}], r
        assert st[r["system"]]["incident"] == r["id"], (r, st)
    d.stop()
    rc, out, err = cli("--db", d.db, "verify")
    assert rc == 0, (out, err)


# Test-only: the records' connection is ended by the server in the middle
# of the group's writes (the 5th outage row of the mass failure, while
# the four changes before it are released into the group's transaction
# and its COMMIT is still to come), and again at the 12th (the changes
# held are being written back by then).  A sequence, which no rollback
# undoes, counts the rows.
KILL_PG = """
CREATE SEQUENCE kill_seq;
CREATE FUNCTION kill_mid_pipeline() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF nextval('kill_seq') IN (5, 12) THEN
        PERFORM pg_terminate_backend(pg_backend_pid());
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER kill_mid_pipeline AFTER INSERT ON outages FOR EACH ROW
    EXECUTE FUNCTION kill_mid_pipeline();
"""


def fail_together(d, listeners):
    """Stop LISTENERS while the daemon is stopped: their probes come due
    together, and their results are one turn's, one group."""
    os.kill(d.proc.pid, signal.SIGSTOP)
    try:
        for lst in listeners:
            lst.stop()
        time.sleep(0.3)         # one interval: every probe due
    finally:
        os.kill(d.proc.pid, signal.SIGCONT)


@pytest.mark.parametrize("backend", ["pg"], indirect=True)
def test_connection_killed_mid_pipeline(scenario, backend):
    n = 20
    names = [f"svc{i}" for i in range(n)]
    d, lst = start(scenario, names)
    db_edit(d.db, KILL_PG)
    fail_together(d, lst.values())
    wait_for(lambda: len(opened(d)) == n, 20,
             f"all {n} outages seen")
    wait_for(lambda: int(pg_value(d.db, "SELECT last_value FROM kill_seq"))
             >= 12, 10, "both kills made")
    log = d.run_log()
    assert "refuses writes" in log, d.tail()
    wait_for(lambda: len(incidents(d.db)) == n, 20,
             "every held change written")
    for name in names:
        lst[name].start()
    wait_for(lambda: len(re.findall(r"svc\d+ back at .*incident \d+ "
                                    r"restored", d.run_log())) == n, 20,
             f"all {n} back")
    wait_for(lambda: sum(r["status"] == "restored"
                         for r in incidents(d.db)) == n, 20,
             "every restoration written")
    rows = incidents(d.db)
    assert sorted(r["system"] for r in rows) == sorted(names), rows
    outages = db_rows(d.db, "SELECT system, count(*) AS n FROM outages"
                      " GROUP BY system")
    assert sorted(o["system"] for o in outages) == sorted(names)
    assert all(o["n"] == 1 for o in outages), outages
    ev = db_rows(d.db, "SELECT incident_id, count(*) AS n FROM timeline"
                 " WHERE event = 'opened' GROUP BY incident_id")
    assert len(ev) == n and all(e["n"] == 1 for e in ev), ev
    assert "cannot be written and is dropped" not in d.run_log(), d.tail()
    d.stop()
    rc, out, err = cli("--db", d.db, "verify")
    assert rc == 0, (out, err)


@pytest.mark.parametrize("backend", ["pg"], indirect=True)
def test_dropped_line_names_the_refused_statement(scenario, backend):
    from pglib import pg_bin
    d, lst = start(scenario, ["bad"])
    db_edit(d.db, REFUSE_PG)
    # Another session holds the writers' lock for 3 s: the outage's change
    # is held, and refused for good when it is written back.
    holder = subprocess.Popen(
        [os.path.join(pg_bin(), "psql"), "-X", "-q", d.db, "-c",
         f"SELECT pg_advisory_lock({STORE_PG_LOCK}); SELECT pg_sleep(3)"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: pg_value(
            d.db, "SELECT count(*) FROM pg_locks WHERE locktype ="
            f" 'advisory' AND granted AND objid = {STORE_PG_LOCK & 0xffffffff}"
        ) == "1", 5, "the lock held by the test")
        lst["bad"].stop()
        wait_for(lambda: "refuses writes" in d.run_log(), 10,
                 "the change held")
    finally:
        holder.wait(timeout=10)
    # The error may span lines (PostgreSQL's CONTEXT); the statement
    # quoted follows it.
    m = wait_for(lambda: re.search(r"cannot be written and is dropped "
                                   r"\(.*?\): (.*)$", d.run_log(),
                                   re.S | re.M), 10,
                 "the held change dropped")
    # Quoted: the statement refused, not the change's first one (the
    # incident's row, which the server took).
    assert m.group(1).startswith("INSERT INTO outages"), m.group(0)
    # The episode's end says why writes were refused (the lock), not the
    # dropped change's error.
    end = wait_for(lambda: re.search(r"accepts writes again: .*",
                                     d.run_log()), 10,
                   "the episode over").group(0)
    assert "lock timeout" in end and "refuses the outage" not in end, end
    assert incidents(d.db) == []
    d.stop()
    rc, out, err = cli("--db", d.db, "verify")
    assert rc == 0, (out, err)
