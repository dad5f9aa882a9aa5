/*
 * slots.h: how many https probes run at once, learnt from what more
 * of them carry (daemon/slots.c).
 *
 * The monitors measure each window (the probes that gave back a slot a
 * second, whether any waited for one, the most taken at once, whether
 * the loop had time to wait at all); slots_judge() decides from those
 * alone, so that its decisions can be replayed window by window.
 */
#ifndef RTOWATCH_SLOTS_H
#define RTOWATCH_SLOTS_H

struct slots {
	int	 open;		/* slots open now */
	int	 least;		/* never fewer, unless the cap is */
	int	 cap;		/* set https-concurrency */
	int	 settling;	/* the window after a change is not judged */
	int	 trial;		/* +1 doubled, -1 halved, 0 none */
	int	 judged;	/* windows of the trial that agreed */
	int	 before;	/* open before the trial */
	double	 rate_before;	/* probes a second, the window before it */
	double	 rate;		/* the last window's */
	double	 rate_prev;	/* the one before it */
	int	 steady;	/* windows with probes waiting, since a trial */
	int	 every;		/* such windows between trials */
	int	 idle;		/* windows in a row, half the slots idle */
	int	 down;		/* the next trial halves */
};

struct slots_window {
	double	 rate;		/* probes that gave back a slot, a second */
	int	 saturated;	/* a probe waited for a slot */
	int	 busiest;	/* the most slots taken at once */
	int	 bound;		/* the loop had no time to wait */
};

#define SLOTS_LEAST	16	/* slots open at first, and at the least */
#define SLOTS_TRY_EVERY	4	/* windows between trials, or closings */
#define SLOTS_TRY_MOST	64	/* between trials after some that failed */

void	 slots_init(struct slots *, int);
void	 slots_set_cap(struct slots *, int);
int	 slots_judge(struct slots *, const struct slots_window *);

#endif
