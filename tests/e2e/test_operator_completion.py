"""Shell completion for bash and zsh (completion/), which asks rtowatch
itself (`rtowatch --complete`) for its commands, actions, options and
option values, so it follows the table of commands; `make install` puts
both files where bash-completion and zsh look.  Each shell really runs
its completion function, as it would at a TAB.  (issue 17, "Shell
completion".)
"""
import os
import shutil
import subprocess

import pytest

from conftest import REPO, binary

BASH = os.path.join(REPO, "completion", "rtowatch.bash")
ZSH = os.path.join(REPO, "completion", "_rtowatch")


def bash_complete(*words):
    """COMPREPLY for `rtowatch WORDS...<TAB>` (the last word is the one
    being completed)."""
    line = " ".join(words)
    script = (f'source "{BASH}"\n'
              f'COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}\n'
              '_rtowatch\nprintf "%s\\n" "${COMPREPLY[@]}"\n')
    p = subprocess.run(["bash", "--norc", "--noprofile", "-c", script],
                       capture_output=True, text=True, timeout=30,
                       env={**os.environ, "PATH": os.path.dirname(
                           binary("rtowatch")) + ":" + os.environ["PATH"]})
    assert p.returncode == 0, p.stderr
    return sorted(set(w for w in p.stdout.split("\n") if w))


def test_bash():
    cmds = bash_complete("rtowatch", "")
    assert {"incidents", "show", "ack", "status", "maintenance", "backup",
            "draft", "outbox"} <= set(cmds), cmds
    assert bash_complete("rtowatch", "ma") == ["maintenance", "major"]
    assert bash_complete("rtowatch", "maintenance", "") == \
        ["add", "cancel", "list"]
    assert bash_complete("rtowatch", "--db", "x.db", "incidents",
                         "--format", "") == ["csv", "json", "table"]
    assert bash_complete("rtowatch", "contact", "12", "--by", "") == \
        ["email", "fax", "in-person", "phone"]
    assert "--status" in bash_complete("rtowatch", "incidents", "--st")
    assert bash_complete("rtowatch", "warning", "") == \
        ["confirm", "dismiss", "open", "undetermined"]
    assert bash_complete("rtowatch", "--") == \
        ["--db", "--help", "--socket", "--tz", "--version"]


ZSH_DRIVER = r'''
compadd() {
    local a
    local -a arr
    while (( $# )); do
        case $1 in
        -a) shift; arr=(${(P)1}); print -l -- $arr; shift ;;
        --) shift; print -l -- "$@"; return ;;
        -*) shift ;;
        *) print -l -- "$@"; return ;;
        esac
    done
}
_files() { print -- "<files>" }
autoload -Uz _rtowatch 2>/dev/null
source "$ZSHFILE"
'''


def zsh_complete(*words):
    zsh = shutil.which("zsh")
    if zsh is None:
        pytest.skip("zsh is not installed (scripts/deps.sh check adds it)")
    prefix = words[-1]
    arr = " ".join(f"'{w}'" for w in words)
    # The file's last line calls _rtowatch; words, CURRENT and PREFIX
    # are what zsh's completion system sets.
    script = (f"words=({arr}); CURRENT={len(words)}; PREFIX='{prefix}'\n"
              + ZSH_DRIVER)
    p = subprocess.run([zsh, "-f", "-c", script], capture_output=True,
                       text=True, timeout=30,
                       env={**os.environ, "ZSHFILE": ZSH, "PATH":
                            os.path.dirname(binary("rtowatch")) + ":"
                            + os.environ["PATH"]})
    assert p.returncode in (0, 1), p.stderr
    assert p.stderr == "", p.stderr
    return sorted(set(w for w in p.stdout.split("\n") if w))


def test_zsh():
    cmds = zsh_complete("rtowatch", "")
    assert {"incidents", "show", "ack", "status", "maintenance",
            "backup"} <= set(cmds), cmds
    assert zsh_complete("rtowatch", "maintenance", "") == \
        ["add", "cancel", "list"]
    assert zsh_complete("rtowatch", "incidents", "--format", "") == \
        ["csv", "json", "table"]
    assert "--force" in zsh_complete("rtowatch", "backup", "--")
    assert "<files>" in zsh_complete("rtowatch", "--db", "")


def test_make_install_puts_them_where_shells_look(tmp_path):
    binary("rtowatch")
    dest = tmp_path / "dest"
    p = subprocess.run(["make", "--no-print-directory", "-C", REPO, "-o",
                        "all", "install", f"DESTDIR={dest}",
                        "PREFIX=/usr"], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    bash = dest / "usr/share/bash-completion/completions/rtowatch"
    zsh = dest / "usr/share/zsh/vendor-completions/_rtowatch"
    assert bash.read_text() == open(BASH).read()
    assert zsh.read_text() == open(ZSH).read()
    with open(os.path.join(REPO, "debian", "rtowatch.install")) as f:
        pkg = f.read().split()
    assert "usr/share/bash-completion/completions/rtowatch" in pkg
    assert "usr/share/zsh/vendor-completions/_rtowatch" in pkg
