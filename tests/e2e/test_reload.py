"""An administrator edits the rules of a running daemon and reloads them.

First the edit has mistakes: on SIGHUP the daemon logs every error as
FILE:LINE:, keeps running on the rules it had, keeps probing the system it
watched (whose outage still opens an incident) and does not start
watching what the broken file added.  Then the administrator fixes the
file, which now adds a second system, and sends SIGHUP again: the new
system is probed and its outage opens its own incident, while the first
system's outage goes on as one incident.
"""
import os

from conftest import (errors_at, incidents, parse_errors, rules_file,
                      system_rules, wait_for, wait_incident)

# A new system with two mistakes: an unknown keyword and a port out of
# range.  The test finds their line numbers in the file it writes.
BROKEN_EXTRA = """\
system "payroll" {{
    core yes
    rto 1h
    colour blue
    check tcp 127.0.0.1 port {port} every 200ms timeout 100ms
    check tcp 127.0.0.1 port 70000 every 200ms timeout 100ms
}}
"""


def test_reload_keeps_old_rules_on_errors_and_takes_good_ones(scenario):
    alpha = scenario.listener()
    payroll = scenario.listener()
    d = scenario.daemon()
    alpha_rules = system_rules("alpha", alpha.port)
    d.write_rules(rules_file(d.db, alpha_rules))
    d.start()
    alpha.wait_accepted(2)

    # A broken edit: the old block, then a new one with two mistakes.
    broken = rules_file(d.db, alpha_rules,
                        BROKEN_EXTRA.format(port=payroll.port))
    d.write_rules(broken)
    lines = broken.splitlines()
    colour = lines.index("    colour blue") + 1
    bad_port = next(n for n, l in enumerate(lines, 1) if "port 70000" in l)
    before = len(d.log())
    d.hup()

    def both_errors_logged():
        errors = parse_errors(d.log()[before:])
        return (errors_at(errors, d.rules, colour)
                and errors_at(errors, d.rules, bad_port))
    wait_for(both_errors_logged, 10,
             f"the reload's errors logged as {d.rules}:{colour}: and "
             f"{d.rules}:{bad_port}:")
    assert d.running, f"the daemon exited on a broken reload\n{d.tail()}"

    # Still on the old rules: alpha probed, payroll not.
    alpha.wait_accepted(3, what="alpha still probed after the bad reload")
    assert payroll.accepted == 0, \
        "the broken file's new system is being probed"
    alpha.stop()
    first = wait_incident(d.db, "alpha",
                          what="alpha's incident, after the bad reload")
    assert first["status"] == "open"

    # The fixed file adds payroll.
    d.write_rules(rules_file(d.db, alpha_rules,
                             system_rules("payroll", payroll.port,
                                          core=True)))
    before = len(d.log())
    d.hup()
    payroll.wait_accepted(2, what="the new system probed after the reload")
    rules_errors = [e for e in parse_errors(d.log()[before:])
                    if os.path.basename(e[0]) == os.path.basename(d.rules)]
    assert not rules_errors, \
        f"errors logged for a good file:\n{d.log()[before:]}"

    payroll.stop()
    second = wait_incident(d.db, "payroll")
    assert second["id"] != first["id"]
    assert second["level"] == 2 and second["status"] == "open", second
    rows = incidents(d.db)
    assert sorted(r["system"] for r in rows) == ["alpha", "payroll"], rows
    alpha_now = next(r for r in rows if r["system"] == "alpha")
    assert alpha_now["id"] == first["id"]
    assert alpha_now["started_at"] == first["started_at"]
    assert alpha_now["status"] == "open"

    d.stop()
