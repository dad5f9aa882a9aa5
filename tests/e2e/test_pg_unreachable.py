"""The PostgreSQL register's host becomes unreachable (issue 21): the
daemon keeps probing on time, holds its changes in order, and writes them
once the host answers again.

Unreachable, not down: a server that is down refuses a connection at
once, but packets to a host that is cut off are lost, and a client that
waits for an answer waits until TCP gives up (minutes for a statement,
connect_timeout for a connection).  So the server runs in a network
namespace of its own ("tgt", 198.18.0.2, pinglib.NetPair) and the daemon
in another ("mon"), and the cut is an iptables DROP of the server's port
in "tgt".  The daemon's probe start lateness (its SIGUSR1 schedule line)
while the host is cut off must stay that of a loop that never waits on
the register: a statement sent just before the cut waits
STORE_PG_REPLY_MS (1 s) once, after that every reconnection runs on the
loop's events.
"""
import re
import subprocess

import pytest

from conftest import (SCENARIO_POLICY, cli, incidents_of, socket_path,
                      system_rules, wait_for)
from pglib import Postgres, pg_missing
from pinglib import TGT_ADDR, netpair  # noqa: F401 (a fixture)

SYSTEM = "registry"
SERVICE_PORT = 7001
WITNESS_PORT = 7002
REPLY_MS = 1000          # daemon/store_pg.c STORE_PG_REPLY_MS
CUT_S = 6                # seconds of probing with the host cut off

_SCHEDULE = re.compile(r"schedule: (\d+) probes started, (\d+) skipped "
                       r"\(running\), (\d+) skipped \(loop late\); late "
                       r"p50 ([\d.]+) ms, p99 ([\d.]+) ms, max ([\d.]+) ms")

# A TCP service on 127.0.0.1 inside a namespace: accepts and closes.
_SERVE = r"""
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
print("ready", flush=True)
while True:
    c, _ = s.accept()
    c.close()
"""


class NsService:
    """A service the daemon in namespace NS probes; stop() makes its
    port refuse connections."""

    def __init__(self, ns, port):
        self.ns, self.port, self.proc = ns, port, None

    def start(self):
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, "/usr/bin/python3", "-c",
             _SERVE, str(self.port)], stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "ready"
        return self

    def stop(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc.stdout.close()
        self.proc = None


def schedule(d):
    """SIGUSR1: the daemon logs, and clears, its probe starts since the
    last one: (started, skipped, p99 ms, max ms)."""
    import signal
    before = d.log().count("schedule:")
    d.proc.send_signal(signal.SIGUSR1)
    wait_for(lambda: d.log().count("schedule:") > before, 10,
             "the schedule line after SIGUSR1")
    m = _SCHEDULE.findall(d.log())[-1]
    return int(m[0]), int(m[1]) + int(m[2]), float(m[4]), float(m[5])


def probes(d, port):
    return d.run_log().count(f"port {port}: ")


@pytest.fixture
def pg_in_tgt(netpair):  # noqa: F811 (pytest's fixture argument)
    why = pg_missing()
    if why:
        pytest.skip(why)
    server = Postgres(netns=netpair.tgt, listen=TGT_ADDR)
    yield server
    server.close()


def test_pg_host_unreachable_probes_stay_on_time(scenario, netpair,  # noqa: F811
                                                 pg_in_tgt):
    pg = pg_in_tgt
    service = NsService(netpair.mon, SERVICE_PORT).start()
    witness = NsService(netpair.mon, WITNESS_PORT).start()
    cut = ["ip", "netns", "exec", netpair.tgt, "iptables", "-A", "INPUT",
           "-p", "tcp", "--dport", str(pg.port), "-j", "DROP"]
    try:
        d = netpair.in_mon(scenario.daemon())
        d.write_rules(
            f'set database "{pg.uri}"; include "{SCENARIO_POLICY}"; '
            f'set socket "{socket_path(d.db)}"\n\n'
            + system_rules(SYSTEM, SERVICE_PORT, core=True, rto="1h",
                           down_after=3, up_after=2)
            + system_rules("witness", WITNESS_PORT, rto="1h"))
        d.start()
        wait_for(lambda: probes(d, WITNESS_PORT) >= 5, 20,
                 "the daemon probing, its register in PostgreSQL")
        schedule(d)                 # counts from here

        subprocess.run(cut, check=True, timeout=10)
        service.stop()              # an outage to record: held
        wait_for(lambda: "refuses writes" in d.run_log(), 10,
                 "the daemon giving up on the cut-off server and holding "
                 "its changes")
        assert "no answer from" in d.run_log(), d.tail()
        _, _, _, first_max = schedule(d)
        # One statement was in flight at the cut: it waited, once.
        assert first_max < REPLY_MS + 500, \
            f"a probe started {first_max} ms late when the host was cut off"

        # Cut off: the service comes back and fails again, all held,
        # while the daemon tries to connect again and again.
        seen = probes(d, WITNESS_PORT)
        wait_for(lambda: probes(d, WITNESS_PORT) >= seen + CUT_S * 5 // 2,
                 CUT_S, "probe rounds with the register cut off")
        service.start()
        wait_for(lambda: f"{SYSTEM} back at" in d.run_log(), 10,
                 f"{SYSTEM} restored, in memory")
        wait_for(lambda: probes(d, WITNESS_PORT) >= seen + CUT_S * 5, CUT_S,
                 "more probe rounds with the register cut off")
        started, skipped, p99, worst = schedule(d)
        assert "accepts writes again" not in d.run_log(), d.tail()
        assert started >= CUT_S * 5, started
        assert skipped == 0, (started, skipped)
        assert p99 < 100, (f"probes started late while the register's host "
                           f"was unreachable: p99 {p99} ms, max {worst} ms")

        subprocess.run([*cut[:5], "-D", *cut[6:]], check=True, timeout=10)
        wait_for(lambda: "accepts writes again" in d.run_log(), 15,
                 "the held changes written once the host answers")
        assert "connected again" in d.run_log(), d.tail()
        db = pg.local_uri()
        (inc,) = incidents_of(db, SYSTEM)
        assert inc["status"] == "restored" and inc["restored_at"], inc
        rc, out, err = cli("--db", db, "verify")
        assert rc == 0 and "timeline chain OK" in out, (out, err)
        d.stop()
    finally:
        service.stop()
        witness.stop()
