"""What every end-to-end scenario of rtowatch shares.

Each scenario starts the real rtowatchd against real TCP listeners on
127.0.0.1 and looks at what it recorded through the real rtowatch CLI.
Every scenario has its own directory (pytest's tmp_path), its own rules
file and its own database, so scenarios run in parallel (pytest -n).

Nothing here waits by sleeping: wait_for() polls a condition every 50 ms
and, when it times out, says what it was waiting for and shows the end
of the daemon's log.

The binaries come from $RTOWATCH_BIN_DIR (default: bin/ at the top of the
source tree), so the same scenarios run against the ASan build:
    RTOWATCH_BIN_DIR=bin/asan /usr/bin/python3 -m pytest tests/e2e
A daemon log that shows an AddressSanitizer, LeakSanitizer or UBSan report
fails the scenario, even when everything else passed.
"""
import calendar
import json
import os
import re
import selectors
import signal
import socket
import subprocess
import threading
import time

import pytest

E2E_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(E2E_DIR))
BIN_DIR = os.path.abspath(os.environ.get("RTOWATCH_BIN_DIR",
                                         os.path.join(REPO, "bin")))

# Reports of the sanitizers: any of these in a daemon's output fails it.
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                   "runtime error:")

POLL = 0.05          # seconds between two looks at a condition
CLI_TIMEOUT = 30     # seconds one rtowatch command may take
STOP_TIMEOUT = 15    # seconds the daemon may take to exit on SIGTERM


# --------------------------------------------------------------- binaries

def binary(name):
    """The path of bin/NAME, or a failure saying how to get it."""
    path = os.path.join(BIN_DIR, name)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"{path}: no such executable. Build it first "
                    f"(make, or make asan for bin/asan/), or point "
                    f"RTOWATCH_BIN_DIR at the directory holding "
                    f"rtowatchd and rtowatch.", pytrace=False)
    return path


# ------------------------------------------------------------------ times

_TIME_RE = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\.(\d{3})Z$")


def now_ms():
    """Wall-clock UTC milliseconds, truncated like the daemon's."""
    return time.time_ns() // 1_000_000


def parse_time(text):
    """'YYYY-MM-DDTHH:MM:SS.mmmZ' (UTC) into epoch milliseconds."""
    assert isinstance(text, str), f"expected a time string, got {text!r}"
    m = _TIME_RE.match(text)
    assert m, f"{text!r} is not a UTC time as YYYY-MM-DDTHH:MM:SS.mmmZ"
    secs = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S"))
    return secs * 1000 + int(m.group(2))


def fmt_ms(ms):
    """Epoch milliseconds as the daemon writes them, for messages."""
    return (time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000))
            + f".{ms % 1000:03d}Z")


# ------------------------------------------------------------ the daemons

# The daemons started by the running test, so that wait_for() can show
# their logs and notice when one died.  Tests in one process run one at a
# time (pytest-xdist runs them in separate processes).
_daemons = []


