"""How long a shared register is without a leader after kill -9 (issue 21).

Run by hand, as root (the private PostgreSQL runs as nobody), with
Debian's /usr/bin/python3:

    /usr/bin/python3 tests/bench/bench_failover.py [KILLS]

Two rtowatchd nodes share a private PostgreSQL register (initdb in a
temporary directory, loopback only: tests/e2e/test_pg_store.py's server)
and watch one loopback service.  KILLS times (default 10, at most 50) the
node that leads is killed with -9; the time is taken from the kill until
the other node's control socket says it leads (polled every 20 ms).  The
killed node is started again and waits, a standby, for the next round.
It prints each time, then the median and the maximum.  Every wait is
bounded (15 s); a round that passes it fails the run.
"""
import os
import socket
import statistics
import sys
import tempfile
import shutil
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
os.environ.setdefault("RTOWATCH_BIN_DIR",
                      os.path.join(HERE, "..", "..", "bin"))
import conftest  # noqa: E402
from conftest import Daemon, api, socket_path, system_rules  # noqa: E402
from test_pg_store import Postgres  # noqa: E402

KILLS = min(int(sys.argv[1]) if len(sys.argv) > 1 else 10, 50)
WAIT = 15.0


def role(d):
    try:
        code, body = api(d.sock, "GET", "/v1/status")
    except Exception:       # not answering yet, or gone
        return None
    return body["node"]["role"] if code == 200 else None


def until(pred, what):
    end = time.monotonic() + WAIT
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.02)
    raise SystemExit(f"bench_failover: no {what} within {WAIT:g} s")


def main():
    if os.geteuid() != 0:
        raise SystemExit("bench_failover: run as root (PostgreSQL runs as "
                         "nobody)")
    work = tempfile.mkdtemp(prefix="rtowatch-failover-")
    pg = Postgres()
    service = socket.socket()
    service.bind(("127.0.0.1", 0))
    service.listen(64)
    port = service.getsockname()[1]
    nodes = []
    try:
        for name in ("a", "b"):
            d = Daemon(work, name)
            d.write_rules(f'set database "{pg.uri}"; include '
                          f'"{conftest.SCENARIO_POLICY}"; set socket '
                          f'"{socket_path(d.db)}"\nset node "{name}"\n'
                          + system_rules("svc", port, rto="1h"))
            d.start()
            nodes.append(d)
            until(lambda: role(d) in ("leader", "standby"),
                  f"answer from node {name}")
        times = []
        for i in range(KILLS):
            until(lambda: sorted(str(role(d)) for d in nodes) ==
                  ["leader", "standby"], "one leader and one standby")
            leader = next(d for d in nodes if role(d) == "leader")
            other = next(d for d in nodes if d is not leader)
            leader.kill9()
            t0 = time.monotonic()
            until(lambda: role(other) == "leader", "new leader")
            times.append(time.monotonic() - t0)
            print(f"kill {i + 1:2d}: node {other.name} leads after "
                  f"{times[-1]:.3f} s", flush=True)
            leader.start()
        print(f"failover over {len(times)} kills: median "
              f"{statistics.median(times):.3f} s, max {max(times):.3f} s, "
              f"min {min(times):.3f} s")
    finally:
        for d in nodes:
            if d.running:
                d.kill9()
        service.close()
        pg.stop()
        shutil.rmtree(pg.dir, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
