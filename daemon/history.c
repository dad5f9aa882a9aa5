/*
 * history.c: the response-time history, per check and minute.
 *
 * Each result is added to its check's bucket in memory (the counts, the
 * least, greatest and summed round trip): nothing is written on a
 * probe's path.  A timer at every minute's end closes the buckets of the
 * minute before and writes them all, one row a check, in one
 * transaction of one statement (HISTORY_TX_ROWS at most; more checks
 * than that take a transaction a turn of the loop each, so that the
 * probes due meanwhile are not held up), then rolls up and prunes a few
 * checks' old buckets (store_response.c), so that a pass over 10,000
 * checks is spread over the hour instead of stalling the loop.  The same
 * tick prunes the vantage points' observations past `set
 * observations-keep`, a batch at a time (store_observations_prune).
 *
 * The writes go through the store and are held like any other when the
 * database refuses them; but while the store holds changes, the history
 * waits in memory instead of adding a transaction a minute to the held
 * queue, whose room is for the incidents' records.  It waits bounded:
 * HISTORY_PENDING_MAX buckets, then the newest are dropped, and the log
 * says so once.  A bucket is a check's results that started within it,
 * by the wall clock; the description of the check (rtowatch status's)
 * names it, so a check changed by a reload starts a history of its own.
 */
#include <event2/event.h>

#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "history.h"
#include "log.h"
#include "probe.h"
#include "store.h"
#include "util.h"

#define HISTORY_PENDING_MAX	200000	/* buckets waiting, all checks */
/*
 * Buckets a transaction: one statement writes them all, about 7 us a
 * bucket (tests/unit/test_response.c), so up to 500 checks are one
 * transaction of under 4 ms, and 10,000 twenty, a turn of the loop each.
 * Not more: a transaction's rows are built as a JSON tree, then text,
 * then parsed by SQLite, about 1 kB a row all told, and 2,500 rows a
 * transaction lifted RSS by 4-5 MB for a second and a half each minute.
 */
#define HISTORY_TX_ROWS		500
#define HISTORY_ROLL_BATCH	200	/* checks rolled up a tick */
#define HISTORY_LONG_BUCKETS	60	/* short buckets to a long one */
/*
 * Observations pruned a tick (a minute): 720,000 a day, far beyond what
 * the vantage points write, so that a backlog (an upgrade, a longer
 * setting shortened) is caught up on in days, each batch a few ms.
 */
#define HISTORY_PRUNE_BATCH	500
/*
 * The loop's time a prune may take: a batch that took longer halves the
 * next (down to one observation), one well within it doubles the next
 * (up to HISTORY_PRUNE_BATCH), so that views costlier to judge than the
 * usual (store_observations_prune: one in a gap between windows, before
 * many incidents) hold the probes up for about this long a minute, not
 * for seconds.
 */
#define HISTORY_PRUNE_MS	20
/* Prunes refused in a row before it is a warning, not a debug line. */
#define HISTORY_PRUNE_FAILED	10
/*
 * A prune reads a bounded number of views (store_observations_prune),
 * so that one behind many kept (a long incident's) is reached in slices
 * of the loop's time: the next slice on the loop's next turn, up to
 * this many a tick.
 */
#define HISTORY_PRUNE_SLICES	100
/*
 * The ticks from the end of a read from the oldest view to the next,
 * when one takes more than a slice: between them a tick reads on from
 * where the last one was, the views that passed their keeping since,
 * not again those it found kept; a view kept then and not now (its
 * incident restored or out of the retention, a later view of its check
 * written) or one written late with an old time waits for the next, an
 * hour and the read's time at most by default.  A read is not started
 * again before its end: each would stop where the kept views take more
 * than the ticks between.
 */
#define HISTORY_PRUNE_AGAIN	60

/* One check's bucket being added up, or one waiting to be written. */
struct history_bucket {
	char		*system;
	char		*check;
	/*
	 * A slot's names are the rules' (the system's and check_conf's
	 * desc), which live until the next configure, and so are a waiting
	 * bucket's: copied then only (history_pending_own).  Copied at
	 * every close, they were 20,000 allocations a minute at 10,000
	 * checks, 0.5-0.7 MB of the heap for the flush's second or so;
	 * copied for each slot, 0.8 MB for good.
	 */
	int		 owned;
	/*
	 * 32 bits where they fit (a bucket is at most a minute; a response
	 * time at most its timeout): 64 bytes a check, not 96, in a table
	 * of one a check and in the flush's copy of it.
	 */
	int32_t		 span;		/* s */
	int32_t		 ok, failed;
	int32_t		 rtt_min, rtt_max;
	int64_t		 rtt_sum;
	int64_t		 at;		/* Unix s; 0: empty */
	const char	*cause;		/* probe_result_str's, static */
};