def wait_for(predicate, timeout, what):
    """Poll PREDICATE every 50 ms until it returns something true; return
    that.  On timeout, or when a daemon that should run has exited, fail
    with WHAT and the end of the daemons' logs."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        for d in _daemons:
            if d.expected_running and not d.running:
                d.expected_running = False
                pytest.fail(f"while waiting for {what}: {d} exited "
                            f"unexpectedly (exit {d.returncode})\n"
                            f"{d.tail()}", pytrace=False)
        if time.monotonic() >= deadline:
            logs = "\n".join(d.tail() for d in _daemons) or "(no daemon)"
            pytest.fail(f"timed out after {timeout}s waiting for {what}\n"
                        f"{logs}", pytrace=False)
        time.sleep(POLL)


class Daemon:
    """One rtowatchd with its rules file, database and log, in DIRECTORY.

    write_rules() writes the rules file NAME.conf; the database is NAME.db
    beside it.  start() runs `rtowatchd -d -v -f RULES` from / (as
    systemd does, so that nothing relies on the current directory) with
    stdout and stderr appended to NAME.log; each start marks where its run
    begins in that log."""

    def __init__(self, directory, name="rtowatchd", db=None):
        self.dir = str(directory)
        self.name = name
        self.rules = os.path.join(self.dir, f"{name}.conf")
        # DB: a PostgreSQL register's URI instead of the file (the
        # scenarios of both backends); the CLI reads it with --db too.
        self.db = db or os.path.join(self.dir, f"{name}.db")
        self.log_path = os.path.join(self.dir, f"{name}.log")
        self.proc = None
        self.returncode = None
        self.expected_running = False
        self.run_offset = 0
        self.starts = 0
        self.reported = 0       # sanitizer reports already failed on
        self.wrapper = []       # e.g. valgrind and its options

    def __str__(self):
        pid = self.proc.pid if self.proc else "-"
        return f"rtowatchd[{pid}] ({self.rules})"

    @property
    def sock(self):
        """Its control socket, as rules_file() sets it."""
        return socket_path(self.db)

    def write_rules(self, text):
        with open(self.rules, "w", encoding="utf-8") as f:
            f.write(text)

    def start(self, *extra_args, env=None):
        assert not self.running, f"{self} is already running"
        exe = binary("rtowatchd")
        full_env = dict(os.environ)
        # The daemon must not talk to a systemd that runs the tests.
        for k in ("NOTIFY_SOCKET", "INVOCATION_ID", "LISTEN_FDS",
                  "LISTEN_PID"):
            full_env.pop(k, None)
        full_env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
        full_env.update(env or {})
        with open(self.log_path, "ab") as log:
            self.run_offset = log.tell()
            self.starts += 1
            log.write(f"==== e2e: start {self.starts}: {exe} -d -v -f "
                      f"{self.rules}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                [*self.wrapper, exe, "-d", "-v", "-f", self.rules,
                 *extra_args],
                cwd="/", env=full_env, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT)
        self.returncode = None
        self.expected_running = True
        if self not in _daemons:
            _daemons.append(self)
        return self

    @property
    def running(self):
        if self.proc is None:
            return False
        rc = self.proc.poll()
        if rc is not None:
            self.returncode = rc
            return False
        return True

    def _wait(self, timeout):
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.returncode = self.proc.wait()
            pytest.fail(f"{self} did not exit within {timeout}s; killed"
                        f"\n{self.tail()}", pytrace=False)
        return self.returncode

    def stop(self):
        """SIGTERM, wait, and require a clean exit 0."""
        assert self.running, (f"{self} is not running (exit "
                              f"{self.returncode})\n{self.tail()}")
        self.expected_running = False
        self.proc.send_signal(signal.SIGTERM)
        rc = self._wait(STOP_TIMEOUT)
        assert rc == 0, (f"{self} exited {rc} on SIGTERM, expected a clean "
                         f"exit 0\n{self.tail()}")
        self.check_sanitizers()

    def kill9(self):
        assert self.running, f"{self} is not running\n{self.tail()}"
        self.expected_running = False
        self.proc.kill()
        self._wait(STOP_TIMEOUT)

    def hup(self):
        assert self.running, f"{self} is not running\n{self.tail()}"
        self.proc.send_signal(signal.SIGHUP)

    def log(self):
        """Everything the daemon wrote, over all its runs."""
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def run_log(self):
        """What the current (or last) run wrote."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self.run_offset)
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def tail(self, lines=30):
        """The end of the log, after its rare lines: with -v the probe
        results (the same line again and again, but for a number) would
        push the state changes and errors out of sight."""
        text = self.log().splitlines()
        shape = [re.sub(r"\d+", "N", l) for l in text]
        seen = {}
        for s in shape:
            seen[s] = seen.get(s, 0) + 1
        rare = [l for l, s in zip(text, shape) if seen[s] <= 2][-lines:]
        last = text[-lines:]
        return (f"---- {self.log_path}: its rare lines (state changes, "
                f"errors), last {len(rare)}\n" + "\n".join(rare)
                + f"\n---- its last {len(last)} lines\n" + "\n".join(last))

    def sanitizer_reports(self):
        return [line for line in self.log().splitlines()
                if any(m in line for m in SANITIZER_MARKS)]

    def check_sanitizers(self):
        found = self.sanitizer_reports()
        self.reported = len(found)
        assert not found, (f"{self}: sanitizer report in the log:\n"
                           + "\n".join(found) + "\n" + self.tail(120))

    def cleanup(self):
        """Stop the daemon if it still runs (teardown, even after a
        failure); return the sanitizer reports of its log."""
        self.expected_running = False
        if self.running:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.returncode = self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.returncode = self.proc.wait()
        if self in _daemons:
            _daemons.remove(self)
        found = self.sanitizer_reports()
        # Those that already failed the test are not reported twice.
        return found if len(found) > self.reported else []


