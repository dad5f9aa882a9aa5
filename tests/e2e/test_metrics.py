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



@pytest.mark.skipif(PROMETHEUS is None or shutil.which("openssl") is None,
                    reason="needs Debian's prometheus and openssl "
                    "(scripts/deps.sh check)")
def test_prometheus_scrapes_over_tls_with_a_token(scenario):
    """Beyond loopback the listener is TLS and nobody's socket is known:
    a Prometheus elsewhere sends set web metrics-token's token
    (authorization: credentials_file), and gets /metrics, and only that;
    one without it, or with a wrong one, is refused (401) and the
    refusal logged."""
    cert = os.path.join(scenario.dir, "web.crt")
    key = os.path.join(scenario.dir, "web.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "1",
                    "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    token = os.path.join(scenario.dir, "metrics.token")
    with open(token, "w") as f:
        f.write("s3cret-Metrics-token-0123456789\n")
    os.chmod(token, 0o600)
    wrong = os.path.join(scenario.dir, "wrong.token")
    with open(wrong, "w") as f:
        f.write("not-the-metrics-token-987654321\n")
    closed = scenario.closed_port()
    listen = free_port()
    d = scenario.daemon()
    d.write_rules(rules_file(
        d.db, f"set web listen 127.0.0.1:{listen}\n"
        f'set web tls cert "{cert}" key "{key}"\n'
        f'set web metrics-token "{token}"\n',
        system_rules("gone", closed, every="200ms", timeout="150ms")))
    start_daemon(d)
    wait_for(lambda: f"web page on https://127.0.0.1:{listen}"
             in d.run_log(), 10, "the TLS listener")

    def job(name, extra):
        return (f"  - job_name: {name}\n    scheme: https\n"
                f"    tls_config:\n      ca_file: {cert}\n{extra}"
                f"    static_configs:\n"
                f"      - targets: ['127.0.0.1:{listen}']\n")
    port = free_port()
    cfg = os.path.join(scenario.dir, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("global:\n  scrape_interval: 500ms\n"
                "  scrape_timeout: 400ms\nscrape_configs:\n"
                + job("token", "    authorization:\n"
                      f"      credentials_file: {token}\n")
                + job("wrong", "    authorization:\n"
                      f"      credentials_file: {wrong}\n")
                + job("none", ""))
    log = open(os.path.join(scenario.dir, "prometheus.log"), "wb")
    prom = subprocess.Popen(
        [PROMETHEUS, f"--config.file={cfg}",
         f"--storage.tsdb.path={scenario.dir}/tsdb",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        down = wait_for(lambda: prom_query(port, "rtowatch_check_up == 0"),
                        60, "Prometheus to have scraped with the token")
        assert [(r["metric"]["job"], r["metric"]["system"])
                for r in down] == [("token", "gone")], down
        targets = wait_for(lambda: (lambda r: r if r and len(r) == 3
                                    else None)(prom_query(port, "up")),
                           30, "the three jobs scraped")
        assert {r["metric"]["job"]: r["value"][1] for r in targets} == \
            {"token": "1", "wrong": "0", "none": "0"}, targets
    finally:
        prom.terminate()
        prom.wait(timeout=30)
    # The token opens /metrics, nothing else.
    import ssl
    ctx = ssl.create_default_context(cafile=cert)
    req = urllib.request.Request(
        f"https://127.0.0.1:{listen}/v1/status",
        headers={"Authorization": "Bearer s3cret-Metrics-token-0123456789"})
    with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
        assert r.status == 200 and b"gone" not in r.read()   # the sign-in
    assert "web: refused a scraper with a wrong metrics-token" in d.run_log()
    d.stop()


def test_metrics_token_file_checked(workdir):
    """A token file others may read, or too short a token, is an error
    of the rules at rtowatchd -n, with its line."""
    from conftest import rules_check
    token = os.path.join(str(workdir), "t")
    rules = os.path.join(str(workdir), "r.conf")
    for mode, text, expect in (
            (0o644, "s3cret-Metrics-token-0123456789\n",
             "mode 0644 lets group or others read it"),
            (0o600, "short\n", "expected a token of 16 to")):
        with open(token, "w") as f:
            f.write(text)
        os.chmod(token, mode)
        with open(rules, "w", encoding="utf-8") as f:
            f.write(rules_file(os.path.join(str(workdir), "r.db"),
                               "set web listen 127.0.0.1:8080\n"
                               f'set web metrics-token "{token}"\n',
                               system_rules("wifi", 9)))
        rc, out, err = rules_check(rules)
        assert rc == 1 and "r.conf:4: web metrics-token" in err \
            and expect in err, err
