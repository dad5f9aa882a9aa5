"""A loopback TCP relay to the daemon's control socket, for Prometheus,
which scrapes over TCP only: each accepted connection is piped, both
ways, to a new connection on the Unix socket.  The daemon's own web
listener (set web listen) serves /metrics on TCP in its own right; the
relay keeps these tests about /metrics alone."""
import selectors
import socket
import threading


class UnixRelay:
    def __init__(self, unix_path):
        self.unix_path = unix_path
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = self._sock.getsockname()[1]
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True,
                                        name=f"relay-{self.port}")
        self._thread.start()

    def _pipe(self, a, b):
        sel = selectors.DefaultSelector()
        sel.register(a, selectors.EVENT_READ, b)
        sel.register(b, selectors.EVENT_READ, a)
        try:
            while not self._stop:
                for key, _ in sel.select(timeout=1):
                    data = key.fileobj.recv(65536)
                    if not data:
                        return
                    key.data.sendall(data)
        except OSError:
            pass
        finally:
            sel.close()
            a.close()
            b.close()

    def _serve(self):
        self._sock.settimeout(0.5)
        while not self._stop:
            try:
                conn, _ = self._sock.accept()
            except (socket.timeout, OSError):
                continue
            up = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                up.connect(self.unix_path)
            except OSError:
                conn.close()
                up.close()
                continue
            threading.Thread(target=self._pipe, args=(conn, up),
                             daemon=True).start()

    def close(self):
        self._stop = True
        self._thread.join(timeout=5)
        self._sock.close()
