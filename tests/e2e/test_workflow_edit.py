"""`rtowatch edit ID`: the report form's fields in $EDITOR, saved through
the control socket field by field, each a "field set" event by this
account.  A form the editor broke is refused with its line, nothing is
saved and the person's text is kept; an editor that fails saves nothing.
"""
import getpass
import os

from conftest import (cli, db_rows, events, rules_file, system_rules,
                      wait_incident, wait_socket)

FILL = r'''
import sys
path = sys.argv[1]
text = open(path, encoding="utf-8").read()
assert "cause: tcp 127.0.0.1" in text, text   # the daemon's own cause
text = text.replace("\nscope:\n",
                    "\nscope: the catalogue, 2 000 readers\n"
                    "\tno loan records lost\n")
text = text.replace("\nroot-cause:\n", "\nroot-cause: 電源供應器故障\n")
text = text.replace("\ncategory:\n", "\ncategory: EQU-2\n")
open(path, "w", encoding="utf-8").write(text)
'''

BREAK = r'''
import sys
with open(sys.argv[1], "a", encoding="utf-8") as f:
    f.write("this line is not a field\n")
'''


def editor(directory, name, code):
    path = os.path.join(str(directory), name)
    with open(path, "w") as f:
        f.write(code)
    return f"/usr/bin/python3 {path}"


def test_edit_in_editor(scenario):
    svc = scenario.listener()
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, system_rules("catalogue", svc.port)))
    d.start()
    wait_socket(d.sock)
    svc.stop()
    iid = wait_incident(d.db, "catalogue")["id"]

    rc, out, err = cli("--socket", d.sock, "edit", iid, env={
        "VISUAL": "", "EDITOR": editor(scenario.dir, "fill.py", FILL)})
    assert rc == 0, err
    row = db_rows(d.db, "SELECT scope, root_cause, category, cause FROM "
                  "incidents WHERE id = ?", iid)[0]
    assert row["scope"] == ("the catalogue, 2 000 readers\n"
                            "no loan records lost"), row
    assert row["root_cause"] == "電源供應器故障", row
    assert row["category"] == "EQU-2", row
    assert row["cause"].startswith("tcp 127.0.0.1"), row   # unchanged
    sets = events(d.db, iid, "field set")
    assert sorted(e["detail"].split(":")[0] for e in sets) == [
        "category", "root-cause", "scope"], sets
    assert all(e["actor"] == getpass.getuser() for e in sets)

    # Nothing changed the second time round.
    rc, out, err = cli("--socket", d.sock, "edit", iid,
                       env={"VISUAL": "", "EDITOR": "true"})
    assert rc == 0 and "no field changed" in out, (out, err)

    before = db_rows(d.db, "SELECT * FROM timeline")
    rc, out, err = cli("--socket", d.sock, "edit", iid, env={
        "VISUAL": "", "EDITOR": editor(scenario.dir, "break.py", BREAK)})
    assert rc == 1, (out, err)
    assert "not a field of the form: this line is not a field" in err, err
    kept = err.split("the form stays in ")[-1].strip()
    assert os.path.exists(kept), err
    os.unlink(kept)
    rc, out, err = cli("--socket", d.sock, "edit", iid,
                       env={"VISUAL": "", "EDITOR": "false"})
    assert rc == 1 and "nothing was saved" in err, err
    assert db_rows(d.db, "SELECT * FROM timeline") == before
    d.stop()
