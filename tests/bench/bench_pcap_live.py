"""Live capture at a fixed offered rate: the kernel's drops, and how late
the availability probes start while the capture runs, against the same
probes without capture.

    /usr/bin/python3 tests/bench/bench_pcap_live.py   (as root)

Two network namespaces joined by a veth pair (198.18.0.0/30, the
benchmarking range; both removed at the end): in "tgt", 20 TCP listeners
and a UDP sender at BENCH_PPS packets a second (default 20000) towards
"mon" for BENCH_SECONDS (10); in "mon", rtowatchd with 20 systems checked
every 100 ms, run once with an anomaly block on its end of the veth pair
and once without.  Two SIGUSR1s around the window give the probes'
start lateness (p50, p99, max) and the capture's packet count; the
kernel's drops are the daemon's own "dropped" lines.  Nothing leaves the
namespaces.
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
POLICY = os.path.join(ROOT, "rules", "policy.conf")
PPS = int(os.environ.get("BENCH_PPS", "20000"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
NS = f"rtw-bench-{os.getpid()}"
MON, TGT = NS + "-m", NS + "-t"

LISTEN = """
import socket, time
socks = []
for p in range(20000, 20020):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("198.18.0.2", p)); s.listen(128); s.setblocking(False)
    socks.append(s)
while True:
    for s in socks:
        try:
            s.accept()[0].close()
        except BlockingIOError:
            pass
    time.sleep(0.005)
"""

SEND = """
import socket, sys, time
pps, secs = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
payload = b"x" * 64
start = time.monotonic()
n = 0
while True:
    now = time.monotonic() - start
    if now >= secs:
        break
    due = int(now * pps)
    while n < due:
        s.sendto(payload, ("198.18.0.1", 9 + n % 1000))
        n += 1
    time.sleep(0.001)
print(n)
"""


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


def setup():
    for ns in (MON, TGT):
        sh("ip", "netns", "add", ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
    sh("ip", "-n", MON, "link", "add", "rtw0", "type", "veth", "peer",
       "name", "rtw1", "netns", TGT)
    sh("ip", "-n", MON, "addr", "add", "198.18.0.1/30", "dev", "rtw0")
    sh("ip", "-n", TGT, "addr", "add", "198.18.0.2/30", "dev", "rtw1")
    sh("ip", "-n", MON, "link", "set", "rtw0", "up")
    sh("ip", "-n", TGT, "link", "set", "rtw1", "up")


def teardown():
    for ns in (TGT, MON):
        sh("ip", "netns", "del", ns, check=False)


def run(work, capture):
    db = os.path.join(work, f"live-{capture}.db")
    systems = "".join(
        f'system "s{i}" {{ core no; rto 1h; owner "bench"\n'
        f"  check tcp 198.18.0.2 port {20000 + i} every 100ms "
        f"timeout 50ms }}\n" for i in range(20))
    anomaly = ('anomaly "bench" interface "rtw0" {\n'
               "  packet-rate above 1M/s for 3s\n"
               "  syn-rate above 5000/s for 3s\n"
               "  udp-amplification-rate above 5000/s for 3s\n"
               "  distinct-ports-per-source above 2000 in 60s\n"
               "}\n") if capture else ""
    conf = os.path.join(work, f"live-{capture}.conf")
    with open(conf, "w") as f:
        f.write(f'set database "{db}"; include "{POLICY}"; '
                f'set socket "{db}.sock"\n{systems}{anomaly}')
    log = os.path.join(work, f"live-{capture}.log")
    with open(log, "w") as out:
        d = subprocess.Popen(["ip", "netns", "exec", MON,
                              os.path.join(ROOT, "bin", "rtowatchd"), "-d",
                              "-f", conf], stdout=out,
                             stderr=subprocess.STDOUT)
    time.sleep(2)               # start-up and the first probes
    d.send_signal(signal.SIGUSR1)
    sent = int(sh("ip", "netns", "exec", TGT, sys.executable, "-c", SEND,
                  str(PPS), str(SECONDS)).stdout)
    d.send_signal(signal.SIGUSR1)
    time.sleep(0.5)
    d.send_signal(signal.SIGTERM)
    d.wait(timeout=15)
    text = open(log).read()
    sched = re.findall(r"late p50 ([\d.]+) ms, p99 ([\d.]+) ms, max "
                       r"([\d.]+) ms", text)
    packets = re.findall(r"anomaly bench on rtw0: .*?, (\d+) packets", text)
    drops = sum(int(x) for x in re.findall(r"dropped (\d+) of", text))
    p50, p99, mx = sched[-1] if sched else ("?", "?", "?")
    return sent, packets[-1] if packets else "-", drops, p50, p99, mx


def main():
    if os.geteuid() != 0:
        sys.exit("bench_pcap_live.py needs root (network namespaces)")
    setup()
    listener = subprocess.Popen(["ip", "netns", "exec", TGT,
                                 sys.executable, "-c", LISTEN])
    try:
        with tempfile.TemporaryDirectory(prefix="rtw-bench-live-") as work:
            print(f"{PPS} UDP packets/s for {SECONDS}s over veth; 20 TCP "
                  f"checks every 100 ms")
            print(f"{'':16} {'sent':>8} {'captured':>9} {'dropped':>8} "
                  f"{'late p50':>9} {'p99':>7} {'max':>7}  (ms)")
            for capture in (False, True):
                sent, pk, drops, p50, p99, mx = run(work, capture)
                print(f"{'with capture' if capture else 'without':16} "
                      f"{sent:>8} {pk:>9} {drops:>8} {p50:>9} {p99:>7} "
                      f"{mx:>7}")
    finally:
        listener.kill()
        listener.wait()
        teardown()


if __name__ == "__main__":
    main()
