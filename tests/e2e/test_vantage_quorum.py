"""Vantage points and their quorum (issue 21).

Three rtowatchd nodes, "a", "b" and "c", each in a network namespace of
its own, share one register: a private PostgreSQL the test starts (as
test_pg_store.py does), reached by all three over its Unix socket, which
a network namespace does not hide.  The watched host is a fourth
namespace, "t", joined to each node by a veth pair of its own; its
service listens on 198.18.100.1 (RFC 2544's benchmarking range, routed
only over those pairs).  Node a leads (the default); b and c only observe
(set lead no): they probe and write their observations.  The rule is
"down when 2 of 3 vantage points fail".

  the service cut off from b alone (iptables DROP in b's namespace): b
  sees it down and says so in the register, a counts 1 of 3, and no
  incident opens;
  cut off from c too: exactly one incident, opened as of the moment the
  second vantage point failed (by its own first failure), its timeline
  quoting each vantage point's view; b let through again: the quorum
  breaks, and the incident is restored as of b's first success;
  node c killed: silent after three missed heartbeats, it is left out,
  and 2 of 3 becomes 2 of the 2 left: b alone opens nothing, b with the
  leader's own view opens one, which says c was left out;
  node c's link down, with the shipped lost-network rule and three
  systems: c judges its own network lost and is left out the same way;
  one node alone on SQLite (the default 1 of 1) decides as before and
  writes its observations to the same append-only table;
  PostgreSQL stopped while the service is cut off from b and c: each
  node holds its observation and writes it, with its own time, once the
  server is back, and the leader's incident starts from them.
The namespace scenarios need root, ip and iptables, and PostgreSQL's
server binaries; they skip, saying which, without them.
"""
import os
import shutil
import time

import pytest

from conftest import (POLICY, SCENARIO_POLICY, api, cli, db_rows,
                      rules_file, socket_path, system_rules, wait_for,
                      wait_incident)
from pinglib import ns_server, require_root, run
from test_pg_store import _epoch, pg  # noqa: F401  (pg: the fixture)

__all__ = ["pg"]

TARGET = "198.18.100.1"
PORT = 2525
SYSTEM = "portal"
NODES = ("a", "b", "c")
CHECK = f"tcp {TARGET} port {PORT}"

SERVICE = r"""
import selectors, socket, sys
sel = selectors.DefaultSelector()
for port in sys.argv[2:]:
    sel.register(socket.create_server((sys.argv[1], int(port))),
                 selectors.EVENT_READ)
print("ready", flush=True)
while True:
    for key, _ in sel.select():
        c, _ = key.fileobj.accept()
        c.close()
"""
# The lost-network scenario's two systems besides SYSTEM.
OTHERS = (("mail", PORT + 1), ("library", PORT + 2))

_count = [0]


class Vantage:
    """The namespaces t (the host) and a, b, c (the nodes), joined."""

    def __init__(self):
        _count[0] += 1
        base = f"rtq-{os.getpid()}-{_count[0]}"
        self.ns = {n: f"{base}-{n}" for n in ("t", *NODES)}
        self.made = []

    def ip(self, ns, *args):
        return run("ip", "-n", self.ns[ns], *args)

    def sh(self, ns, *cmd, check=True):
        return run("ip", "netns", "exec", self.ns[ns], *cmd, check=check)

    def create(self):
        for n, ns in self.ns.items():
            p = run("ip", "netns", "add", ns, check=False)
            if p.returncode != 0:
                self.close()
                pytest.skip(f"cannot create a network namespace: "
                            f"{p.stderr.strip()}")
            self.made.append(ns)
            self.ip(n, "link", "set", "lo", "up")
        self.ip("t", "addr", "add", f"{TARGET}/32", "dev", "lo")
        for i, n in enumerate(NODES, 1):
            self.ip(n, "link", "add", "q0", "type", "veth", "peer", "name",
                    f"q{i}", "netns", self.ns["t"])
            self.ip(n, "addr", "add", f"198.18.{i}.1/30", "dev", "q0")
            self.ip("t", "addr", "add", f"198.18.{i}.2/30", "dev", f"q{i}")
            self.ip(n, "link", "set", "q0", "up")
            self.ip("t", "link", "set", f"q{i}", "up")
            self.ip(n, "route", "add", f"{TARGET}/32", "via",
                    f"198.18.{i}.2")
        return self

    def cut(self, node, cut=True, port=PORT):
        """Drop what NODE sends to SYSTEM's service on the host (or let
        it through again): its other services stay in reach."""
        self.sh(node, "iptables", "-w", "-A" if cut else "-D", "OUTPUT",
                "-d", TARGET, "-p", "tcp", "--dport", str(port), "-j",
                "DROP")

    def close(self):
        for ns in reversed(self.made):
            run("ip", "netns", "del", ns, check=False)
        self.made = []


