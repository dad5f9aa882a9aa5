"""rtowatchd against the probers people use today, side by side, on loopback.

Run by `make bench` (as root: raw ICMP, nginx's many listeners) with
Debian's /usr/bin/python3 and the standard library only.  Cases:

  icmp  N targets 127.0.x.y: rtowatchd against fping sweeping the same list
  tcp   N targets, nginx's stream module on 127.0.0.1 ports 20000..: rtowatchd
        against a bare socket loop, monit and prometheus-blackbox-exporter
  http  N targets, one nginx server on 127.0.0.1:18080, one URL /t/I per
        target: the same four
  https the same over TLS on 127.0.0.1:18443, nginx's certificate (ECDSA
        P-256, IP SAN 127.0.0.1; RSA signing would make nginx, not the
        probers, the bottleneck) signed by a test CA the driver makes with
        openssl: every tool verifies it against that CA, and nginx keeps
        no session cache and sends no tickets, so that every probe is a
        fresh connection with a full handshake
  hold  rtowatchd alone with N mixed checks (ping, tcp, http) every 10 s
        for a few minutes: CPU share, RSS, how late probes start

Every target is a 127.x.y.z address; nothing leaves the host.  How each
tool is measured:

  rtowatchd  one system per target, each checked at 1,000 probes a second in
             all (`every 1s` for 1,000 targets, `every 10s` for 10,000;
             BENCH_EVERY=1 to saturate it instead).  CPU
             (utime+stime of /proc/PID/stat) over a window (BENCH_WINDOW,
             10 s) between two SIGUSR1s, which log how many probes started
             in between, how many slots were skipped and how late starts
             were; peak RSS is VmHWM.  Its starts are spread over the
             interval, so wall s/sweep is N * window / probes started: the
             interval when it keeps up, longer when it does not.
  bare loop  tests/bench/bare_probe.c, built here with cc -O2: an epoll
             loop that opens a fresh connection per target (and for http
             sends curl's request and reads the answer), nothing else,
             paced in 10 ms slots as rtowatchd is; CPU from getrusage over
             the window after one interval.  The floor: no client doing
             the same work costs less, so rtowatchd / bare loop is what
             libcurl and the daemon add; for https it does the handshake
             with OpenSSL (one SSL_CTX, the CA parsed once) and verifies
             the certificate;
  fping      `fping -q -C1 -i I -f list`, run SWEEPS times, each at the same
             packet rate as rtowatchd's interval (I = interval / N); CPU from
             wait4()'s rusage, peak RSS from GNU time; wall s/sweep measured.
  monit      `monit -I` with `set daemon 1` (the shortest cycle) and one
             `check host` per target; CPU over the same window after its
             first full cycle, its probes counted in nginx's access logs;
             wall s/sweep is from the first target's hit to the last's in
             each cycle (its 1 s pause between cycles left out).
  blackbox   prometheus-blackbox-exporter, driven by CONCURRENCY threads of
             this driver sending /probe?module=...&target=... over SWEEPS
             sweeps of the targets; the exporter's CPU only; wall s/sweep is
             measured.

rtowatchd's rules include rules/policy.conf, lost-network and all: the
targets answer, so no rule of the procedure ever fires.

Environment: BENCH_SCALE (default 1: 10,000 and 1,000 targets; 0.1 for a
quick run), BENCH_HOLD (seconds of the hold case, default 150),
BENCH_SWEEPS (fping and blackbox sweeps, default 2), BENCH_WINDOW (seconds
rtowatchd and monit are measured, default 10), BENCH_EVERY (rtowatchd's
interval in the sweep cases), BENCH_CASES (default
"icmp,tcp,http,https,hold"), BENCH_SIZES (the sweep cases' target counts
before scaling, default "1000,10000"),
BENCH_BUDGET (seconds; a case that would end after it is skipped, default
640), BENCH_KEEP=1 to keep the work directory.  The numbers are only as
good as the machine is quiet.
"""
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import http.client
import queue
import sqlite3

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
RTOWATCHD = os.path.join(ROOT, "bin", "rtowatchd")
POLICY = os.path.join(ROOT, "rules", "policy.conf")

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
HOLD_S = float(os.environ.get("BENCH_HOLD", "150"))
SWEEPS = max(1, int(os.environ.get("BENCH_SWEEPS", "2")))
WINDOW_S = float(os.environ.get("BENCH_WINDOW", "10"))
# rtowatchd's interval in the sweep cases: by default 1,000 probes a second
# (1 s for 1,000 targets, 10 s for 10,000), the load it is built for.
# BENCH_EVERY=1 asks for more than it can do at 10,000 and shows how fast
# it goes when saturated (the slots it skips), at the price of timeouts.
EVERY_S = os.environ.get("BENCH_EVERY")


