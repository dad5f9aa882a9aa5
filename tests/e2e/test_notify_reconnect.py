"""rtowatch-notify is back as soon as the daemon is: no backoff to wait out.

The agent follows a real rtowatchd; the daemon stops and stays away until
the agent's backoff has grown to 8 s (its debug line "trying again in
8.0s"), as after an upgrade or a crash and systemd's restart delay.  Then
the daemon starts again with a system already down, so its first checks
open an incident at once.  The notification must reach dunst within 2 s
of the daemon answering on its socket: the agent watches the socket's
directory and tries as soon as the socket is created.  (It used to wait
for its next try, 8 s after that line: 8 s late; at the 15 s step,
up to 15 s.)  What it shows after reconnecting is unchanged: the events
after the last one shown, once each.

"directory": the socket's directory itself is removed during the outage
and created again before the daemon starts, as systemd does with
RuntimeDirectory= (/run/rtowatch) between two runs of the service.
"""
import os
import shutil
import tempfile
import time

import pytest

from conftest import (rules_file, socket_path, start_daemon, system_rules,
                      wait_incident, wait_socket)
from desktop import RtowatchNotify, desktop, shown_with, wait_shown

assert desktop  # the fixture, imported for pytest

# From the daemon answering on its socket to the notification in dunst.
LATE_S = 2.0


@pytest.mark.parametrize("rundir", [False, True],
                         ids=["socket", "directory"])
def test_reconnects_when_the_socket_is_back(scenario, desktop, rundir):
    alpha = scenario.listener()
    beta = scenario.listener()
    d = scenario.daemon()
    rules = rules_file(d.db, system_rules("alpha", alpha.port, down_after=1),
                       system_rules("beta", beta.port, down_after=1))
    sock, run = d.sock, None
    if rundir:
        # Short, so it fits a Unix socket's path wherever pytest runs.
        run = tempfile.mkdtemp(prefix="rtowatch-run-")
        sock = os.path.join(run, "control.sock")
        rules = rules.replace(f'set socket "{socket_path(d.db)}"',
                              f'set socket "{sock}"')
    d.write_rules(rules)
    start_daemon(d)
    wait_socket(sock)
    agent = RtowatchNotify(desktop, scenario.dir, sock).start()
    try:
        with agent.logs_on_failure(d):
            agent.wait_log(f"following {sock}")
            # An incident before the outage, shown once.
            beta.stop()
            wait_incident(d.db, "beta")
            wait_shown(desktop, "beta", "opened")

            d.stop()
            if rundir:
                shutil.rmtree(run)
            alpha.stop()
            # The outage lasts until the agent waits 8 s between tries:
            # that is the condition under test, not a synchronisation.
            agent.wait_log("trying again in 8.0s", timeout=30,
                           what="the agent's backoff to reach 8 s")
            if rundir:
                os.mkdir(run)
            launched = time.monotonic()
            d.start()
            wait_socket(sock)
            ready = time.monotonic()
            n = wait_shown(desktop, "alpha", "opened", timeout=30)
            shown = time.monotonic()
            # The agent may well beat wait_socket's 50 ms polls.
            late = max(0.0, shown - ready)
            inc = wait_incident(d.db, "alpha")
            print(f"notification in dunst {late:.2f} s after the daemon "
                  f"answered, {shown - launched:.2f} s after its start")
            assert f"Incident #{inc['id']}" in n["body"], n
            assert late <= LATE_S, (
                f"the notification reached dunst {late:.1f} s after the "
                f"daemon was back (at most {LATE_S} s)")
            assert "appeared: trying now" in agent.run_log()
            assert agent.run_log().count("following ") >= 2

            # Nothing lost, nothing shown twice, across the reconnection.
            assert len(shown_with(desktop, "beta", "opened")) == 1
            assert len(shown_with(desktop, "alpha", "opened")) == 1
            desktop.close_all()
            history = [h["summary"] for h in desktop.history()]
            assert [s for s in history if "alpha" in s and "opened" in s], \
                history
            agent.stop()
        d.stop()
    finally:
        agent.cleanup()
        if run is not None:
            shutil.rmtree(run, ignore_errors=True)
