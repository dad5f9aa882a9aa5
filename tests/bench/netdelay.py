"""Hold every packet of an NFQUEUE queue for a fixed delay, then let it go:
netem's `delay` for kernels built without sch_netem.

    ip netns exec NS python3 netdelay.py QUEUE DELAY_MS

Run inside a namespace whose iptables send packets to queue QUEUE
(`-j NFQUEUE --queue-num QUEUE --queue-bypass`).  Only the packets' metadata
come up (no payload is copied), and since the kernel numbers a queue's
packets in order and a batch verdict accepts every packet up to an id, one
verdict per tick releases all packets that have waited DELAY_MS.  Prints
"ready" once bound; on SIGTERM prints how many packets it held and the
mean and largest extra delay it added beyond DELAY_MS (its own lateness,
which a loaded machine makes larger).

The netlink messages are nfnetlink_queue's (linux/netfilter/
nfnetlink_queue.h), written by hand: the standard library only.
"""
import collections
import os
import select
import signal
import socket
import struct
import sys
import time

NETLINK_NETFILTER = 12
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET = 0
NFQNL_MSG_CONFIG = 2
NFQNL_MSG_VERDICT_BATCH = 3
NFQA_PACKET_HDR = 1
NFQA_VERDICT_HDR = 2
NFQA_CFG_CMD = 1
NFQA_CFG_PARAMS = 2
NFQA_CFG_QUEUE_MAXLEN = 3
NFQNL_CFG_CMD_BIND = 1
NFQNL_COPY_META = 1
NLM_F_REQUEST = 1
NLM_F_ACK = 4
NLMSG_ERROR = 2
NF_ACCEPT = 1
# As many as netem's limit is told to hold: 1,000 connections in flight
# are a few thousand packets within any 20 ms.
QUEUE_MAXLEN = 100000


def attr(kind, payload):
    n = 4 + len(payload)
    return struct.pack("=HH", n, kind) + payload + b"\0" * (-n % 4)


def message(msg, queue, attrs, flags=NLM_F_REQUEST):
    body = struct.pack("=BBH", socket.AF_UNSPEC, 0, socket.htons(queue))
    body += b"".join(attrs)
    return struct.pack("=IHHII", 16 + len(body),
                       (NFNL_SUBSYS_QUEUE << 8) | msg, flags, 0, 0) + body


def config(sock, queue, attrs):
    sock.send(message(NFQNL_MSG_CONFIG, queue, attrs,
                      NLM_F_REQUEST | NLM_F_ACK))
    reply = sock.recv(65536)
    kind = struct.unpack_from("=H", reply, 4)[0]
    if kind == NLMSG_ERROR:
        err = struct.unpack_from("=i", reply, 16)[0]
        if err != 0:
            sys.exit(f"netdelay: config of queue {queue}: "
                     f"{os.strerror(-err)}")


def main():
    queue, delay = int(sys.argv[1]), float(sys.argv[2]) / 1000
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW,
                         NETLINK_NETFILTER)
    # SO_RCVBUFFORCE: a burst must not overflow the socket (the kernel
    # drops what it cannot deliver).
    sock.setsockopt(socket.SOL_SOCKET, 33, 64 << 20)
    sock.bind((0, 0))
    config(sock, queue, [attr(NFQA_CFG_CMD, struct.pack(
        "=BBH", NFQNL_CFG_CMD_BIND, 0, 0))])
    config(sock, queue, [
        attr(NFQA_CFG_PARAMS, struct.pack("!IB", 0, NFQNL_COPY_META)),
        attr(NFQA_CFG_QUEUE_MAXLEN, struct.pack("!I", QUEUE_MAXLEN))])
    sock.setblocking(False)
    held = collections.deque()      # (arrival, packet id), oldest first
    stats = {"n": 0, "extra": 0.0, "max": 0.0}
    running = [True]

    def finish(signum, frame):
        running[0] = False
    signal.signal(signal.SIGTERM, finish)
    signal.signal(signal.SIGINT, finish)
    print("ready", flush=True)
    buf = bytearray(1 << 16)
    while running[0]:
        wait = held[0][0] + delay - time.monotonic() if held else 1.0
        if wait > 0:
            try:
                select.select([sock], [], [], wait)
            except InterruptedError:
                continue
        now = time.monotonic()
        while True:
            try:
                n = sock.recv_into(buf)
            except BlockingIOError:
                break
            off = 0
            while off + 16 <= n:
                size, kind = struct.unpack_from("=IH", buf, off)
                if size < 16:
                    break
                if kind == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
                    a = off + 20
                    while a + 4 <= off + size:
                        alen, akind = struct.unpack_from("=HH", buf, a)
                        if alen < 4:
                            break
                        if akind & 0x3fff == NFQA_PACKET_HDR:
                            held.append((now, struct.unpack_from(
                                "!I", buf, a + 4)[0]))
                            break
                        a += (alen + 3) & ~3
                off += (size + 3) & ~3
        now = time.monotonic()
        last = None
        while held and held[0][0] + delay <= now:
            t, last = held.popleft()
            extra = now - t - delay
            stats["n"] += 1
            stats["extra"] += extra
            stats["max"] = max(stats["max"], extra)
        if last is not None:
            sock.send(message(NFQNL_MSG_VERDICT_BATCH, queue, [attr(
                NFQA_VERDICT_HDR, struct.pack("!II", NF_ACCEPT, last))]))
    n = stats["n"]
    print(f"held {n} packets {delay * 1000:.0f} ms, extra delay mean "
          f"{stats['extra'] * 1000 / n if n else 0:.2f} ms, max "
          f"{stats['max'] * 1000:.2f} ms", flush=True)


if __name__ == "__main__":
    main()
