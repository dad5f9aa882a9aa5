"""The man pages: lint-clean, rendered without warnings, complete.

mandoc -Tlint finds mdoc mistakes; `man -l` renders with groff, whose -ww
warnings (lines that cannot be broken, bad characters) a reader would see
as a garbled page.  rtowatch.conf(5) must name every keyword the parser
and the probe kinds accept: a keyword missing from it is one an
administrator cannot learn about.
"""
import os
import re
import shutil
import subprocess

import pytest

from conftest import REPO

MAN = os.path.join(REPO, "man")
PAGES = ["rtowatchd.8", "rtowatch.1", "rtowatch-notify.1",
         "rtowatch.conf.5"]


@pytest.mark.parametrize("page", PAGES)
def test_mandoc_lint_clean(page):
    if shutil.which("mandoc") is None:
        pytest.skip("mandoc is not installed (package mandoc)")
    p = subprocess.run(["mandoc", "-Tlint", "-W", "warning",
                        os.path.join(MAN, page)],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and p.stdout + p.stderr == "", \
        p.stdout + p.stderr


@pytest.mark.parametrize("page", PAGES)
def test_renders_without_groff_warnings(page):
    if shutil.which("groff") is None:
        pytest.skip("groff is not installed (package groff-base)")
    # What man -l runs, with every warning on (-k: preconv for UTF-8).
    p = subprocess.run(["groff", "-k", "-ww", "-mandoc", "-Tutf8",
                        os.path.join(MAN, page)],
                       capture_output=True, text=True, timeout=30,
                       env=dict(os.environ, LC_ALL="C.UTF-8"))
    assert p.returncode == 0 and p.stderr == "", p.stderr
    text = re.sub(".\x08", "", p.stdout)     # overstruck bold
    name = page.rsplit(".", 1)[0].upper()
    assert f"{name}(" in text and "SEE ALSO" in text, text[:400]


def parser_keywords():
    """Every word the rules parser compares a token with, or finds in one
    of its keyword tables ({ "word", conf_handler })."""
    words = set()
    daemon = os.path.join(REPO, "daemon")
    for path in ([os.path.join(daemon, f) for f in os.listdir(daemon)
                  if re.fullmatch(r"conf(_\w+)?\.c", f)]
                 + [os.path.join(REPO, "probes", f)
                    for f in os.listdir(os.path.join(REPO, "probes"))
                    if f.startswith("check_")]):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        words |= set(re.findall(
            r'strcmp\((?:p->text|word|kw|name|s), "([a-z][a-z-]*)"\)',
            text))
        words |= set(re.findall(
            r'\{\s*"([a-z][a-z-]*)",\s*conf_\w+\s*\}', text))
    return words


def test_rules_page_names_every_keyword():
    with open(os.path.join(MAN, "rtowatch.conf.5"), encoding="utf-8") as f:
        page = f.read()
    words = parser_keywords()
    assert {"set", "system", "check", "policy", "maintenance", "port",
            "user", "group"} <= words, words
    missing = sorted(w for w in words
                     if not re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])",
                                      page))
    assert not missing, f"rtowatch.conf.5 does not mention {missing}"
