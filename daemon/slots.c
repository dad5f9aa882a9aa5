/*
 * slots.c: how many https probes run at once (include/slots.h).
 *
 * A handshake in flight holds about 31 kB of OpenSSL's state (buffers,
 * the SSL, key shares).  With the host's CPU the limit (10,000 checks on
 * 2 cores) all 128 slots of `set https-concurrency` were busy, 4 MB, for
 * no more handshakes a second than 16 carried; on a real network each
 * handshake waits on round trips, and there more slots do carry more.
 * So the slots open grow only while growing raises the rate: hill
 * climbing, one window at a time.
 *
 * Every SLOTS_TRY_EVERY windows with probes waiting, a trial doubles the
 * slots (or halves them, in turn).  The window after a change is not
 * judged (probes started before it still end in it); the two after it
 * are each compared with the one before the trial.  A doubling is kept
 * only if both carried a tenth more, a halving undone only if both
 * carried a twentieth less: on a busy host one window's rate swings by
 * more than that, and judged on one window the noise kept doublings and
 * undid halvings, so the slots climbed to the cap.  A doubling that is
 * kept is tried again at once, so a host that needs 128 gets there in a
 * few windows.
 *
 * None is tried, or kept, while the loop had no time to wait in the
 * window (the monitors read it from /proc: on a CPU, or waiting for one,
 * nine tenths of the window): then the CPU limits, not the slots, and a
 * rate that rose did so because other work on the host paused.  In an
 * hour's hold beside compilers that was most windows, and the slots,
 * judged on the rate alone, went to 64, then 128, each climb leaving
 * the heap higher.
 *
 * Without probes waiting the slots are not what limits, and nothing is
 * tried; when for SLOTS_TRY_EVERY windows in a row no probe waited and
 * at most half the slots were ever taken at once, half of them close,
 * down to the least.  A burst of due probes (after a stall, a reload)
 * then meets the slots the host needed lately, not the most it ever did.
 */
#include "log.h"
#include "slots.h"

/* OPEN slots from now, the rate of the window before judged against. */
static void
slots_try(struct slots *s, int open, int trial)
{
	log_debug("https slots: %d open, trying %d (%.0f probes/s)",
	    s->open, open, s->rate);
	s->before = s->open;
	s->rate_before = (s->rate + s->rate_prev) / 2;
	s->trial = trial;
	s->judged = 0;
	s->open = open;
	s->settling = 1;
	s->steady = 0;
}

/* The trial's slots carried no better: back to before it. */
static void
slots_undo(struct slots *s)
{
	log_debug("https slots: %d carried %.0f probes/s, %d %.0f: back to "
	    "%d", s->open, s->rate, s->before, s->rate_before, s->before);
	s->open = s->before;
	s->rate = s->rate_before;
	s->trial = 0;
	s->settling = 1;
	if (s->every < SLOTS_TRY_MOST)
		s->every *= 2;
}

static int
slots_double(const struct slots *s)
{
	return s->open * 2 < s->cap ? s->open * 2 : s->cap;
}

static int
slots_half(const struct slots *s)
{
	return s->open / 2 > s->least ? s->open / 2 : s->least;
}

/* A window without probes waiting: close half if half stayed idle. */
static void
slots_idle(struct slots *s, int busiest)
{
	if (s->open <= s->least || busiest > s->open / 2) {
		s->idle = 0;
		return;
	}
	if (++s->idle < SLOTS_TRY_EVERY)
		return;
	s->idle = 0;
	log_debug("https slots: at most %d of %d taken, none waited: %d open",
	    busiest, s->open, slots_half(s));
	s->open = slots_half(s);
}

void
slots_init(struct slots *s, int cap)
{
	*s = (struct slots){ .open = SLOTS_LEAST, .every = SLOTS_TRY_EVERY };
	slots_set_cap(s, cap);
}

/*
 * The cap of new rules: what was learnt goes on within it, but for a
 * doubling not judged yet, which was not learnt.
 */
void
slots_set_cap(struct slots *s, int cap)
{
	if (s->trial > 0)
		s->open = s->before;
	s->trial = 0;
	s->cap = cap;
	s->least = SLOTS_LEAST < cap ? SLOTS_LEAST : cap;
	if (s->open < s->least)
		s->open = s->least;
	if (s->open > cap)
		s->open = cap;
	s->settling = 1;
}

/* The window W ended: the slots open from now. */
int
slots_judge(struct slots *s, const struct slots_window *w)
{
	if (s->settling) {
		s->settling = 0;
		return s->open;
	}
	s->rate_prev = s->rate;
	s->rate = w->rate;
	if (w->bound && w->saturated)
		log_debug("https slots: %d open, probes waiting, the loop "
		    "busy: the CPU limits", s->open);
	if (s->trial > 0) {
		if (w->bound || w->rate <= s->rate_before * 1.1)
			slots_undo(s);
		else if (++s->judged < 2)
			return s->open;
		else if (w->saturated && s->open < s->cap)
			slots_try(s, slots_double(s), 1);
		else {
			s->trial = 0;
			s->every = SLOTS_TRY_EVERY;
		}
		return s->open;
	}
	if (s->trial < 0) {
		if (w->rate >= s->rate_before * 0.95) {
			s->trial = 0;
			s->every = SLOTS_TRY_EVERY;
		} else if (++s->judged >= 2)
			slots_undo(s);
		return s->open;
	}
	if (!w->saturated) {
		s->steady = 0;
		slots_idle(s, w->busiest);
		return s->open;
	}
	s->idle = 0;
	if (++s->steady < s->every)
		return s->open;
	s->down = !s->down;
	if ((s->down || w->bound || s->open >= s->cap) && s->open > s->least)
		slots_try(s, slots_half(s), -1);
	else if (!w->bound && s->open < s->cap)
		slots_try(s, slots_double(s), 1);
	return s->open;
}
