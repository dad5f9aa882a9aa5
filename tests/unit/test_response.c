/*
 * test_response.c: the response-time history on a real store: a roll-up
 * turns minutes into the hour they add up to, prunes by age, and a
 * simulated year of it stays within the size the README states.
 *
 * The year is fast-forwarded: the hours the roll-up would have written
 * before the last days are inserted as they stand, the last days as
 * minutes, and then the roll-up runs over every check with a "now" of
 * its own.  RTOWATCH_HISTORY_CHECKS sets how many checks (20 here; the
 * README's figure is from tests/bench/history_size.sh's 1,000), and
 * RTOWATCH_HISTORY_DIR where the file goes (tmpfs by default).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "log.h"
#include "store.h"
#include "store_int.h"
#include "util.h"

#include "storefix.h"

/*
 * The README's bound: bytes of the file a check keeps a year, at the
 * defaults (minutes for 7 days, hours for 400), buckets of a minute.
 */
#define RESPONSE_BYTES_PER_CHECK_YEAR	(900 * 1024)

#define MIN	60
#define HOUR	3600
#define DAY	86400LL
#define T0	1735689600LL	/* 2025-01-01T00:00:00Z */

static const struct store_response_keep keep = {
	.short_span = MIN,
	.long_span = HOUR,
	.short_keep = 7 * DAY,
	.long_keep = 400 * DAY,
};

static int
setup(void **state)
{
	static struct storefix	 db;

	if (storefix_open(&db, "response") == -1)
		return -1;
	*state = &db;
	return 0;
}

static int
teardown(void **state)
{
	storefix_close(*state);
	return 0;
}

static void
add(struct store *st, const char *check, int64_t span, int64_t at,
    int64_t ok, int64_t failed, int64_t lo, int64_t hi, int64_t sum)
{
	struct store_response	 r = {
		.system = "web", .check = check, .span = span, .at = at,
		.ok = ok, .failed = failed, .rtt_min = lo, .rtt_max = hi,
		.rtt_sum = sum, .cause = failed > 0 ? "timeout" : NULL
	};

	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_response_add(st, &r, 1), 0);
	assert_int_equal(store_commit(st), 0);
}

/* Run the roll-up over every check, as of NOW. */
static void
rollup_all(struct store *st, int64_t now, int batch)
{
	int64_t	 cursor = 0;
	int	 rc, turns = 0;

	while ((rc = store_response_rollup(st, now, &keep, batch,
	    &cursor)) == 0)
		assert_true(++turns < 1000000);
	assert_int_equal(rc, 1);
}

/* Three minutes of an hour become one hour: sums, least, greatest. */
static void
test_rollup(void **state)
{
	struct storefix	*db = *state;
	int64_t		 h = T0 + 10 * HOUR;

	add(db->st, "tcp a", MIN, h, 6, 0, 3, 9, 30);
	add(db->st, "tcp a", MIN, h + MIN, 4, 2, 2, 5, 14);
	add(db->st, "tcp a", MIN, h + 2 * MIN, 0, 6, 0, 0, 0);
	/* The same minute again (a reload): merged, not a second row. */
	add(db->st, "tcp a", MIN, h + MIN, 1, 0, 1, 1, 1);
	add(db->st, "tcp a", MIN, h + HOUR, 5, 0, 4, 4, 20);
	assert_int_equal(storefix_count(db, "SELECT ok * 10000 + rtt_min *"
	    " 1000 + rtt_sum FROM response_history WHERE at = 1735689600 +"
	    " 36000 + 60"), 5 * 10000 + 1 * 1000 + 15);
	assert_int_equal(storefix_count(db, "SELECT count(*) FROM"
	    " response_history"), 4);

	/* 7 days and a half hour later: the first hour only is rolled. */
	rollup_all(db->st, h + HOUR + 7 * DAY + HOUR / 2, 1);
	assert_int_equal(storefix_count(db, "SELECT count(*) FROM"
	    " response_history WHERE span = 60"), 1);
	assert_int_equal(storefix_count(db, "SELECT count(*) FROM"
	    " response_history WHERE span = 3600"), 1);
	assert_int_equal(storefix_count(db, "SELECT ok FROM response_history"
	    " WHERE span = 3600"), 11);
	assert_int_equal(storefix_count(db, "SELECT failed FROM"
	    " response_history WHERE span = 3600"), 8);
	assert_int_equal(storefix_count(db, "SELECT rtt_min FROM"
	    " response_history WHERE span = 3600"), 1);
	assert_int_equal(storefix_count(db, "SELECT rtt_max FROM"
	    " response_history WHERE span = 3600"), 9);
	assert_int_equal(storefix_count(db, "SELECT rtt_sum FROM"
	    " response_history WHERE span = 3600"), 45);

	/* Past the hours' age: nothing is left. */
	rollup_all(db->st, h + 2 * HOUR + 401 * DAY, 7);
	assert_int_equal(storefix_count(db, "SELECT count(*) FROM"
	    " response_history"), 0);
}

