"""Thousands of incidents' reminders due in the same second.

A mass failure opens its incidents in the same second, so the policy's
clocks fall due together for all of them: at 10,000 systems half failing,
5,000 notify reminders at 30 and 50 minutes and 5,000 missed deadlines at
the hour.  Fired in one callback of the loop, each in a synced
transaction of its own, they held the loop for seconds: no probe ran
meanwhile, and the reminders at the end were late by as much.

Here N systems fail at once (each its own incident, since this policy has
no lost-network rule) while another, watched, is probed every 200 ms.
Every reminder is recorded once, in the order the clocks fell due, with
the watched system still probed all through the burst; then the daemon is
stopped (SIGTERM) in the middle of the deadlines' burst and started
again, and every incident still has its missed deadline, once.

The same for the systems' RTOs: passed together, each incident is
reclassified as major (its level raised, a notify clock of its own), once,
on time, with the watched system probed all along.
"""
import threading
import time

from conftest import (HEAVY, asan, db_rows, parse_time, rules_file,
                      short_policy, start_daemon, system_rules, wait_for)

pytestmark = HEAVY

N = 2000
NOTIFY_S = 12
REMIND_S = 6
# The watched system is probed every 200 ms: a gap this long without a
# probe is the loop held up (0.5 s is seen without a burst on a busy
# host; 2.8 s with the reminders fired in one callback).
GAP_S = 1.5
# A reminder recorded later than this says so in its detail ("late by
# ...: rtowatchd was running but held up", clocks.c's CLOCKS_LATE_MS).
LATE_MS = 2000


class Probed:
    """When LISTENER's accepted count moved, sampled every 20 ms from a
    thread of the test: the times the watched system was probed."""

    def __init__(self, listener):
        self.listener = listener
        self.times = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        last = self.listener.accepted
        while not self._stop.wait(0.02):
            n = self.listener.accepted
            if n != last:
                self.times.append(time.time())
                last = n

    def close(self):
        self._stop.set()
        self._thread.join(5)

    def longest_gap(self, start, end):
        """The longest time without a probe between START and END (wall
        seconds)."""
        marks = [start] + [t for t in self.times if start < t < end] + [end]
        return max(b - a for a, b in zip(marks, marks[1:]))


def count(db, event):
    return db_rows(db, "SELECT count(*) AS n FROM timeline WHERE event = ?",
                   event)[0]["n"]


def per_incident(db, event):
    """{incident: [timeline rows of EVENT]}, in the timeline's order."""
    out = {}
    for r in db_rows(db, "SELECT id, incident_id, at FROM timeline WHERE "
                     "event = ? ORDER BY id", event):
        out.setdefault(r["incident_id"], []).append(r)
    return out


def fleet(scenario, d, policy, rto="1h"):
    """N systems failing from their first probe and one watched, healthy;
    the watched one's probes, sampled.  Its rewrite(RTO) writes the same
    rules with another RTO."""
    closed = scenario.closed_port()
    watched = scenario.listener()

    def rewrite(rto):
        systems = [system_rules(f"f{i}", closed, every="1s",
                                timeout="500ms", down_after=1, rto=rto)
                   for i in range(N)]
        d.write_rules(rules_file(d.db, system_rules("watched", watched.port),
                                 *systems, policy=policy))

    rewrite(rto)
    probed = Probed(watched)
    probed.rewrite = rewrite
    return probed


