"""A desktop for the agent's scenarios: Xvfb, a D-Bus session, dunst.

Each scenario gets its own X server (Xvfb picks a free display number
itself, -displayfd), its own session bus (a dbus-daemon with no service
directories, so nothing is started behind our back by D-Bus activation:
the only notification server is the dunst we start) and its own dunst,
whose -print output is its record of every notification it received,
urgency included (`dunstctl history` on Debian 12's dunst 1.9 leaves the
urgency out).

Then RtowatchNotify runs bin/rtowatch-notify in that session.
"""
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile

import pytest

from conftest import SANITIZER_MARKS, binary, wait_for

TOOLS = ("Xvfb", "dbus-daemon", "dunst", "dunstctl")

BUS_CONF = """<!DOCTYPE busconfig PUBLIC
 "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={dir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""

# Notifications stay until closed (timeout 0 for every urgency), so a
# scenario can invoke an action or take a screenshot at its own pace;
# the fonts are those scripts/deps.sh installs (DejaVu, WenQuanYi for
# the Chinese).
DUNSTRC = """[global]
    monitor = 0
    follow = none
    width = 460
    height = 200
    origin = top-right
    offset = 16x16
    notification_limit = 0
    padding = 10
    horizontal_padding = 12
    frame_width = 2
    separator_height = 2
    gap_size = 6
    font = DejaVu Sans, WenQuanYi Micro Hei 11
    markup = full
    format = "<b>%s</b>\\n%b"
    alignment = left
    word_wrap = yes
    show_indicators = yes
    sticky_history = yes
    history_length = 100
    idle_threshold = 0
    mouse_left_click = do_action, close_current

[urgency_low]
    background = "#222222"
    foreground = "#dddddd"
    timeout = 0

[urgency_normal]
    background = "#285577"
    foreground = "#ffffff"
    frame_color = "#aaaaaa"
    timeout = 0

[urgency_critical]
    background = "#900000"
    foreground = "#ffffff"
    frame_color = "#ff0000"
    timeout = 0
"""


def require_desktop():
    """Skip, saying what is missing, when there is no way to run one."""
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        pytest.skip(f"no {', '.join(missing)} here: the desktop scenarios "
                    f"need Xvfb, dbus-daemon and dunst (apt-get install "
                    f"xvfb dbus dunst; scripts/deps.sh check does)")


def _dunst_print_blocks(text):
    """dunst -print's notification blocks, as dicts of their fields."""
    out = []
    cur = None
    key = None
    for line in text.splitlines():
        if line == "{":
            cur, key = {}, None
            continue
        if line == "}" and cur is not None:
            out.append(cur)
            cur = None
            continue
        if cur is None:
            continue
        m = re.match(r"^\t([a-z_ ]+): ?(.*)$", line)
        if m:
            key = m.group(1)
            cur[key] = m.group(2)
        elif key is not None:
            cur[key] += "\n" + line
    for n in out:
        for k, v in list(n.items()):
            if len(v) >= 2 and v[0] == "'" and v[-1] == "'":
                n[k] = v[1:-1]
        n["id"] = int(n.get("id", "0"))
        n["actions"] = dict(re.findall(r'"([^"]*)": "([^"]*)"',
                                       n.get("actions", "")))
    return out


