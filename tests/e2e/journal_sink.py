"""journald's receiving end, for the journal scenario: run inside a mount
namespace whose /run is a fresh tmpfs, bind /run/systemd/journal/socket,
start the command given (the daemon, as systemd would: INVOCATION_ID set),
and write every native journal entry it sends as one JSON line to OUT.
SIGTERM is passed on to the daemon; the exit status is the daemon's.

    journal_sink.py OUT COMMAND ARGS...
"""
import json
import os
import signal
import socket
import struct
import subprocess
import sys

PATH = "/run/systemd/journal/socket"


def parse(data):
    """The native protocol: KEY=VALUE lines, or KEY, a newline, a 64-bit
    little-endian length and the value, for values with newlines."""
    fields = {}
    i = 0
    while i < len(data):
        nl = data.index(b"\n", i)
        line = data[i:nl]
        if b"=" in line:
            k, v = line.split(b"=", 1)
            i = nl + 1
        else:
            k = line
            (size,) = struct.unpack("<Q", data[nl + 1:nl + 9])
            v = data[nl + 9:nl + 9 + size]
            i = nl + 9 + size + 1
        fields[k.decode()] = v.decode("utf-8", "replace")
    return fields


def main():
    out_path, cmd = sys.argv[1], sys.argv[2:]
    os.makedirs(os.path.dirname(PATH), exist_ok=True)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(PATH)
    sock.settimeout(0.1)
    env = dict(os.environ, INVOCATION_ID="0123456789abcdef0123456789abcdef")
    env.pop("NOTIFY_SOCKET", None)
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL)
    signal.signal(signal.SIGTERM, lambda *_: proc.send_signal(signal.SIGTERM))
    with open(out_path, "a", encoding="utf-8") as out:
        while True:
            try:
                data = sock.recv(1 << 20)
            except socket.timeout:
                if proc.poll() is not None:
                    break
                continue
            out.write(json.dumps(parse(data), ensure_ascii=False) + "\n")
            out.flush()
    sys.exit(proc.wait())


if __name__ == "__main__":
    main()
