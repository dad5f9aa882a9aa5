# rtowatch: make builds bin/rtowatchd and bin/rtowatch; make asan builds the
# same under ASan+UBSan in bin/asan/; make run and make check are the two
# commands of the README (each installs the Debian packages it needs); make
# bench compares rtowatchd with fping, monit and blackbox-exporter.

CC	?= cc
CLANG	?= clang
PREFIX	?= /usr/local
DESTDIR	?=

# -Wconversion: in C it has -Wsign-conversion too (and clang's
# -Wshorten-64-to-32); -Woverlength-strings: C99's 4095 characters.
WARN	 = -Wall -Wextra -Wformat=2 -Wshadow -Wmissing-prototypes \
	   -Wstrict-prototypes -Wpointer-arith -Wcast-qual -Wvla \
	   -Wnull-dereference -Wconversion -Woverlength-strings -Werror
CFLAGS	?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -Iinclude $(WARN) $(CFLAGS)

# No libsystemd: daemon/sdnotify.c and daemon/journal.c speak its two
# protocols (include/sdnotify.h).
DAEMON_PKGS = libevent sqlite3 libcrypto libcurl jansson \
	      libcap libpcap libevent_openssl libssl libpq
CLI_PKGS    = sqlite3 jansson libcurl libpq
PKG_CFLAGS  = $(shell pkg-config --cflags $(DAEMON_PKGS) $(CLI_PKGS) 2>/dev/null)
DAEMON_LIBS = $(shell pkg-config --libs $(DAEMON_PKGS) 2>/dev/null) -lm -pthread \
	      -lpam
# rtowatchd itself loads libcurl and libpq only when its rules need them
# (include/lazylib.h): not linked, so not mapped at start.  The unit
# tests and fuzzers link them as usual, with daemon/lazylib_linked.c.
LAZY_PKGS   = libcurl libpq libssl libcrypto libevent_openssl libpcap
RTOWATCHD_LIBS = $(shell pkg-config --libs $(filter-out $(LAZY_PKGS), \
		 $(DAEMON_PKGS)) 2>/dev/null) -lm -pthread
CLI_LIBS    = $(shell pkg-config --libs $(CLI_PKGS) 2>/dev/null)
# rtowatch verify recomputes the timeline chain (common/chain.c).
CHAIN_LIBS  = $(shell pkg-config --libs libcrypto 2>/dev/null)
# The desktop agent alone links libnotify and GLib.  Their headers are
# system headers to our warnings (-isystem), as the others' already are.
NOTIFY_PKGS   = libnotify glib-2.0 libcurl jansson
NOTIFY_CFLAGS = $(patsubst -I%,-isystem %,$(shell pkg-config --cflags \
		$(NOTIFY_PKGS) 2>/dev/null))
NOTIFY_LIBS   = $(shell pkg-config --libs $(NOTIFY_PKGS) 2>/dev/null)

ASAN_FLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	     -fno-sanitize-recover=undefined

# Shared by the daemon, the CLI and the tests.
COMMON_SRCS = common/log.c common/util.c common/record.c common/sha256.c \
	      common/base64.c
# The store: its core and one file a record.
# The backends: SQLite (the default) and PostgreSQL.
STORE_SRCS  = daemon/store.c daemon/store_sqlite.c daemon/store_pg.c \
	      daemon/store_incident.c daemon/store_clock.c \
	      daemon/store_mail.c daemon/store_warning.c daemon/store_history.c \
	      daemon/store_response.c daemon/store_vantage.c \
	      daemon/store_node.c