class Desktop:
    """Xvfb + a private session bus + dunst, in DIRECTORY."""

    def __init__(self, directory):
        require_desktop()
        self.dir = str(directory)
        self.procs = []
        self.display = None
        self.bus = None
        self.dunst = None
        self.dunst_log = os.path.join(self.dir, "dunst.log")
        self.busdir = None

    def env(self):
        env = dict(os.environ)
        for k in ("WAYLAND_DISPLAY", "XAUTHORITY", "DBUS_SESSION_BUS_PID"):
            env.pop(k, None)
        env["DISPLAY"] = self.display
        env["DBUS_SESSION_BUS_ADDRESS"] = self.bus
        return env

    def _spawn(self, argv, **kw):
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, **kw)
        self.procs.append(p)
        return p

    def start(self):
        # Xvfb writes the display number it chose to -displayfd.
        rfd, wfd = os.pipe()
        with open(os.path.join(self.dir, "xvfb.log"), "ab") as log:
            self._spawn(["Xvfb", "-displayfd", str(wfd), "-screen", "0",
                         "1024x600x24", "-nolisten", "tcp", "-noreset"],
                        stdout=log, stderr=log, pass_fds=(wfd,))
        os.close(wfd)
        with os.fdopen(rfd) as r:
            number = r.readline().strip()
        assert number.isdigit(), "Xvfb did not say which display it took"
        self.display = f":{number}"

        # The bus socket where any account can reach it (pytest's own
        # directories are root's alone), for agents run as other users.
        self.busdir = tempfile.mkdtemp(prefix="rtowatch-bus-")
        os.chmod(self.busdir, 0o755)
        conf = os.path.join(self.dir, "bus.conf")
        with open(conf, "w", encoding="utf-8") as f:
            f.write(BUS_CONF.format(dir=self.busdir))
        bus = self._spawn(["dbus-daemon", "--config-file", conf, "--nofork",
                           "--print-address"], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL)
        self.bus = bus.stdout.readline().decode().strip()
        assert self.bus.startswith("unix:"), "dbus-daemon gave no address"

        self.start_dunst()
        return self

    def start_dunst(self):
        """Start the notification server (again)."""
        rc = os.path.join(self.dir, "dunstrc")
        with open(rc, "w", encoding="utf-8") as f:
            f.write(DUNSTRC)
        with open(self.dunst_log, "ab") as log:
            self.dunst = self._spawn(["dunst", "-config", rc, "-print"],
                                     env=self.env(), stdout=log,
                                     stderr=subprocess.STDOUT)
        wait_for(lambda: self._ctl("is-paused", check=False) == "false", 15,
                 f"dunst to own org.freedesktop.Notifications on "
                 f"{self.display}")

    def stop_dunst(self):
        """No notification server on the bus until start_dunst()."""
        self.dunst.terminate()
        self.dunst.wait(timeout=10)
        wait_for(lambda: self._ctl("is-paused", check=False) != "false",
                 10, "dunst to leave the bus")

    def _ctl(self, *args, check=True):
        p = subprocess.run(["dunstctl", *args], env=self.env(),
                           capture_output=True, text=True, timeout=15)
        if check:
            assert p.returncode == 0, \
                f"dunstctl {' '.join(args)}: exit {p.returncode}: {p.stderr}"
        return p.stdout.strip()

    def received(self):
        """Every notification dunst received, from its -print record:
        dicts with appname, summary, body, urgency, id, actions..."""
        with open(self.dunst_log, encoding="utf-8", errors="replace") as f:
            return _dunst_print_blocks(f.read())

    def from_app(self, app="rtowatch"):
        return [n for n in self.received() if n.get("appname") == app]

    def displayed(self):
        return int(self._ctl("count", "displayed"))

    def action(self, position=0):
        """`dunstctl action N`: dunst invokes the notification's only
        action (or its default one), as a click on it does."""
        self._ctl("action", str(position))

    def close_all(self):
        self._ctl("close-all")

    def history(self):
        """`dunstctl history` (JSON), as a list of plain dicts."""
        raw = json.loads(self._ctl("history"))
        rows = raw["data"][0] if raw.get("data") else []
        return [{k: v["data"] for k, v in row.items()} for row in rows]

    def screenshot(self, path):
        """The whole Xvfb screen as a PNG (ImageMagick's import)."""
        if shutil.which("import") is None:
            pytest.skip("no `import` (imagemagick) for the screenshot")
        subprocess.run(["import", "-display", self.display, "-window",
                        "root", path], check=True, timeout=30,
                       env=self.env())

    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
            if p.stdout:
                p.stdout.close()
        self.procs = []
        if self.busdir is not None:
            shutil.rmtree(self.busdir, ignore_errors=True)
            self.busdir = None


