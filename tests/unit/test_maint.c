/*
 * test_maint.c: maintenance windows in the local zone (Asia/Taipei,
 * UTC+8, no DST), daily, weekly and once, across midnight.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "maint.h"
#include "util.h"

/* UTC ISO time into wall ms. */
static int64_t
at(const char *iso)
{
	int64_t	 t;

	assert_int_equal(time_parse(iso, &t), 0);
	return t;
}

static int
setup(void **state)
{
	(void)state;
	setenv("TZ", "Asia/Taipei", 1);
	tzset();
	return 0;
}

static void
test_daily_across_midnight(void **state)
{
	struct maint_conf	 m;
	int64_t			 b, e;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.repeat = MAINT_DAILY;
	assert_int_equal(maint_parse_clock("23:30", &m.secs), 0);
	m.length_ms = 60 * 60 * 1000;	/* 23:30-00:30 Taipei */
	/* 00:10 Taipei on the 2nd is 16:10Z on the 1st. */
	assert_int_equal(maint_window_at(&m, at("2026-12-01T16:10:00Z"),
	    &b, &e), 1);
	assert_true(b == at("2026-12-01T15:30:00Z"));
	assert_true(e == at("2026-12-01T16:30:00Z"));
	assert_int_equal(maint_window_at(&m, at("2026-12-01T16:30:00Z"),
	    &b, &e), 0);	/* the end is outside */
	assert_int_equal(maint_window_at(&m, at("2026-12-01T15:29:59Z"),
	    &b, &e), 0);
}

static void
test_weekly(void **state)
{
	struct maint_conf	 m;
	int64_t			 b, e;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.repeat = MAINT_WEEKLY;
	m.wday = maint_parse_day("Sunday");
	assert_int_equal(m.wday, 0);
	assert_int_equal(maint_parse_clock("02:00", &m.secs), 0);
	m.length_ms = 2 * 60 * 60 * 1000;
	/* Sunday 2026-11-29 03:00 Taipei = Saturday 19:00Z. */
	assert_int_equal(maint_window_at(&m, at("2026-11-28T19:00:00Z"),
	    &b, &e), 1);
	assert_true(b == at("2026-11-28T18:00:00Z"));
	/* Monday at the same hour is not in it. */
	assert_int_equal(maint_window_at(&m, at("2026-11-29T19:00:00Z"),
	    &b, &e), 0);
}

static void
test_once_and_parsing(void **state)
{
	struct maint_conf	 m;
	int64_t			 b, e, t;
	int			 secs;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.repeat = MAINT_ONCE;
	assert_int_equal(maint_parse_when("2026-12-01T02:00", &m.at), 0);
	assert_true(m.at == at("2026-11-30T18:00:00Z"));	/* local */
	assert_int_equal(maint_parse_when("2026-12-01T02:00:30Z", &t), 0);
	assert_true(t == at("2026-12-01T02:00:30Z"));		/* UTC */
	m.length_ms = 1000;
	assert_int_equal(maint_window_at(&m, m.at, &b, &e), 1);
	assert_int_equal(maint_window_at(&m, m.at + 1000, &b, &e), 0);
	assert_int_equal(maint_parse_when("2026-13-01T02:00", &t), -1);
	assert_int_equal(maint_parse_when("2026-12-01 02:00", &t), -1);
	assert_int_equal(maint_parse_when("2026-12-01T02:00Zx", &t), -1);
	assert_int_equal(maint_parse_clock("02:00:30", &secs), 0);
	assert_int_equal(secs, 7230);
	assert_int_equal(maint_parse_clock("2:00", &secs), -1);
	assert_int_equal(maint_parse_clock("24:00", &secs), -1);
	assert_int_equal(maint_parse_clock("02:00:", &secs), -1);
	assert_int_equal(maint_parse_day("funday"), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_daily_across_midnight),
		cmocka_unit_test(test_weekly),
		cmocka_unit_test(test_once_and_parsing),
	};

	return cmocka_run_group_tests_name("maint", tests, setup, NULL);
}