def test_a_burst_of_reminders_keeps_the_probes_and_survives_a_stop(scenario):
    d = scenario.daemon()
    probed = fleet(scenario, d, short_policy(
        scenario.dir, notify=f"{NOTIFY_S}s", notify_remind=f"{REMIND_S}s"))
    try:
        start_daemon(d)
        wait_for(lambda: len(db_rows(d.db, "SELECT 1 FROM clocks WHERE "
                                     "kind = 'notify'")) == N, 60,
                 f"{N} incidents open with their notify clocks")

        # The reminders: all of them, once each, while the watched
        # system is probed as every 200 ms.
        # Each clock has made its reminder, or passed its deadline
        # (which supersedes a reminder not made yet: then it is lost).
        wait_for(lambda: db_rows(d.db, "SELECT count(*) AS n FROM clocks "
                                 "WHERE kind = 'notify' AND "
                                 "reminders_done > 0")[0]["n"] == N, 40,
                 f"{N} notify clocks past their reminder")
        clocks = {r["incident_id"]: r for r in db_rows(
            d.db, "SELECT incident_id, due_at FROM clocks WHERE "
            "kind = 'notify'")}
        rem = per_incident(d.db, "notify reminder")
        assert len(rem) == N, (
            f"{N - len(rem)} of {N} reminders never recorded: the loop "
            f"was held past their deadline, "
            f"{count(d.db, 'notify deadline missed')} missed already")
        assert all(len(v) == 1 for v in rem.values()), \
            {k: v for k, v in rem.items() if len(v) != 1}
        due = {i: parse_time(clocks[i]["due_at"]) - REMIND_S * 1000
               for i in rem}
        at = {i: parse_time(v[0]["at"]) for i, v in rem.items()}
        assert all(at[i] >= due[i] for i in rem), "a reminder before its time"
        # Recorded in the order the clocks fell due.
        order = sorted(rem, key=lambda i: rem[i][0]["id"])
        late = [(a, b) for a, b in zip(order, order[1:]) if due[b] < due[a]]
        assert not late, f"{len(late)} reminders out of order: {late[:5]}"
        slowest = max(at[i] - due[i] for i in rem)
        assert slowest < LATE_MS, f"a reminder {slowest} ms late"
        first, last = min(due.values()) / 1000, max(at.values()) / 1000
        gap = probed.longest_gap(first, last + 0.5)
        assert gap < GAP_S, (
            f"the watched system was not probed for {gap:.1f} s while "
            f"{N} reminders fired ({first:.1f}-{last:.1f}); the slowest "
            f"was {slowest} ms late")

        # The deadlines: stopped in the middle of their burst.
        wait_for(lambda: count(d.db, "notify deadline missed") > 0, 60,
                 "the first missed deadline")
        d.stop()
        before = count(d.db, "notify deadline missed")
        assert before < N, \
            "the stop waited for the whole burst of missed deadlines"
        start_daemon(d)
        wait_for(lambda: count(d.db, "notify deadline missed") >= N, 60,
                 f"{N} missed deadlines after the restart")
        missed = per_incident(d.db, "notify deadline missed")
        assert len(missed) == N and all(len(v) == 1 for v in
                                        missed.values()), \
            {k: v for k, v in missed.items() if len(v) != 1}
        rem = per_incident(d.db, "notify reminder")
        assert all(len(v) == 1 for v in rem.values())
        d.stop()
    finally:
        probed.close()


# The RTO is given by a reload once all N incidents are open (as general),
# this long after the first failed: those opened past their RTO would be
# major from the start, not reclassified, and a loaded 2-core host took
# 15-40 s to open 2,000 under ASan, beside other scenarios.  The reload
# itself must be over before it passes.
RTO_LEAD_S = 5
# How late the last of N escalations may be recorded (see below).
RTO_LATE_MS = 4000
RTO_LATE_ASAN_MS = 12000


def test_a_burst_of_rtos_passing_keeps_the_probes(scenario):
    d = scenario.daemon()
    probed = fleet(scenario, d, short_policy(
        scenario.dir, notify="1h", notify_remind="30m"))
    try:
        start_daemon(d)
        wait_for(lambda: len(db_rows(d.db, "SELECT 1 FROM incidents")) == N,
                 120, f"{N} incidents open")
        first = min(parse_time(r["started_at"]) for r in db_rows(
            d.db, "SELECT started_at FROM outages"))
        rto_s = -(-(int(time.time() * 1000) - first) // 1000) + RTO_LEAD_S
        probed.rewrite(f"{rto_s}s")
        d.hup()
        wait_for(lambda: len(db_rows(d.db, "SELECT 1 FROM incidents WHERE "
                                     "major = 1")) == N, 40,
                 f"{N} incidents reclassified as major at their RTO")
        started = {r["id"]: parse_time(r["started_at"]) for r in db_rows(
            d.db, "SELECT i.id, o.started_at FROM incidents i JOIN outages "
            "o ON o.incident_id = i.id")}
        got = per_incident(d.db, "reclassified")
        assert len(got) == N and all(len(v) == 1 for v in got.values()), \
            {k: v for k, v in got.items() if len(v) != 1}
        at = {i: parse_time(v[0]["at"]) for i, v in got.items()}
        due = {i: started[i] + rto_s * 1000 for i in got}
        assert all(at[i] >= due[i] for i in got), "reclassified too soon"
        # Each costs more than a reminder (the level raised, a new notify
        # clock, its notice composed, its records hashed): 0.2-0.4 ms of
        # CPU each (0.9 with ASan), the statements kept for the slice and
        # the chain's SHA-256 on the CPU's instructions; 0.7-0.85 ms
        # before, when the last was 1-4 s late on a loaded host.  Held in
        # one callback it was 11 s late, and no probe ran meanwhile.
        # Measured on a 2-core host at load 6-8: the last 0.1-0.7 s late
        # (ASan 5 s); the bound leaves room for a heavier load.
        slowest = max(at[i] - due[i] for i in got)
        bound = RTO_LATE_ASAN_MS if asan() else RTO_LATE_MS
        assert slowest < bound, (
            f"an incident reclassified {slowest} ms after its RTO passed "
            f"(bound {bound} ms)")
        first, last = min(due.values()) / 1000, max(at.values()) / 1000
        gap = probed.longest_gap(first, last + 0.5)
        assert gap < GAP_S, (
            f"the watched system was not probed for {gap:.1f} s while "
            f"{N} RTOs passed; the slowest was {slowest} ms late")
        d.stop()
    finally:
        probed.close()
