"""http checks by host name share one lookup, kept at least 5 s.

Two systems check URLs on web.example.test (A 127.0.0.1 and AAAA ::1,
served with a TTL of 1 s by a DNS server the test runs, "set resolver").
curl gets the addresses from the daemon's cache (CURLOPT_RESOLVE), so
every request reaches the web server; the DNS server sees at most one A
query per 5 s, the default shortest keep ("set dns-ttl 5s 1h"), however
many probes of the two checks ran, and the Host header still names the
name.
"""
import time

from conftest import incidents, rules_file, start_daemon, wait_for
from dnsserver import dns  # noqa: F401
from http_target import http_system, http_targets  # noqa: F401

NAME = "web.example.test"


def test_resolve_http_shared_and_clamped(scenario, dns, http_targets):
    dns.ttl = 1
    (dns.add(NAME, "A", "127.0.0.1").add(NAME, "AAAA", "::1").start())
    web = http_targets()
    d = scenario.daemon()
    d.write_rules(f'set resolver "{dns.address}"\n' + rules_file(
        d.db,
        http_system("login", web.url("/login", host=NAME)),
        http_system("mail", web.url("/mail", host=NAME))))
    start_daemon(d)

    wait_for(lambda: len(web.requests) >= 2, 20, "the first requests")
    t0, r0, q0 = time.monotonic(), len(web.requests), dns.asked(NAME, "A")
    q6 = dns.asked(NAME, "AAAA")
    wait_for(lambda: len(web.requests) - r0 >= 24, 30,
             "24 more requests from the two checks")
    span = time.monotonic() - t0
    requests = len(web.requests) - r0
    queries = dns.asked(NAME, "A") - q0
    print(f"http: {requests} requests, {queries} A queries, "
          f"{dns.asked(NAME, 'AAAA') - q6} AAAA, in {span:.1f}s")
    assert queries <= span / 5 + 1, (
        f"{queries} A queries in {span:.1f}s: a 1s TTL was not kept 5s, "
        f"or the two checks did not share the name")
    paths = {r["path"] for r in web.requests}
    assert paths == {"/login", "/mail"}, paths
    assert all(r["headers"].get("Host", "").startswith(NAME)
               for r in web.requests), web.requests[:2]
    assert incidents(d.db) == []
    d.stop()
