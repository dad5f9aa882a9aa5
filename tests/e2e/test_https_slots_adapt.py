"""The https slots open grow while they carry more, and close again when
they are not needed (issue 20).

The daemon runs at most `set https-concurrency` https probes at once,
but opens only as many slots as carry more probes a second: 16 at first,
doubled by a trial while probes wait for one and the rate rises.  Each
probe in flight holds OpenSSL's buffers, about 31 kB, so slots that stay
open after the need has gone let the next burst of due probes (after a
stall, a reload, a clock burst) run that many handshakes at once and
leave the heap higher.  On the code before, the slots once opened stayed
open: in an hour's hold on a busy host they climbed to 64, then 128,
and the daemon's memory with them.

A real TLS server on loopback answers each request after 500 ms, so
that 16 slots carry 32 probes a second and 100 checks every 2 s want
50: probes wait, a doubling carries more and is kept, and
rtowatch_https_open in /metrics reads 32 or more.  Then the server
answers at once: no probe waits any more and at most a handful run at
once, so within a few windows the slots open come back to 16.

A reload in the middle of a doubling's trial (SIGHUP from a rules
change) goes back to the slots before it: the doubling was never judged
to carry more, and on the code before it was kept as if learnt.
"""
from conftest import rules_file, start_daemon, wait_for
from http_target import (  # noqa: F401
    CertAuthority, http_system, http_targets)
from test_https_concurrency import metric
from test_metrics import scrape_socket


def open_slots(d):
    return metric(scrape_socket(d.sock), "rtowatch_https_open")


def slow_server(scenario, workdir, http_targets):
    """A daemon with 100 checks every 2 s of a TLS server that answers
    in 500 ms: more than 16 slots carry."""
    ca = CertAuthority(workdir)
    cert, key = ca.issue("web", 365)
    tls = http_targets(cert, key)
    tls.set(delay=0.5)
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, *(
        http_system(f"web{i}", tls.url(f"/s{i}"), f'ca-file "{ca.cert}"',
                    every="2s", timeout="1500ms", down_after=50)
        for i in range(100))))
    start_daemon(d)
    return d, tls


def test_https_slots_grow_then_close(scenario, workdir, http_targets):
    d, tls = slow_server(scenario, workdir, http_targets)
    assert open_slots(d) == 16, "the https slots do not open at 16"
    wait_for(lambda: open_slots(d) >= 32, 60,
             "the https slots doubled while probes waited for one and "
             "more slots carried more")
    grown = open_slots(d)
    tls.set(delay=0.0)
    wait_for(lambda: open_slots(d) == 16, 40,
             f"the {grown:.0f} https slots back to 16 once no probe "
             f"waited and few ran at once")
    text = scrape_socket(d.sock)
    assert metric(text, "rtowatch_https_running_peak") <= grown, text
    d.stop()


def test_reload_during_a_doubling_goes_back(scenario, workdir,
                                            http_targets):
    d, _ = slow_server(scenario, workdir, http_targets)
    trying = "https slots: 16 open, trying 32"
    wait_for(lambda: trying in d.run_log(), 60,
             "a trial doubling the https slots")
    assert open_slots(d) == 32, "the trial did not open 32 slots"
    d.hup()
    # The reload runs in the loop's signal callback, so /metrics read
    # after its first line answers after it has ended.
    wait_for(lambda: "reloading" in d.run_log(), 15, "the reload")
    assert open_slots(d) == 16, (
        "a reload kept the 32 slots of a doubling never judged")
    d.stop()

