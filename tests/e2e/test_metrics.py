"""GET /metrics: the daemon's state in Prometheus's text format, scraped
by a real Prometheus (Debian's prometheus), as a computer center's other
tools would.

A system whose port is closed goes down; Prometheus scrapes /metrics
(through a loopback relay to the control socket: it cannot scrape a
Unix socket) and a query through its HTTP API,
rtowatch_check_up == 0, returns that check and not the one that
answers.  promtool check metrics finds nothing to say of the output.
"""
import json
import os
import shutil
import subprocess
import urllib.parse
import urllib.request

import pytest

from conftest import api, rules_file, start_daemon, system_rules, wait_for
from metricsrelay import UnixRelay

PROMETHEUS = shutil.which("prometheus")
PROMTOOL = shutil.which("promtool")


def scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics",
                                timeout=10) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain; "
                                                    "version=0.0.4")
        return r.read().decode()


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def prom_query(port, q):
    url = (f"http://127.0.0.1:{port}/api/v1/query?"
           + urllib.parse.urlencode({"query": q}))
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            body = json.loads(r.read())
    except OSError:
        return None
    assert body["status"] == "success", body
    return body["data"]["result"]


@pytest.mark.skipif(PROMETHEUS is None or PROMTOOL is None,
                    reason="Debian's prometheus is not installed "
                    "(scripts/deps.sh check)")
def test_prometheus_scrapes_the_down_check(scenario):
    web = scenario.listener()
    closed = scenario.closed_port()
    d = scenario.daemon()
    d.write_rules(rules_file(
        d.db,
        system_rules("web", web.port, every="200ms", timeout="150ms"),
        system_rules("gone", closed, every="200ms", timeout="150ms")))
    start_daemon(d)
    wait_for(lambda: any(s["name"] == "gone" and s["state"] == "down"
                         for s in api(d.sock, "GET", "/v1/status")[1]
                         ["systems"]), 15, "gone down")

    relay = UnixRelay(d.sock)
    prom = None
    try:
        text = scrape(relay.port)
        # What a person reading it sees: the down check, the probes.
        assert (f'rtowatch_check_up{{system="gone",check="tcp 127.0.0.1 '
                f'port {closed}",kind="tcp"}} 0') in text, text
        assert (f'rtowatch_check_up{{system="web",check="tcp 127.0.0.1 '
                f'port {web.port}",kind="tcp"}} 1') in text, text
        assert "# TYPE rtowatch_probes_total counter" in text
        assert "# TYPE rtowatch_probe_start_lateness_seconds histogram" \
            in text
        assert 'rtowatch_incidents_open{level="1"} 1' in text, text
        assert 'rtowatch_clocks_running{kind="notify"} 1' in text, text
        for family in ("rtowatch_outbox_messages",
                       "rtowatch_outbox_oldest_age_seconds",
                       "rtowatch_store_failing",
                       "rtowatch_clocks_overdue",
                       "rtowatch_check_round_trip_seconds",
                       "rtowatch_check_last_change_timestamp_seconds"):
            assert f"# TYPE {family} " in text, family
        refused = [l for l in text.splitlines() if l.startswith(
            'rtowatch_probes_total{kind="tcp",result="refused"}')]
        assert refused and int(refused[0].split()[-1]) >= 3, refused

        p = subprocess.run([PROMTOOL, "check", "metrics"], input=text,
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 0 and p.stdout.strip() == "" and \
            p.stderr.strip() == "", (p.returncode, p.stdout, p.stderr)

        # A real Prometheus, on loopback, scraping every 500 ms.
        port = free_port()
        cfg = os.path.join(scenario.dir, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 500ms\n"
                    "  scrape_timeout: 400ms\n"
                    "scrape_configs:\n  - job_name: rtowatch\n"
                    "    static_configs:\n"
                    f"      - targets: ['127.0.0.1:{relay.port}']\n")
        log = open(os.path.join(scenario.dir, "prometheus.log"), "wb")
        prom = subprocess.Popen(
            [PROMETHEUS, f"--config.file={cfg}",
             f"--storage.tsdb.path={scenario.dir}/tsdb",
             f"--web.listen-address=127.0.0.1:{port}"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        down = wait_for(lambda: prom_query(port, "rtowatch_check_up == 0"),
                        60, "Prometheus to have scraped the down check")
        assert [r["metric"]["system"] for r in down] == ["gone"], down
        assert down[0]["metric"]["check"] == f"tcp 127.0.0.1 port {closed}"
        up = prom_query(port, "rtowatch_check_up == 1")
        assert [r["metric"]["system"] for r in up] == ["web"], up
        target = prom_query(port, 'up{job="rtowatch"}')
        assert target and target[0]["value"][1] == "1", target
    finally:
        if prom is not None:
            prom.terminate()
            prom.wait(timeout=30)
        relay.close()
    d.stop()

