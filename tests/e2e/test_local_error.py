"""A failure of the monitoring host is not an outage of its targets.

Three loopback services are probed every 200 ms under the shipped policy
(its lost-network rule live).  Then the daemon runs out of descriptors:
its soft RLIMIT_NOFILE is lowered (prlimit --pid) to the number it holds,
so every probe's socket() fails with EMFILE, for 17 s.  Before, each of
those was a failure of the check: incidents against the three services
and one against the "monitoring host" for a lost network.  Now they are
errors of the host: logged (not once per probe), counted, shown by
`rtowatch status` and /v1/status, and after 15 s an operator alert (a
warning and a "monitoring host failing" timeline event); no incident.
"""
import os
import subprocess
import shutil
import threading
import time

import pytest

from conftest import (POLICY, api, cli, db_rows, rules_file, system_rules,
                      wait_for, wait_socket)


def cpu_ticks(pid):
    """utime + stime of PID, in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def nofile(pid, soft=None):
    """Read, or set, the soft descriptor limit of PID."""
    if soft is not None:
        subprocess.run(["prlimit", "--pid", str(pid), f"--nofile={soft}:"],
                       check=True)
    out = subprocess.run(["prlimit", "--pid", str(pid), "--nofile",
                          "--noheadings", "--output=SOFT"],
                         capture_output=True, text=True, check=True).stdout
    return out.strip()


def test_out_of_descriptors_is_the_hosts_error(scenario):
    if not shutil.which("prlimit"):
        pytest.skip("needs prlimit (util-linux)")
    services = [scenario.listener() for _ in range(3)]
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, *[
        system_rules(f"svc{i}", s.port, core=True) for i, s in
        enumerate(services)], policy=POLICY))
    d.start()
    wait_socket(d.sock)
    for s in services:
        s.wait_accepted(3)
    pid = d.proc.pid
    before = nofile(pid)
    held = len(os.listdir(f"/proc/{pid}/fd"))
    nofile(pid, held)
    t0 = time.monotonic()
    answer = {}
    try:
        # A caller meanwhile: accept() fails with EMFILE too.  The
        # socket is paused, not polled in a loop: little CPU, one line.
        caller = threading.Thread(target=lambda: answer.update(
            zip(("status", "body"), api(d.sock, "GET", "/v1/status"))))
        caller.start()
        cpu0 = cpu_ticks(pid)
        time.sleep(3)
        cpu = (cpu_ticks(pid) - cpu0) / os.sysconf("SC_CLK_TCK") / 3
        wait_for(lambda: "monitoring host failing" in d.run_log() or
                 db_rows(d.db, "SELECT id FROM incidents"), 25,
                 "the operator alert about the monitoring host")
        alerted = time.monotonic() - t0
        time.sleep(1)
    finally:
        nofile(pid, before)
    assert not db_rows(d.db, "SELECT id, system, cause FROM incidents")
    print(f"CPU while out of descriptors: {cpu * 100:.0f} %")
    assert cpu < 0.3, f"the daemon used {cpu * 100:.0f} % CPU"
    caller.join(30)
    assert answer.get("status") == 200, answer
    assert d.run_log().count("cannot accept a connection") == 1
    print(f"{held} descriptors held; alert after {alerted:.1f} s")
    assert 14 <= alerted <= 20, alerted

    # Status, at once: the host is failing, the targets are fine.
    status, body = api(d.sock, "GET", "/v1/status")
    assert status == 200, body
    host = body["host"]
    assert host["failing"] and host["failures"] >= 30, host
    assert "Too many open files" in host["last_error"], host
    for s in body["systems"]:
        assert s["incident"] is None, s
        assert all(c["failures"] == 0 for c in s["checks"]), s
    rc, out, err = cli("--socket", d.sock, "status")
    assert rc == 0, err
    assert "monitoring host: FAILING" in out, out
    assert "Too many open files" in out, out
    print(out)

    # No incident, no lost network; the log said it without a flood.
    assert not db_rows(d.db, "SELECT id, system FROM incidents")
    log = d.run_log()
    assert "lost its network" not in log
    assert log.count("failed on this host") <= 3, log[-3000:]
    ev = db_rows(d.db, "SELECT event, incident_id FROM timeline WHERE "
                 "event LIKE 'monitoring host%'")
    assert [e["event"] for e in ev] == ["monitoring host failing"], ev
    assert ev[0]["incident_id"] is None

    # Descriptors back: the probes run, and the episode is over.
    wait_for(lambda: "probes run again" in d.run_log(), 20,
             "the end of the host's failure")
    wait_for(lambda: [e["event"] for e in db_rows(
        d.db, "SELECT event FROM timeline WHERE event LIKE "
        "'monitoring host%'")][-1:] == ["monitoring host recovered"], 5,
        "the recovery event")
    status, body = api(d.sock, "GET", "/v1/status")
    assert not body["host"]["failing"], body["host"]
    assert body["host"]["local_errors"] >= 30
    assert not db_rows(d.db, "SELECT id FROM incidents")
    d.stop()
