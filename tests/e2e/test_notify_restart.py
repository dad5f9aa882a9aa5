"""rtowatch-notify across restarts: nothing lost, nothing shown twice.

The agent is started before the daemon (no socket yet: it keeps trying,
with a bounded backoff) and, on its very first start, begins at the
daemon's newest event: an incident opened before that is history and is
not shown.  Then the daemon is killed with SIGKILL and started again on
the same database: the agent notices, reconnects by itself and shows the
next event once.  Then the agent itself is stopped and started: it
resumes after the last event it had shown (its state file) and shows the
next event once again.  Events are shown in order, so when the newest
one has appeared, a repeat of an older one would already be there.
"""
import os

import pytest

from conftest import (db_rows, rules_file, start_daemon, system_rules,
                      wait_for, wait_incident, wait_socket)
from desktop import RtowatchNotify, desktop, shown_with, wait_shown

assert desktop  # the fixture, imported for pytest


def newest_event(db):
    return db_rows(db, "SELECT max(id) AS id FROM timeline")[0]["id"] or 0


def summaries(desk):
    return [n["summary"] for n in desk.from_app()]


# "slow disk": every fsync of the agent's takes 300 ms, so its state file
# is written well after dunst has the notification and after its log line
# (a whole test run beside it did that; the scenario once read the id
# before the one shown and waited for the wrong "following" line).
@pytest.mark.parametrize("fsync_ms", [None, 300], ids=["", "slow disk"])
def test_reconnects_after_kill_and_resumes_after_restart(scenario, desktop,
                                                         fsync_ms):
    alpha = scenario.listener()
    beta = scenario.listener()
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, system_rules("alpha", alpha.port),
                             system_rules("beta", beta.port)))
    agent = RtowatchNotify(desktop, scenario.dir, d.sock,
                           slow_fsync_ms=fsync_ms).start()
    try:
        with agent.logs_on_failure(d):
            # No daemon yet: it says why and keeps trying.
            agent.wait_log("cannot connect: No such file or directory; "
                           "trying again in")
            start_daemon(d)
            wait_socket(d.sock)
            agent.wait_log("first start: showing the events after 0")
            agent.wait_log(f"following {d.sock} after event 0")

            # A desktop where it never ran, started after an incident opened:
            # that incident is history, not news.
            agent.stop()
            os.unlink(agent.state_file)

            alpha.stop()
            old = wait_incident(d.db, "alpha")
            history = newest_event(d.db)
            agent.start()
            agent.wait_log(f"first start: showing the events after {history}")
            # Saved before that line (on the slow disk too).
            assert agent.last_event() == history

            # The daemon dies hard and comes back on the same database.
            d.kill9()
            agent.wait_log("trying again in", what="the agent to notice the "
                           "daemon is gone")
            start_daemon(d)
            wait_socket(d.sock)
            beta.stop()
            inc = wait_incident(d.db, "beta")
            n = wait_shown(desktop, "beta", "opened", timeout=30)
            assert f"Incident #{inc['id']}" in n["body"]
            assert agent.run_log().count("following ") >= 2, agent.run_log()

            # The agent restarts: it resumes after what it had shown.  The
            # state file is read once it has stopped: dunst records the
            # notification before the agent has saved its id (an fsync
            # away), and a later batch may still move it on.
            opened = db_rows(d.db, "SELECT max(id) AS id FROM timeline "
                             "WHERE event = 'opened' AND incident_id = ?",
                             inc["id"])[0]["id"]
            agent.stop()
            seen = agent.last_event()
            assert seen is not None and seen >= opened > history
            agent.start()
            agent.wait_log(f"following {d.sock} after event {seen}")
            assert "first start" not in agent.run_log()
            alpha.start()
            wait_incident(d.db, "alpha", restored=True)
            wait_shown(desktop, "alpha", "restored")

            # Once each, and nothing of the history before the first start.
            assert len(shown_with(desktop, "beta", "opened")) == 1, \
                summaries(desktop)
            assert len(shown_with(desktop, "alpha", "restored")) == 1, \
                summaries(desktop)
            assert not shown_with(desktop, "alpha", "opened"), \
                f"incident {old['id']} opened before the first start was " \
                f"shown: {summaries(desktop)}"
            restored = db_rows(d.db, "SELECT max(id) AS id FROM timeline "
                               "WHERE event = 'restored'")[0]["id"]
            wait_for(lambda: agent.last_event() >= restored, 10,
                     f"the state file to reach event {restored}")
            agent.stop()
    finally:
        agent.cleanup()
    d.stop()