# Every file in probes/ is a probe kind (or their shared probe.c).
PROBE_SRCS  = $(sort $(wildcard probes/*.c))
# The rules parser, a file a block (include/conf_parse.h).
CONF_SRCS   = daemon/conf.c daemon/conf_lex.c daemon/conf_system.c \
	      daemon/conf_policy.c daemon/conf_mail.c daemon/conf_anomaly.c \
	      daemon/conf_webhook.c daemon/conf_web.c daemon/anomaly_rules.c
DAEMON_SRCS = daemon/main.c $(CONF_SRCS) daemon/engine.c daemon/monitor.c \
	      daemon/curlev.c daemon/mailer.c daemon/webhook.c \
	      daemon/policy.c $(STORE_SRCS) daemon/clocks.c daemon/timerheap.c \
	      daemon/slots.c \
	      daemon/notice.c daemon/maint.c common/chain.c \
	      daemon/workflow.c daemon/control.c daemon/priv.c \
	      daemon/journal.c daemon/sdnotify.c daemon/packet.c \
	      daemon/anomaly.c \
	      daemon/anomaly_store.c \
	      daemon/capture.c daemon/pcapfile.c daemon/wallclock.c \
	      daemon/storewatch.c daemon/hostnet.c daemon/engine_step.c \
	      daemon/history.c daemon/metrics.c daemon/lead.c \
	      daemon/web.c \
	      $(PROBE_SRCS)
CLI_SRCS    = cli/rtowatch.c cli/ctl.c cli/cli.c cli/text.c cli/doc.c \
	      cli/query.c cli/recur.c cli/report.c cli/register.c \
	      cli/avail.c cli/verify.c cli/warnings.c cli/history.c \
	      cli/backup.c cli/mail.c cli/pgsnap.c common/chain.c
NOTIFY_SRCS = cli/rtowatch-notify.c cli/notify_event.c
HEADERS     = $(wildcard include/*.h cli/*.h)

obj = $(patsubst %.c,build/$(1)/%.o,$(2))

.PHONY: all asan run check unit fuzz lint bench deps-run deps-check \
	deps-bench clean install uninstall

all: bin/rtowatchd bin/rtowatch bin/rtowatch-notify

asan: bin/asan/rtowatchd bin/asan/rtowatch bin/asan/rtowatch-notify

build/release/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CPPFLAGS) $(PKG_CFLAGS) -c $< -o $@

build/asan/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ASAN_FLAGS) $(PKG_CFLAGS) -c $< -o $@

bin/rtowatchd: $(call obj,release,$(DAEMON_SRCS) daemon/lazylib.c \
    $(COMMON_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(RTOWATCHD_LIBS)

bin/rtowatch: $(call obj,release,$(CLI_SRCS) $(COMMON_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(CLI_LIBS) $(CHAIN_LIBS)

build/release/cli/rtowatch-notify.o build/asan/cli/rtowatch-notify.o: \
    PKG_CFLAGS += $(NOTIFY_CFLAGS)

bin/rtowatch-notify: $(call obj,release,$(NOTIFY_SRCS) $(COMMON_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(NOTIFY_LIBS)

# ASan intercepts crypt_r, but finds the real one only in a library loaded
# at start: libcrypt comes with pam_unix.so, by dlopen, and its first
# password check would call a null pointer.  Loaded at start here.
bin/asan/rtowatchd: $(call obj,asan,$(DAEMON_SRCS) daemon/lazylib.c \
    $(COMMON_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_FLAGS) -o $@ $^ $(RTOWATCHD_LIBS) \
	    -Wl,--no-as-needed -lcrypt -Wl,--as-needed

bin/asan/rtowatch: $(call obj,asan,$(CLI_SRCS) $(COMMON_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_FLAGS) -o $@ $^ $(CLI_LIBS) $(CHAIN_LIBS)

bin/asan/rtowatch-notify: $(call obj,asan,$(NOTIFY_SRCS) $(COMMON_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_FLAGS) -o $@ $^ $(NOTIFY_LIBS)

# Unit tests: cmocka, one binary per tested module, in both builds.
UNIT_TESTS = conf policy maint dns_wire icmp_wire icmp_seqmap text
UNIT_LIB_SRCS = $(CONF_SRCS) daemon/policy.c daemon/maint.c $(PROBE_SRCS) \
		daemon/curlev.c $(COMMON_SRCS) cli/text.c \
		daemon/lazylib_linked.c

bin/test/test_%: tests/unit/test_%.c $(call obj,release,$(UNIT_LIB_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -o $@ $^ $(DAEMON_LIBS) -lcmocka

bin/asan/test/test_%: tests/unit/test_%.c $(call obj,asan,$(UNIT_LIB_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ASAN_FLAGS) $(PKG_CFLAGS) -o $@ $^ \
	    $(DAEMON_LIBS) -lcmocka

# Times and durations as operators read them (common/util.c).
UNIT_TESTS += util

# The plain http:// URL split without libcurl, against curl's parser.
UNIT_TESTS += http_url

# The chain's SHA-256 and the webhooks' HMAC against OpenSSL's.
UNIT_TESTS += sha256

# The mailer's base64 against OpenSSL's.
UNIT_TESTS += base64

# The journal's native protocol, read from a socket bound by the test.
UNIT_TESTS += journal
bin/test/test_journal: tests/unit/test_journal.c \
    $(call obj,release,daemon/journal.c $(COMMON_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -o $@ $^ -lcmocka

bin/asan/test/test_journal: tests/unit/test_journal.c \
    $(call obj,asan,daemon/journal.c $(COMMON_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ASAN_FLAGS) $(PKG_CFLAGS) -o $@ $^ -lcmocka

# The https client's CA stores: shared, read again when changed.
UNIT_TESTS += tls_client

# Many timers on one libevent timer, fired in slices (the clocks' bursts).
UNIT_TESTS += timerheap
bin/test/test_timerheap: tests/unit/test_timerheap.c \
    $(call obj,release,daemon/timerheap.c $(COMMON_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -o $@ $^ -levent -lcmocka

bin/asan/test/test_timerheap: tests/unit/test_timerheap.c \
    $(call obj,asan,daemon/timerheap.c $(COMMON_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ASAN_FLAGS) $(PKG_CFLAGS) -o $@ $^ -levent \
	    -lcmocka

# How many https probes run at once, window by window (issue 20).
UNIT_TESTS += slots
bin/test/test_slots: tests/unit/test_slots.c \
    $(call obj,release,daemon/slots.c $(COMMON_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -o $@ $^ -lcmocka

bin/asan/test/test_slots: tests/unit/test_slots.c \
    $(call obj,asan,daemon/slots.c $(COMMON_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ASAN_FLAGS) $(PKG_CFLAGS) -o $@ $^ -lcmocka

# The host's own network, read from /proc text.
UNIT_TESTS += hostnet
bin/test/test_hostnet: tests/unit/test_hostnet.c \
    $(call obj,release,daemon/hostnet.c $(COMMON_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -o $@ $^ $(DAEMON_LIBS) -lcmocka

bin/asan/test/test_hostnet: tests/unit/test_hostnet.c \
    $(call obj,asan,daemon/hostnet.c $(COMMON_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ASAN_FLAGS) $(PKG_CFLAGS) -o $@ $^ \
	    $(DAEMON_LIBS) -lcmocka

# The engine's decisions: pure, over a snapshot of a system.
UNIT_TESTS += engine_step
ENGINE_STEP_UNIT_SRCS = daemon/engine_step.c daemon/policy.c
bin/test/test_engine_step: tests/unit/test_engine_step.c \
    $(call obj,release,$(ENGINE_STEP_UNIT_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -o $@ $^ -lcmocka

bin/asan/test/test_engine_step: tests/unit/test_engine_step.c \
    $(call obj,asan,$(ENGINE_STEP_UNIT_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ASAN_FLAGS) $(PKG_CFLAGS) -o $@ $^ -lcmocka

# The desktop agent's pure half: jansson, no daemon.
UNIT_TESTS += notify_event
bin/test/test_notify_event: tests/unit/test_notify_event.c \
    $(call obj,release,cli/notify_event.c $(COMMON_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -o $@ $^ $(CLI_LIBS) -lcmocka

bin/asan/test/test_notify_event: tests/unit/test_notify_event.c \
    $(call obj,asan,cli/notify_event.c $(COMMON_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ASAN_FLAGS) $(PKG_CFLAGS) -o $@ $^ \
	    $(CLI_LIBS) -lcmocka

# The traffic counters: their decisions, without a store.
UNIT_TESTS += anomaly
ANOMALY_UNIT_SRCS = daemon/anomaly.c daemon/packet.c $(UNIT_LIB_SRCS)
bin/test/test_anomaly: tests/unit/test_anomaly.c \
    $(call obj,release,$(ANOMALY_UNIT_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -o $@ $^ $(DAEMON_LIBS) -lcmocka

bin/asan/test/test_anomaly: tests/unit/test_anomaly.c \
    $(call obj,asan,$(ANOMALY_UNIT_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ASAN_FLAGS) $(PKG_CFLAGS) -o $@ $^ \
	    $(DAEMON_LIBS) -lcmocka

# The writer of the counters' warnings, on a real store.
UNIT_TESTS += anomaly_store
ANOMALY_STORE_UNIT_SRCS = daemon/anomaly_store.c daemon/anomaly.c \
			  daemon/packet.c $(STORE_SRCS) common/chain.c \
			  $(UNIT_LIB_SRCS)
bin/test/test_anomaly_store: tests/unit/test_anomaly_store.c \
    $(call obj,release,$(ANOMALY_STORE_UNIT_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -o $@ $^ $(DAEMON_LIBS) -lcmocka

bin/asan/test/test_anomaly_store: tests/unit/test_anomaly_store.c \
    $(call obj,asan,$(ANOMALY_STORE_UNIT_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ASAN_FLAGS) $(PKG_CFLAGS) -o $@ $^ \
	    $(DAEMON_LIBS) -lcmocka

# The packet decoder alone: crafted frames, no capture.
UNIT_TESTS += packet
bin/test/test_packet: tests/unit/test_packet.c \
    $(call obj,release,daemon/packet.c $(COMMON_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -o $@ $^ $(DAEMON_LIBS) -lcmocka

bin/asan/test/test_packet: tests/unit/test_packet.c \
    $(call obj,asan,daemon/packet.c $(COMMON_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ASAN_FLAGS) $(PKG_CFLAGS) -o $@ $^ \
	    $(DAEMON_LIBS) -lcmocka

# The store failing soft: a second connection holds the lock.  The
# record's table is checked against the store's columns.
STORE_UNIT_TESTS = store record
UNIT_TESTS += $(STORE_UNIT_TESTS)
STORE_UNIT_SRCS = $(STORE_SRCS) common/chain.c $(UNIT_LIB_SRCS)
$(STORE_UNIT_TESTS:%=bin/test/test_%): bin/test/test_%: \
    tests/unit/test_%.c $(call obj,release,$(STORE_UNIT_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -o $@ $^ $(DAEMON_LIBS) -lcmocka

$(STORE_UNIT_TESTS:%=bin/asan/test/test_%): bin/asan/test/test_%: \
    tests/unit/test_%.c $(call obj,asan,$(STORE_UNIT_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ASAN_FLAGS) $(PKG_CFLAGS) -o $@ $^ \
	    $(DAEMON_LIBS) -lcmocka

# What a transaction of the store costs on a backend (README, "On
# PostgreSQL"): bin/test/bench_store_commit DB-or-URI [N].
bin/test/bench_store_commit: tests/bench/store_commit.c \
    $(call obj,release,$(STORE_UNIT_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -o $@ $^ $(DAEMON_LIBS)

# The response-time history: its roll-up and its size over a year.
UNIT_TESTS += response
bin/test/test_response: tests/unit/test_response.c \
    $(call obj,release,$(STORE_UNIT_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -o $@ $^ $(DAEMON_LIBS) -lcmocka

bin/asan/test/test_response: tests/unit/test_response.c \
    $(call obj,asan,$(STORE_UNIT_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ASAN_FLAGS) $(PKG_CFLAGS) -o $@ $^ \
	    $(DAEMON_LIBS) -lcmocka

# The commit benchmark is built here too, so that it cannot fall behind
# the store's interface again; it is run by hand (make check does not).
unit: $(UNIT_TESTS:%=bin/test/test_%) $(UNIT_TESTS:%=bin/asan/test/test_%) \
    bin/test/bench_store_commit

# libFuzzer harnesses, one per parser of outside input.
FUZZERS = conf http http_resp tcp dns icmp control events pcap pcapfile web
# Their objects carry libFuzzer's coverage but not its main: each source
# is compiled once and linked into every harness that reads it (compiled
# for each harness, two of which take the whole daemon, they were over
# 300 compiles and most of make check's build).
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -Iinclude -g -O1
FUZZ_LINK = $(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined \
	    $(PKG_CFLAGS) -o $@ $(filter %.c %.o,$^)

build/fuzz/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined \
	    $(PKG_CFLAGS) -c $< -o $@

# The control socket's and the web listener's harnesses run the whole
# server, daemon and all.
bin/fuzz/fuzz_control bin/fuzz/fuzz_web: bin/fuzz/fuzz_%: \
    tests/fuzz/fuzz_%.c $(call obj,fuzz,$(filter-out daemon/main.c, \
    $(DAEMON_SRCS)) $(COMMON_SRCS) daemon/lazylib_linked.c) $(HEADERS)
	@mkdir -p $(dir $@)
	$(FUZZ_LINK) $(DAEMON_LIBS)

bin/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(call obj,fuzz,$(UNIT_LIB_SRCS)) \
    $(HEADERS)
	@mkdir -p $(dir $@)
	$(FUZZ_LINK) $(DAEMON_LIBS)

# The agent's reply parser needs neither the daemon nor its libraries.
bin/fuzz/fuzz_events: tests/fuzz/fuzz_events.c \
    $(call obj,fuzz,cli/notify_event.c $(COMMON_SRCS)) $(HEADERS)
	@mkdir -p $(dir $@)
	$(FUZZ_LINK) $(CLI_LIBS)

# The packet decoder of the traffic counters: pure, libpcap's headers only.
bin/fuzz/fuzz_pcap: tests/fuzz/fuzz_pcap.c \
    $(call obj,fuzz,daemon/packet.c) $(HEADERS)
	@mkdir -p $(dir $@)
	$(FUZZ_LINK)

# The capture file walker of the replays: libpcap's headers only.
bin/fuzz/fuzz_pcapfile: tests/fuzz/fuzz_pcapfile.c \
    $(call obj,fuzz,daemon/pcapfile.c) $(HEADERS)
	@mkdir -p $(dir $@)
	$(FUZZ_LINK)

fuzz: $(FUZZERS:%=bin/fuzz/fuzz_%)

deps-run:
	@sh scripts/deps.sh run

deps-check:
	@sh scripts/deps.sh check

deps-bench:
	@sh scripts/deps.sh bench

# The first README command: build and watch this host in the foreground.
run: deps-run
	@$(MAKE) --no-print-directory all
	@mkdir -p var
	exec bin/rtowatchd -d -v -f rules/local.conf

# The second README command: every test, in both builds, and a count.
check: deps-check
	@$(MAKE) --no-print-directory -j$$(nproc) all asan unit fuzz
	@sh tests/run-all.sh

# Not part of check: it takes minutes and wants a quiet machine.  Shrink
# it with BENCH_SCALE=0.1 (see tests/bench/bench.py for the other knobs;
# bench_nodes.py's phases shrink with BENCH_NODES_PHASE=20).
bench: deps-bench
	@$(MAKE) --no-print-directory all
	/usr/bin/python3 tests/bench/bench.py
	/usr/bin/python3 tests/bench/bench_pcap.py
	/usr/bin/python3 tests/bench/bench_pcap_live.py
	/usr/bin/python3 tests/bench/bench_netem.py
	/usr/bin/python3 tests/bench/bench_nodes.py
	/usr/bin/python3 tests/bench/bench_rss.py --hold 120

# variableScope and unusedStructMember argue with the BSD style (locals at
# the top) and with sys/queue.h's macros; jansson.h is read for its
# iteration macros.
QUEUE_H = $(firstword $(wildcard /usr/include/sys/queue.h /usr/include/*/sys/queue.h))
lint:
	cppcheck --quiet --error-exitcode=1 \
	    --enable=warning,style,performance,portability --inline-suppr \
	    --suppress=missingIncludeSystem --suppress=variableScope \
	    --suppress=unusedStructMember --include=$(QUEUE_H) \
	    --include=/usr/include/jansson.h -Iinclude \
	    common daemon probes cli
	clang-tidy --quiet $(DAEMON_SRCS) daemon/lazylib.c daemon/lazylib_linked.c \
	    $(COMMON_SRCS) $(CLI_SRCS) -- \
	    -std=c11 -D_GNU_SOURCE -Iinclude $(PKG_CFLAGS)
	clang-tidy --quiet $(NOTIFY_SRCS) -- \
	    -std=c11 -D_GNU_SOURCE -Iinclude $(NOTIFY_CFLAGS)

