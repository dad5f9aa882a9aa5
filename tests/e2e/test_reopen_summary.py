"""A reopened incident's summary describes the whole incident, not its
last part: any outage over the RTO means it was not restored within the
RTO, and its cause names every outage's cause, the latest first.

A core system with a 1.5 s RTO and a 30 s reopen window speaks a banner
("220 ready") that its check expects.  It first answers "554 too busy"
for longer than the RTO (major, level 3), comes back, then fails again
by hanging up without a word, and comes back within the RTO.  Before the
fix the reopened incident said within_rto=1 (JSON, register, form 01)
although it was major, and its cause was still the first outage's.
"""
import csv
import io
import socket
import threading

from conftest import (cli, db_rows, events, incidents_of, rules_file,
                      short_policy, system_rules, wait_for, wait_incident)


class Banner:
    """A service on 127.0.0.1 that says what .mode says to each
    connection, then hangs up: "ok" a 220 banner, "busy" a 554 refusal,
    "mute" nothing."""

    SAYS = {"ok": b"220 ready\r\n", "busy": b"554 too busy\r\n",
            "mute": b""}

    def __init__(self):
        self.mode = "ok"
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            try:
                conn.sendall(self.SAYS[self.mode])
            except OSError:
                pass
            conn.close()

    def close(self):
        self.stopping.set()
        self.thread.join(timeout=5)
        self.sock.close()


def test_reopened_incident_summary_covers_every_outage(scenario):
    svc = Banner()
    try:
        run(scenario, svc)
    finally:
        svc.close()


def run(scenario, svc):
    d = scenario.daemon()
    policy = short_policy(scenario.dir, notify="1h", notify_remind="10m",
                          reopen="30s")
    d.write_rules(rules_file(d.db, system_rules(
        "mail", svc.port, core=True, rto="1500ms", down_after=2,
        options='expect "220"'), policy=policy))
    d.start()
    wait_for(lambda: "tcp" in d.run_log() and " started: rules " in
             d.run_log(), 20, "the daemon started")

    # Part 1: refusing for longer than the RTO.
    svc.mode = "busy"
    inc = wait_for(lambda: next((i for i in incidents_of(d.db, "mail")
                                 if i["major"]), None), 15,
                   "the incident major after its RTO")
    iid = inc["id"]
    svc.mode = "ok"
    part1 = wait_incident(d.db, "mail", restored=True)
    assert part1["within_rto"] is False and part1["level"] == 3, part1

    # Part 2: hanging up, back within the RTO.
    svc.mode = "mute"
    wait_for(lambda: events(d.db, iid, "failed again"), 10,
             "the incident reopened")
    svc.mode = "ok"
    whole = wait_for(lambda: next((i for i in incidents_of(d.db, "mail")
                                   if i["restored_at"] and i["id"] == iid),
                                  None), 10, "the reopened incident restored")
    assert len(incidents_of(d.db, "mail")) == 1
    outages = db_rows(d.db, "SELECT started_at, ended_at, cause FROM "
                      "outages WHERE incident_id = ? ORDER BY id", iid)
    assert len(outages) == 2, outages
    # The premise: the last part alone was within the RTO.
    assert "within the RTO" in events(d.db, iid, "restored")[-1]["detail"]

    assert whole["major"] is True and whole["level"] == 3, whole
    assert whole["within_rto"] is False, whole
    # The cause: every outage's, the latest first.
    assert whole["cause"] == (outages[1]["cause"] + "; before that: "
                              + outages[0]["cause"]), whole["cause"]
    # The refusal's words, not its code alone: a port may hold "554".
    assert '"554 too busy"' in outages[0]["cause"], outages
    assert "554 too busy" not in outages[1]["cause"], outages

    rc, out, err = cli("--db", d.db, "register", "--format", "csv", "--no-bom")
    assert rc == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["within_rto"] for r in rows if r["id"] == str(iid)] == \
        ["0"], rows
    rc, out, err = cli("--db", d.db, "report", iid, "--lang", "en")
    assert rc == 0, err
    lines = out.splitlines()
    at = [n for n, l in enumerate(lines) if "restored within RTO" in l]
    assert at and lines[at[0] + 1].strip() == "no (否)", lines[at[0]:][:2]
    d.stop()
