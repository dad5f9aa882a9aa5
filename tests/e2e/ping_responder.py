"""An ICMP echo responder for the ping scenarios, run inside a test's
network namespace: answers echo requests after a delay, and leaves out
those whose rtowatch attempt number (payload bytes 12-13, after the mark
"rtowatch" and the probe id) is listed.  Settings: a JSON file named on
the command line, re-read for every request.
"""
import heapq
import json
import select
import socket
import struct
import sys
import time


def cksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def main():
    settings_path = sys.argv[1]
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW,
                         socket.IPPROTO_ICMP)
    print("ready", flush=True)
    pending = []    # (due, n, reply bytes, address)
    n = 0
    while True:
        wait = None
        if pending:
            wait = max(0.0, pending[0][0] - time.monotonic())
        r, _, _ = select.select([sock], [], [], wait)
        now = time.monotonic()
        while pending and pending[0][0] <= now:
            _, _, reply, addr = heapq.heappop(pending)
            sock.sendto(reply, (addr, 0))
            print(f"answered {addr}", flush=True)
        if not r:
            continue
        pkt, (addr, _) = sock.recvfrom(65535)
        ihl = (pkt[0] & 0x0F) * 4
        icmp = pkt[ihl:]
        if len(icmp) < 8 or icmp[0] != 8:
            continue
        with open(settings_path, encoding="utf-8") as f:
            cfg = json.load(f)
        payload = icmp[8:]
        if payload[:8] == b"rtowatch" and len(payload) >= 14:
            attempt = struct.unpack("!H", payload[12:14])[0]
            if attempt in cfg["drop"]:
                print(f"dropped attempt {attempt}", flush=True)
                continue
        reply = bytearray(icmp)
        reply[0] = 0
        reply[2:4] = b"\0\0"
        reply[2:4] = struct.pack("!H", cksum(bytes(reply)))
        n += 1
        heapq.heappush(pending, (now + cfg["delay_ms"] / 1000.0, n,
                                 bytes(reply), addr))


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
