"""Names of /etc/hosts are answered from the file, never by DNS.

The daemon's resolver is a DNS server the test runs, which counts every
query.  A tcp check of "localhost" (in /etc/hosts, or the daemon's own
fallback when the file cannot be read) must pass probe after probe
without one query reaching the server, and so must a check of an
address.
"""
from conftest import incidents, rules_file, start_daemon, system_rules
from dnsserver import dns  # noqa: F401


def tcp_system(system, host, port):
    return system_rules(system, port, core=True, host=host, every="300ms",
                        timeout="200ms", down_after=2)


def test_resolve_hosts_file_without_dns(scenario, dns):
    dns.add("svc.example.test", "A", "127.0.0.1").start()
    by_name = scenario.listener()
    by_address = scenario.listener()
    d = scenario.daemon()
    d.write_rules(f'set resolver "{dns.address}"\n' + rules_file(
        d.db, tcp_system("local", "localhost", by_name.port),
        tcp_system("literal", "127.0.0.1", by_address.port)))
    start_daemon(d)
    by_name.wait_accepted(6, what="six probes of localhost")
    by_address.wait_accepted(6, what="six probes of 127.0.0.1")
    assert dns.count() == 0, (
        f"{dns.count()} queries reached the DNS server for names of "
        f"/etc/hosts and addresses")
    assert incidents(d.db) == []
    d.stop()