/*
 * The database refusing writes (an admin's lock): the buckets are held
 * with the rest and written, in order, once it takes them again.
 */
static void
test_held(void **state)
{
	struct storefix	*db = *state;

	storefix_lock(db);
	add(db->st, "tcp a", MIN, T0, 1, 0, 5, 5, 5);
	assert_true(store_holding(db->st));
	storefix_unlock(db);
	storefix_later();
	add(db->st, "tcp a", MIN, T0 + MIN, 1, 0, 6, 6, 6);
	assert_false(store_holding(db->st));
	assert_int_equal(storefix_count(db, "SELECT sum(rtt_sum) FROM"
	    " response_history"), 11);
}

static off_t
file_size(const char *path)
{
	struct stat	 sb;
	char		 p[128];
	off_t		 n;

	assert_int_equal(stat(path, &sb), 0);
	n = sb.st_size;
	snprintf(p, sizeof(p), "%s-wal", path);
	if (stat(p, &sb) == 0)
		n += sb.st_size;
	return n;
}

/*
 * A year of N checks: every check probed every 10 s, one in twenty
 * failing; round trips of a few to a few hundred ms.
 */
static void
test_year_size(void **state)
{
	struct storefix	*db = *state;
	sqlite3		*sq = store_sqlite(db->st);
	sqlite3_stmt	*ins;
	const char	*s;
	char		 name[64];
	int64_t		 end = T0 + 365 * DAY, t, ok, lo, hi, per;
	off_t		 before, after;
	int		 n, c;
	unsigned	 seed = 1;
	struct timespec	 t1, t2;

	n = (s = getenv("RTOWATCH_HISTORY_CHECKS")) != NULL ? atoi(s) : 20;
	assert_true(n > 0);
	assert_int_equal(sqlite3_exec(sq, "PRAGMA wal_checkpoint(TRUNCATE)",
	    NULL, NULL, NULL), SQLITE_OK);
	before = file_size(db->path);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (c = 0; c < n; c++) {
		snprintf(name, sizeof(name), "tcp 192.0.2.%d port 443", c);
		add(db->st, name, MIN, T0, 1, 0, 1, 1, 1);
	}
	assert_int_equal(sqlite3_prepare_v2(sq, "INSERT OR REPLACE INTO"
	    " response_history VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", -1, &ins,
	    NULL), SQLITE_OK);
	/* The hours the roll-up wrote, then 8 days of minutes. */
	for (t = T0; t < end; ) {
		per = t < end - 8 * DAY ? HOUR : MIN;
		assert_int_equal(sqlite3_exec(sq, "BEGIN", NULL, NULL, NULL),
		    SQLITE_OK);
		for (c = 1; c <= n; c++) {
			ok = per / 10;
			seed = seed * 1103515245 + 12345;
			if (seed % 20 == 0)
				ok -= per / 100;
			lo = 2 + seed % 7;
			hi = lo + seed % 300;
			sqlite3_bind_int(ins, 1, c);
			sqlite3_bind_int64(ins, 2, per);
			sqlite3_bind_int64(ins, 3, t);
			sqlite3_bind_int64(ins, 4, ok);
			sqlite3_bind_int64(ins, 5, per / 10 - ok);
			sqlite3_bind_int64(ins, 6, lo);
			sqlite3_bind_int64(ins, 7, hi);
			sqlite3_bind_int64(ins, 8, ok * (lo + hi) / 2);
			if (ok < per / 10)
				sqlite3_bind_text(ins, 9, "timeout", -1,
				    SQLITE_STATIC);
			else
				sqlite3_bind_null(ins, 9);
			assert_int_equal(sqlite3_step(ins), SQLITE_DONE);
			sqlite3_reset(ins);
		}
		assert_int_equal(sqlite3_exec(sq, "COMMIT", NULL, NULL, NULL),
		    SQLITE_OK);
		t += per;
	}
	sqlite3_finalize(ins);
	/* A year on: the minutes older than 7 days become hours. */
	rollup_all(db->st, end, 200);
	assert_int_equal(storefix_count(db, "SELECT count(*) FROM"
	    " response_history WHERE span = 60 AND at < 1735689600 + 358 *"
	    " 86400"), 0);
	assert_true(storefix_count(db, "SELECT count(*) FROM"
	    " response_history WHERE span = 3600 AND at >= 1735689600 + 357 *"
	    " 86400") >= (int64_t)n * 24);
	assert_int_equal(sqlite3_exec(sq, "PRAGMA wal_checkpoint(TRUNCATE)",
	    NULL, NULL, NULL), SQLITE_OK);
	after = file_size(db->path);
	clock_gettime(CLOCK_MONOTONIC, &t2);
	per = (int64_t)(after - before) / n;
	printf("history: %d checks, a simulated year: %lld rows, %lld bytes,"
	    " %lld bytes a check (bound %d), %.1f s\n", n,
	    (long long)storefix_count(db, "SELECT count(*) FROM"
	    " response_history"), (long long)(after - before),
	    (long long)per, RESPONSE_BYTES_PER_CHECK_YEAR,
	    (double)(t2.tv_sec - t1.tv_sec) +
	    (double)(t2.tv_nsec - t1.tv_nsec) / 1e9);
	assert_true(per <= RESPONSE_BYTES_PER_CHECK_YEAR);
}

