# rtowatch: make builds bin/rtowatchd and bin/rtowatch; make asan builds the
# same under ASan+UBSan in bin/asan/; make run and make check are the two
# commands of the README (each installs the Debian packages it needs); make
# bench compares rtowatchd with fping, monit and blackbox-exporter.

CC	?= cc
CLANG	?= clang
PREFIX	?= /usr/local

WARN	 = -Wall -Wextra -Wformat=2 -Wshadow -Wmissing-prototypes \
	   -Wstrict-prototypes -Wpointer-arith -Wcast-qual -Wvla \
	   -Wnull-dereference -Werror
CFLAGS	?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -Iinclude $(WARN) $(CFLAGS)

DAEMON_PKGS = libevent libsystemd sqlite3 libcrypto libcurl jansson libpcap
CLI_PKGS    = sqlite3 jansson libcurl
PKG_CFLAGS  = $(shell pkg-config --cflags $(DAEMON_PKGS) $(CLI_PKGS) 2>/dev/null)
DAEMON_LIBS = $(shell pkg-config --libs $(DAEMON_PKGS) 2>/dev/null) -lm
CLI_LIBS    = $(shell pkg-config --libs $(CLI_PKGS) 2>/dev/null)
# The desktop agent alone links libnotify and GLib.  Their headers are
# system headers to our warnings (-isystem), as the others' already are.
NOTIFY_PKGS   = libnotify glib-2.0 libcurl jansson
NOTIFY_CFLAGS = $(patsubst -I%,-isystem %,$(shell pkg-config --cflags \
		$(NOTIFY_PKGS) 2>/dev/null))
NOTIFY_LIBS   = $(shell pkg-config --libs $(NOTIFY_PKGS) 2>/dev/null)

ASAN_FLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	     -fno-sanitize-recover=undefined

