"""Capture files for the traffic counters, written with struct.

Each scenario is a list of (time, frame) built from a few header builders;
write() turns it into a classic pcap file (Ethernet link type).  Addresses
are documentation ranges only: 192.0.2.0/24 the clients and the gateway,
198.51.100.0/24 the servers, 203.0.113.0/24 the attackers.  Nothing here
sends a packet: the frames only ever reach a file.

The times start at T0, a fixed instant, so that a scenario's warnings have
known times.  Checksums are left at zero: the decoder does not read them.
"""
import ipaddress
import random
import struct

T0 = 1795000000.0           # 2026-11-18T11:06:40Z, a fixed start

GW_IP = "192.0.2.1"
GW_MAC = bytes.fromhex("020000000001")
SPOOF_MAC = bytes.fromhex("02badbadbad1")
HOST_MAC = bytes.fromhex("020000000002")
CLIENTS = [f"192.0.2.{i}" for i in range(10, 40)]
SERVERS = ["198.51.100.10", "198.51.100.11", "198.51.100.12"]

SYN, ACK, SYNACK, PSHACK = 0x02, 0x10, 0x12, 0x18


def _ip4(a):
    return ipaddress.IPv4Address(a).packed


def eth(payload, ethertype=0x0800, src=HOST_MAC, dst=GW_MAC):
    return dst + src + struct.pack("!H", ethertype) + payload


def ipv4(src, dst, proto, l4, ttl=64):
    total = 20 + len(l4)
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0, 0x4000, ttl,
                       proto, 0, _ip4(src), _ip4(dst)) + l4


def tcp6(src, dst, sport, dport, flags):
    """A TCP segment over IPv6 (documentation prefix 2001:db8::/32)."""
    hdr = struct.pack("!HHIIBBHHH", sport, dport, 1000, 0, 5 << 4, flags,
                      65535, 0, 0)
    ip6 = struct.pack("!IHBB16s16s", 6 << 28, len(hdr), 6, 64,
                      ipaddress.IPv6Address(src).packed,
                      ipaddress.IPv6Address(dst).packed)
    return eth(ip6 + hdr, 0x86dd)


def tcp(src, dst, sport, dport, flags, payload=b""):
    hdr = struct.pack("!HHIIBBHHH", sport, dport, 1000, 0, 5 << 4, flags,
                      65535, 0, 0)
    return eth(ipv4(src, dst, 6, hdr + payload))


def udp(src, dst, sport, dport, payload=b""):
    hdr = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0)
    return eth(ipv4(src, dst, 17, hdr + payload))


def icmp_echo(src, dst, seq=1):
    return eth(ipv4(src, dst, 1, struct.pack("!BBHHH", 8, 0, 0, 1, seq)
                    + b"x" * 32))


def arp_reply(sender_ip, sender_mac, target_ip="192.0.2.10",
              target_mac=HOST_MAC):
    body = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 2, sender_mac,
                       _ip4(sender_ip), target_mac, _ip4(target_ip))
    return eth(body, 0x0806, src=sender_mac, dst=target_mac)


LINKTYPE_NULL, LINKTYPE_ETHERNET, LINKTYPE_PPP, LINKTYPE_LOOP = 0, 1, 9, 108


def write(path, packets, linktype=LINKTYPE_ETHERNET):
    """PACKETS: (time, frame), written in the order given (time order,
    unless a scenario wants otherwise); frames of LINKTYPE."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535,
                            linktype))
        for t, frame in packets:
            sec = int(t)
            usec = int(round((t - sec) * 1e6))
            if usec >= 1000000:
                sec, usec = sec + 1, usec - 1000000
            f.write(struct.pack("<IIII", sec, usec, len(frame), len(frame)))
            f.write(frame)
    return path


def baseline(start, seconds, rate=100, seed=1):
    """Ordinary traffic: answered TCP handshakes and data, DNS questions
    and answers, a few pings, the gateway's ARP replies now and then."""
    rnd = random.Random(seed)
    out = []
    n = int(seconds * rate)
    for i in range(n):
        t = start + i / rate
        c = rnd.choice(CLIENTS)
        s = rnd.choice(SERVERS)
        sport = 20000 + rnd.randrange(20000)
        kind = i % 10
        if kind < 3:
            out.append((t, tcp(c, s, sport, 443, SYN)))
            out.append((t + 0.0005, tcp(s, c, 443, sport, SYNACK)))
            out.append((t + 0.001, tcp(c, s, sport, 443, ACK)))
        elif kind < 7:
            out.append((t, tcp(c, s, sport, 443, PSHACK, b"d" * 200)))
        elif kind < 9:
            out.append((t, udp(c, SERVERS[0], sport, 53, b"q" * 30)))
            out.append((t + 0.0005, udp(SERVERS[0], c, 53, sport,
                                        b"a" * 80)))
        else:
            out.append((t, icmp_echo(c, s, i)))
        if i % (rate * 5) == 0:
            out.append((t + 0.0002, arp_reply(GW_IP, GW_MAC)))
    return out