/*
 * What history.c's flush costs the loop: a minute's buckets of 10,000
 * checks, their rows new, in one transaction.  Printed for the README;
 * the bound only catches a flush gone quadratic.
 */
static void
test_flush_time(void **state)
{
	struct storefix		*db = *state;
	static struct store_response	 r[10000];
	static char			 name[10000][40];
	struct timespec			 t1, t2;
	double				 s;
	int				 c, round;

	for (c = 0; c < 10000; c++) {
		snprintf(name[c], sizeof(name[c]), "tcp 192.0.2.%d port %d",
		    c % 250, 1000 + c);
		r[c].system = "web";
		r[c].check = name[c];
		r[c].span = MIN;
		r[c].ok = 6;
		r[c].failed = c % 7 == 0;
		r[c].rtt_min = 3;
		r[c].rtt_max = 40;
		r[c].rtt_sum = 90;
		r[c].cause = c % 7 == 0 ? "timeout" : NULL;
	}
	for (round = 0; round < 2; round++) {
		for (c = 0; c < 10000; c++)
			r[c].at = T0 + round * MIN;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		assert_int_equal(store_begin(db->st), 0);
		assert_int_equal(store_response_add_many(db->st, r, 10000,
		    round == 0), 0);
		assert_int_equal(store_commit(db->st), 0);
		clock_gettime(CLOCK_MONOTONIC, &t2);
		s = (double)(t2.tv_sec - t1.tv_sec) +
		    (double)(t2.tv_nsec - t1.tv_nsec) / 1e9;
		printf("history: a flush of 10,000 checks' buckets (%s): "
		    "%.0f ms\n", round == 0 ? "their rows new" : "known",
		    s * 1000);
		assert_true(s < 30);
	}
	assert_int_equal(storefix_count(db, "SELECT count(*) FROM"
	    " response_history"), 20000);
	assert_int_equal(storefix_count(db, "SELECT count(*) FROM"
	    " response_history WHERE cause = 'timeout' AND failed = 1 AND"
	    " rtt_sum = 90"), 2 * 1429);
}

/*
 * The rows' text is encoded a bucket at a time (store_response.c): names
 * with quotes, backslashes and non-ASCII characters come back as they
 * went in, several buckets in one call, a bucket without a success has
 * no response times, and a name that is not UTF-8 fails the call.
 */
static void
test_names(void **state)
{
	struct storefix		*db = *state;
	struct store_response	 r[3] = {
		{ .system = "we\"b\\ 資安", .check = "http https://x/?a=\"1\"",
		  .span = MIN, .at = T0, .ok = 2, .rtt_min = 3, .rtt_max = 7,
		  .rtt_sum = 10 },
		{ .system = "we\"b\\ 資安", .check = "tcp 192.0.2.1 port 22",
		  .span = MIN, .at = T0, .failed = 4, .cause = "refused" },
		{ .system = "plain", .check = "tab\there", .span = MIN,
		  .at = T0 + MIN, .ok = 1, .rtt_min = 5, .rtt_max = 5,
		  .rtt_sum = 5 },
	};
	struct store_response	 bad = r[2];

	assert_int_equal(store_begin(db->st), 0);
	assert_int_equal(store_response_add_many(db->st, r, 3, 1), 0);
	assert_int_equal(store_commit(db->st), 0);
	assert_int_equal(storefix_count(db, "SELECT count(*) FROM"
	    " response_history h JOIN response_checks c ON c.id = h.check_id"
	    " WHERE c.system = 'we\"b\\ 資安'"
	    " AND c.name = 'http https://x/?a=\"1\"' AND h.ok = 2"
	    " AND h.rtt_min = 3 AND h.rtt_max = 7 AND h.rtt_sum = 10"
	    " AND h.cause IS NULL"), 1);
	assert_int_equal(storefix_count(db, "SELECT count(*) FROM"
	    " response_history h JOIN response_checks c ON c.id = h.check_id"
	    " WHERE c.system = 'we\"b\\ 資安' AND h.failed = 4"
	    " AND h.rtt_min IS NULL AND h.rtt_sum IS NULL"
	    " AND h.cause = 'refused'"), 1);
	assert_int_equal(storefix_count(db, "SELECT count(*) FROM"
	    " response_checks WHERE name = 'tab' || char(9) || 'here'"), 1);
	bad.check = "not \xff UTF-8";
	assert_int_equal(store_begin(db->st), 0);
	assert_int_equal(store_response_add_many(db->st, &bad, 1, 1), -1);
	store_rollback(db->st);
	assert_int_equal(storefix_count(db, "SELECT count(*) FROM"
	    " response_history"), 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rollup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_time, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_year_size, setup,
		    teardown),
	};

	log_init("test_response", 1, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
