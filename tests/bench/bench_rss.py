"""Memory per check: rtowatchd's RSS at N checks of one kind, half failing,
over a hold, beside monit's with the same checks.

    /usr/bin/python3 tests/bench/bench_rss.py [--hold SECONDS]
        [--sample SECONDS] [--kinds tcp,http] [--n N] [--no-monit]

As root (nginx's many listeners).  For each kind in BENCH_RSS_KINDS
(default "tcp,http,https"), N = BENCH_RSS_N systems (default 10,000), one
check each every 10 s against bench.py's nginx on loopback: the even ones
answer, the odd ones fail (tcp: a port nothing listens on, refused; http
and https: /f/I, which answers 503), so that half the systems are down,
their outages and incidents open, for the whole hold.  rtowatchd's VmRSS is
sampled every --sample seconds (default 10) over --hold seconds
(BENCH_RSS_HOLD, default 300; --hold 3600 is the issue's one-hour hold, with
--sample 60) after the outages opened; printed: the first sample, the last,
the peak (VmHWM), the growth from the first sample to the last, and where
the last RSS lives (/proc/PID/smaps: the brk heap, anonymous mappings, which
are glibc's other arenas and big allocations, and files: libraries, SQLite's
database is read, not mapped).
monit then runs the same N checks (`set daemon 1`), and its VmHWM after one
full cycle is printed beside.  Flat means: the last sample within a few
hundred kB of the settled one.  Then both run 2 checks of the kind (one
up, one down), and the per-check cost is printed: (RSS at N - RSS at 2) /
(N - 2), which leaves out what each costs before any check (rtowatchd's
binary and libraries are 4.3 MB resident for tcp and plain http, which
load none of libcurl, libpq, OpenSSL, libpcap, libpam and do without
libsystemd; 7.3 MB before OpenSSL, libpcap and libpam were loaded on
demand, 13.7 MB before libcurl and libpq were; monit's 7.1 MB).  With 2
checks, rtowatchd is 5.2-5.4 MB (8.3-8.4 MB before), monit 7.3-7.4 MB.

The procedure's clocks make bursts: the outages of the failing half open
in the same few seconds, and so the notify clock's reminders (30 and 10
minutes before its one-hour deadline, rules/policy.conf) and then its
deadlines fire for all of them at once, 5,000 at 10,000 checks.  --notify
"4m 2m 1m" runs the daemon with a copy of the policy whose notify clock is
4 minutes with reminders 2 and 1 minute before, so that a hold of 6-8
minutes (--sample 5) shows all three bursts: the peak they make, and
whether the RSS after each is back where it was before.  --rtowatchd may
be given twice (an old build and a new one): each kind runs under each in
turn, and the table has a row each.  At 10,000 http checks with --notify
"4m 2m 1m" --hold 300, before the clocks fired in slices (clocks.c): 22.9
MB before the bursts, peaks of 38-40 MB at each, 27.9 MB after them, every
reminder up to 15.6 s late and 822 healthy systems' probes timed out (the
loop held 7-15 s a burst; with them a false "monitoring host lost its
network" incident); since, 22.4-22.7 MB through all three, none late.
"""
import argparse
import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

N = int(os.environ.get("BENCH_RSS_N", "10000"))
HOLD = float(os.environ.get("BENCH_RSS_HOLD", "300"))
KINDS = os.environ.get("BENCH_RSS_KINDS", "tcp,http,https").split(",")
EVERY = 10
# Ports past the last one nginx listens on refuse: the failing half.
FAIL_BASE = bench.TCP_BASE + N


def check(kind, i, ca):
    fail = i % 2 == 1
    if kind == "tcp":
        port = FAIL_BASE + i // 2 if fail else bench.tcp_port(i // 2)
        return f"check tcp 127.0.0.1 port {port}"
    path = f"/f/{i}" if fail else f"/t/{i}"
    if kind == "http":
        return f'check http "http://127.0.0.1:{bench.HTTP_PORT}{path}"'
    return (f'check http "https://127.0.0.1:{bench.HTTPS_PORT}{path}" '
            f'ca-file "{ca}"')


