"""Tables an operator reads on a terminal (issue 17, "Tables"): system
names whole at 80 and 120 columns when shorter times make room, a banner
cut in `status` marked as cut, and the SIGUSR1 schedule figures never
with a p99 above the max."""
import re
import signal
import socket
import threading
import time

from conftest import (cli, rules_file, start_daemon, system_rules, wait_for,
                      wait_incident)
from faketimelib import schedule_stats
from test_cli_queries import run_on_tty, width

SHORT = ["library-web", "local-www"]
LONG = "library-catalogue-opac"


def plain(text):
    return re.sub(r"\033\[[0-9;]*m", "", text)


def rows(text):
    """The table's lines: its header and its rows."""
    return [l for l in text.splitlines() if re.match(r"\s*(ID|\d+)  ", l)]


def test_system_names_whole_at_80_and_120_columns(scenario):
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, *(
        system_rules(n, scenario.closed_port()) for n in SHORT + [LONG])))
    start_daemon(d)
    for n in SHORT + [LONG]:
        wait_incident(d.db, n)
    d.stop()
    for verb in ("register", "incidents"):
        wide = plain(run_on_tty(["--db", d.db, verb], 120))
        assert all(width(l) <= 120 for l in rows(wide)), wide
        for n in SHORT + [LONG]:
            assert re.search(rf"^\s*\d+  {n}  ", wide, re.M), wide
        # The times made room: month-day hour:minute.
        assert re.search(r"  \d\d-\d\d \d\d:\d\d  ", wide), wide
        narrow = plain(run_on_tty(["--db", d.db, verb], 80))
        assert all(width(l) <= 80 for l in rows(narrow)), narrow
        for n in SHORT + [LONG]:
            assert re.search(rf"^\s*\d+  {n}  ", narrow, re.M), narrow
        assert "…" not in narrow and "…" not in wide, (wide, narrow)


def test_status_marks_a_cut_banner(scenario):
    banner = b"SSH-2.0-OpenSSH_9.6p1 Debian-4 " + b"x" * 80 + b"-END\r\n"
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    srv.settimeout(0.2)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                c, _ = srv.accept()
            except OSError:
                continue
            try:
                c.sendall(banner)
            except OSError:
                pass
            c.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        d = scenario.daemon()
        d.write_rules(rules_file(d.db, system_rules(
            "ssh", srv.getsockname()[1], options='expect "SSH-2.0-"')))
        start_daemon(d)

        def line():
            rc, out, err = cli("--socket", d.sock, "status")
            assert rc == 0, err
            m = re.search(r'connected: "([^"]*)"', out)
            return m and m[1]
        said = wait_for(line, 15, "the ssh check's banner in status")
        assert said.startswith("SSH-2.0-OpenSSH_9.6p1"), said
        assert said.endswith("..."), f"banner cut without a mark: {said!r}"
        d.stop()
    finally:
        stop.set()
        t.join(5)
        srv.close()


def test_schedule_p99_never_above_max(scenario):
    up = [scenario.listener() for _ in range(6)]
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, *(
        system_rules(f"s{i}", u.port, every="100ms", timeout="50ms")
        for i, u in enumerate(up))))
    start_daemon(d)
    schedule_stats(d)
    seen = []
    # A loop held up (the process stopped) makes starts late by amounts
    # that fall anywhere inside the histogram's buckets.
    for pause in (0.013, 0.037, 0.151, 0.262, 0.0015):
        d.proc.send_signal(signal.SIGSTOP)
        time.sleep(pause)
        d.proc.send_signal(signal.SIGCONT)
        time.sleep(0.3)
        started, _, _, p50, p99, worst = schedule_stats(d)
        seen.append((pause, started, p50, p99, worst))
        assert started > 0, seen
        assert p50 <= p99 <= worst, f"p50/p99/max (ms): {seen}"
    d.stop()
