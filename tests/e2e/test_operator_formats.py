"""Formats an operator hands on (issue 17, "Formats"): CSV with a UTF-8
byte order mark for Excel (by default for zh-TW, --bom/--no-bom), every
JSON list a bare array, `digest` without --month is last month's, and
`availability` runs to now without --to and prints as HTML."""
import datetime
import json
import zoneinfo

import pytest

from conftest import (Scenario, cli, rules_file, start_daemon, system_rules,
                      wait_incident)

BOM = b"\xef\xbb\xbf"
C = {"LANG": "C.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}
ZH = {"LANG": "zh_TW.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    """One outage incident of 圖書館系統 and one early warning."""
    sc = Scenario(tmp_path_factory.mktemp("operator-formats"))
    try:
        d = sc.daemon()
        d.write_rules(rules_file(d.db, system_rules("圖書館系統",
                                                    sc.closed_port())))
        start_daemon(d)
        wait_incident(d.db, "圖書館系統")
        rc, out, err = cli("--socket", d.sock, "warning", "open",
                           "--source", "N-ASOC", "--summary", "掃描 scan")
        assert rc == 0, err
        d.stop()
        return d.db
    finally:
        sc.close()


def raw(db, *args, env=C):
    rc, out, err = cli("--db", db, *args, env=env, raw=True)
    assert rc == 0, (args, err)
    return out


@pytest.mark.parametrize("verb", [
    ["register"], ["availability", "--from", "2026-01-01"]])
def test_zh_tw_forms_csv_start_with_a_bom(db, verb):
    out = raw(db, *verb, "--format", "csv")
    assert out.startswith(BOM), out[:20]
    # Excel then reads the Chinese right; a script can still say no.
    assert "圖書館系統".encode() in out
    assert not raw(db, *verb, "--format", "csv", "--no-bom").startswith(BOM)
    assert not raw(db, *verb, "--format", "csv", "--lang",
                   "en").startswith(BOM)


@pytest.mark.parametrize("verb", [["incidents"], ["warnings"]])
def test_list_csv_bom_follows_the_locale_or_the_option(db, verb):
    assert not raw(db, *verb, "--format", "csv").startswith(BOM)
    assert raw(db, *verb, "--format", "csv", env=ZH).startswith(BOM)
    assert raw(db, *verb, "--format", "csv", "--bom").startswith(BOM)
    assert not raw(db, *verb, "--format", "csv", "--no-bom",
                   env=ZH).startswith(BOM)


def test_every_json_list_is_a_bare_array(db):
    for verb in ("incidents", "warnings"):
        got = json.loads(raw(db, verb, "--format", "json"))
        assert isinstance(got, list) and len(got) == 1, (verb, got)
        assert isinstance(got[0], dict) and "id" in got[0], (verb, got)


def test_digest_defaults_to_last_month(db):
    now = datetime.datetime.now(zoneinfo.ZoneInfo("Asia/Taipei"))
    last = (now.replace(day=1) - datetime.timedelta(days=1)).strftime(
        "%Y-%m")
    out = raw(db, "--tz", "Asia/Taipei", "digest").decode()
    assert f"月份 {last}" in out, out
    assert out == raw(db, "--tz", "Asia/Taipei", "digest", "--month",
                      last).decode()


def test_availability_runs_to_now_and_prints_html(db):
    out = raw(db, "availability", "--from", "2026-01-01").decode()
    assert "圖書館系統" in out and "availability 2026-01-01 – " in out, out
    html = raw(db, "availability", "--from", "2026-01-01", "--format",
               "html").decode()
    assert html.startswith("<!DOCTYPE html>"), html[:80]
    assert "系統可用性報表" in html and "<td class=\"nw\">圖書館系統</td>" \
        in html, html
    en = raw(db, "availability", "--from", "2026-01-01", "--format", "html",
             "--lang", "en").decode()
    assert "System availability (系統可用性報表)" in en, en
