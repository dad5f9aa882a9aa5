/*
 * test_policy.c: the whole availability matrix of IMS-P-009 5.3.2, the
 * general/major split of 5.2.3 at its boundary, and the clocks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "policy.h"

#define S	1000LL
#define H	(3600 * S)

/* Every combination of core, critical infrastructure and in time. */
static void
test_matrix(void **state)
{
	static const struct {
		int	 core, ci, late, level, major;
	} rows[] = {
		{ 0, 0, 0, 1, 0 },	/* non-core, restored in time */
		{ 0, 0, 1, 2, 1 },	/* non-core, not restored in time */
		{ 0, 1, 0, 1, 0 },	/* CI flag without core: non-core */
		{ 0, 1, 1, 2, 1 },
		{ 1, 0, 0, 2, 0 },	/* core, restored in time */
		{ 1, 0, 1, 3, 1 },	/* core, not restored in time */
		{ 1, 1, 0, 3, 0 },	/* core of CI, in time */
		{ 1, 1, 1, 4, 1 },	/* core of CI, not in time */
	};
	struct policy_class	 c;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		c = policy_classify(rows[i].core, rows[i].ci,
		    rows[i].late ? 5 * H : 1 * H, 4 * H);
		assert_int_equal(c.level, rows[i].level);
		assert_int_equal(c.major, rows[i].major);
	}
}

/* Exactly at the RTO is in time; one millisecond more is not. */
static void
test_rto_boundary(void **state)
{
	struct policy_class	 c;

	(void)state;
	c = policy_classify(1, 0, 4 * H - 1, 4 * H);
	assert_int_equal(c.major, 0);
	assert_int_equal(c.level, 2);
	c = policy_classify(1, 0, 4 * H, 4 * H);
	assert_int_equal(c.major, 0);
	assert_int_equal(c.level, 2);
	c = policy_classify(1, 0, 4 * H + 1, 4 * H);
	assert_int_equal(c.major, 1);
	assert_int_equal(c.level, 3);
	c = policy_classify(0, 0, 0, 1 * S);
	assert_int_equal(c.level, 1);
}

/*
 * 5.2.3 classifies by the real restoration time, the first success of
 * the run that brought the system back: restored at the RTO exactly is
 * within it, a millisecond later is not.
 */
static void
test_within_rto(void **state)
{
	int64_t	 t0 = 1764000000000LL, rto = 8 * S;

	(void)state;
	assert_true(policy_within_rto(t0, t0 + rto - 1, rto));
	assert_true(policy_within_rto(t0, t0 + rto, rto));
	assert_false(policy_within_rto(t0, t0 + rto + 1, rto));
	assert_true(policy_within_rto(t0, t0, 0));
	assert_false(policy_within_rto(t0, t0 + 1, 0));
}

/*
 * The RTO timer fires (one millisecond past the RTO) while the system
 * is still down.  Issue 15's case: core system, RTO 8 s, back 7.8 s after
 * its first failure, the timer at 8.001 s, the second success at 8.008 s.
 */
static void
test_rto_verdict(void **state)
{
	int64_t	 t0 = 1764000000000LL, rto = 8 * S, due = t0 + rto;

	(void)state;
	/* No run of successes going on: major. */
	assert_int_equal(policy_rto_verdict(t0, rto, 0, due + 1),
	    POLICY_RTO_MAJOR);
	/* A run that began before, or exactly at, the RTO is waited for. */
	assert_int_equal(policy_rto_verdict(t0, rto, t0 + 7800, due + 1),
	    POLICY_RTO_WAIT);
	assert_int_equal(policy_rto_verdict(t0, rto, due - 1, due + 1),
	    POLICY_RTO_WAIT);
	assert_int_equal(policy_rto_verdict(t0, rto, due, due + 1),
	    POLICY_RTO_WAIT);
	/* A run that began after it cannot make the outage general. */
	assert_int_equal(policy_rto_verdict(t0, rto, due + 1, due + 1),
	    POLICY_RTO_MAJOR);
	/* The timer woke at or before the RTO (the wall clock moved). */
	assert_int_equal(policy_rto_verdict(t0, rto, 0, due),
	    POLICY_RTO_NOT_YET);
	assert_int_equal(policy_rto_verdict(t0, rto, 0, due - 1),
	    POLICY_RTO_NOT_YET);
	/* Still waiting long after the RTO, as long as the run holds. */
	assert_int_equal(policy_rto_verdict(t0, rto, due - 1, due + 60 * S),
	    POLICY_RTO_WAIT);
}

