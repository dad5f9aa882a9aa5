"""A private PostgreSQL server for the scenarios (issue 21).

Debian's server binaries (initdb, pg_ctl) run as nobody in a temporary
directory of the test's own, the Unix socket there and TCP on a loopback
port, with trust authentication for the role rtowatch.  test_pg_store.py
starts one per test (it stops and starts the server); conftest.py starts
one per pytest worker and gives each scenario a fresh database of it, so
that the core scenarios run on both backends for little more time.
"""
import csv
import glob
import io
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile

PG_USER = "rtowatch"
PG_DB = "register"


def pg_bin():
    """The directory of the newest installed server's binaries, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(found[-1]) if found else None


def pg_missing():
    """Why a private server cannot run here, or None."""
    if os.geteuid() != 0:
        return "the private PostgreSQL runs as nobody: needs root"
    if pg_bin() is None or shutil.which("runuser") is None:
        return ("PostgreSQL's server binaries are missing "
                "(apt-get install postgresql)")
    return None


def psql_uri(uri, sql):
    """psql URI -c SQL, which must succeed: its output."""
    p = subprocess.run([os.path.join(pg_bin(), "psql"), "-X", "-q",
                        "-v", "ON_ERROR_STOP=1", uri, "-c", sql],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, f"{sql}: {p.stderr}"
    return p.stdout


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Postgres:
    """A PostgreSQL server of this test's (or this worker's) own, run as
    nobody.  OPTIONS are more server settings (-c name=value ...); it
    listens on LISTEN (TCP), inside the network namespace NETNS if one
    is given, and always on its Unix socket in its directory, which the
    test reaches from any namespace."""

    def __init__(self, options="", netns=None, listen="127.0.0.1",
                 also_listen=()):
        self.bin = pg_bin()
        self.options = options
        self.netns = netns
        self.listen = ",".join([listen, *also_listen])
        # Not under pytest's directory: every pytest session (another
        # one's too) makes /tmp/pytest-of-root 0700 again, out of
        # nobody's reach.
        self.dir = tempfile.mkdtemp(prefix="rtowatch-pg-")
        self.data = os.path.join(self.dir, "data")
        self.port = _free_port()
        self.host = listen
        self.log = os.path.join(self.dir, "server.log")
        self._names = itertools.count(1)
        nobody = pwd.getpwnam("nobody")
        os.chown(self.dir, nobody.pw_uid, nobody.pw_gid)
        self._as_nobody([os.path.join(self.bin, "initdb"), "-D", self.data,
                         "-U", PG_USER, "-A", "trust", "--no-sync", "-E",
                         "UTF8", "--locale", "C"])
        if listen != "127.0.0.1":
            # The daemon's namespace is on the server's link.
            with open(os.path.join(self.data, "pg_hba.conf"), "a") as f:
                f.write("host all all samenet trust\n")
        self.start()
        self.psql("postgres", f"CREATE DATABASE {PG_DB}")

    def _as_nobody(self, argv):
        ns = ["ip", "netns", "exec", self.netns] if self.netns else []
        p = subprocess.run([*ns, "runuser", "-u", "nobody", "--", *argv],
                           cwd="/", capture_output=True, text=True,
                           timeout=60)
        assert p.returncode == 0, f"{argv[0]}: {p.stdout}{p.stderr}"

    def uri_of(self, db, user=PG_USER):
        return f"postgresql://{user}@{self.host}:{self.port}/{db}"

    @property
    def uri(self):
        return self.uri_of(PG_DB)

    def local_uri(self, db=PG_DB):
        """DB through the Unix socket: for the test's own CLI, in
        whichever namespace the server listens."""
        return (f"postgresql://{PG_USER}@/{db}?host={self.dir}"
                f"&port={self.port}")

    def run(self, sql, db=PG_DB, user=PG_USER):
        """psql -c SQL: (exit code, rows as lists, stderr)."""
        p = subprocess.run(
            [os.path.join(self.bin, "psql"), "-X", "-q", "--csv", "-h",
             self.dir, "-p", str(self.port), "-U", user, "-d", db,
             "-v", "ON_ERROR_STOP=1", "-c", sql],
            capture_output=True, text=True, timeout=30)
        rows = list(csv.reader(io.StringIO(p.stdout)))
        return p.returncode, rows[1:] if rows else [], p.stderr

    def psql(self, db, sql):
        rc, rows, err = self.run(sql, db=db)
        assert rc == 0, f"{sql}: {err}"
        return rows

    def rows(self, sql):
        return self.psql(PG_DB, sql)

    def new_database(self):
        """A fresh, empty database of this server: its URI."""
        name = f"scenario_{next(self._names)}"
        self.psql("postgres", f"CREATE DATABASE {name}")
        return self.uri_of(name)

    def start(self):
        self._as_nobody([os.path.join(self.bin, "pg_ctl"), "-D", self.data,
                         "-l", self.log, "-w", "-t", "30", "-o",
                         f"-k {self.dir} -p {self.port} "
                         f"-c listen_addresses={self.listen} {self.options}",
                         "start"])

    def stop(self, mode="immediate"):
        self._as_nobody([os.path.join(self.bin, "pg_ctl"), "-D", self.data,
                         "-m", mode, "-w", "stop"])

    def close(self):
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
