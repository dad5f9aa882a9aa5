"""A TCP check that talks: send a text, expect one back, two clocks.

Real services on loopback, one per way a conversation goes:

  ssh      says "SSH-2.0-..." at once                 -> up, banner in status
  redis    answers "+PONG" to exactly "PING\\r\\n"       -> up
  busy     says "554 5.3.2 too busy" and hangs up     -> content mismatch
  mute     accepts and hangs up without a word        -> content mismatch
  chatty   sends 5,000 bytes without the text         -> content mismatch
  silent   accepts and says nothing                   -> timeout, read step
  full     a backlog that takes no more connections   -> timeout, handshake,
           once by connect-timeout, once by the check's own timeout

Each failure's incident cause names what the server said, or that it said
nothing, and which step the clock caught.  A second run under valgrind
reloads and stops while probes are mid-conversation: nothing leaks.
"""
import selectors
import socket
import threading

import pytest

from conftest import VALGRIND, require_valgrind
from conftest import (api, incidents_of, rules_file, start_daemon,
                      system_rules, wait_for, wait_incident)


class Talker:
    """A listener on 127.0.0.1 whose every connection runs BEHAVIOUR(conn)
    in its own thread; what each connection sent is kept in .heard."""

    def __init__(self, behaviour, backlog=64, accept=True):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(backlog)
        self.port = self.sock.getsockname()[1]
        self.behaviour = behaviour
        self.heard = []
        self.conns = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = None
        if accept:
            self.thread = threading.Thread(target=self._accept, daemon=True)
            self.thread.start()

    def _accept(self):
        sel = selectors.DefaultSelector()
        sel.register(self.sock, selectors.EVENT_READ)
        while not self.stopping.is_set():
            if not sel.select(0.1):
                continue
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.conns.append(conn)
            threading.Thread(target=self._talk, args=(conn,),
                             daemon=True).start()

    def _talk(self, conn):
        try:
            self.behaviour(self, conn)
        except OSError:
            pass

    def read_line(self, conn, timeout=2.0):
        conn.settimeout(timeout)
        data = b""
        while not data.endswith(b"\n"):
            chunk = conn.recv(100)
            if not chunk:
                break
            data += chunk
        with self.lock:
            self.heard.append(data)
        return data

    def close(self):
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(5)
        with self.lock:
            for c in self.conns:
                c.close()
        self.sock.close()


def ssh(t, conn):
    conn.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
    conn.settimeout(5)
    conn.recv(100)          # until the probe hangs up
    conn.close()


def redis(t, conn):
    if t.read_line(conn) == b"PING\r\n":
        conn.sendall(b"+PONG\r\n")
    else:
        conn.sendall(b"-ERR unknown command\r\n")
    conn.close()


def busy(t, conn):
    conn.sendall(b"554 5.3.2 too busy\r\n")
    conn.close()


def mute(t, conn):
    conn.close()


def chatty(t, conn):
    conn.sendall(b"x" * 5000)
    conn.settimeout(5)
    conn.recv(100)
    conn.close()


def silent(t, conn):
    t.stopping.wait(30)     # holds the connection open, says nothing


def system(name, port, options, every="400ms", timeout="300ms"):
    return system_rules(name, port, options=options, every=every,
                        timeout=timeout, down_after=2)


@pytest.fixture
def talkers():
    made = []

    def make(*args, **kw):
        t = Talker(*args, **kw)
        made.append(t)
        return t
    yield make
    for t in made:
        t.close()


def check_status(d, name):
    status, body = api(d.sock, "GET", "/v1/status")
    assert status == 200, body
    for s in body["systems"]:
        if s["name"] == name:
            return s["checks"][0]
    raise AssertionError(f"{name} not in the status: {body}")


