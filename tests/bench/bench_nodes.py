"""Three nodes, one PostgreSQL register, 10,000 checks each (issue 21).

Run by `make bench` (as root: the private PostgreSQL runs as nobody, and
nginx's many listeners) with Debian's /usr/bin/python3:

    /usr/bin/python3 tests/bench/bench_nodes.py

A private PostgreSQL (tests/e2e/pglib.py: initdb in a temporary directory,
loopback only) with its defaults, fsync and synchronous_commit on, as in
production.  Three rtowatchd nodes (a, b, c) on loopback, each with its
own state directory and control socket, `set node`, the shipped policy
and `down when 2 of 3 vantage points fail`; a leads (started first), b
and c stand by.  Each has the same N tcp checks (N = 10,000 x BENCH_SCALE,
or BENCH_NODES_N), every 10 s, timeout 2 s, down after 1 failure, up
after 1 success, against nginx's stream module on 127.0.0.1 ports
BENCH_NODES_PORT (default 3000) and up: 1,000 probes a second per node,
3,000 in all.  The last BENCH_NODES_FAIL (default 10%) of the ports are
a second nginx of their own, so that stopping it makes that share fail
(refused) on every node at once.

Three phases after one interval of start, each BENCH_NODES_PHASE seconds
(default 60) but the steady one, BENCH_NODES_STEADY (default twice that:
the response-time history is written at each minute's end):

  steady   every target answers
  fail     the second nginx is stopped: each node observes its share
           down, the leader opens the outages (quorum 2 of 3)
  recover  it is started again: they all close

For each phase it prints:

  commits/s    pg_stat_database's xact_commit delta of the register over
               the phase, per second (every node's every transaction:
               heartbeats, observations, the leader's writes; the
               driver's own few reads are in it too)
  WAL kB/s     pg_current_wal_lsn's delta per second
  size/day     pg_database_size's delta over the phase, as if it went on
               for a day (steady: the register's growth when nothing
               happens; fail and recover are bursts, not days)
  written      fail/recover: seconds from the change until the register
               shows every failing system's outage opened (or closed),
               polled every 0.5 s, bounded by BENCH_NODES_WAIT (180 s)
  per node     start lateness p50/p99/max (its SIGUSR1 schedule line,
               cleared at the phase's start), slots skipped, CPU s/s
  postgres     the server's CPU s/s (postmaster and its children)

and at the end a table of the three phases, the register's biggest
tables, each node's observations by state (2 x the failing share each
is due) and those that judged a target down although it answered all
along, by cause.

Everything is on loopback and bounded in count (N, 3 nodes, 3 phases)
and time.  The numbers are only as good as the machine is quiet.
"""
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import bench  # noqa: E402
import pglib  # noqa: E402

N = int(os.environ.get("BENCH_NODES_N", str(bench.scaled(10000))))
FAIL = float(os.environ.get("BENCH_NODES_FAIL", "0.1"))
NFAIL = max(1, int(N * FAIL))
PHASE = float(os.environ.get("BENCH_NODES_PHASE", "60"))
# The response-time history is written at every minute's end: the steady
# phase holds two of them by default.
STEADY = float(os.environ.get("BENCH_NODES_STEADY", str(2 * PHASE)))
WAIT = float(os.environ.get("BENCH_NODES_WAIT", "180"))
PORT = int(os.environ.get("BENCH_NODES_PORT", "3000"))
EVERY = 10
NODES = ("a", "b", "c")

NGINX_STREAM = """\
worker_processes 1;
worker_rlimit_nofile 19500;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
events {{ worker_connections 19000; }}
stream {{
    server {{
        listen 127.0.0.1:{first}-{last} backlog=1024;
        return "ok\\n";
    }}
}}
"""


class Targets:
    """nginx answering on PORT+FIRST .. PORT+LAST (a stream block only)."""

    def __init__(self, work, first, last):
        os.makedirs(work)
        conf = os.path.join(work, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_STREAM.format(work=work, first=PORT + first,
                                        last=PORT + last))
        self.argv = ["/usr/sbin/nginx", "-p", work, "-c", conf, "-g",
                     "daemon off;"]
        self.ports = (PORT + first, PORT + last)
        self.p = None
        self.start()

    def start(self):
        self.p = bench.subprocess.Popen(self.argv,
                                        preexec_fn=bench.raise_nofile)
        bench.wait_for(lambda: all(map(bench.Nginx.answers, self.ports))
                       or self.p.poll() is not None, 60, "nginx")
        if self.p.poll() is not None:
            sys.exit(f"bench_nodes: nginx could not listen on ports "
                     f"{self.ports[0]}-{self.ports[1]} (BENCH_NODES_PORT "
                     f"moves them)")

    def close(self):
        bench.stop(self.p)


