"""A COMMIT whose answer is lost, though the server committed (issue 21).

The daemon waits 1 s at most for any answer of PostgreSQL's; a COMMIT
answered later is taken as refused, and its changes are held and written
again.  Here the server really does commit late: a test-only deferred
constraint trigger on incidents sleeps 2 s inside the COMMIT that opens
the incident.  The held copy must then be recognised as already in the
register (the server is asked whether that transaction committed), not
written twice, and not logged as a change "dropped": the incident is
there once, the chain verifies, and the log says it was already written.
"""
import pytest  # noqa: F401  (the fixture's skip)

from conftest import cli, short_policy, wait_for
from smtpserver import SmtpServer
from test_pg_lead import incidents, start_nodes
from test_pg_store import pg  # noqa: F401  (its server)

ALONE = (("n1", True),)

# Test-only: the first COMMIT that inserts an incident takes 2 s.
SLOW_COMMIT = """
CREATE TABLE slow_commit_once (done boolean);
CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM slow_commit_once) THEN
        INSERT INTO slow_commit_once VALUES (true);
        PERFORM pg_sleep(2);
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON incidents
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION
    slow_commit();
"""


def fail_with(scenario, pg, sql):
    """n1 alone on PG's register, SQL (a test-only trigger on incidents)
    installed, and then its service stops: the COMMIT that opens the
    incident is the one SQL makes late.  Returns n1 and the service."""
    smtp = SmtpServer(scenario.dir)       # never started: not the point
    service = scenario.listener()
    policy = short_policy(scenario.dir, notify="1h", notify_remind="30m")
    d = start_nodes(scenario, pg, smtp, service, policy, ALONE)["n1"]
    pg.rows(sql)
    service.wait_accepted(service.accepted + 2)
    service.stop()
    return d, service


def opened_once(pg):
    """The one incident, opened once on the timeline."""
    inc = incidents(pg)
    assert len(inc) == 1, inc
    assert pg.rows("SELECT count(*) FROM timeline WHERE event = 'opened'"
                   f" AND incident_id = {inc[0][0]}") == [["1"]]
    return inc


def stop_and_verify(d, pg, drop):
    """D stopped, the test's trigger dropped (DROP), the chain verified."""
    d.stop()
    pg.rows(drop)
    rc, out, err = cli("--db", pg.uri, "verify")
    assert rc == 0, (out, err)


def test_commit_answered_late_is_already_written(scenario, pg):
    d, service = fail_with(scenario, pg, SLOW_COMMIT)
    # The COMMIT opening the incident: no answer within 1 s.
    wait_for(lambda: "answer to the COMMIT" in d.run_log() or
             "no answer from" in d.run_log(), 15,
             "the incident's COMMIT unanswered")
    # Committed by the server meanwhile, and its held copy recognised.
    wait_for(lambda: "accepts writes again" in d.run_log(), 20,
             "the held changes done with")
    log = d.run_log()
    assert pg.rows("SELECT done FROM slow_commit_once") == [["t"]], \
        "the slow COMMIT did not happen: the scenario tested nothing"
    inc = opened_once(pg)
    assert "already written: the earlier commit's answer was lost" in log, \
        d.tail()
    # The store's line for a change refused for good.
    assert "cannot be written and is dropped" not in log, d.tail()
    # Later changes are written as usual: the outage ends.
    service.start()
    wait_for(lambda: incidents(pg) == [[inc[0][0], "restored"]], 15,
             "the incident restored")
    stop_and_verify(d, pg, "DROP TRIGGER slow_commit ON incidents;"
                    " DROP FUNCTION slow_commit(); DROP TABLE slow_commit_once")


# Test-only: the first COMMIT that inserts an incident takes 2 s, then
# fails (a sequence, which no rollback undoes, says which is the first).
FAILED_COMMIT = """
CREATE SEQUENCE failed_commit_seq;
CREATE FUNCTION failed_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF nextval('failed_commit_seq') = 1 THEN
        PERFORM pg_sleep(2);
        RAISE EXCEPTION 'the test refuses this COMMIT, late';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER failed_commit AFTER INSERT ON incidents
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION
    failed_commit();
"""


def test_commit_answered_late_not_committed_is_written(scenario, pg):
    """The other way: the COMMIT unanswered in time did not commit.  The
    server says so, and the held copy is written as any other: the
    incident once, nothing said to be already written nor dropped."""
    d, _ = fail_with(scenario, pg, FAILED_COMMIT)
    wait_for(lambda: "answer to the COMMIT" in d.run_log(), 15,
             "the incident's COMMIT unanswered")
    wait_for(lambda: "accepts writes again" in d.run_log(), 20,
             "the held changes written")
    # The trigger ran once more, on the copy written again.
    assert pg.rows("SELECT last_value FROM failed_commit_seq") == [["2"]]
    log = d.run_log()
    opened_once(pg)
    assert "already written" not in log, d.tail()
    assert "cannot be written and is dropped" not in log, d.tail()
    stop_and_verify(d, pg, "DROP TRIGGER failed_commit ON incidents;"
                    " DROP FUNCTION failed_commit();"
                    " DROP SEQUENCE failed_commit_seq")


# Test-only: the first COMMIT that inserts an incident takes 2 s and
# fails; the second (its held copy, written again) takes 2 s and commits.
FAILED_THEN_SLOW = """
CREATE SEQUENCE twice_seq;
CREATE FUNCTION twice_commit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE n bigint := nextval('twice_seq');
BEGIN
    IF n <= 2 THEN
        PERFORM pg_sleep(2);
    END IF;
    IF n = 1 THEN
        RAISE EXCEPTION 'the test refuses this COMMIT, late';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER twice_commit AFTER INSERT ON incidents
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION
    twice_commit();
"""


def test_copy_written_again_answered_late_is_already_written(scenario, pg):
    """The held copy's own COMMIT, written again by the flush, is the one
    whose answer is lost, though the server commits it.  The daemon says
    it will ask the server before writing the changes again: it must,
    and not write them a third time (a second incident, or a change
    "dropped")."""
    d, _ = fail_with(scenario, pg, FAILED_THEN_SLOW)
    wait_for(lambda: d.run_log().count("answer to the COMMIT") >= 2, 20,
             "the COMMIT and its copy's unanswered")
    wait_for(lambda: "accepts writes again" in d.run_log(), 20,
             "the held changes done with")
    assert pg.rows("SELECT last_value FROM twice_seq") == [["2"]], \
        "the copy's COMMIT was not the slow one: the scenario tested nothing"
    log = d.run_log()
    opened_once(pg)
    assert "already written: the earlier commit's answer was lost" in log, \
        d.tail()
    assert "cannot be written and is dropped" not in log, d.tail()
    stop_and_verify(d, pg, "DROP TRIGGER twice_commit ON incidents;"
                    " DROP FUNCTION twice_commit(); DROP SEQUENCE twice_seq")