# valgrind's memcheck around the daemon: exit 99 on any error or any
# definite or indirect leak, so that a clean stop (exit 0) is the proof.
VALGRIND = ["valgrind", "--quiet", "--error-exitcode=99",
            "--leak-check=full", "--show-leak-kinds=definite,indirect",
            "--errors-for-leak-kinds=definite,indirect", "--track-fds=no"]


# Scenarios that load both cores for tens of seconds (thousands of
# systems failing at once, a slow-connection attack, 200,000 kept views,
# a 64 MB database copied back) and time the loop meanwhile: make check
# runs them alone, one after another, once the others are done
# (tests/run_all.py, -m heavy), so that each one's timing bounds are its
# own.  Two of test_clock_burst's daemons at once, under ASan, took 15-40
# s to open 2,000 incidents where one alone takes 2.6 s; beside the light
# scenarios, in one worker of four, a reminder of its burst was 3.7 s
# late and the database's copy skipped a probe.  Run with -n and
# --dist loadgroup, they still take turns in one worker.
HEAVY = pytest.mark.heavy


def asan():
    """Is the daemon under test the ASan build (bin/asan/)?  Its timing
    bounds are its own: it runs several times slower, and four scenarios
    share two cores in make check."""
    return os.sep + "asan" + os.sep in binary("rtowatchd")


def require_valgrind():
    """Skip, saying why, where a valgrind scenario cannot run: valgrind
    missing, or the ASan build (it has its own leak checker)."""
    import shutil
    if shutil.which("valgrind") is None:
        pytest.skip("valgrind is not installed (make check installs it)")
    if asan():
        pytest.skip("the ASan build has its own leak checker")


def start_daemon(d):
    """Start D and wait until it has opened its database and runs its
    checks (its "started" line), so that the CLI can read the database
    from then on."""
    d.start()
    wait_for(lambda: " started: rules " in d.run_log(), 20,
             f"{d} to open its database and start")
    return d


# ------------------------------------------------------------ the targets

