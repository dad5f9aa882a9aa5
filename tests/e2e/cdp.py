"""Headless Chromium driven over the DevTools protocol, with a small
WebSocket client of its own (RFC 6455, text frames only): no module
outside Python's standard library.  Used by the web page scenarios to
load a page, read its DOM, record every request the page makes and take
screenshots."""
import base64
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import time
import urllib.request

import pytest


class WebSocket:
    def __init__(self, url, timeout=30):
        m = re.match(r"ws://([^/:]+):(\d+)(/.*)", url)
        host, port, path = m.group(1), int(m.group(2)), m.group(3)
        self.sock = socket.create_connection((host, port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            assert chunk, "DevTools closed the WebSocket handshake"
            head += chunk
        assert b" 101 " in head.split(b"\r\n")[0], head

    def _exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            assert chunk, "DevTools closed the WebSocket"
            buf += chunk
        return buf

    def send(self, text):
        data = text.encode()
        mask = os.urandom(4)
        n = len(data)
        if n < 126:
            head = struct.pack("!BB", 0x81, 0x80 | n)
        elif n < 65536:
            head = struct.pack("!BBH", 0x81, 0x80 | 126, n)
        else:
            head = struct.pack("!BBQ", 0x81, 0x80 | 127, n)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.sock.sendall(head + mask + body)

    def recv(self):
        parts = []
        while True:
            b0, b1 = self._exact(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._exact(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._exact(8))[0]
            payload = self._exact(n)
            if b0 & 0x0F == 0x9:        # ping: answer, go on
                continue
            parts.append(payload)
            if b0 & 0x80:
                return b"".join(parts).decode("utf-8", "replace")

    def close(self):
        self.sock.close()


class Browser:
    """One headless Chromium with one page; every request it makes is
    kept in .requests (URL strings)."""

    def __init__(self, workdir, width=1280, height=900, extra=()):
        exe = shutil.which("chromium")
        if exe is None:
            pytest.skip("chromium is not installed (make check installs "
                        "it)")
        self.dir = os.path.join(str(workdir), "chromium")
        os.makedirs(self.dir, exist_ok=True)
        self.proc = subprocess.Popen(
            [exe, "--headless", "--no-sandbox", "--disable-gpu",
             "--no-first-run", "--no-default-browser-check",
             "--disable-background-networking", "--disable-sync",
             "--disable-component-update", "--disable-extensions",
             f"--user-data-dir={self.dir}/profile",
             # Every name but 127.0.0.1 resolves to nothing: nothing leaves
             # the host.
             "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
             f"--window-size={width},{height}",
             "--remote-debugging-port=0", *extra, "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env=dict(os.environ, HOME=self.dir))
        port = None
        deadline = time.monotonic() + 30
        for line in self.proc.stderr:
            m = re.search(rb"DevTools listening on ws://[^:]+:(\d+)/", line)
            if m:
                port = int(m.group(1))
                break
            assert time.monotonic() < deadline, "chromium did not start"
        assert port, "chromium printed no DevTools address"
        self.port = port
        pages = json.load(urllib.request.urlopen(
            f"http://127.0.0.1:{port}/json/list", timeout=10))
        page = next(p for p in pages if p["type"] == "page")
        self.ws = WebSocket(page["webSocketDebuggerUrl"])
        self.next_id = 0
        self.requests = []
        self.events = []
        self.call("Page.enable")
        self.call("Network.enable")
        self.call("Runtime.enable")

    def _handle(self, msg):
        if msg.get("method") == "Network.requestWillBeSent":
            self.requests.append(msg["params"]["request"]["url"])
        elif "method" in msg:
            self.events.append(msg)

    def call(self, method, **params):
        self.next_id += 1
        mid = self.next_id
        self.ws.send(json.dumps({"id": mid, "method": method,
                                 "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == mid:
                assert "error" not in msg, f"{method}: {msg['error']}"
                return msg.get("result", {})
            self._handle(msg)

    def pump(self, seconds):
        """Read events for SECONDS (requests the page makes meanwhile)."""
        self.ws.sock.settimeout(seconds)
        try:
            while True:
                self._handle(json.loads(self.ws.recv()))
        except (socket.timeout, TimeoutError):
            pass
        finally:
            self.ws.sock.settimeout(30)

    def load(self, url, timeout=20):
        self.events = []
        self.call("Page.navigate", url=url)
        self.wait_load(url, timeout)

    def submit(self, expr, timeout=20):
        """Run EXPR (a form's submit) and wait for the next page."""
        self.events = []
        self.js(expr)
        self.wait_load(expr, timeout)

    def wait_load(self, url, timeout):
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == "Page.loadEventFired"
                      for e in self.events):
            assert time.monotonic() < deadline, f"{url} did not load"
            self.ws.sock.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                self._handle(json.loads(self.ws.recv()))
            except (socket.timeout, TimeoutError):
                pass
        self.ws.sock.settimeout(30)

    def js(self, expr):
        r = self.call("Runtime.evaluate", expression=expr,
                      returnByValue=True)
        assert "exceptionDetails" not in r, r["exceptionDetails"]
        return r["result"].get("value")

    def dom(self):
        return self.js("document.documentElement.outerHTML")

    def screenshot(self, path):
        r = self.call("Page.captureScreenshot", format="png",
                      captureBeyondViewport=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["data"]))

    def close(self):
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
