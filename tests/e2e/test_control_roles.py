"""Who may do what on the control socket: the kernel names the caller
(SO_PEERCRED), the rules' role lines map its groups.  An operator acts and
is recorded by name; an auditor reads everything and every action is
refused; an account with no role gets nothing, not even a read.

The accounts and groups are real ones this test creates and removes, so
it needs root and useradd.
"""
import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import (api, db_rows, rules_file, system_rules, timeline,
                      wait_incident, wait_socket)

TAG = f"{os.getpid() % 100000}"
ACCOUNTS = {"operator": f"rtw-op{TAG}", "auditor": f"rtw-au{TAG}",
            "stranger": f"rtw-st{TAG}"}
GROUPS = {"operator": f"rtw-ims{TAG}", "auditor": f"rtw-audit{TAG}"}


@pytest.fixture
def accounts():
    if os.geteuid() != 0:
        pytest.skip("needs root to create the test's accounts and groups")
    if not shutil.which("useradd") or not shutil.which("groupadd"):
        pytest.skip("needs useradd and groupadd (passwd package)")
    made_users, made_groups = [], []
    try:
        for g in GROUPS.values():
            subprocess.run(["groupadd", "--system", g], check=True)
            made_groups.append(g)
        for role, user in ACCOUNTS.items():
            extra = ["-G", GROUPS[role]] if role in GROUPS else []
            subprocess.run(["useradd", "--system", "--no-create-home",
                            "--shell", "/usr/sbin/nologin", *extra, user],
                           check=True)
            made_users.append(user)
        yield ACCOUNTS
    finally:
        for u in made_users:
            subprocess.run(["userdel", u], check=False)
        for g in made_groups:
            subprocess.run(["groupdel", g], check=False)


def test_roles(scenario, accounts):
    svc = scenario.listener()
    d = scenario.daemon()
    # pytest's own directories are root's alone; the test accounts need
    # a way to the socket, so it lives in a directory of its own.
    sockdir = tempfile.mkdtemp(prefix="rtw-roles-")
    os.chmod(sockdir, 0o755)
    sock = os.path.join(sockdir, "control.sock")
    roles = (f'set socket "{sock}"\n'
             f'role operator group "{GROUPS["operator"]}"\n'
             f'role auditor group "{GROUPS["auditor"]}"\n')
    d.write_rules(rules_file(d.db, roles, system_rules("wifi", svc.port)))
    try:
        run_roles(d, svc, sock, accounts)
    finally:
        d.stop()
        shutil.rmtree(sockdir, ignore_errors=True)


def run_roles(d, svc, sock, accounts):
    d.start()
    wait_socket(sock)
    svc.stop()
    inc = wait_incident(d.db, "wifi")
    iid = inc["id"]
    url = f"/v1/incidents/{iid}/ack"

    status, body = api(sock, "POST", url, {"note": "on it"},
                       user=accounts["operator"])
    assert status == 200 and body["ok"], body
    acks = [e for e in timeline(d.db, iid) if e["event"] == "acknowledged"]
    assert len(acks) == 1 and acks[0]["actor"] == accounts["operator"], acks
    row = db_rows(d.db, "SELECT acknowledged_by FROM incidents WHERE id = ?",
                  iid)[0]
    assert row["acknowledged_by"] == accounts["operator"]

    before = timeline(d.db, iid)
    for path in ("/v1/status", "/v1/incidents", f"/v1/incidents/{iid}",
                 "/v1/warnings", "/v1/events"):
        status, body = api(sock, "GET", path, user=accounts["auditor"])
        assert status == 200, (path, body)
    status, body = api(sock, "GET", f"/v1/incidents/{iid}",
                       user=accounts["auditor"])
    assert body["acknowledged_by"] == accounts["operator"]
    for path, req in ((url, {}), (f"/v1/incidents/{iid}/close", {}),
                      (f"/v1/incidents/{iid}/set",
                       {"field": "cause", "value": "x"}),
                      ("/v1/warnings", {"source": "a", "summary": "b"}),
                      ("/v1/maintenance", {"system": "wifi", "for": "1h"})):
        status, body = api(sock, "POST", path, req,
                           user=accounts["auditor"])
        assert status == 403, (path, body)
        assert "auditor" in body["error"], body

    # No role: the connection is judged and closed before the daemon
    # reads a byte of it; the refusal is written, never the records.
    for request in (b"", b"GET /v1/incidents HTTP/1.1\r\nHost: x\r\n\r\n"):
        reply = stranger_connect(sock, accounts["stranger"], request)
        assert b" 403 " in reply.split(b"\r\n")[0], reply
        assert b"no role" in reply, reply
        assert b'"incidents"' not in reply and b'"systems"' not in reply

    assert timeline(d.db, iid) == before, "a refused request changed it"
    assert not db_rows(d.db, "SELECT id FROM warnings")
    assert not db_rows(d.db, "SELECT id FROM maintenance")
    assert "refused " + accounts["stranger"] in d.run_log()


_RAW_CLIENT = r"""
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
time.sleep(0.5)
try:
    s.sendall(sys.argv[2].encode())
except OSError:
    pass
s.settimeout(10)
data = b""
while True:
    try:
        chunk = s.recv(65536)
    except OSError:
        break
    if not chunk:
        break
    data += chunk
sys.stdout.buffer.write(data)
"""


def stranger_connect(sock, user, request):
    """Connect as USER, wait, send REQUEST; return all that came back."""
    import pwd
    pw = pwd.getpwnam(user)
    p = subprocess.run(["/usr/bin/python3", "-c", _RAW_CLIENT, sock,
                        request.decode()], capture_output=True, timeout=30,
                       user=pw.pw_uid, group=pw.pw_gid, extra_groups=[])
    assert p.returncode == 0, p.stderr
    return p.stdout
