/*
 * test_util.c: the shared text of times and durations that operators read
 * (issue 17): durations under a minute keep their milliseconds, and the
 * UTC times inside a timeline detail read in the local zone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "util.h"

static void
dur(int64_t ms, const char *want)
{
	char	 buf[32];

	assert_string_equal(duration_fmt(ms, buf, sizeof(buf)), want);
}

static void
test_duration_keeps_milliseconds_under_a_minute(void **state)
{
	(void)state;
	dur(1500, "1.5s");
	dur(1250, "1.25s");
	dur(1001, "1.001s");
	dur(59999, "59.999s");
	dur(1000, "1s");
	dur(400, "400ms");
	dur(60000, "1m");
	dur(61500, "1m 1s");
	dur(3600000 + 5 * 60000, "1h 5m");
}

static void
check(const char *text, int zone, const char *want)
{
	char	*got = time_text_local(text, zone);

	assert_string_equal(got, want);
	free(got);
}

static void
test_detail_times_in_the_local_zone(void **state)
{
	(void)state;
	assert_int_equal(setenv("TZ", "Asia/Taipei", 1), 0);
	tzset();
	check("mail down since 2026-12-03T04:32:06.686Z: refused", 0,
	    "mail down since 2026-12-03 12:32:06: refused");
	check("due 2026-12-03T16:00:00Z, then 2026-12-31T23:59:59.000Z", 1,
	    "due 2026-12-04 00:00:00 CST, then 2027-01-01 07:59:59 CST");
	/* Not a time: left as it is, whole. */
	check("2026-12-03T04:32Z and 2026-12-03 04:32:06 and 12345", 0,
	    "2026-12-03T04:32Z and 2026-12-03 04:32:06 and 12345");
	check("", 0, "");
	check("tail 2026-12-03T04:32:06.686", 0,
	    "tail 2026-12-03T04:32:06.686");
	assert_int_equal(setenv("TZ", "UTC", 1), 0);
	tzset();
	check("at 2026-12-03T04:32:06.686Z", 0, "at 2026-12-03 04:32:06");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_keeps_milliseconds_under_a_minute),
		cmocka_unit_test(test_detail_times_in_the_local_zone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