def pg_cpu(pg):
    """CPU seconds of the server: the postmaster and its children."""
    with open(os.path.join(pg.data, "postmaster.pid")) as f:
        master = int(f.readline())
    total = bench.proc_cpu(master)
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            if ppid == master:
                total += bench.proc_cpu(int(pid))
        except (OSError, ValueError, IndexError):
            continue        # gone meanwhile
    return total


def counters(pg):
    row = pg.rows("SELECT xact_commit, pg_database_size(current_database()),"
                  " pg_current_wal_lsn() - '0/0'::pg_lsn FROM "
                  "pg_stat_database WHERE datname = current_database()")[0]
    return int(row[0]), int(row[1]), int(float(row[2]))


def open_outages(pg):
    return int(pg.rows("SELECT count(*) FROM outages WHERE ended_at IS NULL"
                       " AND system != '(monitoring host)'")[0][0])


def roles(pg):
    return dict(pg.rows("SELECT name, role FROM nodes"))


def schedule(d):
    """The node's schedule line, or what kept it from answering."""
    try:
        return d.schedule()
    except RuntimeError:
        gone = d.p.poll()
        print(f"bench_nodes: node {d.name} "
              f"{'exited ' + str(gone) if gone is not None else 'is alive'}"
              f" but logged no schedule line within 30 s; its log ends:\n"
              + d.text()[-1500:], flush=True)
        return {"started": 0, "busy": 0, "missed": 0, "p50": None,
                "p99": None, "max": None}


def phase(pg, nodes, name, length, action, done):
    """One phase: ACTION, then LENGTH seconds (or until DONE, at most
    WAIT); its figures."""
    for d in nodes:
        schedule(d)
    # pg_stat_database is flushed by each backend at most once a second.
    time.sleep(1.1)
    x0, s0, w0 = counters(pg)
    c0 = [bench.proc_cpu(d.p.pid) for d in nodes]
    p0, t0 = pg_cpu(pg), time.monotonic()
    action()
    written = None
    end = t0 + max(length, WAIT if done else 0)
    while time.monotonic() < end:
        if done is not None and written is None and done():
            written = time.monotonic() - t0
        if time.monotonic() - t0 >= length and (done is None or
                                               written is not None):
            break
        time.sleep(0.5)
    time.sleep(1.1)
    t1 = time.monotonic()
    x1, s1, w1 = counters(pg)
    el = t1 - t0
    r = {"phase": name, "s": el, "commits": (x1 - x0) / el,
         "wal": (w1 - w0) / el / 1024, "grow": s1 - s0,
         "day": (s1 - s0) / el * 86400 / 2**20, "written": written,
         "pg": (pg_cpu(pg) - p0) / el, "nodes": []}
    rl = roles(pg)
    for d, c in zip(nodes, c0):
        s = dict(schedule(d), role=rl.get(d.name, "?"))
        r["nodes"].append((d.name, s, (bench.proc_cpu(d.p.pid) - c) / el))
    if done is not None and written is None:
        r["note"] = f"not done within {WAIT:g} s"
    show(r)
    return r


def show(r):
    line = (f"  {r['phase']:8s} {r['s']:5.0f} s: {r['commits']:7.1f} "
            f"commits/s, WAL {r['wal']:7.1f} kB/s, size "
            f"{r['grow'] / 1024:+8.0f} kB ({r['day']:8.1f} MB/day), "
            f"postgres CPU {r['pg']:.2f} s/s")
    if r["written"] is not None:
        line += f"; all written after {r['written']:.1f} s"
    if r.get("note"):
        line += f"; {r['note']}"
    print(line, flush=True)
    for name, s, cpu in r["nodes"]:
        print(f"    node {name} ({s['role']}): {s['started']} probes, late "
              f"p50 {bench.fmt(s['p50'], 1)} ms p99 "
              f"{bench.fmt(s['p99'], 1)} ms max {bench.fmt(s['max'], 1)} "
              f"ms, skipped {s['busy']} running {s['missed']} loop late; "
              f"CPU {cpu:.2f} s/s", flush=True)


def table(results):
    print(f"\nbench_nodes: {N} tcp checks x 3 nodes every {EVERY} s, "
          f"{NFAIL} failing in the fail phase; PostgreSQL fsync on")
    head = ("phase", "s", "commits/s", "WAL kB/s", "size kB", "MB/day",
            "written s",
            "p99 ms a/b/c", "CPU s/s a/b/c", "pg CPU s/s")
    rows = []
    for r in results:
        rows.append((r["phase"], f"{r['s']:.0f}", f"{r['commits']:.1f}",
                     f"{r['wal']:.1f}", f"{r['grow'] / 1024:+.0f}",
                     f"{r['day']:.1f}", bench.fmt(r["written"], 1),
                     "/".join(bench.fmt(s["p99"], 1)
                              for _, s, _ in r["nodes"]),
                     "/".join(f"{c:.2f}" for _, _, c in r["nodes"]),
                     f"{r['pg']:.2f}"))
    widths = [max(len(h), *(len(row[i]) for row in rows))
              for i, h in enumerate(head)]
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)))


