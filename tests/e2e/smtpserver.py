"""A real SMTP server for the scenarios: Debian's python3-aiosmtpd on
127.0.0.1, in a process of its own so that a scenario can stop it (the
port refuses connections) and start it again on the same port.

Each message the server accepts is appended to a JSON-lines file
(envelope sender and recipients, and the message as sent), which the
test polls through SmtpServer.messages().  With refuse="rcpt:451" or
refuse="data:550" (any code) it answers that to every RCPT TO or to the
end of every DATA, and records nothing.  With tls="starttls" it requires
STARTTLS, with tls="implicit" it speaks TLS from the start (smtps), both
with CERT and KEY; with auth="user:password" it requires that login.

With stall= it misbehaves as slow or broken servers do, each time noting
in a second file (SmtpServer.stalls()) when it began to: stall="data"
never answers the end of DATA (and records nothing), stall="data:10"
answers it after 10 seconds (a content scanner), and stall="quit"
accepts the message (250, recorded) but never answers QUIT.

Run by SmtpServer, or by hand:
    python3 smtpserver.py --port 2525 --out /tmp/mail.jsonl [--refuse data:451]
"""
import argparse
import asyncio
import email
import email.policy
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

REPLIES = {
    "451": "451 4.3.0 Requested action aborted: try again later",
    "452": "452 4.3.1 Insufficient system storage",
    "550": "550 5.7.1 Delivery not authorized, message refused",
    "554": "554 5.6.0 Transaction failed",
}


class Handler:
    def __init__(self, out, refuse, implicit_tls=False, stall=None):
        self.out = out
        self.implicit_tls = implicit_tls
        self.stage, _, code = (refuse or ":").partition(":")
        self.reply = REPLIES.get(code, f"{code} refused") if code else None
        self.stall, _, secs = (stall or ":").partition(":")
        self.stall_secs = float(secs) if secs else None
        self.lock = threading.Lock()

    def note_stall(self, what):
        """Say, in the .stalls file beside OUT, that a stall began."""
        with self.lock, open(self.out + ".stalls", "a",
                             encoding="utf-8") as f:
            f.write(json.dumps({"stall": what, "at": time.time()}) + "\n")
            f.flush()

    async def handle_QUIT(self, server, session, envelope):
        if self.stall == "quit":
            self.note_stall("quit")
            await asyncio.Event().wait()     # never answered
        return "221 Bye"

    async def handle_RCPT(self, server, session, envelope, address,
                          rcpt_options):
        if self.stage == "rcpt":
            return self.reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.stage == "data":
            return self.reply
        if self.stall == "data" and self.stall_secs is None:
            self.note_stall("data")
            await asyncio.Event().wait()     # never answered
        if self.stall == "data":
            self.note_stall(f"data:{self.stall_secs:g}")
            await asyncio.sleep(self.stall_secs)
        rec = {"mail_from": envelope.mail_from,
               "rcpt_tos": list(envelope.rcpt_tos),
               "data": envelope.content.decode("utf-8", "replace"),
               "tls": self.implicit_tls or session.ssl is not None,
               "login": (session.auth_data.login.decode()
                         if session.authenticated else None),
               "at": time.time()}
        with self.lock, open(self.out, "a", encoding="utf-8") as f:
            f.write(json.dumps(rec) + "\n")
            f.flush()
            os.fsync(f.fileno())
        return "250 2.0.0 OK: queued"


