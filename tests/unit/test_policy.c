/*
 * test_policy.c: the whole availability matrix of IMS-P-009 5.3.2, the
 * general/major split of 5.2.3 at its boundary, and the clocks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

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

/* 5.3.7.3.1: one hour; 5.3.8: 72 h for levels 1-2, 36 h for 3-4. */
static void
test_clocks(void **state)
{
	int64_t	 t = 1764000000000LL;

	(void)state;
	assert_true(policy_notify_due(t) == t + 1 * H);
	assert_true(policy_restore_due(1, t) == t + 72 * H);
	assert_true(policy_restore_due(2, t) == t + 72 * H);
	assert_true(policy_restore_due(3, t) == t + 36 * H);
	assert_true(policy_restore_due(4, t) == t + 36 * H);
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
		cmocka_unit_test(test_clocks),
		cmocka_unit_test(test_level_names),
	};

	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
