"""`rtowatch edit ID` with editors that save as a new file renamed over
the old one (sed -i, Emacs, many IDEs), as well as with one that writes
in place: both edits are saved.  The form is written in $TMPDIR.
(issue 17: "rtowatch edit loses edits", "no field changed", exit 0.)
"""
import os

from conftest import (cli, db_rows, events, rules_file, system_rules,
                      wait_incident, wait_socket)


def script(directory, name, body):
    path = os.path.join(str(directory), name)
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body)
    os.chmod(path, 0o755)
    return path


def test_edit_rename_and_in_place(scenario):
    svc = scenario.listener()
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, system_rules("catalogue", svc.port)))
    d.start()
    wait_socket(d.sock)
    svc.stop()
    iid = wait_incident(d.db, "catalogue")["id"]
    tmp = os.path.join(scenario.dir, "tmp")
    os.mkdir(tmp)
    seen = os.path.join(scenario.dir, "seen")

    # sed -i writes a new file and renames it over the form.
    sed = script(scenario.dir, "sed-editor",
                 f'echo "$1" > {seen}; ino=$(stat -c %i "$1")\n'
                 "sed -i -e 's/^category:$/category: EQU-2/' "
                 "-e 's/^loss:$/loss: 兩小時無法借閱 two hours of no loans/'"
                 ' "$1"\n'
                 '[ "$(stat -c %i "$1")" != "$ino" ] || exit 3\n')
    rc, out, err = cli("--socket", d.sock, "edit", iid,
                       env={"VISUAL": "", "EDITOR": sed, "TMPDIR": tmp})
    assert rc == 0, (out, err)
    assert "no field changed" not in out, out
    row = db_rows(d.db, "SELECT category, loss FROM incidents "
                  "WHERE id = ?", iid)[0]
    assert row["category"] == "EQU-2", (row, out, err)
    assert row["loss"] == "兩小時無法借閱 two hours of no loans", row
    form = open(seen).read().strip()
    assert os.path.dirname(form) == tmp, form
    assert not os.path.exists(form), "the form was left behind"
    assert os.listdir(tmp) == [], os.listdir(tmp)

    # An editor that writes the same file in place.
    inplace = script(scenario.dir, "inplace-editor",
                     'ino=$(stat -c %i "$1")\n'
                     "/usr/bin/python3 - \"$1\" <<'PY'\n"
                     "import sys\n"
                     "p = sys.argv[1]\n"
                     "t = open(p, encoding='utf-8').read()\n"
                     "t = t.replace('\\nsupport:\\n', "
                     "'\\nsupport: 不需要 none\\n')\n"
                     "with open(p, 'r+', encoding='utf-8') as f:\n"
                     "    f.write(t)\n"
                     "PY\n"
                     '[ "$(stat -c %i "$1")" = "$ino" ] || exit 3\n')
    rc, out, err = cli("--socket", d.sock, "edit", iid,
                       env={"VISUAL": "", "EDITOR": inplace, "TMPDIR": tmp})
    assert rc == 0, (out, err)
    assert db_rows(d.db, "SELECT support FROM incidents WHERE id = ?",
                   iid)[0]["support"] == "不需要 none"
    names = sorted(e["detail"].split(":")[0]
                   for e in events(d.db, iid, "field set"))
    assert names == ["category", "loss", "support"], names
    d.stop()
