"""1,000 HTTP targets behind 20 ms of added delay: how long one sweep takes,
rtowatchd against monit's cycle.

    /usr/bin/python3 tests/bench/bench_netem.py   (as root; `make bench`)

The network: two namespaces made for the run, "mon" (198.19.20.1/30) where
rtowatchd and monit run, and "tgt" (198.19.20.2/30) where nginx answers
/t/0 .. /t/999 on ports 18080-18087, joined by a veth pair.  198.18.0.0/15
is the benchmarking range; the e2e tests' namespaces use 198.18.0.0/24,
these addresses are apart from them, and since "mon" has no other link
and no default route nothing leaves the two namespaces.  Every packet
"tgt" sends is held 20 ms (BENCH_DELAY_MS) before it goes: by
`tc qdisc add dev rtwn1 root netem delay 20ms limit 100000` (a limit far
above netem's default of 1,000 packets, which 1,000 connections in
flight would overflow), or, on a kernel built without sch_netem, by the
same delay done in user space (netdelay.py: an NFQUEUE queue on "tgt"'s
output whose packets are released 20 ms after they arrive).  So every
round trip is 20 ms longer: a TCP connect takes 20 ms and an HTTP request
on it another 20 ms, about 40 ms a probe.  The run prints which way it
delayed and the connect and request times measured across the veth
before the tools start.

What a sweep is.  monit checks its targets one after the other, so its
cycle is about 1,000 times a probe's 40 ms; it is measured in nginx's
access log from the hit of /t/0 until every target has been requested
after it (its first cycle; `set daemon 1`, 2 s timeouts).  rtowatchd never
starts all checks at once: its scheduler spreads them evenly over their
interval, and a check runs again one interval after its previous due
time.  So its sweep, every target probed once, takes its interval, and
what the machine decides is how short an interval it still keeps up
with.  The run therefore tries intervals from long to short
(BENCH_NETEM_EVERY, default 2s,1s,500ms,250ms,100ms; 100 ms is the
shortest the rules accept) and stops at the first it does not keep up
with: over a window of at least three sweeps, every planned probe
started (no slot skipped, none still running when due again), every
probe succeeded (`down after 1 failure`, and no outage recorded) and
nginx logged every request.  Its wall s/sweep is measured the same way
as monit's, from a hit of /t/0 until every target has been requested
after it, averaged over the window's sweeps.  The ratio is monit's
sweep over rtowatchd's at the shortest interval it keeps up with: how
many times more often the same 1,000 checks come round.  The same
probes, the same delayed network, the same measuring; only the prober
differs.  Spread, rtowatchd's probes are never all in flight together:
at an interval I about 1,000 x 41 ms / I are (some 80 at 500 ms), so it
is the probes' CPU, not the delay, that sets how short I can be.

CPU per probe is the process's utime+stime over the window divided by
the probes it started (rtowatchd), or over its one cycle (from its start,
so its reading of the rules is in it) divided by the requests nginx
logged (monit); peak RSS is VmHWM.  The user-space delay's process, when
it is used, takes CPU from the same cores, which the shortest intervals
feel first; the numbers are only as good as the machine is quiet.

Environment: BENCH_TARGETS (1000), BENCH_DELAY_MS (20), BENCH_NETEM_EVERY
(the intervals tried), BENCH_WINDOW (seconds each interval is measured, at
least three sweeps; default 5), BENCH_DELAY (auto, netem or nfqueue),
BENCH_BUDGET (seconds for the whole run, default 300: an interval that
would end after it is skipped and monit's cycle is cut at it),
BENCH_KEEP=1 to keep the work directory.  Namespaces left by an earlier
run that was killed are removed at the start; this run's are removed
at its end, whatever happens.
"""
import bisect
import ipaddress
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench                                        # noqa: E402
from bench import (Nginx, Rtowatchd, fmt, proc_cpu, proc_status,  # noqa
                   raise_nofile, stop, wait_for)

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"
N = int(os.environ.get("BENCH_TARGETS", "1000"))
DELAY_MS = int(os.environ.get("BENCH_DELAY_MS", "20"))
LADDER = os.environ.get("BENCH_NETEM_EVERY",
                        "2s,1s,500ms,250ms,100ms").split(",")