@pytest.fixture
def vantage():
    require_root("this scenario")
    for tool in ("ip", "iptables"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (make check installs it)")
    v = Vantage().create()
    try:
        yield v
    finally:
        v.close()


@pytest.fixture
def service(vantage, tmp_path):
    with ns_server(vantage.ns["t"], SERVICE, [TARGET, str(PORT),
                   *(str(p) for _, p in OTHERS)], tmp_path,
                   "the host's service") as p:
        yield p


def node(scenario, vantage, pg, name, lost_network=False, assign=(),
         extra=""):
    """Node NAME in its namespace, on PG's register by its Unix socket.
    LOST_NETWORK: the shipped policy, lost-network above 50% and all,
    and two more systems, so that a node can judge its network lost.
    ASSIGN: SYSTEM's vantage points, and no global quorum."""
    d = scenario.daemon(name)
    d.wrapper = ["ip", "netns", "exec", vantage.ns[name]]
    conninfo = (f"host={pg.dir} port={pg.port} user=rtowatch "
                f"dbname=register")
    systems = [(SYSTEM, PORT), *(OTHERS if lost_network else ())]
    text = (
        f'set database "{conninfo}"; '
        f'include "{POLICY if lost_network else SCENARIO_POLICY}"; '
        f'set socket "{socket_path(d.db)}"\n'
        f'set node "{name}"\n'
        + ("" if name == "a" else "set lead no\n")
        + ("" if assign else "down when 2 of 3 vantage points fail\n")
        + "\n"
        + "".join(system_rules(n, p, host=TARGET, every="200ms",
                               timeout="150ms", down_after=2, up_after=2)
                  for n, p in systems)
        + extra)
    if assign:
        head, tail = text.split("}\n", 1)
        text = (head + "    vantage points "
                + " ".join(f'"{n}"' for n in assign) + "\n}\n" + tail)
    d.write_rules(text)
    return d


def observations(pg, who, state):
    return pg.rows("SELECT at FROM observations WHERE node = "
                   f"'{who}' AND system = '{SYSTEM}' AND state = '{state}'"
                   " ORDER BY id")


def incidents(pg):
    return pg.rows("SELECT id, status, started_at, restored_at, cause"
                   f" FROM incidents WHERE system = '{SYSTEM}' ORDER BY id")


def status_down_from(d):
    """`rtowatch status` on D: {system: [the nodes that see it down]},
    from its "  down from NODE since T: CAUSE" lines under each system
    (or, for a system not listed, under its name after the nodes)."""
    rc, out, err = cli("--socket", d.sock, "status")
    assert rc == 0, err
    seen, system = {}, None
    for line in out.splitlines():
        if line and not line.startswith(" "):
            system = line[:-1] if line.endswith(":") else line.split()[0]
        elif line.startswith("  down from "):
            seen.setdefault(system, []).append(line.split()[2])
    return seen


def local_check(port):
    return f"tcp 127.0.0.1 port {port}"


def web_nodes(port):
    """The web page's table of nodes (its status page, in Chinese)."""
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", "/")
    page = c.getresponse().read().decode()
    c.close()
    assert "<th>視為中斷</th>" in page, page[-3000:]
    return page[page.index('<table id="nodes">'):].split("</table>")[0]


def probes_ok(d):
    return d.run_log().count(f"{CHECK}: ok in")


def start_nodes(scenario, vantage, pg, lost_network=False):
    """Nodes a (leading), b and c, started, each reaching the host, and
    counted by the leader."""
    daemons = {n: node(scenario, vantage, pg, n, lost_network)
               for n in NODES}
    lead = daemons["a"]
    lead.start()
    # The schema, made by the first node before the others start.
    wait_for(lambda: pg.run("SELECT count(*) FROM nodes")[:2]
             == (0, [["1"]]), 15, "node a's heartbeat in the register")
    daemons["b"].start()
    daemons["c"].start()
    for n in NODES:
        wait_for(lambda: probes_ok(daemons[n]) >= 2, 15,
                 f"node {n} reaching the host")
    assert "observes and never leads (set lead no)" in daemons["b"].run_log()
    wait_for(lambda: f"{SYSTEM}: 0 of the 3 vantage points counted see it "
             "down, 2 needed (down when 2 of 3 fail)" in lead.run_log(),
             15, "the leader counting three vantage points")
    return daemons, lead


def test_quorum_two_of_three(scenario, vantage, service, pg):
    daemons, lead = start_nodes(scenario, vantage, pg)

    # Cut off from b only: b sees it down, the leader counts 1 of 3.
    vantage.cut("b")
    wait_for(lambda: observations(pg, "b", "down"), 15,
             "b's observation of the outage in the register")
    wait_for(lambda: f"{SYSTEM}: 1 of the 3 vantage points counted see it "
             "down, 2 needed" in lead.run_log(), 15,
             "the leader counting b's view")
    assert f"{SYSTEM}: vantage point b sees {CHECK} down since" \
        in lead.run_log()
    # Ten more of the leader's own probes (two seconds, two reads of
    # the register): still no incident.
    seen = probes_ok(lead)
    wait_for(lambda: probes_ok(lead) >= seen + 10, 15,
             "the leader's probes going on")
    assert incidents(pg) == [], "one vantage point of three opened one"
    assert pg.rows("SELECT count(*) FROM outages") == [["0"]]
    assert observations(pg, "c", "down") == []
    # What a user sees: b's view in every node's status, up and all.
    for n in NODES:
        assert status_down_from(daemons[n]) == {SYSTEM: ["b"]}, n
    _, st = api(lead.sock, "GET", "/v1/status")
    views = {n["name"]: n["views"] for n in st["nodes"]}
    assert sorted(views) == list(NODES), st["nodes"]
    assert views["a"] == [] and views["c"] == [], views
    assert [(v["system"], v["check"], v["state"], v["since"])
            for v in views["b"]] == \
        [(SYSTEM, CHECK, "down", observations(pg, "b", "down")[0][0])], views
    assert views["b"][0]["cause"].startswith(f"{CHECK}: timeout"), views

    # Cut off from c too: the quorum is met, one incident.
    vantage.cut("c")
    inc = wait_for(lambda: incidents(pg), 15, f"an incident of {SYSTEM}")
    b_down = observations(pg, "b", "down")[0][0]
    c_down = observations(pg, "c", "down")[0][0]
    assert inc[0][1] == "open", inc
    # It started when the second vantage point failed, by its own time.
    assert inc[0][2] == max(b_down, c_down), (inc, b_down, c_down)
    opened = pg.rows("SELECT detail FROM timeline WHERE incident_id ="
                     f" {inc[0][0]} AND event = 'opened'")
    assert len(opened) == 1, opened
    detail = opened[0][0]
    # Each vantage point's view, with its own first failure.
    assert f"down when 2 of 3 vantage points fail, met at {inc[0][2]}: " \
        "a up; " in detail, detail
    for who, at in (("b", b_down), ("c", c_down)):
        assert f"{who} down since {at} ({CHECK}: timeout: " in detail, \
            detail
    assert detail.endswith(inc[0][4]), (detail, inc[0][4])
    # Decided within a read of the register or two of c's observation.
    delay = pg.rows("SELECT extract(epoch FROM opened_at::timestamptz -"
                    f" started_at::timestamptz) FROM incidents WHERE id ="
                    f" {inc[0][0]}")[0][0]
    print(f"quorum met to incident opened: {float(delay):.3f} s")
    assert float(delay) < 3.0, delay
    wait_for(lambda: status_down_from(lead) == {SYSTEM: ["b", "c"]}, 5,
             "rtowatch status naming b and c")

    # b let through again: the quorum breaks when b's first success came.
    vantage.cut("b", cut=False)
    back = wait_for(lambda: [i for i in incidents(pg) if i[3]], 15,
                    f"{SYSTEM}'s incident restored")
    b_up = observations(pg, "b", "up")
    assert b_up, "b's observation of the service back"
    assert back[0][3] == b_up[-1][0], (back, b_up)
    restored = pg.rows("SELECT detail FROM timeline WHERE incident_id ="
                       f" {inc[0][0]} AND event = 'restored'")[0][0]
    assert f"down when 2 of 3 vantage points fail, no longer met at " \
        f"{b_up[-1][0]}: a up; b up; c down since {c_down} (" \
        in restored, restored
    assert len(incidents(pg)) == 1, incidents(pg)
    assert status_down_from(lead) == {SYSTEM: ["c"]}
    _, st = api(lead.sock, "GET", "/v1/status")
    assert [(v["state"], v["since"]) for n in st["nodes"]
            if n["name"] == "b" for v in n["views"]] == \
        [("up", b_up[-1][0])], st["nodes"]
    assert "monitoring host" not in lead.run_log()
    # Nodes that only observe wrote no records of their own.
    for n in ("b", "c"):
        assert "incident" not in daemons[n].run_log().replace(
            "no engine", ""), daemons[n].tail()

    # Observations are append-only, for the register's owner too.
    for sql in ("UPDATE observations SET state = 'up'",
                "DELETE FROM observations",
                "TRUNCATE observations"):
        rc, _, err = pg.run(sql)
        assert rc != 0 and "append-only" in err, (sql, err)
    vantage.cut("c", cut=False)
    for d in daemons.values():
        d.stop()


def test_quorum_silent_node_left_out(scenario, vantage, service, pg):
    """Node c killed: silent after three heartbeats, it is left out, and
    2 of 3 is 2 of the 2 left: b alone opens nothing, b and a do."""
    daemons, lead = start_nodes(scenario, vantage, pg)
    daemons["c"].kill9()
    wait_for(lambda: "vantage point c: silent" in lead.run_log(), 15,
             "the leader leaving the silent node out")
    wait_for(lambda: f"{SYSTEM}: 0 of the 2 vantage points counted see it "
             "down, 2 needed" in lead.run_log(), 15,
             "the leader counting two vantage points")

    vantage.cut("b")
    wait_for(lambda: f"{SYSTEM}: 1 of the 2 vantage points counted see it "
             "down, 2 needed" in lead.run_log(), 15,
             "the leader counting b's view")
    seen = probes_ok(lead)
    wait_for(lambda: probes_ok(lead) >= seen + 10, 15,
             "the leader's probes going on")
    assert incidents(pg) == [], "one vantage point of two opened one"

    # The leader's own view makes the second.
    vantage.cut("a")
    inc = wait_for(lambda: incidents(pg), 15, f"an incident of {SYSTEM}")
    a_down = observations(pg, "a", "down")[0][0]
    b_down = observations(pg, "b", "down")[0][0]
    assert inc[0][2] == max(a_down, b_down), (inc, a_down, b_down)
    detail = pg.rows("SELECT detail FROM timeline WHERE incident_id ="
                     f" {inc[0][0]} AND event = 'opened'")[0][0]
    assert f"a down since {a_down} (" in detail, detail
    assert f"b down since {b_down} (" in detail, detail
    assert "c left out, silent" in detail, detail
    assert len(incidents(pg)) == 1
    vantage.cut("a", cut=False)
    vantage.cut("b", cut=False)
    for n in ("a", "b"):
        daemons[n].stop()


def test_quorum_lost_network_node_left_out(scenario, vantage, service, pg):
    """Node c's own link goes down: every system fails from c, which
    judges its network lost (lost-network above 50%) and says so; the
    leader leaves it out, so c and b failing are not 2 of 3 but 1 of the
    2 left, and nothing opens; a failing with b opens one incident, which
    says c was left out."""
    daemons, lead = start_nodes(scenario, vantage, pg, lost_network=True)
    vantage.ip("c", "link", "set", "q0", "down")
    wait_for(lambda: "vantage point c: its own network is lost since"
             in lead.run_log(), 15, "the leader leaving c out")
    wait_for(lambda: pg.rows("SELECT count(*) FROM observations WHERE"
                             " node = 'c' AND system = '(monitoring host)'"
                             " AND state = 'down'") == [["1"]], 5,
             "c's own network lost, in the register")
    assert "node c: most systems fail from here: its own network is lost" \
        in daemons["c"].run_log()
    # In status, after the nodes: c's own network, seen down by c.
    wait_for(lambda: status_down_from(lead).get("(monitoring host)")
             == ["c"], 5, "rtowatch status saying c's network is lost")

    vantage.cut("b")
    wait_for(lambda: f"{SYSTEM}: 1 of the 2 vantage points counted see it "
             "down, 2 needed" in lead.run_log(), 15,
             "the leader counting b's view, not c's")
    seen = probes_ok(lead)
    wait_for(lambda: probes_ok(lead) >= seen + 10, 15,
             "the leader's probes going on")
    assert incidents(pg) == [], "b and a node without a network opened one"

    vantage.cut("a")
    inc = wait_for(lambda: incidents(pg), 15, f"an incident of {SYSTEM}")
    detail = pg.rows("SELECT detail FROM timeline WHERE incident_id ="
                     f" {inc[0][0]} AND event = 'opened'")[0][0]
    assert "c left out, its own network is lost" in detail, detail
    assert "a down since " in detail and "b down since " in detail, detail
    # The other two systems fail from c alone, which is left out.
    assert pg.rows("SELECT system FROM incidents ORDER BY id") == \
        [[SYSTEM]], "only the system a and b both see down"
    vantage.cut("a", cut=False)
    vantage.cut("b", cut=False)
    for n in NODES:
        daemons[n].stop()


def test_one_node_on_sqlite_writes_observations(scenario):
    """One node alone on SQLite (no quorum, the default 1 of 1) decides
    as before and writes its observations all the same, in the same
    append-only table, named by its host name."""
    import socket
    import sqlite3
    service = scenario.listener()
    d = scenario.daemon()
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    web = s.getsockname()[1]
    s.close()
    d.write_rules(rules_file(d.db, f"set web listen 127.0.0.1:{web}\n",
                             system_rules(SYSTEM, service.port,
                                          down_after=2)))
    d.start()
    service.wait_accepted(2)
    service.stop()
    inc = wait_incident(d.db, SYSTEM)
    rows = wait_for(lambda: db_rows(
        d.db, "SELECT node, check_name, state, at, cause FROM"
        " observations WHERE system = ?", SYSTEM), 10,
        "the node's observation of the outage")
    assert rows[0]["node"] == socket.gethostname(), rows
    assert rows[0]["state"] == "down", rows
    assert rows[0]["check_name"] == f"tcp 127.0.0.1 port {service.port}"
    # The incident's start is the node's own first failure, as before.
    assert rows[0]["at"] == inc["started_at"], (rows, inc)
    assert "vantage points" not in inc["cause"], inc
    # Its view, in status: the control API's and rtowatch status's.
    me = socket.gethostname()
    _, st = api(d.sock, "GET", "/v1/status")
    views = [n["views"] for n in st["nodes"] if n["name"] == me]
    assert views and views[0] == [{
        "system": SYSTEM, "check": rows[0]["check_name"], "state": "down",
        "since": rows[0]["at"], "cause": rows[0]["cause"]}], st["nodes"]
    assert status_down_from(d) == {SYSTEM: [me]}, cli("--socket", d.sock,
                                                      "status")[1]
    # And in the web page's table of nodes, "sees down" (視為中斷).
    assert f'<span class="down" title="{local_check(service.port)}: ' \
        in web_nodes(web), web_nodes(web)
    assert f'">{SYSTEM}</span> (' in web_nodes(web)
    service.start()
    wait_for(lambda: len(db_rows(d.db, "SELECT 1 FROM observations")) == 2,
             10, "the node's observation of the service back")
    _, st = api(d.sock, "GET", "/v1/status")
    views = [n["views"] for n in st["nodes"] if n["name"] == me][0]
    assert [(v["state"], v["since"]) for v in views] == \
        [("up", db_rows(d.db, "SELECT at FROM observations WHERE"
                        " state = 'up'")[0]["at"])], views
    assert status_down_from(d) == {}
    assert f">{SYSTEM}</span>" not in web_nodes(web), web_nodes(web)
    d.stop()
    con = sqlite3.connect(d.db)
    try:
        for sql in ("UPDATE observations SET state = 'up'",
                    "DELETE FROM observations"):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                con.execute(sql)
    finally:
        con.close()


REGISTER_DOWN_S = 30


def test_quorum_observations_held_while_register_down(scenario, vantage,
                                                       service, pg):
    """PostgreSQL stops; the service is then cut off from b and c.  Each
    node holds its observation in memory, in order, and writes it with
    its own time once the server is back; the leader then decides from
    them: one incident, as of the second one's own first failure, from
    before the register came back."""
    daemons, lead = start_nodes(scenario, vantage, pg)
    pg.stop(mode="fast")
    t_stop = time.time()
    vantage.cut("b")
    vantage.cut("c")
    for n in ("b", "c"):
        wait_for(lambda: f"{SYSTEM}: {CHECK} down since"
                 in daemons[n].run_log(), 15, f"node {n} seeing it down")
        wait_for(lambda: "refuses writes" in daemons[n].run_log(), 15,
                 f"node {n} holding its observation")
    # The figure: the register gone for 30 s, past every retry,
    # the leader's lock session and the nodes' silence bound.
    time.sleep(max(0.0, REGISTER_DOWN_S - (time.time() - t_stop)))
    t_back = time.time()
    pg.start()
    # Every node reconnects: each one's row is written again, and a
    # leads again (nobody else may), none having exited.
    def back():
        rows = pg.run("SELECT name, last_contact FROM nodes")[1]
        return len(rows) == 3 and all(_epoch(r[1]) >= t_back
                                      for r in rows)
    wait_for(back, 30, "every node's row written again")
    wait_for(lambda: pg.run("SELECT name FROM nodes WHERE role ="
                            " 'leader'")[1] == [["a"]], 15,
             "node a leading again")
    for d in daemons.values():
        assert d.proc.poll() is None, d.run_log()
    inc = wait_for(lambda: pg.run("SELECT id, started_at FROM incidents"
                                  f" WHERE system = '{SYSTEM}'")[1], 30,
                   "the incident, from the held observations")
    assert len(inc) == 1, inc
    b_down = observations(pg, "b", "down")
    c_down = observations(pg, "c", "down")
    assert len(b_down) == 1 and len(c_down) == 1, (b_down, c_down)
    assert inc[0][1] == max(b_down[0][0], c_down[0][0]), (inc, b_down,
                                                          c_down)
    assert _epoch(inc[0][1]) < t_back, (inc, t_back)
    vantage.cut("b", cut=False)
    vantage.cut("c", cut=False)
    for d in daemons.values():
        d.stop()


def test_system_assigned_to_one_node(scenario, vantage, service, pg):
    """"vantage points \"b\"" in the system's block: only node b probes
    it.  Node a, the leader, skips its check (its log and rtowatch
    status say so), writes no observation of it, and decides from b's
    view alone (every node assigned, 1 of 1): b cut off from the service
    opens the incident, as of b's own first failure."""
    a = node(scenario, vantage, pg, "a", assign=("b",))
    b = node(scenario, vantage, pg, "b", assign=("b",))
    a.start()
    wait_for(lambda: pg.run("SELECT count(*) FROM nodes")[:2]
             == (0, [["1"]]), 15, "node a's heartbeat in the register")
    b.start()
    wait_for(lambda: probes_ok(b) >= 10, 15, "node b probing the host")
    assert "node a: 1 system not probed from here: assigned to other " \
        "vantage points" in a.run_log()
    assert f"{SYSTEM}: not probed from this node (a)" in a.run_log()
    # a can reach the service (nothing is cut yet) but never probes it.
    assert f"{CHECK}: " not in a.run_log(), a.tail()
    rc, out, err = cli("--socket", a.sock, "status")
    assert rc == 0, err
    assert "    not probed from this node; its vantage points: b\n" in out, \
        out
    _, st = api(a.sock, "GET", "/v1/status")
    portal = [x for x in st["systems"] if x["name"] == SYSTEM][0]
    assert portal["probed_here"] is False, portal
    assert portal["vantage_points"] == ["b"], portal
    assert incidents(pg) == []

    vantage.cut("b")
    inc = wait_for(lambda: incidents(pg), 15, f"an incident of {SYSTEM}")
    b_down = observations(pg, "b", "down")[0][0]
    assert inc[0][2] == b_down, (inc, b_down)
    detail = pg.rows("SELECT detail FROM timeline WHERE incident_id ="
                     f" {inc[0][0]} AND event = 'opened'")[0][0]
    assert f"down when 1 of 1 vantage points fail, met at {b_down}: " \
        f"b down since {b_down} ({CHECK}: timeout: " in detail, detail
    assert "a up" not in detail, detail
    assert pg.rows("SELECT count(*) FROM observations WHERE node = 'a'"
                   f" AND system = '{SYSTEM}'") == [["0"]]
    assert status_down_from(a) == {SYSTEM: ["b"]}
    vantage.cut("b", cut=False)
    wait_for(lambda: [i for i in incidents(pg) if i[3]], 15,
             f"{SYSTEM}'s incident restored from b's view")
    assert len(incidents(pg)) == 1
    for d in (a, b):
        d.stop()


def test_child_of_a_system_probed_elsewhere(scenario, vantage, service, pg):
    """mail, probed by every node, depends on portal, which only b
    probes.  mail cut off from a while portal is fine: a, the leader,
    does not wait for a probe of portal it never makes (portal's state
    is b's view), and opens mail's own incident."""
    mail = OTHERS[0]
    child = system_rules(mail[0], mail[1], host=TARGET, every="200ms",
                         timeout="150ms", down_after=2, up_after=2).replace(
        "    down after", '    depends "portal"\n    down after')
    a = node(scenario, vantage, pg, "a", assign=("b",), extra=child)
    b = node(scenario, vantage, pg, "b", assign=("b",), extra=child)
    a.start()
    wait_for(lambda: pg.run("SELECT count(*) FROM nodes")[:2]
             == (0, [["1"]]), 15, "node a's heartbeat in the register")
    b.start()
    wait_for(lambda: probes_ok(b) >= 4, 15, "node b probing portal")
    vantage.cut("a", port=mail[1])
    inc = wait_for(lambda: pg.rows("SELECT id, status FROM incidents"
                                   f" WHERE system = '{mail[0]}'"), 15,
                   f"{mail[0]}'s own incident")
    assert inc[0][1] == "open", inc
    assert incidents(pg) == [], "portal is fine from b"
    vantage.cut("a", cut=False, port=mail[1])
    for d in (a, b):
        d.stop()
