"""A webhook receiver for the scenarios: a real HTTP server on loopback
(http.server, in a thread of the test) that checks each request's
signature itself, as a receiver should: X-Rtowatch-Signature is
"sha256=" and the hex HMAC-SHA256, keyed with the shared secret, of
X-Rtowatch-Timestamp, '.', and the raw body; a timestamp more than five
minutes from the receiver's clock is refused (a replay).

Its answer is the test's to set: 200, any status (503, 404, 429), or
none at all (stop(): nothing listens on the port, start() again on the
same port); over TLS with a certificate of its own (tls_dir).  Every
request is kept, answered or not; `accepted()` are
those it answered 2xx, the ones rtowatchd should count as delivered.
"""
import hashlib
import hmac
import http.server
import json
import os
import socket
import ssl
import subprocess
import threading
import time

REPLAY_WINDOW = 300


class Request:
    def __init__(self, path, headers, body, status, signature_ok, why):
        self.path = path
        self.headers = headers
        self.body = body
        self.status = status
        self.signature_ok = signature_ok
        self.why = why          # why the signature failed, if it did
        self.at = time.monotonic()

    @property
    def json(self):
        return json.loads(self.body)

    @property
    def delivery(self):
        return self.headers.get("X-Rtowatch-Delivery")

    def __repr__(self):
        return (f"<{self.path} {self.status} {self.delivery} "
                f"sig={self.signature_ok} {self.body[:80]!r}>")


class WebhookServer:
    def __init__(self, secret=None, tls_dir=None):
        self.secret = secret
        self.cert = None
        if tls_dir is not None:
            self._make_cert(tls_dir)
        self.lock = threading.Lock()
        self.requests = []
        self.status = {}        # path -> status; default 200
        self.default_status = 200
        self.httpd = None
        self.thread = None
        # A port of our own, reserved while we are down.
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()

    def _make_cert(self, directory):
        """A self-signed certificate for 127.0.0.1 (openssl): the
        daemon trusts it only through the webhook's ca-file."""
        self.cert = os.path.join(str(directory), "hook-cert.pem")
        self.key = os.path.join(str(directory), "hook-key.pem")
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
             "-keyout", self.key, "-out", self.cert, "-days", "2",
             "-subj", "/CN=127.0.0.1", "-addext",
             "subjectAltName=IP:127.0.0.1"],
            check=True, capture_output=True, timeout=60)

    def url(self, path="/hook"):
        scheme = "https" if self.cert else "http"
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def verify(self, headers, body):
        if self.secret is None:
            return None, "no secret"
        sig = headers.get("X-Rtowatch-Signature")
        ts = headers.get("X-Rtowatch-Timestamp")
        if not sig or not ts:
            return False, "unsigned"
        if abs(time.time() - int(ts)) > REPLAY_WINDOW:
            return False, "timestamp outside the window"
        mac = hmac.new(self.secret, ts.encode() + b"." + body,
                       hashlib.sha256).hexdigest()
        if not hmac.compare_digest(sig, "sha256=" + mac):
            return False, "bad signature"
        return True, None

    def _handler(self):
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                ok, why = server.verify(self.headers, body)
                with server.lock:
                    status = server.status.get(self.path,
                                               server.default_status)
                    # A receiver that checks refuses a bad signature.
                    if ok is False:
                        status = 401
                    server.requests.append(Request(
                        self.path, dict(self.headers), body, status, ok,
                        why))
                reply = b"ok\n" if status < 300 else b"no\n"
                self.send_response(status)
                self.send_header("Content-Length", str(len(reply)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(reply)

        return Handler

    def start(self):
        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self.httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", self.port), self._handler())
        self.httpd.daemon_threads = True
        if self.cert:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(self.cert, self.key)
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket,
                                                server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()
        return self

    def stop(self):
        """Nothing listens on the port afterwards: connections are
        refused."""
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.thread.join(5)
            self.httpd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def answer(self, status, path=None):
        with self.lock:
            if path is None:
                self.default_status = status
            else:
                self.status[path] = status

    def all(self, path=None):
        with self.lock:
            return [r for r in self.requests
                    if path is None or r.path == path]

    def accepted(self, path=None):
        return [r for r in self.all(path) if 200 <= r.status < 300]
