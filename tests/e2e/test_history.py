"""rtowatch history SYSTEM: the response times the daemon kept, per check
and bucket, as a person and a script read them.

A service answers for a while, then its port is closed.  With buckets
of a second (set history-bucket 1s, for tests only) the history shows
buckets with good probes (their least, mean and greatest round trip) and
buckets of refused ones; after a clean stop, the good probes it counted
are exactly those GET /metrics counted, and the connections the
service accepted (give or take one it had not accepted yet when it
stopped listening).
"""
import csv
import http.client
import io
import json
import re
import socket

from conftest import cli, rules_file, start_daemon, system_rules, wait_for
from storefault import Locker
from http_target import http_system, http_targets  # noqa: F401


def probes_ok(sock):
    """rtowatch_probes_total{kind="tcp",result="ok"} from GET /metrics."""
    c = http.client.HTTPConnection("rtowatch", timeout=30)
    c.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.sock.connect(sock)
    c.request("GET", "/metrics")
    r = c.getresponse()
    text = r.read().decode()
    c.close()
    assert r.status == 200, text
    m = re.search(r'^rtowatch_probes_total\{kind="tcp",result="ok"\} (\d+)$',
                  text, re.M)
    assert m, text
    return int(m.group(1))


def history(db, *args):
    rc, out, err = cli("--db", db, "history", *args)
    assert rc == 0, err
    return out


def test_history_counts_what_the_probes_did(scenario):
    svc = scenario.listener()
    d = scenario.daemon()
    d.write_rules("set history-bucket 1s\n" + rules_file(
        d.db, system_rules("web", svc.port, every="200ms",
                           timeout="150ms", down_after=3)))
    start_daemon(d)
    svc.wait_accepted(10)
    svc.stop()
    # A whole bucket refused, not only the one the service stopped in.
    wait_for(lambda: any(r["failed"] >= 3 and r["ok"] == 0
                         for r in json.loads(history(
                             d.db, "web", "--format", "json"))), 20,
             "a bucket of refused probes only in the history")
    # Refused from here on: the good probes are all counted.
    counted = probes_ok(d.sock)
    d.stop()

    rows = json.loads(history(d.db, "web", "--format", "json"))
    check = f"tcp 127.0.0.1 port {svc.port}"
    assert rows and all(r["check"] == check and r["span_seconds"] == 1
                        for r in rows), rows
    good = [r for r in rows if r["ok"] > 0]
    bad = [r for r in rows if r["failed"] > 0]
    assert good and bad, rows
    # Every good probe is in the history, once, and was a connection.
    ok = sum(r["ok"] for r in rows)
    assert ok == counted, (rows, counted)
    assert svc.accepted <= ok <= svc.accepted + 1, (rows, svc.accepted)
    for r in good:
        assert 0 <= r["rtt_min_ms"] <= r["rtt_avg_ms"] <= r["rtt_max_ms"] \
            < 150, r
    for r in rows:
        if r["ok"] == 0:
            assert r["rtt_min_ms"] is None and r["rtt_avg_ms"] is None, r
    assert {r["cause"] for r in bad} == {"refused"}, bad
    # The service answered first, then refused.
    assert max(r["at"] for r in good) <= min(
        r["at"] for r in bad if r["ok"] == 0), rows

    text = history(d.db, "web")
    assert "MIN MS" in text and "AVG MS" in text and "MAX MS" in text, text
    assert check in text and "refused" in text, text

    got = list(csv.DictReader(io.StringIO(history(d.db, "web", "--format",
                                                  "csv"))))
    assert len(got) == len(rows), got
    assert sum(int(r["ok"]) for r in got) == ok
    assert sum(int(r["failed"]) for r in got) == sum(r["failed"]
                                                     for r in rows)

    assert json.loads(history(d.db, "web", "--check", check, "--format",
                              "json")) == rows
    assert json.loads(history(d.db, "web", "--from", "2000-01-01", "--to",
                              "2000-01-02", "--format", "json")) == []
    rc, _, err = cli("--db", d.db, "history", "nosuch")
    assert rc == 1 and "no response times of nosuch" in err, err
    rc, _, err = cli("--db", d.db, "history")
    assert rc == 2 and "missing system" in err, err


def test_a_check_first_heard_after_the_first_write(scenario, http_targets):
    """A check whose first probe ends seconds after the history's first
    write (a slow service; or a system a reload added) still gets its
    history: each write names the checks it has, not only the first."""
    fast = scenario.listener()
    slow = http_targets()
    slow.set(delay=2.5)
    d = scenario.daemon()
    d.write_rules("set history-bucket 1s\n" + rules_file(
        d.db, system_rules("fast", fast.port, every="200ms",
                           timeout="150ms"),
        http_system("slow", slow.url(), every="5s", timeout="4s")))
    start_daemon(d)
    wait_for(lambda: cli("--db", d.db, "history", "fast")[0] == 0, 10,
             "the fast check's first buckets written")
    wait_for(lambda: cli("--db", d.db, "history", "slow", "--format",
                         "json")[0] == 0, 15,
             "the slow check's first bucket, written after the fast one's")
    rows = json.loads(history(d.db, "slow", "--format", "json"))
    assert rows and rows[0]["ok"] >= 1 and rows[0]["rtt_min_ms"] >= 2000, \
        rows
    d.stop()


def test_buckets_waiting_for_the_database_across_a_reload(scenario):
    """The history's buckets closed while another process holds the
    database's write lock wait in memory; a reload meanwhile changes the
    check.  Once the lock is let go, the waiting buckets are written under
    the check they counted (a waiting bucket borrows its check's names,
    and copies them when a reload frees the checks: the ASan build fails
    on a bucket left with the freed ones)."""
    old_svc = scenario.listener()
    new_svc = scenario.listener()
    d = scenario.daemon()

    def rules(port):
        return "set history-bucket 1s\n" + rules_file(
            d.db, system_rules("web", port, every="200ms",
                               timeout="150ms", down_after=3))

    def rows():
        rc, out, err = cli("--db", d.db, "history", "web", "--format",
                           "json")
        assert rc == 0 or "no response times" in err, err
        return json.loads(out) if rc == 0 else []

    d.write_rules(rules(old_svc.port))
    start_daemon(d)
    old = f"tcp 127.0.0.1 port {old_svc.port}"
    new = f"tcp 127.0.0.1 port {new_svc.port}"
    wait_for(lambda: rows(),
             20, "a first bucket written")
    locker = Locker(d.db)
    try:
        wait_for(lambda: "refuses writes" in d.run_log(), 20,
                 "the store to hold the history's write")
        # Three seconds of probes more: buckets closed under the lock.
        seen = old_svc.accepted
        wait_for(lambda: old_svc.accepted >= seen + 15, 20,
                 "15 more probes under the lock")
        locked_at = max(r["at"] for r in rows())
        d.write_rules(rules(new_svc.port))
        d.hup()
        wait_for(lambda: new_svc.accepted > 0, 20,
                 "the reloaded check probing")
    finally:
        locker.release()
        locker.close()
    wait_for(lambda: sum(1 for r in rows()
        if r["check"] == old and r["at"] > locked_at) >= 2, 30,
        "the buckets counted under the lock, under the old check")
    wait_for(lambda: any(r["check"] == new for r in rows()), 30,
        "a bucket of the reloaded check")
    d.stop()
    rows = rows()
    assert {r["check"] for r in rows} == {old, new}, rows
