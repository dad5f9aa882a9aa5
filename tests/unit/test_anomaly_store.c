/*
 * test_anomaly_store.c: the writer of an anomaly block's warnings, on a
 * real database: the rows its events make, the store's ids kept across
 * writes the database refuses (held, never read back), and a warning the
 * store refuses handed back to the block, which opens it again.  Another
 * connection holding BEGIN EXCLUSIVE stands for an admin's shell.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "anomaly.h"
#include "anomaly_rules.h"
#include "anomaly_store.h"
#include "log.h"
#include "packet.h"
#include "store.h"
#include "util.h"

#include "storefix.h"

#define T0	1795000000000LL		/* ms, on a window boundary */

struct fixture {
	struct storefix		 db;
	struct anomaly		*an;
	struct anomaly_store	*w;
};

static int
setup(void **state)
{
	struct fixture		*f;
	struct anomaly_conf	 ac;

	f = xcalloc(1, sizeof(*f));
	if (storefix_open(&f->db, "anomaly") == -1)
		return -1;
	/* SYNs above 1000/s for a window open; calm for 2s ends. */
	memset(&ac, 0, sizeof(ac));
	ac.name = (char *)(uintptr_t)"t";
	ac.interface = (char *)(uintptr_t)"lo";
	ac.window_ms = 1000;
	ac.end_ms = 2000;
	ac.th[ANOMALY_SYN_RATE].set = 1;
	ac.th[ANOMALY_SYN_RATE].above = 1000;
	ac.th[ANOMALY_SYN_RATE].ms = 1000;
	f->an = anomaly_new(&ac);
	f->w = anomaly_store_new(f->db.st, f->an);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	anomaly_store_free(f->w);
	anomaly_free(f->an);
	storefix_close(&f->db);
	free(f);
	return 0;
}

/* 2000 SYNs over the second from T: a window above. */
static void
flood_second(struct anomaly *a, int64_t t)
{
	struct packet	 pk;
	uint32_t	 src, dst = htonl(0xc6336410);
	int		 i;

	for (i = 0; i < 2000; i++) {
		memset(&pk, 0, sizeof(pk));
		pk.kind = PACKET_IP;
		pk.family = 4;
		src = htonl(0xcb007100 + (uint32_t)(i % 200));
		memcpy(pk.src, &src, 4);
		memcpy(pk.dst, &dst, 4);
		pk.proto = IPPROTO_TCP;
		pk.has_ports = 1;
		pk.sport = 40000;
		pk.dport = 80;
		pk.tcp_flags = PACKET_TCP_SYN;
		anomaly_packet(a, t + (int64_t)i / 2, 60, &pk);
	}
}

/* A flood's warning, its indicators and its end: rows, once written. */
static void
test_written(void **state)
{
	struct fixture	*f = *state;

	flood_second(f->an, T0);
	anomaly_tick(f->an, T0 + 1000);
	/* Decided, not written: nothing until the writer's turn. */
	assert_int_equal(storefix_count(&f->db,
	    "SELECT count(*) FROM warnings"), 0);
	anomaly_store_write(f->w);
	assert_int_equal(anomaly_events(f->an, NULL), 0);
	assert_int_equal(storefix_count(&f->db,
	    "SELECT count(*) FROM warnings WHERE id = 1"
	    " AND source = 'anomaly t' AND summary = 'syn-rate 2000/s above"
	    " 1000/s for 1s' AND ended_at IS NULL"), 1);
	assert_int_equal(storefix_count(&f->db, "SELECT count(*) FROM timeline"
	    " WHERE warning_id = 1 AND event = 'warning opened'"), 1);
	assert_int_equal(storefix_count(&f->db,
	    "SELECT packets FROM warning_indicators"
	    " WHERE warning_id = 1 AND kind = 'target'"
	    " AND value = '198.51.100.16'"), 2000);
	/* An empty queue writes nothing, not even a transaction. */
	anomaly_store_write(f->w);
	anomaly_tick(f->an, T0 + 3000);
	anomaly_store_write(f->w);
	assert_int_equal(storefix_count(&f->db,
	    "SELECT count(*) FROM warnings WHERE id = 1"
	    " AND ended_at IS NOT NULL"), 1);
	assert_int_equal(storefix_count(&f->db, "SELECT count(*) FROM timeline"
	    " WHERE warning_id = 1 AND event = 'warning ended'"), 1);
}

