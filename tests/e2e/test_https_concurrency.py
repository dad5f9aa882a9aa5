"""More https checks due at once than the daemon runs at once (issue 20).

Each https probe holds libcurl's transfer and its TLS session while it
runs, about 100 kB: 10,000 https checks on a host short of CPU piled up
3,000 of them, 420 MB.  The scheduler runs at most `set https-concurrency`
(default 128) at once; a probe due while all run waits its turn, and the
wait is start lateness, not response time: its timeout and its response
time begin when it starts.

A real TLS server on loopback answers after a delay and counts the
connections it serves at once.  What a user would notice:
  - with the default, 210 checks every 3 s against a server that takes
    2 s never make it serve more than 128 connections at once (on the
    code before the cap it served about 140);
  - with `set https-concurrency 2`, six checks whose probes wait for a
    slot longer than their 800 ms timeout all report "ok" with the
    server's real 500 ms, none a timeout, and the waits show as start
    lateness in /metrics; after a reload they go on the same way;
  - six https targets that drop every SYN (a listener whose queue is
    full) do not starve the two that answer: a probe whose handshake is
    unanswered after 1 s gives its slot on, so with 3 slots the two good
    checks are probed at their interval, while the silent ones still time
    out with "no answer to the handshake".
"""
import re
import socket

from conftest import incidents, rules_file, start_daemon, wait_for
from http_target import (  # noqa: F401
    CertAuthority, http_client, http_system, http_targets)
from test_metrics import scrape_socket

# -v's line for each result: "web3: http https://...: ok in 502 ms", or
# "web3: http https://...: timeout: ..."
RESULT_RE = re.compile(r": http https://\S+: (ok in (\d+) ms|\S+: .*)$")


def metric(text, name):
    """The value of the sample NAME (no labels) in /metrics's TEXT."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"no {name} in /metrics:\n{text[-2000:]}")


def tls_server(workdir, http_targets, delay):
    ca = CertAuthority(workdir)
    cert, key = ca.issue("web", 365)
    tls = http_targets(cert, key)
    tls.set(delay=delay)
    return ca, tls


def results(d):
    """The response times of the ok https probes, and the lines of the
    others (timeouts...), from the daemon's -v log."""
    ok, other = [], []
    for line in d.run_log().splitlines():
        m = RESULT_RE.search(line)
        if m and m.group(2) is not None:
            ok.append(int(m.group(2)))
        elif m:
            other.append(line)
    return ok, other


def test_https_default_cap_bounds_connections(scenario, workdir,
                                              http_targets, http_client):
    ca, tls = tls_server(workdir, http_targets, 2.0)
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, *(
        http_system(f"web{i}", tls.url(f"/s{i}"), f'ca-file "{ca.cert}"',
                    every="3s", timeout="2800ms") for i in range(210))))
    start_daemon(d)
    wait_for(lambda: len(results(d)[0]) >= 300, 40,
             "300 ok https probes")
    assert tls.peak <= 128, (
        f"the server served {tls.peak} https connections at once: more "
        f"than the default https-concurrency 128")
    ok, other = results(d)
    assert not other, "every probe ok:\n" + "\n".join(other[:5])
    assert all(2000 <= ms < 2800 for ms in ok), \
        f"the server's 2 s, not the wait for a slot: {sorted(ok)[-5:]}"
    text = scrape_socket(d.sock)
    assert metric(text, "rtowatch_https_concurrency") == 128
    assert 0 < metric(text, "rtowatch_https_running_peak") <= 128, text
    assert metric(text, "rtowatch_https_waited_total") > 0, \
        "70 due a second for 128 slots of 2 s: some waited"
    assert incidents(d.db) == [], "no incident while the server answers"
    d.stop()


def test_https_wait_is_lateness_not_timeout(scenario, workdir, http_targets,
                                            http_client):
    ca, tls = tls_server(workdir, http_targets, 0.5)
    d = scenario.daemon()
    d.write_rules(rules_file(
        d.db, *(http_system(f"web{i}", tls.url(f"/s{i}"),
                            f'ca-file "{ca.cert}"', every="1s",
                            timeout="800ms") for i in range(6))).replace(
        "\n\n", "\nset https-concurrency 2\n\n", 1))
    start_daemon(d)

    def late():
        text = scrape_socket(d.sock)
        m = re.search(r'lateness_seconds_bucket\{le="0.25"\} (\d+)', text)
        return metric(text, "rtowatch_probe_start_lateness_seconds_count") \
            - int(m.group(1))
    # Six due a second for two slots of 0.5 s: the queue grows until
    # probes start over 250 ms late, longer once their slots are skipped.
    wait_for(lambda: late() >= 3 and len(results(d)[0]) >= 12, 30,
             "probes that waited over 250 ms for a slot, and 12 ok")
    assert tls.peak <= 2, f"{tls.peak} connections at once, above the cap 2"
    ok, other = results(d)
    assert not other, ("a probe that waited for a slot failed (its wait "
                       "counted against its timeout?):\n"
                       + "\n".join(other[:5]))
    assert all(500 <= ms < 800 for ms in ok), \
        f"response times are the server's 500 ms, not the wait: {ok}"
    text = scrape_socket(d.sock)
    assert metric(text, "rtowatch_https_running_peak") == 2, text
    assert incidents(d.db) == [], "no incident while the server answers"

    # A reload drops the queue with the old monitors, and the slots with
    # their probes: the new ones start from empty (no slot leaks, and
    # the sanitizer builds find nothing left behind).
    before = len(results(d)[0])
    d.hup()
    wait_for(lambda: "reloading" in d.run_log() and
             len(results(d)[0]) >= before + 12, 30,
             "12 more ok probes after a reload")
    assert not results(d)[1], results(d)[1][:5]
    text = scrape_socket(d.sock)
    assert metric(text, "rtowatch_https_running") <= 2, text
    d.stop()


def test_https_silent_targets_lend_their_slots(scenario, workdir,
                                               http_targets, http_client):
    ca, tls = tls_server(workdir, http_targets, 0)
    # listen(0) with one connection never accepted: the queue is full and
    # the kernel drops every SYN after it, as a firewall would.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(0)
    port = silent.getsockname()[1]
    filler = socket.create_connection(("127.0.0.1", port))
    try:
        d = scenario.daemon()
        d.write_rules(rules_file(
            d.db,
            *(http_system(f"silent{i}", f"https://127.0.0.1:{port}/",
                          f'ca-file "{ca.cert}"', every="4s",
                          timeout="3500ms", down_after=9)
              for i in range(6)),
            *(http_system(f"good{i}", tls.url(f"/g{i}"),
                          f'ca-file "{ca.cert}"', every="4s",
                          timeout="3500ms") for i in range(2))).replace(
            "\n\n", "\nset https-concurrency 3\n\n", 1))
        start_daemon(d)

        def good_ok():
            log = d.run_log()
            return min(log.count(f"{tls.url(f'/g{i}')}: ok in ")
                       for i in range(2))
        # Without the lending, the six silent probes would hold the three
        # slots 3.5 s each: 21 slot-seconds every 4 s for 12, and the good
        # checks would wait behind them, probed every 7 s or so.
        wait_for(lambda: good_ok() >= 3, 14,
                 "three ok probes of each good check in 14 s")
        text = scrape_socket(d.sock)
        assert metric(text, "rtowatch_https_lent_total") > 0, text
        assert metric(text, "rtowatch_https_running_peak") <= 3, text
        assert "no answer to the handshake within 3.5s" in d.run_log(), \
            "the silent targets still report their own timeout"
        d.stop()
    finally:
        filler.close()
        silent.close()
