"""An auditor's desktop: notified, but the action is refused, and says why.

The agent runs as the account nobody, whose group nogroup is an auditor
group in the rules (`role auditor group "nogroup"`): it may read the event
stream, so it shows the incident, but the daemon refuses its
acknowledgement (403).  The agent shows that refusal with the daemon's own
words, and the timeline has no acknowledgement.  The control socket lives
in a directory nobody can reach (pytest's own is root's alone).
"""
import os
import pwd
import shutil
import tempfile

import pytest

from conftest import (api, rules_file, show, start_daemon, system_rules,
                      wait_for, wait_incident, wait_socket)
from desktop import RtowatchNotify, desktop, wait_shown

assert desktop  # the fixture, imported for pytest

USER, GROUP = "nobody", "nogroup"


def test_auditor_sees_the_incident_but_cannot_acknowledge(scenario,
                                                          desktop):
    if os.getuid() != 0:
        pytest.skip("running the agent as nobody needs root")
    try:
        pw = pwd.getpwnam(USER)
    except KeyError:
        pytest.skip(f"no account {USER} here")
    shared = tempfile.mkdtemp(prefix="rtowatch-notify-")
    try:
        os.chmod(shared, 0o755)
        sock = os.path.join(shared, "control.sock")
        state = os.path.join(shared, "state")
        os.mkdir(state)
        os.chown(state, pw.pw_uid, pw.pw_gid)

        web = scenario.listener()
        d = scenario.daemon()
        d.write_rules(rules_file(d.db, system_rules("web", web.port))
                      + f'\nset socket "{sock}"\n'
                      f'role auditor group "{GROUP}"\n')
        start_daemon(d)
        wait_socket(sock)
        agent = RtowatchNotify(desktop, scenario.dir, sock, user=USER,
                               state_home=state)
        agent.start()
        try:
            agent.wait_log(f"following {sock}")
            web.stop()
            inc = wait_incident(d.db, "web")
            n = wait_shown(desktop, "web", "opened")
            assert n["actions"] == {"acknowledge": "確認 Acknowledge"}, n

            wait_for(lambda: desktop.displayed() == 1, 10,
                     "the notification on screen")
            desktop.action(0)
            refused = wait_shown(desktop, "Not acknowledged",
                                 f"#{inc['id']}")
            # The daemon's own words for the same refused request.
            status, body = api(sock, "POST",
                               f"/v1/incidents/{inc['id']}/ack", {},
                               user=USER)
            assert status == 403, body
            assert refused["body"] == f"HTTP 403: {body['error']}", refused
            assert USER in refused["body"]
            assert not [e for e in show(d.db, inc["id"])["timeline"]
                        if e["event"] == "acknowledged"]
            assert agent.last_event() is not None
            agent.stop()
        finally:
            agent.cleanup()
        d.stop()
    finally:
        shutil.rmtree(shared, ignore_errors=True)
