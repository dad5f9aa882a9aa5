/*
 * clocks.c: the notify, restore and report clocks of IMS-P-009.
 *
 * The store holds every clock; this module only mirrors the open ones as
 * timers.  A timer wakes for the next reminder or for the deadline.  When
 * several of those passed at once (the daemon was down, or the loop was
 * stuck) only the latest is recorded: one reminder, or the missed
 * deadline, never a burst of stale ones; and an event recorded more than
 * CLOCKS_LATE_MS after its time says by how much it is late, and why.
 *
 * The timers count on the loop's monotonic clock but the deadlines are
 * wall-clock times: when the wall clock jumps (wallclock.c), clocks_rearm
 * arms every timer again from its wall time.
 *
 * The timers are entries of one timerheap (timerheap.c) by wall time: an
 * event per clock cost 144 bytes of heap each, 2 MB or more with a mass
 * failure's thousands of incidents open.
 *
 * A mass failure's incidents open in the same seconds, so their reminders
 * and deadlines fall due together: 5,000 at 10,000 systems half failing.
 * They fire in slices of CLOCKS_SLICE_MS a turn of the loop, each slice's
 * one transaction (a store group, store.c), as the engine applies probe
 * results: one sync a slice instead of one a reminder, and the probes
 * polled between slices.  One at a time, each synced on its own, they
 * held the loop 5-10 s, reminders fell due late by as much, every probe
 * due meanwhile started at once after, and the daemon's heap grew by
 * their buffers and results (15 MB at 10,000 http checks) and kept a step
 * of it.
 */
#include <sys/queue.h>

#include <event2/event.h>

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clocks.h"
#include "log.h"
#include "store.h"
#include "timerheap.h"
#include "util.h"
#include "wallclock.h"

#define CLOCKS_LATE_MS		2000
#define CLOCKS_RETRY_MS		5000
#define CLOCKS_SLICE_MS		20	/* of firing, a turn of the loop */

/*
 * 5,000 incidents open keep 10,000 clocks (notify and restore): each is
 * 104 bytes, a 112-byte block (128 with a pointer to its clocks and the
 * small fields unpacked), and an incident's clocks share one copy of its
 * system's name (issue 20).
 */
struct clock {
	TAILQ_ENTRY(clock)	 entry;
	LIST_ENTRY(clock)	 by_incident;	/* in its bucket */
	int64_t			 id;
	int64_t			 incident_id;
	uint8_t			 kind;		/* enum policy_clock */
	uint8_t			 level;
	uint8_t			 done;		/* reminders recorded */
	int			 factor;	/* a drill's compression, 1 */
	int64_t			 start;
	int64_t			 due;
	int64_t			 breached_at;
	char			*system;	/* shared by its incident's */
	struct timerheap_entry	 timer;		/* by wall time */
};

struct clocks {
	struct event_base	*base;
	struct store		*store;
	const struct policy	*policy;
	TAILQ_HEAD(clock_list, clock) list;
	struct timerheap	*timers;
	/*
	 * The same clocks by incident: what one incident's change touches
	 * is found without walking every running clock, which made many
	 * incidents changing at once cost the square of their number.
	 * Incident ids count up, so their remainder spreads them evenly.
	 */
	LIST_HEAD(clock_bucket, clock) *buckets;
	size_t			 nbuckets;
	size_t			 nclocks;
	/* Incidents whose clocks changed while the store held changes. */
	int64_t			*stale;
	size_t			 nstale;
	size_t			 stale_size;
	/* And the clocks those changes stopped: (incident, kind) pairs. */
	struct clock_stop {
		int64_t		 incident;
		enum policy_clock kind;
	}			*stops;
	size_t			 nstops;
	size_t			 stops_size;
	/* And the clocks they started, armed at once from here. */
	struct store_open_clock	*opens;
	size_t			 nopens;
	size_t			 opens_size;
	/* The system an incident is about, for a clock the store holds. */
	const char		*(*namer)(void *, int64_t);
	void			*namer_arg;
};

static void	clock_arm(struct clocks *, struct clock *);
static void	clock_fire_cb(struct timerheap_entry *, void *);
static void	clocks_slice_begin(void *);
static void	clocks_slice_end(void *);

/*
 * A drill's clocks run FACTOR times faster (5.8.1): the policy's
 * reminders are reckoned in the clock's own time, which passes FACTOR
 * times as fast as the wall clock from its start.  For every real
 * incident FACTOR is 1 and both are the same.
 */
