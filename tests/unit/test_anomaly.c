/*
 * test_anomaly.c: the counters' windows, holds and episodes, driven with
 * decoded packets and their times, recorded in a real database.
 */
#include <netinet/in.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "anomaly.h"
#include "anomaly_rules.h"
#include "log.h"
#include "packet.h"
#include "store.h"

#define T0	1795000000000LL		/* ms, on a window boundary */

struct fixture {
	char		 path[64];
	struct store	*st;
};

static int
setup(void **state)
{
	struct fixture	*f;
	int		 fd;

	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->path, sizeof(f->path), "/tmp/test_anomaly.XXXXXX");
	fd = mkstemp(f->path);
	assert_true(fd != -1);
	close(fd);
	f->st = store_open(f->path);
	assert_non_null(f->st);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	char		 p[80];

	store_close(f->st);
	unlink(f->path);
	snprintf(p, sizeof(p), "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->path);
	unlink(p);
	free(f);
	return 0;
}

/* One integer from the database. */
static long long
query(struct fixture *f, const char *sql)
{
	sqlite3		*db;
	sqlite3_stmt	*stmt;
	long long	 v = -1;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL),
	    SQLITE_OK);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		v = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return v;
}

static void
syn(struct packet *pk, uint32_t src, uint32_t dst, uint16_t dport)
{
	memset(pk, 0, sizeof(*pk));
	pk->kind = PACKET_IP;
	pk->family = 4;
	memcpy(pk->src, &src, 4);
	memcpy(pk->dst, &dst, 4);
	pk->proto = IPPROTO_TCP;
	pk->has_ports = 1;
	pk->sport = 40000;
	pk->dport = dport;
	pk->tcp_flags = PACKET_TCP_SYN;
}

/* N SYNs spread over one second starting at T. */
static void
second_of_syns(struct anomaly *a, int64_t t, int n)
{
	struct packet	 pk;
	int		 i;

	for (i = 0; i < n; i++) {
		syn(&pk, htonl(0xcb007100 + (uint32_t)(i % 200)),
		    htonl(0xc6336410), 80);
		anomaly_packet(a, t + (int64_t)i * 1000 / n, 60, &pk);
	}
}

static void
conf_syn(struct anomaly_conf *ac, int64_t hold, int64_t end)
{
	memset(ac, 0, sizeof(*ac));
	ac->name = (char *)(uintptr_t)"t";
	ac->interface = (char *)(uintptr_t)"lo";
	ac->window_ms = 1000;
	ac->end_ms = end;
	ac->th[ANOMALY_SYN_RATE].set = 1;
	ac->th[ANOMALY_SYN_RATE].above = 1000;
	ac->th[ANOMALY_SYN_RATE].ms = hold;
}

/* "above N/s for 3s" opens at the end of the third window, not before. */
static void
test_hold(void **state)
{
	struct fixture		*f = *state;
	struct anomaly_conf	 ac;
	struct anomaly		*a;
	int			 s;

	conf_syn(&ac, 3000, 2000);
	a = anomaly_new(f->st, &ac);
	for (s = 0; s < 3; s++)
		second_of_syns(a, T0 + s * 1000, 2000);
	/* The third window closes with the next packet, or time. */
	assert_int_equal(query(f, "SELECT count(*) FROM warnings"), 0);
	anomaly_tick(a, T0 + 3000);
	assert_int_equal(query(f, "SELECT count(*) FROM warnings"), 1);
	assert_int_equal(anomaly_open_episodes(a), 1);
	/* Still above: the same episode, no second warning. */
	second_of_syns(a, T0 + 3000, 2000);
	anomaly_tick(a, T0 + 4000);
	assert_int_equal(query(f, "SELECT count(*) FROM warnings"), 1);
	/* Calm for "end after 2s": ended at the last window above. */
	anomaly_tick(a, T0 + 5000);
	assert_true(query(f, "SELECT count(*) FROM warnings WHERE ended_at "
	    "IS NULL") == 1);
	anomaly_tick(a, T0 + 6000);
	assert_true(query(f, "SELECT count(*) FROM warnings WHERE ended_at "
	    "IS NOT NULL") == 1);
	/* The end is the last window above's end: T0 + 4 s. */
	assert_true(query(f, "SELECT CAST(round((julianday(ended_at) - "
	    "julianday(opened_at)) * 86400000) AS INTEGER) FROM warnings") ==
	    1000);
	assert_int_equal(anomaly_open_episodes(a), 0);
	assert_true(query(f, "SELECT count(*) FROM timeline WHERE "
	    "warning_id = 1 AND event = 'warning ended'") == 1);
	anomaly_free(a);
}