def _reserve(port=0, host="127.0.0.1"):
    """A TCP socket bound to (HOST, PORT) but not listening.  Connections
    to it are refused, and while it is open no other socket (not even the
    daemon's own outgoing connections) can take the port."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    return s


class ClosedPort:
    """A port on 127.0.0.1 where nothing listens: every connection is
    refused.  The port stays reserved until close()."""

    def __init__(self):
        self._sock = _reserve()
        self.host, self.port = self._sock.getsockname()

    def close(self):
        self._sock.close()


class Listener:
    """A real TCP service on 127.0.0.1 (or HOST): an ephemeral port (or
    PORT) where a background thread accepts every connection and closes
    it.

    stop() closes the listening socket, so connections are refused;
    start() listens again on the SAME port.  In between the port stays
    bound (not listening), so nothing else can take it."""

    def __init__(self, host="127.0.0.1", port=0):
        self.host = host
        self._sock = _reserve(port, host)
        self.port = self._sock.getsockname()[1]
        self._lock = threading.Lock()
        self._accepted = 0
        self._thread = None
        self._wake = None

    def __repr__(self):
        state = "listening" if self.listening else "stopped"
        return f"Listener({self.host}:{self.port}, {state})"

    @property
    def listening(self):
        return self._thread is not None

    @property
    def accepted(self):
        """How many connections were accepted since it was created."""
        with self._lock:
            return self._accepted

    def start(self):
        assert not self.listening, f"{self} already listening"
        if self._sock is None:
            self._sock = _reserve(self.port, self.host)
        self._sock.listen(128)
        self._sock.setblocking(False)
        self._wake = socket.socketpair()
        self._thread = threading.Thread(target=self._serve,
                                        args=(self._sock, self._wake[1]),
                                        name=f"listener-{self.port}",
                                        daemon=True)
        self._thread.start()
        return self

    def _serve(self, sock, wake):
        sel = selectors.DefaultSelector()
        sel.register(sock, selectors.EVENT_READ)
        sel.register(wake, selectors.EVENT_READ)
        try:
            while True:
                for key, _ in sel.select():
                    if key.fileobj is wake:
                        return
                    try:
                        conn, _ = sock.accept()
                    except (BlockingIOError, InterruptedError,
                            ConnectionAbortedError):
                        continue
                    conn.close()
                    with self._lock:
                        self._accepted += 1
        finally:
            sel.close()

    def stop(self):
        """From now on, connections to the port are refused."""
        assert self.listening, f"{self} is not listening"
        self._wake[0].send(b"x")
        self._thread.join(timeout=10)
        assert not self._thread.is_alive(), f"{self}: thread did not end"
        for s in self._wake:
            s.close()
        self._thread = self._wake = None
        self._sock.close()
        # Keep the port: bound again at once, but not listening.
        self._sock = _reserve(self.port, self.host)

    def close(self):
        if self.listening:
            self.stop()
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def wait_accepted(self, count, timeout=15, what=None):
        """Wait until COUNT more connections than now were accepted."""
        target = self.accepted + count
        wait_for(lambda: self.accepted >= target, timeout,
                 what or f"{count} successful probes of {self}")


# ------------------------------------------------------------- the rules

def system_rules(name, port, core=False, ci=False, rto="1h", every="200ms",
                 timeout="100ms", down_after=3, up_after=2,
                 owner="e2e tests", host="127.0.0.1", options=""):
    """One system block with one tcp check of HOST:PORT (and OPTIONS:
    send, expect, connect-timeout)."""
    yn = {True: "yes", False: "no"}
    options = f"{options} " if options else ""
    return (f'system "{name}" {{\n'
            f"    core {yn[core]}\n"
            f"    critical-infrastructure {yn[ci]}\n"
            f"    rto {rto}\n"
            f'    owner "{owner}"\n'
            f"    check tcp {host} port {port} {options}every {every} "
            f"timeout {timeout}\n"
            f"    down after {down_after} failures\n"
            f"    up after {up_after} successes\n"
            f"}}\n")


POLICY = os.path.join(REPO, "rules", "policy.conf")


def _scenario_policy():
    """The shipped policy less its lost-network rule: most scenarios make
    several systems fail at once on purpose, and under that rule they
    would be one incident about the monitoring host (which
    test_lost_network.py checks with the shipped file itself)."""
    import tempfile
    with open(POLICY, encoding="utf-8") as f:
        text = "".join(l for l in f if "lost-network" not in l)
    assert text != open(POLICY, encoding="utf-8").read(), \
        "rules/policy.conf no longer has a lost-network line"
    import atexit
    fd, path = tempfile.mkstemp(prefix="rtowatch-policy-", suffix=".conf")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, 0o644)   # daemons run as nobody read it too
    atexit.register(os.unlink, path)
    return path


SCENARIO_POLICY = _scenario_policy()


def is_pg(db):
    """Is DB a PostgreSQL register (a URI or a conninfo), not a file?  As
    database_is_pg() (common/util.c) tells."""
    db = str(db)
    return (db.startswith(("postgresql://", "postgres://"))
            or re.match(r"[a-z_]+ *=", db) is not None)


def socket_path(db):
    """The control socket beside DB: NAME.sock for NAME.db, or, when that
    path is too long for a Unix socket (108 bytes), one in /tmp named by
    a hash of DB."""
    import hashlib
    path = os.path.splitext(str(db))[0] + ".sock"
    if len(path.encode()) < 100 and not is_pg(db):
        return path
    return "/tmp/rtowatch-" + hashlib.sha1(
        str(db).encode()).hexdigest()[:16] + ".sock"


def rules_file(db, *systems, policy=SCENARIO_POLICY):
    """The database, the policy (the shipped IMS-P-009 defaults unless a
    scenario brings its own short clocks) and the control socket on line
    1, then the systems."""
    return (f'set database "{db}"; include "{policy}"; '
            f'set socket "{socket_path(db)}"\n\n' + "\n".join(systems))


# ------------------------------------------------------- the control socket

_API_CLIENT = r"""
import http.client, json, socket, sys
class C(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("rtowatch", timeout=90)
        self.path = path
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(90)
        self.sock.connect(self.path)
path, method, url, body = sys.argv[1:5]
c = C(path)
c.request(method, url, body=body.encode() if body else None,
          headers={"Content-Type": "application/json"} if body else {})
r = c.getresponse()
sys.stdout.write(json.dumps({"status": r.status,
                             "body": r.read().decode("utf-8", "replace")}))
"""


def api(sock, method, url, body=None, user=None, raw_body=None):
    """One request on the control socket; return (status, parsed JSON).
    With USER the request is made by that OS account (a child process
    running as it), as the daemon learns from SO_PEERCRED."""
    if raw_body is None:
        raw_body = json.dumps(body) if body is not None else ""
    kwargs = {}
    if user is not None:
        import pwd
        pw = pwd.getpwnam(user)
        kwargs = dict(user=pw.pw_uid, group=pw.pw_gid,
                      extra_groups=os.getgrouplist(user, pw.pw_gid))
    p = subprocess.run(["/usr/bin/python3", "-c", _API_CLIENT, str(sock),
                        method, url, raw_body], capture_output=True,
                       timeout=120, stdin=subprocess.DEVNULL, **kwargs)
    assert p.returncode == 0, f"{method} {url}: client failed: {p.stderr}"
    reply = json.loads(p.stdout)
    try:
        parsed = json.loads(reply["body"])
    except ValueError:
        pytest.fail(f"{method} {url}: reply is not JSON: {reply['body']!r}",
                    pytrace=False)
    return reply["status"], parsed


def wait_socket(sock, timeout=20):
    """Wait until the daemon answers on SOCK."""
    def answers():
        if not os.path.exists(sock):
            return False
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(sock)
            return True
        except OSError:
            return False
        finally:
            s.close()
    found = wait_for(answers, timeout, f"the control socket {sock}")
    # A pg scenario's daemon answers as a standby until it holds the lock:
    # a change asked of it then would be refused (lead.c).
    for d in _daemons:
        if d.sock == sock and d.running and getattr(d, "leads_alone", False):
            wait_for(lambda: re.search(r"lead: node \S+ leads (now|again)",
                                       d.run_log()), timeout,
                     f"{d} leading its register")
    return found


# --------------------------------------------------------------- the CLI

def cli(*args, env=None, raw=False):
    """Run rtowatch ARGS; return (exit code, stdout, stderr), the outputs
    as text with newlines translated (or stdout as bytes when RAW)."""
    full_env = dict(os.environ)
    full_env.pop("RTOWATCH_DB", None)
    full_env.update(env or {})
    p = subprocess.run([binary("rtowatch"), *map(str, args)],
                       capture_output=True, env=full_env,
                       timeout=CLI_TIMEOUT, stdin=subprocess.DEVNULL)
    out = p.stdout.decode("utf-8", "replace")
    err = p.stderr.decode("utf-8", "replace")
    found = [l for l in (out + "\n" + err).splitlines()
             if any(m in l for m in SANITIZER_MARKS)]
    assert not found, (f"rtowatch {' '.join(map(str, args))}: "
                       f"sanitizer report:\n{err}")
    if raw:
        return p.returncode, p.stdout, err
    return (p.returncode, out.replace("\r\n", "\n").replace("\r", "\n"),
            err)


def incidents(db):
    """`rtowatch --db DB incidents --format json`, parsed."""
    rc, out, err = cli("--db", db, "incidents", "--format", "json")
    assert rc == 0, f"rtowatch incidents exited {rc}: {err}"
    try:
        rows = json.loads(out)
    except ValueError as e:
        pytest.fail(f"rtowatch incidents --format json: not JSON ({e}):\n"
                    f"{out}", pytrace=False)
    assert isinstance(rows, list), f"expected a JSON array, got: {out}"
    return rows


def incidents_of(db, system):
    return [i for i in incidents(db) if i.get("system") == system]


def show(db, incident_id):
    """`rtowatch --db DB show ID --format json`, parsed."""
    rc, out, err = cli("--db", db, "show", incident_id, "--format", "json")
    assert rc == 0, f"rtowatch show {incident_id} exited {rc}: {err}"
    try:
        return json.loads(out)
    except ValueError as e:
        pytest.fail(f"rtowatch show --format json: not JSON ({e}):\n{out}",
                    pytrace=False)


def wait_incident(db, system, timeout=15, what=None, restored=False):
    """Wait until SYSTEM has an incident (a restored one if RESTORED);
    return it."""
    def found():
        for i in incidents_of(db, system):
            if not restored or i.get("restored_at") is not None:
                return i
        return None
    return wait_for(found, timeout, what or (
        f"an incident of {system!r}" + (" with restored_at" if restored
                                         else "") + f" in {db}"))


# ------------------------------------------------------------- scenarios

class Scenario:
    """The things one scenario creates, all torn down together: its
    directory, listeners, reserved ports and daemons."""

    def __init__(self, directory, pg=None):
        # Fail at once, not in the middle of the scenario, when a program
        # is missing.
        binary("rtowatchd")
        binary("rtowatch")
        self.dir = str(directory)
        self.pg = pg            # the worker's PostgreSQL, for pg scenarios
        self._listeners = []
        self._ports = []
        self._daemons = []

    def listener(self, started=True, host="127.0.0.1", port=0):
        lst = Listener(host, port)
        self._listeners.append(lst)
        return lst.start() if started else lst

    def closed_port(self):
        p = ClosedPort()
        self._ports.append(p)
        return p.port

    def register(self, name="rtowatchd"):
        """A new register: the file NAME.db, or on PostgreSQL a fresh
        database."""
        if self.pg:
            return self.pg.new_database()
        return os.path.join(self.dir, f"{name}.db")

    def daemon(self, name="rtowatchd"):
        """A daemon NAME: its register is NAME.db, or on PostgreSQL a
        fresh database of its own."""
        d = Daemon(self.dir, name, db=self.register(name))
        # Alone on a database of its own, it leads once its first try of
        # the lock is answered, a moment after its socket answers.
        d.leads_alone = self.pg is not None
        self._daemons.append(d)
        return d

    def close(self):
        reports = []
        for d in self._daemons:
            found = d.cleanup()
            if found:
                reports.append(f"{d}: sanitizer report:\n"
                               + "\n".join(found) + "\n" + d.tail(120))
        for lst in self._listeners:
            lst.close()
        for p in self._ports:
            p.close()
        if reports:
            pytest.fail("\n\n".join(reports), pytrace=False)


@pytest.fixture
def workdir(tmp_path):
    """This scenario's own directory."""
    return tmp_path


# ------------------------------------------------------ the two backends

# RTOWATCH_BACKENDS=sqlite runs the both_backends scenarios on SQLite
# only (a quicker run); the default is both.
BACKENDS = tuple(b for b in os.environ.get("RTOWATCH_BACKENDS",
                                           "sqlite,pg").split(",") if b)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "both_backends: run the scenario with its register in "
        "SQLite and again in PostgreSQL (issue 21's core scenarios)")
    config.addinivalue_line(
        "markers", "heavy: loads both cores and times the loop: run alone "
        "(HEAVY)")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("heavy") is not None:
            item.add_marker(pytest.mark.xdist_group("heavy"))


