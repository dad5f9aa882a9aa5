"""RSS of rtowatchd across /v1/status calls at many checks (issue 14).

    /usr/bin/python3 tests/bench/bench_status_rss.py [CHECKS] [CALLS]

Starts bin/rtowatchd (RTOWATCH_BIN_DIR to choose another build) with
CHECKS systems (default 10,000), each a tcp check every 10 s of one port
on 127.0.0.1 where nothing listens, waits SETTLE seconds (default 70: the
incidents open, the daemon reaches its steady state), then calls
/v1/status CALLS times (default 400) and prints the daemon's VmRSS after
the first three calls and every hundred.  With BENCH_TRIM=1 it then asks
glibc, through gdb, to give back what it keeps (malloc_trim(0)) and prints
how much that was: memory kept by the allocator comes back, a leak does
not.  Measured at 10,000 checks (2.9 MB replies): before the daemon
trimmed after big replies, the first call left RSS 26 MB higher, and
+90 kB after 400 more, which malloc_trim returned (24 MB); since, the
first call leaves +3.8 MB and 400 more +68 kB.
"""
import http.client
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


class C(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("rtowatch", timeout=120)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)


def status(sock):
    c = C(sock)
    c.request("GET", "/v1/status")
    body = c.getresponse().read()
    c.close()
    return len(body)


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    checks = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    calls = int(sys.argv[2]) if len(sys.argv) > 2 else 400
    settle = float(os.environ.get("SETTLE", "70"))
    bindir = os.environ.get("RTOWATCH_BIN_DIR", os.path.join(REPO, "bin"))
    work = tempfile.mkdtemp(prefix="rtw-rss-")
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    sock = os.path.join(work, "c.sock")
    rules = [f'set database "{work}/x.db"; include '
             f'"{REPO}/rules/policy.conf"; set socket "{sock}"\n']
    for i in range(checks):
        rules.append(f'system "s{i}" {{\n core no\n critical-infrastructure'
                     f' no\n rto 1h\n owner "bench"\n check tcp 127.0.0.1 '
                     f'port {port} every 10s timeout 1s\n down after 3 '
                     f'failures\n up after 2 successes\n}}\n')
    with open(os.path.join(work, "r.conf"), "w") as f:
        f.write("".join(rules))
    d = subprocess.Popen([os.path.join(bindir, "rtowatchd"), "-d", "-f",
                          os.path.join(work, "r.conf")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(settle)
        print(f"{checks} checks; before: RSS {rss(d.pid)} kB")
        for k in range(3):
            n = status(sock)
            print(f"call {k + 1}: {n} bytes, RSS {rss(d.pid)} kB")
        base = rss(d.pid)
        for k in range(3, calls + 3):
            status(sock)
            if (k - 2) % 100 == 0:
                print(f"after {k + 1} calls: RSS {rss(d.pid)} kB "
                      f"({rss(d.pid) - base:+d} kB)")
        if os.environ.get("BENCH_TRIM") == "1" and shutil.which("gdb"):
            r0 = rss(d.pid)
            subprocess.run(["gdb", "-p", str(d.pid), "-batch", "-ex",
                            "call (int)malloc_trim(0)"],
                           capture_output=True, check=False)
            print(f"malloc_trim(0) gave back {r0 - rss(d.pid)} kB")
    finally:
        d.terminate()
        d.wait(timeout=60)
        closed.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
