/*
 * test_store.c: the store holds what the database refuses, in order, and
 * writes it back with its ids and its hash chain as they were decided.
 * Another connection holding BEGIN EXCLUSIVE stands for an admin's shell.
 */
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

#include "chain.h"
#include "log.h"
#include "store.h"
#include "store_int.h"
#include "util.h"

#include "storefix.h"

struct fixture {
	struct storefix		 db;
};

static int
setup(void **state)
{
	struct fixture	*f;

	f = xcalloc(1, sizeof(*f));
	if (storefix_open(&f->db, "store") == -1)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	storefix_close(&f->db);
	free(f);
	return 0;
}

/* Every row's prev_hash is the hash of the row before it. */
static void
assert_chain(struct fixture *f)
{
	assert_int_equal(storefix_count(&f->db,
	    "SELECT count(*) FROM timeline t"
	    " JOIN timeline p ON p.id = (SELECT max(id) FROM timeline"
	    "  WHERE id < t.id) WHERE t.prev_hash != p.hash"), 0);
	assert_int_equal(storefix_count(&f->db,
	    "SELECT max(id) = count(*) FROM timeline"),
	    1);
}

static void
test_held_in_order(void **state)
{
	struct fixture			*f = *state;
	struct store_new_incident	 ni;
	struct store_health		 h;
	int64_t				 outage, incident, t = wall_ms();

	memset(&ni, 0, sizeof(ni));
	ni.system = "portal";
	ni.owner = "計算機中心";
	ni.rto_ms = 3600000;
	ni.level = 1;
	ni.started_at = t - 400;
	ni.detected_at = ni.opened_at = t;
	ni.notify_due_at = t + 3600000;
	ni.cause = "refused";

	/* One written before the fault: the chain goes on from it. */
	assert_int_equal(store_begin(f->db.st), 0);
	assert_int_equal(store_timeline_add(f->db.st, &(struct store_event){
	    .at = t - 1000, .event = "before", .actor = "test",
	    .detail = "written" }), 0);
	assert_int_equal(store_commit(f->db.st), 0);
	assert_false(store_failing(f->db.st));

	storefix_lock(&f->db);
	assert_int_equal(store_begin(f->db.st), 0);
	assert_int_equal(store_outage_open(f->db.st, &ni, &outage, &incident),
	    0);
	assert_int_equal(store_commit(f->db.st), 0);
	assert_true(outage == 1 && incident == 1);
	assert_true(store_failing(f->db.st));
	assert_int_equal(store_begin(f->db.st), 0);
	assert_int_equal(store_outage_end(f->db.st, &(struct store_restore){
	    .outage_id = outage, .incident_id = incident,
	    .restored_at = t + 200, .within_rto = 1, .availability = 1,
	    .level = 1, .major = 0, .detail = "back" }), 0);
	assert_int_equal(store_commit(f->db.st), 0);
	/* A write outside a transaction is one of its own, held too. */
	assert_int_equal(store_notification_queue(f->db.st,
	    &(struct store_notification){ .incident_id = incident,
	    .at = t + 250, .recipient = "unit-head", .event = "restored",
	    .subject = "subject", .body = "body" }), 0);
	/* A rolled back one takes nothing with it: ids, chain link. */
	assert_int_equal(store_begin(f->db.st), 0);
	assert_int_equal(store_timeline_add(f->db.st, &(struct store_event){
	    .incident_id = incident, .at = t + 300, .event = "gone",
	    .actor = "test", .detail = "" }), 0);
	store_rollback(f->db.st);
	store_health(f->db.st, &h);
	assert_true(h.failing && h.held == 3 && h.since != 0);
	assert_string_equal(h.error, "database is locked");
	assert_int_equal(storefix_count(&f->db,
	    "SELECT count(*) FROM incidents"), 0);

	storefix_unlock(&f->db);
	storefix_later();
	/* The next write tries the held ones first, oldest first. */
	assert_int_equal(store_begin(f->db.st), 0);
	assert_int_equal(store_timeline_add(f->db.st, &(struct store_event){
	    .incident_id = incident, .at = t + 400, .event = "after",
	    .actor = "test", .detail = "" }), 0);
	assert_int_equal(store_commit(f->db.st), 0);
	assert_false(store_failing(f->db.st));
	assert_int_equal(storefix_count(&f->db,
	    "SELECT count(*) FROM outages WHERE id = 1"
	    " AND incident_id = 1 AND ended_at IS NOT NULL"), 1);
	assert_int_equal(storefix_count(&f->db, "SELECT count(*) FROM incidents"
	    " WHERE status = 'restored'"), 1);
	assert_int_equal(storefix_count(&f->db,
	    "SELECT count(*) FROM notifications"), 1);
	/* before, opened, restored, store recovered, after. */
	assert_int_equal(storefix_count(&f->db,
	    "SELECT count(*) FROM timeline"), 5);
	assert_int_equal(storefix_count(&f->db, "SELECT id FROM timeline"
	    " WHERE event = 'store recovered'"), 4);
	assert_int_equal(storefix_count(&f->db, "SELECT count(*) FROM timeline"
	    " WHERE event = 'gone'"), 0);
	assert_chain(f);
}