def monit_rss(work, kind, nginx, n):
    d = os.path.join(work, f"monit-rss-{kind}-{n}")
    os.makedirs(d)
    rc = os.path.join(d, "monitrc")
    with open(rc, "w") as f:
        f.write(bench.monitrc_head(d, kind, nginx))
        for i in range(n):
            fail = i % 2 == 1
            if kind == "tcp":
                port = FAIL_BASE + i // 2 if fail else bench.tcp_port(i // 2)
                f.write(f"check host t{i} with address 127.0.0.1\n"
                        f"    if failed port {port} type tcp timeout 2 "
                        f"seconds then alert\n")
            else:
                port, proto = ((bench.HTTP_PORT, "http") if kind == "http"
                               else (bench.HTTPS_PORT, "https"))
                path = f"/f/{i}" if fail else f"/t/{i}"
                f.write(f"check host h{i} with address 127.0.0.1\n"
                        f"    if failed port {port} protocol {proto} "
                        f'request "{path}" timeout 2 seconds then alert\n')
    os.chmod(rc, 0o600)
    p = subprocess.Popen(["/usr/bin/monit", "-I", "-c", rc],
                         stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL,
                         preexec_fn=bench.raise_nofile)
    try:
        # One cycle at least: its log names the last host checked.
        last = f"'t{n - 1}'" if kind == "tcp" else f"'h{n - 1}'"
        end = time.monotonic() + 240
        while time.monotonic() < end and p.poll() is None:
            try:
                with open(f"{d}/monit.log") as f:
                    if last in f.read():
                        break
            except OSError:
                pass
            time.sleep(1)
        time.sleep(EVERY)
        return bench.proc_status(p.pid, "VmHWM"), bench.proc_status(
            p.pid, "VmRSS")
    finally:
        bench.stop(p)


def idle_rss(work, kind, nginx):
    """rtowatchd's RSS with 2 checks of KIND, one up, one down: what it
    costs before the checks."""
    d = bench.Rtowatchd(work, f"rtowatchd-{kind}-2",
                        [check(kind, i, nginx.ca) for i in range(2)],
                        EVERY, 2000)
    try:
        time.sleep(EVERY * 3)
        return bench.proc_status(d.p.pid, "VmRSS")
    finally:
        d.close()


def short_policy(work, notify):
    """A copy of rules/policy.conf whose notify clock is NOTIFY ("4m 2m
    1m": the deadline, then the reminders before it)."""
    deadline, *remind = notify.split()
    with open(bench.POLICY) as f:
        text = f.read()
    text, n1 = re.subn(r"(?m)^\tnotify within .*$",
                       f"\tnotify within {deadline}", text)
    text, n2 = re.subn(r"(?m)^\tremind notify .*$",
                       f"\tremind notify {' '.join(remind)} before"
                       if remind else "", text)
    if n1 != 1 or n2 != 1:
        sys.exit("bench_rss: rules/policy.conf has no notify clock to "
                 "shorten")
    path = os.path.join(work, "policy-short.conf")
    with open(path, "w") as f:
        f.write(text)
    return path


def per_check(rss, base):
    """(RSS at N - RSS at 2) / (N - 2), in bytes."""
    return f"{(rss - base) * 1048576 / (N - 2):.0f} B/check"


def smaps(pid):
    """Resident MB of PID by kind of mapping: the brk heap, anonymous
    mappings (glibc's other arenas, allocations of 128 kB and more, thread
    stacks), files (the binary, libraries) and the rest."""
    out = {"heap": 0, "anon": 0, "file": 0, "other": 0}
    kind = "other"
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            head = line.split()
            if not line[0].isupper() or not head[0].endswith(":"):
                name = head[5] if len(head) > 5 else ""
                kind = ("heap" if name == "[heap]" else
                        "anon" if name == "" else
                        "file" if name.startswith("/") else "other")
            elif head[0] == "Rss:":
                out[kind] += int(head[1]) / 1024
    return out