/* Two windows above, one below, two above: a hold of 3 never met. */
static void
test_hold_interrupted(void **state)
{
	struct fixture		*f = *state;
	struct anomaly_conf	 ac;
	struct anomaly		*a;

	conf_syn(&ac, 3000, 2000);
	a = anomaly_new(f->st, &ac);
	second_of_syns(a, T0, 2000);
	second_of_syns(a, T0 + 1000, 2000);
	second_of_syns(a, T0 + 2000, 500);
	second_of_syns(a, T0 + 3000, 2000);
	second_of_syns(a, T0 + 4000, 2000);
	anomaly_tick(a, T0 + 10000);
	assert_int_equal(query(f, "SELECT count(*) FROM warnings"), 0);
	anomaly_free(a);
}

/* Drops of the live capture: one warning per episode, and its end. */
static void
test_drops(void **state)
{
	struct fixture		*f = *state;
	struct anomaly_conf	 ac;
	struct anomaly		*a;
	struct packet		 pk;

	conf_syn(&ac, 3000, 2000);
	a = anomaly_new(f->st, &ac);
	syn(&pk, htonl(0xc0000201), htonl(0xc0000202), 80);
	anomaly_packet(a, T0, 60, &pk);
	anomaly_drops(a, T0 + 100, 1000, 0);
	assert_int_equal(query(f, "SELECT count(*) FROM warnings"), 0);
	anomaly_drops(a, T0 + 1000, 1000, 250);
	anomaly_drops(a, T0 + 2000, 1000, 10);
	assert_int_equal(query(f, "SELECT count(*) FROM warnings"), 1);
	assert_true(query(f, "SELECT count(*) FROM warnings WHERE summary = "
	    "'capture dropped 250 packets: the counters undercount'") == 1);
	anomaly_tick(a, T0 + 3000);
	assert_true(query(f, "SELECT count(*) FROM warnings WHERE ended_at "
	    "IS NULL") == 1);
	anomaly_tick(a, T0 + 5000);
	assert_true(query(f, "SELECT count(*) FROM warnings WHERE ended_at "
	    "IS NOT NULL") == 1);
	anomaly_drops(a, T0 + 6000, 1000, 5);
	assert_int_equal(query(f, "SELECT count(*) FROM warnings"), 2);
	anomaly_free(a);
}

/* One connection attempt from port SPORT and its SYN-ACK, at T and T2. */
static void
handshake(struct anomaly *a, int64_t t, int64_t t2, uint16_t sport)
{
	struct packet	 pk;
	uint32_t	 c = htonl(0xc000020a), srv = htonl(0xc6336410);

	syn(&pk, c, srv, 443);
	pk.sport = sport;
	anomaly_packet(a, t, 60, &pk);
	syn(&pk, srv, c, sport);
	pk.sport = 443;
	pk.tcp_flags = PACKET_TCP_SYN | PACKET_TCP_ACK;
	anomaly_packet(a, t2, 60, &pk);
}

/*
 * SYN-ACKs that answer the SYNs of the window before are not a negative
 * number of unanswered SYNs (nor, unsigned, a huge one).
 */
static void
test_synack_of_previous_window(void **state)
{
	struct fixture		*f = *state;
	struct anomaly_conf	 ac;
	struct anomaly		*a;
	struct packet		 pk;
	int			 i;

	conf_syn(&ac, 1000, 2000);
	ac.th[ANOMALY_SYN_RATE].set = 0;
	ac.th[ANOMALY_SYN_UNANSWERED].set = 1;
	ac.th[ANOMALY_SYN_UNANSWERED].above = 50;
	ac.th[ANOMALY_SYN_UNANSWERED].ms = 1000;
	a = anomaly_new(f->st, &ac);
	/* 19 SYNs late in the first window, answered in the second. */
	for (i = 0; i < 19; i++) {
		syn(&pk, htonl(0xc000020a), htonl(0xc6336410), 443);
		pk.sport = (uint16_t)(30000 + i);
		anomaly_packet(a, T0 + 900 + i, 60, &pk);
	}
	for (i = 0; i < 19; i++) {
		syn(&pk, htonl(0xc6336410), htonl(0xc000020a),
		    (uint16_t)(30000 + i));
		pk.sport = 443;
		pk.tcp_flags = PACKET_TCP_SYN | PACKET_TCP_ACK;
		anomaly_packet(a, T0 + 1000 + i, 60, &pk);
	}
	for (i = 0; i < 20; i++)
		handshake(a, T0 + 1100 + i, T0 + 1101 + i,
		    (uint16_t)(31000 + i));
	anomaly_tick(a, T0 + 5000);
	assert_int_equal(query(f, "SELECT count(*) FROM warnings"), 0);
	anomaly_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hold, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hold_interrupted, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_drops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_synack_of_previous_window,
		    setup, teardown),
	};

	log_init("test_anomaly", 1, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
