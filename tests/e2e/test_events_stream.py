"""The event stream: a long poll on the timeline's ids.  A waiting client
is answered as soon as a new event is committed, not at the end of its
wait; a client resuming from the last id it saw gets every event once;
and after the daemon is killed and restarted it carries on from there.
"""
import getpass
import threading
import time

from conftest import (api, rules_file, system_rules, wait_for,
                      wait_incident, wait_socket)


def test_long_poll_and_resume(scenario):
    svc = scenario.listener()
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, system_rules("erp", svc.port)))
    d.start()
    wait_socket(d.sock)
    status, body = api(d.sock, "GET", "/v1/events")
    assert status == 200 and body == {"events": [], "last": 0}, body

    # A client waits (up to 30 s) before anything has happened.
    got = {}

    def wait_events():
        t0 = time.monotonic()
        got["reply"] = api(d.sock, "GET", "/v1/events?after=0&wait=30")
        got["took"] = time.monotonic() - t0

    waiter = threading.Thread(target=wait_events)
    waiter.start()
    svc.stop()
    iid = wait_incident(d.db, "erp")["id"]
    waiter.join(35)
    status, body = got["reply"]
    assert status == 200, body
    assert got["took"] < 20, f"answered only after {got['took']:.1f}s"
    assert [e["event"] for e in body["events"]] == ["opened"], body
    ev = body["events"][0]
    assert ev["incident"] == iid and ev["system"] == "erp", ev
    assert ev["level"] == 1 and ev["actor"] == "rtowatchd", ev
    last = body["last"]
    assert last == ev["id"]

    # Nothing new: a short wait comes back empty at its end.
    t0 = time.monotonic()
    status, body = api(d.sock, "GET", f"/v1/events?after={last}&wait=1")
    assert body == {"events": [], "last": last}, body
    assert time.monotonic() - t0 >= 0.9

    api(d.sock, "POST", f"/v1/incidents/{iid}/ack", {"note": "first"})
    d.kill9()
    d.start()
    wait_socket(d.sock)
    api(d.sock, "POST", f"/v1/incidents/{iid}/ack", {"note": "second"})
    status, body = api(d.sock, "GET", f"/v1/events?after={last}")
    me = getpass.getuser()
    names = [(e["event"], e["detail"]) for e in body["events"]]
    assert names == [("acknowledged", f"acknowledged by {me}: first"),
                     ("acknowledged", f"acknowledged by {me}: second")], \
        names
    ids = [e["id"] for e in body["events"]]
    assert ids == sorted(set(ids)) and ids[0] == last + 1, ids
    status, body = api(d.sock, "GET", f"/v1/events?after={ids[-1]}")
    assert body["events"] == [], body
    d.stop()
