"""Many incidents' clocks at once, on the one timer that serves them all.

clocks.c keeps every running clock's next wake-up in one min-heap under a
single libevent timer.  This scenario gives it what could break that: five
incidents opened a few hundred milliseconds apart, so that their reminders
and deadlines interleave; clocks leaving the middle of the heap while the
others wait (a notify clock stopped by `rtowatch reported`, a restore clock
stopped by the service coming back); and a reload, while they run, that
re-arms every clock, changes a system's check, removes a system whose
incident stays open and adds another.  Every clock still fires at its own time, once, and a
stopped one never does.  The ASan build runs it too: a clock freed while
the heap still points at it is a heap-use-after-free there.
"""
from conftest import (cli, events, parse_time, rules_file, short_policy,
                      system_rules, timeline, wait_for, wait_incident)

NOTIFY_MS = 4000
SLACK_MS = 1500


def test_interleaved_clocks_stop_and_reload(scenario):
    names = [f"s{i}" for i in range(5)]
    lst = {n: scenario.listener() for n in names + ["s5"]}
    d = scenario.daemon()
    policy = short_policy(scenario.dir, notify="4s", notify_remind="3s 1s",
                          restore12="8s", restore_remind="3s")

    def rules(systems, every=None):
        every = every or {}
        return rules_file(d.db, *(system_rules(
            n, lst[n].port, rto="1h", every=every.get(n, "200ms"))
            for n in systems), policy=policy)

    d.write_rules(rules(names))
    d.start()
    for n in names:
        lst[n].wait_accepted(2)
    inc = {}
    for n in names:
        lst[n].stop()
        inc[n] = wait_incident(d.db, n)
        if n == "s1":
            # Back at once: its restore clock leaves the heap's middle
            # before its reminder, 5 s after the opening.
            lst[n].start()
            wait_incident(d.db, n, restored=True)
        if n == "s3":
            # Reported to the portal: its notify clock stops.
            rc, out, err = cli("--socket", d.sock, "reported",
                               str(inc[n]["id"]), "--ticket",
                               "AISAC-2026-0301")
            assert rc == 0, (rc, out, err)
    ids = {n: inc[n]["id"] for n in names}

    # A reload while the others' clocks run: s2's check changes, s4 is
    # removed (its incident stays open), s5 is new.
    d.write_rules(rules(["s0", "s1", "s2", "s3", "s5"], {"s2": "300ms"}))
    d.hup()
    lst["s5"].wait_accepted(2)

    for n in ("s0", "s2"):
        wait_for(lambda n=n: events(d.db, ids[n], "restore deadline missed"),
                 20, f"{n}'s missed restore deadline")
    for n in ("s0", "s2"):
        opened = parse_time(inc[n]["opened_at"])
        rem = events(d.db, ids[n], "notify reminder")
        assert len(rem) == 2, (n, timeline(d.db, ids[n]))
        for e, before in zip(rem, (3000, 1000)):
            at = parse_time(e["at"])
            assert opened + NOTIFY_MS - before <= at <= \
                opened + NOTIFY_MS - before + SLACK_MS, (n, e, inc[n])
        missed = events(d.db, ids[n], "notify deadline missed")
        assert len(missed) == 1, (n, timeline(d.db, ids[n]))
        at = parse_time(missed[0]["at"])
        assert opened + NOTIFY_MS <= at <= opened + NOTIFY_MS + SLACK_MS
        # The restore clock: reminded 5 s after the opening, missed at 8.
        for ev, after in (("restore reminder", 5000),
                          ("restore deadline missed", 8000)):
            got = events(d.db, ids[n], ev)
            assert len(got) == 1, (n, timeline(d.db, ids[n]))
            at = parse_time(got[0]["at"])
            assert opened + after <= at <= opened + after + SLACK_MS, \
                (n, got, inc[n])

    # Stopped clocks never fired.
    s1 = [e["event"] for e in timeline(d.db, ids["s1"])]
    assert "restore reminder" not in s1 and \
        "restore deadline missed" not in s1, s1
    assert events(d.db, ids["s3"], "notify deadline missed") == [], \
        timeline(d.db, ids["s3"])
    # Nothing fired twice anywhere.
    for n in names:
        evs = [e["event"] for e in timeline(d.db, ids[n])]
        for e in ("notify deadline missed", "restore deadline missed"):
            assert evs.count(e) <= 1, (n, evs)
        assert evs.count("notify reminder") <= 2, (n, evs)
    d.stop()
