"""Bad requests on the control socket get a clear JSON error and change
nothing: an oversized body, malformed JSON, a body that is not an object,
an unknown or mistyped member, a wrong method, an unknown path, a bad id.
The daemon goes on serving afterwards.
"""
import socket

from conftest import (api, db_rows, rules_file, system_rules, wait_incident,
                      wait_socket)


def snapshot(db):
    return (db_rows(db, "SELECT * FROM incidents"),
            db_rows(db, "SELECT * FROM timeline"),
            db_rows(db, "SELECT * FROM warnings"),
            db_rows(db, "SELECT * FROM maintenance"))


def test_bad_requests_change_nothing(scenario):
    svc = scenario.listener()
    d = scenario.daemon()
    d.write_rules(rules_file(d.db, system_rules("vpn", svc.port)))
    d.start()
    wait_socket(d.sock)
    svc.stop()
    iid = wait_incident(d.db, "vpn")["id"]
    before = snapshot(d.db)
    ack = f"/v1/incidents/{iid}/ack"

    cases = [
        ("POST", ack, "x" * (70 * 1024), 413, "at most 65536"),
        ("POST", ack, '{"note": ', 400, "malformed JSON"),
        ("POST", ack, "[1, 2]", 400, "must be a JSON object"),
        ("POST", ack, '{"note": "a", "note": "b"}', 400, "malformed JSON"),
        ("POST", ack, '{"notes": "typo"}', 400, 'unknown member "notes"'),
        ("POST", ack, '{"note": 42}', 400, '"note" must be a string'),
        ("POST", f"/v1/incidents/{iid}/level",
         '{"confidentiality": 9, "reason": "x"}', 400, "1 to 4"),
        ("POST", f"/v1/incidents/{iid}/reported",
         '{"ticket": "T", "at": "yesterday"}', 400, "not a UTC time"),
        ("POST", f"/v1/incidents/{iid}/explode", "{}", 404, "no action"),
        ("POST", "/v1/incidents/abc/ack", "{}", 404, "no such path"),
        ("POST", "/v1/incidents/99999/ack", "{}", 404, "no incident 99999"),
        ("POST", "/v2/incidents", "{}", 404, "no such path"),
        ("PUT", ack, "{}", 405, "GET to read"),
        ("DELETE", f"/v1/incidents/{iid}", "", 405, "GET to read"),
        ("GET", "/v1/events?after=-1", "", 400, "after is an event id"),
        ("GET", "/v1/events?after=0&wait=3600", "", 400, "wait 0 to 60"),
        ("GET", "/v1/incidents?status=lost", "", 400, "status is open"),
        ("GET", "/v1/nothing", "", 404, "no such path"),
        # The route table keeps the answers of the strcmp chains it
        # replaced: a path of the other method is unknown to this one.
        ("GET", "/v1/drills", "", 404, "no such path"),
        ("GET", ack, "", 404, "no such path"),
        ("POST", "/v1/status", "{}", 404, "no such action"),
        ("POST", f"/v1/incidents/{iid}", "{}", 404, "no such action"),
        ("POST", "/v1/warnings/1/explode", "{}", 404, "no such action"),
        ("POST", "/v1/maintenance", '{"sytem": "vpn"}', 400,
         'unknown member "sytem"'),
    ]
    for method, path, body, want, text in cases:
        status, reply = api(d.sock, method, path, raw_body=body)
        assert status == want, (method, path, status, reply)
        assert text in reply.get("error", ""), (method, path, reply)
    assert snapshot(d.db) == before

    # Garbage that is not HTTP at all: the connection is dropped, and
    # the daemon still answers the next caller.
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(d.sock)
    s.sendall(b"\x00\xff NOT HTTP \r\n\r\n")
    s.settimeout(10)
    try:
        s.recv(4096)
    finally:
        s.close()
    status, reply = api(d.sock, "GET", "/v1/incidents")
    assert status == 200 and len(reply["incidents"]) == 1, reply
    assert snapshot(d.db) == before
    d.stop()
