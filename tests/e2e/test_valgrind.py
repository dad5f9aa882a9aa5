"""The daemon under valgrind through an outage, two reloads and a restore.

A daemon that runs for years must not leak: every probe, reload and
incident frees what it took.  valgrind's memcheck watches a whole life
cycle here and its exit code (99 on any error or definite/indirect leak)
must be the daemon's clean 0.  Runs against the release build; the ASan
build has its own leak checker and does not run under valgrind.
"""
from conftest import VALGRIND, require_valgrind
from conftest import (rules_file, system_rules, wait_for,
                      wait_incident)


def test_outage_reloads_and_restore_under_valgrind(scenario):
    require_valgrind()

    svc = scenario.listener()
    other = scenario.listener()
    d = scenario.daemon()
    d.wrapper = list(VALGRIND)
    one = system_rules("svc", svc.port, core=True, rto="1h", every="300ms",
                       timeout="200ms")
    two = system_rules("other", other.port, rto="1h", every="300ms",
                       timeout="200ms")
    d.write_rules(rules_file(d.db, one))
    d.start()
    svc.wait_accepted(2, timeout=30, what="probes under valgrind")

    svc.stop()
    inc = wait_incident(d.db, "svc", timeout=30)

    # A good reload adds a system; a broken one is refused.
    d.write_rules(rules_file(d.db, one, two))
    d.hup()
    other.wait_accepted(2, timeout=30, what="the reloaded rules' new system")
    d.write_rules(rules_file(d.db, one, two) + "\nnonsense here\n")
    d.hup()
    wait_for(lambda: "not reloaded" in d.run_log(), 30,
             "the broken rules refused")

    svc.start()
    back = wait_incident(d.db, "svc", restored=True, timeout=30)
    assert back["id"] == inc["id"]
    d.stop()    # requires exit 0: valgrind would exit 99 on a leak
    assert "definitely lost" not in d.log(), d.tail(80)
