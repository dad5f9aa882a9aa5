"""The desktop agent never busy-loops on a busy daemon.

A daemon whose long-poll clients are at their limit used to answer each
long poll at once with no event; rtowatch-notify asked again at once:
33,491 requests in 10 s, the daemon at 78 % CPU.  The daemon now answers
503 with Retry-After there, and the agent (1) counts a long poll answered
at once with nothing as a failure, backing off exponentially, and (2) on
429/503 waits at least what Retry-After says.

The daemon here is a small real HTTP server on a Unix socket that answers
as a busy daemon does, counting the requests it gets.
"""
import json
import os
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler

from conftest import wait_for
from desktop import RtowatchNotify, desktop

assert desktop  # the fixture, imported for pytest


class Busy(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, path):
        self.mode = "empty"
        self.times = []
        self.lock = threading.Lock()
        super().__init__(path, Handler)

    def count(self, since):
        with self.lock:
            return [t for t in self.times if t >= since]


class Handler(BaseHTTPRequestHandler):
    def address_string(self):
        return "local"

    def log_message(self, *args):
        pass

    def do_GET(self):
        srv = self.server
        with srv.lock:
            srv.times.append(time.monotonic())
            mode = srv.mode
        if mode == "busy":
            body = json.dumps({"error": "busy"}).encode()
            self.send_response(503)
            self.send_header("Retry-After", "3")
        else:
            # The old answer at the cap: at once, nothing, 200.
            body = json.dumps({"events": [], "last": 5}).encode()
            self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)


def test_agent_backs_off(scenario, desktop):
    path = os.path.join(scenario.dir, "busy.sock")
    srv = Busy(path)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    agent = RtowatchNotify(desktop, scenario.dir, path).start()
    try:
        # Empty answers at once.
        t0 = time.monotonic()
        wait_for(lambda: len(srv.count(t0)) >= 1, 20, "a request")
        time.sleep(8)
        n_empty = len(srv.count(t0))
        assert n_empty <= 25, (f"{n_empty} requests in "
                               f"{time.monotonic() - t0:.1f} s")
        assert "answered the long poll at once" in agent.run_log()
        agent.stop()
        # 503 with Retry-After: 3, to an agent started afresh (its own
        # backoff would begin at half a second).
        with srv.lock:
            srv.mode = "busy"
        t1 = time.monotonic()
        agent.start()
        # It keeps asking, each time after the Retry-After it was given
        # (polled, not slept on: an agent slowed by a loaded machine
        # asks later, never sooner).
        wait_for(lambda: len(srv.count(t1)) >= 3, 30,
                 "three requests answered 503")
        busy = srv.count(t1)
        print(f"requests: {n_empty} answered at once in "
              f"{t1 - t0:.1f} s, {len(busy)} answered 503 in "
              f"{busy[-1] - busy[0]:.1f} s")
        gaps = [b - a for a, b in zip(busy, busy[1:])]
        assert all(g >= 2.9 for g in gaps), gaps
        assert "HTTP 503" in agent.run_log()
        agent.stop()
    finally:
        agent.cleanup()
        srv.shutdown()
        srv.server_close()