def pytest_generate_tests(metafunc):
    """A scenario marked both_backends runs once per backend: its daemons
    write SQLite files, then a fresh database of the worker's private
    PostgreSQL each."""
    if metafunc.definition.get_closest_marker("both_backends") is None:
        return
    if "backend" not in metafunc.fixturenames:
        metafunc.fixturenames.append("backend")
    metafunc.parametrize("backend", BACKENDS, indirect=True)


@pytest.fixture(scope="session")
def pg_server():
    """One private PostgreSQL server per pytest worker (xdist runs each
    worker as a session), started at its first pg scenario and stopped
    at its end.  fsync is off: the server's own durability is not what
    the scenarios test (a daemon killed with -9 loses nothing either
    way), and the machine's disk is shared."""
    from pglib import Postgres, pg_missing
    why = pg_missing()
    if why:
        pytest.skip(why)
    server = Postgres(options="-c fsync=off -c full_page_writes=off")
    yield server
    server.close()


@pytest.fixture
def backend(request):
    """sqlite, or pg where the scenario is parametrized for it."""
    return getattr(request, "param", "sqlite")


@pytest.fixture
def scenario(workdir, request, backend):
    """A Scenario in its own directory; every daemon it started is
    stopped afterwards, even when the test failed, and a sanitizer report
    in a daemon's log fails the test.  On the pg backend its daemons'
    registers are databases of the worker's PostgreSQL."""
    pg = request.getfixturevalue("pg_server") if backend == "pg" else None
    sc = Scenario(workdir, pg=pg)
    yield sc
    sc.close()


