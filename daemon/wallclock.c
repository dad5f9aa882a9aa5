/*
 * wallclock.c: notices when the wall clock is set or jumps.
 *
 * Two ways, because neither is enough alone.  A timerfd on CLOCK_REALTIME
 * armed with TFD_TIMER_CANCEL_ON_SET is cancelled by the kernel the
 * moment anyone sets the clock (date -s, an NTP step, a resume from
 * suspend), so a set is seen at once.  But a VM paused by its host comes
 * back with its clock stepped by a guest agent or a slow catch-up that
 * may set nothing, and libfaketime, which the tests use, only changes
 * what the process reads.  So a tick each second also compares how far
 * each clock moved since the last look: when they disagree by a second or
 * more, the wall clock jumped.  A loop held up for a while moves both
 * alike, and is no jump.
 *
 * The jumps forward are remembered (the last few), so that a deadline
 * that fires late can say the clock skipped over it, rather than that
 * rtowatchd was not running.
 */
#include <sys/timerfd.h>

#include <event2/event.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include "wallclock.h"

#define WALLCLOCK_TICK_MS	1000
#define WALLCLOCK_JUMPS		8
/* The timerfd waits to be cancelled; it expires once a day, re-armed. */
#define WALLCLOCK_FAR_MS	(24LL * 3600 * 1000)

static struct {
	struct event		*tick;
	struct event		*set;		/* the timerfd is readable */
	int			 fd;
	int64_t			 wall;		/* at the last look */
	int64_t			 mono;
	int64_t			 since;		/* wall: running since */
	struct wallclock_jump	 jumps[WALLCLOCK_JUMPS];	/* forward */
	size_t			 njumps;	/* ever */
	wallclock_cb		 cb;
	void			*arg;
} wc = { .fd = -1 };

static int
wallclock_arm_fd(void)
{
	struct itimerspec	 its;
	int64_t			 at = wall_ms() + WALLCLOCK_FAR_MS;

	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = at / 1000;
	if (timerfd_settime(wc.fd, TFD_TIMER_ABSTIME |
	    TFD_TIMER_CANCEL_ON_SET, &its, NULL) == -1) {
		log_warn("wall clock: timerfd_settime");
		return -1;
	}
	return 0;
}

/*
 * How far did each clock move since the last look?  SET: the kernel said
 * the wall clock was set, which is worth re-arming for even when it moved
 * less than a jump.
 */
static void
wallclock_look(int set)
{
	struct wallclock_jump	 j;
	int64_t			 wall = wall_ms(), mono = mono_ms();

	j.last = wc.wall;
	j.to = wall;
	j.skew = (wall - wc.wall) - (mono - wc.mono);
	j.from = wall - j.skew;
	j.noted = j.skew >= WALLCLOCK_JUMP_MS || j.skew <= -WALLCLOCK_JUMP_MS;
	wc.wall = wall;
	wc.mono = mono;
	if (!j.noted && !set)
		return;
	if (j.noted && j.skew > 0)
		wc.jumps[wc.njumps++ % WALLCLOCK_JUMPS] = j;
	/* Set back, the daemon has now been running at earlier times too. */
	if (wall < wc.since)
		wc.since = wall;
	if (wc.cb != NULL)
		wc.cb(&j, wc.arg);
}

static void
wallclock_tick_cb(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	(void)arg;
	wallclock_look(0);
}

static void
wallclock_set_cb(evutil_socket_t fd, short events, void *arg)
{
	uint64_t	 n;
	ssize_t		 r;

	(void)events;
	(void)arg;
	if ((r = read(fd, &n, sizeof(n))) == -1 && errno == ECANCELED) {
		if (wallclock_arm_fd() == -1)
			event_del(wc.set);	/* the tick still watches */
		wallclock_look(1);
		return;
	}
	if (r == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r == -1) {
		log_warn("wall clock: timerfd read; watching by the tick only");
		event_del(wc.set);
		return;
	}
	if (wallclock_arm_fd() == -1)
		event_del(wc.set);
}

/* Watch from now on; CB learns of every set or jump. */
void
wallclock_start(struct event_base *base, wallclock_cb cb, void *arg)
{
	struct timeval	 tv;

	tv.tv_sec = WALLCLOCK_TICK_MS / 1000;
	tv.tv_usec = (suseconds_t)(WALLCLOCK_TICK_MS % 1000) * 1000;
	wc.cb = cb;
	wc.arg = arg;
	wc.wall = wc.since = wall_ms();
	wc.mono = mono_ms();
	if ((wc.tick = event_new(base, -1, EV_PERSIST, wallclock_tick_cb,
	    NULL)) == NULL)
		fatalx("wallclock: event_new failed");
	evtimer_add(wc.tick, &tv);
	if ((wc.fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK |
	    TFD_CLOEXEC)) == -1) {
		log_warn("wall clock: timerfd_create; watching by the tick "
		    "only");
		return;
	}
	if ((wc.set = event_new(base, wc.fd, EV_READ | EV_PERSIST,
	    wallclock_set_cb, NULL)) == NULL)
		fatalx("wallclock: event_new failed");
	if (wallclock_arm_fd() == 0)
		event_add(wc.set, NULL);
}

void
wallclock_stop(void)
{
	if (wc.set != NULL)
		event_free(wc.set);
	if (wc.tick != NULL)
		event_free(wc.tick);
	if (wc.fd != -1)
		close(wc.fd);
	wc.set = wc.tick = NULL;
	wc.fd = -1;
	wc.cb = NULL;
}

/*
 * Look now rather than at the next tick: a deadline about to be recorded
 * must know whether the clock just jumped over it.
 */
void
wallclock_check(void)
{
	if (wc.tick != NULL)
		wallclock_look(0);
}

/* Did the wall clock jump forward over T while we ran?  Which jump? */
int
wallclock_skipped(int64_t t, struct wallclock_jump *j)
{
	size_t	 i, n;

	n = wc.njumps < WALLCLOCK_JUMPS ? wc.njumps : WALLCLOCK_JUMPS;
	for (i = 1; i <= n; i++) {
		*j = wc.jumps[(wc.njumps - i) % WALLCLOCK_JUMPS];
		if (j->last < t && t <= j->to)
			return 1;
	}
	return 0;
}

/* The earliest wall time the daemon has been running at. */
int64_t
wallclock_since(void)
{
	return wc.since;
}

/*
 * "+2h", "-45s": to the nearest second, since the two clocks are read a
 * moment apart and a jump of 2 h measures 1h 59m 59.999s.
 */
char *
wallclock_skew_fmt(int64_t skew, char *buf, size_t len)
{
	char	 d[32];
	int64_t	 a = skew < 0 ? -skew : skew;

	if (a >= 1000)
		a = (a + 500) / 1000 * 1000;
	snprintf(buf, len, "%c%s", skew < 0 ? '-' : '+',
	    duration_fmt(a, d, sizeof(d)));
	return buf;
}