WINDOW_S = float(os.environ.get("BENCH_WINDOW", "5"))
DELAY_WAY = os.environ.get("BENCH_DELAY", "auto")
KEEP = os.environ.get("BENCH_KEEP") == "1"
BUDGET_S = float(os.environ.get("BENCH_BUDGET", "300"))
DEADLINE = time.monotonic() + BUDGET_S
bench.DEADLINE = DEADLINE       # bench.enough_time() reads it

PREFIX = "rtw-bench-netem-"
NS = f"{PREFIX}{os.getpid()}"
MON, TGT = NS + "-m", NS + "-t"
NET = ipaddress.ip_network("198.19.20.0/30")
MON_ADDR, TGT_ADDR = "198.19.20.1", "198.19.20.2"
MON_IF, TGT_IF = "rtwn0", "rtwn1"
PORTS = list(range(18080, 18088))
QUEUE = 2020
IN_MON = ("ip", "netns", "exec", MON)
IN_TGT = ("ip", "netns", "exec", TGT)


def in_namespace(addr):
    # Every target address this driver writes goes through here.
    if ipaddress.ip_address(addr) not in NET:
        sys.exit(f"bench_netem: refusing a target {addr} outside {NET}")
    return addr


def url(i):
    """The I-th target; its port varies so that 1,000 connections a
    second's TIME_WAITs spread over eight destinations."""
    return f"http://{in_namespace(TGT_ADDR)}:{PORTS[i % len(PORTS)]}/t/{i}"


def sh(*cmd, check=True):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=30,
                       stdin=subprocess.DEVNULL)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {p.returncode}: "
                           f"{p.stderr.strip()}")
    return p


def duration_ms(text):
    m = re.fullmatch(r"(\d+)(ms|s)", text.strip())
    if m is None:
        sys.exit(f"bench_netem: BENCH_NETEM_EVERY: {text!r} is not like 500ms "
                 f"or 2s")
    return int(m[1]) * (1 if m[2] == "ms" else 1000)


# ---------------------------------------------------------------- network

def remove_namespace(ns):
    """Stop what still runs in NS (an earlier run of this driver's nginx
    or delayer), then remove it."""
    p = sh("ip", "netns", "pids", ns, check=False)
    pids = [int(x) for x in p.stdout.split()]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        end = time.monotonic() + 5
        while time.monotonic() < end and any(
                os.path.exists(f"/proc/{pid}") for pid in pids):
            time.sleep(0.1)
    sh("ip", "netns", "del", ns, check=False)


def remove_leftovers():
    """The namespaces of earlier runs whose driver is gone."""
    for line in sh("ip", "netns", "list").stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        if not name.startswith(PREFIX):
            continue
        owner = name[len(PREFIX):].split("-")[0]
        if owner.isdigit() and os.path.exists(f"/proc/{owner}"):
            continue        # a run still going
        print(f"bench_netem: removing {name}, left by an earlier run",
              flush=True)
        remove_namespace(name)