/*
 * The run awaited past the RTO either confirms or breaks.  Confirmed,
 * the incident is restored at the run's first success: within the RTO,
 * so general, the level not raised, even though the confirmation came
 * after it.  Broken, there is no run left (or a new one that began after
 * the RTO): major, and the level rises.
 */
static void
test_rto_confirm_or_break(void **state)
{
	struct policy_class	 c;
	int64_t			 t0 = 1764000000000LL, rto = 8 * S;
	int64_t			 back = t0 + 7800, confirmed = t0 + 8008;

	(void)state;
	/* Confirmed before the RTO: the timer never fires; general. */
	assert_true(policy_within_rto(t0, t0 + 7000, rto));
	c = policy_classify(1, 0, 7000, rto);
	assert_int_equal(c.major, 0);
	assert_int_equal(c.level, 2);

	/* Confirmed after the RTO: classified by the first success. */
	assert_int_equal(policy_rto_verdict(t0, rto, back, t0 + rto + 1),
	    POLICY_RTO_WAIT);
	assert_true(confirmed > t0 + rto);
	assert_true(policy_within_rto(t0, back, rto));
	c = policy_classify(1, 0, back - t0, rto);
	assert_int_equal(c.major, 0);
	assert_int_equal(c.level, 2);
	/* Back at the RTO exactly, confirmed after it: still general. */
	c = policy_classify(1, 0, rto, rto);
	assert_int_equal(c.major, 0);

	/* Broken after the RTO: no run (0), or a new one begun too late. */
	assert_int_equal(policy_rto_verdict(t0, rto, 0, t0 + 8208),
	    POLICY_RTO_MAJOR);
	assert_int_equal(policy_rto_verdict(t0, rto, t0 + 8400, t0 + 8600),
	    POLICY_RTO_MAJOR);
	c = policy_classify(1, 0, rto + 1, rto);
	assert_int_equal(c.major, 1);
	assert_int_equal(c.level, 3);
	/* Core of critical infrastructure: 3 in time, 4 when major. */
	assert_int_equal(policy_classify(1, 1, back - t0, rto).level, 3);
	assert_int_equal(policy_classify(1, 1, rto + 1, rto).level, 4);
}

/* IMS-P-009's defaults, as rules/policy.conf states them. */
static void
default_policy(struct policy *pol)
{
	int	 l;

	memset(pol, 0, sizeof(*pol));
	for (l = 1; l <= 4; l++) {
		pol->applies[CLOCK_NOTIFY][l] = 1;
		pol->length[CLOCK_NOTIFY][l].ms = 1 * H;
		pol->applies[CLOCK_RESTORE][l] = 1;
		pol->length[CLOCK_RESTORE][l].ms = (l <= 2 ? 72 : 36) * H;
		pol->applies[CLOCK_REPORT][l] = l >= 3;
		pol->length[CLOCK_REPORT][l].months = 1;
	}
	pol->remind[CLOCK_NOTIFY][0] = 30 * 60 * S;
	pol->remind[CLOCK_NOTIFY][1] = 10 * 60 * S;
	pol->nremind[CLOCK_NOTIFY] = 2;
}

/* 5.3.7.3.1: one hour; 5.3.8: 72 h for levels 1-2, 36 h for 3-4; 5.3.3:
 * a report within a month for levels 3-4 only. */
