"""The procedure's duties that live on the forms (issue 15), through the
real daemon, the real CLI and a real SMTP server (aiosmtpd).

Two systems go down.  "核心系統" is core business (RTO 1 h, so level 2):
a person declares it major at once, with a reason, since a disaster needs
no RTO to pass (5.2.3); it becomes level 3, a security incident (資安事故,
5.3.3), and the unit head and the CISO are mailed.  The IMS team answers
the portal's question whether other connected units are affected
(5.3.7.3.1), records the offline notification by telephone to the
regional center (5.3.7.3.3) and a visit to the CISO (5.3.8), reports on
the portal, and may close only once the corrective and preventive action
form is referenced (5.3.3) and the case closed on the portal with its
result (5.3.7.3.5).  "web" is not core (level 1, 資安事件): closing it
needs the portal closure but no corrective action form.

Then form IMS-P-009-01 (text, HTML parsed, English) must show all of it,
with every mail the daemon sent and when the server accepted it; the
register IMS-P-009-02 carries cause, description and measures (CSV, HTML)
and its terminal table the known, ticket and closed times.
"""
import csv
import datetime
import getpass
import html.parser
import io
import re
import subprocess
import types

import pytest

from conftest import (Scenario, api, cli, db_rows, events, parse_time,
                      rules_file, short_policy, system_rules, wait_for,
                      wait_incident, wait_socket)
import smtpserver
from smtpserver import CISO, UNIT_HEAD, SmtpServer, mail_rules

pytestmark = pytest.mark.skipif(smtpserver.available() is not None,
                                reason=str(smtpserver.available()))