def make_network():
    for ns in (MON, TGT):
        sh("ip", "netns", "add", ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
    sh("ip", "-n", MON, "link", "add", MON_IF, "type", "veth", "peer",
       "name", TGT_IF, "netns", TGT)
    sh("ip", "-n", MON, "addr", "add", f"{MON_ADDR}/30", "dev", MON_IF)
    sh("ip", "-n", TGT, "addr", "add", f"{TGT_ADDR}/30", "dev", TGT_IF)
    sh("ip", "-n", MON, "link", "set", MON_IF, "up")
    sh("ip", "-n", TGT, "link", "set", TGT_IF, "up")
    # Thousands of short connections a second from one address: all
    # ephemeral ports, and TIME_WAIT ports reused (both tools alike).
    sh(*IN_MON, "sysctl", "-q", "-w",
       "net.ipv4.ip_local_port_range=1024 65535")
    sh(*IN_MON, "sysctl", "-q", "-w", "net.ipv4.tcp_tw_reuse=1")
    sh(*IN_TGT, "sysctl", "-q", "-w", "net.core.somaxconn=8192")
    sh(*IN_TGT, "sysctl", "-q", "-w", "net.ipv4.tcp_max_syn_backlog=8192")


def add_delay(work):
    """Hold every packet leaving "tgt" DELAY_MS; the delayer's process when
    it is done in user space, else None."""
    if DELAY_WAY in ("auto", "netem"):
        p = sh(*IN_TGT, "tc", "qdisc", "add", "dev", TGT_IF, "root",
               "netem", "delay", f"{DELAY_MS}ms", "limit", "100000",
               check=False)
        if p.returncode == 0:
            print(f"delay: tc netem delay {DELAY_MS}ms limit 100000 on "
                  f"{TGT_IF}, \"tgt\"'s end of the veth", flush=True)
            return None
        if DELAY_WAY == "netem":
            raise RuntimeError(f"tc netem: {p.stderr.strip()}")
        print(f"delay: this kernel has no netem ({p.stderr.strip()}); "
              f"the same delay in user space: NFQUEUE {QUEUE} on \"tgt\"'s "
              f"output, released after {DELAY_MS} ms by netdelay.py",
              flush=True)
    sh(*IN_TGT, "iptables-legacy", "-A", "OUTPUT", "-o", TGT_IF, "-j",
       "NFQUEUE", "--queue-num", str(QUEUE), "--queue-bypass")
    out = open(os.path.join(work, "netdelay.out"), "w")
    p = subprocess.Popen([*IN_TGT, PYTHON, os.path.join(HERE, "netdelay.py"),
                          str(QUEUE), str(DELAY_MS)], stdout=out,
                         stderr=subprocess.STDOUT)

    def ready():
        with open(out.name) as f:
            return "ready" in f.read() or p.poll() is not None
    wait_for(ready, 10, "netdelay")
    if p.poll() is not None:
        with open(out.name) as f:
            raise RuntimeError(f"netdelay exited: {f.read()}")
    return p


RTT_PROBE = """
import socket, statistics, sys, time
host, port = sys.argv[1], int(sys.argv[2])
conn, req = [], []
for i in range(7):
    t0 = time.monotonic()
    s = socket.create_connection((host, port), 5)
    t1 = time.monotonic()
    s.sendall(b"GET /t/0 HTTP/1.0\\r\\n\\r\\n")
    while s.recv(4096):
        pass
    t2 = time.monotonic()
    s.close()
    conn.append(t1 - t0)
    req.append(t2 - t1)
print(f"{statistics.median(conn) * 1000:.1f} "
      f"{statistics.median(req) * 1000:.1f}")
"""


CONNECTS = """
import socket, sys
for port in sys.argv[2:]:
    socket.create_connection((sys.argv[1], int(port)), 1).close()
"""


def measure_rtt():
    """Median TCP connect and HTTP request times from "mon", in ms."""
    p = sh(*IN_MON, PYTHON, "-c", RTT_PROBE, TGT_ADDR, str(PORTS[0]))
    conn, req = (float(x) for x in p.stdout.split())
    return conn, req


# ---------------------------------------------------------------- nginx

NGINX_CONF = """\
worker_processes 1;
worker_rlimit_nofile 20000;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 16000; }}
http {{
""" + bench.NGINX_HTTP_COMMON + """\
    server {{
{listens}
        location /t/ {{ return 200 "ok\\n"; }}
    }}
}}
"""


class NsNginx(Nginx):
    """bench.py's nginx, in "tgt", logging in the same format, so that
    its count() serves."""

    def __init__(self, work):
        self.work = work
        conf = os.path.join(work, "nginx.conf")
        listens = "\n".join(f"        listen {in_namespace(TGT_ADDR)}:{p} "
                            f"backlog=8192;" for p in PORTS)
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(work=work, listens=listens))
        self.p = subprocess.Popen(
            [*IN_TGT, "/usr/sbin/nginx", "-p", work, "-e",
             os.path.join(work, "nginx-error.log"), "-c", conf,
             "-g", "daemon off;"], preexec_fn=raise_nofile)
        pid = os.path.join(work, "nginx.pid")
        wait_for(lambda: os.path.exists(pid) or self.p.poll() is not None,
                 30, "nginx")
        if self.p.poll() is not None:
            raise RuntimeError("nginx exited")

    def sweep_all(self, t0, t1):
        """The mean, over the hits of /t/0 in [T0, T1), of the time from
        that hit until every target has been requested at or after it:
        how long all N take to be probed once from there.  (Pairing a
        hit of /t/0 with the next of /t/N-1, as bench.py does for monit,
        goes wrong for a spread scheduler, whose /t/N-1 of one sweep and
        /t/0 of the next are a millisecond apart and come in either
        order.)"""
        hits = {}
        with open(os.path.join(self.work, "http.log")) as f:
            for line in f:
                parts = line.split()
                if len(parts) != 3 or not parts[2].startswith("/t/"):
                    continue
                t = float(parts[0])
                if t0 <= t < t1:
                    hits.setdefault(parts[2], []).append(t)
        if len(hits) < N:
            return None
        spans = []
        for a in hits.get("/t/0", []):
            end = a
            for times in hits.values():
                i = bisect.bisect_left(times, a)
                if i == len(times):
                    end = None      # not all probed again before T1
                    break
                end = max(end, times[i])
            if end is not None:
                spans.append(end - a)
        return sum(spans) / len(spans) if spans else None

    def seen(self, uri, t0):
        """Whether URI was requested at or after T0 (the log lags 1 s)."""
        with open(os.path.join(self.work, "http.log")) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 3 and parts[2] == uri and \
                        float(parts[0]) >= t0:
                    return True
        return False


