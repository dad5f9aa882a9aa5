"""What a person sees: a screenshot of real notifications under Xvfb.

Two systems go down, a level-3 one (core business and critical
infrastructure) and a level-1 one; dunst draws the agent's two
notifications on the Xvfb screen, and ImageMagick's `import` takes the
screen.  The picture must show both: the critical background (#900000 in
the test's dunstrc) and the normal one (#285577), each over an area the
size of a notification, with text drawn on them.

tests/e2e/notify_screenshot.sh runs this with RTOWATCH_SCREENSHOT set, to
refresh docs/notify-screenshot.png (the screen, trimmed to the
notifications).
"""
import os
import re
import shutil
import subprocess

import pytest

from conftest import (rules_file, start_daemon, system_rules, wait_for,
                      wait_incident, wait_socket)
from desktop import RtowatchNotify, desktop, wait_shown

assert desktop  # the fixture, imported for pytest

CRITICAL_BG = "#900000"
NORMAL_BG = "#285577"
MIN_AREA = 300 * 40     # pixels: well under one notification's box


def colours(png):
    """{'#RRGGBB': pixel count} of PNG, from ImageMagick's histogram."""
    out = subprocess.run(["convert", png, "-format", "%c", "histogram:info:-"],
                         capture_output=True, text=True, check=True,
                         timeout=60).stdout
    found = {}
    for m in re.finditer(r"^\s*(\d+):.*?(#[0-9A-Fa-f]{6})\b", out, re.M):
        found[m.group(2).upper()] = int(m.group(1))
    return found


def test_screenshot_shows_a_critical_and_a_normal_notification(scenario,
                                                               desktop):
    if shutil.which("convert") is None or shutil.which("import") is None:
        pytest.skip("no ImageMagick (import, convert) for the screenshot")
    portal = scenario.listener()
    wiki = scenario.listener()
    d = scenario.daemon()
    d.write_rules(rules_file(
        d.db,
        system_rules("portal", portal.port, core=True, ci=True),
        system_rules("wiki", wiki.port)))
    start_daemon(d)
    wait_socket(d.sock)
    agent = RtowatchNotify(desktop, scenario.dir, d.sock).start()
    try:
        agent.wait_log("following ")
        portal.stop()
        wait_incident(d.db, "portal")
        wait_shown(desktop, "portal", "opened")
        wiki.stop()
        wait_incident(d.db, "wiki")
        wait_shown(desktop, "wiki", "opened")

        shot = os.path.join(scenario.dir, "screen.png")

        def drawn():
            desktop.screenshot(shot)
            c = colours(shot)
            ok = (c.get(CRITICAL_BG, 0) >= MIN_AREA
                  and c.get(NORMAL_BG, 0) >= MIN_AREA
                  and c.get("#FFFFFF", 0) > 0)
            return c if ok else None
        wait_for(drawn, 20, "both notifications drawn on the Xvfb screen")

        out = os.environ.get("RTOWATCH_SCREENSHOT")
        if out:
            subprocess.run(["convert", shot, "-trim", "+repage",
                            "-bordercolor", "#000000", "-border", "16",
                            out], check=True, timeout=60)
        agent.stop()
    finally:
        agent.cleanup()
    d.stop()
