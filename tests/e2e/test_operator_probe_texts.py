"""Probe texts an operator reads in an incident's cause or a warning's
detail (issue 17, "Probe texts"): a certificate still valid but inside
cert-expiry is cert-expiring, not cert-expired; a timeout of 1,500 ms
reads "1.5s", not "1s"; a ping sweep's detail never says "-0 ports"."""
import re

import pcapgen
from anomalylib import replay
from conftest import cli, db_rows, rules_file, start_daemon, wait_incident
from http_target import (  # noqa: F401
    CertAuthority, http_client, http_system, http_targets)


def test_cert_inside_bound_is_expiring_not_expired(scenario, workdir,
                                                   http_targets, http_client):
    ca = CertAuthority(workdir)
    cert, key = ca.issue("soon", 2)
    tls = http_targets(cert, key)
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, http_system(
        "webmail", tls.url(), f'ca-file "{ca.cert}" cert-expiry 14d',
        every="500ms", timeout="400ms")))
    start_daemon(d)
    cause = wait_incident(d.db, "webmail")["cause"]
    assert ": cert-expiring: certificate expires " in cause, cause
    assert "cert-expired" not in cause, cause
    d.stop()


def test_timeout_keeps_its_milliseconds(scenario, http_targets):
    slow = http_targets()
    slow.set(delay=30)
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, http_system(
        "slow", slow.url(), every="2s", timeout="1500ms", down_after=1)))
    start_daemon(d)
    cause = wait_incident(d.db, "slow", timeout=20)["cause"]
    assert re.search(r"within 1\.5s$", cause), cause
    d.stop()


def test_sweep_detail_has_no_negative_zero(tmp_path):
    t0 = pcapgen.T0
    pcap = pcapgen.write(tmp_path / "sweep.pcap", pcapgen.merged(
        pcapgen.baseline(t0, 30),
        pcapgen.sweep(t0 + 5, 10, "203.0.113.77")))
    db, _, _ = replay(tmp_path, pcap)
    texts = [r["detail"] for r in db_rows(db, "SELECT detail FROM warnings")]
    rc, out, err = cli("--db", db, "warnings", "--format", "json")
    assert rc == 0, err
    texts.append(out)
    assert len(texts) == 2 and texts[0], texts
    assert not any("about -0" in t for t in texts), texts
    # An ICMP sweep touches no port: it is named by its hosts alone.
    assert re.search(r"about [1-9]\d* distinct hosts", texts[0]), texts
    assert "distinct ports" not in texts[0], texts
