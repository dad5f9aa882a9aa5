"""Many RTOs passing together: what each escalation costs.

Run by hand with Debian's /usr/bin/python3, in a network namespace of
your own (it listens on loopback ports the kernel picks):

    ip netns add bn-rto; ip netns exec bn-rto ip link set lo up
    ip netns exec bn-rto /usr/bin/python3 tests/bench/bench_rto.py \\
        --n 2000 --bin bin --bin /tmp/old/bin

N systems fail from their first probe (each its own incident: the
scenarios' policy has no lost-network rule) with an RTO of --rto seconds,
beside a watched system probed every 200 ms, as
tests/e2e/test_clock_burst.py does.  For each --bin (several run in turn,
--rounds times, alternating) it prints:

  last late   ms from the last RTO's moment until the last incident's
              "reclassified" row (the moment the escalation is recorded)
  worst late  the largest of each incident's own lateness
  per esc     the daemon's CPU (utime + stime, /proc) over the burst,
              divided by N
  span        from the first reclassified row to the last
  gap         the longest time the watched system went without a probe
              while they passed

--perf FILE records the daemon's stacks (perf record -g) over the burst
of the first --bin's first round.  Everything is bounded: each wait is
at most --wait seconds.
"""
import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time

E2E = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))), "e2e")
sys.path.insert(0, E2E)


def cpu_ms(pid):
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) * 1000 / tick


def records_shape(db):
    """What the register holds, times and numbers masked: the rows each
    table has, the timeline in order, the notices' texts, to tell that
    two builds recorded the same."""
    import re
    import sqlite3
    # "outage so far: 1.2s" at one run is "800ms" at another.
    mask = re.compile(r"\d+(?:\.\d+)?(?:ms\b|s\b|m\b|h\b)?")
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        out = []
        for t in ("incidents", "outages", "clocks", "notifications",
                  "timeline"):
            cols = [r[1] for r in con.execute(f"PRAGMA table_info({t})")]
            for row in con.execute(f"SELECT * FROM {t} ORDER BY id"):
                out.append(t + "|" + "|".join(
                    f"{c}={mask.sub('#', str(v))}" for c, v in
                    zip(cols, row) if "hash" not in c and c != "records"))
        return sorted(out)
    finally:
        con.close()