CORE = "核心系統"
WEB = "web"
USER = getpass.getuser()
UTF8 = {"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
TPE = datetime.timezone(datetime.timedelta(hours=8))
REASON = "機房淹水，主機全數停機"
UNITS = "否，僅影響本校圖書館服務"
CENTER = "雲嘉區網中心"
CAPA = "CAPA-2026-007"
RESULT = "已更換主機並恢復服務，通報結案"
TICKET = "AISAC-2026-0099"
FORM = {
    "description": "核心系統主機因淹水停機",
    "scope": "全校核心業務中斷",
    "measures": "移機至備援機房並重新啟動服務",
    "containment": "10:00 移機，10:20 恢復",
    "investigation": "機房排水系統堵塞",
    "root-cause": "排水管未定期清理",
    "prevention": "每月清理排水管並加裝漏水偵測",
    "prevention-tracking": "2026-12-31 前完成，每季檢查",
}


def local(iso):
    """A stored UTC time as the forms print it (Asia/Taipei)."""
    return datetime.datetime.fromtimestamp(
        parse_time(iso) / 1000, TPE).strftime("%Y-%m-%d %H:%M:%S")


def run(sock, *args):
    return cli("--socket", sock, *args)


def ok(sock, *args):
    rc, out, err = run(sock, *args)
    assert rc == 0, f"rtowatch {' '.join(map(str, args))}: {rc} {err}"
    return out


def build(directory):
    """The scenario; return what the tests check, the refusals included
    (they need the running daemon).  What is new goes through run(), not
    ok(): where a step is missing the scenario goes on, and each test
    fails on its own point."""
    r = types.SimpleNamespace(dir=str(directory))
    sc = Scenario(directory)
    smtp = SmtpServer(directory).start()
    try:
        core, web = sc.listener(), sc.listener()
        d = sc.daemon()
        policy = short_policy(directory, notify="1h", notify_remind="30m")
        d.write_rules(rules_file(
            d.db, mail_rules(smtp.url),
            system_rules(CORE, core.port, core=True, rto="1h"),
            system_rules(WEB, web.port, core=False, rto="1h"),
            policy=policy))
        d.start()
        wait_socket(d.sock)
        core.wait_accepted(2)
        web.wait_accepted(2)
        core.stop()
        web.stop()
        a = wait_incident(d.db, CORE)["id"]
        b = wait_incident(d.db, WEB)["id"]
        r.a, r.b, r.db, r.sock = a, b, d.db, d.sock

        def mails(event):
            return [m for m in smtp.messages() if event in m.subject
                    and f"incident {a})" in m.subject]
        r.opening = wait_for(lambda: mails("down, incident opened"), 15,
                             "the opening mail")[0]

        # 5.3.7.3.1: other connected units affected, yes or no.
        r.units_bad = run(d.sock, "set", a, "other-units-affected",
                          "maybe")
        r.units = run(d.sock, "set", a, "other-units-affected", UNITS)

        # 5.2.3: declared major, with a reason.
        r.major_noreason = run(d.sock, "major", a)
        r.major = run(d.sock, "major", a, "--reason", REASON)
        r.major_again = run(d.sock, "major", a, "--reason", "again")
        r.major_mails = r.major[0] == 0 and wait_for(
            lambda: len(mails("declared major")) == 2 and
            mails("declared major"), 15, "the declaration mailed to both")

        # 5.3.8, 5.3.7.3.3: who was told, how and when.
        r.contact_bad = run(d.sock, "contact", a, "--to", CENTER, "--by",
                            "pigeon")
        r.contact_early = run(d.sock, "contact", a, "--to", CENTER, "--by",
                              "fax", "--at", "2020-01-01T00:00:00.000Z")
        r.contact_late = run(d.sock, "contact", a, "--to", CENTER, "--by",
                             "fax", "--at", "2099-01-01T00:00:00.000Z")
        r.contact_noby = run(d.sock, "contact", a, "--to", CENTER)
        r.offline = run(d.sock, "contact", a, "--to", CENTER, "--by",
                        "phone", "--offline", "--note",
                        "網路中斷，以電話先行提供事件細節")
        r.visit = run(d.sock, "contact", a, "--to", "資通安全長", "--by",
                      "in-person")
        r.api_contacts = api(d.sock, "GET", f"/v1/incidents/{a}")
        r.clocks_after_offline = db_rows(
            d.db, "SELECT kind, level, stopped_at, stopped_by FROM clocks"
            " WHERE incident_id = ? AND kind = 'notify' ORDER BY id", a)

        # 5.3.7.3.5: closed on the portal only once reported and restored.
        r.portal_unreported = run(d.sock, "portal-closed", a, "--result",
                                  RESULT)
        ok(d.sock, "reported", a, "--ticket", TICKET)
        r.portal_down = run(d.sock, "portal-closed", a, "--result", RESULT)
        started = incident_row(d.db, a)["started_at"]
        r.portal_early = run(d.sock, "portal-closed", a, "--result", RESULT,
                             "--at", started)
        core.start()
        wait_incident(d.db, CORE, restored=True)
        for field, value in FORM.items():
            ok(d.sock, "set", a, field, value)
        ok(d.sock, "report-filed", a)
        r.close_refused = run(d.sock, "close", a)
        r.close_api = api(d.sock, "POST", f"/v1/incidents/{a}/close", {})
        r.capa = run(d.sock, "set", a, "corrective-action-ref", CAPA)
        r.portal = run(d.sock, "portal-closed", a, "--result", RESULT)
        r.portal_twice = run(d.sock, "portal-closed", a, "--result", "x")
        r.close = run(d.sock, "close", a)

        # Level 1: the portal closure, no corrective action form.
        web.start()
        wait_incident(d.db, WEB, restored=True)
        for field in ("scope", "measures"):
            ok(d.sock, "set", b, field, "web 首頁")
        ok(d.sock, "reported", b, "--ticket", "AISAC-2026-0100")
        r.close_b_api = api(d.sock, "POST", f"/v1/incidents/{b}/close",
                            {})
        r.portal_b = run(d.sock, "portal-closed", b, "--result", "已恢復")
        r.close_b = run(d.sock, "close", b)

        wait_for(lambda: all(n["state"] == "sent" for n in db_rows(
            d.db, "SELECT state FROM notifications")), 20,
            "every notification mailed")
        d.stop()
        return r
    finally:
        smtp.stop()
        sc.close()


# The module's tests read one build (8-15 s): in one worker, which
# builds it once, not once in each.
pytestmark = pytest.mark.xdist_group("forms_duties")


@pytest.fixture(scope="module")
def rec(tmp_path_factory):
    return build(tmp_path_factory.mktemp("forms-duties"))


def incident_row(db, i):
    return db_rows(db, "SELECT * FROM incidents WHERE id = ?", i)[0]


def incident(rec, i):
    return incident_row(rec.db, i)


def test_other_units_affected_is_asked_and_on_the_portal_draft(rec):
    rc, out, err = rec.units_bad
    assert rc == 1 and "yes, no, 是 or 否" in err, err
    assert rec.units[0] == 0, rec.units
    assert incident(rec, rec.a)["other_units_affected"] == UNITS
    line = "是否影響其他連線單位運作 Other connected units affected: "
    assert line + "（待評估）" in rec.opening.body, rec.opening.body
    assert rec.major_mails, rec.major
    for m in rec.major_mails:
        assert line + UNITS in m.body, m.body


def test_declared_major_raises_the_level_and_tells_its_recipients(rec):
    assert rec.major_noreason[0] == 2 and "--reason is required" in \
        rec.major_noreason[2], rec.major_noreason
    rc, out, err = rec.major
    assert rc == 0 and "declared major" in out, (out, err)
    rc, out, err = rec.major_again
    assert rc == 1 and "already a major incident" in err, err
    row = incident(rec, rec.a)
    # Core, not critical infrastructure, past the RTO: level 3 (5.3.2).
    assert (row["major"], row["level"], row["availability_level"]) == \
        (1, 3, 3), row
    assert row["major_reason"] == REASON
    ev = events(rec.db, rec.a, "declared major")
    assert len(ev) == 1 and ev[0]["actor"] == USER and REASON in \
        ev[0]["detail"], ev
    # The raised level is notified anew on its own clock (5.4.2), and
    # the level-3 recipients, the CISO too, were mailed.
    levels = [c["level"] for c in db_rows(
        rec.db, "SELECT level FROM clocks WHERE incident_id = ? AND"
        " kind = 'notify' ORDER BY id", rec.a)]
    assert levels == [2, 3], levels
    assert sorted(m.rcpt_tos[0] for m in rec.major_mails) == \
        sorted([UNIT_HEAD, CISO])
    for m in rec.major_mails:
        assert "第3級 level 3" in m.subject, m.subject
        assert "經人員認定為重大事件" in m.subject and REASON in m.body


def test_contacts_are_recorded_and_the_offline_one_meets_the_clock(rec):
    rc, out, err = rec.contact_bad
    assert rc == 1 and 'unknown way "pigeon"' in err and \
        "phone, fax, in-person or email" in err, err
    rc, out, err = rec.contact_early
    assert rc == 1 and "before incident" in err, err
    rc, out, err = rec.contact_late
    assert rc == 1 and "in the future" in err, err
    assert rec.contact_noby[0] == 2 and "--by is required" in \
        rec.contact_noby[2]
    assert rec.offline[0] == 0 and rec.visit[0] == 0, (rec.offline,
                                                       rec.visit)
    rows = db_rows(rec.db, "SELECT recipient, channel, made_by, offline,"
                   " at, entered_at, note FROM contacts"
                   " WHERE incident_id = ? ORDER BY id", rec.a)
    assert [(c["recipient"], c["channel"], c["made_by"], c["offline"])
            for c in rows] == [(CENTER, "phone", USER, 1),
                               ("資通安全長", "in-person", USER, 0)], rows
    assert all(c["at"] and c["entered_at"] for c in rows), rows
    status, body = rec.api_contacts
    assert status == 200 and [(c["recipient"], c["channel"], c["made_by"])
                              for c in body["contacts"]] == [
        (CENTER, "phone", USER), ("資通安全長", "in-person", USER)], body
    # 5.3.7.3.3: the telephone notification within the hour meets every
    # notify clock then running; the portal report was still owed.
    clocks = rec.clocks_after_offline
    assert clocks and all(c["stopped_at"] and "offline notification" in
                          c["stopped_by"] for c in clocks), clocks
    assert events(rec.db, rec.a, "offline notification")
    assert events(rec.db, rec.a, "contact")


def test_close_needs_portal_closure_and_corrective_action_form(rec):
    rc, out, err = rec.portal_unreported
    assert rc == 1 and "not reported on the portal" in err, err
    rc, out, err = rec.portal_down
    assert rc == 1 and "still down" in err, err
    rc, out, err = rec.portal_early
    assert rc == 1 and "before the portal report" in err, err
    rc, out, err = rec.close_refused
    assert rc == 1 and "\n  corrective-action-ref\n" in err + "\n" and \
        "\n  portal-closed\n" in err + "\n", err
    status, body = rec.close_api
    assert status == 409 and body["missing"] == [
        "corrective-action-ref", "portal-closed"], body
    assert rec.capa[0] == 0 and rec.portal[0] == 0, (rec.capa, rec.portal)
    assert rec.portal_twice[0] == 1 and "already closed on the portal" in \
        rec.portal_twice[2]
    assert rec.close[0] == 0, rec.close
    row = incident(rec, rec.a)
    assert row["status"] == "closed" and row["corrective_action_ref"] == CAPA
    assert row["portal_result"] == RESULT and row["portal_closed_by"] == \
        USER and row["portal_closed_at"], row
    # Level 1: only the portal closure was missing.
    status, body = rec.close_b_api
    assert status == 409 and body["missing"] == ["portal-closed"], body
    assert rec.portal_b[0] == 0 and rec.close_b[0] == 0, (rec.portal_b,
                                                          rec.close_b)


def report(rec, *args):
    rc, out, err = cli("--db", rec.db, "report", *args, env=UTF8)
    assert rc == 0, err
    return out


def mails_of(rec, i):
    return db_rows(rec.db, "SELECT recipient, address, event, sent_at"
                   " FROM notifications WHERE incident_id = ? ORDER BY id",
                   i)


def test_form01_text_shows_incident_contacts_mails_and_portal(rec):
    out = report(rec, rec.a)
    row = incident(rec, rec.a)
    for text in ("資通安全事故（第3、4級）", f"重大／緊急事件（人員認定：{REASON}）",
                 "矯正及預防措施處理單號", CAPA,
                 "是否影響其他連線單位運作", UNITS,
                 "通報應變網站結案時間",
                 f"{local(row['portal_closed_at'])} ({USER})",
                 "處置結果", RESULT, "人員聯繫紀錄", CENTER, "電話",
                 "離線通報 (5.3.7.3.3)", "資通安全長", "當面",
                 "系統寄出之通知", "寄達時間"):
        assert text in out, f"{text!r} not on form 01:\n{out}"
    mails = mails_of(rec, rec.a)
    assert len(mails) >= 4, mails
    for m in mails:
        assert local(m["sent_at"]) in out, (m, out)
    out = report(rec, rec.b)
    assert "資通安全事件（第1、2級）" in out and "不適用（第1、2級）" in out, out


class Tables(html.parser.HTMLParser):
    """Every <table> of a page as rows of cell texts; a fields table's
    rows are [label, value]."""

    def __init__(self):
        super().__init__()
        self.tables, self.row, self.cell = [], None, None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.row is not None:
            self.row.append(self.cell.strip())
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.tables[-1].append(self.row)
            self.row = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def tables(page):
    p = Tables()
    p.feed(page)
    return p.tables


def test_form01_html_lists_every_contact_and_delivered_mail(rec):
    page = report(rec, rec.a, "--format", "html")
    ts = tables(page)
    fields = {r[0]: r[1] for t in ts for r in t if len(r) == 2}
    assert fields["資安事件／資安事故 (5.3.3)"] == "資通安全事故（第3、4級）"
    assert fields["矯正及預防措施處理單號 (5.3.3)"] == CAPA
    assert fields["是否影響其他連線單位運作 (5.3.7.3.1)"] == UNITS
    assert fields["處置結果"] == RESULT
    contacts = next(t for t in ts if t[0][:3] == ["聯繫時間", "對象", "方式"])
    stored = db_rows(rec.db, "SELECT at, entered_at FROM contacts"
                     " WHERE incident_id = ? ORDER BY at, id", rec.a)
    assert [(r[1], r[2], r[3]) for r in contacts[1:]] == [
        (CENTER, "電話", USER), ("資通安全長", "當面", USER)], contacts
    assert [r[0] for r in contacts[1:]] == [local(s["at"]) for s in stored]
    assert contacts[1][4].startswith("離線通報 (5.3.7.3.3)"), contacts
    sent = next(t for t in ts if t[0][:1] == ["收件者"])
    assert sent[0][4] == "寄達時間", sent[0]
    mails = mails_of(rec, rec.a)
    assert [(r[0], r[1], r[2], r[4], r[5]) for r in sent[1:]] == [
        (m["recipient"], m["address"], m["event"], local(m["sent_at"]),
         "已寄達") for m in mails], (sent, mails)
    assert {r[0] for r in sent[1:]} == {"unit-head", "ciso"}


def test_form01_english_keeps_the_procedure_terms(rec):
    out = report(rec, rec.a, "--lang", "en")
    for text in ("incident (事故), levels 3-4",
                 "corrective and preventive action form (5.3.3)",
                 "other connected units affected (5.3.7.3.1)",
                 "closed on the portal (5.3.7.3.5)",
                 "offline notification (離線通報, 5.3.7.3.3)",
                 "phone (電話)", "in person (當面)", "delivered"):
        assert text in out, f"{text!r} not on the English form:\n{out}"
    out = report(rec, rec.b, "--lang", "en")
    assert "event (事件), levels 1-2" in out, out


def test_register_csv_and_html_carry_cause_description_measures(rec):
    rc, out, err = cli("--db", rec.db, "register", "--format", "csv", "--no-bom")
    assert rc == 0, err
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(out))}
    a, b = incident(rec, rec.a), incident(rec, rec.b)
    assert a["cause"], a
    assert (rows[str(rec.a)]["cause"], rows[str(rec.a)]["description"],
            rows[str(rec.a)]["measures"]) == (a["cause"],
                                              FORM["description"],
                                              FORM["measures"])
    assert rows[str(rec.b)]["measures"] == "web 首頁"
    assert rows[str(rec.b)]["cause"] == b["cause"]
    # 5.3.3: level 3 is a security incident (事故), level 1 an event.
    assert rows[str(rec.a)]["event_or_incident"] == "資安事故"
    assert rows[str(rec.b)]["event_or_incident"] == "資安事件"

    rc, page, err = cli("--db", rec.db, "register", "--format", "html",
                        env=UTF8)
    assert rc == 0, err
    grid = next(t for t in tables(page) if t and "原因" in t[0])
    head = grid[0]
    for title in ("知悉時間", "通報單號", "結案時間", "原因", "事件說明",
                  "應變措施"):
        assert title in head, head
    row = next(r for r in grid[1:] if r[0] == str(rec.a))
    cell = dict(zip(head, row))
    assert cell["原因"] == a["cause"]
    assert cell["事件說明"] == FORM["description"]
    assert cell["應變措施"] == FORM["measures"]
    assert cell["通報單號"] == TICKET
    assert cell["結案時間"] == local(a["closed_at"])
    assert cell["等級"] == "3（資安事故）", cell
    row_b = next(r for r in grid[1:] if r[0] == str(rec.b))
    assert dict(zip(head, row_b))["等級"] == "1（資安事件）", row_b

    rc, page, err = cli("--db", rec.db, "register", "--format", "html",
                        "--lang", "en", env=UTF8)
    assert rc == 0, err
    grid = next(t for t in tables(page) if t and "cause (原因)" in t[0])
    cell = dict(zip(grid[0], next(r for r in grid[1:]
                                  if r[0] == str(rec.a))))
    assert cell["level (等級)"] == "3 (incident, 資安事故)", cell
    assert cell["measures (應變措施)"] == FORM["measures"], cell