def every_for(n):
    return int(EVERY_S) if EVERY_S else max(1, n // 1000)
CASES = os.environ.get("BENCH_CASES",
                       "icmp,tcp,http,https,hold").split(",")
SIZES = [int(x) for x in os.environ.get("BENCH_SIZES",
                                        "1000,10000").split(",")]
KEEP = os.environ.get("BENCH_KEEP") == "1"
# The whole run is bounded: a case that would start after this is skipped.
DEADLINE = time.monotonic() + float(os.environ.get("BENCH_BUDGET", "640"))

HTTP_PORT = 18080
HTTPS_PORT = 18443
TCP_BASE = 20000
BBE_ADDR = "127.0.0.1:19115"
CONCURRENCY = 32
CLK_TCK = os.sysconf("SC_CLK_TCK")


def scaled(n):
    return max(10, int(n * SCALE))


# ---------------------------------------------------------------- targets

def ping_addr(i):
    """The I-th ICMP target: 127.0.0.1, ... 127.0.0.250, 127.0.1.1, ..."""
    return f"127.0.{i // 250}.{i % 250 + 1}"


def tcp_port(i):
    return TCP_BASE + i


def http_url(i):
    return f"http://127.0.0.1:{HTTP_PORT}/t/{i}"


def https_url(i):
    return f"https://127.0.0.1:{HTTPS_PORT}/t/{i}"


def make_ca(work):
    """A test CA and nginx's certificate for 127.0.0.1, signed by it:
    (ca.pem, cert.pem, key.pem) in WORK/tls."""
    d = os.path.join(work, "tls")
    os.makedirs(d)
    ca, cakey = os.path.join(d, "ca.pem"), os.path.join(d, "ca.key")
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    csr, ext = os.path.join(d, "cert.csr"), os.path.join(d, "ext.cnf")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n"
                "basicConstraints=CA:FALSE\n"
                "extendedKeyUsage=serverAuth\n")
    for argv in (
            ["req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
             cakey, "-out", ca, "-days", "2", "-subj",
             "/CN=rtowatch bench test CA"],
            ["req", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
             "-out", csr, "-subj", "/CN=127.0.0.1"],
            ["x509", "-req", "-in", csr, "-CA", ca, "-CAkey", cakey,
             "-CAcreateserial", "-out", cert, "-days", "2", "-extfile",
             ext]):
        subprocess.run(["openssl", *argv], check=True,
                       capture_output=True)
    return ca, cert, key


def slug(case):
    """A case name as a file name: "tcp 1000" -> "tcp-1000"."""
    return case.replace(" ", "-")


def loopback_only(addr):
    # Every address this driver writes anywhere goes through here.
    if not addr.startswith("127."):
        sys.exit(f"bench: refusing a non-loopback target {addr}")
    return addr


# ---------------------------------------------------------------- /proc

def proc_cpu(pid):
    """User+system CPU seconds of PID so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_status(pid, key):
    """A kB field of /proc/PID/status (VmHWM, VmRSS) in MB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def wait_for(pred, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.1)
    raise RuntimeError(f"timed out after {timeout:.0f}s waiting for {what}")


def stop(p, timeout=10):
    if p is None or p.poll() is not None:
        return
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(5)


# ---------------------------------------------------------------- results

results = []    # dicts: case, tool, probes, cpu_us, rss_mb, wall_s, note


