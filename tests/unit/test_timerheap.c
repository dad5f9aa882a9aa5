/*
 * test_timerheap.c: many timers on one libevent timer (daemon/timerheap.c),
 * on a real event base.  Entries due together fire in the order of their
 * times, each once; with a slice set, a turn of the loop fires them for
 * that long at most, between its begin and end calls, and the loop polls
 * its sockets before the rest (issue 20: thousands of reminders due in
 * the same second held the loop, and every probe, for seconds).
 */
#include <sys/socket.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "timerheap.h"

#define NENTRIES	60
#define FIRE_MS		2	/* what each entry's work costs */

static int64_t	 fake_now;

static int64_t
now_fn(void)
{
	return fake_now;
}

struct run {
	struct timerheap_entry	 en[NENTRIES];
	int64_t			 fired_when[NENTRIES];
	int			 times[NENTRIES];
	int			 nfired;
	int			 begins, ends, in_slice;
	int			 io;		/* socket reads seen */
	int			 io_before_last; /* of them, before the last fired */
};

static struct run	 run;

static void
fire(struct timerheap_entry *en, void *arg)
{
	struct timespec	 ts = { 0, FIRE_MS * 1000000L };
	size_t		 i = (size_t)(en - run.en);

	(void)arg;
	assert_true(i < NENTRIES);
	/* Disarmed before its call: its time is gone, kept here. */
	assert_int_equal(en->when, 0);
	run.times[i]++;
	run.fired_when[run.nfired++] = 1000 + (int64_t)(i % 7);
	if (run.nfired == NENTRIES)
		run.io_before_last = run.io;
	nanosleep(&ts, NULL);
}

static void
begin(void *arg)
{
	(void)arg;
	assert_int_equal(run.in_slice, 0);
	run.in_slice = 1;
	run.begins++;
}

static void
end(void *arg)
{
	(void)arg;
	assert_int_equal(run.in_slice, 1);
	run.in_slice = 0;
	run.ends++;
}

static void
readable(evutil_socket_t fd, short what, void *arg)
{
	char	 c;

	(void)what;
	(void)arg;
	if (read(fd, &c, 1) == 1)
		run.io++;
}

/* NENTRIES due at 1000-1006, fired at 2000: the number of loop turns. */
static int
fire_all(int64_t slice_ms)
{
	struct event_base	*base;
	struct timerheap	*th;
	struct event		*ev;
	int			 sv[2], turns = 0, i;

	memset(&run, 0, sizeof(run));
	assert_non_null(base = event_base_new());
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_non_null(ev = event_new(base, sv[0], EV_READ | EV_PERSIST,
	    readable, NULL));
	assert_int_equal(event_add(ev, NULL), 0);
	th = timerheap_new(base, now_fn, fire, NULL);
	timerheap_set_slice(th, slice_ms, begin, end);
	fake_now = 0;
	for (i = 0; i < NENTRIES; i++)
		timerheap_arm(th, &run.en[i], 1000 + i % 7);
	fake_now = 2000;	/* all due: the one timer wakes at once */
	timerheap_rearm(th);
	while (run.nfired < NENTRIES && turns < 1000) {
		/* A probe's answer, waiting each turn. */
		assert_int_equal(write(sv[1], "x", 1), 1);
		event_base_loop(base, EVLOOP_ONCE);
		turns++;
	}
	assert_int_equal(run.nfired, NENTRIES);
	for (i = 0; i < NENTRIES; i++)
		assert_int_equal(run.times[i], 1);
	for (i = 1; i < NENTRIES; i++)
		assert_true(run.fired_when[i - 1] <= run.fired_when[i]);
	assert_int_equal(run.begins, run.ends);
	assert_int_equal(timerheap_count(th), 0);
	timerheap_free(th);
	event_free(ev);
	event_base_free(base);
	close(sv[0]);
	close(sv[1]);
	return turns;
}

/* Without a slice, as before: all of them in one callback. */
static void
test_all_due_fire_in_one_turn(void **state)
{
	(void)state;
	fire_all(0);
	assert_int_equal(run.begins, 1);
}

/*
 * With a slice of 10 ms and 2 ms an entry, a turn fires a handful: the
 * rest come in later turns, each its own begin/end, with the socket read
 * in between, before the last entry fired.
 */
static void
test_a_slice_lets_the_loop_poll_between(void **state)
{
	(void)state;
	fire_all(10);
	assert_true(run.begins >= NENTRIES * FIRE_MS / 10 / 2);
	assert_true(run.begins < NENTRIES);
	assert_true(run.io_before_last > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_due_fire_in_one_turn),
		cmocka_unit_test(test_a_slice_lets_the_loop_poll_between),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