def one(bin_dir, n, rto_s, wait, perf, shim, verify=()):
    os.environ["RTOWATCH_BIN_DIR"] = os.path.abspath(bin_dir)
    import conftest
    conftest.BIN_DIR = os.path.abspath(bin_dir)
    from conftest import (Scenario, db_rows, parse_time, rules_file,
                          short_policy, start_daemon, system_rules,
                          wait_for)
    from test_clock_burst import Probed

    with tempfile.TemporaryDirectory(prefix="bench-rto-") as tmp:
        os.chmod(tmp, 0o755)
        sc = Scenario(tmp)
        d = sc.daemon()
        closed = sc.closed_port()
        watched = sc.listener()
        systems = [system_rules(f"f{i}", closed, every="1s",
                                timeout="500ms", down_after=1,
                                rto=f"{rto_s}s") for i in range(n)]
        d.write_rules(rules_file(d.db, system_rules("watched", watched.port),
                                 *systems, policy=short_policy(
                                     tmp, notify="1h", notify_remind="30m")))
        probed = Probed(watched)
        perf_proc = None
        try:
            if shim:
                d.start(env={"LD_PRELOAD": shim})
                wait_for(lambda: " started: rules " in d.run_log(), 20,
                         "the start")
            else:
                start_daemon(d)
            wait_for(lambda: db_rows(d.db, "SELECT count(*) AS n FROM "
                                     "incidents")[0]["n"] == n, wait,
                     f"{n} incidents open")
            first = min(parse_time(r["started_at"]) for r in db_rows(
                d.db, "SELECT started_at FROM outages"))
            # Just before the first RTO passes: the daemon's CPU from
            # here is the burst's (the probes' share is small and the
            # same for every build).
            while time.time() * 1000 < first + rto_s * 1000 - 300:
                time.sleep(0.02)
            pid = d.proc.pid
            if perf:
                perf_proc = subprocess.Popen(
                    ["perf", "record", "--call-graph", "dwarf,16384", "-F", "400", "-o", perf,
                     "-p", str(pid)], stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL)
            if shim:
                os.kill(pid, signal.SIGUSR2)
            c0 = cpu_ms(pid)
            wait_for(lambda: db_rows(d.db, "SELECT count(*) AS n FROM "
                                     "incidents WHERE major = 1")[0]["n"]
                     == n, wait, f"{n} incidents reclassified")
            c1 = cpu_ms(pid)
            if shim:
                os.kill(pid, signal.SIGUSR2)
            if perf_proc:
                perf_proc.send_signal(2)
                perf_proc.wait(30)
            started = {r["id"]: parse_time(r["started_at"]) for r in db_rows(
                d.db, "SELECT i.id, o.started_at FROM incidents i JOIN "
                "outages o ON o.incident_id = i.id")}
            at = {r["incident_id"]: parse_time(r["at"]) for r in db_rows(
                d.db, "SELECT incident_id, at FROM timeline WHERE event = "
                "'reclassified'")}
            due = {i: started[i] + rto_s * 1000 for i in at}
            last_late = max(at.values()) - max(due.values())
            worst = max(at[i] - due[i] for i in at)
            span = max(at.values()) - min(at.values())
            gap = probed.longest_gap(min(due.values()) / 1000,
                                     max(at.values()) / 1000 + 0.5)
            d.stop()
            for v in verify:
                r = subprocess.run([os.path.join(v, "rtowatch"), "--db",
                                    d.db, "verify"], capture_output=True,
                                   text=True, timeout=120)
                print(f"{v}/rtowatch verify of {bin_dir}'s register: "
                      f"exit {r.returncode} "
                      f"{(r.stdout + r.stderr).strip()[-200:]}")
            shape = records_shape(d.db)
            return dict(shape=shape, last_late=last_late, worst=worst,
                        per=(c1 - c0) / n, span=span, gap=gap)
        finally:
            if perf_proc and perf_proc.poll() is None:
                perf_proc.kill()
                perf_proc.wait()
            probed.close()
            sc.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--rto", type=int, default=0,
                    help="seconds (default: enough for N to open)")
    ap.add_argument("--bin", action="append", default=[])
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--wait", type=float, default=120)
    ap.add_argument("--perf", default=None)
    ap.add_argument("--verify", action="store_true",
                    help="each --bin's rtowatch verify reads each "
                    "register: the chain's hashes the same")
    ap.add_argument("--shim", default=None,
                    help="an LD_PRELOAD library for the daemon, told by "
                    "SIGUSR2 when the burst begins and ends")
    a = ap.parse_args()
    bins = a.bin or ["bin"]
    shapes = {}
    rto = a.rto or max(6, a.n // 250)
    for r in range(a.rounds):
        for k, b in enumerate(bins):
            res = shapes[b] = one(b, a.n, rto, a.wait,
                      a.perf if r == 0 and k == 0 else None, a.shim,
                      bins if a.verify else ())
            print(f"{b}: n {a.n}: last late {res['last_late']} ms, worst "
                  f"late {res['worst']} ms, per esc {res['per']:.3f} ms "
                  f"CPU, span {res['span']} ms, gap {res['gap']:.2f} s",
                  flush=True)
        first = shapes[bins[0]]["shape"]
        for b in bins[1:]:
            other = shapes[b]["shape"]
            diff = [x for x in zip(first, other) if x[0] != x[1]]
            print(f"records of {b} vs {bins[0]}: {len(other)} vs "
                  f"{len(first)} rows, {len(diff)} differ (times and "
                  f"numbers masked){': ' + str(diff[:2]) if diff else ''}",
                  flush=True)


if __name__ == "__main__":
    main()