def record(case, tool, probes, cpu_s, rss_mb, wall_s, note=""):
    r = {"case": case, "tool": tool, "probes": probes,
         "cpu_us": cpu_s * 1e6 / probes if probes else None,
         "rss_mb": rss_mb, "wall_s": wall_s, "note": note}
    results.append(r)
    print(f"   {tool}: {probes} probes, "
          f"{fmt(r['cpu_us'], 1)} us/probe, {rss_mb:.1f} MB, "
          f"{fmt(wall_s, 2)} s/sweep {note}", flush=True)


def fmt(v, digits):
    return "-" if v is None else f"{v:.{digits}f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "-"
    return f"{a / b:.2f}"


def print_table():
    head = ("case", "tool", "probes", "CPU us/probe", "RSS MB",
            "wall s/sweep", "cpu x", "rss x", "wall x")
    rows = []
    ours = {}
    for r in results:
        if r["tool"] == "rtowatchd":
            ours[r["case"]] = r
    for r in results:
        o = ours.get(r["case"]) if r["tool"] != "rtowatchd" else None
        rows.append((r["case"], r["tool"], str(r["probes"]),
                     fmt(r["cpu_us"], 1), f"{r['rss_mb']:.1f}",
                     fmt(r["wall_s"], 2),
                     ratio(o["cpu_us"], r["cpu_us"]) if o else "",
                     ratio(o["rss_mb"], r["rss_mb"]) if o else "",
                     ratio(o["wall_s"], r["wall_s"]) if o else ""))
    widths = [max(len(h), *(len(row[i]) for row in rows))
              for i, h in enumerate(head)]
    print()
    print("ratios are rtowatchd / peer (below 1: rtowatchd uses less); "
          "rtowatchd's wall s/sweep is\nits configured interval (its "
          "probes are spread over it) unless it skipped slots")
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)))
    for r in results:
        if r["note"]:
            print(f"  {r['case']} {r['tool']}: {r['note']}")


# ---------------------------------------------------------------- nginx

# What every benchmark's nginx logs and where it keeps its files: each hit
# as "TIME PORT URI" in http.log, which the sweeps are measured from.
NGINX_HTTP_COMMON = """\
    log_format hit '$msec $server_port $request_uri';
    access_log {work}/http.log hit buffer=256k flush=1s;
    client_body_temp_path {work}/nginx-body;
    proxy_temp_path {work}/nginx-proxy;
    fastcgi_temp_path {work}/nginx-fastcgi;
    uwsgi_temp_path {work}/nginx-uwsgi;
    scgi_temp_path {work}/nginx-scgi;
    keepalive_timeout 5s;
"""

NGINX_CONF = """\
worker_processes 1;
worker_rlimit_nofile 19500;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
events {{ worker_connections 19000; }}
http {{
""" + NGINX_HTTP_COMMON + """\
    server {{
        listen 127.0.0.1:{http_port} backlog=4096;
        location / {{ return 200 "ok\\n"; }}
        location /f/ {{ return 503; }}
    }}
    server {{
        listen 127.0.0.1:{https_port} ssl backlog=4096;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_session_cache off;
        ssl_session_tickets off;
        location / {{ return 200 "ok\\n"; }}
        location /f/ {{ return 503; }}
    }}
}}
stream {{
    log_format conn '$msec $server_port';
    access_log {work}/tcp.log conn buffer=256k flush=1s;
    server {{
        listen 127.0.0.1:{tcp_first}-{tcp_last} backlog=1024;
        return "ok\\n";
    }}
}}
"""


