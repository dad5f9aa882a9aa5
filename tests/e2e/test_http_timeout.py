"""An HTTP(S) service that stops in the middle: a timeout that says where.

The probe's timeout (300ms) is probe.c's: curl's own comes later, and the
cause names the step the clock caught, from curl's phase times:

  a server that reads the request and never answers
      -> "connected in N ms, but no response within 300ms"
  a port that accepts (the kernel's backlog) but never speaks TLS
      -> "connected, but the TLS handshake did not end within 300ms"
  a server that sends its headers and part of the body, then stalls
      -> "the response began after N ms but did not end within 300ms"

(A handshake nobody answers is test_tcp_http_netns.py's firewall drop.)
"""
import re
import socket
import threading

from conftest import rules_file, start_daemon, wait_for, wait_incident
from http_target import (  # noqa: F401
    http_client, http_system, http_targets)


def test_http_timeout(scenario, http_targets):
    slow = http_targets()
    slow.set(delay=30)
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, http_system("slow", slow.url(),
                                               timeout="300ms")))
    start_daemon(d)
    inc = wait_incident(d.db, "slow")
    assert re.search(r": timeout: connected in \d+ ms, but no response "
                     r"within 300ms$", inc["cause"]), inc["cause"]
    # The request did reach the server: it was the answer that was late.
    wait_for(lambda: slow.requests, 5, "the request at the server")
    d.stop()


def test_https_and_partial_answer_timeouts(scenario, http_client):
    # Listening, never accepting: the kernel completes the handshake, and
    # the ClientHello waits in the queue unread.
    mute = socket.socket()
    mute.bind(("127.0.0.1", 0))
    mute.listen(64)
    # Headers and 10 of the 100 bytes promised, then nothing.
    partial = socket.socket()
    partial.bind(("127.0.0.1", 0))
    partial.listen(64)
    stop = threading.Event()
    held = []

    def serve():
        partial.settimeout(0.2)
        while not stop.is_set():
            try:
                c, _ = partial.accept()
            except OSError:
                continue
            held.append(c)
            c.settimeout(2)
            try:
                c.recv(4096)
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
                          b"0123456789")
            except OSError:
                pass

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        d = scenario.daemon()
        d.write_rules(rules_file(
            d.db,
            http_system("tls", f"https://127.0.0.1:{mute.getsockname()[1]}/",
                        timeout="300ms"),
            http_system("partial",
                        f"http://127.0.0.1:{partial.getsockname()[1]}/",
                        timeout="300ms")))
        start_daemon(d)
        tls = wait_incident(d.db, "tls")["cause"]
        assert re.search(r": timeout: connected, but the TLS "
                         r"handshake did not end within 300ms$", tls), tls
        part = wait_incident(d.db, "partial")["cause"]
        assert re.search(r": timeout: the response began after \d+ ms but "
                         r"did not end within 300ms$", part), part
        d.stop()
    finally:
        stop.set()
        t.join(5)
        for c in held:
            c.close()
        mute.close()
        partial.close()