def test_tcp_conversations(scenario, talkers):
    t = {name: talkers(fn) for name, fn in (
        ("ssh", ssh), ("redis", redis), ("busy", busy), ("mute", mute),
        ("chatty", chatty), ("silent", silent))}
    # A backlog of 0 that is never accepted: after the test's own two
    # connections fill it, the kernel drops further SYNs unanswered.
    full = talkers(None, backlog=0, accept=False)
    fillers = []
    for _ in range(2):
        c = socket.socket()
        c.setblocking(False)
        c.connect_ex(("127.0.0.1", full.port))
        fillers.append(c)

    d = scenario.daemon()
    d.write_rules(rules_file(
        d.db,
        # Those that answer get time to spare on a loaded machine.
        system("ssh", t["ssh"].port, 'expect "SSH-2.0-"', every="600ms",
               timeout="500ms"),
        system("redis", t["redis"].port,
               'send "PING\\r\\n" expect "+PONG"', every="600ms",
               timeout="500ms"),
        system("busy", t["busy"].port, 'expect "220"'),
        system("mute", t["mute"].port, 'expect "220"'),
        system("chatty", t["chatty"].port, 'expect "220"'),
        system("silent", t["silent"].port, 'expect "220"'),
        system("full-connect", full.port,
               "connect-timeout 150ms", every="1s", timeout="600ms"),
        system("full", full.port, "", every="1s", timeout="400ms")))
    start_daemon(d)
    try:
        cause = {name: wait_incident(d.db, name)["cause"] for name in (
            "busy", "mute", "chatty", "silent", "full-connect", "full")}
        # The cause is "CHECK: RESULT: DETAIL".
        assert cause["busy"] == (
            f'tcp 127.0.0.1 port {t["busy"].port} expect "220": '
            'content-mismatch: expected "220", the server said '
            '"554 5.3.2 too busy" and closed the connection'), cause["busy"]
        assert cause["mute"].endswith(
            ': content-mismatch: expected "220", the server closed the '
            "connection without a word"), cause["mute"]
        assert cause["chatty"].endswith(
            ': content-mismatch: expected "220" in the first 4096 bytes, '
            'the server said "' + "x" * 60 + '..."'), cause["chatty"]
        assert cause["silent"].endswith(
            ': timeout: connected, but no "220" within 300ms: the server '
            "said nothing"), cause["silent"]
        assert cause["full-connect"].endswith(
            ": timeout: no answer to the handshake within 150ms"), cause
        assert cause["full"].endswith(
            ": timeout: no answer to the handshake within 400ms"), cause

        # The two that answer as expected stay up, and say what they heard.
        wait_for(lambda: len(t["redis"].heard) >= 4, 15,
                 "four PINGs at the redis-like service")
        assert set(t["redis"].heard) == {b"PING\r\n"}, t["redis"].heard
        st = wait_for(lambda: (lambda c: c if c["result"] == "ok" else None)(
            check_status(d, "ssh")), 10, "an ok probe of ssh")
        assert st["detail"] == 'connected: "SSH-2.0-OpenSSH_9.2p1 Debian-2"', st
        assert 'expect "SSH-2.0-"' in st["check"], st
        st = check_status(d, "redis")
        assert st["result"] == "ok" and st["detail"] == 'connected: "+PONG"', st
        assert incidents_of(d.db, "ssh") == []
        assert incidents_of(d.db, "redis") == []
    finally:
        for c in fillers:
            c.close()
        d.stop()


def test_tcp_conversations_under_valgrind(scenario, talkers):
    require_valgrind()
    t = {name: talkers(fn) for name, fn in (
        ("ssh", ssh), ("redis", redis), ("busy", busy), ("silent", silent))}
    d = scenario.daemon()
    d.wrapper = list(VALGRIND)
    rules = [system("ssh", t["ssh"].port, 'expect "SSH-2.0-"'),
             system("redis", t["redis"].port,
                    'send "PING\\r\\n" expect "+PONG"'),
             system("busy", t["busy"].port, 'expect "220"'),
             system("silent", t["silent"].port, 'expect "220"',
                    every="1s", timeout="900ms")]
    d.write_rules(rules_file(d.db, *rules))
    d.start()
    wait_for(lambda: len(t["redis"].heard) >= 2, 30, "PINGs under valgrind")
    wait_incident(d.db, "busy", timeout=30)
    wait_incident(d.db, "silent", timeout=30)
    # Reload (one system fewer) with silent's probe holding its buffer.
    d.write_rules(rules_file(d.db, *rules[1:]))
    d.hup()
    wait_for(lambda: d.run_log().count("watching ") >= 2, 30,
             "the reloaded rules")
    wait_for(lambda: len(t["redis"].heard) >= 6, 30,
             "PINGs after the reload")
    d.stop()    # requires exit 0: valgrind would exit 99 on a leak
    assert "definitely lost" not in d.log(), d.tail(80)
