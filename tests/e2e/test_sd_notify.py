"""Under systemd (Type=notify) the daemon says READY=1 once it can work.

systemd passes NOTIFY_SOCKET, a Unix datagram socket; the daemon must
send READY=1 there once its rules are loaded and its database is open, so
that units ordered after it find the database in place.  Here the test
plays systemd's part; like systemd it starts the daemon in /, and the
rules name the database relative to their own directory.
"""
import os
import socket
import tempfile
import time

from conftest import incidents, rules_file, system_rules, wait_for


def notify_socket_path(workdir):
    # sockaddr_un holds 107 bytes; fall back to a short directory.
    path = os.path.join(str(workdir), "notify.sock")
    if len(path) >= 100:
        path = os.path.join(tempfile.mkdtemp(prefix="rtowatch-"),
                            "notify.sock")
    return path


def test_ready_sent_once_rules_loaded_and_database_open(scenario):
    service = scenario.listener()
    d = scenario.daemon()
    # Relative: the database goes beside the rules file, wherever the
    # daemon's current directory is.
    d.write_rules(rules_file(os.path.basename(d.db),
                             system_rules("portal", service.port)))
    assert not os.path.exists(d.db)

    path = notify_socket_path(scenario.dir)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.setblocking(False)
    messages = []
    try:
        d.start(env={"NOTIFY_SOCKET": path})

        def ready():
            try:
                msg = sock.recv(4096).decode("utf-8", "replace")
            except BlockingIOError:
                return None
            # Look at the database the moment READY=1 arrives.
            messages.append((msg, os.path.exists(d.db)))
            return "READY=1" in msg.split("\n")
        wait_for(ready, 15, f"READY=1 on NOTIFY_SOCKET {path}")
    finally:
        sock.close()
        os.unlink(path)

    msg, db_existed = messages[-1]
    assert db_existed, (f"READY=1 sent before the database {d.db} "
                        f"existed; messages: {messages}")
    # Open means usable: the CLI reads it (empty so far).
    assert incidents(d.db) == []
    service.wait_accepted(2, what="the daemon probing after READY=1")
    d.stop()


class NotifyListener:
    """systemd's side of NOTIFY_SOCKET: a datagram socket that keeps every
    message with the time it arrived (monotonic seconds)."""

    def __init__(self, workdir):
        self.path = notify_socket_path(workdir)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.setblocking(False)
        self.messages = []

    def drain(self):
        while True:
            try:
                msg = self.sock.recv(4096).decode("utf-8", "replace")
            except BlockingIOError:
                return self.messages
            self.messages.append((time.monotonic(), msg.split("\n")))

    def times(self, line):
        return [t for t, lines in self.drain() if line in lines]

    def close(self):
        self.sock.close()
        os.unlink(self.path)


def test_watchdog_pings_from_the_loop_until_stopping(scenario):
    """With WATCHDOG_USEC (WatchdogSec= in the unit) the daemon pings at
    half the interval for as long as it runs, and says STOPPING=1 when it
    is told to stop; without it, it never pings."""
    service = scenario.listener()
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, system_rules("portal", service.port)))
    # Pings every 0.5 s; systemd would kill after 1 s without one.
    usec = 1_000_000
    notify = NotifyListener(scenario.dir)
    try:
        d.start(env={"NOTIFY_SOCKET": notify.path,
                     "WATCHDOG_USEC": str(usec)})
        wait_for(lambda: notify.times("READY=1"), 15, "READY=1")
        ready = notify.times("READY=1")[0]
        # Six pings in a row: they keep coming, not one burst at start.
        wait_for(lambda: len(notify.times("WATCHDOG=1")) >= 6, 15,
                 "six WATCHDOG=1 pings")
        pings = notify.times("WATCHDOG=1")
        assert pings[0] >= ready, "WATCHDOG=1 before READY=1"
        gaps = [b - a for a, b in zip(pings, pings[1:])]
        # Never a gap that would make systemd restart a healthy daemon.
        assert max(gaps) < usec / 1e6, gaps
        assert not notify.times("STOPPING=1")
        d.stop()
        stopping = wait_for(lambda: notify.times("STOPPING=1"), 5,
                            "STOPPING=1 after SIGTERM")
        assert len(stopping) == 1, notify.messages
    finally:
        notify.close()
    assert "watchdog: pinging systemd every 0.500 s" in d.log()


def test_no_watchdog_pings_unless_asked(scenario):
    service = scenario.listener()
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, system_rules("portal", service.port)))
    notify = NotifyListener(scenario.dir)
    try:
        d.start(env={"NOTIFY_SOCKET": notify.path})
        wait_for(lambda: notify.times("READY=1"), 15, "READY=1")
        # Probing a few rounds (every 200 ms) leaves time for pings.
        service.wait_accepted(3, what="three probes after READY=1")
        d.stop()
        wait_for(lambda: notify.times("STOPPING=1"), 5,
                 "STOPPING=1 after SIGTERM")
        assert not notify.times("WATCHDOG=1"), notify.messages
    finally:
        notify.close()


class AbstractNotifyListener(NotifyListener):
    """The same on an abstract socket: NOTIFY_SOCKET "@name", as systemd
    gives to services in containers and the like."""

    # pylint: disable=super-init-not-called
    def __init__(self, name):
        self.path = "@" + name
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + name)
        self.sock.setblocking(False)
        self.messages = []

    def close(self):
        self.sock.close()


def test_abstract_socket_reload_status_and_a_watchdog_for_another_pid(
        scenario):
    """On an abstract NOTIFY_SOCKET the daemon says READY=1 with its
    STATUS=, RELOADING=1 then READY=1 around a reload (SIGHUP), and
    STOPPING=1; WATCHDOG_USEC meant for another process (WATCHDOG_PID
    not the daemon's) gets no pings, as sd_watchdog_enabled(3) says."""
    service = scenario.listener()
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, system_rules("portal", service.port)))
    notify = AbstractNotifyListener(f"rtowatch-test-{os.getpid()}-"
                                    f"{id(scenario)}")
    try:
        d.start(env={"NOTIFY_SOCKET": notify.path,
                     "WATCHDOG_USEC": "400000",
                     "WATCHDOG_PID": str(os.getpid())})
        wait_for(lambda: notify.times("READY=1"), 15,
                 f"READY=1 on the abstract socket {notify.path}")
        first = [lines for _, lines in notify.messages
                 if "READY=1" in lines][0]
        assert "STATUS=watching 1 systems" in first, notify.messages
        d.hup()
        wait_for(lambda: len(notify.times("READY=1")) >= 2, 15,
                 "READY=1 again after the reload")
        reloading = notify.times("RELOADING=1")
        assert len(reloading) == 1, notify.messages
        assert notify.times("READY=1")[1] >= reloading[0]
        # Four probes (every 200 ms) after the reload: time for pings
        # every 200 ms, had the daemon taken the watchdog as its own.
        service.wait_accepted(4, what="probes after the reload")
        d.stop()
        wait_for(lambda: notify.times("STOPPING=1"), 5,
                 "STOPPING=1 after SIGTERM")
        assert not notify.times("WATCHDOG=1"), notify.messages
    finally:
        notify.close()
    assert "watchdog: pinging" not in d.log()