def merged(*lists):
    out = [p for lst in lists for p in lst]
    out.sort(key=lambda p: p[0])
    return out


def syn_flood(start, seconds, rate, target, port=80, sources=2000):
    out = []
    n = int(seconds * rate)
    for i in range(n):
        src = f"203.0.113.{1 + i % 200}"
        sport = 1024 + (i // 200) % 60000
        out.append((start + i / rate, tcp(src, target, sport, port, SYN)))
    return out


def port_scan(start, seconds, scanner, target, ports):
    out = []
    for i, port in enumerate(ports):
        out.append((start + i * seconds / len(ports),
                    tcp(scanner, target, 40000, port, SYN)))
    return out


def sweep(start, seconds, scanner, net="198.51.100.", hosts=range(1, 255)):
    hosts = list(hosts)
    return [(start + i * seconds / len(hosts),
             icmp_echo(scanner, f"{net}{h}", i))
            for i, h in enumerate(hosts)]


def write_spoofed_flood(path, start, seconds, count, target, port=80,
                        quiet=12):
    """COUNT SYNs, each from a different source address (10.0.0.0/8 and
    up, never repeated), to TARGET; then QUIET seconds of light traffic
    so the episode's end is in the file.  Written straight to the file:
    a million packets do not fit a list comfortably."""
    tmpl = bytearray(tcp("10.0.0.1", target, 1234, port, SYN))
    src_off = 14 + 12
    base_ip = int(ipaddress.IPv4Address("10.0.0.0"))
    tail = baseline(start + seconds, quiet, rate=50, seed=7)
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        hdr = struct.Struct("<IIII")
        plen = len(tmpl)
        for i in range(count):
            t = start + i * seconds / count
            sec = int(t)
            struct.pack_into("!I", tmpl, src_off, base_ip + 1 + i)
            f.write(hdr.pack(sec, int((t - sec) * 1e6), plen, plen))
            f.write(tmpl)
        for t, frame in tail:
            sec = int(t)
            f.write(hdr.pack(sec, int((t - sec) * 1e6), len(frame),
                             len(frame)))
            f.write(frame)
    return path


def loopback(packets, linktype=LINKTYPE_NULL, order="<"):
    """The Ethernet frames of PACKETS as BSD loopback frames: the address
    family (2, or 24 for IPv6) in 4 bytes of ORDER (DLT_NULL is in the
    capturing host's order, DLT_LOOP in network order)."""
    if linktype == LINKTYPE_LOOP:
        order = ">"
    out = []
    for t, frame in packets:
        etype = struct.unpack_from("!H", frame, 12)[0]
        if etype not in (0x0800, 0x86dd):
            continue        # no ARP on a loopback
        af = 2 if etype == 0x0800 else 24
        out.append((t, struct.pack(order + "I", af) + frame[14:]))
    return out


def fragments(frame, size=8, ident=1):
    """An Ethernet IPv4 FRAME cut as nmap -f cuts it: SIZE bytes of the
    IP payload per fragment, the TCP header across several."""
    head, ip = frame[:14], frame[14:]
    hl = (ip[0] & 0x0f) * 4
    payload = ip[hl:]
    out = []
    for off in range(0, len(payload), size):
        part = payload[off:off + size]
        more = off + size < len(payload)
        hdr = bytearray(ip[:hl])
        struct.pack_into("!H", hdr, 2, hl + len(part))
        struct.pack_into("!H", hdr, 4, ident)
        struct.pack_into("!H", hdr, 6, (off // 8) | (0x2000 if more else 0))
        out.append(head + bytes(hdr) + part)
    return out


def fragmented_scan(start, seconds, scanner, target, ports):
    """nmap -sS -f: each SYN (with the MSS option nmap sends, 24 bytes of
    TCP) in three fragments of 8 bytes."""
    out = []
    for i, port in enumerate(ports):
        t = start + i * seconds / len(ports)
        hdr = struct.pack("!HHIIBBHHHBBH", 40000, port, 1000 + i, 0,
                          6 << 4, SYN, 1024, 0, 0, 2, 4, 1460)
        syn = eth(ipv4(scanner, target, 6, hdr))
        for j, frag in enumerate(fragments(syn, 8, ident=i + 1)):
            out.append((t + j * 1e-5, frag))
    return out
