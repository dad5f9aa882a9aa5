"""A loop held longer than a check's timeout does not turn answered probes
into failures (issue 21: the leader's own view flapped while its loop was
held by synchronous PostgreSQL writes).

The daemon's loop is really held: SIGSTOP for longer than the checks'
timeout, then SIGCONT.  Meanwhile the targets answered every probe in
flight: a real TCP service on loopback that sends its banner 300 ms after
accepting.  When the loop runs again, each such probe's timeout timer has
fired and its answer waits in its socket; libevent hands the expired
timers all at once but the ready sockets a few dozen at a time (epoll's
batch), so without a look at the socket first most of them were judged
"no banner within" and their systems went down although every target
answered.
"""
import heapq
import os
import selectors
import signal
import socket
import threading
import time

from conftest import (Daemon, db_rows, rules_file, system_rules, wait_for,
                      start_daemon)

SYSTEMS = 120
BANNER_DELAY = 0.3


class SlowBanner:
    """Accepts every connection on 127.0.0.1 and, BANNER_DELAY later,
    sends "ok\\n" and closes it."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1024)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.answered = 0
        self.stop_r, self.stop_w = socket.socketpair()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        sel = selectors.DefaultSelector()
        sel.register(self.sock, selectors.EVENT_READ)
        sel.register(self.stop_r, selectors.EVENT_READ)
        due = []            # (when, seq, conn)
        seq = 0
        while True:
            wait = max(0.0, due[0][0] - time.monotonic()) if due else None
            for key, _ in sel.select(wait):
                if key.fileobj is self.stop_r:
                    for _, _, c in due:
                        c.close()
                    sel.close()
                    return
                while True:
                    try:
                        conn, _ = self.sock.accept()
                    except (BlockingIOError, InterruptedError):
                        break
                    seq += 1
                    heapq.heappush(due, (time.monotonic() + BANNER_DELAY,
                                         seq, conn))
            while due and due[0][0] <= time.monotonic():
                _, _, conn = heapq.heappop(due)
                try:
                    conn.sendall(b"ok\n")
                except OSError:
                    pass
                conn.close()
                self.answered += 1

    def close(self):
        self.stop_w.send(b"x")
        self.thread.join(10)
        self.sock.close()
        self.stop_r.close()
        self.stop_w.close()


def test_answered_probes_survive_a_held_loop(workdir):
    target = SlowBanner()
    d = Daemon(workdir)
    try:
        systems = [system_rules(f"s{i}", target.port, every="1s",
                                timeout="900ms", down_after=1, up_after=1,
                                options='expect "ok"')
                   for i in range(SYSTEMS)]
        d.write_rules(rules_file(d.db, *systems))
        start_daemon(d)
        # Two full rounds, every target up.
        wait_for(lambda: target.answered >= 3 * SYSTEMS, 30,
                 "three rounds of answered probes")
        assert db_rows(d.db, "SELECT count(*) AS n FROM outages")[0]["n"] == 0, \
            d.tail()
        # Hold the loop for more than twice the timeout, with about
        # SYSTEMS * 0.3 probes waiting for their banner: each gets it
        # while the daemon is stopped.
        for _ in range(3):
            before = target.answered
            d.proc.send_signal(signal.SIGSTOP)
            time.sleep(2.0)     # the hold itself, not a synchronisation
            d.proc.send_signal(signal.SIGCONT)
            assert target.answered > before + SYSTEMS // 10, \
                "the probes in flight were not answered while held"
            wait_for(lambda: target.answered >= before + 2 * SYSTEMS, 30,
                     "two more rounds after the hold")
        down = [l for l in d.run_log().splitlines() if " is down" in l
                or "timeout:" in l]
        outages = db_rows(d.db, "SELECT count(*) AS n FROM outages")[0]["n"]
        assert outages == 0, (f"{outages} systems judged down though "
                              f"their target answered every probe:\n"
                              + "\n".join(down[:10]))
        d.stop()
    finally:
        d.cleanup()
        target.close()
