/*
 * wallclock.h: notices when the wall clock is set or jumps.
 *
 * The procedure's deadlines are wall-clock times, but the loop's timers
 * count on the monotonic clock: after the wall clock moves (an operator's
 * date -s, an NTP step, a VM resumed after a pause) every wall-clock
 * deadline must be re-armed from its wall time.  One process has one wall
 * clock, so this module is one, like log.c.
 */
#ifndef RTOWATCH_WALLCLOCK_H
#define RTOWATCH_WALLCLOCK_H

#include <stddef.h>
#include <stdint.h>

struct event_base;

/* Below this the two clocks only drift apart (NTP slews, rounding). */
#define WALLCLOCK_JUMP_MS	1000

struct wallclock_jump {
	int64_t		 last;		/* wall ms at the look before it */
	int64_t		 from;		/* to - skew: where it would be */
	int64_t		 to;		/* wall ms when it was noticed */
	int64_t		 skew;		/* signed: what the wall clock gained */
	int		 noted;		/* |skew| >= WALLCLOCK_JUMP_MS */
};

typedef void	(*wallclock_cb)(const struct wallclock_jump *, void *);

void	wallclock_start(struct event_base *, wallclock_cb, void *);
void	wallclock_stop(void);
void	wallclock_check(void);
int	wallclock_skipped(int64_t, struct wallclock_jump *);
int64_t	wallclock_since(void);
char	*wallclock_skew_fmt(int64_t, char *, size_t);

#endif
