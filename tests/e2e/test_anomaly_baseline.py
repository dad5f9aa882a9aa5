"""Ordinary traffic replayed through every counter opens no warning.

Thirty seconds of answered handshakes, DNS questions and answers (the
server answers thirty clients on their ephemeral ports: not a scan),
pings and the gateway's steady ARP replies.
"""
import pcapgen
from anomalylib import replay, warnings


def test_clean_baseline_opens_no_warning(tmp_path):
    pcap = pcapgen.write(tmp_path / "baseline.pcap",
                         pcapgen.baseline(pcapgen.T0, 30))
    db, log, _ = replay(tmp_path, pcap)
    assert warnings(db) == [], log
    assert "packets in" in log and "0 episodes still open" in log, log