def main():
    why = pglib.pg_missing()
    if why:
        sys.exit(f"bench_nodes: {why}")
    work = tempfile.mkdtemp(prefix="rtowatch-nodes-")
    os.chmod(work, 0o755)
    pg = pglib.Postgres()
    up = down = None
    nodes = []
    try:
        fsync = pg.rows("SHOW fsync")[0][0]
        sync = pg.rows("SHOW synchronous_commit")[0][0]
        up = Targets(os.path.join(work, "nginx-up"), 0, N - NFAIL - 1)
        down = Targets(os.path.join(work, "nginx-fail"), N - NFAIL, N - 1)
        checks = [f"check tcp {bench.loopback_only('127.0.0.1')} port "
                  f"{PORT + i}" for i in range(N)]
        for name in NODES:
            head = (f'set node "{name}"\n'
                    f'set socket "{work}/{name}.sock"\n'
                    f'down when 2 of 3 vantage points fail\n')
            d = bench.Rtowatchd(work, name, checks, EVERY, 2000,
                                extra="\tdown after 1 failures\n"
                                      "\tup after 1 successes\n",
                                database=pg.uri, head=head)
            d.name = name
            nodes.append(d)
            bench.wait_for(lambda: name in roles(pg), 60,
                           f"node {name} in the nodes table")
        bench.wait_for(lambda: sorted(roles(pg).values()) ==
                       ["leader", "standby", "standby"], 30,
                       "one leader and two standbys")
        time.sleep(EVERY + 2)           # a full round, all up
        if open_outages(pg):
            sys.exit("bench_nodes: targets failing before the test")
        print(f"bench_nodes: {N} tcp systems x {len(NODES)} nodes every "
              f"{EVERY} s on one PostgreSQL register (fsync {fsync}, "
              f"synchronous_commit {sync}); leader "
              f"{[k for k, v in roles(pg).items() if v == 'leader']}",
              flush=True)

        results = []
        for name, length, action, done in (
                ("steady", STEADY, lambda: None, None),
                ("fail", PHASE, down.close,
                 lambda: open_outages(pg) >= NFAIL),
                ("recover", PHASE, down.start,
                 lambda: open_outages(pg) == 0)):
            results.append(phase(pg, nodes, name, length, action, done))
        incidents = pg.rows("SELECT count(*) FROM incidents")[0][0]
        obs = pg.rows("SELECT count(*) FROM observations")[0][0]
        size = counters(pg)[1]
        biggest = pg.rows(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind"
            " = 'r' AND n.nspname = 'public' ORDER BY 2 DESC LIMIT 4")
        # Each node sees NFAIL go down and come back: 2 x NFAIL each.
        per = pg.rows("SELECT node || ' ' || state, count(*) FROM "
                      "observations GROUP BY 1 ORDER BY 1")
        # Down on a target that answered all along: why, per node.
        wrong = pg.rows(
            "SELECT node || ' ' || split_part(regexp_replace(cause, "
            "'^.*port [0-9]+: ', ''), ':', 1), count(*) FROM observations"
            " WHERE state = 'down' AND substr(system, 2)::int < "
            f"{N - NFAIL} GROUP BY 1 ORDER BY 1")
        table(results)
        print(f"register: {incidents} incidents, {obs} observations, "
              f"{size / 2**20:.1f} MB; the fail and recover phases grew it "
              f"{(results[1]['grow'] + results[2]['grow']) / NFAIL:.0f} "
              f"bytes a failing system (its outage, incident, timeline "
              f"rows and 3 nodes' observations); the biggest tables: "
              + ", ".join(f"{t} {int(b) / 2**20:.1f} MB" for t, b in biggest))
        print(f"observations (node state: rows; {NFAIL} each expected): "
              + ", ".join(f"{k}: {v}" for k, v in per))
        print("judged down although their target answered (node cause: "
              "rows): " + (", ".join(f"{k}: {v}" for k, v in wrong)
                            or "none"))
    finally:
        for d in nodes:
            d.close()
        for t in (up, down):
            if t is not None:
                t.close()
        pg.close()
        bench.drop_work(work, "bench_nodes")


if __name__ == "__main__":
    main()