static int64_t
clock_virtual(const struct clock *c, int64_t t)
{
	return c->start + (t - c->start) * c->factor;
}

static int64_t
clock_real(const struct clock *c, int64_t v)
{
	if (v == 0)
		return 0;
	/* Rounded up: a reminder never fires before its time. */
	return c->start + (v - c->start + c->factor - 1) / c->factor;
}

struct clocks *
clocks_new(struct event_base *base, struct store *store)
{
	struct clocks	*cl;

	cl = xcalloc(1, sizeof(*cl));
	cl->base = base;
	cl->store = store;
	TAILQ_INIT(&cl->list);
	cl->timers = timerheap_new(base, wall_ms, clock_fire_cb, cl);
	timerheap_set_slice(cl->timers, CLOCKS_SLICE_MS, clocks_slice_begin,
	    clocks_slice_end);
	return cl;
}

/* The clocks due in one turn are one transaction: one sync for them. */
static void
clocks_slice_begin(void *arg)
{
	struct clocks	*cl = arg;

	store_group_begin(cl->store);
}

static void
clocks_slice_end(void *arg)
{
	struct clocks	*cl = arg;

	store_group_commit(cl->store);
}

#define CLOCKS_BUCKETS_MIN	64

static struct clock_bucket *
clocks_bucket(const struct clocks *cl, int64_t incident)
{
	if (cl->nbuckets == 0)
		fatalx("clocks: no buckets");	/* callers check */
	return &cl->buckets[(uint64_t)incident % cl->nbuckets];
}

/* C joins its incident's bucket; the table doubles past two a bucket. */
static void
clocks_index(struct clocks *cl, struct clock *c)
{
	struct clock	*o;
	size_t		 i;

	if (cl->nbuckets == 0 || cl->nclocks + 1 > cl->nbuckets * 2) {
		free(cl->buckets);
		cl->nbuckets = cl->nbuckets == 0 ? CLOCKS_BUCKETS_MIN :
		    cl->nbuckets * 2;
		cl->buckets = xcalloc(cl->nbuckets, sizeof(*cl->buckets));
		for (i = 0; i < cl->nbuckets; i++)
			LIST_INIT(&cl->buckets[i]);
		TAILQ_FOREACH(o, &cl->list, entry)
			if (o != c)
				LIST_INSERT_HEAD(clocks_bucket(cl,
				    o->incident_id), o, by_incident);
	}
	LIST_INSERT_HEAD(clocks_bucket(cl, c->incident_id), c, by_incident);
	cl->nclocks++;
}

/*
 * C, out of its bucket, is freed; its name too unless another clock of
 * its incident, in the same bucket, shares it.
 */
static void
clock_free(struct clocks *cl, struct clock *c)
{
	struct clock	*o;

	timerheap_disarm(cl->timers, &c->timer);
	if (cl->nbuckets > 0)
		LIST_FOREACH(o, clocks_bucket(cl, c->incident_id), by_incident)
			if (o->system == c->system) {
				c->system = NULL;
				break;
			}
	free(c->system);
	free(c);
}

void
clocks_free(struct clocks *cl)
{
	struct clock	*c;

	if (cl == NULL)
		return;
	while ((c = TAILQ_FIRST(&cl->list)) != NULL) {
		TAILQ_REMOVE(&cl->list, c, entry);
		LIST_REMOVE(c, by_incident);
		clock_free(cl, c);
	}
	timerheap_free(cl->timers);
	free(cl->buckets);
	free(cl->stale);
	free(cl->stops);
	free(cl->opens);
	free(cl);
}

/* A reload may change the reminders: re-arm everything by the new ones. */
void
clocks_set_policy(struct clocks *cl, const struct policy *pol)
{
	struct clock	*c;

	cl->policy = pol;
	TAILQ_FOREACH(c, &cl->list, entry)
		clock_arm(cl, c);
}

static void
clock_arm_at(struct clocks *cl, struct clock *c, int64_t when)
{
	timerheap_arm(cl->timers, &c->timer, when);
}

static void
clock_arm(struct clocks *cl, struct clock *c)
{
	int64_t	 when;

	timerheap_disarm(cl->timers, &c->timer);
	if (c->done > cl->policy->nremind[c->kind])
		c->done = (uint8_t)cl->policy->nremind[c->kind];
	when = clock_real(c, policy_next_wakeup(cl->policy, c->kind,
	    clock_virtual(c, c->due), c->done, c->breached_at != 0));
	if (when != 0)
		clock_arm_at(cl, c, when);
}