def table(rows):
    """The run's figures as one table, rtowatchd / monit in each row."""
    def mb(v):
        return "-" if v is None else f"{v:.1f}"
    print(f"\nRSS at {N} checks, half failing, held {HOLD:.0f} s "
          "(MB; growth from the settled sample to the last):")
    print(f"{'kind':6} {'settled':>8} {'last':>6} {'growth':>7} "
          f"{'peak':>6} {'monit':>6} {'÷monit':>7} {'peak÷':>6} "
          f"{'2 checks':>9} {'monit':>6}")
    for kind, samples, hwm, m_rss, m_hwm, base, m_base in rows:
        last = samples[-1]
        print(f"{kind:6} {samples[0]:8.1f} {last:6.1f} "
              f"{(last - samples[0]) * 1024:+6.0f}k {hwm:6.1f} {mb(m_rss):>6} "
              f"{bench.ratio(last, m_rss):>7} "
              f"{bench.ratio(hwm, m_hwm):>6} "
              f"{mb(base):>9} {mb(m_base):>6}", flush=True)


def https_gauges(sock):
    """The https slots' gauges from GET /metrics ("open 16 running 9
    peak 16 waiting 0"), or None before the socket answers."""
    try:
        c = http.client.HTTPConnection("rtowatch", timeout=2)
        c.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.sock.settimeout(2)
        c.sock.connect(sock)
        c.request("GET", "/metrics")
        text = c.getresponse().read().decode()
        c.close()
    except (OSError, http.client.HTTPException):
        return None
    got = re.findall(r"^rtowatch_https_(open|running|running_peak|"
                     r"waiting) (\d+)$", text, re.M)
    return "https slots: " + " ".join(f"{k} {v}" for k, v in got)



def proc_kb(path, keys):
    """The kB figures of KEYS in a /proc file of "Key: N kB" lines."""
    out = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in keys:
                out[k] = int(v.split()[0])
    return out


class Early:
    """VmRSS, VmHWM and smaps_rollup's anonymous pages every EVERY
    seconds from the daemon's start for SECONDS, with the time each line
    of its log appeared: where the start's high-water comes from.  All
    samples go to PATH (CSV: t, rss, hwm, anon, file in kB; log lines as
    "t,log,TEXT"); a line a second (its highest sample) is printed."""

    def __init__(self, seconds, every, path, gauges):
        self.seconds, self.every, self.path = seconds, every, path
        self.gauges = gauges
        self.rows, self.logs, self.thread = [], [], None
        self.wall0 = 0.0

    def spawned(self, p, log):
        self.thread = threading.Thread(target=self.run, args=(p, log),
                                       daemon=True)
        self.thread.start()

    def run(self, p, log):
        t0 = time.monotonic()
        self.wall0 = time.time()
        seen = 0
        while p.poll() is None and time.monotonic() - t0 < self.seconds:
            t = time.monotonic() - t0
            try:
                st = proc_kb(f"/proc/{p.pid}/status", ("VmRSS", "VmHWM"))
                roll = proc_kb(f"/proc/{p.pid}/smaps_rollup",
                               ("Rss", "Anonymous"))
                self.rows.append((t, st["VmRSS"], st["VmHWM"],
                                  roll["Anonymous"],
                                  roll["Rss"] - roll["Anonymous"]))
            except (OSError, KeyError):
                break
            try:
                with open(log) as f:
                    f.seek(seen)
                    text = f.read()
                    seen += len(text.encode())
                for line in text.splitlines():
                    self.logs.append((t, line))
            except OSError:
                pass
            if self.gauges and len(self.rows) % int(1 / self.every) == 1:
                g = https_gauges(os.path.join(os.path.dirname(log),
                                              "control.sock"))
                if g:
                    self.logs.append((t, g))
            time.sleep(self.every)

    def report(self, name):
        if self.thread is not None:
            self.thread.join()
        with open(self.path, "a") as f:
            f.write(f"# {name} started at {self.wall0:.3f} (Unix s)\n")
            for r in self.rows:
                f.write("%.3f,%d,%d,%d,%d\n" % r)
            for t, line in self.logs:
                f.write(f"{t:.3f},log,{line}\n")
        if not self.rows:
            return
        peak = max(self.rows, key=lambda r: r[1])
        print(f"   {name} early: {len(self.rows)} samples over "
              f"{self.rows[-1][0]:.0f} s; highest VmRSS {peak[1] / 1024:.1f}"
              f" MB at +{peak[0]:.2f} s (anon {peak[3] / 1024:.1f}, files "
              f"{peak[4] / 1024:.1f}); VmHWM {self.rows[-1][2] / 1024:.1f} MB"
              f" (reached at +{next(r[0] for r in self.rows if r[2] == self.rows[-1][2]):.2f} s)",
              flush=True)
        sec = {}
        for r in self.rows:
            k = int(r[0])
            if k not in sec or r[1] > sec[k][1]:
                sec[k] = r
        logs = {}
        for t, line in self.logs:
            logs.setdefault(int(t), []).append(line[:70])
        for k in sorted(sec):
            r = sec[k]
            print(f"     +{k:3d} s  rss {r[1] / 1024:5.1f}  hwm "
                  f"{r[2] / 1024:5.1f}  anon {r[3] / 1024:5.1f}  files "
                  f"{r[4] / 1024:4.1f}  " + " | ".join(logs.get(k, [])[:2]),
                  flush=True)


