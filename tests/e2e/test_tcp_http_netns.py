"""TCP and HTTP checks of a host in another network namespace.

The host (namespace "tgt", 198.18.0.2 over a veth pair) runs an SMTP-like
banner on port 2525 and a web server on 8080; the daemon runs in "mon".

  a firewall drop on the host (iptables DROP in its namespace): both
  checks time out in the handshake, and say so; removing the rule
  restores both incidents;
  the daemon's link set down: no route, both are "unreachable" in the
  kernel's words; the link up again restores them.
"""
import shutil

import pytest

from conftest import rules_file, wait_for, wait_incident
from pinglib import TGT_ADDR, daemon_in, netpair, ns_server

__all__ = ["netpair"]

SERVICES = r"""
import http.server, socket, sys, threading

class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

web = http.server.ThreadingHTTPServer((sys.argv[1], 8080), Quiet)
smtp = socket.create_server((sys.argv[1], 2525))

def banner():
    while True:
        c, _ = smtp.accept()
        c.sendall(b"220 tgt.example.test ESMTP\r\n")
        c.close()

threading.Thread(target=banner, daemon=True).start()
print("ready", flush=True)
web.serve_forever()
"""


@pytest.fixture
def services(netpair, tmp_path):
    with ns_server(netpair.tgt, SERVICES, [TGT_ADDR], tmp_path,
                   "the host's services") as p:
        yield p


def rules(d):
    return rules_file(
        d.db,
        'system "mail" {\n    core no\n    rto 1h\n    owner "e2e tests"\n'
        f'    check tcp {TGT_ADDR} port 2525 expect "220" every 600ms '
        "timeout 500ms\n    down after 2 failures\n"
        "    up after 2 successes\n}\n",
        'system "web" {\n    core no\n    rto 1h\n    owner "e2e tests"\n'
        f'    check http "http://{TGT_ADDR}:8080/" status 200 every 600ms '
        "timeout 500ms\n    down after 2 failures\n"
        "    up after 2 successes\n}\n")


def wait_both_ok(d):
    for what in (f'tcp {TGT_ADDR} port 2525 expect "220": ok in',
                 f"http://{TGT_ADDR}:8080/: ok in"):
        wait_for(lambda: d.run_log().count(what) >= 2, 20,
                 f"two ok probes ({what}) in the log")


def started(netpair, scenario):
    d = daemon_in(netpair, scenario)
    d.write_rules(rules(d))
    d.start("-v")
    wait_both_ok(d)
    return d


def test_firewall_drop_is_a_timeout(scenario, netpair, services):
    if shutil.which("iptables") is None:
        pytest.skip("iptables is not installed (make check installs it)")
    d = started(netpair, scenario)
    drop = ["iptables", "-w", "-A", "INPUT", "-p", "tcp", "-j", "DROP"]
    netpair.sh(netpair.tgt, *drop)
    mail = wait_incident(d.db, "mail")
    web = wait_incident(d.db, "web")
    assert mail["cause"] == (f'tcp {TGT_ADDR} port 2525 expect "220": '
                             "timeout: no answer to the handshake within "
                             "500ms"), mail["cause"]
    assert web["cause"] == (f"http http://{TGT_ADDR}:8080/: timeout: no "
                            "answer to the handshake within 500ms"), \
        web["cause"]

    drop[2] = "-D"
    netpair.sh(netpair.tgt, *drop)
    wait_incident(d.db, "mail", restored=True, timeout=20)
    wait_incident(d.db, "web", restored=True, timeout=20)
    d.stop()


def test_link_down_is_unreachable(scenario, netpair, services):
    d = started(netpair, scenario)
    netpair.ip(netpair.mon, "link", "set", "rtw0", "down")
    mail = wait_incident(d.db, "mail")
    web = wait_incident(d.db, "web")
    assert mail["cause"].endswith(": unreachable: Network is unreachable"), \
        mail["cause"]
    assert web["cause"].endswith(": unreachable: Network is unreachable"), \
        web["cause"]

    netpair.ip(netpair.mon, "link", "set", "rtw0", "up")
    wait_incident(d.db, "mail", restored=True, timeout=20)
    wait_incident(d.db, "web", restored=True, timeout=20)
    d.stop()
