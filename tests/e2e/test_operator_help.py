"""Every program answers --help and --version, and so does each rtowatch
command (`rtowatch ack --help`); the messages a new user meets are
plain: rtowatchd -n with no rules file at the default path says so, a
rules file without a policy is named without ":0:", and a refusal by the
daemon prints its reason without "(HTTP 409)".  (issue 17, "Help and
messages".)
"""
import os
import re
import subprocess

import pytest

from conftest import (CLI_TIMEOUT, binary, cli, rules_check, rules_file,
                      system_rules, wait_incident, wait_socket)


def run(*args):
    p = subprocess.run(list(args), capture_output=True, text=True,
                       timeout=CLI_TIMEOUT, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


@pytest.mark.parametrize("prog", ["rtowatchd", "rtowatch",
                                  "rtowatch-notify"])
def test_help_and_version(prog):
    rc, out, err = run(binary(prog), "--help")
    assert rc == 0, (out, err)
    assert out.startswith(f"usage: {prog}"), out
    rc, out, err = run(binary(prog), "--version")
    assert rc == 0 and re.fullmatch(rf"{prog} \d+\.\d+\.\d+\n", out), \
        (out, err)


def test_each_command_help():
    rc, out, err = cli("--help")
    assert rc == 0, err
    verbs = sorted({m.group(1) for m in re.finditer(r"^  ([a-z][a-z-]+)",
                                                   out, re.M)})
    assert {"incidents", "show", "ack", "edit", "status",
            "maintenance"} <= set(verbs), verbs
    for verb in verbs:
        rc, vout, verr = cli(verb, "--help")
        assert rc == 0, (verb, vout, verr)
        assert vout.startswith("usage: rtowatch ") and \
            f" {verb}" in vout.splitlines()[0], (verb, vout)
        assert verr == "", (verb, verr)
    rc, vout, verr = cli("ack", "12", "--help")
    assert rc == 0 and vout.startswith("usage: rtowatch"), (vout, verr)


def test_default_rules_missing():
    if os.path.exists("/etc/rtowatch/rtowatch.conf"):
        pytest.skip("/etc/rtowatch/rtowatch.conf exists on this machine")
    rc, out, err = run(binary("rtowatchd"), "-n")
    assert rc == 1, (out, err)
    assert ":0:" not in err, err
    assert "no rules file at /etc/rtowatch/rtowatch.conf" in err, err
    assert "-f" in err, err


def test_rules_without_policy(workdir):
    path = os.path.join(str(workdir), "nopolicy.conf")
    with open(path, "w") as f:
        f.write(system_rules("web", 80))
    rc, out, err = rules_check(path)
    assert rc == 1, (out, err)
    assert f"{path}: no policy" in err, err
    assert f"{path}:0:" not in err, err


def test_refusal_without_http_status(scenario):
    svc = scenario.listener()
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, system_rules("catalogue", svc.port)))
    d.start()
    wait_socket(d.sock)
    svc.stop()
    iid = wait_incident(d.db, "catalogue")["id"]
    rc, out, err = cli("--socket", d.sock, "close", iid)
    assert rc == 1, (out, err)
    assert "HTTP" not in err, err
    assert "still down" in err, err
    rc, out, err = cli("--socket", d.sock, "ack", "999")
    assert rc == 1 and "no incident 999" in err and "HTTP" not in err, err
    d.stop()