/*
 * " (late by 1h 0m: it fell due at ..., ...)" saying why, or "".  Three
 * reasons: the wall clock jumped forward over the deadline, the daemon
 * was not running then, or it ran but its loop was held up.
 */
static void
clock_lateness(int64_t planned, int64_t now, char *buf, size_t len)
{
	struct wallclock_jump	 j;
	char			 d[32], t[TIME_STRLEN], s[40];
	char			 t1[TIME_STRLEN], t2[TIME_STRLEN];

	if (now - planned <= CLOCKS_LATE_MS) {
		buf[0] = '\0';
		return;
	}
	duration_fmt(now - planned, d, sizeof(d));
	time_fmt(planned, t, sizeof(t));
	if (wallclock_skipped(planned, &j))
		snprintf(buf, len, " (late by %s: it fell due at %s, which "
		    "the wall clock jumped forward over: it moved %s, from %s "
		    "to %s, while rtowatchd was running)", d, t,
		    wallclock_skew_fmt(j.skew, s, sizeof(s)),
		    time_fmt(j.from, t1, sizeof(t1)),
		    time_fmt(j.to, t2, sizeof(t2)));
	else if (planned < wallclock_since())
		snprintf(buf, len, " (late by %s: it fell due at %s, when "
		    "rtowatchd was not running)", d, t);
	else
		snprintf(buf, len, " (late by %s: it fell due at %s, when "
		    "rtowatchd was running but held up)", d, t);
}

static void
clock_fire_cb(struct timerheap_entry *en, void *arg)
{
	struct clocks		*cl = arg;
	struct clock		*c = (struct clock *)(void *)((char *)en -
				    offsetof(struct clock, timer));
	const struct policy	*pol = cl->policy;
	const char		*name = policy_clock_name(c->kind);
	char			 detail[640], late[320], t[TIME_STRLEN];
	char			 d[32], event[64];
	int64_t			 now, planned, breached = 0;
	int			 n;

	/* A jump since the last tick is known before this is recorded. */
	wallclock_check();
	now = wall_ms();
	time_fmt(c->due, t, sizeof(t));
	n = policy_reminders_due(pol, c->kind, clock_virtual(c, c->due),
	    c->done, clock_virtual(c, now));
	if (c->breached_at == 0 && now >= c->due) {
		/* The deadline passed: that supersedes any reminder. */
		n = pol->nremind[c->kind];
		breached = now;
		planned = c->due;
		clock_lateness(planned, now, late, sizeof(late));
		snprintf(event, sizeof(event), "%s deadline missed", name);
		snprintf(detail, sizeof(detail), "the %s deadline of level %d "
		    "passed at %s and the step is not recorded%s", name,
		    c->level, t, late);
	} else if (n > c->done) {
		planned = clock_real(c, clock_virtual(c, c->due) -
		    pol->remind[c->kind][n - 1]);
		clock_lateness(planned, now, late, sizeof(late));
		snprintf(event, sizeof(event), "%s reminder", name);
		snprintf(detail, sizeof(detail), "the %s deadline of level %d "
		    "is %s, in %s%s", name, c->level, t,
		    duration_fmt(c->due - now, d, sizeof(d)), late);
	} else {
		clock_arm(cl, c);	/* woke early: the wall clock moved */
		return;
	}

	if (store_begin(cl->store) == -1 ||
	    store_clock_progress(cl->store, c->id, n, breached) == -1 ||
	    store_timeline_add(cl->store, &(struct store_event){
	    .incident_id = c->incident_id, .at = now, .event = event,
	    .actor = "rtowatchd", .detail = detail }) == -1 ||
	    notice_queue(cl->store, pol, c->incident_id, c->level, c->system,
	    event, detail, now) == -1 ||
	    store_commit(cl->store) == -1) {
		store_rollback(cl->store);
		log_warnx("incident %lld: %s could not be recorded; retrying",
		    (long long)c->incident_id, event);
		clock_arm_at(cl, c, now + CLOCKS_RETRY_MS);
		return;
	}
	c->done = (uint8_t)n;
	if (breached)
		c->breached_at = breached;
	log_warnx("incident %lld (%s): %s: %s", (long long)c->incident_id,
	    c->system, event, detail);
	clock_arm(cl, c);
}

