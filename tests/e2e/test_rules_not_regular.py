"""Rules files, and the files they include, must be regular files.

A FIFO named by `include` used to be opened with a plain open(2), which
waits for a writer: `rtowatchd -n` hung for ever, and a SIGHUP reload
would have hung the daemon's loop.  A directory was reported at line 0
of itself.  Now each is `FILE:LINE: "PATH": not a regular file` at the
include line, at once, and a reload keeps the rules that run.
"""
import os
import subprocess
import time

from conftest import (api, binary, errors_at, parse_errors, rules_file,
                      system_rules, wait_for, wait_socket)


def check(path):
    t0 = time.monotonic()
    try:
        p = subprocess.run([binary("rtowatchd"), "-n", "-f", str(path)],
                           capture_output=True, text=True, timeout=10,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"rtowatchd -n -f {path} hung") from None
    return p.returncode, p.stdout + p.stderr, time.monotonic() - t0


def test_fifo_and_directory_includes(workdir):
    fifo = workdir / "pipe.conf"
    os.mkfifo(fifo)
    subdir = workdir / "dir.conf"
    subdir.mkdir()
    rules = workdir / "rules.conf"
    rules.write_text(rules_file(workdir / "x.db", f'include "{fifo}"\n'
                                f'include "{subdir}"\n',
                                system_rules("vpn", 9)))
    rc, out, took = check(rules)
    assert rc == 1, out
    assert took < 5, took
    errors = parse_errors(out)
    assert any("not a regular file" in m
               for m in errors_at(errors, rules, 3)), out
    assert any("not a regular file" in m
               for m in errors_at(errors, rules, 4)), out

    # The rules file itself a FIFO.
    rc, out, took = check(fifo)
    assert rc == 1 and "not a regular file" in out, out
    assert took < 5, took


def test_reload_with_a_fifo_keeps_running(scenario, workdir):
    svc = scenario.listener()
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, system_rules("vpn", svc.port)))
    d.start()
    wait_socket(d.sock)
    fifo = workdir / "later.conf"
    os.mkfifo(fifo)
    d.write_rules(rules_file(d.db, f'include "{fifo}"\n',
                             system_rules("vpn", svc.port)))
    d.hup()
    wait_for(lambda: "not a regular file" in d.run_log(), 10,
             "the reload to refuse the FIFO")
    status, body = api(d.sock, "GET", "/v1/status")
    assert status == 200 and body["systems"][0]["name"] == "vpn", body
    d.stop()