@pytest.fixture
def daemon(scenario):
    """A daemon (not started yet) in this scenario's directory."""
    return scenario.daemon()


@pytest.fixture
def rtowatchd_bin():
    return binary("rtowatchd")


@pytest.fixture
def rtowatch_bin():
    return binary("rtowatch")


# ------------------------------------------------------ rules, checked (-n)

_ERROR_RE = re.compile(r"^(?P<file>.+?):(?P<line>\d+): (?P<msg>.+)$")


def rules_check(path):
    """`rtowatchd -n -f PATH`: (exit code, stdout, stderr)."""
    p = subprocess.run([binary("rtowatchd"), "-n", "-f", str(path)],
                       capture_output=True, text=True, timeout=CLI_TIMEOUT,
                       stdin=subprocess.DEVNULL)
    found = [l for l in (p.stdout + p.stderr).splitlines()
             if any(m in l for m in SANITIZER_MARKS)]
    assert not found, f"rtowatchd -n -f {path}: sanitizer report:\n{p.stderr}"
    return p.returncode, p.stdout, p.stderr


def parse_errors(text):
    """The FILE:LINE: message lines of TEXT, as (file, line, message)."""
    out = []
    for line in text.splitlines():
        m = _ERROR_RE.match(line)
        if m:
            out.append((m.group("file"), int(m.group("line")),
                        m.group("msg")))
    return out


