"""The traffic counters against a bare libpcap loop, on the same file.

    /usr/bin/python3 tests/bench/bench_pcap.py
        BENCH_PACKETS=4000000  BENCH_ROUNDS=3  BENCH_KEEP=FILE
        BENCH_RTOWATCHD=bin/rtowatchd  BENCH_OLD_COUNTERS=1

Writes one capture file of BENCH_PACKETS packets (a SYN flood, each SYN
from a different spoofed source, then a minute of ordinary traffic;
documentation addresses, nothing is sent), or with BENCH_KEEP reuses or
keeps it at FILE, for perf record on the same file or for another
build (BENCH_RTOWATCHD, e.g. an older commit's) to read the same one;
BENCH_OLD_COUNTERS=1 leaves out the counters that such a build (main at
f85e3ca or older) does not know and would refuse: bad-fragment-rate and
the slow-* ones.
It is read once before timing, so that both readers find it in the page
cache; then, each of ROUNDS times:

  bare       a C loop of pcap_next_ex that only counts packets, built here
             with cc -O2 -lpcap;
  rtowatchd  rtowatchd --pcap-file with one anomaly block and every
             counter on; its own log gives the packets and milliseconds of
             the reading loop (database writes included, start-up not).

Prints packets per second and nanoseconds per packet of each (best
round), their ratio, and rtowatchd's peak memory (VmHWM) after the
spoofed flood.  Standard library only.
"""
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import pcapgen  # noqa: E402

PACKETS = int(os.environ.get("BENCH_PACKETS", "4000000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
KEEP = os.environ.get("BENCH_KEEP")
RTOWATCHD = os.environ.get("BENCH_RTOWATCHD",
                           os.path.join(ROOT, "bin", "rtowatchd"))

BARE = r"""
#include <pcap/pcap.h>
#include <stdio.h>
#include <time.h>
int
main(int argc, char *argv[])
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	struct timespec a, b;
	unsigned long long n = 0;
	pcap_t *p;

	if (argc != 2 || (p = pcap_open_offline(argv[1], err)) == NULL)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &a);
	while (pcap_next_ex(p, &h, &d) == 1)
		n++;
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%llu %lld\n", n, (long long)((b.tv_sec - a.tv_sec) * 1000000 +
	    (b.tv_nsec - a.tv_nsec) / 1000));
	return 0;
}
"""

RULES = """set database "{db}"; include "{policy}"; set socket "{sock}"
anomaly "bench" interface "lo" {{
    syn-rate above 5000/s for 3s
    syn-unanswered above 80% for 3s
    packet-rate above 1M/s for 3s
    byte-rate above 1G/s for 3s
    icmp-rate above 2000/s for 3s
    udp-amplification-rate above 2000/s for 3s
    distinct-ports-per-source above 100 in 60s
    distinct-hosts-per-source above 50 in 60s
{newer}    arp-change "192.0.2.1"
    end after 5s
}}
"""
NEWER = "" if os.environ.get("BENCH_OLD_COUNTERS") == "1" else """\
    bad-fragment-rate above 50/s for 1s
    slow-distinct-ports-per-source above 500 in 10m
    slow-distinct-hosts-per-source above 200 in 10m
"""


def main():
    with tempfile.TemporaryDirectory(prefix="rtw-bench-pcap-") as work:
        bare_c = os.path.join(work, "bare.c")
        bare = os.path.join(work, "bare")
        with open(bare_c, "w") as f:
            f.write(BARE)
        subprocess.run(["cc", "-O2", "-o", bare, bare_c, "-lpcap"],
                       check=True)
        pcap = KEEP or os.path.join(work, "bench.pcap")
        flood = PACKETS - 60 * 100 * 2
        if KEEP and os.path.exists(KEEP):
            print(f"reusing {KEEP} ({os.path.getsize(pcap) >> 20} MiB)")
        else:
            t = time.monotonic()
            pcapgen.write_spoofed_flood(pcap, pcapgen.T0, 40, flood,
                                        "198.51.100.10", quiet=60)
            print(f"wrote {PACKETS} packets ({os.path.getsize(pcap) >> 20}"
                  f" MiB, {flood} spoofed sources) in"
                  f" {time.monotonic() - t:.1f}s")
        with open(pcap, "rb") as f:
            while f.read(1 << 20):
                pass
        best_bare = best_rtw = 0.0
        peak = 0
        for r in range(ROUNDS):
            out = subprocess.run([bare, pcap], check=True,
                                 capture_output=True, text=True).stdout
            n, us = map(int, out.split())
            best_bare = max(best_bare, n / (us / 1e6))
            db = os.path.join(work, f"r{r}.db")
            conf = os.path.join(work, "bench.conf")
            with open(conf, "w") as f:
                f.write(RULES.format(db=db, sock=db + ".sock", newer=NEWER,
                                     policy=os.path.join(ROOT, "rules",
                                                         "policy.conf")))
            p = subprocess.run([RTOWATCHD, "-d", "-f", conf,
                                "--pcap-file", pcap],
                               capture_output=True, text=True)
            m = re.search(r"(\d+) packets in (\d+) ms;.*peak memory "
                          r"(\d+) KiB", p.stderr)
            if p.returncode != 0 or not m:
                sys.exit(f"rtowatchd failed:\n{p.stderr}")
            n, ms, peak = int(m.group(1)), int(m.group(2)), int(m.group(3))
            best_rtw = max(best_rtw, n / (max(ms, 1) / 1e3))
        print(f"{'':12} {'packets/s':>12} {'ns/packet':>10}")
        for name, pps in (("bare loop", best_bare), ("rtowatchd", best_rtw)):
            print(f"{name:12} {pps:12,.0f} {1e9 / pps:10.1f}")
        print(f"ratio {best_rtw / best_bare:.2f} (goal 0.8); rtowatchd "
              f"peak memory {peak} KiB; best of {ROUNDS} rounds")


if __name__ == "__main__":
    main()