# ---------------------------------------------------------------- the tools

rows = []   # tool, every, sweep_s, cpu_us, cpu_share, rss_mb, keeps, note


def run_rtowatchd(work, nginx, every):
    ms = duration_ms(every)
    window = max(WINDOW_S, 3 * ms / 1000)
    if not bench.enough_time(ms / 1000 + window + 20,
                             f"rtowatchd every {every}"):
        return None
    # The timeout must be below the interval; 2 s, as monit's, when the
    # interval allows.
    timeout = min(2000, ms * 9 // 10)
    checks = [f'check http "{url(i)}"' for i in range(N)]
    d = Rtowatchd(work, f"rtowatchd-{every}", checks, every, timeout,
                  extra="\tdown after 1 failure\n", argv_prefix=IN_MON)
    try:
        time.sleep(ms / 1000 + 1)   # the first, spread, sweep
        d.schedule()
        c0, t0, w0 = proc_cpu(d.p.pid), time.monotonic(), time.time()
        time.sleep(window)
        s = d.schedule()
        c1, t1, w1 = proc_cpu(d.p.pid), time.monotonic(), time.time()
        rss = proc_status(d.p.pid, "VmHWM")
    finally:
        d.close()
    outages = d.outages()
    hits = nginx.count("http.log", w0, w1)
    sweep = nginx.sweep_all(w0, w1)
    planned = N * (t1 - t0) * 1000 / ms
    started = s["started"]
    keeps = (s["busy"] == 0 and s["missed"] == 0 and outages == 0 and
             started >= 0.98 * planned and hits >= 0.98 * started)
    note = (f"timeout {timeout}ms; {started} started of {planned:.0f} "
            f"planned, {hits} requests logged; late p99 "
            f"{fmt(s['p99'], 1)} ms")
    if s["busy"] or s["missed"]:
        note += f"; skipped {s['busy']} running, {s['missed']} loop late"
    if outages:
        note += f"; {outages} outages (probes failed)"
    row = {"tool": "rtowatchd", "every": every, "sweep": sweep,
           "cpu_us": (c1 - c0) * 1e6 / started if started else None,
           "share": 100 * (c1 - c0) / (t1 - t0), "rss": rss,
           "keeps": keeps, "note": note}
    rows.append(row)
    print(f"   rtowatchd every {every}: sweep {fmt(sweep, 3)} s, "
          f"{fmt(row['cpu_us'], 1)} us/probe, {row['share']:.0f}% of a "
          f"core, keeps up: {'yes' if keeps else 'NO'}; {note}", flush=True)
    return row


def run_monit(work, nginx):
    d = os.path.join(work, "monit")
    os.makedirs(d)
    rc = os.path.join(d, "monitrc")
    with open(rc, "w") as f:
        f.write(f"set daemon 1\nset log {d}/monit.log\n"
                f"set idfile {d}/monit.id\nset statefile {d}/monit.state\n"
                f"set pidfile {d}/monit.pid\n")
        for i in range(N):
            f.write(f"check host h{i} with address {in_namespace(TGT_ADDR)}\n"
                    f"    if failed port {PORTS[i % len(PORTS)]} protocol "
                    f'http request "/t/{i}" timeout 2 seconds then alert\n')
    os.chmod(rc, 0o600)
    left = DEADLINE - time.monotonic() - 10
    print(f"   monit: one cycle of {N} checks, one after the other "
          f"(at most {left:.0f}s of the budget)", flush=True)
    start = time.time()
    p = subprocess.Popen([*IN_MON, "/usr/bin/monit", "-I", "-c", rc],
                         stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, preexec_fn=raise_nofile)
    cut = False
    try:
        try:
            wait_for(lambda: p.poll() is not None or
                     nginx.seen(f"/t/{N - 1}", start), max(left, 10),
                     "monit's first cycle")
        except RuntimeError:
            cut = True
        if p.poll() is not None:
            raise RuntimeError("monit exited")
        c1, w1 = proc_cpu(p.pid), time.time()
        rss = proc_status(p.pid, "VmHWM")
    finally:
        stop(p)
    hits = nginx.count("http.log", start, w1)
    sweep = nginx.sweep_all(start, w1)
    if cut:
        # Not done: what it would have taken at the pace it went.
        sweep = (w1 - start) * N / hits if hits else None
        note = (f"cut at the budget after {hits} checks; sweep "
                f"extrapolated")
    else:
        note = f"{hits} requests logged in its cycle"
    failed = 0
    try:
        with open(f"{d}/monit.log") as f:
            failed = sum(1 for line in f if "failed" in line)
    except OSError:
        pass
    if failed:
        note += f"; {failed} failures logged"
    row = {"tool": "monit", "every": "cycle", "sweep": sweep,
           "cpu_us": c1 * 1e6 / hits if hits else None,
           "share": 100 * c1 / (w1 - start), "rss": rss, "keeps": not cut,
           "note": note}
    rows.append(row)
    print(f"   monit: sweep {fmt(sweep, 2)} s, {fmt(row['cpu_us'], 1)} "
          f"us/probe; {note}", flush=True)
    return row


def print_table(conn_ms, req_ms, way):
    monit = next((r for r in rows if r["tool"] == "monit"), None)
    head = ("tool", "every", "wall s/sweep", "monit/tool", "CPU us/probe",
            "CPU %core", "RSS MB", "keeps up")
    out = []
    for r in rows:
        ratio = (f"{monit['sweep'] / r['sweep']:.1f}"
                 if monit and monit["sweep"] and r["sweep"] else "-")
        out.append((r["tool"], r["every"], fmt(r["sweep"], 3), ratio,
                    fmt(r["cpu_us"], 1), f"{r['share']:.1f}",
                    f"{r['rss']:.1f}", "yes" if r["keeps"] else "no"))
    widths = [max(len(h), *(len(row[i]) for row in out))
              for i, h in enumerate(head)]
    print()
    print(f"{N} HTTP targets, {DELAY_MS} ms added to every packet from the "
          f"target ({way}): round trip +{DELAY_MS} ms;\nmeasured from "
          f"\"mon\": TCP connect {conn_ms:.1f} ms, HTTP request on it "
          f"{req_ms:.1f} ms (medians)")
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    for row in out:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)))
    for r in rows:
        print(f"  {r['tool']} {r['every']}: {r['note']}")
    best = [r for r in rows if r["tool"] == "rtowatchd" and r["keeps"]]
    if best and monit and monit["sweep"]:
        b = best[-1]
        x = monit["sweep"] / b["sweep"]
        print(f"\nrtowatchd's sweep at the shortest interval it keeps up "
              f"with ({b['every']}): {b['sweep']:.3f} s; monit's cycle "
              f"{monit['sweep']:.2f} s: {x:.0f} times faster (goal: 20)")
    elif monit:
        print("\nrtowatchd kept up at none of the intervals tried")


