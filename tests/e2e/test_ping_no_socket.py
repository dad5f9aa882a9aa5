"""No ICMP socket at all: ping checks fail as errors, the rest runs on.

As nobody, with net.ipv4.ping_group_range admitting no group ("1 0", the
kernel's default) in the daemon's namespace, neither a raw nor a datagram
ICMP socket can be opened.  The daemon warns at start, keeps running, and
every ping probe reports an error that says why and where to look, while
its other checks (a TCP check here) go on.
"""
from conftest import rules_file, start_daemon, system_rules, wait_incident
from pinglib import as_nobody, netns, nobody_daemon, ping_system, run

__all__ = ["netns", "nobody_daemon"]


def test_ping_without_icmp_socket_is_an_error(netns, nobody_daemon):
    d = as_nobody(nobody_daemon, netns)
    run("ip", "netns", "exec", netns, "sysctl", "-q", "-w",
        "net.ipv4.ping_group_range=1 0")
    d.write_rules(rules_file(
        d.db, ping_system("lo4", "127.0.0.1"),
        # Nothing listens in this fresh namespace: refused.
        system_rules("sshd", 22)))
    start_daemon(d)
    inc = wait_incident(d.db, "lo4", timeout=15)
    assert "error: cannot ping 127.0.0.1: no IPv4 ICMP socket: raw: " \
        "Operation not permitted; datagram: Permission denied (see " \
        "net.ipv4.ping_group_range)" in inc["cause"], inc["cause"]
    assert "ping checks of IPv4 targets will fail" in d.run_log(), d.tail()
    other = wait_incident(d.db, "sshd", timeout=15)
    assert "refused" in other["cause"], other["cause"]
    assert d.running
    d.stop()
