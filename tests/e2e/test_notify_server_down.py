"""No notification server for a while: the event waits, it is not lost.

When the notification server is gone (dunst stopped; the test's session
bus starts nothing by itself), the agent cannot show an incident that
opens.  It keeps its place in the stream before that event, retries with
its backoff, and shows the event once when the server is back.
"""
from conftest import (rules_file, start_daemon, system_rules, wait_incident,
                      wait_socket)
from desktop import RtowatchNotify, desktop, shown_with, wait_shown

assert desktop  # the fixture, imported for pytest


def test_event_waits_for_the_notification_server(scenario, desktop):
    web = scenario.listener()
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, system_rules("web", web.port)))
    start_daemon(d)
    wait_socket(d.sock)
    agent = RtowatchNotify(desktop, scenario.dir, d.sock).start()
    try:
        agent.wait_log("following ")
        before = agent.last_event()

        desktop.stop_dunst()
        web.stop()
        wait_incident(d.db, "web")
        agent.wait_log('notification "Level 1 · web · opened')
        agent.wait_log("the notification server refused a notification; "
                       "trying again in")
        # Not counted as shown.
        assert agent.last_event() == before

        desktop.start_dunst()
        n = wait_shown(desktop, "web", "opened", timeout=30)
        assert n["urgency"] == "NORMAL"
        agent.wait_log("working again after: the notification server")
        assert len(shown_with(desktop, "web", "opened")) == 1
        assert agent.last_event() > before
        agent.stop()
    finally:
        agent.cleanup()
    d.stop()
