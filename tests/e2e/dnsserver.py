"""A real DNS server on loopback for the dns check's scenarios.

DnsServer answers UDP queries on 127.0.0.1 (an ephemeral port) from a
background thread, with the standard library only.  It serves the records
it is given (A, AAAA, MX, TXT, NS, CNAME, PTR, SOA), NXDOMAIN for names it
does not know, and, per name, the failures a check must tell apart:
SERVFAIL, REFUSED, a truncated reply (TC), silence, a malformed reply,
and a reply with another ID sent before the right one.  stop() closes its socket, so that queries get
an ICMP port unreachable.

While it runs, a test may change what it serves: set() replaces a name's
records of a type, ttl sets the TTL of every answer (60 s by default), and
asked(NAME, TYPE) counts the queries for a name and type, so that a
scenario sees how often the daemon asked.
"""
import ipaddress
import selectors
import socket
import struct
import threading

import pytest

T = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16,
     "AAAA": 28}
NOERROR, SERVFAIL, NXDOMAIN, REFUSED = 0, 2, 3, 5


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def rdata(rtype, value):
    """The wire form of VALUE (as written in a zone file) for RTYPE."""
    if rtype == "A":
        return ipaddress.IPv4Address(value).packed
    if rtype == "AAAA":
        return ipaddress.IPv6Address(value).packed
    if rtype in ("NS", "CNAME", "PTR"):
        return encode_name(value)
    if rtype == "MX":
        pref, host = value.split()
        return struct.pack("!H", int(pref)) + encode_name(host)
    if rtype == "TXT":
        data = value.encode()
        chunks = [data[i:i + 255] for i in range(0, len(data), 255)] or [b""]
        return b"".join(bytes([len(c)]) + c for c in chunks)
    if rtype == "SOA":
        mname, rname, *nums = value.split()
        return (encode_name(mname) + encode_name(rname)
                + struct.pack("!5I", *map(int, nums)))
    raise ValueError(rtype)


