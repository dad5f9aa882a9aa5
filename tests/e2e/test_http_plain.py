"""Plain http:// answers that are not Python's http.server, both ways.

A plain check without redirects runs on the daemon's loop (http_resp.c);
RTOWATCH_HTTP_CLIENT=curl sends it through libcurl as before.  Each way,
against a small real socket server on loopback:

  chunky   "100 Continue", then a chunked body with the text split across
           chunks: up, the text found
  named    a "Host" header of the rules': sent once, instead of the URL's
  garbled  a banner that is not HTTP: down, an "error" incident
  trickle  the answer in pieces that cut the status line and a 3,000-byte
           header line in the middle: up, the text found (the loop keeps
           only a cut line, in a buffer that grows to fit it)
"""
import socket
import threading
import time

import pytest

from conftest import incidents_of, rules_file, wait_for, wait_incident
from http_target import http_system

CHUNKY = (b"HTTP/1.1 100 Continue\r\n\r\n"
          b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
          b"6\r\n<html>\r\n4;ext=1\r\nWebm\r\n"
          b"3\r\nail\r\n7\r\n</html>\r\n0\r\n\r\n")
PLAIN = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
GARBLED = b"SSH-2.0-OpenSSH_9.2\r\n"
TRICKLE = [b"HTTP/1.1 2", b"00 OK\r\nX-Long: " + b"a" * 1500,
           b"a" * 1500 + b"\r\nContent-Le", b"ngth: 7\r\n\r\nWebm", b"ail"]


class RawServer:
    """Answers each connection by its request's path, and keeps the
    requests' header blocks."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.requests = []
        self.stopping = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def serve(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            with c:
                c.settimeout(2)
                data = b""
                try:
                    while b"\r\n\r\n" not in data and len(data) < 8192:
                        more = c.recv(4096)
                        if not more:
                            break
                        data += more
                except OSError:
                    continue
                self.requests.append(data)
                path = data.split(b" ", 2)[1] if b" " in data else b""
                answer = {b"/chunky": [CHUNKY], b"/garbled": [GARBLED],
                          b"/trickle": TRICKLE}.get(path, [PLAIN])
                # Each piece its own segment, read by its own recv().
                c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                try:
                    for i, piece in enumerate(answer):
                        if i > 0:
                            time.sleep(0.02)
                        c.sendall(piece)
                except OSError:
                    pass

    def close(self):
        self.stopping = True
        self.thread.join(5)
        self.sock.close()


@pytest.mark.parametrize("client", ["loop", "curl"])
def test_http_plain_chunked_host_garbled(scenario, client):
    srv = RawServer()
    try:
        d = scenario.daemon()
        d.write_rules(rules_file(
            d.db,
            http_system("chunky", srv.url("/chunky"),
                        'status 200 contains "Webmail"'),
            http_system("named", srv.url("/named"),
                        'header "Host: portal.example.edu"'),
            http_system("garbled", srv.url("/garbled")),
            http_system("trickle", srv.url("/trickle"),
                        'status 200 contains "Webmail"')))
        d.start(env={"RTOWATCH_HTTP_CLIENT": client})
        wait_for(lambda: " started: rules " in d.run_log(), 20,
                 "the daemon to start")

        def ok(path):
            return [l for l in d.run_log().splitlines()
                    if srv.url(path) in l and ": ok in " in l]
        for path in ("/chunky", "/named", "/trickle"):
            wait_for(lambda: len(ok(path)) >= 3, 20,
                     f"three ok probes of {path}")
        inc = wait_incident(d.db, "garbled")
        assert ": error: " in inc["cause"], inc["cause"]
        assert incidents_of(d.db, "chunky") == []
        assert incidents_of(d.db, "named") == []
        assert incidents_of(d.db, "trickle") == []

        named = [r for r in srv.requests if r.startswith(b"GET /named ")]
        assert named, srv.requests
        for r in named:
            hosts = [l for l in r.split(b"\r\n")
                     if l.lower().startswith(b"host:")]
            assert hosts == [b"Host: portal.example.edu"], r
        d.stop()
    finally:
        srv.close()
