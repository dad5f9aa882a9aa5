"""A check by host name: resolved once per TTL, not at every probe, and
followed when the answer changes.

The daemon resolves through a DNS server the test runs ("set resolver").
svc.example.test is served with a TTL of 2 s and points at 127.0.0.2,
where a listener counts the tcp probes (one every 500 ms).  While the
answer stays the same the server sees far fewer A queries than there are
probes, but more than one: the name is asked again when the TTL runs out.
Then the answer changes to 127.0.0.3, where another listener on the same
port answers: the probes must move there within the TTL and an interval.
Last the server stops: once the cached answer expires the probes fail,
and the incident's cause is the DNS failure.
"""
import time

from conftest import rules_file, start_daemon, wait_for, wait_incident
from dnsserver import dns  # noqa: F401

NAME = "svc.example.test"
TTL = 2
EVERY = 0.5


def tcp_by_name(system, host, port):
    return (f'system "{system}" {{\n'
            f"    core yes\n"
            f"    rto 1h\n"
            f'    owner "e2e tests"\n'
            f"    check tcp {host} port {port} every {int(EVERY * 1000)}ms "
            f"timeout 400ms\n"
            f"    down after 2 failures\n"
            f"    up after 2 successes\n"
            f"}}\n")


def test_resolve_ttl_cache_and_change(scenario, dns):
    dns.ttl = TTL
    dns.add(NAME, "A", "127.0.0.2").start()
    old = scenario.listener(host="127.0.0.2")
    new = scenario.listener(host="127.0.0.3", port=old.port)
    d = scenario.daemon()
    # The default shortest keep is 5 s: let the 2 s TTL count as given.
    d.write_rules(f'set resolver "{dns.address}"\nset dns-ttl 1s 1h\n'
                  + rules_file(d.db, tcp_by_name("svc", NAME, old.port)))
    start_daemon(d)

    # The cache: over a dozen probes, one A query per TTL.
    wait_for(lambda: old.accepted >= 1, 15, "a first probe at 127.0.0.2")
    t0, p0, q0 = time.monotonic(), old.accepted, dns.asked(NAME, "A")
    wait_for(lambda: old.accepted - p0 >= 14, 20,
             "fourteen more probes at 127.0.0.2")
    probes = old.accepted - p0
    queries = dns.asked(NAME, "A") - q0
    span = time.monotonic() - t0
    print(f"cache: {probes} probes, {queries} A queries in {span:.1f}s "
          f"(TTL {TTL}s, every {EVERY}s)")
    assert queries >= 2, (f"{queries} A queries in {span:.1f}s: the name "
                          f"was not asked again after its {TTL}s TTL")
    assert queries <= span / TTL + 1, (
        f"{queries} A queries for {probes} probes in {span:.1f}s: more "
        f"than one per {TTL}s TTL")
    assert queries * 2 <= probes, (queries, probes)
    assert new.accepted == 0

    # A new answer: followed within the TTL and an interval.
    dns.set(NAME, "A", "127.0.0.3")
    t1 = time.monotonic()
    wait_for(lambda: new.accepted >= 1, 15, "a probe at 127.0.0.3")
    moved = time.monotonic() - t1
    print(f"change: first probe at the new address after {moved:.2f}s")
    assert moved <= TTL + EVERY + 0.5, (
        f"the new address was probed {moved:.2f}s after the change")
    left = old.accepted
    new.wait_accepted(3)
    assert old.accepted == left, "probes went on to the old address"

    # No server: the cached answer runs out, then DNS failures.
    dns.stop()
    inc = wait_incident(d.db, "svc", timeout=20)
    assert "dns-failure" in inc["cause"], inc["cause"]
    assert f"cannot resolve {NAME}" in inc["cause"], inc["cause"]
    d.stop()
