"""Real HTTP(S) servers and a test CA for the http check scenarios.

HttpTarget is Python's http.server on an ephemeral port of 127.0.0.1, in
a background thread, whose answer the test controls (status, body, a
delay before answering) and which records every request it got (method,
path, headers) and the most connections it served at once (peak).  With
a certificate it speaks TLS.  stop() closes the
listening socket but keeps the port bound, so connections are refused
and nothing else can take the port; start() listens on it again.

CertAuthority makes a certificate authority and the certificates it signs with
the openssl command line tool, in the scenario's own directory: a cert
for IP 127.0.0.1, valid for N days, or already expired (negative days).
"""
import datetime
import os
import shutil
import socket
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


def _reserve(port=0, host="127.0.0.1"):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    return s


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self._answer(with_body=True)

    def do_HEAD(self):
        self._answer(with_body=False)

    def _answer(self, with_body):
        t = self.server.target
        t._record(self.command, self.path, dict(self.headers.items()))
        status, body, delay = t.answer()
        if delay > 0 and t._release.wait(delay):
            return      # the test is over: drop the connection
        # Before the answer goes out: a client that has read it may
        # connect again at once, and must not be counted beside this one.
        t._leave()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    # socketserver's default backlog is 5: a burst of connections (two
    # hundred https checks due together, on a slow ASan build) would find
    # the queue full and their SYNs dropped, which no real web server
    # does at that rate (nginx listens with 511).
    request_queue_size = 512

    def finish_request(self, request, client_address):
        self.target._enter()
        try:
            self._finish_request(request, client_address)
        finally:
            self.target._leave()

    def _finish_request(self, request, client_address):
        # The TLS handshake runs in the request's own thread, so a client
        # that refuses our certificate does not stall the others.
        if self.target.context is not None:
            try:
                request = self.target.context.wrap_socket(
                    request, server_side=True)
            except (ssl.SSLError, OSError):
                self.target._count("handshake_failures")
                return
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):
        pass    # the probe hung up (a timeout): expected here