def errors_at(errors, filename, line):
    """The messages of ERRORS reported at LINE of the file whose base name
    is that of FILENAME (the daemon may name it by any path)."""
    base = os.path.basename(str(filename))
    return [msg for f, n, msg in errors
            if n == line and os.path.basename(f) == base]


def check_lines_each_reported(workdir, bad):
    """Write one system whose check lines are BAD's, a (line, words) pair
    each, run `rtowatchd -n` and require an error holding WORDS at each
    one's line: a parser that stops at the first mistake, or names the
    wrong line, fails."""
    rules = workdir / "bad.conf"
    lines = [f'set database "{workdir}/rtowatch.db"; include "{POLICY}"',
             'system "mail" {', "    core yes", "    rto 4h",
             "    check tcp 127.0.0.1 port 25"]
    first = len(lines) + 1
    lines += ["    " + check for check, _ in bad]
    lines.append("}")
    rules.write_text("\n".join(lines) + "\n")
    rc, out, err = rules_check(rules)
    assert rc == 1, (rc, out, err)
    errors = parse_errors(err)
    for i, (check, words) in enumerate(bad):
        msgs = errors_at(errors, rules, first + i)
        assert msgs, f"no error at line {first + i} for {check!r}:\n{err}"
        assert any(words in m for m in msgs), (check, msgs)