/*
 * An open scan's detail and its source's packets grow in their rows as
 * the scan goes on; its ports are written at its end.
 */
static void
test_scan_grows(void **state)
{
	struct fixture		*f = *state;
	struct anomaly_conf	 ac;
	struct anomaly		*an;
	struct anomaly_store	*w;
	struct packet		 pk;
	uint32_t		 src = htonl(0xc0000209);
	uint32_t		 dst = htonl(0xc6336410);
	int			 i;

	memset(&ac, 0, sizeof(ac));
	ac.name = (char *)(uintptr_t)"s";
	ac.interface = (char *)(uintptr_t)"lo";
	ac.window_ms = 1000;
	ac.end_ms = 2000;
	ac.th[ANOMALY_PORTS_PER_SOURCE].set = 1;
	ac.th[ANOMALY_PORTS_PER_SOURCE].above = 10;
	ac.th[ANOMALY_PORTS_PER_SOURCE].ms = 60000;
	an = anomaly_new(&ac);
	w = anomaly_store_new(f->db.st, an);
	for (i = 0; i < 1012; i++) {
		memset(&pk, 0, sizeof(pk));
		pk.kind = PACKET_IP;
		pk.family = 4;
		memcpy(pk.src, &src, 4);
		memcpy(pk.dst, &dst, 4);
		pk.proto = IPPROTO_TCP;
		pk.has_ports = 1;
		pk.sport = 40000;
		pk.dport = (uint16_t)(1 + i);
		pk.tcp_flags = PACKET_TCP_SYN;
		anomaly_packet(an, T0 + i, 60, &pk);
		if (i == 11)
			anomaly_store_write(w);
	}
	assert_int_equal(storefix_count(&f->db, "SELECT count(*) FROM warnings"
	    " WHERE detail LIKE '% in 11 packets'"), 1);
	anomaly_tick(an, T0 + 2000);
	anomaly_store_write(w);
	assert_int_equal(storefix_count(&f->db, "SELECT count(*) FROM warnings"
	    " WHERE detail LIKE '% in 1011 packets'"), 1);
	assert_int_equal(storefix_count(&f->db, "SELECT packets FROM"
	    " warning_indicators WHERE kind = 'source'"
	    " AND value = '192.0.2.9'"), 1011);
	anomaly_tick(an, T0 + 5000);
	anomaly_store_write(w);
	assert_int_equal(storefix_count(&f->db, "SELECT count(*) FROM"
	    " warning_indicators WHERE kind = 'port' AND value = '2-1012'"), 1);
	anomaly_store_free(w);
	anomaly_free(an);
}

/*
 * A flood that opens and ends between two writes: one transaction, its
 * indicators written once each, with their larger count.
 */
static void
test_open_and_end_at_once(void **state)
{
	struct fixture	*f = *state;

	flood_second(f->an, T0);
	flood_second(f->an, T0 + 1000);
	anomaly_tick(f->an, T0 + 4000);
	anomaly_store_write(f->w);
	assert_int_equal(storefix_count(&f->db, "SELECT count(*) FROM warnings"
	    " WHERE ended_at IS NOT NULL"), 1);
	/* Named at the opening with 2000 packets, at the end with 4000. */
	assert_int_equal(storefix_count(&f->db,
	    "SELECT packets FROM warning_indicators"
	    " WHERE warning_id = 1 AND kind = 'target'"
	    " AND value = '198.51.100.16'"), 4000);
	assert_int_equal(storefix_count(&f->db,
	    "SELECT count(*) FROM warning_indicators"
	    " WHERE warning_id = 1"), 7);
}

/*
 * The database refuses writes while the flood opens and ends: both are
 * held, the end naming the id the store chose for the warning, and
 * written back in order once the database accepts them.
 */
