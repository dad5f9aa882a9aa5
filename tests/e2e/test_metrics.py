"""GET /metrics: the daemon's state in Prometheus's text format, scraped
by a real Prometheus (Debian's prometheus), as a computer center's other
tools would.

A system whose port is closed goes down; Prometheus scrapes /metrics
on the daemon's web listener (set web listen 127.0.0.1:PORT), directly,
as the account it runs as: on loopback the owner of the scraper's socket
gets the role the control socket would give it, so a Prometheus whose
account has a role scrapes without signing in.  A query through its
HTTP API, rtowatch_check_up == 0, returns that check and not the one
that answers.  promtool check metrics finds nothing to say of the output,
and the control socket's /metrics says the same.  An account with no
role is refused (403), and the refusal logged.
"""
import http.client
import json
import os
import pwd
import shutil
import socket
import subprocess
import urllib.parse
import urllib.request

import pytest

from conftest import api, rules_file, start_daemon, system_rules, wait_for

PROMETHEUS = shutil.which("prometheus")
PROMTOOL = shutil.which("promtool")


def scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics",
                                timeout=10) as r:
        assert r.status == 200
        assert r.headers["Content-Type"] == ("text/plain; version=0.0.4; "
                                             "charset=utf-8")
        return r.read().decode()


def scrape_socket(sock):
    """GET /metrics on the control socket."""
    c = http.client.HTTPConnection("rtowatch", timeout=30)
    c.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.sock.connect(sock)
    c.request("GET", "/metrics")
    r = c.getresponse()
    text = r.read().decode()
    c.close()
    assert r.status == 200, text
    return text


def samples(text, family):
    """FAMILY's sample lines, without the values that change."""
    return sorted(l.rsplit(" ", 1)[0] for l in text.splitlines()
                  if l.startswith(family + "{"))


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
    listen = free_port()
    d = scenario.daemon()
    d.write_rules(rules_file(
        d.db, f"set web listen 127.0.0.1:{listen}\n",
        system_rules("web", web.port, every="200ms", timeout="150ms"),
        system_rules("gone", closed, every="200ms", timeout="150ms")))
    start_daemon(d)
    wait_for(lambda: any(s["name"] == "gone" and s["state"] == "down"
                         for s in api(d.sock, "GET", "/v1/status")[1]
                         ["systems"]), 15, "gone down")

    prom = None
    try:
        text = scrape(listen)
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
        # The control socket's /metrics is the same, check for check.
        assert samples(scrape_socket(d.sock), "rtowatch_check_up") == \
            samples(text, "rtowatch_check_up")

        # A real Prometheus, on loopback, scraping every 500 ms.
        port = free_port()
        cfg = os.path.join(scenario.dir, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 500ms\n"
                    "  scrape_timeout: 400ms\n"
                    "scrape_configs:\n  - job_name: rtowatch\n"
                    "    static_configs:\n"
                    f"      - targets: ['127.0.0.1:{listen}']\n")
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
    d.stop()


def test_metrics_refused_without_a_role(scenario):
    """An account the rules give no role gets no /metrics on the web
    listener, as it gets none on the control socket."""
    if os.geteuid() != 0:
        pytest.skip("needs root to scrape as another account (nobody)")
    nobody = pwd.getpwnam("nobody").pw_uid
    closed = scenario.closed_port()
    listen = free_port()
    d = scenario.daemon()
    d.write_rules(rules_file(
        d.db, f"set web listen 127.0.0.1:{listen}\n",
        system_rules("gone", closed, every="200ms", timeout="150ms")))
    start_daemon(d)
    wait_for(lambda: "rtowatch_check_up" in scrape(listen), 10,
             "the metrics on the web listener")

    def as_nobody():
        os.setgid(pwd.getpwnam("nobody").pw_gid)
        os.setgroups([])
        os.setuid(nobody)
    p = subprocess.run(
        ["/usr/bin/python3", "-c",
         "import urllib.request, urllib.error, sys\n"
         "try:\n"
         f" urllib.request.urlopen('http://127.0.0.1:{listen}/metrics',"
         " timeout=10)\n"
         "except urllib.error.HTTPError as e:\n"
         " sys.exit(e.code - 400)\n"],
        preexec_fn=as_nobody, timeout=30)
    assert p.returncode == 3, p.returncode     # 403
    wait_for(lambda: "web: refused nobody" in d.run_log(), 5,
             "the refusal in the log")
    d.stop()

