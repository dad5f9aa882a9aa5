"""Under systemd (Type=notify) the daemon says READY=1 once it can work.

systemd passes NOTIFY_SOCKET, a Unix datagram socket; the daemon must
send READY=1 there once its rules are loaded and its database is open, so
that units ordered after it find the database in place.  Here the test
plays systemd's part; like systemd it starts the daemon in /, and the
rules name the database relative to their own directory.
"""
import os
import socket
import tempfile

from conftest import incidents, rules_file, system_rules, wait_for


def notify_socket_path(workdir):
    # sockaddr_un holds 107 bytes; fall back to a short directory.
    path = os.path.join(str(workdir), "notify.sock")
    if len(path) >= 100:
        path = os.path.join(tempfile.mkdtemp(prefix="rtowatch-"),
                            "notify.sock")
    return path


def test_ready_sent_once_rules_loaded_and_database_open(scenario):
    service = scenario.listener()
    d = scenario.daemon()
    # Relative: the database goes beside the rules file, wherever the
    # daemon's current directory is.
    d.write_rules(rules_file(os.path.basename(d.db),
                             system_rules("portal", service.port)))
    assert not os.path.exists(d.db)

    path = notify_socket_path(scenario.dir)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.setblocking(False)
    messages = []
    try:
        d.start(env={"NOTIFY_SOCKET": path})

        def ready():
            try:
                msg = sock.recv(4096).decode("utf-8", "replace")
            except BlockingIOError:
                return None
            # Look at the database the moment READY=1 arrives.
            messages.append((msg, os.path.exists(d.db)))
            return "READY=1" in msg.split("\n")
        wait_for(ready, 15, f"READY=1 on NOTIFY_SOCKET {path}")
    finally:
        sock.close()
        os.unlink(path)

    msg, db_existed = messages[-1]
    assert db_existed, (f"READY=1 sent before the database {d.db} "
                        f"existed; messages: {messages}")
    # Open means usable: the CLI reads it (empty so far).
    assert incidents(d.db) == []
    service.wait_accepted(2, what="the daemon probing after READY=1")
    d.stop()
