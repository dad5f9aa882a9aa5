/*
 * timerheap.h: many timers on one libevent timer.
 *
 * A struct event costs about 144 bytes of heap; thousands of incidents'
 * clocks, or of systems' RTO waits, each with its own, cost megabytes at
 * 10,000 systems.  Here each timer is a struct timerheap_entry inside its
 * owner (16 bytes), kept in a min-heap by its time, and one event is armed
 * for the earliest.  Times are in the heap's own clock (NOW: wall or
 * monotonic milliseconds).
 */
#ifndef RTOWATCH_TIMERHEAP_H
#define RTOWATCH_TIMERHEAP_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct timerheap;

struct timerheap_entry {
	int64_t		 when;		/* 0: not armed */
	size_t		 slot;		/* in the heap, while armed */
};

typedef void	 (*timerheap_fire_fn)(struct timerheap_entry *, void *);

struct timerheap *timerheap_new(struct event_base *, int64_t (*)(void),
		     timerheap_fire_fn, void *);
void		 timerheap_free(struct timerheap *);
void		 timerheap_arm(struct timerheap *, struct timerheap_entry *,
		     int64_t);
void		 timerheap_disarm(struct timerheap *,
		     struct timerheap_entry *);
void		 timerheap_rearm(struct timerheap *);
void		 timerheap_set_slice(struct timerheap *, int64_t,
		     void (*)(void *), void (*)(void *));
size_t		 timerheap_count(const struct timerheap *);

#define timerheap_armed(en)	((en)->when != 0)

#endif
