"""Reloads that rename an owner, change a check, remove a system whose
incident is open and add another (issue 20).

The daemon keeps no copy of a system's name, owner, parents or check
descriptions while they are in the rules: the engine, the monitors and
the response history point at the rules' own strings, and each reload
points them at the new rules before the old ones are freed.  A system
that leaves the rules while its incident is open keeps a copy of its
names: it stays, unprobed, until it comes back and is restored.  On the
ASan build (RTOWATCH_BIN_DIR=bin/asan) a pointer left at the old rules
is a heap-use-after-free at the next status, failure or history write
that reads it, and fails the scenario at its stop.

The administrator's story:
- alpha's owner is renamed: an incident opened after the reload records
  the new owner, and its mail says so;
- beta (which depends on alpha) moves to another port: its status and
  its response history name the new check, the history keeps the old
  one's minutes under the old name, and beta failing while alpha is down
  joins alpha's incident (its parent, read after the reload);
- gamma, down with its incident open, is removed: the daemon says so at
  each reload, keeps it down on its incident, across a restart too, and
  when gamma comes back into the rules and answers, that same incident
  is restored, named "gamma" in the record and in the mail;
- delta is added and probed.
"""
from conftest import (api, db_rows, rules_file, start_daemon, system_rules,
                      timeline, wait_for, wait_incident)


def status(d):
    code, body = api(d.sock, "GET", "/v1/status")
    assert code == 200, body
    return {s["name"]: s for s in body["systems"]}


def beta_rules(port):
    return system_rules("beta", port).replace(
        '    owner', '    depends "alpha"\n    owner')


def reload(d, text, said):
    """Write TEXT, SIGHUP, and wait for the log to say SAID again."""
    d.write_rules(text)
    count = d.log().count(said)
    d.hup()
    wait_for(lambda: d.log().count(said) > count, 15,
             f"the reload's {said!r}")


def test_reload_renames_removes_and_adds(scenario):
    alpha, beta1, beta2, gamma, delta = (scenario.listener()
                                         for _ in range(5))
    d = scenario.daemon()
    head = "set history-bucket 1s\n"

    def rules(*systems):
        return rules_file(d.db, head, *systems)

    d.write_rules(rules(system_rules("alpha", alpha.port, owner="team A"),
                        beta_rules(beta1.port),
                        system_rules("gamma", gamma.port)))
    start_daemon(d)
    beta1.wait_accepted(2)
    gamma.wait_accepted(2)
    gamma.stop()
    g = wait_incident(d.db, "gamma")
    assert g["status"] == "open", g

    # Owner renamed, beta moved, gamma removed, delta added.
    second = rules(system_rules("alpha", alpha.port, owner="team B"),
                   beta_rules(beta2.port),
                   system_rules("delta", delta.port))
    gone = f"gamma: no longer in the rules; its outage and incident " \
        f"{g['id']} stay open"
    reload(d, second, gone)
    beta2.wait_accepted(2, what="beta probed on its new port")
    delta.wait_accepted(2, what="the added system probed")
    new_check = f"tcp 127.0.0.1 port {beta2.port}"
    old_check = f"tcp 127.0.0.1 port {beta1.port}"

    def settled():
        st = status(d)
        return st if st["delta"]["state"] == "up" else None
    st = wait_for(settled, 10, "delta up in the status")
    assert [c["check"] for c in st["beta"]["checks"]] == [new_check], st
    assert st["gamma"]["state"] == "down", st["gamma"]
    assert st["gamma"]["incident"] == g["id"], st["gamma"]
    assert st["gamma"]["checks"] == [], st["gamma"]
    assert [c["check"] for c in st["alpha"]["checks"]] == [
        f"tcp 127.0.0.1 port {alpha.port}"], st["alpha"]

    # The same rules again: gamma's own copy of its names stays its own.
    reload(d, second, gone)
    assert status(d)["gamma"]["incident"] == g["id"]

    # alpha fails: its incident has the new owner; beta, failing on its
    # new port while alpha is down, joins alpha's incident.
    alpha.stop()
    a = wait_incident(d.db, "alpha")
    owner = db_rows(d.db, "SELECT owner FROM incidents WHERE id = ?",
                    a["id"])
    assert owner == [{"owner": "team B"}], owner
    beta2.stop()

    def beta_attached():
        b = status(d)["beta"]
        return b if b["state"] == "down" else None
    b = wait_for(beta_attached, 10, "beta down")
    assert b["incident"] == a["id"] and b["attached"], b
    assert b["checks"][0]["check"] == new_check, b
    assert not [i for i in db_rows(d.db, "SELECT system FROM incidents")
                if i["system"] == "beta"]
    mails = db_rows(d.db, "SELECT subject, body FROM notifications WHERE "
                    "incident_id = ?", a["id"])
    assert mails and all("team B" in m["body"] for m in mails), mails

    # The history: beta's minutes before the reload under the old
    # check's name, after it under the new one.
    def history():
        names = {r["name"] for r in db_rows(
            d.db, "SELECT name FROM response_checks WHERE system = 'beta'")}
        return names if {old_check, new_check} <= names else None
    names = wait_for(history, 10, "beta's history under both names")
    assert names == {old_check, new_check}, names
    assert {r["system"] for r in db_rows(
        d.db, "SELECT system FROM response_checks")} == {
        "alpha", "beta", "gamma", "delta"}

    # A restart: gamma is read back from the records, not the rules.
    d.stop()
    start_daemon(d)
    wait_for(lambda: f"gamma: not in the rules; its open outage and "
             f"incident {g['id']} stay open" in d.run_log(), 15,
             "gamma recovered from the records")
    assert status(d)["gamma"]["incident"] == g["id"]

    # gamma comes back into the rules and answers: the same incident is
    # restored, under its name.
    gamma.start()
    reload(d, rules(system_rules("alpha", alpha.port, owner="team B"),
                    beta_rules(beta2.port),
                    system_rules("delta", delta.port),
                    system_rules("gamma", gamma.port)),
           "reloading")
    r = wait_incident(d.db, "gamma", restored=True,
                      what="gamma's incident restored")
    assert r["id"] == g["id"], (r, g)
    restored = [e for e in timeline(d.db, g["id"])
                if e["event"] == "restored"]
    assert len(restored) == 1 and "gamma" in restored[0]["detail"], \
        restored
    mails = wait_for(lambda: db_rows(
        d.db, "SELECT subject FROM notifications WHERE incident_id = ? "
        "AND event = 'restored'", g["id"]), 10, "gamma's restored mail")
    assert all("gamma" in m["subject"] for m in mails), mails
    assert status(d)["gamma"]["state"] == "up"
    d.stop()
