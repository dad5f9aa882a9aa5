"""Every system fails in one round, and comes back in one: one incident.

A round reaches the systems one probe at a time.  With `down after 1`
the first systems to fail are down before most of the others were even
probed again, so the share failing (lost-network above 50%) could not
say yet that the monitoring host lost its network: each opened an
incident of its own, and the host's incident came only once half of
them had (bench_mass.py: 5,001 incidents for 10,000 systems).  They must
wait until the systems not probed since they began to fail are, and all
twenty end up as the affected scope of one incident about the
monitoring host.

The same on the way back: the host's incident is restored once most are
back, and the systems not probed again since the network came back are
not "still down" but unknown; their next result ends their part of the
host's incident instead of opening twenty new ones.
"""
import socket
import threading

from conftest import POLICY, cli, db_rows, incidents, rules_file, \
    system_rules, wait_for, wait_incident

HOST = "(monitoring host)"
N = 20


def fleet(lst):
    """A system for each listener of LST, down and up at one result."""
    return [system_rules(f"svc{i}", l.port, rto="1h", down_after=1,
                         up_after=1) for i, l in enumerate(lst)]


def back_on_the_host_incident(d, timeout):
    """Every outage ends, and the host's stays the only incident."""
    wait_for(lambda: not db_rows(d.db, "SELECT 1 FROM outages WHERE "
                                 "ended_at IS NULL"), timeout,
             "every outage ended")
    rows = incidents(d.db)
    assert [r["system"] for r in rows] == [HOST], \
        f"{len(rows)} incidents after the systems came back: " \
        f"{sorted(r['system'] for r in rows)}"


def test_one_round_of_failures_is_one_host_incident(scenario):
    lst = [scenario.listener() for _ in range(N)]
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, *fleet(lst), policy=POLICY))
    d.start()
    for l in lst:
        l.wait_accepted(2)
    for l in lst:
        l.stop()
    wait_incident(d.db, HOST)
    wait_for(lambda: len(db_rows(d.db, "SELECT 1 FROM outages WHERE "
                                 "system LIKE 'svc%'")) == N, 10,
             f"all {N} outages recorded")
    rows = incidents(d.db)
    assert [r["system"] for r in rows] == [HOST], \
        f"{len(rows)} incidents for one mass failure: " \
        f"{sorted(r['system'] for r in rows)}"
    scope = db_rows(d.db, "SELECT system FROM incident_scope")
    assert len(scope) == N, scope
    assert "waiting for the systems not probed since" in d.run_log()

    for l in lst:
        l.start()
    wait_incident(d.db, HOST, restored=True)
    back_on_the_host_incident(d, 10)
    d.stop()


MANY = 400


def test_a_wave_longer_than_a_turn_is_still_one_incident(scenario):
    """MANY systems of one listener: the half of them that wait for the
    verdict are more writes than one turn of the loop may make
    (ENGINE_SLICE_MS, bench_mass.py's stall), so it is applied over
    several turns while the other results keep coming.  Still one
    incident, every system in its scope once, and a chain that
    verifies; and on the way back every outage ends on it."""
    lst = scenario.listener()
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, *[
        system_rules(f"svc{i}", lst.port, rto="1h", every="1s",
                     timeout="500ms", down_after=1, up_after=1)
        for i in range(MANY)], policy=POLICY))
    d.start()
    lst.wait_accepted(2 * MANY, 30, "two rounds of probes")
    assert not db_rows(d.db, "SELECT system FROM outages"), \
        "systems down before the listener stopped"
    lst.stop()
    wait_incident(d.db, HOST)
    wait_for(lambda: len(db_rows(d.db, "SELECT 1 FROM incident_scope")) ==
             MANY, 20, f"all {MANY} systems in the host's scope")
    rows = incidents(d.db)
    assert [r["system"] for r in rows] == [HOST], \
        f"{len(rows)} incidents for one mass failure"
    scope = db_rows(d.db, "SELECT DISTINCT system FROM incident_scope")
    assert len(scope) == MANY, f"{len(scope)} distinct systems in scope"
    rc, out, err = cli("--db", d.db, "verify")
    assert rc == 0, f"verify after the wave: {out}{err}"

    lst.start()
    back_on_the_host_incident(d, 20)
    d.stop()
    rc, out, err = cli("--db", d.db, "verify")
    assert rc == 0, f"verify after the recovery: {out}{err}"


class Banner:
    """A TCP service whose answer the test sets: "ok" says "ok" and closes;
    "close" closes at once (the check fails fast); "hold" keeps each
    connection open and silent until release() closes them unanswered."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.mode = "ok"
        self.held = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            if self.mode == "hold":
                self.held.append(conn)
                continue
            if self.mode == "ok":
                conn.sendall(b"ok\n")
            conn.close()

    def release(self):
        held, self.held = self.held, []
        for c in held:
            c.close()

    def close(self):
        self.stopping.set()
        self.thread.join()
        self.release()
        self.sock.close()


def test_failure_probed_before_the_network_came_back(scenario):
    """A system's last failure was probed before the network came back,
    but its answer only comes after the host's incident ended (a probe
    held by a slow server, or a result that waited while the loop caught
    up).  That is not a failure since the network came back: its next
    result decides, and it ends its part of the host's incident instead
    of opening an incident of its own."""
    lst = [scenario.listener() for _ in range(N)]
    slow = Banner()
    try:
        d = scenario.daemon()
        slow_rules = system_rules("slow", slow.port, rto="1h",
                                  down_after=1, up_after=1, every="4s",
                                  timeout="3500ms", options='expect "ok"')
        d.write_rules(rules_file(d.db, *fleet(lst), slow_rules,
                                 policy=POLICY))
        d.start()
        for l in lst:
            l.wait_accepted(2)
        slow.mode = "close"
        for l in lst:
            l.stop()
        wait_incident(d.db, HOST)
        wait_for(lambda: len(db_rows(d.db, "SELECT 1 FROM incident_scope"))
                 == N + 1, 15, f"all {N + 1} systems in the host's scope")
        # slow's next probe starts before the network comes back, and is
        # held until after the host's incident ended.
        slow.mode = "hold"
        wait_for(lambda: slow.held, 8, "a probe of slow held")
        for l in lst:
            l.start()
        wait_incident(d.db, HOST, restored=True)
        slow.mode = "ok"
        slow.release()
        back_on_the_host_incident(d, 10)
        rc, out, err = cli("--db", d.db, "verify")
        assert rc == 0, out + err
        d.stop()
    finally:
        slow.close()