/* Commits on the store's own connection, to tell a group from many. */
static int
count_commit(void *arg)
{
	(*(int *)arg)++;
	return 0;
}

/*
 * At the bound new changes are refused, and the held ones kept.
 * Stopping, the 10,000 are written in groups, a few hundred changes to a
 * commit: one synced commit each takes longer than the 3 s the stop
 * gives them on a real disk, or on tmpfs under a loaded ASan build.  The
 * count of commits says which, however fast the machine is.
 */
static void
test_bound(void **state)
{
	struct fixture		*f = *state;
	struct store_health	 h;
	int64_t			 t = wall_ms();
	int			 i, commits = 0;

	storefix_lock(&f->db);
	for (i = 0; i < 10000; i++) {
		assert_int_equal(store_begin(f->db.st), 0);
		assert_int_equal(store_timeline_add(f->db.st,
		    &(struct store_event){ .at = t + i, .event = "tick",
		    .actor = "test", .detail = "" }), 0);
		assert_int_equal(store_commit(f->db.st), 0);
	}
	assert_int_equal(store_begin(f->db.st), -1);
	store_health(f->db.st, &h);
	assert_true(h.held == 10000 && h.refused == 1);
	storefix_unlock(&f->db);
	/*
	 * The loop writes them back a slice at a time; stopping, the store
	 * writes whatever is left.
	 */
	storefix_later();
	assert_int_equal(store_begin(f->db.st), 0);
	assert_int_equal(store_commit(f->db.st), 0);
	store_health(f->db.st, &h);
	assert_true(h.held > 1000);
	sqlite3_commit_hook(store_sqlite(f->db.st), count_commit, &commits);
	store_close(f->db.st);
	f->db.st = store_open(f->db.path);
	assert_non_null(f->db.st);
	assert_false(store_failing(f->db.st));
	assert_int_equal(storefix_count(&f->db, "SELECT count(*) FROM timeline"
	    " WHERE event = 'tick'"), 10000);
	/* At most 500 to a commit, and the line that says it is over. */
	assert_in_range(commits, 2, 10000 / 500 + 2);
	assert_int_equal(storefix_count(&f->db, "SELECT count(*) FROM timeline"
	    " WHERE event = 'store recovered'"), 1);
	assert_int_equal(storefix_count(&f->db,
	    "SELECT count(*) FROM (SELECT at, lag(at)"
	    " OVER (ORDER BY id) AS prev FROM timeline WHERE event = 'tick')"
	    " WHERE at < prev"), 0);
	assert_chain(f);
}

/*
 * The binder: each type letter binds what it says, and a write held and
 * written back (its expanded SQL replayed) stores the same row as one
 * written at once: NULLs, a quote in text, a time, a 64-bit number.
 */
static void
test_binder(void **state)
{
	struct fixture	*f = *state;
	int64_t		 t = wall_ms();
	char		 when[TIME_STRLEN], sql[512];
	int		 i;

	assert_int_equal(sqlite3_exec(f->db.other, "CREATE TABLE bind_test"
	    " (n INTEGER, big INTEGER, ref INTEGER, txt TEXT, none TEXT,"
	    " at TEXT, never TEXT)", NULL, NULL, NULL), SQLITE_OK);
	for (i = 0; i < 2; i++) {
		if (i == 1)
			storefix_lock(&f->db);
		assert_int_equal(store_run(f->db.st, "INSERT INTO bind_test"
		    " VALUES (?, ?, ?, ?, ?, ?, ?)", "iIJttTT", -7,
		    (int64_t)1 << 40, (int64_t)0, "it's", (const char *)NULL,
		    t, (int64_t)0), 0);
		if (i == 1) {
			assert_true(store_holding(f->db.st));
			storefix_unlock(&f->db);
			storefix_later();
			assert_int_equal(store_begin(f->db.st), 0);
			assert_int_equal(store_commit(f->db.st), 0);
			assert_false(store_holding(f->db.st));
		}
	}
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM bind_test"
	    " WHERE n = -7 AND big = 1099511627776 AND typeof(big) ="
	    " 'integer' AND ref IS NULL AND txt = 'it''s' AND none IS NULL"
	    " AND at = '%s' AND never IS NULL",
	    time_fmt(t, when, sizeof(when)));
	assert_int_equal(storefix_count(&f->db, sql), 2);
}