class HttpTarget:
    """A controllable HTTP server on 127.0.0.1; HTTPS when given CERT and
    KEY files."""

    def __init__(self, cert=None, key=None):
        self.context = None
        if cert is not None:
            self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.context.load_cert_chain(cert, key)
        self.scheme = "https" if cert is not None else "http"
        self._sock = _reserve()
        self.port = self._sock.getsockname()[1]
        self._lock = threading.Lock()
        self._requests = []
        self._counts = {}
        self._open = 0          # connections being served
        self._peak = 0
        self._conn = threading.local()  # a thread per connection
        self._status = 200
        self._body = b"<html><title>Webmail</title></html>\n"
        self._delay = 0.0
        self._release = threading.Event()
        self._server = None
        self._thread = None

    def url(self, path="/", host="127.0.0.1"):
        return f"{self.scheme}://{host}:{self.port}{path}"

    def __repr__(self):
        return f"HttpTarget({self.url()})"

    # -- what it answers

    def set(self, status=None, body=None, delay=None):
        with self._lock:
            if status is not None:
                self._status = status
            if body is not None:
                self._body = body if isinstance(body, bytes) else \
                    body.encode()
            if delay is not None:
                self._delay = delay

    def answer(self):
        with self._lock:
            return self._status, self._body, self._delay

    # -- what it saw

    def _record(self, method, path, headers):
        with self._lock:
            self._requests.append({"method": method, "path": path,
                                   "headers": headers})

    def _count(self, what):
        with self._lock:
            self._counts[what] = self._counts.get(what, 0) + 1

    def _enter(self):
        with self._lock:
            self._conn.open = True
            self._open += 1
            self._peak = max(self._peak, self._open)

    def _leave(self):
        with self._lock:
            if getattr(self._conn, "open", False):
                self._conn.open = False
                self._open -= 1

    @property
    def peak(self):
        """The most connections served at once, from the handshake to
        the answer."""
        with self._lock:
            return self._peak

    @property
    def requests(self):
        with self._lock:
            return list(self._requests)

    def count(self, what):
        with self._lock:
            return self._counts.get(what, 0)

    # -- its life

    @property
    def listening(self):
        return self._server is not None

    def start(self):
        assert not self.listening, f"{self} already listening"
        if self._sock is None:
            self._sock = _reserve(self.port)
        srv = _Server(("127.0.0.1", self.port), _Handler,
                      bind_and_activate=False)
        srv.socket.close()
        srv.socket = self._sock
        srv.target = self
        srv.server_activate()   # listen()
        self._sock = None
        self._server = srv
        self._thread = threading.Thread(target=srv.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name=f"http-{self.port}",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """From now on, connections to the port are refused."""
        assert self.listening, f"{self} is not listening"
        self._server.shutdown()
        self._thread.join(timeout=10)
        self._server.server_close()
        self._server = self._thread = None
        self._sock = _reserve(self.port)

    def close(self):
        self._release.set()
        if self.listening:
            self.stop()
        if self._sock is not None:
            self._sock.close()
            self._sock = None


class CertAuthority:
    """A CA made with the openssl tool in DIRECTORY, and the server
    certificates it signs."""

    def __init__(self, directory):
        self.openssl = shutil.which("openssl")
        if self.openssl is None:
            pytest.skip("the openssl tool is not installed (make check "
                        "installs it)")
        self.dir = str(directory)
        self.cert = os.path.join(self.dir, "ca.pem")
        self.key = os.path.join(self.dir, "ca.key")
        self._run("req", "-x509", "-newkey", "ec", "-pkeyopt",
                  "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                  self.key, "-out", self.cert, "-days", "3650",
                  "-subj", "/CN=rtowatch e2e test CA")

    def _run(self, *args):
        p = subprocess.run([self.openssl, *args], capture_output=True,
                           text=True, timeout=60, stdin=subprocess.DEVNULL)
        assert p.returncode == 0, f"openssl {' '.join(args)}:\n{p.stderr}"
        return p.stdout

    def issue(self, name, days, san="IP:127.0.0.1"):
        """A cert (and its key) for SAN, valid DAYS days from now; with
        negative DAYS it expired that many days ago."""
        key = os.path.join(self.dir, f"{name}.key")
        csr = os.path.join(self.dir, f"{name}.csr")
        cert = os.path.join(self.dir, f"{name}.pem")
        ext = os.path.join(self.dir, f"{name}.ext")
        with open(ext, "w", encoding="ascii") as f:
            f.write(f"subjectAltName={san}\n")
        self._run("req", "-newkey", "ec", "-pkeyopt",
                  "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
                  "-out", csr, "-subj", "/CN=127.0.0.1")
        self._run("x509", "-req", "-in", csr, "-CA", self.cert, "-CAkey",
                  self.key, "-CAcreateserial", "-out", cert, "-days",
                  str(days), "-extfile", ext)
        return cert, key

    def not_after(self, cert):
        """The cert's expiry as the daemon writes it: 2026-12-01T00:00:00Z."""
        out = self._run("x509", "-in", cert, "-noout", "-enddate").strip()
        when = datetime.datetime.strptime(out.split("=", 1)[1],
                                          "%b %d %H:%M:%S %Y %Z")
        return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def http_system(name, url, options="", every="400ms", timeout="300ms",
                down_after=2, up_after=2):
    """One system block with one http check of URL."""
    return (f'system "{name}" {{\n'
            f"    core no\n"
            f"    rto 1h\n"
            f'    owner "e2e tests"\n'
            f'    check http "{url}" {options} every {every} '
            f"timeout {timeout}\n"
            f"    down after {down_after} failures\n"
            f"    up after {up_after} successes\n"
            f"}}\n")


@pytest.fixture
def http_targets():
    """Make HttpTargets (started) that are closed after the test."""
    made = []

    def make(cert=None, key=None, started=True):
        t = HttpTarget(cert, key)
        made.append(t)
        return t.start() if started else t
    yield make
    for t in made:
        t.close()


@pytest.fixture(params=["loop", "curl"])
def http_client(request, monkeypatch):
    """The scenario runs twice: its daemons' http(s) checks on the loop's
    own client (https with OpenSSL, probes/tls_client.c), then through
    libcurl (RTOWATCH_HTTP_CLIENT=curl), which follow-redirects still
    uses.  Daemon.start() passes the environment on."""
    monkeypatch.setenv("RTOWATCH_HTTP_CLIENT", request.param)
    return request.param
