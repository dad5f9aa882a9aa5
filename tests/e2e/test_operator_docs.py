"""What the README and rtowatch(1) tell a new user works as they say:
the Debian notes are at the path the README names, the man page's "open
incidents as JSON" example lists only the open ones, rtowatch(1) does not
promise outages in `show`, and after `make run` the CLI finds the tree's
database and control socket without --db and --socket.  (issue 17,
"Docs".)
"""
import json
import os
import re
import shutil
import subprocess

import pytest

from conftest import (REPO, binary, cli, db_rows, rules_file, system_rules,
                      wait_for, wait_incident, wait_socket)


def read(*path):
    with open(os.path.join(REPO, *path), encoding="utf-8") as f:
        return f.read()


def test_readme_names_files_that_exist():
    text = read("README.md")
    named = set(re.findall(r"\bdebian/[A-Za-z0-9_.+-]+", text))
    assert "debian/rtowatch.README.Debian" in named, named
    for path in named:
        assert os.path.exists(os.path.join(REPO, path)), \
            f"README.md names {path}, which does not exist"


def man_section(text, item):
    """The paragraph of `.It Cm ITEM` in rtowatch.1."""
    m = re.search(r"^\.It Cm " + re.escape(item) + r"\b.*?$(.*?)(?=^\.It |"
                  r"^\.El)", text, re.M | re.S)
    assert m, item
    return m.group(1)


def test_man_show_does_not_promise_outages():
    show = man_section(read("man", "rtowatch.1"), "show")
    assert not re.search(r"with its outages", show), show


def test_man_open_incidents_example(scenario):
    man = read("man", "rtowatch.1")
    m = re.search(r"^The open incidents as JSON.*?^\$ rtowatch (.+?)$", man,
                  re.M | re.S)
    assert m, "no open-incidents example in rtowatch.1"
    args = m.group(1).split()

    up = scenario.listener()
    down = scenario.listener()
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, system_rules("catalogue", up.port),
                             system_rules("loans", down.port)))
    d.start()
    wait_socket(d.sock)
    up.stop()
    down.stop()
    wait_incident(d.db, "catalogue")
    wait_incident(d.db, "loans")
    up.start()
    wait_incident(d.db, "catalogue", restored=True)
    d.stop()
    rc, out, err = cli("--db", d.db, *args)
    assert rc == 0, err
    rows = json.loads(out)
    assert [r["system"] for r in rows] == ["loans"], rows
    assert all(r["restored_at"] is None and r["closed_at"] is None
               for r in rows), rows


def test_cli_finds_the_tree_after_make_run(scenario):
    for p in ("/run/rtowatch/control.sock", "/var/lib/rtowatch/rtowatch.db"):
        if os.path.exists(p):
            pytest.skip(f"{p} exists: this host has rtowatch installed")
    tree = os.path.join(scenario.dir, "tree")
    os.makedirs(os.path.join(tree, "rules"))
    os.makedirs(os.path.join(tree, "var"))
    shutil.copy(os.path.join(REPO, "rules", "local.conf"),
                os.path.join(tree, "rules", "local.conf"))
    svc = scenario.listener()
    d = scenario.daemon()
    db = os.path.join(tree, "var", "rtowatch.db")
    sock = os.path.join(tree, "var", "control.sock")
    d.write_rules(f'set database "{db}"; include "'
                  f'{os.path.join(REPO, "rules", "policy.conf")}"; '
                  f'set socket "{sock}"\n' + system_rules("web", svc.port))
    d.start()
    wait_socket(sock)
    svc.stop()
    wait_incident(db, "web")

    env = {k: v for k, v in os.environ.items()
           if k not in ("RTOWATCH_DB", "RTOWATCH_SOCKET")}

    def rtowatch(*args):
        p = subprocess.run([binary("rtowatch"), *args], cwd=tree, env=env,
                           capture_output=True, text=True, timeout=30,
                           stdin=subprocess.DEVNULL)
        return p.returncode, p.stdout, p.stderr

    rc, out, err = rtowatch("status")
    assert rc == 0, err
    assert re.search(r"^web\s+down", out, re.M), out
    rc, out, err = rtowatch("ack", "1")
    assert rc == 0 and "acknowledged" in out, (out, err)
    rc, out, err = rtowatch("incidents", "--format", "json")
    assert rc == 0, err
    assert [r["system"] for r in json.loads(out)] == ["web"]
    d.stop()


def test_make_check_says_which_packages_first(tmp_path):
    """scripts/deps.sh (make run, make check) with sqlite3 taken out of
    dpkg's record, read-only, in a mount namespace of its own, run as
    nobody so that nothing can be installed whatever the script does: it
    names the missing package and what apt-get would install or upgrade
    before anything else."""
    if os.geteuid() != 0 or shutil.which("unshare") is None or \
            shutil.which("setpriv") is None:
        pytest.skip("needs root, unshare and setpriv for a mount namespace")
    with open("/var/lib/dpkg/status", encoding="utf-8") as f:
        stanzas = f.read().split("\n\n")
    kept = [s for s in stanzas if not s.startswith("Package: sqlite3\n")]
    assert len(kept) == len(stanzas) - 1, "sqlite3 is not installed here"
    status = tmp_path / "status"
    status.write_text("\n\n".join(kept), encoding="utf-8")
    os.chmod(status, 0o444)
    with open(os.path.join(REPO, "scripts", "deps.sh")) as f:
        script = f.read()
    p = subprocess.run(
        ["unshare", "-m", "sh", "-c",
         f"mount --bind {status} /var/lib/dpkg/status && "
         "mount -o remount,bind,ro /var/lib/dpkg/status && "
         "exec setpriv --reuid=nobody --regid=nogroup --clear-groups "
         "sh -s check"],
        input=script, capture_output=True, text=True, timeout=120)
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert "needs these Debian packages, not installed: sqlite3" in \
        p.stdout, (p.stdout, p.stderr)
    assert "apt-get install would install or upgrade: sqlite3" in \
        p.stdout, p.stdout
    assert "installing them now" not in p.stdout
    assert "install them as root: apt-get install sqlite3" in p.stderr, \
        p.stderr
