"""A missed deadline interrupts, whatever the level.

A level-1 system (neither core business nor critical infrastructure) goes
down under a policy whose notification clock runs 3 seconds with one
reminder a second before: the agent shows the opening and the reminder
with normal urgency, and the missed deadline as critical, in that order,
each once.
"""
from conftest import (rules_file, short_policy, start_daemon, system_rules,
                      wait_incident, wait_socket)
from desktop import RtowatchNotify, desktop, shown_with, wait_shown

assert desktop  # the fixture, imported for pytest


def test_missed_deadline_is_critical_at_level_1(scenario, desktop):
    lab = scenario.listener()
    d = scenario.daemon()
    policy = short_policy(scenario.dir, notify="3s", notify_remind="1s")
    d.write_rules(rules_file(d.db, system_rules("lab", lab.port),
                             policy=policy))
    start_daemon(d)
    wait_socket(d.sock)
    agent = RtowatchNotify(desktop, scenario.dir, d.sock).start()
    try:
        agent.wait_log("following ")
        lab.stop()
        inc = wait_incident(d.db, "lab")
        assert inc["level"] == 1, inc
        missed = wait_shown(desktop, "lab", "notify deadline missed")
        assert missed["urgency"] == "CRITICAL", missed
        assert missed["summary"].startswith("Level 1 · lab · "), missed
        assert f"Incident #{inc['id']}" in missed["body"]

        got = [(n["summary"].split(" · ")[-1], n["urgency"])
               for n in desktop.from_app()]
        assert got == [("opened 事件開立", "NORMAL"),
                       ("notify reminder 通報期限提醒", "NORMAL"),
                       ("notify deadline missed 通報逾期", "CRITICAL")], got
        assert len(shown_with(desktop, "deadline missed")) == 1
        agent.stop()
    finally:
        agent.cleanup()
    d.stop()
