"""The wall clock jumps two hours back during two outages.

Two systems fail; their incidents open; then the daemon's wall clock
moves -2 h (an operator's `date -s`, an NTP step after a clock that ran
ahead).  The jump is in both incidents' timelines within 2 s.  One
system's RTO is 5 s: it still ends 5 s into the outage, measured on the
monotonic clock, so the incident becomes major then and not two hours
later.  Both come back: each outage lasted what it really lasted (the
monotonic length), is restored after it began, not "2 h before it
started, after 0ms", and is within its RTO or not by that length.
Probes keep their schedule.
"""
import re

from conftest import (events, incidents_of, now_ms, parse_time, rules_file,
                      short_policy, system_rules, timeline, wait_for,
                      wait_incident)
from faketimelib import FakeClock, schedule_stats

JUMP_S = 2 * 3600
JUMP_MS = JUMP_S * 1000
SOON_MS = 2000
RTO_MS = 5000


def test_jump_back_keeps_outage_lengths(scenario):
    clock = FakeClock(scenario.dir)
    long_rto = scenario.listener()
    short_rto = scenario.listener()
    d = scenario.daemon()
    policy = short_policy(scenario.dir, notify="1h", notify_remind="30m")
    d.write_rules(rules_file(
        d.db,
        system_rules("files", long_rto.port, rto="1h", every="200ms",
                     timeout="100ms"),
        system_rules("wiki", short_rto.port, rto="5s", every="200ms",
                     timeout="100ms"),
        policy=policy))
    d.start(env=clock.env())
    long_rto.wait_accepted(2)
    short_rto.wait_accepted(2)
    stopped = now_ms()
    long_rto.stop()
    short_rto.stop()
    files = wait_incident(d.db, "files")
    wiki = wait_incident(d.db, "wiki")
    assert not events(d.db, wiki["id"], "reclassified"), \
        "the 5 s RTO ended before the jump: too slow a machine?"

    schedule_stats(d)           # clears the daemon's counts
    jumped = now_ms() - JUMP_MS         # the daemon's wall clock, now
    clock.jump(-JUMP_S)
    # The RTO ends 5 s into the outage by the monotonic clock, though the
    # wall clock says it began two hours from now.
    rec = wait_for(lambda: events(d.db, wiki["id"], "reclassified"), 15,
                   "wiki's 5 s RTO to end on the monotonic clock")[0]
    into = parse_time(rec["at"]) + JUMP_MS - parse_time(wiki["started_at"])
    assert RTO_MS <= into <= RTO_MS + SOON_MS, (into, rec)
    print(f"-2h: the 5 s RTO ended {into} ms into the outage")
    assert "longer than its RTO of 5s" in rec["detail"], rec
    assert not events(d.db, files["id"], "reclassified")

    for inc in (files, wiki):
        jump = wait_for(lambda: events(d.db, inc["id"], "clock jump"), 5,
                        f"the jump in the timeline of {inc['system']}")[0]
        assert 0 <= parse_time(jump["at"]) - jumped <= SOON_MS, jump
        print(f"-2h: noted {parse_time(jump['at']) - jumped} ms after "
              f"the jump")
        assert "-2h" in jump["detail"], jump
        names = [e["event"] for e in timeline(d.db, inc["id"])]
        assert names[:2] == ["opened", "clock jump"], names

    back = now_ms()
    long_rto.start()
    short_rto.start()
    real_ms = back - stopped
    for name, within in (("files", 1), ("wiki", 0)):
        inc = wait_incident(d.db, name, restored=True)
        started = parse_time(inc["started_at"])
        restored = parse_time(inc["restored_at"])
        assert restored >= started, (
            f"{name}: restored at {inc['restored_at']}, before it began "
            f"at {inc['started_at']}")
        # The real length: from the first failed probe to the first
        # good one, each up to a 200 ms interval after the test's moves.
        length = restored - started
        assert abs(length - real_ms) <= 700, (name, length, real_ms, inc)
        print(f"-2h: {name} down {length} ms (the test saw {real_ms} ms), "
              f"within_rto {inc['within_rto']}")
        assert inc["within_rto"] == within, inc
        assert inc["major"] == 1 - within, inc
        restore = events(d.db, inc["id"], "restored")[0]
        # Under a minute the length keeps its milliseconds ("5.4s").
        m = re.search(r"after (\d+(?:\.\d+)?)s", restore["detail"])
        assert m and abs(float(m[1]) * 1000 - length) <= 1000, restore
        assert ("within" if within else "beyond") in restore["detail"]
    assert len(incidents_of(d.db, "files")) == 1
    assert "the wall clock moved -2h" in d.run_log()

    # The probes kept their schedule across the jump.
    long_rto.wait_accepted(10, what="probes after the jump")
    started_n, busy, missed, p50, p99, worst = schedule_stats(d)
    assert started_n >= 20 and missed == 0, (started_n, missed)
    assert p99 < 100, f"probe start lateness p99 {p99} ms, max {worst} ms"
    print(f"-2h: {started_n} probe starts, late p50 {p50} ms, p99 {p99} "
          f"ms, max {worst} ms")
    d.stop()