struct history_slot {
	struct history_bucket	 cur;
};

struct history {
	struct event_base	*base;
	struct store		*store;
	struct event		*timer;
	struct event		*more;		/* the next transaction */
	struct history_slot	*slots;		/* one a check, in order */
	size_t			 nslots;
	struct history_bucket	*pending;	/* closed, to be written */
	size_t			 npending, cappending;
	int			 dropping;	/* said once */
	/*
	 * The minute's end closes the buckets older than CLOSING (Unix s;
	 * 0: none) where they are, in the slots, and the writes take them
	 * from there, slot SCAN onwards: copied into the waiting array
	 * first, they were 0.64 MB more at 10,000 checks for the flush's
	 * second (64 bytes a check, in an array doubled as it grew).
	 * Only a bucket a newer result closes before it is written
	 * (history_add), or a reload or the stop, waits in that array.
	 */
	int64_t			 closing;
	size_t			 scan;
	int64_t			 span;		/* s */
	struct store_response_keep keep;
	int64_t			 cursor;	/* of the roll-up */
	int64_t			 obs_keep;	/* ms; set observations-keep */
	int64_t			 obs_retention;	/* ms: the records' at least */
	int			 obs_batch;	/* the next prune's */
	struct store_prune_at	 obs_at;	/* the views judged */
	struct event		*obs_next;	/* the next slice */
	int			 obs_failed;	/* prunes in a row */
	int			 obs_slices;	/* this tick's */
	int			 obs_ticks;	/* since that read's end */
	int			 obs_pass;	/* from the oldest, on */
	int			 obs_cheap;	/* and that took a slice */
	int			 obs_pass_slices;
	int64_t			 obs_pass_ms;
};

static void	history_timer_cb(evutil_socket_t, short, void *);
static void	history_more_cb(evutil_socket_t, short, void *);
static void	history_prune_cb(evutil_socket_t, short, void *);

struct history *
history_new(struct event_base *base, struct store *st)
{
	struct history	*h;

	h = xcalloc(1, sizeof(*h));
	h->obs_batch = HISTORY_PRUNE_BATCH;
	h->obs_pass = 1;		/* from the oldest, at the first tick */
	h->base = base;
	h->store = st;
	h->span = CONF_DEFAULT_HISTORY_BUCKET_MS / 1000;
	if ((h->timer = evtimer_new(base, history_timer_cb, h)) == NULL ||
	    (h->more = evtimer_new(base, history_more_cb, h)) == NULL ||
	    (h->obs_next = evtimer_new(base, history_prune_cb, h)) == NULL)
		fatalx("history_new: evtimer_new failed");
	return h;
}

/* The bucket B closed: it waits to be written, within the bound. */
static void
history_close(struct history *h, struct history_bucket *b)
{
	if (b->at == 0)
		return;
	if (h->npending == HISTORY_PENDING_MAX) {
		if (!h->dropping)
			log_warnx("history: %d buckets wait for the database;"
			    " newer ones are dropped until it takes them",
			    HISTORY_PENDING_MAX);
		h->dropping = 1;
	} else {
		if (h->npending == h->cappending) {
			h->cappending = h->cappending == 0 ? 1024 :
			    h->cappending * 2;
			h->pending = xrealloc(h->pending, h->cappending *
			    sizeof(*h->pending));
		}
		h->pending[h->npending] = *b;
		h->pending[h->npending].owned = 0;
		h->npending++;
	}
	b->at = 0;
}

static void
history_start_bucket(struct history_bucket *b, int64_t at, int64_t span)
{
	b->at = at;
	b->span = (int32_t)span;	/* set history-bucket: 1-60 s */
	b->ok = b->failed = 0;
	b->rtt_min = b->rtt_max = 0;
	b->rtt_sum = 0;
	b->cause = NULL;
}