static void
test_held(void **state)
{
	struct fixture	*f = *state;
	int		 i;

	/* One before: the held warning's id is the store's next, 2. */
	flood_second(f->an, T0);
	anomaly_tick(f->an, T0 + 3000);
	anomaly_store_write(f->w);
	assert_int_equal(storefix_count(&f->db, "SELECT count(*) FROM warnings"
	    " WHERE ended_at IS NOT NULL"), 1);

	storefix_lock(&f->db);
	flood_second(f->an, T0 + 10000);
	anomaly_tick(f->an, T0 + 11000);
	anomaly_store_write(f->w);
	assert_true(store_failing(f->db.st));
	assert_int_equal(anomaly_open_episodes(f->an), 1);
	anomaly_tick(f->an, T0 + 13000);
	anomaly_store_write(f->w);
	assert_int_equal(anomaly_open_episodes(f->an), 0);
	storefix_unlock(&f->db);
	assert_int_equal(storefix_count(&f->db,
	    "SELECT count(*) FROM warnings"), 1);

	/*
	 * The next write tries the held ones first, a slice of time at a
	 * try: on a busy machine, more than one try.
	 */
	for (i = 0; i < 40 && store_failing(f->db.st); i++) {
		storefix_later();
		assert_int_equal(store_begin(f->db.st), 0);
		assert_int_equal(store_commit(f->db.st), 0);
	}
	assert_false(store_failing(f->db.st));
	assert_int_equal(storefix_count(&f->db,
	    "SELECT count(*) FROM warnings WHERE id = 2"
	    " AND ended_at IS NOT NULL"), 1);
	assert_int_equal(storefix_count(&f->db, "SELECT count(*) FROM timeline"
	    " WHERE warning_id = 2 AND event IN ('warning opened',"
	    " 'warning ended')"), 2);
	assert_int_equal(storefix_count(&f->db,
	    "SELECT count(*) FROM warning_indicators"
	    " WHERE warning_id = 2 AND kind = 'target'"), 1);
}

/*
 * The store refuses new changes (its held queue at its bound): the
 * warning is handed back, the block has no episode open, and the next
 * window above opens it again once the store takes changes.
 */
static void
test_refused(void **state)
{
	struct fixture	*f = *state;
	int64_t		 t = wall_ms();
	char		*big;
	int		 i;

	/* Its bound in bytes (32 MiB) is reached by a few big changes. */
	big = xcalloc(1, 1024 * 1024 + 1);
	memset(big, 'x', 1024 * 1024);
	storefix_lock(&f->db);
	for (i = 0; store_begin(f->db.st) == 0; i++) {
		assert_true(i < 64);
		assert_int_equal(store_timeline_add(f->db.st,
		    &(struct store_event){ .at = t + i, .event = "tick",
		    .actor = "test", .detail = big }), 0);
		assert_int_equal(store_commit(f->db.st), 0);
	}
	free(big);
	flood_second(f->an, T0);
	anomaly_tick(f->an, T0 + 1000);
	assert_int_equal(anomaly_open_episodes(f->an), 1);
	anomaly_store_write(f->w);
	assert_int_equal(anomaly_open_episodes(f->an), 0);
	storefix_unlock(&f->db);
	/* Stopping, the store writes back what it holds (test_store.c). */
	anomaly_store_free(f->w);
	store_close(f->db.st);
	assert_non_null(f->db.st = store_open(f->db.path));
	f->w = anomaly_store_new(f->db.st, f->an);
	assert_int_equal(storefix_count(&f->db, "SELECT count(*) FROM timeline"
	    " WHERE event = 'tick'"), i);
	flood_second(f->an, T0 + 1000);
	anomaly_tick(f->an, T0 + 2000);
	anomaly_store_write(f->w);
	assert_int_equal(storefix_count(&f->db,
	    "SELECT count(*) FROM warnings"), 1);
	assert_int_equal(storefix_count(&f->db, "SELECT count(*) FROM warnings"
	    " WHERE opened_at = (SELECT min(at) FROM timeline"
	    " WHERE event = 'warning opened')"), 1);
	assert_int_equal(anomaly_open_episodes(f->an), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_written, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scan_grows, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_open_and_end_at_once,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
	};

	log_init("test_anomaly_store", 1, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