static int
clocks_add(const struct store_open_clock *oc, void *arg)
{
	struct clocks	*cl = arg;
	struct clock	*c, *o;
	enum policy_clock kind;

	if (policy_clock_find(oc->kind, &kind) == -1) {
		log_warnx("clock %lld: unknown kind %s", (long long)oc->id,
		    oc->kind);
		return 0;
	}
	c = xcalloc(1, sizeof(*c));
	c->id = oc->id;
	c->incident_id = oc->incident_id;
	c->kind = (uint8_t)kind;
	c->level = (uint8_t)oc->level;
	c->start = oc->started_at;
	c->due = oc->due_at;
	c->done = (uint8_t)(oc->reminders_done < 0 ? 0 :
	    oc->reminders_done > POLICY_MAX_REMINDERS ? POLICY_MAX_REMINDERS :
	    oc->reminders_done);
	c->breached_at = oc->breached_at;
	c->factor = oc->factor > 1 ? oc->factor : 1;
	if (cl->nbuckets > 0)
		LIST_FOREACH(o, clocks_bucket(cl, oc->incident_id),
		    by_incident)
			if (o->incident_id == oc->incident_id &&
			    strcmp(o->system, oc->system) == 0) {
				c->system = o->system;
				break;
			}
	if (c->system == NULL)
		c->system = xstrdup(oc->system);
	TAILQ_INSERT_TAIL(&cl->list, c, entry);
	clocks_index(cl, c);
	clock_arm(cl, c);
	return 0;
}

/* The wall clock jumped: every deadline is where its wall time now is. */
void
clocks_rearm(struct clocks *cl)
{
	struct clock	*c;

	TAILQ_FOREACH(c, &cl->list, entry)
		clock_arm(cl, c);
	timerheap_rearm(cl->timers);	/* the earliest may be where it was */
}

/* After a restart: arm every clock the store says is still running. */
int
clocks_recover(struct clocks *cl)
{
	return store_open_clocks(cl->store, 0, clocks_add, cl);
}

/*
 * A clock started by a change the store holds: armed now, as it will be
 * in the records, unless the change found it there already.
 */
static void
clocks_add_held(struct clocks *cl, struct store_open_clock *oc)
{
	struct clock	*c;
	const char	*system = NULL;
	enum policy_clock kind;

	if (cl->nbuckets > 0)
		LIST_FOREACH(c, clocks_bucket(cl, oc->incident_id),
		    by_incident)
		if (c->incident_id == oc->incident_id &&
		    policy_clock_find(oc->kind, &kind) == 0 &&
		    c->kind == kind &&
		    c->level == oc->level)
			return;
	if (cl->namer != NULL)
		system = cl->namer(cl->namer_arg, oc->incident_id);
	snprintf(oc->system, sizeof(oc->system), "%s", system != NULL ?
	    system : "?");
	clocks_add(oc, cl);
}

/* Was clock C stopped by a change the store holds? */
static int
clocks_stopped(const struct clocks *cl, const struct clock *c)
{
	size_t	 i;

	for (i = 0; i < cl->nstops; i++)
		if (cl->stops[i].incident == c->incident_id &&
		    cl->stops[i].kind == c->kind)
			return 1;
	return 0;
}

/*
 * Make the timers of INCIDENT match the store after a commit.  While the
 * store holds changes in memory (store.c), the database does not show
 * them yet: the incident's running timers go on, less those the held
 * change stopped and with those it started (clocks_open, clocks_stop
 * note them), and the store is read again once it has written them.
 */
