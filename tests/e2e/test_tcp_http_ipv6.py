"""TCP and HTTP checks of IPv6 literals: ::1 and http://[::1]:PORT/.

A banner service and a web server listen on ::1 only: both checks are ok
(the TCP one quoting the banner), and nothing reaches them over IPv4.
Stopped, each is refused, and the incident's cause says so.
"""
import http.server
import socket
import threading

import pytest

from conftest import api, rules_file, start_daemon, wait_for, wait_incident


class Quiet(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"campus portal\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Web6(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
    daemon_threads = True


def system(name, check):
    return (f'system "{name}" {{\n    core no\n    rto 1h\n'
            f'    owner "e2e tests"\n    {check} every 600ms timeout 500ms\n'
            f"    down after 2 failures\n    up after 2 successes\n}}\n")


def test_ipv6_literals(scenario):
    try:
        banner = socket.socket(socket.AF_INET6)
        banner.bind(("::1", 0))
    except OSError as e:
        pytest.skip(f"no IPv6 loopback here: {e}")
    banner.listen(16)
    web = Web6(("::1", 0), Quiet)
    stop = threading.Event()

    def serve_banner():
        banner.settimeout(0.2)
        while not stop.is_set():
            try:
                c, _ = banner.accept()
            except OSError:
                continue
            c.sendall(b"* OK IMAP4rev1 ready\r\n")
            c.close()

    threads = [threading.Thread(target=serve_banner, daemon=True),
               threading.Thread(target=web.serve_forever, daemon=True)]
    for t in threads:
        t.start()
    bport, wport = banner.getsockname()[1], web.server_address[1]
    try:
        d = scenario.daemon()
        d.write_rules(rules_file(
            d.db,
            system("imap", f'check tcp ::1 port {bport} expect "* OK"'),
            system("portal", f'check http "http://[::1]:{wport}/" '
                             f'contains "campus"')))
        start_daemon(d)

        def checks():
            status, body = api(d.sock, "GET", "/v1/status")
            assert status == 200, body
            return {s["name"]: s["checks"][0] for s in body["systems"]}

        c = wait_for(lambda: (lambda c: c if all(
            x["result"] == "ok" for x in c.values()) else None)(checks()),
            15, "both checks ok over IPv6")
        assert c["imap"]["detail"] == 'connected: "* OK IMAP4rev1 ready"', c
        assert c["portal"]["detail"].startswith("200 OK in "), c
    finally:
        stop.set()
        web.shutdown()
        web.server_close()
        banner.close()
        for t in threads:
            t.join(5)

    imap = wait_incident(d.db, "imap")["cause"]
    assert imap == (f'tcp ::1 port {bport} expect "* OK": refused: '
                    "Connection refused"), imap
    portal = wait_incident(d.db, "portal")["cause"]
    assert portal == (f"http http://[::1]:{wport}/: refused: Connection "
                      "refused"), portal
    d.stop()
