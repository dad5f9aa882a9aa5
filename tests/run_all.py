"""Run rtowatch's test suites and print one closing count line.

Suites: the cmocka unit tests (release and ASan builds), a bounded
libFuzzer run of each harness, and the pytest scenarios against the
release binaries and again against the ASan binaries.
"""
import concurrent.futures
import os
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# A smoke run of each harness within make check's budget (its seeds, then
# mutations); fuzz for real with a longer RTOWATCH_FUZZ_SECONDS.
FUZZ_SECONDS = int(os.environ.get("RTOWATCH_FUZZ_SECONDS", "6"))
# The harnesses are one busy process each: one a core.  Most scenarios
# wait on their own clocks and timers (the pass used under a third of two
# cores two at a time), so they run four at a time.
JOBS = os.environ.get("RTOWATCH_FUZZ_JOBS", "2")
E2E_JOBS = os.environ.get("RTOWATCH_TEST_JOBS", "4")

totals = {"passed": 0, "failed": 0, "skipped": 0}
failures = []


def count(suite, passed, failed, skipped=0, why=""):
    totals["passed"] += passed
    totals["failed"] += failed
    totals["skipped"] += skipped
    if failed:
        failures.append(f"{suite}: {failed} failed {why}".rstrip())
    print(f"== {suite}: {passed} passed, {failed} failed, {skipped} skipped",
          flush=True)


def run_cmocka(binary):
    name = os.path.relpath(binary, ROOT)
    print(f"== {name}", flush=True)
    p = subprocess.run([binary], cwd=ROOT, capture_output=True, text=True)
    out = p.stdout + p.stderr
    sys.stdout.write(out)
    ran = re.search(r"\[==========\] (\d+) test\(s\) run", out)
    bad = re.search(r"\[  FAILED  \] (\d+) test\(s\)", out)
    if ran is None:
        count(name, 0, 1, why=f"(crashed, exit {p.returncode})")
        return
    failed = int(bad.group(1)) if bad else 0
    if p.returncode != 0 and failed == 0:
        failed = 1
    count(name, int(ran.group(1)) - failed, failed)


def fuzz_one(binary):
    """One bounded libFuzzer run: (its name, its lines, passed)."""
    name = os.path.relpath(binary, ROOT)
    kind = os.path.basename(binary)[len("fuzz_"):]
    seeds = os.path.join(ROOT, "tests", "fuzz", "corpus", kind)
    with tempfile.TemporaryDirectory() as work:
        p = subprocess.run([binary, f"-max_total_time={FUZZ_SECONDS}",
                            "-print_final_stats=0", work, seeds],
                           cwd=ROOT, capture_output=True, text=True)
    runs = re.search(r"Done (\d+) runs", p.stderr)
    if p.returncode == 0 and runs:
        return name, f"   {runs.group(1)} inputs in {FUZZ_SECONDS}s, " \
            "no crash\n", True
    return name, p.stderr[-4000:], False


def run_fuzz(binaries):
    """The harnesses, JOBS at a time (each is one process), reported in
    order."""
    with concurrent.futures.ThreadPoolExecutor(int(JOBS)) as pool:
        for name, text, ok in pool.map(fuzz_one, binaries):
            sys.stdout.write(text)
            if ok:
                count(name, 1, 0)
            else:
                count(name, 0, 1, why="(crash or leak, see above)")


def pytest_phase(label, bindir, select, jobs):
    """One pytest run of the scenarios SELECT (-m) picks, JOBS at a time:
    (tests, failed, skipped, slowest [(s, name)]), or None without a
    report."""
    env = dict(os.environ, RTOWATCH_BIN_DIR=bindir)
    with tempfile.NamedTemporaryFile(suffix=".xml") as xml:
        cmd = ["/usr/bin/python3", "-m", "pytest", "-q", "-rs",
               f"--junitxml={xml.name}", "-p", "no:cacheprovider",
               "-m", select, "tests/e2e"]
        if jobs != "1":
            cmd[4:4] = ["-n", jobs, "--dist", "loadgroup"]
        print(f"== {label}: {' '.join(cmd)}", flush=True)
        p = subprocess.run(cmd, cwd=ROOT, env=env)
        try:
            root = ET.parse(xml.name).getroot()
        except (ET.ParseError, FileNotFoundError):
            count(label, 0, 1, why=f"(pytest exit {p.returncode}, no report)")
            return None
    suites = [root] if root.tag == "testsuite" else list(root)
    slowest = sorted(((float(c.get("time", 0)), c.get("name", "?"))
                      for c in root.iter("testcase")), reverse=True)[:8]
    tests = sum(int(s.get("tests", 0)) for s in suites)
    failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0))
                 for s in suites)
    skipped = sum(int(s.get("skipped", 0)) for s in suites)
    if p.returncode not in (0, 1) and failed == 0:
        failed = 1
    return tests, failed, skipped, slowest


def run_pytest(label, bindir):
    """The scenarios, E2E_JOBS at a time, then the HEAVY ones (conftest.py)
    alone, one after another: they load both cores and time the loop."""
    runs = [pytest_phase(label, bindir, "not heavy", E2E_JOBS),
            pytest_phase(label + ", heavy alone", bindir, "heavy", "1")]
    if None in runs:
        return
    tests = sum(r[0] for r in runs)
    failed = sum(r[1] for r in runs)
    skipped = sum(r[2] for r in runs)
    slowest = sorted(sum((r[3] for r in runs), []), reverse=True)[:8]
    print(f"== {label}: slowest " + ", ".join(
        f"{name} {t:.0f}s" for t, name in slowest), flush=True)
    if tests == 0:
        count(label, 0, 1, why="(no test ran)")
        return
    count(label, tests - failed - skipped, failed, skipped)


def main():
    start = time.monotonic()
    for build in ("bin/test", "bin/asan/test"):
        d = os.path.join(ROOT, build)
        for f in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            if f.startswith("test_"):
                run_cmocka(os.path.join(d, f))
    fz = os.path.join(ROOT, "bin", "fuzz")
    run_fuzz([os.path.join(fz, f) for f in
              (sorted(os.listdir(fz)) if os.path.isdir(fz) else [])])
    run_pytest("e2e (release build)", os.path.join(ROOT, "bin"))
    run_pytest("e2e (ASan+UBSan build)", os.path.join(ROOT, "bin", "asan"))
    for f in failures:
        print(f"FAILED: {f}")
    print(f"check took {time.monotonic() - start:.0f}s")
    print(f"{totals['passed']} passed, {totals['failed']} failed, "
          f"{totals['skipped']} skipped")
    return 1 if totals["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
