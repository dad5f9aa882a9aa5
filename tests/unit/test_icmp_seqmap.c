/*
 * test_icmp_seqmap.c: the ping probes' sequence map: numbers handed out
 * in turn, a cleared entry finds nothing, a slot in use is never handed
 * out twice, and a full map says so.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "icmp_seqmap.h"

static void
test_add_find_clear(void **state)
{
	struct icmp_seqmap		*map = icmp_seqmap_new();
	const struct icmp_seqmap_entry	*e;
	uint16_t			 a, b;

	(void)state;
	assert_null(icmp_seqmap_find(map, 0));
	assert_int_equal(icmp_seqmap_add(map, 7, 0, 1000, &a), 0);
	assert_int_equal(icmp_seqmap_add(map, 8, 2, 2000, &b), 0);
	assert_int_equal(a, 0);
	assert_int_equal(b, 1);
	assert_int_equal(icmp_seqmap_used(map), 2);
	e = icmp_seqmap_find(map, b);
	assert_non_null(e);
	assert_int_equal(e->probe_id, 8);
	assert_int_equal(e->attempt, 2);
	assert_true(e->sent_ns == 2000);

	/* Cleared (the probe ended): a late reply finds nothing. */
	icmp_seqmap_clear(map, a);
	assert_null(icmp_seqmap_find(map, a));
	icmp_seqmap_clear(map, a);		/* twice is harmless */
	assert_int_equal(icmp_seqmap_used(map), 1);

	/* Probe id 0 means free: refused. */
	assert_int_equal(icmp_seqmap_add(map, 0, 0, 1, &a), -1);
	icmp_seqmap_free(map);
}

/* Numbers go round; a slot still awaited is skipped, not reused. */
static void
test_wrap_skips_used(void **state)
{
	struct icmp_seqmap		*map = icmp_seqmap_new();
	uint16_t			 seq, held;
	unsigned int			 i;

	(void)state;
	assert_int_equal(icmp_seqmap_add(map, 1, 0, 1, &held), 0);
	for (i = 1; i < ICMP_SEQMAP_SIZE; i++) {
		assert_int_equal(icmp_seqmap_add(map, 2, 0, 1, &seq), 0);
		assert_int_equal(seq, i);
		icmp_seqmap_clear(map, seq);
	}
	/* Next would be 0, which is still held by probe 1. */
	assert_int_equal(icmp_seqmap_add(map, 3, 0, 1, &seq), 0);
	assert_int_equal(seq, 1);
	assert_int_equal(icmp_seqmap_find(map, held)->probe_id, 1);
	assert_int_equal(icmp_seqmap_find(map, seq)->probe_id, 3);
	icmp_seqmap_free(map);
}

static void
test_full(void **state)
{
	struct icmp_seqmap		*map = icmp_seqmap_new();
	uint16_t			 seq;
	unsigned int			 i;

	(void)state;
	for (i = 0; i < ICMP_SEQMAP_SIZE; i++)
		assert_int_equal(icmp_seqmap_add(map, 1 + i, 0, 1, &seq), 0);
	assert_int_equal(icmp_seqmap_used(map), ICMP_SEQMAP_SIZE);
	assert_int_equal(icmp_seqmap_add(map, 9, 0, 1, &seq), -1);
	icmp_seqmap_clear(map, 4242);
	assert_int_equal(icmp_seqmap_add(map, 9, 0, 1, &seq), 0);
	assert_int_equal(seq, 4242);
	icmp_seqmap_free(map);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_find_clear),
		cmocka_unit_test(test_wrap_skips_used),
		cmocka_unit_test(test_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
