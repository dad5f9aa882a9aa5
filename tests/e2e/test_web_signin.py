"""Who may see the web page.

On loopback without TLS the page knows the caller's account from the
kernel (the owner of the client's socket) and gives it the role the
control socket would: an auditor reads, an account without a role gets
nothing, and nobody reaches a write.  Over TLS a person signs in with the
host's account and password (PAM): a wrong password is refused, a right
one gets a session cookie that is Secure, HttpOnly and SameSite=Strict,
an account without a role is refused even with its right password, and
every sign-in and refusal is logged with the account.

The accounts, their passwords and the groups are real ones this test
creates (useradd, chpasswd) and removes, so it needs root.
"""
import http.client
import os
import re
import shutil
import socket
import ssl
import subprocess
import urllib.parse

import pytest

from cdp import Browser
from conftest import (rules_file, system_rules, timeline, wait_for,
                      wait_incident, wait_socket)

TAG = f"{os.getpid() % 100000}"
AUDITOR = f"rtw-wa{TAG}"
STRANGER = f"rtw-ws{TAG}"
GROUP = f"rtw-waud{TAG}"
PASSWORD = "correct horse 19"


@pytest.fixture
def accounts():
    if os.geteuid() != 0:
        pytest.skip("needs root to create the test's accounts and groups")
    for tool in ("useradd", "groupadd", "chpasswd"):
        if not shutil.which(tool):
            pytest.skip(f"needs {tool} (passwd package)")
    made_users, made_groups = [], []
    try:
        subprocess.run(["groupadd", "--system", GROUP], check=True)
        made_groups.append(GROUP)
        for user, extra in ((AUDITOR, ["-G", GROUP]), (STRANGER, [])):
            subprocess.run(["useradd", "--system", "--no-create-home",
                            "--shell", "/usr/sbin/nologin", *extra, user],
                           check=True)
            made_users.append(user)
            subprocess.run(["chpasswd"], input=f"{user}:{PASSWORD}\n",
                           text=True, check=True)
        yield
    finally:
        for u in made_users:
            subprocess.run(["userdel", u], check=False)
        for g in made_groups:
            subprocess.run(["groupdel", g], check=False)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


_CLIENT = r"""
import http.client, sys
port, method, path = sys.argv[1:4]
c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=30)
c.request(method, path, body=b"{}" if method == "POST" else None)
r = c.getresponse()
sys.stdout.write(f"{r.status}\n" + r.read().decode("utf-8", "replace"))
"""


def get_as(user, port, path, method="GET"):
    """A request made by USER's account (a child running as it)."""
    import pwd
    pw = pwd.getpwnam(user)
    p = subprocess.run(["/usr/bin/python3", "-c", _CLIENT, str(port), method,
                        path], capture_output=True, text=True, timeout=60,
                       user=pw.pw_uid, group=pw.pw_gid,
                       extra_groups=os.getgrouplist(user, pw.pw_gid),
                       cwd="/")
    assert p.returncode == 0, p.stderr
    status, _, body = p.stdout.partition("\n")
    return int(status), body


def start(scenario, web):
    down = scenario.closed_port()
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, web, f'role auditor group "{GROUP}"\n',
                             system_rules("wifi", down)))
    d.start()
    wait_socket(d.sock)
    inc = wait_incident(d.db, "wifi")
    return d, inc["id"]


def test_web_loopback_roles(scenario, accounts):
    port = free_port()
    d, iid = start(scenario, f"set web listen 127.0.0.1:{port}\n")
    wait_for(lambda: "web page on" in d.run_log(), 10, "the listener")

    status, body = get_as(AUDITOR, port, "/")
    assert status == 200, body
    assert f"{AUDITOR} (auditor)" in body and "wifi" in body
    status, body = get_as(AUDITOR, port, "/v1/incidents")
    assert status == 200 and '"system":"wifi"' in body
    # No write for the auditor (nor anyone) through the listener.
    before = len(timeline(d.db, iid))
    for method, path in (("POST", f"/v1/incidents/{iid}/ack"),
                         ("POST", "/v1/incidents"), ("PUT", "/"),
                         ("DELETE", f"/v1/incidents/{iid}")):
        status, body = get_as(AUDITOR, port, path, method)
        assert status == 405, (method, path, status, body)
    assert len(timeline(d.db, iid)) == before
    # An account with no role reads nothing, and is logged.
    status, body = get_as(STRANGER, port, "/")
    assert status == 403 and "wifi" not in body
    status, body = get_as(STRANGER, port, "/v1/status")
    assert status == 403 and "wifi" not in body
    wait_for(lambda: f"web: refused {STRANGER}" in d.run_log(), 5,
             "the refusal in the log")
    # Sign-in is only over TLS.
    status, _ = get_as(AUDITOR, port, "/signin", "POST")
    assert status == 403
    d.stop()