# ------------------------------------------------------ clocks and policy

SHORT_POLICY = """\
# The procedure's shape with clocks of seconds, for scenarios.
policy {{
    notify within {notify}
    remind notify {notify_remind} before
    restore within {restore12} for levels 1-2
    restore within {restore34} for levels 3-4
    remind restore {restore_remind} before
    report within {report} for levels 3-4
    {reopen}
    retention 3 years
    tell "unit-head" for levels 1-4
    tell "ciso" for levels 3-4
}}
"""


def short_policy(directory, notify="4s", notify_remind="3s 2s",
                 restore12="1h", restore34="30m", restore_remind="10m",
                 report="1d", reopen=None):
    """Write a policy with short clocks into DIRECTORY; return its path."""
    path = os.path.join(str(directory), "policy.conf")
    with open(path, "w", encoding="utf-8") as f:
        f.write(SHORT_POLICY.format(
            notify=notify, notify_remind=notify_remind, restore12=restore12,
            restore34=restore34, restore_remind=restore_remind,
            report=report,
            reopen=f"reopen within {reopen}" if reopen else ""))
    return path


def db_rows(db, sql, *args):
    """Rows of a read-only query, as dicts: for the tables the CLI does
    not show yet (clocks, notifications).  A PostgreSQL register is read
    through `rtowatch --db URI backup`, an SQLite copy of it made in one
    snapshot, so that SQL, types and NULLs are the same as a file's."""
    import sqlite3
    if is_pg(db):
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            copy = os.path.join(tmp, "copy.db")
            rc, out, err = cli("--db", db, "backup", copy)
            assert rc == 0, f"rtowatch --db {db} backup: {rc}\n{out}{err}"
            return db_rows(copy, sql, *args)
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        con.row_factory = sqlite3.Row
        return [dict(r) for r in con.execute(sql, args)]
    finally:
        con.close()


def db_edit(db, sql, *more):
    """SQL run on the register DB as its owner would (sqlite3 on the
    file, or psql as PostgreSQL's owner role): an edit behind the
    daemon's back.  MORE statements are run in the same transaction,
    seen by the daemon all at once."""
    if is_pg(db):
        from pglib import psql_uri
        psql_uri(db, ";\n".join((sql,) + more))
        return
    import sqlite3
    con = sqlite3.connect(db, timeout=5)
    try:
        with con:
            if more:
                con.execute("BEGIN")
            for one in (sql,) + more:
                con.execute(one)
    finally:
        con.close()


def timeline(db, incident_id):
    return show(db, incident_id)["timeline"]


def events(db, incident_id, name):
    return [e for e in timeline(db, incident_id) if e["event"] == name]