/* One change of a group: a timeline row AT, EVENT. */
static void
group_change(struct fixture *f, int64_t at, const char *event)
{
	assert_int_equal(store_begin(f->db.st), 0);
	assert_int_equal(store_timeline_add(f->db.st, &(struct store_event){
	    .at = at, .event = event, .actor = "test", .detail = "" }), 0);
	assert_int_equal(store_commit(f->db.st), 0);
}

/*
 * A group is one transaction: nothing is seen before its commit, a change
 * rolled back in it takes only itself (its ids, its chain link) with it.
 */
static void
test_group(void **state)
{
	struct fixture	*f = *state;
	int64_t		 t = wall_ms();

	store_group_begin(f->db.st);
	group_change(f, t, "one");
	assert_int_equal(store_begin(f->db.st), 0);
	assert_int_equal(store_timeline_add(f->db.st, &(struct store_event){
	    .at = t + 1, .event = "gone", .actor = "test", .detail = "" }),
	    0);
	store_rollback(f->db.st);
	group_change(f, t + 2, "two");
	assert_int_equal(storefix_count(&f->db,
	    "SELECT count(*) FROM timeline"), 0);
	store_group_commit(f->db.st);
	assert_false(store_failing(f->db.st));
	assert_int_equal(storefix_count(&f->db, "SELECT count(*) FROM timeline"
	    " WHERE event IN ('one', 'two')"), 2);
	assert_int_equal(storefix_count(&f->db, "SELECT count(*) FROM timeline"
	    " WHERE event = 'gone'"), 0);
	assert_chain(f);
}

/*
 * The database refuses a write in the middle of a group: the changes
 * already made in it are not lost with its rollback but held, in order,
 * with the one refused and those after it, and all are written once it
 * accepts writes again.
 */
static void
test_group_refused(void **state)
{
	struct fixture	*f = *state;
	int64_t		 t = wall_ms();

	group_change(f, t - 1000, "before");
	store_group_begin(f->db.st);
	group_change(f, t, "one");
	group_change(f, t + 1, "two");
	/* A read-only file system, say (SQLITE_READONLY: it passes). */
	assert_int_equal(sqlite3_exec(store_sqlite(f->db.st),
	    "PRAGMA query_only = 1", NULL, NULL, NULL), SQLITE_OK);
	group_change(f, t + 2, "three");
	assert_true(store_holding(f->db.st));
	group_change(f, t + 3, "four");
	store_group_commit(f->db.st);
	assert_true(store_failing(f->db.st));
	assert_int_equal(storefix_count(&f->db, "SELECT count(*) FROM timeline"),
	    1);

	assert_int_equal(sqlite3_exec(store_sqlite(f->db.st),
	    "PRAGMA query_only = 0", NULL, NULL, NULL), SQLITE_OK);
	storefix_later();
	/* The next group writes the held ones first, oldest first. */
	store_group_begin(f->db.st);
	group_change(f, t + 4, "after");
	store_group_commit(f->db.st);
	assert_false(store_failing(f->db.st));
	assert_int_equal(storefix_count(&f->db, "SELECT count(*) FROM timeline"
	    " WHERE event IN ('one', 'two', 'three', 'four', 'after')"), 5);
	assert_int_equal(storefix_count(&f->db,
	    "SELECT count(*) FROM (SELECT at, lag(at)"
	    " OVER (ORDER BY id) AS prev FROM timeline WHERE event IN"
	    " ('one', 'two', 'three', 'four', 'after')) WHERE at < prev"), 0);
	assert_int_equal(storefix_count(&f->db, "SELECT count(*) FROM timeline"
	    " WHERE event = 'store recovered'"), 1);
	assert_chain(f);
}

/*
 * Stopping, a held change that can never be written (its table is gone)
 * is rolled back to its savepoint and dropped, as it would be alone; the
 * changes of its group before and after it are written, in order.
 */
