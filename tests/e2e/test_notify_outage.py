"""A person at a desktop hears of an outage from rtowatch-notify.

The real rtowatchd watches two systems on loopback: "portal" (core
business and critical infrastructure: level 3 at opening) and "wiki"
(neither: level 1).  The agent runs in a desktop of its own (Xvfb, a
session bus, dunst) and follows the daemon's control socket.  When portal
stops, a critical notification names its level, the system and the event,
and offers "確認 Acknowledge"; choosing it (dunstctl action, as a click)
records an acknowledgement by this test's account in the incident's
timeline and says so in a second notification.  When wiki stops, its
notification is of normal urgency.  Each event is shown once, and all of
them end up in dunst's history.
"""
import os
import pwd

from conftest import (incidents_of, rules_file, show, start_daemon,
                      system_rules, wait_for, wait_incident, wait_socket)
from desktop import RtowatchNotify, desktop, shown_with, wait_shown

assert desktop  # the fixture, imported for pytest

ACCOUNT = pwd.getpwuid(os.getuid()).pw_name


def test_outage_notifies_and_the_action_acknowledges(scenario, desktop):
    portal = scenario.listener()
    wiki = scenario.listener()
    d = scenario.daemon()
    d.write_rules(rules_file(
        d.db,
        system_rules("portal", portal.port, core=True, ci=True),
        system_rules("wiki", wiki.port)))
    start_daemon(d)
    wait_socket(d.sock)
    agent = RtowatchNotify(desktop, scenario.dir, d.sock).start()
    try:
        agent.wait_log("following ")

        # Portal stops: level 3, so critical.
        portal.stop()
        inc = wait_incident(d.db, "portal")
        assert inc["level"] == 3, inc
        n = wait_shown(desktop, "portal", "opened")
        assert n["appname"] == "rtowatch"
        assert n["urgency"] == "CRITICAL", n
        assert n["summary"].startswith("Level 3"), n["summary"]
        assert f"Incident #{inc['id']}" in n["body"], n["body"]
        assert n["actions"] == {"acknowledge": "確認 Acknowledge"}, n
        # On screen, alone (dunst puts it there a moment after receiving).
        wait_for(lambda: desktop.displayed() == 1, 10,
                 "the portal notification on screen, alone")

        # The person chooses Acknowledge on it.
        desktop.action(0)
        acks = wait_for(
            lambda: [e for e in show(d.db, inc["id"])["timeline"]
                     if e["event"] == "acknowledged"], 20,
            f"an acknowledged event in incident {inc['id']}'s timeline")
        assert len(acks) == 1 and acks[0]["actor"] == ACCOUNT, acks
        done = wait_shown(desktop, "Acknowledged", f"#{inc['id']}")
        assert f"Recorded as {ACCOUNT}" in done["body"], done
        assert done["urgency"] == "NORMAL"

        # Wiki stops: level 1, so normal.
        wiki.stop()
        low = wait_incident(d.db, "wiki")
        assert low["level"] == 1, low
        n = wait_shown(desktop, "wiki", "opened")
        assert n["urgency"] == "NORMAL", n
        assert n["summary"].startswith("Level 1 · wiki · opened"), n
        assert f"Incident #{low['id']}" in n["body"], n["body"]

        # Portal is back: still level 3, critical.
        portal.start()
        wait_incident(d.db, "portal", restored=True)
        n = wait_shown(desktop, "portal", "restored")
        assert n["urgency"] == "CRITICAL", n

        # Once each; the acknowledgement itself is not announced again.
        for words in (("portal", "opened"), ("wiki", "opened"),
                      ("portal", "restored"), ("Acknowledged",)):
            assert len(shown_with(desktop, *words)) == 1, \
                (words, [x["summary"] for x in desktop.from_app()])
        assert not shown_with(desktop, "acknowledged"), desktop.from_app()
        assert len(incidents_of(d.db, "portal")) == 1

        # Everything shown is in dunst's history once closed.
        desktop.close_all()
        history = {h["id"]: h for h in desktop.history()}
        for n in desktop.from_app():
            h = history.get(n["id"])
            assert h is not None, (n, history)
            assert h["summary"] == n["summary"]
            assert h["appname"] == "rtowatch"

        # The state file holds the last event it has seen: read once the
        # agent has stopped, as it saves it after the notification is
        # shown (an fsync later, on a busy disk).
        agent.stop()
        assert agent.last_event() >= max(
            e["id"] for e in show(d.db, inc["id"])["timeline"])
    finally:
        agent.cleanup()
    d.stop()