def hold(work, kind, name, checks, a):
    """Run rtowatchd with CHECKS and sample its RSS over the hold:
    (samples, peak, where the last RSS lives, outages, and the probes'
    schedule while held)."""
    early = None
    spawned = None
    if a.early:
        early = Early(a.early, a.early_every, a.early_csv, a.early_gauges)
        spawned = (lambda p: early.spawned(
            p, os.path.join(work, name, "rtowatchd.log")))
    d = bench.Rtowatchd(work, name, checks, EVERY, 2000,
                        head="".join(f"set {x}\n" for x in a.set),
                        spawned=spawned)
    samples = []
    try:
        time.sleep(EVERY * 3)   # the outages open (down after 2-3)
        d.schedule()            # counts from here
        t0 = time.monotonic()
        while True:
            samples.append(bench.proc_status(d.p.pid, "VmRSS"))
            where = smaps(d.p.pid)
            print(f"   {name} +{time.monotonic() - t0:.0f} s: "
                  f"{samples[-1]:.1f} MB (" + ", ".join(
                      f"{k} {v:.1f}" for k, v in where.items()
                      if k != "other") + ")", flush=True)
            if time.monotonic() - t0 >= HOLD:
                break
            time.sleep(min(a.sample,
                           max(0, HOLD - (time.monotonic() - t0))))
        sched = d.schedule()
        held_s = time.monotonic() - t0
        hwm = bench.proc_status(d.p.pid, "VmHWM")
        where = smaps(d.p.pid)
        outages = d.outages()
    finally:
        d.close()
        if early is not None:
            early.report(name)
    # Whether the probes kept their schedule while held: a slower daemon
    # would look smaller by probing less.
    sched["per_s"] = sched["started"] / held_s
    return samples, hwm, where, outages, sched


