"""Many systems failing in one round and recovering: what the writes cost.

Run by hand (as root, for nginx's many listeners) with Debian's
/usr/bin/python3:

    /usr/bin/python3 tests/bench/bench_mass.py

N systems (BENCH_MASS, default 10,000), one tcp check each against nginx's
stream module on 127.0.0.1 ports 20000.., every BENCH_MASS_EVERY seconds
(default 10; 1,000 probes a second at 10,000), down after 1 failure, up
after 1 success.  Once every target answers, nginx is stopped: every
connection is refused in the same round.  Then it is started again.  For
each half it prints:

  written     seconds from the change (nginx stopped, or started) until
              the database shows the last system's outage opened (or
              closed), polled every 0.2 s
  spread      from the first to the last outage's detected_at (opening)
  incidents   how many the failure opened (all of them at once is one
              incident, the monitoring host's, with the rest its scope)
  lateness    start lateness p50/p99/max of the probes in that half, from
              the daemon's SIGUSR1 schedule line (probes starting late
              because the loop was busy writing)
  CPU         the daemon's CPU over the half

BENCH_MASS_PORT (default 20000) moves the targets' ports, for a machine
where another benchmark's nginx holds them.

Every state change is written (and fsync'd) before memory changes, so
these show what N changes in one round cost on this disk.  Each half is
bounded (BENCH_MASS_WAIT seconds, default 180).  Everything is on
loopback.
"""
import os
import sqlite3
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

N = int(os.environ.get("BENCH_MASS", "10000"))
EVERY = int(os.environ.get("BENCH_MASS_EVERY", "10"))
WAIT = float(os.environ.get("BENCH_MASS_WAIT", "180"))
# Other benchmarks' nginx may hold the usual ports on a shared machine:
# BENCH_MASS_PORT moves the targets (and nginx's HTTP ports below them).
if os.environ.get("BENCH_MASS_PORT"):
    bench.TCP_BASE = int(os.environ["BENCH_MASS_PORT"])
    bench.HTTP_PORT = bench.TCP_BASE - 2
    bench.HTTPS_PORT = bench.TCP_BASE - 1


def open_outages(db):
    c = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return c.execute("SELECT count(*) FROM outages WHERE ended_at IS "
                         "NULL AND system != '(monitoring host)'"
                         ).fetchone()[0]
    finally:
        c.close()


def spread(db, column):
    c = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        lo, hi = c.execute(f"SELECT min(julianday({column})), "
                           f"max(julianday({column})) FROM outages WHERE "
                           f"system != '(monitoring host)'").fetchone()
        n = c.execute("SELECT count(*) FROM incidents").fetchone()[0]
    finally:
        c.close()
    return ((hi - lo) * 86400 if lo is not None else None), n


def half(d, what, done):
    d.schedule()
    c0, t0 = bench.proc_cpu(d.p.pid), time.monotonic()
    what()
    end = t0 + WAIT
    while time.monotonic() < end and not done():
        time.sleep(0.2)
    written = time.monotonic() - t0
    ok = done()
    s = d.schedule()
    cpu = bench.proc_cpu(d.p.pid) - c0
    return written if ok else None, s, cpu


def main():
    if os.geteuid() != 0:
        sys.exit("bench_mass: run as root (nginx's listeners)")
    work = tempfile.mkdtemp(prefix="rtowatch-mass-")
    nginx = bench.Nginx(work, N)
    d = None
    try:
        checks = [f"check tcp 127.0.0.1 port {bench.tcp_port(i)}"
                  for i in range(N)]
        d = bench.Rtowatchd(work, "rtowatchd", checks, EVERY, 2000,
                            extra="\tdown after 1 failures\n"
                                  "\tup after 1 successes\n")
        db = os.path.join(d.dir, "rtowatch.db")
        time.sleep(EVERY + 2)           # a full round, all up
        if open_outages(db):
            sys.exit("bench_mass: targets failing before the test")
        print(f"bench_mass: {N} tcp systems every {EVERY}s", flush=True)

        def stop():
            nginx.close()
        w, s, cpu = half(d, stop, lambda: open_outages(db) >= N)
        sp, incs = spread(db, "detected_at")
        print(f"  down: all {N} outages written {bench.fmt(w, 1)} s after "
              f"the targets stopped (detected_at spread "
              f"{bench.fmt(sp, 1)} s); {incs} incidents; lateness p50 "
              f"{bench.fmt(s['p50'], 1)} ms p99 {bench.fmt(s['p99'], 1)} "
              f"ms max {bench.fmt(s['max'], 1)} ms; skipped "
              f"{s['busy']} running, {s['missed']} loop late; CPU "
              f"{cpu:.1f} s", flush=True)

        perf = None
        if os.environ.get("BENCH_MASS_PERF"):
            # Where the recovery's CPU goes: perf record -g for 20 s.
            perf = bench.subprocess.Popen(
                ["perf", "record", "-g", "-o",
                 os.environ["BENCH_MASS_PERF"], "-p", str(d.p.pid), "--",
                 "sleep", "20"], stdout=bench.subprocess.DEVNULL,
                stderr=bench.subprocess.DEVNULL)
        w, s, cpu = half(d, nginx.start, lambda: open_outages(db) == 0)
        sp, incs = spread(db, "ended_at")
        print(f"  up:   all {N} outages closed {bench.fmt(w, 1)} s after "
              f"the targets came back; {incs} incidents; lateness p50 "
              f"{bench.fmt(s['p50'], 1)} ms p99 {bench.fmt(s['p99'], 1)} "
              f"ms max {bench.fmt(s['max'], 1)} ms; skipped "
              f"{s['busy']} running, {s['missed']} loop late; CPU "
              f"{cpu:.1f} s", flush=True)
        if perf is not None:
            perf.wait(60)
    finally:
        if d is not None:
            d.close()
        nginx.close()
        bench.drop_work(work, "bench_mass")


if __name__ == "__main__":
    main()