static void
test_final_drop(void **state)
{
	struct fixture	*f = *state;
	int64_t		 t = wall_ms();

	assert_int_equal(sqlite3_exec(f->db.other, "CREATE TABLE drop_test"
	    " (n INTEGER)", NULL, NULL, NULL), SQLITE_OK);
	/* Written once, so that the store knows the table. */
	assert_int_equal(store_run(f->db.st, "INSERT INTO drop_test VALUES"
	    " (?)", "i", 1), 0);
	storefix_lock(&f->db);
	group_change(f, t, "first");
	assert_int_equal(store_run(f->db.st, "INSERT INTO drop_test VALUES"
	    " (?)", "i", 2), 0);
	group_change(f, t + 1, "second");
	assert_true(store_holding(f->db.st));
	assert_int_equal(sqlite3_exec(f->db.other, "DROP TABLE drop_test",
	    NULL, NULL, NULL), SQLITE_OK);
	storefix_unlock(&f->db);
	store_close(f->db.st);
	f->db.st = store_open(f->db.path);
	assert_non_null(f->db.st);
	assert_int_equal(storefix_count(&f->db, "SELECT count(*) FROM timeline"
	    " WHERE event = 'first' AND id < (SELECT id FROM timeline"
	    "  WHERE event = 'second')"), 1);
	assert_int_equal(storefix_count(&f->db, "SELECT count(*) FROM timeline"
	    " WHERE event = 'store recovered'"), 1);
	assert_chain(f);
}

/*
 * The history's buckets, held: the transaction keeps their text and the
 * call that writes it (store_call), counted at its size against the
 * bound, and written back in order once the database takes writes.
 */
static void
test_history_held(void **state)
{
	struct fixture		*f = *state;
	struct store_health	 h;
	struct store_response	 r[3];
	static const char *const checks[] = { "tcp 192.0.2.1 port 80",
	    "tcp 192.0.2.1 port 443", "icmp 192.0.2.1 \"計算機\"" };
	int64_t			 at = 1735689600, t = wall_ms();
	int			 i, m;

	for (m = 0; m < 3; m++) {
		for (i = 0; i < 3; i++)
			r[i] = (struct store_response){ .system = "portal",
			    .check = checks[i], .span = 60, .at = at + 60 * m,
			    .ok = 10 * m + i, .failed = 1, .rtt_min = 1,
			    .rtt_max = 9, .rtt_sum = 20, .cause = "timeout" };
		/* The first minute written, the next two held. */
		if (m == 1)
			storefix_lock(&f->db);
		assert_int_equal(store_begin(f->db.st), 0);
		assert_int_equal(store_response_add_many(f->db.st, r, 3, 1),
		    0);
		assert_int_equal(store_commit(f->db.st), 0);
	}
	store_health(f->db.st, &h);
	assert_true(h.failing && h.held == 2);
	/* The text of three rows, not a notification's 512 bytes each. */
	assert_true(h.held_bytes > 2 * 3 * 40);
	assert_int_equal(storefix_count(&f->db,
	    "SELECT count(*) FROM response_history"), 3);

	storefix_unlock(&f->db);
	storefix_later();
	assert_int_equal(store_begin(f->db.st), 0);
	assert_int_equal(store_timeline_add(f->db.st, &(struct store_event){
	    .at = t, .event = "after", .actor = "test", .detail = "" }), 0);
	assert_int_equal(store_commit(f->db.st), 0);
	assert_false(store_failing(f->db.st));
	assert_int_equal(storefix_count(&f->db,
	    "SELECT count(*) FROM response_checks"), 3);
	assert_int_equal(storefix_count(&f->db,
	    "SELECT count(*) FROM response_history"), 9);
	/* Each minute's rows as they were given: 0+1+2, 10+11+12, 20+... */
	for (m = 0; m < 3; m++) {
		char	sql[160];

		snprintf(sql, sizeof(sql), "SELECT sum(ok) FROM "
		    "response_history WHERE at = %lld", (long long)(at +
		    60 * m));
		assert_int_equal(storefix_count(&f->db, sql), 30 * m + 3);
	}
	assert_int_equal(storefix_count(&f->db, "SELECT count(*) FROM "
	    "response_history h JOIN response_checks c ON c.id = h.check_id"
	    " WHERE c.name LIKE '%計算機%'"), 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_held_in_order, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_binder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_final_drop, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_history_held, setup,
		    teardown),
	};

	log_init("test_store", 1, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