def main():
    if os.geteuid() != 0:
        sys.exit("bench_netem: run as root (network namespaces)")
    if not os.access(bench.RTOWATCHD, os.X_OK):
        sys.exit(f"bench_netem: {bench.RTOWATCHD} missing: run make first")
    for tool in ("ip", "tc", "iptables-legacy", "nginx", "monit"):
        if shutil.which(tool, path="/usr/sbin:/usr/bin:/sbin:/bin") is None:
            sys.exit(f"bench_netem: {tool} missing: make deps-bench")
    # SIGTERM (a budget's `timeout`, a CI stop) must still tear down.
    signal.signal(signal.SIGTERM, lambda s, f: sys.exit("bench_netem: "
                                                         "terminated"))
    remove_leftovers()
    work = tempfile.mkdtemp(prefix="rtowatch-bench-netem-")
    os.chmod(work, 0o755)
    print(f"bench_netem: {N} targets, {DELAY_MS} ms delay, intervals "
          f"{','.join(LADDER)}, budget {BUDGET_S:.0f}s, work directory "
          f"{work}", flush=True)
    nginx = delayer = None
    conn_ms = req_ms = 0.0
    way = "not set up"
    try:
        make_network()
        nginx = NsNginx(work)
        wait_for(lambda: sh(*IN_MON, PYTHON, "-c", CONNECTS, TGT_ADDR,
                            *map(str, PORTS), check=False).returncode == 0,
                 30, "nginx in \"tgt\"")
        delayer = add_delay(work)
        way = "netem" if delayer is None else "user-space NFQUEUE delay"
        conn_ms, req_ms = measure_rtt()
        print(f"round trip: TCP connect {conn_ms:.1f} ms, HTTP request "
              f"{req_ms:.1f} ms from \"mon\" to {TGT_ADDR}", flush=True)
        print(f"== rtowatchd, {N} checks of {url(0)} .. /t/{N - 1}",
              flush=True)
        for every in LADDER:
            r = run_rtowatchd(work, nginx, every)
            if r is None or not r["keeps"]:
                break
        print("== monit", flush=True)
        run_monit(work, nginx)
    finally:
        # The namespaces go first: a print that fails (a closed pipe)
        # must not leave them behind.
        try:
            if delayer is not None:
                delayer.send_signal(signal.SIGTERM)
                try:
                    delayer.wait(10)
                except subprocess.TimeoutExpired:
                    delayer.kill()
            if nginx is not None:
                nginx.close()
        finally:
            for ns in (MON, TGT):
                remove_namespace(ns)
        held = None
        if delayer is not None:
            with open(os.path.join(work, "netdelay.out")) as f:
                held = (f.read().splitlines() or ["?"])[-1]
        if not KEEP:
            shutil.rmtree(work, ignore_errors=True)
        if held is not None:
            print(f"netdelay: {held}")
        if KEEP:
            print(f"bench_netem: kept {work}")
    if rows:
        print_table(conn_ms, req_ms, way)


if __name__ == "__main__":
    main()