/* A result of the check at SLOT (monitor.c's order), started AT_MS. */
void
history_add(struct history *h, int slot, enum probe_result result,
    int64_t at_ms, int64_t rtt_ms)
{
	struct history_bucket	*b;
	int64_t			 at;

	if (h == NULL || slot < 0 || (size_t)slot >= h->nslots ||
	    result == PROBE_LOCAL_ERROR)
		return;
	b = &h->slots[slot].cur;
	at = at_ms / 1000 / h->span * h->span;
	if (b->at != at) {
		history_close(h, b);
		history_start_bucket(b, at, h->span);
	}
	if (result != PROBE_OK) {
		b->failed++;
		b->cause = probe_result_str(result);
		return;
	}
	if (rtt_ms < 0)
		rtt_ms = 0;
	if (rtt_ms > INT32_MAX)
		rtt_ms = INT32_MAX;
	if (b->ok == 0 || rtt_ms < b->rtt_min)
		b->rtt_min = (int32_t)rtt_ms;
	if (b->ok == 0 || rtt_ms > b->rtt_max)
		b->rtt_max = (int32_t)rtt_ms;
	b->rtt_sum += rtt_ms;
	b->ok++;
}

static void
history_pending_clear(struct history *h, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (!h->pending[i].owned)
			continue;
		free(h->pending[i].system);
		free(h->pending[i].check);
	}
	/* Nothing pending is a NULL array: memmove's arguments may not be. */
	if (h->npending > n)
		memmove(h->pending, h->pending + n,
		    (h->npending - n) * sizeof(*h->pending));
	h->npending -= n;
	if (h->npending == 0) {
		h->dropping = 0;
		/* 80 bytes a check, needed a few loop turns a minute. */
		free(h->pending);
		h->pending = NULL;
		h->cappending = 0;
	}
}

/*
 * The minute's buckets are written: give the heap's free pages back.
 * glibc keeps what is freed for reuse unless it is at the heap's top, so
 * a burst (the flush itself, its 500-row statements, thousands of
 * incidents opening at once, their probes piling up behind the commits)
 * left RSS at its high-water mark for good: at 10,000 http checks, half
 * failing, 30 MB of heap held 18 MB in use.  This is the daemon's
 * regular burst and comes every minute, so any other is given back
 * within a minute too.  A few ms at 10,000 checks, once a minute.
 */
static void
history_trim(void)
{
	int64_t	 t0 = mono_ms();

	malloc_trim(0);
	log_debug("history: memory returned to the system in %lld ms",
	    (long long)(mono_ms() - t0));
}

/* A bucket as the store writes it. */
static void
history_row(struct store_response *r, const struct history_bucket *b)
{
	r->system = b->system;
	r->check = b->check;
	r->span = b->span;
	r->at = b->at;
	r->ok = b->ok;
	r->failed = b->failed;
	r->rtt_min = b->rtt_min;
	r->rtt_max = b->rtt_max;
	r->rtt_sum = b->rtt_sum;
	r->cause = b->cause;
}

/* Buckets closed but not written: waiting, or still in their slots. */
static int
history_waiting(const struct history *h)
{
	return h->npending > 0 || h->closing != 0;
}

/* A standby's closed buckets, still in their slots, are not kept. */
static void
history_slots_drop(struct history *h)
{
	size_t	 i;

	for (i = h->scan; i < h->nslots; i++)
		if (h->slots[i].cur.at != 0 &&
		    h->slots[i].cur.at < h->closing)
			h->slots[i].cur.at = 0;
	h->closing = 0;
}

/*
 * Write up to HISTORY_TX_ROWS closed buckets in one transaction, the
 * waiting ones first, then those the minute's end closed in their slots
 * (history_timer_cb): 1 when more wait, 0 when none does (or the store
 * holds changes: later), -1 when the database rejected them, which are
 * then dropped.
 */
static int
history_write(struct history *h)
{
	struct store_response	*r;
	struct history_bucket	*b, **from;
	size_t			 i, n, np, ns = 0, scan = h->scan;
	int			 rc;

	if (!history_waiting(h) || store_holding(h->store))
		return 0;
	/* A standby's buckets are not kept: the leader's are (lead.c). */
	if (!store_leading(h->store)) {
		history_pending_clear(h, h->npending);
		history_slots_drop(h);
		return 0;
	}
	if ((np = h->npending) > HISTORY_TX_ROWS)
		np = HISTORY_TX_ROWS;
	r = xcalloc(HISTORY_TX_ROWS, sizeof(*r));
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): pointers, one a row */
	from = xcalloc(HISTORY_TX_ROWS, sizeof(*from));
	for (i = 0; i < np; i++)
		history_row(&r[i], &h->pending[i]);
	n = np;
	while (n < HISTORY_TX_ROWS && h->closing != 0 && scan < h->nslots) {
		b = &h->slots[scan++].cur;
		if (b->at == 0 || b->at >= h->closing)
			continue;
		from[ns++] = b;
		history_row(&r[n++], b);
	}
	if (n == 0) {
		/* The rest of the slots had newer buckets: all written. */
		free(r);
		free(from);
		h->closing = 0;
		history_trim();
		return 0;
	}
	if (store_begin(h->store) == -1) {
		/* Refused at the bound: later, from the same slot. */
		free(r);
		free(from);
		return 0;
	}
	h->scan = scan;
	if (scan >= h->nslots)
		h->closing = 0;
	/*
	 * The checks' rows with every flush (INSERT OR IGNORE): a check's
	 * first bucket may come in any flush, as late as its first probe.
	 */
	rc = store_response_add_many(h->store, r, n, 1);
	free(r);
	if (rc == -1) {
		store_rollback(h->store);
		log_warnx("history: %zu buckets could not be written; "
		    "dropped", n);
	} else if (store_commit(h->store) == -1)
		log_warnx("history: %zu buckets could not be written; "
		    "dropped", n);
	history_pending_clear(h, np);
	for (i = 0; i < ns; i++)
		from[i]->at = 0;
	free(from);
	if (history_waiting(h))
		return 1;
	history_trim();
	return 0;
}

