#!/bin/sh
# Install the Debian packages rtowatch needs, only those missing.
#   deps.sh run     what building and running the daemon needs
#   deps.sh check   that, plus what the test suite needs
#   deps.sh bench   that of run, plus the peers the benchmark compares with
set -eu

run_pkgs="gcc make pkg-config libevent-dev libsqlite3-dev
libjansson-dev libssl-dev libcurl4-openssl-dev libcap-dev tzdata libnotify-dev
libpcap-dev libpam0g-dev libpq-dev"
check_pkgs="$run_pkgs clang libclang-rt-14-dev libcmocka-dev python3
python3-pytest python3-pytest-xdist sqlite3 iproute2 iptables cppcheck clang-tidy
valgrind openssl python3-aiosmtpd mandoc groff-base
xvfb dbus dunst imagemagick fonts-dejavu-core fonts-wqy-microhei
chromium poppler-utils fonts-noto-cjk
debhelper dpkg-dev fakeroot lintian strace systemd faketime nmap tcpdump
prometheus zsh hping3 arping postgresql dnsmasq-base dnsperf"
# chromium prints the CLI's HTML forms to PDF and poppler-utils reads them
# back (pdftotext, pdfinfo); fonts-noto-cjk gives the Chinese forms their
# Traditional Chinese glyphs.  debhelper, dpkg-dev, fakeroot and lintian
# build and judge the Debian package; strace and systemd-analyze check the
# service's sandbox; iptables is the firewall that drops a namespaced host's
# traffic for the timeout scenarios.  faketime (libfaketime) moves a
# running daemon's wall clock, not its monotonic one, for the clock-jump
# scenarios.  nmap is a real attacker for the traffic counters (nmap -sS -f's
# fragments) and tcpdump writes the capture of it that is then replayed;
# hping3 floods (ICMP, UDP) and arping forges ARP replies for the same.
# dnsmasq-base (the server alone, no service started) is a busy DNS
# server under dnsperf's load, which udp-amplification-rate must leave be.
# prometheus (and its promtool) scrapes and checks GET /metrics.
# zsh runs the zsh completion (bash, which runs the other, is essential).
# The benchmark's peers (fping, monit, blackbox-exporter) and its targets
# (nginx, with the stream module for bare TCP listeners); GNU time for
# fping's peak RSS; iproute2 (ip, tc netem) for the delayed-network case,
# and iptables for its user-space delay on kernels without sch_netem;
# postgresql for the three nodes' shared register (bench_nodes.py).
bench_pkgs="$run_pkgs python3 time fping monit prometheus-blackbox-exporter
nginx libnginx-mod-stream iproute2 iptables postgresql"

case "${1:-}" in
run) want=$run_pkgs ;;
check) want=$check_pkgs ;;
bench) want=$bench_pkgs ;;
*) echo "usage: deps.sh run|check|bench" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

echo "rtowatch ($1) needs these Debian packages, not installed:$missing"
# What apt-get would do, said before it does it: dependencies too, and
# the packages it would upgrade to satisfy them.
# shellcheck disable=SC2086
plan=$(apt-get install -s -q --no-install-recommends $missing 2>/dev/null |
	awk '$1 == "Inst" { printf " %s", $2 }
	    $1 == "Inst" && $3 ~ /^\[/ { up = up " " $2 }
	    END { if (up != "") printf "\n  of which upgraded:%s", up }') || plan=""
[ -n "$plan" ] && echo "apt-get install would install or upgrade:$plan"
if [ "$(id -u)" -ne 0 ] || [ "${RTOWATCH_NO_INSTALL:-}" = 1 ]; then
	echo "install them as root: apt-get install$missing" >&2
	exit 1
fi
echo "installing them now (RTOWATCH_NO_INSTALL=1 stops before this):$missing"
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has no package lists yet; an old list may name
# versions that are gone, so refresh when the first attempt fails.
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing ||
	{ apt-get update -q && apt-get install -y -q --no-install-recommends $missing; }
