"""A stop that comes while rtowatchd is still starting is a clean stop.

systemd sends SIGTERM whenever the operator says `systemctl stop`, also
during a slow start; a script (or a test) may stop the daemon as soon as
its records show it runs.  From the moment the daemon opens its database
it writes records, and a SIGTERM then must not kill it by the signal's
default action (exit -15, records of the start half done, nothing said):
it waits until the loop has its handler, then stops as it always does,
exit 0 with its "stopped" line.

CI caught the old daemon this way: a scenario stopped it right after the
start had ended a left-open early warning, before the loop's handlers were
set, and it died of the SIGTERM.
"""
import os
import signal
import time

from conftest import STOP_TIMEOUT, rules_file, system_rules

ROUNDS = 12


def _stop_when_database_appears(d, delay):
    """Start D, send SIGTERM DELAY seconds after its database file
    appears (polled without sleeping), and return its exit status."""
    for path in (d.db, d.db + "-wal", d.db + "-shm"):
        if os.path.exists(path):
            os.unlink(path)
    d.start()
    deadline = time.monotonic() + 20
    while not os.path.exists(d.db):
        assert d.running, f"{d} exited before opening its database\n" \
            f"{d.tail()}"
        assert time.monotonic() < deadline, \
            f"{d} did not create {d.db} in 20 s\n{d.tail()}"
    if delay:
        time.sleep(delay)
    d.expected_running = False
    d.proc.send_signal(signal.SIGTERM)
    return d._wait(STOP_TIMEOUT)


def test_sigterm_while_starting_is_a_clean_stop(scenario):
    service = scenario.listener()
    d = scenario.daemon()
    d.write_rules(rules_file(
        d.db, *(system_rules(f"s{i}", service.port, rto="1h")
                for i in range(20))))
    # From the moment the file appears to well after the loop runs.
    for n in range(ROUNDS):
        delay = 0.0 if n < ROUNDS // 2 else (n - ROUNDS // 2) * 0.004
        rc = _stop_when_database_appears(d, delay)
        run = d.run_log()
        assert rc == 0, (f"round {n} (SIGTERM {delay * 1000:.0f} ms after "
                         f"the database appeared): exit {rc}, expected a "
                         f"clean 0\n{d.tail()}")
        assert "shutting down" in run and run.rstrip().endswith("stopped"), \
            f"round {n}: no clean shutdown in its log\n{d.tail()}"
        d.check_sanitizers()