def serve(port, out, refuse, tls=None, cert=None, key=None, auth=None,
          stall=None):
    import ssl
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword
    kw = {}
    if tls:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(cert, key)
        if tls == "implicit":
            # aiosmtpd counts only STARTTLS as TLS for AUTH; this
            # connection is TLS from its first byte.
            kw.update(ssl_context=ctx, auth_require_tls=False)
        else:
            kw.update(tls_context=ctx, require_starttls=True)
    if auth:
        user, _, password = auth.partition(":")

        def authenticator(server, session, envelope, mechanism, data):
            ok = (isinstance(data, LoginPassword)
                  and data.login.decode() == user
                  and data.password.decode() == password)
            return AuthResult(success=ok, handled=False, auth_data=data)
        kw.update(authenticator=authenticator, auth_required=True)
    ctl = Controller(Handler(out, refuse, tls == "implicit", stall),
                     hostname="127.0.0.1", port=port, **kw)
    ctl.start()
    print("ready", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    while not stop.wait(0.2):
        pass
    ctl.stop()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def available():
    """None when aiosmtpd can be imported, else why not."""
    try:
        import aiosmtpd.controller  # noqa: F401
    except ImportError as e:
        return (f"python3-aiosmtpd is not installed ({e}); "
                f"make deps-check installs it")
    return None


class Message:
    """One accepted message: the envelope and the parsed headers/body."""

    def __init__(self, rec):
        self.mail_from = rec["mail_from"]
        self.rcpt_tos = rec["rcpt_tos"]
        self.tls = rec.get("tls")
        self.login = rec.get("login")
        self.raw = rec["data"]
        self.msg = email.message_from_string(self.raw,
                                             policy=email.policy.default)
        self.subject = str(self.msg["Subject"])
        self.message_id = str(self.msg["Message-ID"])
        self.body = self.msg.get_content()

    def __repr__(self):
        return f"<Message to {self.rcpt_tos}: {self.subject!r}>"


class SmtpServer:
    """The server as a subprocess on a fixed port of 127.0.0.1."""

    def __init__(self, directory, refuse=None, port=None, tls=None,
                 auth=None, stall=None):
        self.dir = str(directory)
        self.port = port or free_port()
        self.out = os.path.join(self.dir, f"smtp-{self.port}.jsonl")
        self.log = os.path.join(self.dir, f"smtp-{self.port}.log")
        self.refuse = refuse
        self.stall = stall
        self.tls = tls
        self.auth = auth
        self.cert = os.path.join(self.dir, "smtp-cert.pem")
        self.key = os.path.join(self.dir, "smtp-key.pem")
        self.proc = None
        if tls:
            self._make_cert()

    def _make_cert(self):
        """A self-signed certificate for 127.0.0.1 (openssl): the daemon
        trusts it only through smtp-ca-file."""
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
             "-keyout", self.key, "-out", self.cert, "-days", "2",
             "-subj", "/CN=127.0.0.1", "-addext",
             "subjectAltName=IP:127.0.0.1"],
            check=True, capture_output=True, timeout=60)

    @property
    def url(self):
        scheme = "smtps" if self.tls == "implicit" else "smtp"
        return f"{scheme}://127.0.0.1:{self.port}"

    def start(self, refuse=None, stall=None):
        assert self.proc is None, "the SMTP server already runs"
        if refuse is not None:
            self.refuse = refuse
        if stall is not None:
            self.stall = stall
        args = [sys.executable, os.path.abspath(__file__), "--port",
                str(self.port), "--out", self.out]
        if self.refuse:
            args += ["--refuse", self.refuse]
        if self.stall:
            args += ["--stall", self.stall]
        if self.tls:
            args += ["--tls", self.tls, "--cert", self.cert, "--key",
                     self.key]
        if self.auth:
            args += ["--auth", self.auth]
        log = open(self.log, "ab")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE,
                                     stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        line = self.proc.stdout.readline()
        if line.strip() != b"ready":
            self.proc.wait(timeout=10)
            with open(self.log, encoding="utf-8", errors="replace") as f:
                raise RuntimeError(f"SMTP server on port {self.port} did "
                                   f"not start:\n{f.read()}")
        return self

    def stop(self):
        """From now on, connections to the port are refused."""
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.proc = None

    def stalls(self):
        """The stalls so far: what ("data", "data:10", "quit") and when
        (epoch seconds)."""
        try:
            with open(self.out + ".stalls", encoding="utf-8") as f:
                return [json.loads(l) for l in f if l.strip()]
        except FileNotFoundError:
            return []

    def messages(self):
        try:
            # A line without its newline is still being written by the
            # server's thread: read it next time, whole.
            with open(self.out, encoding="utf-8") as f:
                return [Message(json.loads(l)) for l in f
                        if l.endswith("\n") and l.strip()]
        except FileNotFoundError:
            return []


UNIT_HEAD = "netadmin@example.edu"
CISO = "ciso@example.edu"


def mail_rules(server_url, retry="200ms 2s", alert_after="15m",
               extra=""):
    """The mail part of a scenario's rules: the server, the sender, and
    the two contacts the policy's tell lines name (documentation
    addresses: only the loopback server ever sees them)."""
    return (f'set smtp "{server_url}"\n'
            f'set mail-from "rtowatch@example.edu"\n'
            f"set mail-retry {retry}\n"
            f"set mail-alert-after {alert_after}\n"
            f"{extra}"
            f'contact "unit-head" {{\n'
            f'    email "{UNIT_HEAD}"\n'
            f'    phone "+886-2-2345-6789"\n'
            f'    name "網路組 王小明"\n'
            f"}}\n"
            f'contact "ciso" {{ email "{CISO}" }}\n')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--refuse", help="rcpt:CODE or data:CODE")
    ap.add_argument("--tls", choices=("starttls", "implicit"))
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--auth", help="user:password")
    ap.add_argument("--stall", help="data, data:SECONDS or quit")
    a = ap.parse_args()
    serve(a.port, a.out, a.refuse, a.tls, a.cert, a.key, a.auth, a.stall)


if __name__ == "__main__":
    main()