# make install [PREFIX=/usr/local] [DESTDIR=]: programs, units (their
# paths rewritten to PREFIX), sysusers.d and tmpfiles.d, man pages, and the
# example rules as /etc/rtowatch/rtowatch.conf unless one is there already.
# Straight onto this host as root, it also makes the account and the
# directories; a DESTDIR install leaves that to the package.
SBINDIR	  = $(PREFIX)/sbin
BINDIR	  = $(PREFIX)/bin
MANDIR	  = $(PREFIX)/share/man
DOCDIR	  = $(PREFIX)/share/doc/rtowatch
LIBDIR	  = $(PREFIX)/lib
UNITDIR	  = $(LIBDIR)/systemd/system
BASHCOMPDIR = $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  = $(PREFIX)/share/zsh/vendor-completions
USERUNITDIR = $(LIBDIR)/systemd/user
CONFDIR	  = /etc/rtowatch
SUBST	  = sed -e 's|/usr/local/sbin/|$(SBINDIR)/|g' \
		-e 's|/usr/local/bin/|$(BINDIR)/|g'

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(UNITDIR) $(DESTDIR)$(LIBDIR)/sysusers.d \
	    $(DESTDIR)$(LIBDIR)/tmpfiles.d $(DESTDIR)$(DOCDIR)/examples \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8
	install -d -m 0750 $(DESTDIR)$(CONFDIR)
	install -m 0755 bin/rtowatchd $(DESTDIR)$(SBINDIR)/rtowatchd
	install -m 0755 bin/rtowatch bin/rtowatch-notify $(DESTDIR)$(BINDIR)/
	$(SUBST) systemd/rtowatchd.service >$(DESTDIR)$(UNITDIR)/rtowatchd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/rtowatchd.service
	install -d $(DESTDIR)$(USERUNITDIR)
	$(SUBST) systemd/rtowatch-notify.service \
	    >$(DESTDIR)$(USERUNITDIR)/rtowatch-notify.service
	chmod 0644 $(DESTDIR)$(USERUNITDIR)/rtowatch-notify.service
	install -m 0644 systemd/rtowatch.sysusers \
	    $(DESTDIR)$(LIBDIR)/sysusers.d/rtowatch.conf
	install -m 0644 systemd/rtowatch.tmpfiles \
	    $(DESTDIR)$(LIBDIR)/tmpfiles.d/rtowatch.conf
	install -m 0644 rules/example.conf rules/policy.conf \
	    $(DESTDIR)$(DOCDIR)/examples/
	install -m 0644 man/rtowatchd.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 man/rtowatch.1 man/rtowatch-notify.1 \
	    $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 man/rtowatch.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -d $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	install -m 0644 completion/rtowatch.bash \
	    $(DESTDIR)$(BASHCOMPDIR)/rtowatch
	install -m 0644 completion/_rtowatch $(DESTDIR)$(ZSHCOMPDIR)/_rtowatch
	@# An existing configuration is the computer center's: never replaced.
	[ -e $(DESTDIR)$(CONFDIR)/rtowatch.conf ] || install -m 0640 \
	    rules/example.conf $(DESTDIR)$(CONFDIR)/rtowatch.conf
	[ -e $(DESTDIR)$(CONFDIR)/policy.conf ] || install -m 0640 \
	    rules/policy.conf $(DESTDIR)$(CONFDIR)/policy.conf
	if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" -eq 0 ] && \
	    command -v systemd-sysusers >/dev/null; then \
	    systemd-sysusers $(LIBDIR)/sysusers.d/rtowatch.conf && \
	    systemd-tmpfiles --create $(LIBDIR)/tmpfiles.d/rtowatch.conf; fi

