/*
 * test_slots.c: how many https probes run at once (daemon/slots.c),
 * replayed window by window on hosts of known behaviour: one whose
 * handshakes wait on round trips (more slots carry more, up to what is
 * due), one whose CPU limits (more slots carry nothing more, and the
 * rate swings with other work), and one where few probes are due.
 * Issue 20: in an hour's hold beside other work, the slots judged on
 * one window's rate climbed to 128 and the daemon's heap with them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "slots.h"

/* A host whose handshakes wait on round trips. */
struct host {
	double	 per_slot;	/* probes a second one slot carries */
	double	 due;		/* probes due a second */
	double	 cpu;		/* the most the CPU carries; 0: no limit */
	double	 noise;		/* each window's rate off by up to this */
	int	 bound;		/* the loop never waits */
};

static uint32_t	 seed = 1;

/* -1..1, the same on every run. */
static double
noise(void)
{
	seed = seed * 1103515245 + 12345;
	return ((double)(seed >> 8 & 0xffff) / 32767.5) - 1.0;
}

static struct slots_window
window(const struct host *h, int open)
{
	struct slots_window	 w = { 0 };
	double			 carried = open * h->per_slot;

	if (h->cpu > 0 && carried > h->cpu)
		carried = h->cpu;
	w.saturated = carried < h->due;
	if (carried > h->due)
		carried = h->due;
	w.rate = carried * (1.0 + h->noise * noise());
	w.busiest = w.saturated ? open : (int)(h->due / h->per_slot) + 1;
	if (w.busiest > open)
		w.busiest = open;
	w.bound = h->bound;
	return w;
}

/* N windows; the most slots open at any time. */
static int
run(struct slots *s, const struct host *h, int n)
{
	struct slots_window	 w;
	int			 i, most = s->open;

	for (i = 0; i < n; i++) {
		w = window(h, s->open);
		if (slots_judge(s, &w) > most)
			most = s->open;
	}
	return most;
}

static void
test_opens_at_least(void **state)
{
	struct slots	 s;

	(void)state;
	slots_init(&s, 128);
	assert_int_equal(s.open, SLOTS_LEAST);
	slots_init(&s, 2);
	assert_int_equal(s.open, 2);
}

/*
 * Round trips: 10 probes a second a slot, 500 due.  The slots double to
 * 64, which carries them all, and stay there.
 */
static void
test_round_trips_grow(void **state)
{
	struct host	 h = { .per_slot = 10, .due = 500, .noise = 0.02 };
	struct slots	 s;

	(void)state;
	slots_init(&s, 128);
	run(&s, &h, 60);
	assert_int_equal(s.open, 64);
	assert_int_equal(run(&s, &h, 200), 64);
}

/*
 * The CPU limits at 1,000 handshakes a second, 2,000 are due, and each
 * window's rate swings by up to 30 % as other work comes and goes: the
 * loop never waits, so no doubling is tried, and slots learnt before
 * (128) come down to the least.
 */
static void
test_cpu_bound_never_grows(void **state)
{
	struct host	 h = { .per_slot = 100, .due = 2000, .cpu = 1000,
			       .noise = 0.3, .bound = 1 };
	struct slots	 s;

	(void)state;
	slots_init(&s, 128);
	assert_int_equal(run(&s, &h, 2000), SLOTS_LEAST);
	s.open = 128;
	run(&s, &h, 60);
	assert_int_equal(s.open, SLOTS_LEAST);
}

/*
 * The same host without the loop's figure (no /proc): the rate alone,
 * swinging by up to 8 %.  A doubling needs a tenth more than the two
 * windows before it in each of two windows running, and each that
 * fails puts the next off twice as long: the noise does not carry the
 * slots up, and the trials cost little (32 slots for a window or two
 * now and then: 16.5 on average over 4,000 windows).
 */
static void
test_noise_alone_does_not_climb(void **state)
{
	struct host	 h = { .per_slot = 100, .due = 2000, .cpu = 1000,
			       .noise = 0.08 };
	struct slots	 s;
	int		 i, most = 0, total = 0;

	(void)state;
	slots_init(&s, 128);
	for (i = 0; i < 4000; i++) {
		if (run(&s, &h, 1) > most)
			most = s.open;
		total += s.open;
	}
	assert_true(most <= 32);
	assert_true(total < 4000 * 17);
	assert_int_equal(s.open, SLOTS_LEAST);
}

/*
 * Few probes due: 128 slots learnt in a busy hour, now no probe waits
 * and at most 6 run at once: half close every SLOTS_TRY_EVERY windows,
 * down to the least, and never below it.
 */
static void
test_idle_slots_close(void **state)
{
	struct host	 h = { .per_slot = 10, .due = 50 };
	struct slots	 s;

	(void)state;
	slots_init(&s, 128);
	s.open = 128;
	run(&s, &h, 1);			/* the first window settles */
	run(&s, &h, SLOTS_TRY_EVERY - 1);
	assert_int_equal(s.open, 128);
	run(&s, &h, 1);
	assert_int_equal(s.open, 64);
	run(&s, &h, 2 * SLOTS_TRY_EVERY);
	assert_int_equal(s.open, SLOTS_LEAST);
	run(&s, &h, 50);
	assert_int_equal(s.open, SLOTS_LEAST);
}

/* Half the slots busy at times: none close. */
static void
test_busy_slots_stay(void **state)
{
	struct slots_window	 w = { .rate = 100, .busiest = 40 };
	struct slots		 s;
	int			 i;

	(void)state;
	slots_init(&s, 128);
	s.open = 64;
	for (i = 0; i < 40; i++)
		slots_judge(&s, &w);
	assert_int_equal(s.open, 64);
}

/*
 * New rules in the middle of a doubling: back to before it; in the
 * middle of a halving: the halving stays.  A lower cap clamps.
 */
static void
test_cap_of_new_rules(void **state)
{
	struct host	 h = { .per_slot = 10, .due = 500 };
	struct slots_window	 w;
	struct slots	 s;

	(void)state;
	slots_init(&s, 128);
	while (s.trial <= 0) {
		w = window(&h, s.open);
		slots_judge(&s, &w);
	}
	assert_int_equal(s.open, 32);
	slots_set_cap(&s, 128);
	assert_int_equal(s.open, 16);
	assert_int_equal(s.trial, 0);

	s.open = 64;
	s.trial = -1;
	s.before = 128;
	slots_set_cap(&s, 128);
	assert_int_equal(s.open, 64);
	slots_set_cap(&s, 20);
	assert_int_equal(s.open, 20);
	slots_set_cap(&s, 4);
	assert_int_equal(s.open, 4);
	run(&s, &h, 40);
	assert_int_equal(s.open, 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_opens_at_least),
		cmocka_unit_test(test_round_trips_grow),
		cmocka_unit_test(test_cpu_bound_never_grows),
		cmocka_unit_test(test_noise_alone_does_not_climb),
		cmocka_unit_test(test_idle_slots_close),
		cmocka_unit_test(test_busy_slots_stay),
		cmocka_unit_test(test_cap_of_new_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