class DnsServer:
    """Authoritative answers for the names it was given; see the module
    docstring for the failure modes (set with fail(NAME, MODE))."""

    MODES = ("servfail", "refused", "silent", "malformed", "wrong-id-first",
             "truncated")

    def __init__(self, host="127.0.0.1"):
        self.host = host
        self.records = {}       # (name, type) -> [rdata bytes]
        self.names = set()
        self.modes = {}
        self.queries = 0
        self.by_question = {}   # (name, type number) -> queries
        self.ttl = 60
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((host, 0))
        self.port = self._sock.getsockname()[1]
        self._thread = None
        self._wake = None

    def __repr__(self):
        return f"DnsServer({self.host}:{self.port})"

    @property
    def address(self):
        return f"{self.host}:{self.port}"

    def add(self, name, rtype, *values):
        key = (name.lower().rstrip("."), T[rtype])
        self.names.add(key[0])
        self.records.setdefault(key, []).extend(rdata(rtype, v)
                                                for v in values)
        return self

    def set(self, name, rtype, *values):
        """Serve VALUES, and only them, for NAME and RTYPE from now on."""
        key = (name.lower().rstrip("."), T[rtype])
        data = [rdata(rtype, v) for v in values]
        with self._lock:
            self.names.add(key[0])
            self.records[key] = data
        return self

    def asked(self, name, rtype="A"):
        """How many queries for NAME and RTYPE came in."""
        with self._lock:
            return self.by_question.get((name.lower().rstrip("."),
                                         T[rtype]), 0)

    def fail(self, name, mode):
        assert mode in self.MODES, mode
        self.names.add(name.lower().rstrip("."))
        self.modes[name.lower().rstrip(".")] = mode
        return self

    def count(self):
        with self._lock:
            return self.queries

    def start(self):
        self._sock.setblocking(False)
        self._wake = socket.socketpair()
        self._thread = threading.Thread(target=self._serve,
                                        name=f"dns-{self.port}",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """From now on, queries to the port get port unreachable."""
        if self._thread is not None:
            self._wake[0].send(b"x")
            self._thread.join(timeout=10)
            assert not self._thread.is_alive(), f"{self}: thread stuck"
            for s in self._wake:
                s.close()
            self._thread = self._wake = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    close = stop

    def _serve(self):
        sel = selectors.DefaultSelector()
        sel.register(self._sock, selectors.EVENT_READ)
        sel.register(self._wake[1], selectors.EVENT_READ)
        try:
            while True:
                for key, _ in sel.select():
                    if key.fileobj is self._wake[1]:
                        return
                    try:
                        data, peer = self._sock.recvfrom(4096)
                    except (BlockingIOError, InterruptedError):
                        continue
                    except OSError:
                        continue
                    with self._lock:
                        self.queries += 1
                        replies = self._answer(data)
                    for reply in replies:
                        self._sock.sendto(reply, peer)
        finally:
            sel.close()

    def _answer(self, q):
        """The datagrams to send back for query Q."""
        if len(q) < 12:
            return []
        qid, flags, qd = struct.unpack("!HHH", q[:6])
        if qd != 1:
            return []
        pos, labels = 12, []
        while pos < len(q) and q[pos] != 0:
            n = q[pos]
            labels.append(q[pos + 1:pos + 1 + n].decode("ascii", "replace"))
            pos += 1 + n
        qend = pos + 5
        if qend > len(q):
            return []
        question = q[12:qend]
        qtype = struct.unpack("!H", q[pos + 1:pos + 3])[0]
        name = ".".join(labels).lower()
        self.by_question[(name, qtype)] = \
            self.by_question.get((name, qtype), 0) + 1
        mode = self.modes.get(name)
        rd = flags & 0x0100

        def reply(rcode, answers=(), rid=qid, tc=0):
            hdr = struct.pack("!HHHHHH", rid,
                              0x8000 | 0x0400 | tc | rd | rcode,
                              1, len(answers), 0, 0)
            body = b""
            for data in answers:
                # The owner name points at the question (offset 12).
                body += struct.pack("!HHHIH", 0xC00C, qtype, 1, self.ttl,
                                    len(data)) + data
            return hdr + question + body

        if mode == "silent":
            return []
        if mode == "servfail":
            return [reply(SERVFAIL)]
        if mode == "refused":
            return [reply(REFUSED)]
        if mode == "truncated":
            # TC set and the answers left out, as a server does when
            # they do not fit the client's buffer.
            return [reply(NOERROR, tc=0x0200)]
        if mode == "malformed":
            # One answer whose owner name is a pointer to itself.
            off = 12 + len(question)
            hdr = struct.pack("!HHHHHH", qid, 0x8000 | 0x0400 | rd, 1, 1,
                              0, 0)
            return [hdr + question + struct.pack("!H", 0xC000 | off)
                    + struct.pack("!HHIH", qtype, 1, 60, 4)
                    + b"\x7f\0\0\1"]
        if name not in self.names:
            return [reply(NXDOMAIN)]
        answers = self.records.get((name, qtype), [])
        if mode == "wrong-id-first":
            return [reply(NOERROR, [rdata("A", "127.9.9.9")],
                          rid=qid ^ 0x5a5a),
                    reply(NOERROR, answers)]
        return [reply(NOERROR, answers)]


def dns_system(name, check, every="300ms", timeout="200ms", down_after=2,
               up_after=2):
    """A system block with the one check CHECK ("dns NAME server ...")."""
    return (f'system "{name}" {{\n'
            f"    core yes\n"
            f"    rto 1h\n"
            f'    owner "e2e tests"\n'
            f"    check {check} every {every} timeout {timeout}\n"
            f"    down after {down_after} failures\n"
            f"    up after {up_after} successes\n"
            f"}}\n")


@pytest.fixture
def dns():
    """A DnsServer on 127.0.0.1, not started yet; closed afterwards."""
    server = DnsServer()
    yield server
    server.close()
