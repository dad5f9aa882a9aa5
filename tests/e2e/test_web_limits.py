"""The web listener (set web listen) against clients that send too much.

A request line with a 1 MB query string, a request of two thousand
headers, and a POST /signin with a 1 MB body are each refused with a 4xx
before any page handler runs (evhttp's limits: 16 kB of request line and
headers, 4 kB of body); the daemon keeps answering the next client and
its log has no sanitizer report.  The slow client is not tested here: the
listener's timeout is 30 s and no rules setting shortens it.
"""
import http.client
import re
import socket

from conftest import rules_file, system_rules, wait_for, wait_socket


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def public(port):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("GET", "/public")
        r = c.getresponse()
        r.read()
        c.close()
        return r.status
    except OSError:
        return None


def send_raw(port, data):
    """DATA on a fresh connection; what came back before the listener
    closed it (the listener may close while DATA is still being sent)."""
    got = b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
        except ConnectionResetError:
            pass
    return got


def status_of(reply):
    m = re.match(rb"HTTP/1\.[01] (\d{3}) ", reply)
    assert m, f"no HTTP reply: {reply[:200]!r}"
    return int(m.group(1))


def start(scenario):
    port = free_port()
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, f"set web listen 127.0.0.1:{port}\n",
                             'set web public "wifi"\n',
                             system_rules("wifi", scenario.closed_port())))
    d.start()
    wait_socket(d.sock)
    wait_for(lambda: public(port) == 200, 10, "the public page")
    return d, port


def test_web_refuses_what_is_too_large(scenario):
    d, port = start(scenario)

    query = b"a=" + b"x" * (1024 * 1024)
    reply = send_raw(port, b"GET /public?" + query + b" HTTP/1.1\r\n"
                     b"Host: 127.0.0.1\r\nConnection: close\r\n\r\n")
    status = status_of(reply)
    assert 400 <= status < 500, reply[:300]
    assert public(port) == 200

    headers = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 16)
                       for i in range(2000))
    reply = send_raw(port, b"GET /public HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     + headers + b"Connection: close\r\n\r\n")
    status = status_of(reply)
    assert 400 <= status < 500, reply[:300]
    assert public(port) == 200

    body = b"user=root&password=" + b"p" * (1024 * 1024)
    reply = send_raw(port, b"POST /signin HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/x-www-form-urlencoded\r\n"
                     b"Content-Length: %d\r\nConnection: close\r\n\r\n"
                     % len(body) + body)
    assert status_of(reply) == 413, reply[:300]
    assert public(port) == 200
    d.stop()
