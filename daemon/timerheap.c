/*
 * timerheap.c: many timers on one libevent timer (include/timerheap.h).
 *
 * The entries live in their owners; the heap holds pointers to them, each
 * entry knowing its slot, so that one is disarmed from the middle in
 * O(log n).  Entries due together fire in turn, the heap's top taken
 * afresh each time because a callback may disarm or free others.  At most
 * as many fire as were armed when the timer woke: one that is due again
 * at once waits for the next turn of the loop, as a timer of 0 would.
 *
 * An owner may make them fire in slices (timerheap_set_slice): for
 * SLICE_MS at most a turn of the loop, between its BEGIN and END calls,
 * the rest at the next turn, after the loop has polled.  Thousands of
 * incidents opened together have their reminders due in the same second:
 * fired in one callback, each its own synced transaction, they held the
 * loop for seconds, and every probe due meanwhile started at once after.
 */
#include <event2/event.h>

#include <stdlib.h>

#include "log.h"
#include "timerheap.h"
#include "util.h"

#define TIMERHEAP_MIN	64

struct timerheap {
	struct timerheap_entry	**heap;
	size_t			 n;
	size_t			 size;
	struct event		*timer;
	int64_t			 (*now)(void);
	timerheap_fire_fn	 fire;
	void			*arg;
	int64_t			 slice_ms;	/* 0: all due at once */
	void			 (*begin)(void *);
	void			 (*end)(void *);
};

static void	timerheap_cb(evutil_socket_t, short, void *);

struct timerheap *
timerheap_new(struct event_base *base, int64_t (*now)(void),
    timerheap_fire_fn fire, void *arg)
{
	struct timerheap	*th;

	th = xcalloc(1, sizeof(*th));
	th->now = now;
	th->fire = fire;
	th->arg = arg;
	if ((th->timer = evtimer_new(base, timerheap_cb, th)) == NULL)
		fatalx("timerheap: evtimer_new failed");
	return th;
}

void
timerheap_free(struct timerheap *th)
{
	size_t	 i;

	if (th == NULL)
		return;
	for (i = 0; i < th->n; i++)
		th->heap[i]->when = 0;
	event_free(th->timer);
	free(th->heap);
	free(th);
}

/*
 * Entries due together fire for SLICE_MS a turn, the first always; BEGIN
 * and END (either may be NULL) are called around each turn's entries,
 * with the heap's ARG.
 */
void
timerheap_set_slice(struct timerheap *th, int64_t slice_ms,
    void (*begin)(void *), void (*end)(void *))
{
	th->slice_ms = slice_ms;
	th->begin = begin;
	th->end = end;
}

size_t
timerheap_count(const struct timerheap *th)
{
	return th->n;
}

static void
timerheap_set(struct timerheap *th, size_t i, struct timerheap_entry *en)
{
	th->heap[i] = en;
	en->slot = i;
}

static void
timerheap_up(struct timerheap *th, size_t i)
{
	struct timerheap_entry	*en = th->heap[i];

	while (i > 0 && en->when < th->heap[(i - 1) / 2]->when) {
		timerheap_set(th, i, th->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	timerheap_set(th, i, en);
}

static void
timerheap_down(struct timerheap *th, size_t i)
{
	struct timerheap_entry	*en = th->heap[i];
	size_t			 k;

	for (;;) {
		k = 2 * i + 1;
		if (k >= th->n)
			break;
		if (k + 1 < th->n && th->heap[k + 1]->when < th->heap[k]->when)
			k++;
		if (th->heap[k]->when >= en->when)
			break;
		timerheap_set(th, i, th->heap[k]);
		i = k;
	}
	timerheap_set(th, i, en);
}

/* The one event wakes for the earliest entry, or sleeps. */
void
timerheap_rearm(struct timerheap *th)
{
	struct timeval	 tv;
	int64_t		 wait;

	if (th->n == 0) {
		evtimer_del(th->timer);
		return;
	}
	wait = th->heap[0]->when - th->now();
	if (wait < 0)
		wait = 0;
	tv.tv_sec = wait / 1000;
	tv.tv_usec = (wait % 1000) * 1000;
	evtimer_add(th->timer, &tv);
}

void
timerheap_disarm(struct timerheap *th, struct timerheap_entry *en)
{
	struct timerheap_entry	*last;
	size_t			 i = en->slot;

	if (en->when == 0)
		return;
	en->when = 0;
	last = th->heap[--th->n];
	if (last != en) {
		timerheap_set(th, i, last);
		if (i > 0 && last->when < th->heap[(i - 1) / 2]->when)
			timerheap_up(th, i);
		else
			timerheap_down(th, i);
	}
	/* Past a burst: a quarter used gives half back. */
	if (th->size > TIMERHEAP_MIN && th->n < th->size / 4) {
		th->size /= 2;
		/* NOLINTNEXTLINE(bugprone-sizeof-expression): pointers */
		th->heap = xreallocarray(th->heap, th->size, sizeof(*th->heap));
	}
	if (i == 0)
		timerheap_rearm(th);
}

/* EN fires at WHEN (in the heap's clock; 0 is taken as 1), once. */
void
timerheap_arm(struct timerheap *th, struct timerheap_entry *en, int64_t when)
{
	timerheap_disarm(th, en);
	if (th->n == th->size) {
		th->size = th->size == 0 ? TIMERHEAP_MIN : th->size * 2;
		/* NOLINTNEXTLINE(bugprone-sizeof-expression): pointers */
		th->heap = xreallocarray(th->heap, th->size, sizeof(*th->heap));
	}
	en->when = when != 0 ? when : 1;
	timerheap_set(th, th->n++, en);
	timerheap_up(th, en->slot);
	if (en->slot == 0)
		timerheap_rearm(th);
}

static void
timerheap_cb(evutil_socket_t fd, short events, void *arg)
{
	struct timerheap	*th = arg;
	struct timerheap_entry	*en;
	size_t			 n;
	int64_t			 now, end = 0;
	int			 begun = 0;

	(void)fd;
	(void)events;
	now = th->now();
	if (th->slice_ms > 0)
		end = mono_ms() + th->slice_ms;
	for (n = th->n; n > 0 && th->n > 0; n--) {
		en = th->heap[0];
		if (en->when > now || (begun && end != 0 && mono_ms() >= end))
			break;
		if (!begun && th->begin != NULL)
			th->begin(th->arg);
		begun = 1;
		timerheap_disarm(th, en);
		th->fire(en, th->arg);
	}
	if (begun && th->end != NULL)
		th->end(th->arg);
	/* The rest, if due, at once: after the loop has polled. */
	timerheap_rearm(th);
}