void
clocks_sync(struct clocks *cl, int64_t incident)
{
	struct clock	*c, *next;
	size_t		 i;
	int		 holding = store_holding(cl->store);

	for (i = 0; i < cl->nopens; )
		if (cl->opens[i].incident_id == incident) {
			if (holding)
				clocks_add_held(cl, &cl->opens[i]);
			cl->opens[i] = cl->opens[--cl->nopens];
		} else
			i++;
	c = cl->nbuckets > 0 ? LIST_FIRST(clocks_bucket(cl, incident)) : NULL;
	for (; c != NULL; c = next) {
		next = LIST_NEXT(c, by_incident);
		if (c->incident_id == incident &&
		    (!holding || clocks_stopped(cl, c))) {
			TAILQ_REMOVE(&cl->list, c, entry);
			LIST_REMOVE(c, by_incident);
			cl->nclocks--;
			clock_free(cl, c);
		}
	}
	for (i = 0; i < cl->nstops; )
		if (cl->stops[i].incident == incident)
			cl->stops[i] = cl->stops[--cl->nstops];
		else
			i++;
	if (holding) {
		for (i = 0; i < cl->nstale; i++)
			if (cl->stale[i] == incident)
				return;
		if (cl->nstale == cl->stale_size) {
			cl->stale_size = cl->stale_size == 0 ? 16 :
			    cl->stale_size * 2;
			cl->stale = xrealloc(cl->stale, cl->stale_size *
			    sizeof(*cl->stale));
		}
		cl->stale[cl->nstale++] = incident;
		return;
	}
	if (store_open_clocks(cl->store, incident, clocks_add, cl) == -1)
		log_warnx("incident %lld: cannot read its clocks",
		    (long long)incident);
}

/* The store wrote what it held: the clocks it touched are read again. */
void
clocks_flushed(void *arg)
{
	struct clocks	*cl = arg;
	int64_t		*stale = cl->stale;
	size_t		 i, n = cl->nstale;

	cl->stale = NULL;
	cl->nstale = cl->stale_size = 0;
	cl->nstops = 0;
	cl->nopens = 0;
	for (i = 0; i < n; i++)
		clocks_sync(cl, stale[i]);
	free(stale);
}

/* The deadline of KIND from START, a drill's compressed by FACTOR. */
static int64_t
clocks_due(struct clocks *cl, enum policy_clock kind, int level,
    int64_t start, int factor)
{
	int64_t	 due;

	due = policy_due(cl->policy, kind, level, start);
	if (due == 0 || factor <= 1)
		return due;
	return start + (due - start) / factor;
}

struct clocks_facts {
	int	 factor;
	int	 nclocks;		/* of the kind asked about */
	int64_t	 controlled_at;
	int64_t	 restored_at;
};

static int
clocks_facts_cb(int n, const char *const *cols, const char *const *vals,
    const int *num, void *arg)
{
	struct clocks_facts	*f = arg;

	(void)cols;
	(void)num;
	if (n < 4)
		return -1;
	f->factor = vals[0] != NULL ? atoi(vals[0]) : 1;
	f->nclocks = vals[1] != NULL ? atoi(vals[1]) : 0;
	if (vals[2] == NULL || time_parse(vals[2], &f->controlled_at) == -1)
		f->controlled_at = 0;
	if (vals[3] == NULL || time_parse(vals[3], &f->restored_at) == -1)
		f->restored_at = 0;
	return 0;
}

/* What the clocks need to know of INCIDENT, in the caller's transaction. */
static int
clocks_facts(struct clocks *cl, int64_t incident, enum policy_clock kind,
    struct clocks_facts *f)
{
	const char	*args[2];
	char		 num[24];

	memset(f, 0, sizeof(*f));
	f->factor = 1;
	snprintf(num, sizeof(num), "%lld", (long long)incident);
	args[0] = num;
	args[1] = policy_clock_name(kind);
	return store_select(cl->store, "SELECT coalesce(drill_factor, 1),"
	    " (SELECT count(*) FROM clocks WHERE incident_id = i.id"
	    " AND kind = ?2), controlled_at, restored_at"
	    " FROM incidents i WHERE i.id = ?1", 2, args, clocks_facts_cb, f);
}

/* Start KIND for INCIDENT at LEVEL from START, if the policy has it. */
int
clocks_open(struct clocks *cl, int64_t incident, enum policy_clock kind,
    int level, int64_t start, int64_t *due)
{
	struct clocks_facts	 f;
	int64_t			 id;

	*due = 0;
	if (!policy_clock_applies(cl->policy, kind, level))
		return 0;
	if (clocks_facts(cl, incident, kind, &f) == -1)
		return -1;
	*due = clocks_due(cl, kind, level, start, f.factor);
	if (store_clock_open(cl->store, &(struct store_clock){
	    .incident_id = incident, .kind = policy_clock_name(kind),
	    .level = level, .started_at = start, .due_at = *due }, &id) == -1)
		return -1;
	if (store_holding(cl->store)) {
		if (cl->nopens == cl->opens_size) {
			cl->opens_size = cl->opens_size == 0 ? 16 :
			    cl->opens_size * 2;
			cl->opens = xrealloc(cl->opens, cl->opens_size *
			    sizeof(*cl->opens));
		}
		memset(&cl->opens[cl->nopens], 0, sizeof(*cl->opens));
		cl->opens[cl->nopens].id = id;
		cl->opens[cl->nopens].incident_id = incident;
		snprintf(cl->opens[cl->nopens].kind,
		    sizeof(cl->opens[cl->nopens].kind), "%s",
		    policy_clock_name(kind));
		cl->opens[cl->nopens].level = level;
		cl->opens[cl->nopens].started_at = start;
		cl->opens[cl->nopens++].due_at = *due;
	}
	return 0;
}