# Everything install put there but the configuration (and the database,
# which install never made): the records must outlive the program.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/rtowatchd $(DESTDIR)$(BINDIR)/rtowatch \
	    $(DESTDIR)$(BINDIR)/rtowatch-notify \
	    $(DESTDIR)$(UNITDIR)/rtowatchd.service \
	    $(DESTDIR)$(USERUNITDIR)/rtowatch-notify.service \
	    $(DESTDIR)$(LIBDIR)/sysusers.d/rtowatch.conf \
	    $(DESTDIR)$(LIBDIR)/tmpfiles.d/rtowatch.conf \
	    $(DESTDIR)$(DOCDIR)/examples/example.conf \
	    $(DESTDIR)$(DOCDIR)/examples/policy.conf \
	    $(DESTDIR)$(MANDIR)/man8/rtowatchd.8 \
	    $(DESTDIR)$(MANDIR)/man1/rtowatch.1 \
	    $(DESTDIR)$(MANDIR)/man1/rtowatch-notify.1 \
	    $(DESTDIR)$(MANDIR)/man5/rtowatch.conf.5 \
	    $(DESTDIR)$(BASHCOMPDIR)/rtowatch $(DESTDIR)$(ZSHCOMPDIR)/_rtowatch
	-rmdir $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) 2>/dev/null

clean:
	rm -rf bin build