static void
history_more_cb(evutil_socket_t fd, short events, void *arg)
{
	struct history	*h = arg;
	struct timeval	 tv = { 0, 0 };

	(void)fd;
	(void)events;
	if (history_write(h) == 1)
		evtimer_add(h->more, &tv);
}

/* The next bucket's end, and a little after, so its results are in. */
static void
history_arm(struct history *h)
{
	struct timeval	 tv;
	int64_t		 now, span_ms, wait;

	now = wall_ms();
	span_ms = h->span * 1000;
	wait = (now / span_ms + 1) * span_ms - now + span_ms / 20;
	tv.tv_sec = (time_t)(wait / 1000);
	tv.tv_usec = (suseconds_t)(wait % 1000 * 1000);
	evtimer_add(h->timer, &tv);
}

/*
 * The vantage points' observations past their keeping, a batch a tick,
 * by the leader only (a standby's writes are refused), and not while the
 * store holds changes: their room is for the records.  One slice: its
 * batch grows when it read all it could (a full batch deleted, or every
 * view it may read judged) well within HISTORY_PRUNE_MS.
 */
static void
history_prune(struct history *h)
{
	int64_t	 t0 = mono_ms(), ms;
	int	 n, batch = h->obs_batch;

	if (store_holding(h->store) || !store_leading(h->store))
		return;
	n = store_observations_prune(h->store, wall_ms(), h->obs_keep,
	    h->obs_retention, batch, &h->obs_at);
	ms = mono_ms() - t0;
	h->obs_slices++;
	h->obs_pass_slices++;
	h->obs_pass_ms += ms;
	if (ms > HISTORY_PRUNE_MS && h->obs_batch > 1)
		h->obs_batch /= 2;
	else if ((n == batch || (n >= 0 && !h->obs_at.end)) &&
	    ms <= HISTORY_PRUNE_MS / 2 &&
	    h->obs_batch < HISTORY_PRUNE_BATCH)
		h->obs_batch = h->obs_batch * 2 < HISTORY_PRUNE_BATCH ?
		    h->obs_batch * 2 : HISTORY_PRUNE_BATCH;
	/* A full batch says there is a backlog: worth the log's while. */
	if (n == batch)
		log_info("observations: %d older than their keeping pruned in "
		    "%lld ms; more next minute", n, (long long)ms);
	else if (n > 0)
		log_debug("observations: %d pruned in %lld ms", n,
		    (long long)ms);
	else if (n == -1)
		log_debug("observations: not pruned this time (%lld ms)",
		    (long long)ms);
	/*
	 * One refused now and then passes (PostgreSQL's statement_timeout
	 * cuts a slow one, the batch halves): said when it lasts.
	 */
	h->obs_failed = n == -1 ? h->obs_failed + 1 : 0;
	if (h->obs_failed == HISTORY_PRUNE_FAILED)
		log_warnx("observations: not pruned in %d runs in a row, the "
		    "last after %lld ms (the debug lines say why)",
		    h->obs_failed, (long long)ms);
	if (n == -1 || n == batch)
		return;		/* next tick */
	if (!h->obs_at.end) {
		struct timeval	 tv = { 0, 0 };

		if (h->obs_slices < HISTORY_PRUNE_SLICES)
			evtimer_add(h->obs_next, &tv);
	} else if (h->obs_pass) {
		h->obs_pass = 0;
		h->obs_cheap = h->obs_pass_slices == 1;
		if (!h->obs_cheap)
			log_debug("observations: read from the oldest in %d "
			    "slices, %lld ms", h->obs_pass_slices,
			    (long long)h->obs_pass_ms);
	}
}