/* How clocks the store holds learn the name of their incident's system. */
void
clocks_set_namer(struct clocks *cl, const char *(*fn)(void *, int64_t),
    void *arg)
{
	cl->namer = fn;
	cl->namer_arg = arg;
}

/*
 * Start KIND once in the incident's life: a clock that ran, or runs, is
 * never started again, whatever the level (an investigation report owed
 * since damage was controlled is not owed anew from a later restoration).
 */
int
clocks_open_once(struct clocks *cl, int64_t incident, enum policy_clock kind,
    int level, int64_t start)
{
	struct clocks_facts	 f;
	int64_t			 due;

	if (!policy_clock_applies(cl->policy, kind, level))
		return 0;
	if (clocks_facts(cl, incident, kind, &f) == -1)
		return -1;
	if (f.nclocks > 0)
		return 0;
	return clocks_open(cl, incident, kind, level, start, &due);
}

/*
 * The investigation report (調查、處理及改善報告) is due one month after
 * damage was controlled or the service restored, whichever came first
 * (5.3.7.3.6: 「完成損害控制或復原作業後」), for every level 3-4
 * incident, however it was opened.  Called once either step, or a raise
 * to level 3-4, is written in the caller's transaction: it starts from
 * the earlier of the two recorded times, and never restarts.
 */
int
clocks_report_start(struct clocks *cl, int64_t incident, int level)
{
	struct clocks_facts	 f;
	int64_t			 start;

	if (!policy_clock_applies(cl->policy, CLOCK_REPORT, level))
		return 0;
	if (clocks_facts(cl, incident, CLOCK_REPORT, &f) == -1)
		return -1;
	start = f.controlled_at;
	if (start == 0 || (f.restored_at != 0 && f.restored_at < start))
		start = f.restored_at;
	if (start == 0 || f.nclocks > 0)
		return 0;
	return clocks_open_once(cl, incident, CLOCK_REPORT, level, start);
}

int
clocks_stop(struct clocks *cl, int64_t incident, enum policy_clock kind,
    int64_t at, const char *by)
{
	if (store_clock_stop(cl->store, incident, policy_clock_name(kind), at,
	    by) == -1)
		return -1;
	if (store_holding(cl->store)) {
		if (cl->nstops == cl->stops_size) {
			cl->stops_size = cl->stops_size == 0 ? 16 :
			    cl->stops_size * 2;
			cl->stops = xrealloc(cl->stops, cl->stops_size *
			    sizeof(*cl->stops));
		}
		cl->stops[cl->nstops].incident = incident;
		cl->stops[cl->nstops++].kind = kind;
	}
	return 0;
}

/*
 * The level changed: the running KIND clock takes the new level's length
 * and is that level's clock from now on.
 */
int
clocks_relevel(struct clocks *cl, int64_t incident, enum policy_clock kind,
    int level)
{
	struct clock	*c;

	if (cl->nbuckets == 0)
		return 0;
	LIST_FOREACH(c, clocks_bucket(cl, incident), by_incident) {
		if (c->incident_id != incident || c->kind != kind ||
		    !policy_clock_applies(cl->policy, kind, level))
			continue;
		/* Only the restore clock's deadline is on the incident too. */
		if (kind == CLOCK_RESTORE ? store_clock_set_due(cl->store,
		    &(struct store_clock_due){ .clock_id = c->id,
		    .incident_id = incident, .level = level,
		    .due_at = clocks_due(cl, kind, level, c->start,
		    c->factor) }) == -1 :
		    store_clock_move(cl->store, c->id, level,
		    clocks_due(cl, kind, level, c->start, c->factor)) == -1)
			return -1;
	}
	return 0;
}