static void
test_clocks(void **state)
{
	struct policy	 pol;
	int64_t		 t = 1764000000000LL;	/* 2025-11-24T16:00:00Z */

	(void)state;
	default_policy(&pol);
	assert_true(policy_due(&pol, CLOCK_NOTIFY, 1, t) == t + 1 * H);
	assert_true(policy_due(&pol, CLOCK_NOTIFY, 4, t) == t + 1 * H);
	assert_true(policy_due(&pol, CLOCK_RESTORE, 1, t) == t + 72 * H);
	assert_true(policy_due(&pol, CLOCK_RESTORE, 2, t) == t + 72 * H);
	assert_true(policy_due(&pol, CLOCK_RESTORE, 3, t) == t + 36 * H);
	assert_true(policy_due(&pol, CLOCK_RESTORE, 4, t) == t + 36 * H);
	assert_false(policy_clock_applies(&pol, CLOCK_REPORT, 2));
	assert_true(policy_due(&pol, CLOCK_REPORT, 2, t) == 0);
	assert_true(policy_clock_applies(&pol, CLOCK_REPORT, 3));
	/* 24 November + one month is 24 December, same time of day. */
	assert_true(policy_due(&pol, CLOCK_REPORT, 3, t) == t + 30 * 24 * H);
	assert_false(policy_clock_applies(&pol, CLOCK_NOTIFY, 0));
	assert_false(policy_clock_applies(&pol, CLOCK_NOTIFY, 5));
}

/* Calendar months clamp to the end of a shorter month; leap years. */
static void
test_months(void **state)
{
	struct policy_period	 one = { 0, 1 }, year = { 0, 12 };
	int64_t			 jan31 = 1769817600000LL; /* 2026-01-31 */
	int64_t			 jan31_28 = 1832889600000LL; /* 2028-01-31 */
	int64_t			 dec15 = 1765756800123LL; /* 2025-12-15 */

	(void)state;
	assert_true(policy_period_add(one, jan31) == jan31 + 28 * 24 * H);
	assert_true(policy_period_add(one, jan31_28) ==
	    jan31_28 + 29 * 24 * H);
	/* Across the year's end, milliseconds kept. */
	assert_true(policy_period_add(one, dec15) == dec15 + 31 * 24 * H);
	assert_true(policy_period_add(year, dec15) == dec15 + 365 * 24 * H);
}

/* Reminders fire in order; the deadline after them; then nothing. */
static void
test_reminders(void **state)
{
	struct policy	 pol;
	int64_t		 due = 1764000000000LL, m = 60 * S;

	(void)state;
	default_policy(&pol);
	assert_int_equal(policy_reminders_due(&pol, CLOCK_NOTIFY, due, 0,
	    due - 31 * m), 0);
	assert_int_equal(policy_reminders_due(&pol, CLOCK_NOTIFY, due, 0,
	    due - 30 * m), 1);
	assert_int_equal(policy_reminders_due(&pol, CLOCK_NOTIFY, due, 1,
	    due - 11 * m), 1);
	assert_int_equal(policy_reminders_due(&pol, CLOCK_NOTIFY, due, 0,
	    due - 5 * m), 2);
	assert_int_equal(policy_reminders_due(&pol, CLOCK_NOTIFY, due, 2,
	    due + 5 * m), 2);
	assert_int_equal(policy_reminders_due(&pol, CLOCK_RESTORE, due, 0,
	    due + 5 * m), 0);
	assert_true(policy_next_wakeup(&pol, CLOCK_NOTIFY, due, 0, 0) ==
	    due - 30 * m);
	assert_true(policy_next_wakeup(&pol, CLOCK_NOTIFY, due, 1, 0) ==
	    due - 10 * m);
	assert_true(policy_next_wakeup(&pol, CLOCK_NOTIFY, due, 2, 0) == due);
	assert_true(policy_next_wakeup(&pol, CLOCK_NOTIFY, due, 2, 1) == 0);
	assert_true(policy_next_wakeup(&pol, CLOCK_RESTORE, due, 0, 0) ==
	    due);
}

static void
test_level_names(void **state)
{
	(void)state;
	assert_string_equal(policy_level_name(1), "minor (輕微)");
	assert_string_equal(policy_level_name(2), "attention (注意)");
	assert_string_equal(policy_level_name(3), "major (重大)");
	assert_string_equal(policy_level_name(4), "severe (嚴重)");
	assert_string_equal(policy_level_name(0), "unknown");
	assert_string_equal(policy_level_name(5), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matrix),
		cmocka_unit_test(test_rto_boundary),
		cmocka_unit_test(test_within_rto),
		cmocka_unit_test(test_rto_verdict),
		cmocka_unit_test(test_rto_confirm_or_break),
		cmocka_unit_test(test_clocks),
		cmocka_unit_test(test_months),
		cmocka_unit_test(test_reminders),
		cmocka_unit_test(test_level_names),
	};

	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