static void
history_prune_cb(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	history_prune(arg);
}

/*
 * A tick's prune: on from the last view judged, or, once that reached
 * the keeping, from the oldest view again when that is cheap (it took a
 * slice last time), else HISTORY_PRUNE_AGAIN ticks later.
 */
static void
history_prune_tick(struct history *h)
{
	if (evtimer_pending(h->obs_next, NULL))
		return;		/* the last tick's slices go on */
	h->obs_slices = 0;
	if (h->obs_at.end && (h->obs_cheap ||
	    ++h->obs_ticks >= HISTORY_PRUNE_AGAIN)) {
		h->obs_at.from[0] = '\0';
		h->obs_at.end = 0;
		h->obs_ticks = 0;
		h->obs_pass = 1;
		h->obs_pass_slices = 0;
		h->obs_pass_ms = 0;
	}
	history_prune(h);
}

static void
history_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct history	*h = arg;
	struct timeval	 tv = { 0, 0 };
	int64_t		 now;

	(void)fd;
	(void)events;
	now = wall_ms() / 1000 / h->span * h->span;
	h->closing = now;
	h->scan = 0;
	if (history_write(h) == 1)
		evtimer_add(h->more, &tv);
	if (!store_holding(h->store) && store_response_rollup(h->store,
	    wall_ms() / 1000, &h->keep, HISTORY_ROLL_BATCH, &h->cursor) == -1)
		h->cursor = 0;
	history_prune_tick(h);
	history_arm(h);
}

/*
 * The rules the slots point at are freed after this configure: the
 * waiting buckets keep copies of their names.
 */
static void
history_pending_own(struct history *h)
{
	size_t	 i;

	for (i = 0; i < h->npending; i++) {
		if (h->pending[i].owned)
			continue;
		h->pending[i].system = xstrdup(h->pending[i].system);
		h->pending[i].check = xstrdup(h->pending[i].check);
		h->pending[i].owned = 1;
	}
}

static void
history_slots_free(struct history *h)
{
	free(h->slots);
	h->slots = NULL;
	h->nslots = 0;
}

/*
 * The checks of CONF, in the order monitor.c numbers them.  The buckets
 * being added up are closed first: a check that changed is another.
 */
void
history_configure(struct history *h, const struct conf *conf)
{
	struct system_conf	*sys;
	struct check_conf	*cc;
	struct history_slot	*s;
	size_t			 i, n = 0;

	for (i = 0; i < h->nslots; i++)
		history_close(h, &h->slots[i].cur);
	h->closing = 0;
	history_pending_own(h);
	history_slots_free(h);
	TAILQ_FOREACH(sys, &conf->systems, entry)
		n += (size_t)sys->nchecks;
	h->slots = xcalloc(n > 0 ? n : 1, sizeof(*h->slots));
	TAILQ_FOREACH(sys, &conf->systems, entry) {
		TAILQ_FOREACH(cc, &sys->checks, entry) {
			s = &h->slots[h->nslots++];
			s->cur.system = sys->name;
			s->cur.check = cc->desc;
		}
	}
	h->span = conf->history_bucket_ms / 1000;
	h->keep.short_span = h->span;
	h->keep.long_span = h->span * HISTORY_LONG_BUCKETS;
	h->keep.short_keep = conf->history_minutes_ms / 1000;
	h->keep.long_keep = conf->history_hours_ms / 1000;
	if (h->keep.long_keep < h->keep.short_keep)
		h->keep.long_keep = h->keep.short_keep;
	h->obs_keep = conf->observations_keep_ms;
	/* A month counted as 31 days: never shorter than the policy's. */
	h->obs_retention = conf->policy.retention.ms +
	    conf->policy.retention.months * 31LL * 86400 * 1000;
	history_arm(h);
}

/* At a clean stop: what was added up is written, if it can be. */
void
history_free(struct history *h)
{
	size_t	 i;

	if (h == NULL)
		return;
	for (i = 0; i < h->nslots; i++)
		history_close(h, &h->slots[i].cur);
	h->closing = 0;
	while (history_write(h) == 1)
		;
	if (h->npending > 0)
		log_warnx("history: %zu buckets not written at the stop",
		    h->npending);
	history_pending_clear(h, h->npending);
	history_slots_free(h);
	free(h->pending);
	event_free(h->timer);
	event_free(h->more);
	event_free(h->obs_next);
	free(h);
}
