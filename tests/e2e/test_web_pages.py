"""The web page (set web listen) in headless Chromium, against a daemon
with a real outage: a TCP check of a closed loopback port.

Each page is loaded in Chromium and its content read from the DOM: the
status (the system down, since when, its last result and round trip,
its open incident's clocks counting down in the page), the register
(form 02), one incident's form 01 with its timeline, the warnings,
availability with its chart, the monthly digest, the public page and the
English version.  Every request the browser made is recorded (DevTools'
Network domain) and must go to the listener: nothing is fetched from
anywhere else, and Chromium resolves no name at all.  The status page
follows the event stream: a second system going down must appear in the
page within 2 s of its incident opening, without a reload.  The page only
reads: a POST of a workflow action is refused and nothing is recorded.
Screenshots go to the scenario's directory, and to docs/screenshots/ with
RTOWATCH_SAVE_SCREENSHOTS=1 (the tests do not write into the tree
otherwise); the page's weight and its first paint are printed (pytest -s)
for the report.
"""
import http.client
import os
import re
import socket
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from cdp import Browser
from conftest import (REPO, db_rows, rules_check, rules_file, short_policy,
                      system_rules, timeline, wait_for, wait_incident,
                      wait_socket)

def shots_dir(workdir):
    if os.environ.get("RTOWATCH_SAVE_SCREENSHOTS") == "1":
        return os.path.join(REPO, "docs", "screenshots")
    return os.path.join(str(workdir), "screenshots")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http_get(port, path, method="GET", body=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request(method, path, body=body)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, dict(r.getheaders()), data


def a_day_of_history(db, system, check):
    """The minutes a daemon running since yesterday would have written
    for SYSTEM's CHECK: round trips of 3-30 ms with the day's load, and
    an hour with failures (a third of its probes timed out)."""
    import math
    import sqlite3
    now = int(time.time()) // 60 * 60
    con = sqlite3.connect(db, timeout=10)
    try:
        with con:
            con.execute("INSERT OR IGNORE INTO response_checks (system, name)"
                        " VALUES (?, ?)", (system, check))
            cid = con.execute("SELECT id FROM response_checks WHERE"
                              " system = ? AND name = ?",
                              (system, check)).fetchone()[0]
            rows = []
            for m in range(24 * 60 - 1, 1, -1):
                at = now - m * 60
                base = 8 + 6 * math.sin(at / 86400 * 2 * math.pi)
                bad = 5 * 3600 < m * 60 <= 6 * 3600
                ok, failed = (4, 2) if bad else (6, 0)
                rows.append((cid, 60, at, ok, failed, int(base) - 3 + m % 3,
                             int(base * 3) + m % 7, ok * int(base),
                             "timeout" if bad else None))
            con.executemany("INSERT INTO response_history VALUES"
                            " (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    finally:
        con.close()


CHART_SLOTS = 96        # a day of quarter-hours (web.c)


def chart_counts(db, system, check, start, slot):
    """The slots of CHECK's chart from START: those with good probes and
    those with failures, from the history table itself."""
    rows = db_rows(db, "SELECT h.at / ? AS k, sum(h.ok) AS ok,"
                   " sum(h.failed) AS failed FROM response_history h"
                   " JOIN response_checks c ON c.id = h.check_id"
                   " WHERE c.system = ? AND c.name = ? AND h.at >= ?"
                   " AND h.at < ? GROUP BY 1", slot, system, check, start,
                   start + CHART_SLOTS * slot)
    return (sum(1 for r in rows if r["ok"] > 0),
            sum(1 for r in rows if r["failed"] > 0))


def test_web_pages(scenario, workdir):
    down_port = scenario.closed_port()
    later = scenario.listener()
    port = free_port()
    d = scenario.daemon()
    web = (f"set web listen 127.0.0.1:{port}\n"
           f'set web public "wifi"\n'
           # Buckets of a second: history within the scenario's seconds.
           "set history-bucket 1s\n")
    d.write_rules(rules_file(
        d.db, web, system_rules("wifi", down_port),
        system_rules("mail", later.port),
        policy=short_policy(workdir, notify="1h", notify_remind="30m")))
    d.start()
    wait_socket(d.sock)
    inc = wait_incident(d.db, "wifi")
    a_day_of_history(d.db, "mail", f"tcp 127.0.0.1 port {later.port}")
    # wifi's own refused probes, written by the daemon.
    wait_for(lambda: db_rows(d.db, "SELECT 1 FROM response_history h"
                             " JOIN response_checks c ON c.id = h.check_id"
                             " WHERE c.system = 'wifi' AND h.failed > 0"),
             10, "wifi's failures in the history")
    wait_for(lambda: http_get(port, "/")[0] == 200, 10, "the web page")
    origin = f"http://127.0.0.1:{port}"
    # The charts' last slot fills while the pages are read, and the table
    # is read after them, over the chart's own 96 slots (chart_counts):
    # not in a slot's first seconds, when the page may show it empty and
    # the table a probe more.  (Waiting until 90 s before the next edge
    # as well cost the release pass up to 105 s, and a slot the table
    # reads later lies outside the chart's day.)
    wait_for(lambda: 15 <= time.time() % 900 <= 900 - 20, 40,
             "a time clear of a quarter-hour's edge")
    b = Browser(workdir)
    try:
        run_pages(d, b, origin, port, inc, later, shots_dir(workdir))
    finally:
        b.close()
    d.stop()


def run_pages(d, b, origin, port, inc, later, shots):
    iid = inc["id"]
    os.makedirs(shots, exist_ok=True)

    # The status page: the system, down, since when, its check's result.
    t0 = time.monotonic()
    b.load(origin + "/")
    status_html = b.dom()
    assert "td" in status_html and "wifi" in status_html, status_html[-3000:]
    row = b.js("""(() => { const t = [...document.querySelectorAll(
        'td.system')].find(e => e.textContent.startsWith('wifi'));
        const tr = t.parentElement; return [tr.querySelector('.state')
        .textContent, tr.children[2].textContent,
        tr.children[4].textContent, tr.children[5].textContent]; })()""")
    assert row[0] == "down", row
    # In the rules' zone (Asia/Taipei by default), as the forms show it.
    local = datetime.fromisoformat(inc["started_at"].replace(
        "Z", "+00:00")).astimezone(ZoneInfo("Asia/Taipei"))
    assert row[1].startswith(local.strftime("%Y-%m-%d %H:%M")), row
    assert "refused" in row[2], row
    assert re.fullmatch(r"\d+ ms|", row[3]), row
    # Its incident's clocks count down in the page, from the deadline.
    left = b.js("[...document.querySelectorAll('#deadlines td.due')]"
                ".map(e => e.textContent)")
    assert left and all(re.fullmatch(r"-?\d+:\d\d:\d\d", x) for x in left), \
        left
    first = b.js("document.querySelector('#deadlines td.due')"
                 ".textContent")
    wait_for(lambda: b.js("document.querySelector('#deadlines td.due')"
                          ".textContent") != first, 3,
             "the countdown to move")
    assert "維護時段" in status_html and "處理中事件與期限" in status_html
    # The nodes sharing the register: on SQLite this one, the leader.
    nodes = b.js("[...document.querySelectorAll('#nodes tbody tr')].map("
                 "r => [r.children[0].textContent,"
                 " r.children[1].textContent])")
    assert nodes == [[socket.gethostname(), "leader"]], nodes
    # A 24-hour response-time chart per check, drawn from the history
    # table: a bar a slot with good probes, the mean's line through the
    # same slots, a red mark a slot with failures.
    charts = b.js("""[...document.querySelectorAll('#rtt svg')].map(e => ({
        system: e.dataset.system, check: e.dataset.check,
        from: +e.dataset.from, slot: +e.dataset.slot,
        band: (e.querySelector('.band').getAttribute('d')
               .match(/M/g) || []).length,
        avg: (e.querySelector('.avg').getAttribute('d')
              .match(/[ML]/g) || []).length,
        fail: (e.querySelector('.fail').getAttribute('d')
               .match(/M/g) || []).length,
        width: e.getBoundingClientRect().width}))""")
    checks = b.js("[...document.querySelectorAll('td.system')].length")
    assert len(charts) == checks == 2, charts
    for c in charts:
        assert c["slot"] == 900 and c["width"] > 200, c
        ok, failed = chart_counts(d.db, c["system"], c["check"], c["from"],
                                  c["slot"])
        assert (c["band"], c["avg"], c["fail"]) == (ok, ok, failed), \
            (c, ok, failed)
    wifi, mail = sorted(charts, key=lambda c: c["system"], reverse=True)
    # wifi never answered: failures only; mail a day of answers.
    assert wifi["band"] == 0 and wifi["fail"] >= 1, wifi
    assert 90 <= mail["band"] <= 96 and 4 <= mail["fail"] <= 5, mail
    print("a day's chart: %.1f kB" % (b.js(
        "document.querySelector('#rtt svg[data-system=mail]')"
        ".closest('figure').outerHTML.length") / 1024))
    fcp = b.js("(performance.getEntriesByName('first-contentful-paint')[0]"
               " || {}).startTime")
    weight = b.js("performance.getEntriesByType('navigation')[0]"
                  ".encodedBodySize")
    loaded = b.js("performance.getEntriesByType('navigation')[0]"
                  ".loadEventEnd")
    print(f"\nstatus page: {weight / 1024:.1f} kB, first contentful paint "
          f"{fcp:.0f} ms, load event {loaded:.0f} ms (the first page of a "
          f"fresh browser: {(time.monotonic() - t0) * 1e3:.0f} ms in all)")
    b.screenshot(os.path.join(shots, "web-status.png"))

    # On a phone: one column, nothing wider than the screen.
    b.call("Emulation.setDeviceMetricsOverride", width=390, height=844,
           deviceScaleFactor=2, mobile=True)
    b.load(origin + "/")
    assert b.js("document.documentElement.scrollWidth") <= 390
    assert b.js("getComputedStyle(document.querySelector('td'))"
                ".display") == "block"
    # Each line says which column it was.
    assert b.js("document.querySelector('#deadlines td.due').dataset.l") \
        == "剩餘"
    b.screenshot(os.path.join(shots, "web-status-phone.png"))
    b.call("Emulation.clearDeviceMetricsOverride")

    # English, procedure terms kept beside it.
    b.load(origin + "/?lang=en")
    en = b.dom()
    assert 'lang="en"' in en and "notification (通報)" in en, en[:2000]

    # The register, form 02, with the CLI's filters.
    b.load(origin + "/register?system=wifi")
    reg = b.dom()
    print("register (the CLI's form 02): %.1f kB, load event %.0f ms" % (
        b.js("performance.getEntriesByType('navigation')[0]"
             ".encodedBodySize") / 1024,
        b.js("performance.getEntriesByType('navigation')[0]"
             ".loadEventEnd")))
    assert "IMS-P-009-02" in reg and "wifi" in reg
    b.screenshot(os.path.join(shots, "web-register.png"))
    # Its filter form, filled with what was asked; another system.
    assert b.js("document.querySelector('form.filter input[name=system]')"
                ".value") == "wifi"
    b.submit("document.querySelector('form.filter input[name=system]')"
             ".value = 'nosuch'; document.querySelector('form.filter')"
             ".submit()")
    assert b.js("location.search") == "?from=&to=&system=nosuch&kind="
    assert "wifi" not in b.js("document.body.innerText")

    # One incident: form 01 and its timeline.
    b.load(origin + f"/incident?id={iid}")
    form = b.js("document.body.innerText")
    assert "IMS-P-009-01" in b.dom() and "wifi" in form
    # Its way back to the status, which print leaves out.
    assert b.js("getComputedStyle(document.querySelector('nav.web'))"
                ".display") != "none"
    b.call("Emulation.setEmulatedMedia", media="print")
    assert b.js("getComputedStyle(document.querySelector('nav.web'))"
                ".display") == "none"
    b.call("Emulation.setEmulatedMedia", media="")
    for e in timeline(d.db, iid):
        assert e["event"] in form, f"{e['event']} missing from form 01"
    b.screenshot(os.path.join(shots, "web-incident.png"))

    b.load(origin + "/warnings")
    assert b.js("!!document.querySelector('table#warnings')")

    b.load(origin + "/availability")
    bars = b.js("[...document.querySelectorAll('#avail-chart text')]"
                ".map(e => e.textContent)")
    # A system with a recorded outage, and its bar drawn by the server.
    assert "wifi" in bars, bars
    assert b.js("document.querySelectorAll('#avail-chart rect').length") >= 1

    b.load(origin + "/digest")
    assert "月報" in b.js("document.title")

    # The public page: up or down of the named system, nothing more.
    b.load(origin + "/public")
    pub = b.js("document.body.innerText")
    assert "wifi" in pub and "中斷" in pub
    assert "mail" not in pub and "refused" not in pub and "通報" not in pub

    # Nothing but the listener was asked for anything.
    others = [u for u in b.requests
              if not u.startswith(origin + "/") and not u.startswith("data:")
              and u != "about:blank"]
    assert not others, f"requests beyond the listener: {others}"
    for page in (status_html, reg, en):
        srcs = re.findall(r"""(?:src|href)=["']?(https?://[^"' >]+)""", page)
        assert all(s.startswith(origin) for s in srcs), srcs

    # Live: a second system goes down; its incident appears in the page
    # within 2 s of opening, with no reload.
    b.load(origin + "/")
    wait_for(lambda: b.js("document.body.dataset.live") == "1", 5,
             "the page to follow /events")
    b.js("window.notReloaded = 1")
    later.stop()
    inc2 = wait_incident(d.db, "mail")
    wait_for(lambda: "mail" in b.js(
        "[...document.querySelectorAll('#deadlines tr.deadline')]"
        ".map(e => e.textContent).join(' ')"), 5,
        "the mail incident on the status page")
    assert b.js("window.notReloaded") == 1, "the page was reloaded"
    updated = int(b.js("document.body.dataset.updated"))
    opened = db_rows(d.db, "SELECT at FROM timeline WHERE incident_id = ?"
                     " ORDER BY id LIMIT 1", inc2["id"])[0]["at"]
    from conftest import parse_time
    lag = updated - parse_time(opened)
    print(f"page updated {lag} ms after the incident opened")
    assert lag < 2000, f"the page updated {lag} ms after the incident"

    # The charts' history is read again as the page is drawn: mail's
    # refused probes come into its chart (a draw at least 10 s after the
    # last read reads the last minutes of every system again).
    def mail_fails():
        page = http_get(port, "/")[2].decode()
        m = re.search(r'data-system="mail".*?class="fail"[^>]* d="([^"]*)"',
                      page)
        return m and m.group(1).count("M")
    before_fails = mail["fail"]
    wait_for(lambda: mail_fails() > before_fails, 20,
             "mail's refused probes in its chart")

    # Read-only: a workflow action is refused here, and not recorded.
    before = len(timeline(d.db, iid))
    st, _, _ = http_get(port, f"/v1/incidents/{iid}/ack", "POST",
                        b'{"note": "from the web"}')
    assert st == 405
    assert len(timeline(d.db, iid)) == before
    # The JSON reads are the control socket's own.
    st, _, body = http_get(port, f"/v1/incidents/{iid}")
    assert st == 200 and b'"system":"wifi"' in body


def test_web_charts_read_a_few_systems_a_turn(scenario, workdir):
    """A page's draw reads the day's history of at most 8 systems (the
    loop is not held for all of a thousand); the others are read in the
    next turns, and a page following /events then redraws itself with
    every chart, without a reload."""
    names = [f"s{i:02d}" for i in range(11)]
    port = free_port()
    d = scenario.daemon()
    d.write_rules(rules_file(
        d.db, f"set web listen 127.0.0.1:{port}\nset history-bucket 1s\n",
        *(system_rules(n, scenario.closed_port(), every="500ms",
                       timeout="100ms") for n in names)))
    d.start()
    wait_socket(d.sock)
    wait_for(lambda: len(db_rows(
        d.db, "SELECT DISTINCT c.system FROM response_checks c"
        " JOIN response_history h ON h.check_id = c.id")) == len(names),
        15, "every system's refused probes in the history")
    origin = f"http://127.0.0.1:{port}"
    b = Browser(workdir)
    try:
        # The browser's is the first draw: 8 systems read, 3 to come.
        b.load(origin + "/")
        b.js("window.notReloaded = 1")
        wait_for(lambda: b.js(
            "[...document.querySelectorAll('#rtt svg')].filter(e =>"
            " !e.querySelector('.wait') && e.querySelector('.fail')"
            " .getAttribute('d').startsWith('M')).length") == len(names),
            5, "every system's chart drawn")
        assert b.js("window.notReloaded") == 1
        assert b.js("document.body.dataset.updated"), \
            "the charts came in a redraw, not with the page"
    finally:
        b.close()
    # Once read, a draw has them all.
    body = http_get(port, "/")[2].decode()
    assert body.count("<svg") == len(names) and "讀取中" not in body
    d.stop()


def test_web_page_told_the_store_fails(scenario, workdir):
    """The database refuses writes (another process holds its lock): no
    timeline row can say so, yet a page following /events is told once
    store-alert-after has passed, as the control socket's long poll
    tells its waiters, and shows the store failing, without a reload."""
    from storefault import Locker
    svc = scenario.listener()
    port = free_port()
    d = scenario.daemon()
    d.write_rules(rules_file(
        d.db, f"set web listen 127.0.0.1:{port}\nset store-alert-after 2s\n",
        system_rules("alpha", svc.port, every="200ms", down_after=2)))
    d.start()
    wait_socket(d.sock)
    wait_for(lambda: http_get(port, "/")[0] == 200, 10, "the web page")
    b = Browser(workdir)
    locker = None
    try:
        b.load(f"http://127.0.0.1:{port}/")
        wait_for(lambda: b.js("document.body.dataset.live") == "1", 5,
                 "the page to follow /events")
        assert not b.js("!!document.getElementById('store-failing')")
        b.js("window.notReloaded = 1")
        locker = Locker(d.db)
        svc.stop()          # an outage to record: refused, held
        wait_for(lambda: "refuses writes" in d.run_log(), 10,
                 "the store refusing the outage's writes")
        wait_for(lambda: "store failing" in (
            b.js("document.body.dataset.event") or ""), 10,
            "the store's alert on the page")
        banner = b.js("document.getElementById('store-failing')"
                      ".textContent")
        assert "資料庫寫入失敗" in banner, banner
        assert b.js("window.notReloaded") == 1
        locker.release()
        locker = None
        # Written at last: the redraw the outage's rows bring says so.
        wait_for(lambda: not b.js(
            "!!document.getElementById('store-failing')"), 15,
            "the banner gone once the store takes the writes")
    finally:
        if locker is not None:
            locker.release()
        b.close()
    d.stop()


def test_web_beyond_loopback_needs_tls(workdir):
    rules = os.path.join(str(workdir), "r.conf")
    with open(rules, "w", encoding="utf-8") as f:
        f.write(rules_file(os.path.join(str(workdir), "r.db"),
                           "set web listen 0.0.0.0:8443\n",
                           system_rules("wifi", 9)))
    rc, out, err = rules_check(rules)
    assert rc == 1
    assert re.search(r"r\.conf:3: web listen 0\.0\.0\.0:8443 is beyond "
                     r"loopback: it needs \"set web tls", err), err


def test_web_reload(scenario, workdir):
    """set web listen takes effect at reload: on, moved, off."""
    down_port = scenario.closed_port()
    d = scenario.daemon()
    base = [system_rules("wifi", down_port)]
    d.write_rules(rules_file(d.db, *base))
    d.start()
    wait_socket(d.sock)
    p1, p2 = free_port(), free_port()

    def answers(port):
        try:
            return http_get(port, "/public")[0]
        except OSError:
            return None

    assert answers(p1) is None
    d.write_rules(rules_file(d.db, f"set web listen 127.0.0.1:{p1}\n",
                             *base))
    d.hup()
    wait_for(lambda: answers(p1) == 404, 10, f"the page on port {p1}")
    d.write_rules(rules_file(d.db, f"set web listen 127.0.0.1:{p2}\n",
                             'set web public "wifi"\n', *base))
    d.hup()
    wait_for(lambda: answers(p2) == 200, 10, f"the page moved to {p2}")
    assert answers(p1) is None
    d.write_rules(rules_file(d.db, *base))
    d.hup()
    wait_for(lambda: answers(p2) is None, 10, "the page off")
    assert "web page off" in d.run_log()
    d.stop()