class RtowatchNotify:
    """bin/rtowatch-notify -d -s SOCKET in DESKTOP's session, with its own
    $XDG_STATE_HOME, its output in notify.log; run as the OS account USER
    when given (the state directory is then STATE_HOME, which that account
    must be able to write)."""

    def __init__(self, desktop, directory, socket_path, user=None,
                 state_home=None, slow_fsync_ms=None):
        self.desktop = desktop
        self.dir = str(directory)
        self.socket = socket_path
        self.user = user
        self.state_home = state_home or os.path.join(self.dir, "state")
        self.state_file = os.path.join(self.state_home, "rtowatch-notify",
                                       "last-event")
        self.log_path = os.path.join(self.dir, "notify.log")
        self.proc = None
        self.offset = 0
        self.preload = (slow_fsync(directory, slow_fsync_ms)
                        if slow_fsync_ms else None)

    def start(self):
        assert self.proc is None or self.proc.poll() is not None
        env = self.desktop.env()
        env["XDG_STATE_HOME"] = self.state_home
        env.pop("RTOWATCH_SOCKET", None)
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
        if self.preload is not None:
            env["LD_PRELOAD"] = self.preload[0]
            env["SLOWFSYNC_MS"] = str(self.preload[1])
            # The ASan build wants its runtime first; the shim has none.
            env["ASAN_OPTIONS"] = "verify_asan_link_order=0"
        kwargs = {}
        if self.user is not None:
            import pwd
            pw = pwd.getpwnam(self.user)
            kwargs = dict(user=pw.pw_uid, group=pw.pw_gid,
                          extra_groups=os.getgrouplist(self.user,
                                                       pw.pw_gid))
            env.update(HOME=pw.pw_dir, USER=self.user, LOGNAME=self.user)
        with open(self.log_path, "ab") as log:
            self.offset = log.tell()
            self.proc = subprocess.Popen(
                [binary("rtowatch-notify"), "-d", "-s", self.socket],
                env=env, cwd="/", stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, **kwargs)
        return self

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def run_log(self):
        return self.log()[self.offset:] if self.proc else ""

    def wait_log(self, text, timeout=20, what=None):
        def seen():
            assert self.proc.poll() is None, \
                f"rtowatch-notify exited {self.proc.returncode}:\n{self.log()}"
            return text in self.run_log()
        wait_for(seen, timeout, what or f"rtowatch-notify to log {text!r}")

    def last_event(self):
        try:
            with open(self.state_file, encoding="ascii") as f:
                return int(f.read().strip())
        except FileNotFoundError:
            return None

    @contextlib.contextmanager
    def logs_on_failure(self, *daemons):
        """A failure inside says what the agent logged, what dunst
        received and the end of DAEMONS' logs, so that a rare one can be
        understood from the test's report alone."""
        try:
            yield
        except (AssertionError, pytest.fail.Exception) as e:
            shown = [n.get("summary") for n in self.desktop.from_app()]
            # wait_for's own message has them already.
            tails = "\n".join(d.tail() for d in daemons
                               if d.log_path not in str(e))
            pytest.fail(f"{e}\n---- {self.log_path} (the agent; state "
                        f"file: {self.last_event()}):\n{self.log()}\n"
                        f"---- dunst received: {shown}\n{tails}")

    def stop(self):
        """SIGTERM; it must exit 0 with no sanitizer report."""
        assert self.proc.poll() is None, \
            f"rtowatch-notify exited {self.proc.returncode}:\n{self.log()}"
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=15)
        assert rc == 0, f"rtowatch-notify exited {rc} on SIGTERM:\n{self.log()}"
        self.check_sanitizers()

    def check_sanitizers(self):
        found = [l for l in self.log().splitlines()
                 if any(m in l for m in SANITIZER_MARKS)]
        assert not found, "rtowatch-notify: sanitizer report:\n" + self.log()

    def cleanup(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def slow_fsync(directory, ms):
    """slowfsync.c built in DIRECTORY: (the shim, MS), for an agent whose
    every fsync takes MS milliseconds, as on a busy disk."""
    cc = shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler to build the slow-disk shim "
                    "(tests/e2e/slowfsync.c)")
    so = os.path.join(str(directory), "slowfsync.so")
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                       "slowfsync.c")
    p = subprocess.run([cc, "-shared", "-fPIC", "-O2", "-o", so, src,
                        "-ldl"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, f"building {src}: {p.stderr}"
    return so, ms


@pytest.fixture
def desktop(tmp_path):
    d = Desktop(tmp_path)
    try:
        d.start()
        yield d
    finally:
        d.stop()


def wait_shown(desktop, *words, timeout=20, what=None):
    """Wait until dunst has received a notification of rtowatch whose
    summary holds every one of WORDS; return it."""
    def found():
        for n in desktop.from_app():
            if all(w in n.get("summary", "") for w in words):
                return n
        return None
    return wait_for(found, timeout, what or (
        f"a notification whose summary holds {words!r}"))


def shown_with(desktop, *words):
    """The notifications of rtowatch whose summary holds all of WORDS."""
    return [n for n in desktop.from_app()
            if all(w in n.get("summary", "") for w in words)]
