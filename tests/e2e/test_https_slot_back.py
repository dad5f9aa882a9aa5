"""A probe that lent its https slot takes one back before its TLS (issue 20).

An https probe whose TCP handshake goes unanswered for 1 s lends its
slot (`set https-concurrency`) to a probe waiting for one: it holds only
a socket.  When its SYN, retransmitted, is answered later (a server whose
accept queue was full starts accepting again), it used to run its TLS
handshake at once without a slot, so the handshakes in flight, and
OpenSSL's 31 kB each, went over the cap: 134 of 128 were seen on a
loaded host.  Now it asks for a slot again, and waits for one, first in
line, before it sends its ClientHello.

A real TLS server on loopback listens with a full queue (listen(0) and
one connection never accepted: the kernel drops every SYN after it),
until the test opens it; from then on it accepts and answers after 2 s,
and counts the clients that have begun their TLS handshake (their
ClientHello arrived) and not yet had their answer.  What a user would
notice: with `set https-concurrency 2` and eight checks, the server never
sees more than two handshakes at once (on the code before, the lent
probes that connect together all handshake: 3 or more), and the probes
that lent their slot and connected late still end "ok" after waiting
for one (their time includes the retransmitted SYN's second).
"""
import re
import select
import socket
import ssl
import threading
import time

from conftest import rules_file, start_daemon, wait_for
from http_target import CertAuthority, http_system
from test_https_concurrency import metric
from test_metrics import scrape_socket

OK_RE = re.compile(r": http https://\S+: ok in (\d+) ms$")


class QueueFullServer:
    """A TLS server on 127.0.0.1 that drops every SYN until open()."""

    def __init__(self, cert, key, delay):
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.delay = delay
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(0)
        self.port = self.sock.getsockname()[1]
        # Fills the queue of one: the kernel drops the SYNs after it.
        self.filler = socket.create_connection(("127.0.0.1", self.port))
        self.lock = threading.Lock()
        self.active = 0         # ClientHello arrived, no answer yet
        self.peak = 0
        self.opened = threading.Event()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"https://127.0.0.1:{self.port}{path}"

    def open(self):
        self.opened.set()
        self.filler.close()

    def close(self):
        self.done.set()
        self.opened.set()
        self.thread.join(timeout=5)
        self.sock.close()
        self.filler.close()

    def _accept(self):
        self.opened.wait()
        self.sock.settimeout(0.1)
        while not self.done.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,),
                             daemon=True).start()

    def _serve(self, conn):
        counted = False
        try:
            conn.settimeout(20)
            # A client that waits for a slot is connected but silent.
            if not conn.recv(1, socket.MSG_PEEK):
                return
            with self.lock:
                self.active += 1
                counted = True
                self.peak = max(self.peak, self.active)
            tls = self.context.wrap_socket(conn, server_side=True)
            req = b""
            while b"\r\n\r\n" not in req:
                chunk = tls.recv(4096)
                if not chunk:
                    return
                req += chunk
            # A client that hangs up meanwhile (its timeout) no longer
            # holds a slot: it stops counting then, not at the answer.
            end = time.monotonic() + self.delay
            while (left := end - time.monotonic()) > 0:
                if self.done.is_set() or select.select(
                        [tls], [], [], min(left, 0.1))[0]:
                    return
            with self.lock:     # before the answer: see HttpTarget
                self.active -= 1
                counted = False
            tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                        b"Connection: close\r\n\r\nok")
            tls.close()
        except (OSError, ssl.SSLError):
            pass
        finally:
            if counted:
                with self.lock:
                    self.active -= 1
            conn.close()


def oks(d):
    return [int(m.group(1)) for m in
            (OK_RE.search(line) for line in d.run_log().splitlines()) if m]


def test_lent_slot_taken_back_before_tls(scenario, workdir):
    ca = CertAuthority(workdir)
    cert, key = ca.issue("web", 365)
    srv = QueueFullServer(cert, key, delay=2.0)
    try:
        d = scenario.daemon()
        d.write_rules(rules_file(d.db, *(
            http_system(f"web{i}", srv.url(f"/s{i}"),
                        f'ca-file "{ca.cert}"', every="8s",
                        timeout="7500ms", down_after=9)
            for i in range(8))).replace(
            "\n\n", "\nset https-concurrency 2\n\n", 1))
        start_daemon(d)
        # Two slots, each lent after 1 s of silence: most of the eight
        # probes are started and waiting on a retransmitted SYN.
        wait_for(lambda: metric(scrape_socket(d.sock),
                                "rtowatch_https_lent_total") >= 5, 15,
                 "five slots lent by probes whose SYN was dropped")
        srv.open()
        # A probe that lent its slot connects at its SYN's retransmission
        # (1 s or 3 s after its start), then waits for a slot and the
        # server's 2 s: over 3 s in all, where a fresh probe takes 2.
        wait_for(lambda: sum(ms >= 3000 for ms in oks(d)) >= 2, 30,
                 "two ok probes that lent their slot and connected late")
        assert srv.peak <= 2, (
            f"the server saw {srv.peak} TLS handshakes at once: probes "
            f"that lent their slot handshook over https-concurrency 2")
        text = scrape_socket(d.sock)
        assert metric(text, "rtowatch_https_running_peak") <= 2, text
        assert metric(text, "rtowatch_https_running") <= 2, text
        d.stop()
    finally:
        srv.close()