def tls_request(port, method, path, body=None, cookie=None):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    c = http.client.HTTPSConnection("127.0.0.1", port, timeout=30,
                                    context=ctx)
    headers = {}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if cookie:
        headers["Cookie"] = cookie
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse()
    data = r.read().decode("utf-8", "replace")
    out = r.status, r.getheaders(), data
    c.close()
    return out


def signin(port, user, password):
    return tls_request(port, "POST", "/signin", urllib.parse.urlencode(
        {"user": user, "password": password}))


def test_web_tls_signin(scenario, workdir, accounts):
    if not shutil.which("openssl"):
        pytest.skip("needs openssl to make the test's certificate")
    cert = os.path.join(str(workdir), "web.crt")
    key = os.path.join(str(workdir), "web.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "1",
                    "-subj", "/CN=localhost"], check=True,
                   capture_output=True)
    port = free_port()
    d, iid = start(scenario, f"set web listen 127.0.0.1:{port}\n"
                   f'set web tls cert "{cert}" key "{key}"\n')
    wait_for(lambda: f"web page on https://127.0.0.1:{port}" in d.run_log(),
             10, "the TLS listener")

    # Not signed in: to the sign-in form, nothing else.
    status, headers, body = tls_request(port, "GET", "/")
    assert status == 303 and dict(headers)["Location"] == "/signin"
    status, _, body = tls_request(port, "GET", "/v1/status")
    assert status == 303 and "wifi" not in body

    # A wrong password: refused, logged with the account.
    status, headers, body = signin(port, AUDITOR, "wrong")
    assert status == 403 and "Set-Cookie" not in dict(headers)
    wait_for(lambda: f"sign-in refused for {AUDITOR} from 127.0.0.1: "
             "wrong account or password" in d.run_log(), 10,
             "the refusal in the log")

    # The right one: a session cookie with every flag.
    status, headers, body = signin(port, AUDITOR, PASSWORD)
    assert status == 303, body
    cookie = dict(headers)["Set-Cookie"]
    flags = [f.strip() for f in cookie.split(";")]
    assert "Secure" in flags and "HttpOnly" in flags and \
        "SameSite=Strict" in flags, cookie
    assert re.fullmatch(r"rtowatch=[0-9a-f]{64}", flags[0]), cookie
    wait_for(lambda: f"web: {AUDITOR} signed in from 127.0.0.1 as auditor"
             in d.run_log(), 5, "the sign-in in the log")
    status, _, body = tls_request(port, "GET", "/", cookie=flags[0])
    assert status == 200 and f"{AUDITOR} (auditor)" in body and \
        "wifi" in body
    # Signed in, still no write.
    before = len(timeline(d.db, iid))
    status, _, _ = tls_request(port, "POST", f"/v1/incidents/{iid}/ack",
                               "{}", cookie=flags[0])
    assert status == 405
    assert len(timeline(d.db, iid)) == before
    # A made-up session is no session.
    status, _, _ = tls_request(port, "GET", "/",
                               cookie="rtowatch=" + "0" * 64)
    assert status == 303

    # The right password of an account without a role: refused, logged.
    status, headers, _ = signin(port, STRANGER, PASSWORD)
    assert status == 403 and "Set-Cookie" not in dict(headers)
    wait_for(lambda: f"sign-in refused for {STRANGER} from 127.0.0.1: no "
             "role" in d.run_log(), 5, "the refusal in the log")

    # In a browser: the form, then the status; the cookie out of the
    # page's reach and kept for this site only.
    b = Browser(workdir, extra=["--ignore-certificate-errors"])
    try:
        b.load(f"https://127.0.0.1:{port}/")
        assert b.js("location.pathname") == "/signin"
        b.submit(f"""document.querySelector('input[name=user]').value =
            '{AUDITOR}'; document.querySelector('input[name=password]')
            .value = '{PASSWORD}'; document.querySelector('form').submit()
            """)
        text = b.js("document.body.innerText")
        assert f"{AUDITOR} (auditor)" in text and "wifi" in text, text
        assert b.js("document.cookie") == ""
        cookies = b.call("Network.getCookies")["cookies"]
        c = next(c for c in cookies if c["name"] == "rtowatch")
        assert c["secure"] and c["httpOnly"] and c["sameSite"] == "Strict"
        # Signing out ends the session: the browser is back at the form,
        # its cookie gone, and the token it had opens nothing.
        b.submit("document.querySelector('#signout button').click()")
        assert b.js("location.pathname") == "/signin"
        assert not [c for c in b.call("Network.getCookies")["cookies"]
                    if c["name"] == "rtowatch"]
        wait_for(lambda: f"web: {AUDITOR} signed out" in d.run_log(), 5,
                 "the sign-out in the log")
        status, _, _ = tls_request(port, "GET", "/",
                                   cookie="rtowatch=" + c["value"])
        assert status == 303
    finally:
        b.close()
    # Another session, from before, is not ended by this one's sign-out.
    status, _, body = tls_request(port, "GET", "/", cookie=flags[0])
    assert status == 200 and "wifi" in body
    d.stop()