def main():
    global N, HOLD, KINDS, FAIL_BASE
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hold", type=float, default=HOLD,
                    help="seconds RSS is sampled after the outages opened "
                    "(default %(default)s; 3600 for the issue's hour)")
    ap.add_argument("--sample", type=float, default=EVERY,
                    help="seconds between samples (default %(default)s)")
    ap.add_argument("--kinds", default=",".join(KINDS))
    ap.add_argument("--n", type=int, default=N)
    ap.add_argument("--no-monit", action="store_true",
                    help="rtowatchd only (monit's figure is stable)")
    ap.add_argument("--no-baseline", dest="baseline", action="store_false",
                    help="skip each tool's RSS at 2 checks (the per-check "
                    "figure)")
    ap.add_argument("--set", action="append", default=[],
                    help="a global setting for rtowatchd's rules, e.g. "
                    "--set 'https-concurrency 32' (repeatable)")
    ap.add_argument("--rtowatchd", action="append", default=[],
                    help="the daemon to run (a copy, for a long hold "
                    "while the tree is rebuilt); twice: an old build and "
                    "a new one, in turn")
    ap.add_argument("--notify", metavar="'DEADLINE [REMIND...]'",
                    help="the notify clock, e.g. '4m 2m 1m', instead of "
                    "the policy's 1h with reminders 30m and 10m before")
    ap.add_argument("--early", type=float, default=0, metavar="SECONDS",
                    help="also sample VmRSS, VmHWM and smaps_rollup every "
                    "--early-every seconds from the daemon's start for "
                    "SECONDS (the start's high-water), printed a line a "
                    "second beside the log lines of that second")
    ap.add_argument("--early-every", type=float, default=0.05)
    ap.add_argument("--early-gauges", action="store_true",
                    help="and the https slots' gauges a second (GET "
                    "/metrics: its reply at 10,000 checks costs the "
                    "daemon memory of its own, and the sampler time)")
    ap.add_argument("--early-csv", default="/tmp/bench_rss_early.csv",
                    help="where every early sample goes (appended)")
    a = ap.parse_args()
    N, HOLD, KINDS = a.n, a.hold, a.kinds.split(",")
    FAIL_BASE = bench.TCP_BASE + N
    daemons = a.rtowatchd or [bench.RTOWATCHD]
    if os.geteuid() != 0:
        sys.exit("bench_rss: run as root (nginx's listeners)")
    work = tempfile.mkdtemp(prefix="rtowatch-rss-")
    if a.notify:
        bench.POLICY = short_policy(work, a.notify)
    nginx = bench.Nginx(work, N // 2 + 1)
    rows = []
    try:
        for kind in KINDS:
            checks = [check(kind, i, nginx.ca) for i in range(N)]
            held = []
            for j, daemon in enumerate(daemons):
                bench.RTOWATCHD = daemon
                held.append(hold(work, kind, f"rtowatchd-{kind}-{j}",
                                 checks, a))
            m_hwm = m_rss = None
            if not a.no_monit:
                m_hwm, m_rss = monit_rss(work, kind, nginx, N)
            m_base = None
            if a.baseline and not a.no_monit:
                m_base = monit_rss(work, kind, nginx, 2)[1]
            for j, (samples, hwm, where, outages, sched) in enumerate(held):
                bench.RTOWATCHD = daemons[j]
                label = kind if len(daemons) == 1 else f"{kind}/{j}"
                base = idle_rss(work, kind, nginx) if a.baseline else None
                print(f"{label} {N}: rtowatchd ({daemons[j]}) RSS "
                      f"{samples[0]:.1f} MB settled, "
                      f"{samples[-1]:.1f} MB after {HOLD:.0f} s more "
                      f"({(samples[-1] - samples[0]) * 1024:+.0f} kB), peak "
                      f"{hwm:.1f} MB, {outages} outages", flush=True)
                print("   where (MB): " + ", ".join(
                    f"{k} {v:.1f}" for k, v in where.items()), flush=True)
                print(f"   probes: {sched['per_s']:.0f} started/s (due "
                      f"{N / EVERY:.0f}/s), {sched['busy']} skipped "
                      f"(running), {sched['missed']} skipped (loop late), "
                      f"start lateness p99 {sched['p99']} ms, max "
                      f"{sched['max']} ms", flush=True)
                if m_hwm is not None:
                    print(f"   monit RSS {m_rss:.1f} MB, peak {m_hwm:.1f} "
                          f"MB; rtowatchd / monit peak "
                          f"{bench.ratio(hwm, m_hwm)}, last "
                          f"{bench.ratio(samples[-1], m_rss)}", flush=True)
                if base is not None:
                    print(f"   per check: rtowatchd "
                          f"{per_check(samples[-1], base)} (2 checks: "
                          f"{base:.1f} MB)" +
                          (f", monit {per_check(m_rss, m_base)} (2 checks: "
                           f"{m_base:.1f} MB)" if m_base is not None
                           else ""), flush=True)
                print("   samples (MB): " + " ".join(
                    f"{s:.1f}" for s in samples), flush=True)
                rows.append((label, samples, hwm, m_rss, m_hwm, base,
                             m_base))
        table(rows)
    finally:
        nginx.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