class Nginx:
    """The TCP and HTTP targets, counting every probe in its logs."""

    def __init__(self, work, ntcp):
        self.work = work
        self.ca, cert, key = make_ca(work)
        conf = os.path.join(work, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(work=work, http_port=HTTP_PORT,
                                      https_port=HTTPS_PORT, cert=cert,
                                      key=key,
                                      tcp_first=TCP_BASE,
                                      tcp_last=TCP_BASE + ntcp - 1))
        self.argv = ["/usr/sbin/nginx", "-p", work, "-e",
                     os.path.join(work, "nginx-error.log"), "-c", conf,
                     "-g", "daemon off;"]
        self.ntcp = ntcp
        self.start()

    def start(self):
        self.p = subprocess.Popen(self.argv, preexec_fn=raise_nofile)
        wait_for(lambda: self.answers(HTTP_PORT) and
                 self.answers(HTTPS_PORT) and
                 self.answers(TCP_BASE + self.ntcp - 1), 60, "nginx")

    @staticmethod
    def answers(port):
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return True
        except OSError:
            return False

    def count(self, log, t0, t1):
        """Requests (http.log) or connections (tcp.log) logged in [t0, t1)."""
        time.sleep(1.5)     # the logs are flushed every second
        n = 0
        with open(os.path.join(self.work, log)) as f:
            for line in f:
                try:
                    t = float(line.split(" ", 1)[0])
                except ValueError:
                    continue
                if t0 <= t < t1:
                    n += 1
        return n

    def sweep(self, log, t0, t1, first, last):
        """The mean time from a hit of the FIRST target to the next hit of
        the LAST (a port or a URL) in [t0, t1): how long a sequential
        prober's sweep takes, without its pause between cycles."""
        start, spans = None, []
        with open(os.path.join(self.work, log)) as f:
            for line in f:
                parts = line.split()
                try:
                    t = float(parts[0])
                except (ValueError, IndexError):
                    continue
                if not t0 <= t < t1:
                    continue
                if first in parts[1:] and start is None:
                    start = t
                elif last in parts[1:] and start is not None:
                    spans.append(t - start)
                    start = None
        return sum(spans) / len(spans) if spans else None

    def close(self):
        stop(self.p)


# ---------------------------------------------------------------- rtowatchd

SCHEDULE_RE = re.compile(
    r"schedule: (\d+) probes started, (\d+) skipped \(running\), (\d+) "
    r"skipped \(loop late\)(?:; late p50 ([\d.]+) ms, p99 ([\d.]+) ms, "
    r"max ([\d.]+) ms)?")