# Shared by the daemon, the CLI and the tests.
COMMON_SRCS = daemon/log.c daemon/util.c
# Every file in probes/ is a probe kind (or their shared probe.c).
PROBE_SRCS  = $(sort $(wildcard probes/*.c))
DAEMON_SRCS = daemon/main.c daemon/conf.c daemon/engine.c daemon/monitor.c \
	      daemon/policy.c daemon/store.c daemon/clocks.c \
	      daemon/notice.c daemon/maint.c daemon/chain.c \
	      daemon/workflow.c daemon/control.c daemon/packet.c \
	      daemon/anomaly.c daemon/capture.c $(PROBE_SRCS)
CLI_SRCS    = cli/rtowatch.c cli/ctl.c cli/warnings.c
NOTIFY_SRCS = cli/rtowatch-notify.c cli/notify_event.c
HEADERS     = $(wildcard include/*.h)

obj = $(patsubst %.c,build/$(1)/%.o,$(2))

.PHONY: all asan run check unit fuzz lint bench deps-run deps-check \
	deps-bench clean install

all: bin/rtowatchd bin/rtowatch bin/rtowatch-notify

asan: bin/asan/rtowatchd bin/asan/rtowatch bin/asan/rtowatch-notify

build/release/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -c $< -o $@

build/asan/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ASAN_FLAGS) $(PKG_CFLAGS) -c $< -o $@

bin/rtowatchd: $(call obj,release,$(DAEMON_SRCS) $(COMMON_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(DAEMON_LIBS)

bin/rtowatch: $(call obj,release,$(CLI_SRCS) $(COMMON_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(CLI_LIBS)

build/release/cli/rtowatch-notify.o build/asan/cli/rtowatch-notify.o: \
    PKG_CFLAGS += $(NOTIFY_CFLAGS)

bin/rtowatch-notify: $(call obj,release,$(NOTIFY_SRCS) $(COMMON_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(NOTIFY_LIBS)

bin/asan/rtowatchd: $(call obj,asan,$(DAEMON_SRCS) $(COMMON_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_FLAGS) -o $@ $^ $(DAEMON_LIBS)

bin/asan/rtowatch: $(call obj,asan,$(CLI_SRCS) $(COMMON_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_FLAGS) -o $@ $^ $(CLI_LIBS)

bin/asan/rtowatch-notify: $(call obj,asan,$(NOTIFY_SRCS) $(COMMON_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_FLAGS) -o $@ $^ $(NOTIFY_LIBS)

# Unit tests: cmocka, one binary per tested module, in both builds.
UNIT_TESTS = conf policy maint dns_wire icmp_wire icmp_seqmap
UNIT_LIB_SRCS = daemon/conf.c daemon/policy.c daemon/maint.c $(PROBE_SRCS) \
		$(COMMON_SRCS)

bin/test/test_%: tests/unit/test_%.c $(call obj,release,$(UNIT_LIB_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -o $@ $^ $(DAEMON_LIBS) -lcmocka

bin/asan/test/test_%: tests/unit/test_%.c $(call obj,asan,$(UNIT_LIB_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ASAN_FLAGS) $(PKG_CFLAGS) -o $@ $^ \
	    $(DAEMON_LIBS) -lcmocka

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

# The traffic counters, with the store they write to.
UNIT_TESTS += anomaly
ANOMALY_UNIT_SRCS = daemon/anomaly.c daemon/packet.c daemon/store.c \
		    daemon/chain.c $(UNIT_LIB_SRCS)
bin/test/test_anomaly: tests/unit/test_anomaly.c \
    $(call obj,release,$(ANOMALY_UNIT_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -o $@ $^ $(DAEMON_LIBS) -lcmocka

bin/asan/test/test_anomaly: tests/unit/test_anomaly.c \
    $(call obj,asan,$(ANOMALY_UNIT_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ASAN_FLAGS) $(PKG_CFLAGS) -o $@ $^ \
	    $(DAEMON_LIBS) -lcmocka

unit: $(UNIT_TESTS:%=bin/test/test_%) $(UNIT_TESTS:%=bin/asan/test/test_%)

# libFuzzer harnesses, one per parser of outside input.
FUZZERS = conf http dns icmp control events pcap
# The control socket's harness runs the whole server, daemon and all.
bin/fuzz/fuzz_control: tests/fuzz/fuzz_control.c \
    $(filter-out daemon/main.c,$(DAEMON_SRCS)) $(COMMON_SRCS) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CLANG) -std=c11 -D_GNU_SOURCE -Iinclude -g -O1 \
	    -fsanitize=fuzzer,address,undefined $(PKG_CFLAGS) -o $@ $< \
	    $(filter-out daemon/main.c,$(DAEMON_SRCS)) $(COMMON_SRCS) \
	    $(DAEMON_LIBS)

bin/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(UNIT_LIB_SRCS) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CLANG) -std=c11 -D_GNU_SOURCE -Iinclude -g -O1 \
	    -fsanitize=fuzzer,address,undefined $(PKG_CFLAGS) -o $@ \
	    $< $(UNIT_LIB_SRCS) $(DAEMON_LIBS)

# The agent's reply parser needs neither the daemon nor its libraries.
bin/fuzz/fuzz_events: tests/fuzz/fuzz_events.c cli/notify_event.c \
    $(COMMON_SRCS) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CLANG) -std=c11 -D_GNU_SOURCE -Iinclude -g -O1 \
	    -fsanitize=fuzzer,address,undefined $(PKG_CFLAGS) -o $@ \
	    $< cli/notify_event.c $(COMMON_SRCS) $(CLI_LIBS)

# The packet decoder of the traffic counters: pure, libpcap's headers only.
bin/fuzz/fuzz_pcap: tests/fuzz/fuzz_pcap.c daemon/packet.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CLANG) -std=c11 -D_GNU_SOURCE -Iinclude -g -O1 \
	    -fsanitize=fuzzer,address,undefined -o $@ $< daemon/packet.c

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
	@$(MAKE) --no-print-directory all asan unit fuzz
	@sh tests/run-all.sh

# Not part of check: it takes minutes and wants a quiet machine.  Shrink
# it with BENCH_SCALE=0.1 (see tests/bench/bench.py for the other knobs).
bench: deps-bench
	@$(MAKE) --no-print-directory all
	/usr/bin/python3 tests/bench/bench.py

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
	    daemon probes cli
	clang-tidy --quiet $(DAEMON_SRCS) $(COMMON_SRCS) $(CLI_SRCS) -- \
	    -std=c11 -D_GNU_SOURCE -Iinclude $(PKG_CFLAGS)
	clang-tidy --quiet $(NOTIFY_SRCS) -- \
	    -std=c11 -D_GNU_SOURCE -Iinclude $(NOTIFY_CFLAGS)

clean:
	rm -rf bin build
