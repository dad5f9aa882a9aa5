"""What the wall-clock jump scenarios share: a daemon whose wall clock the
test moves while it runs, and the daemon's own figures of its schedule.

Debian's libfaketime (package faketime) is preloaded into rtowatchd.  It
reads its offset from FAKETIME_TIMESTAMP_FILE at every clock read
(FAKETIME_NO_CACHE=1), so rewriting that file moves the running daemon's
wall clock (CLOCK_REALTIME, gettimeofday, time) at once, while
FAKETIME_DONT_FAKE_MONOTONIC=1 leaves CLOCK_MONOTONIC, and with it the
loop's timers, alone: exactly what a wall clock stepped by `date -s`, an
NTP step or a VM resumed after a pause looks like to the daemon.  Nothing
is set on the host itself, so the kernel's TFD_TIMER_CANCEL_ON_SET does not
fire: the daemon must notice the jump by comparing its two clocks.

The test's own clock (time.time()) stays true; the daemon's wall clock is
the true time plus the offset the test last wrote.
"""
import glob
import os
import re
import signal

import pytest

from conftest import wait_for


def libfaketime():
    """The path of libfaketime.so.1, or skip saying how to get it."""
    found = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1"))
    if not found:
        pytest.skip("libfaketime is not installed (apt-get install "
                    "faketime; make check installs it)")
    return found[0]


class FakeClock:
    """The offset of one daemon's wall clock, in a file in DIRECTORY."""

    def __init__(self, directory):
        self.lib = libfaketime()
        self.path = os.path.join(str(directory), "faketime.rc")
        self.offset_s = 0
        self._write("+0")

    def _write(self, text):
        # Whole or not at all: the daemon may read it at any moment.
        tmp = self.path + ".tmp"
        with open(tmp, "w", encoding="ascii") as f:
            f.write(text + "\n")
        os.replace(tmp, self.path)

    def env(self):
        """The environment that puts rtowatchd on this clock."""
        return {
            "LD_PRELOAD": self.lib,
            "FAKETIME_TIMESTAMP_FILE": self.path,
            "FAKETIME_NO_CACHE": "1",
            "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            # The ASan runtime wants to be first; here it need not be.
            "ASAN_OPTIONS": "verify_asan_link_order=0",
        }

    def jump(self, seconds):
        """Move the daemon's wall clock by SECONDS (either way) now."""
        self.offset_s += seconds
        self._write(f"{self.offset_s:+d}")

    @property
    def offset_ms(self):
        return self.offset_s * 1000


SCHEDULE_RE = re.compile(
    r"schedule: (\d+) probes started, (\d+) skipped \(running\), (\d+) "
    r"skipped \(loop late\); late p50 ([\d.]+) ms, p99 ([\d.]+) ms, max "
    r"([\d.]+) ms")


def schedule_stats(d):
    """SIGUSR1: the daemon logs (and clears) its count of probe starts
    and how late they were; return (started, busy, missed, p50, p99,
    max) of that line."""
    before = d.log().count("schedule:")
    d.proc.send_signal(signal.SIGUSR1)
    wait_for(lambda: d.log().count("schedule:") > before, 10,
             "the schedule line after SIGUSR1")
    lines = [l for l in d.log().splitlines() if "schedule:" in l]
    m = SCHEDULE_RE.search(lines[-1])
    if m is None:       # "0 probes started"
        return (0, 0, 0, 0.0, 0.0, 0.0)
    return (int(m[1]), int(m[2]), int(m[3]), float(m[4]), float(m[5]),
            float(m[6]))