def drop_work(work, name):
    """The work directory removed, or kept and said so with BENCH_KEEP=1."""
    if KEEP:
        print(f"{name}: kept {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


class Rtowatchd:
    def __init__(self, work, name, checks, every_s, timeout_ms,
                 extra="", argv_prefix=(), database=None, head="",
                 spawned=None):
        """CHECKS: one "check ..." line per system (no `every`); EVERY_S
        in seconds, or a duration string ("250ms"); EXTRA: more lines for
        each system block; ARGV_PREFIX: what runs the daemon (`ip netns
        exec NS`); DATABASE: its register (default NAME/rtowatch.db);
        HEAD: more global lines (`set node`, `set socket`...); SPAWNED:
        called with the process as soon as it runs (a sampler)."""
        every = every_s if isinstance(every_s, str) else f"{every_s}s"
        self.dir = os.path.join(work, name)
        os.makedirs(self.dir)
        self.conf = os.path.join(self.dir, "rtowatch.conf")
        if "set socket" not in head:
            # Its own, not the system's /run/rtowatch: two benches, or a
            # bench beside an installed rtowatchd, must not share one.
            head = f'set socket "{self.dir}/control.sock"\n' + head
        with open(self.conf, "w") as f:
            f.write(f'set database '
                    f'"{database or self.dir + "/rtowatch.db"}"\n'
                    f'include "{POLICY}"\n{head}')
            for i, check in enumerate(checks):
                f.write(f'system "s{i}" {{\n\tcore no\n\trto 4h\n'
                        f'\t{check} every {every} timeout '
                        f'{timeout_ms}ms\n'
                        f'{extra}}}\n')
        self.log = os.path.join(self.dir, "rtowatchd.log")
        self.logf = open(self.log, "w")
        self.p = subprocess.Popen([*argv_prefix, RTOWATCHD, "-d", "-f",
                                   self.conf],
                                  stdout=self.logf, stderr=self.logf,
                                  preexec_fn=raise_nofile)
        if spawned is not None:
            spawned(self.p)
        wait_for(lambda: "started:" in self.text() or
                 self.p.poll() is not None, 180, "rtowatchd to start")
        if self.p.poll() is not None:
            raise RuntimeError(f"rtowatchd exited: {self.text()[-2000:]}")

    def text(self):
        with open(self.log) as f:
            return f.read()

    def schedule(self):
        """SIGUSR1: the counts since the previous one (and clear them)."""
        before = len(SCHEDULE_RE.findall(self.text()))
        self.p.send_signal(signal.SIGUSR1)
        wait_for(lambda: len(SCHEDULE_RE.findall(self.text())) > before,
                 30, "rtowatchd's schedule line")
        m = SCHEDULE_RE.findall(self.text())[-1]
        return {"started": int(m[0]), "busy": int(m[1]),
                "missed": int(m[2]),
                "p50": float(m[3]) if m[3] else None,
                "p99": float(m[4]) if m[4] else None,
                "max": float(m[5]) if m[5] else None}

    def outages(self):
        db = sqlite3.connect(f"file:{self.dir}/rtowatch.db?mode=ro",
                             uri=True)
        try:
            return db.execute("SELECT count(*) FROM outages").fetchone()[0]
        finally:
            db.close()

    def close(self):
        stop(self.p, 30)
        self.logf.close()


def run_rtowatchd(work, case, checks, every_s, timeout_ms):
    """Start, skip the first interval (the spread start), measure."""
    n = len(checks)
    d = Rtowatchd(work, f"rtowatchd-{slug(case)}", checks, every_s,
                  timeout_ms)
    try:
        time.sleep(max(every_s, 3))
        d.schedule()
        c0, t0 = proc_cpu(d.p.pid), time.monotonic()
        time.sleep(max(WINDOW_S, every_s * 2))
        s = d.schedule()
        c1, t1 = proc_cpu(d.p.pid), time.monotonic()
        rss = proc_status(d.p.pid, "VmHWM")
    finally:
        d.close()
    note = (f"every {every_s}s; late p50 {fmt(s['p50'], 1)} ms "
            f"p99 {fmt(s['p99'], 1)} ms")
    if s["busy"] or s["missed"]:
        note += f"; skipped {s['busy']} running, {s['missed']} loop late"
    if d.outages():
        note += f"; {d.outages()} outages (targets failed!)"
    started = s["started"]
    record(case, "rtowatchd", started, c1 - c0, rss,
           n * (t1 - t0) / started if started else None, note)
    return s, c1 - c0, t1 - t0, rss


# ------------------------------------------------------------ bare loop

def run_bare(work, case, kind, n, every_s, ca=None):
    """The floor: tests/bench/bare_probe.c, an epoll loop that only opens a
    fresh connection per probe (and, for http, sends curl's request and
    reads the answer), paced as rtowatchd is.  No client can do the same
    work for less, so rtowatchd / bare is what libcurl and rtowatchd add,
    and bare / monit the lowest ratio to monit within reach."""
    exe = os.path.join(work, "bare_probe")
    if not os.path.exists(exe):
        subprocess.run(["cc", "-O2", "-D_GNU_SOURCE", "-o", exe,
                        os.path.join(ROOT, "tests", "bench", "bare_probe.c"),
                        "-lssl", "-lcrypto"], check=True)
    port = {"http": HTTP_PORT, "https": HTTPS_PORT}.get(kind, TCP_BASE)
    window = WINDOW_S
    out = subprocess.run([exe, kind, loopback_only("127.0.0.1"), str(port),
                          str(n), str(every_s), str(int(window)),
                          *([ca] if kind == "https" else [])],
                         check=True, capture_output=True, text=True,
                         timeout=every_s + window + 30).stdout.split()
    probes, failed, cpu = int(out[1]), int(out[3]), float(out[5])
    note = "epoll, a fresh connection per probe, no library"
    if kind == "https":
        note = "epoll and OpenSSL, a full verified handshake per probe"
    if failed:
        note += f"; {failed} failed"
    record(case, "bare loop", probes, cpu, int(out[7]) / 1024,
           float(every_s), note)


# ---------------------------------------------------------------- fping

def run_fping(work, case, n, every_s):
    lst = os.path.join(work, f"fping-{slug(case)}.list")
    with open(lst, "w") as f:
        for i in range(n):
            f.write(loopback_only(ping_addr(i)) + "\n")
    interval_ms = every_s * 1000 / n
    cpu = wall = rss = 0.0
    lost = 0
    out = os.path.join(work, f"fping-{slug(case)}.out")
    for _ in range(SWEEPS):
        with open(out, "w") as err:
            t0 = time.monotonic()
            # ru_maxrss of a child forked from this Python counts Python's
            # pages before exec: GNU time, small, reports fping's own.
            p = subprocess.Popen(["/usr/bin/time", "-o", f"{out}.rss", "-f",
                                  "%M", "/usr/bin/fping", "-q", "-C1", "-r0",
                                  "-t", "500", "-i", f"{interval_ms:.3f}",
                                  "-f", lst], stdout=subprocess.DEVNULL,
                                 stderr=err)
            # wait4() gives this child's rusage (and fping's, which it
            # reaped); a timer bounds it.
            timer = threading.Timer(every_s * 3 + 30, p.kill)
            timer.start()
            _, status, ru = os.wait4(p.pid, 0)
            timer.cancel()
            p.returncode = os.waitstatus_to_exitcode(status)
            wall += time.monotonic() - t0
        cpu += ru.ru_utime + ru.ru_stime
        with open(f"{out}.rss") as f:
            rss = max(rss, int(f.read().split()[-1]) / 1024)
        with open(out) as f:
            lost += sum(1 for line in f if line.rstrip().endswith(" -"))
    note = f"-i {interval_ms:.3f} ms"
    if lost:
        note += f"; {lost} lost"
    record(case, "fping", n * SWEEPS, cpu, rss, wall / SWEEPS, note)


# ---------------------------------------------------------------- monit

def monitrc_head(d, kind, nginx):
    """A monitrc's global lines: the shortest cycle, its files in D, and
    for https the test CA that every probe verifies against."""
    head = (f"set daemon 1\nset log {d}/monit.log\n"
            f"set idfile {d}/monit.id\nset statefile {d}/monit.state\n"
            f"set pidfile {d}/monit.pid\n")
    if kind == "https":
        head += (f"set ssl {{ verify: enable, selfsigned: reject, "
                 f"cacertificatefile: {nginx.ca} }}\n")
    return head


def run_monit(work, case, nginx, kind, n, window_s):
    d = os.path.join(work, f"monit-{slug(case)}")
    os.makedirs(d)
    rc = os.path.join(d, "monitrc")
    with open(rc, "w") as f:
        f.write(monitrc_head(d, kind, nginx))
        for i in range(n):
            if kind == "tcp":
                f.write(f"check host t{i} with address 127.0.0.1\n"
                        f"    if failed port {tcp_port(i)} type tcp "
                        f"timeout 2 seconds then alert\n")
            else:
                port, proto = ((HTTP_PORT, "http") if kind == "http"
                               else (HTTPS_PORT, "https"))
                f.write(f"check host h{i} with address 127.0.0.1\n"
                        f"    if failed port {port} protocol {proto} "
                        f'request "/t/{i}" timeout 2 seconds then alert\n')
    os.chmod(rc, 0o600)
    log = "tcp.log" if kind == "tcp" else "http.log"
    start = time.time()
    p = subprocess.Popen(["/usr/bin/monit", "-I", "-c", rc],
                         stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, preexec_fn=raise_nofile)
    slow = ""
    try:
        # Its first full cycle done, then the window.  A cycle longer than
        # the wait (https at 10,000: monit loads its CA store for every
        # connection) is measured mid-cycle instead.
        try:
            wait_for(lambda: p.poll() is not None or
                     nginx.count(log, start, time.time()) >= n, 120,
                     "monit's first cycle")
        except RuntimeError:
            slow = "; first cycle not done in 120 s, measured within it"
        if p.poll() is not None:
            raise RuntimeError("monit exited")
        c0, w0 = proc_cpu(p.pid), time.time()
        time.sleep(window_s)
        c1, w1 = proc_cpu(p.pid), time.time()
        rss = proc_status(p.pid, "VmHWM")
    finally:
        stop(p)
    probes = nginx.count(log, w0, w1)
    first, last = ((str(tcp_port(0)), str(tcp_port(n - 1))) if kind == "tcp"
                   else ("/t/0", f"/t/{n - 1}"))
    sweep = nginx.sweep(log, start, w1, first, last)
    failed = 0
    try:
        with open(f"{d}/monit.log") as f:
            failed = sum(1 for line in f if "failed" in line)
    except OSError:
        pass
    record(case, "monit", probes, c1 - c0, rss, sweep,
           f"set daemon 1; a cycle every "
           f"{fmt(n * (w1 - w0) / probes if probes else None, 2)}s with "
           f"its pause" + (f"; {failed} failures logged" if failed else "")
           + slow)


# ---------------------------------------------------------------- blackbox

BBE_CONF = """\
modules:
  tcp_connect:
    prober: tcp
    timeout: 2s
    tcp:
      preferred_ip_protocol: ip4
  http_2xx:
    prober: http
    timeout: 2s
    http:
      preferred_ip_protocol: ip4
  https_2xx:
    prober: http
    timeout: 2s
    http:
      preferred_ip_protocol: ip4
      fail_if_not_ssl: true
      tls_config:
        ca_file: {ca}
        insecure_skip_verify: false
"""


def run_blackbox(work, case, kind, n, ca):
    d = os.path.join(work, f"blackbox-{slug(case)}")
    os.makedirs(d)
    conf = os.path.join(d, "blackbox.yml")
    with open(conf, "w") as f:
        f.write(BBE_CONF.format(ca=ca))
    p = subprocess.Popen(
        ["/usr/bin/prometheus-blackbox-exporter", f"--config.file={conf}",
         f"--web.listen-address={BBE_ADDR}", "--log.level=warn"],
        stdout=subprocess.DEVNULL, stderr=open(f"{d}/blackbox.log", "w"),
        preexec_fn=raise_nofile)
    host, port = BBE_ADDR.split(":")
    module = {"tcp": "tcp_connect", "http": "http_2xx",
              "https": "https_2xx"}[kind]
    url = https_url if kind == "https" else http_url
    targets = [f"127.0.0.1:{tcp_port(i)}" if kind == "tcp" else url(i)
               for i in range(n)]
    failures = [0]
    lock = threading.Lock()

    def worker(q):
        c = http.client.HTTPConnection(host, int(port), timeout=10)
        while True:
            try:
                t = q.get_nowait()
            except queue.Empty:
                break
            c.request("GET", f"/probe?module={module}&target={t}")
            body = c.getresponse().read()
            if b"\nprobe_success 1" not in body:
                with lock:
                    failures[0] += 1
        c.close()

    try:
        wait_for(lambda: Nginx.answers(int(port)), 30, "blackbox exporter")
        c0, wall = proc_cpu(p.pid), 0.0
        for _ in range(SWEEPS):
            q = queue.Queue()
            for t in targets:
                q.put(t)
            t0 = time.monotonic()
            threads = [threading.Thread(target=worker, args=(q,))
                       for _ in range(CONCURRENCY)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(120)
            wall += time.monotonic() - t0
        c1 = proc_cpu(p.pid)
        rss = proc_status(p.pid, "VmHWM")
    finally:
        stop(p)
    note = f"{CONCURRENCY} concurrent requests"
    if failures[0]:
        note += f"; {failures[0]} failed"
    record(case, "blackbox", n * SWEEPS, c1 - c0, rss, wall / SWEEPS, note)


# ---------------------------------------------------------------- cases

def enough_time(need_s, what):
    left = DEADLINE - time.monotonic()
    if left < need_s:
        print(f"== skipped {what}: {left:.0f}s of the time budget left, "
              f"it needs about {need_s:.0f}s", flush=True)
        return False
    return True


def case_icmp(work):
    n = scaled(10000)
    every = every_for(n)
    case = f"icmp {n}"
    if not enough_time(every * 3 + WINDOW_S + 20 + every * SWEEPS, case):
        return
    print(f"== {case}: 127.0.x.y, one sweep every {every}s", flush=True)
    checks = [f"check ping {loopback_only(ping_addr(i))}" for i in range(n)]
    run_rtowatchd(work, case, checks, every, min(every * 500, 2000))
    run_fping(work, case, n, every)


def case_service(work, nginx, kind, n):
    every = every_for(n)
    case = f"{kind} {n}"
    if not enough_time(every * 4 + WINDOW_S * 3 + 90, case):
        return
    if kind == "tcp":
        print(f"== {case}: nginx stream, 127.0.0.1 ports {TCP_BASE}-"
              f"{TCP_BASE + n - 1}", flush=True)
        checks = [f"check tcp 127.0.0.1 port {tcp_port(i)}"
                  for i in range(n)]
    elif kind == "http":
        print(f"== {case}: nginx, {http_url(0)} .. /t/{n - 1}", flush=True)
        checks = [f'check http "{http_url(i)}"' for i in range(n)]
    else:
        print(f"== {case}: nginx, {https_url(0)} .. /t/{n - 1}, "
              f"certificates verified against {nginx.ca}", flush=True)
        checks = [f'check http "{https_url(i)}" ca-file "{nginx.ca}"'
                  for i in range(n)]
    run_rtowatchd(work, case, checks, every, min(every * 500, 2000))
    run_bare(work, case, kind, n, every, nginx.ca)
    run_monit(work, case, nginx, kind, n, WINDOW_S)
    run_blackbox(work, case, kind, n, nginx.ca)


def case_hold(work):
    n = scaled(10000)
    every = 10
    hold = HOLD_S
    case = f"hold {n}"
    if not enough_time(hold + every + 40, case):
        return
    print(f"== {case}: ping, tcp and http in thirds, every {every}s, "
          f"{hold:.0f}s", flush=True)
    checks = []
    for i in range(n):
        if i % 3 == 0:
            checks.append(f"check ping {loopback_only(ping_addr(i))}")
        elif i % 3 == 1:
            checks.append(f"check tcp 127.0.0.1 port {tcp_port(i % 10000)}")
        else:
            checks.append(f'check http "{http_url(i)}"')
    d = Rtowatchd(work, "rtowatchd-hold", checks, every, 2000)
    try:
        time.sleep(every)
        d.schedule()
        c0, t0 = proc_cpu(d.p.pid), time.monotonic()
        time.sleep(hold)
        s = d.schedule()
        c1, t1 = proc_cpu(d.p.pid), time.monotonic()
        hwm = proc_status(d.p.pid, "VmHWM")
        rss = proc_status(d.p.pid, "VmRSS")
    finally:
        d.close()
    share = 100 * (c1 - c0) / (t1 - t0)
    print(f"   rtowatchd: {s['started']} probes started in {t1 - t0:.0f}s "
          f"(planned {n * (t1 - t0) / every:.0f}), CPU {share:.1f}% of one "
          f"core, RSS {rss:.1f} MB (peak {hwm:.1f}), start lateness p50 "
          f"{fmt(s['p50'], 1)} ms, p99 {fmt(s['p99'], 1)} ms, max "
          f"{fmt(s['max'], 1)} ms; skipped {s['busy']} (running), "
          f"{s['missed']} (loop late); {d.outages()} outages", flush=True)
    record(case, "rtowatchd", s["started"], c1 - c0, hwm,
           n * (t1 - t0) / s["started"] if s["started"] else None,
           f"CPU {share:.1f}% of a core, late p50 {fmt(s['p50'], 1)} ms "
           f"p99 {fmt(s['p99'], 1)} ms max {fmt(s['max'], 1)} ms")


def main():
    if os.geteuid() != 0:
        sys.exit("bench: run as root (raw ICMP for fping and rtowatchd)")
    if not os.access(RTOWATCHD, os.X_OK):
        sys.exit(f"bench: {RTOWATCHD} missing: run make first")
    work = tempfile.mkdtemp(prefix="rtowatch-bench-")
    print(f"bench: scale {SCALE}, {SWEEPS} sweeps, work directory {work}",
          flush=True)
    nginx = None
    try:
        if "icmp" in CASES:
            case_icmp(work)
        if {"tcp", "http", "https", "hold"} & set(CASES):
            nginx = Nginx(work, scaled(10000))
        for kind in ("tcp", "http", "https"):
            if kind in CASES:
                for n in (scaled(size) for size in SIZES):
                    case_service(work, nginx, kind, n)
        if "hold" in CASES:
            case_hold(work)
    finally:
        if nginx is not None:
            nginx.close()
        drop_work(work, "bench")
    print_table()


if __name__ == "__main__":
    main()
