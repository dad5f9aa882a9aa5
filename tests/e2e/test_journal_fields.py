"""Under systemd the daemon logs to the journal, with fields.

journald is played by journal_sink.py, bound to /run/systemd/journal/
socket inside a mount namespace the test creates (a private tmpfs on /run,
so the host's journal is never touched).  The daemon runs as under a unit
(INVOCATION_ID set, no -d); a system that is down opens an incident, and
that line must carry SYSTEM=, INCIDENT= and LEVEL= so that
`journalctl -u rtowatchd SYSTEM=closed` finds it.
"""
import json
import os
import shutil
import signal
import subprocess
import sys

import pytest

from conftest import (E2E_DIR, STOP_TIMEOUT, binary, incidents_of,
                      rules_file, system_rules, wait_for)


def entries(path):
    try:
        with open(path, encoding="utf-8") as f:
            return [json.loads(l) for l in f if l.strip()]
    except FileNotFoundError:
        return []


def test_incident_lines_carry_system_incident_and_level(scenario):
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare(1) for a private /run")
    closed = scenario.closed_port()
    up = scenario.listener()
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, system_rules("closed", closed),
                             system_rules("fine", up.port)))
    out = os.path.join(scenario.dir, "journal.jsonl")
    log = open(os.path.join(scenario.dir, "stderr.log"), "wb")
    script = ('mount -t tmpfs tmpfs /run && exec "$@"')
    proc = subprocess.Popen(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c",
         script, "sh", sys.executable, os.path.join(E2E_DIR,
                                                   "journal_sink.py"),
         out, binary("rtowatchd"), "-f", d.rules],
        cwd="/", stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    try:
        def opened():
            return [e for e in entries(out)
                    if "incident" in e.get("MESSAGE", "")
                    and "opened" in e["MESSAGE"]]
        wait_for(lambda: proc.poll() is not None or opened(), 20,
                 f"an 'incident opened' entry in {out}")
        assert proc.poll() is None, open(log.name).read()
        e = opened()[0]
        inc = incidents_of(d.db, "closed")[0]
        assert e["SYSTEM"] == "closed", e
        assert e["LEVEL"] == str(inc["level"]), (e, inc)
        assert e["INCIDENT"] == str(inc["id"]), (e, inc)
        assert e["SYSLOG_IDENTIFIER"] == "rtowatchd"
        assert e["PRIORITY"] == "3"             # LOG_ERR: log_warnx
        started = [x for x in entries(out) if " started: rules " in
                   x.get("MESSAGE", "")]
        assert started and "SYSTEM" not in started[0], started
        assert started[0]["PRIORITY"] == "6"    # LOG_INFO
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=STOP_TIMEOUT)
        log.close()
    assert rc == 0, open(log.name).read()
    assert any(x.get("MESSAGE") == "stopped" for x in entries(out))
    # Nothing went around the journal to stderr.
    assert open(log.name).read() == ""