def test_register_terminal_table_keeps_known_ticket_and_closed(rec):
    rc, out, err = cli("--db", rec.db, "register", "--lang", "en", env=UTF8)
    assert rc == 0, err
    lines = out.splitlines()
    header = next(l for l in lines if l.lstrip().startswith("ID"))
    for title in ("KNOWN", "TICKET", "CLOSED"):
        assert title in header.split(), header
    a = incident(rec, rec.a)
    row = next(l for l in lines if l.split()[:1] == [str(rec.a)])
    assert TICKET in row and local(a["closed_at"]) in row and \
        local(a["opened_at"]) in row, row


def test_register_prints_the_new_columns_on_a4(rec, tmp_path):
    """Printed by headless Chromium (as test_cli_forms.py prints the
    forms): one A4 page holding the new columns' texts whole and the
    事件/事故 wording, no text outside the page."""
    from test_cli_forms import is_a4, print_pdf, squash
    rc, page, err = cli("--db", rec.db, "register", "--format", "html",
                        env=UTF8)
    assert rc == 0, err
    pdf, text, size = print_pdf(page, tmp_path, "register")
    assert is_a4(size), size
    # In the order of the page's content, cell after cell: a wrapped
    # cell stays whole once the line breaks are taken out.
    flat = squash(subprocess.run(["pdftotext", "-raw", str(pdf), "-"],
                                 capture_output=True, text=True,
                                 check=True).stdout)
    for value in (FORM["description"], FORM["measures"], TICKET,
                  "3（資安事故）", "1（資安事件）"):
        assert squash(value) in flat, f"{value!r} not on the register"
    bbox = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"],
                          capture_output=True, text=True,
                          check=True).stdout
    width = float(re.search(r'<page width="([\d.]+)"', bbox).group(1))
    right = max(float(x) for x in re.findall(r'xMax="([\d.]+)"', bbox))
    assert right <= width, f"text runs off the page: {right} > {width}"
