"""The leader's reads of the other nodes' observations do not hold its
loop (issue 21).

With a quorum, the leader reads the others' new observations every
second.  Those reads were ordinary statements on the records'
connection, each holding the loop until the server answered: a server
slow to answer them (here made so by a test-only row-level security
policy that sleeps 0.6 s a row read, as a loaded server or a distant one
would be) held the leader's loop that long every second, its probes and
its control socket with it.  Now they are sent on a connection of their
own and their answers read on the loop's events: the control socket
answers at once meanwhile.
"""
import http.client
import socket
import time

import pytest  # noqa: F401  (the fixture's skip)

from conftest import short_policy, wait_for, wait_socket
from smtpserver import SmtpServer
from test_pg_lead import node_rules, status
from test_pg_store import pg  # noqa: F401  (its server)

SLOW_READS = """
ALTER TABLE observations ENABLE ROW LEVEL SECURITY;
ALTER TABLE observations FORCE ROW LEVEL SECURITY;
CREATE POLICY slow_read ON observations FOR SELECT
    USING ((SELECT true FROM pg_sleep(0.6)));
CREATE POLICY any_insert ON observations FOR INSERT WITH CHECK (true);
"""


class _Unix(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("rtowatch", timeout=10)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(self.path)


def status_time(sock):
    """GET /v1/status in this process (no interpreter to start): its
    status code and how long it took, s."""
    t0 = time.monotonic()
    c = _Unix(sock)
    c.request("GET", "/v1/status")
    r = c.getresponse()
    r.read()
    c.close()
    return r.status, time.monotonic() - t0


def test_leader_reads_observations_off_the_loop(scenario, pg):
    smtp = SmtpServer(scenario.dir)       # never started: not the point
    service = scenario.listener()
    policy = short_policy(scenario.dir, notify="1h", notify_remind="30m")
    # The register's owner is no superuser here, so that the policy
    # binds it (a superuser passes every policy by).
    pg.psql("postgres", "CREATE ROLE owner2 LOGIN CREATEROLE")
    pg.psql("postgres", "CREATE DATABASE register2 OWNER owner2")
    uri = pg.uri_of("register2", user="owner2")
    d = scenario.daemon("n1")
    d.write_rules(node_rules(d, pg, "n1", policy, smtp, service.port)
                  .replace(pg.uri, uri)
                  + "down when 1 of 2 vantage points fail\n")
    d.start()
    wait_socket(d.sock)
    wait_for(lambda: status(d)["node"]["role"] == "leader", 10,
             "n1 leading")
    def n9_sees(n):
        """Another node's view, which the leader reads."""
        sql("INSERT INTO observations (node, system, check_name,"
                f" state, at, written_at, cause) VALUES ('n9', 'other',"
                f" 'c{n}', 'down', to_char(now() AT TIME ZONE 'UTC',"
                " 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), 'x', '')")
    def sql(text):
        rc, _, err = pg.run(text, db="register2", user="owner2")
        assert rc == 0, err
    n9_sees(0)
    wait_for(lambda: "read off the loop" in d.run_log()
             or "vantage points: observations " in d.run_log(), 10,
             "the leader reading n9's view")
    fast = max(status_time(d.sock)[1] for _ in range(10))
    sql(SLOW_READS)
    reads = d.run_log().count("read off the loop")
    slowest, n, t_end = 0.0, 0, time.monotonic() + 4
    while time.monotonic() < t_end:         # bounded: 4 s
        # New rows for every read: the policy sleeps once a read that
        # reads any (a read with none to read is quick).
        n9_sees(n + 1)
        code, took = status_time(d.sock)
        assert code == 200
        slowest = max(slowest, took)
        n += 1
    print(f"status: slowest {fast * 1000:.0f} ms before, {slowest * 1000:.0f}"
          f" ms over {n} requests while each read took 0.6 s")
    assert slowest < 0.3, f"status took {slowest:.2f} s: the loop was held"
    # The reads were made meanwhile, off the loop, each 0.6 s or more.
    assert d.run_log().count("read off the loop") >= reads + 2, d.tail()
    assert "no answer from" not in d.run_log(), d.tail()
    sql("DROP POLICY slow_read ON observations;"
            " DROP POLICY any_insert ON observations;"
            " ALTER TABLE observations NO FORCE ROW LEVEL SECURITY;"
            " ALTER TABLE observations DISABLE ROW LEVEL SECURITY")
    d.stop()
