"""The control socket's limits, seen by a caller with a role (root):

- a request trickled in one byte a second is cut 5 s after its
  connection was accepted, however many bytes keep arriving (the idle
  timeout it replaced was pushed back by each byte);
- what evhttp refuses by itself (a request line it cannot parse, headers
  over its limit, a method it does not know) is answered in JSON like
  every other error, not with an HTML page;
- a maintenance window from the year 9999 is a caller's mistake (400),
  not a server error (500);
- one account holds at most 32 connections.
"""
import json
import socket
import time

from conftest import api, db_rows, rules_file, system_rules, wait_socket


def raw(sock, data, timeout=10):
    """Send DATA on a fresh connection; return (status, JSON body)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock)
    s.settimeout(timeout)
    try:
        try:
            if data:
                s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass    # refused before a byte was read: its answer is there
        reply = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            reply += chunk
    finally:
        s.close()
    head, _, body = reply.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    assert b"application/json" in head, reply
    return status, json.loads(body)


def test_control_limits(scenario):
    svc = scenario.listener()
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, system_rules("vpn", svc.port)))
    d.start()
    wait_socket(d.sock)

    # A trickle: one byte a second of a request that never ends.
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(d.sock)
    s.settimeout(1)
    t0 = time.monotonic()
    cut = None
    try:
        for b in b"GET /v1/status HTTP/1.1\r\nX-Slow: " + b"a" * 40:
            try:
                s.send(bytes([b]))
                if s.recv(4096) == b"":
                    cut = time.monotonic() - t0
                    break
            except socket.timeout:
                continue
            except OSError:
                cut = time.monotonic() - t0
                break
    finally:
        s.close()
    print(f"trickle cut after {cut} s")
    assert cut is not None, "a trickling request was never cut"
    assert 4 <= cut <= 8, cut

    # evhttp's own refusals, in JSON.
    status, body = raw(d.sock, b"NOT A REQUEST LINE\r\n\r\n")
    assert status == 400 and "malformed request" in body["error"], body
    status, body = raw(d.sock, b"GET /v1/status HTTP/1.1\r\nX-Big: " +
                       b"x" * 20000 + b"\r\n\r\n")
    assert status in (400, 413) and "error" in body, body
    status, body = raw(d.sock, b"OPTIONS /v1/status HTTP/1.1\r\n"
                       b"Host: x\r\n\r\n")
    assert status == 405 and "GET to read" in body["error"], body

    # The year 9999.
    for start in ("9999-12-31T23:00:00.000Z", "9999-12-31T23:59:59.999Z"):
        status, body = api(d.sock, "POST", "/v1/maintenance",
                           {"system": "vpn", "for": "2h", "from": start})
        assert status == 400, (start, status, body)
        assert "9999-12-31" in body["error"], body
    assert not db_rows(d.db, "SELECT id FROM maintenance")

    # One account holds at most 32 connections: the 33rd is refused at
    # once, in JSON, without a byte read.
    held = []
    try:
        for _ in range(32):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(d.sock)
            held.append(s)
        status, body = raw(d.sock, b"", timeout=3)
        assert status == 503, body
        assert "too many connections from this account" in body["error"]
    finally:
        for s in held:
            s.close()

    # Still serving.
    status, body = api(d.sock, "GET", "/v1/status")
    assert status == 200, body
    d.stop()
