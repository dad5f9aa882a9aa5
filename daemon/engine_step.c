/*
 * engine_step.c: what the incident engine decides, apart from what it
 * does about it (engine.c).  See engine_step.h.
 */
#include <string.h>

#include "engine_step.h"
#include "policy.h"

/*
 * How long from (WALL0, MONO0) to (WALL1, MONO1): the longer of what the
 * two clocks say, and never negative.  The wall clock set back would
 * shorten an outage, even below zero; the monotonic clock stands still
 * while the host or its VM is suspended, time the wall clock gains when
 * it is set right on resume, and the deadlines (the RTO's among them)
 * follow the wall clock.  Taking the longer keeps "within the RTO" true
 * only when it is by both.  A moment from before a restart (MONO 0) has
 * only its wall time.
 */
int64_t
engine_step_elapsed(int64_t wall0, int64_t mono0, int64_t wall1,
    int64_t mono1)
{
	int64_t	 d = wall1 - wall0;

	if (mono0 != 0 && mono1 != 0 && mono1 - mono0 > d)
		d = mono1 - mono0;
	return d < 0 ? 0 : d;
}

/* Sort the first N of V (small: the vantage points) ascending. */
static void
engine_step_sort(int64_t *v, int n)
{
	int64_t	 t;
	int	 i, j;

	for (i = 1; i < n; i++)
		for (j = i; j > 0 && v[j - 1] > v[j]; j--) {
			t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

#define ENGINE_STEP_MAX_VIEWS	64

/*
 * "down when NEED of OF vantage points fail" over Q's views.  A vantage
 * point whose own network is lost, or that has not been heard of for too
 * long, is left out of the count: it knows nothing of the system (unless
 * every one heard of says its network is lost: then what failed is
 * beyond them all, and they all count).  The quorum keeps its share of
 * those left, rounded up (2 of 3 is 2 of 2 with one left out, 1 of 1
 * with two), so that nodes lost with the network do not make an outage
 * unseeable; with none left, nothing is decided.  It was met when the NEED-th failing vantage point failed, by
 * their own first failures.  Not met, it broke (after SINCE, an
 * outage's start) when the up vantage points that came back left fewer
 * than NEED failing: BROKE_AT, 0 when a view left the count meanwhile.
 */
void
engine_step_quorum(const struct engine_quorum *q, int64_t since,
    struct engine_quorum_count *c)
{
	const struct engine_vantage	*v;
	int64_t				 downs[ENGINE_STEP_MAX_VIEWS];
	int64_t				 ups[ENGINE_STEP_MAX_VIEWS];
	int				 i, nups = 0, k, of, anyone = 0;

	memset(c, 0, sizeof(*c));
	c->met_by = -1;
	/*
	 * Every vantage point heard of says its network is lost: the
	 * failure is beyond them all (the systems' own network), and each
	 * counts.
	 */
	for (i = 0; i < q->nviews && i < ENGINE_STEP_MAX_VIEWS; i++)
		if (!q->views[i].silent && !q->views[i].lost)
			anyone = 1;
	for (i = 0; i < q->nviews && i < ENGINE_STEP_MAX_VIEWS; i++) {
		v = &q->views[i];
		if (v->silent || (v->lost && anyone))
			continue;
		c->counted++;
		if (v->down)
			downs[c->failing++] = v->down_at;
		else if (since != 0 && v->up_at > since)
			ups[nups++] = v->up_at;
	}
	if (c->counted == 0)
		return;
	of = q->of > 0 ? q->of : 1;
	c->need = (q->need * c->counted + of - 1) / of;
	if (c->need < 1)
		c->need = 1;
	if (c->failing >= c->need) {
		c->met = 1;
		engine_step_sort(downs, c->failing);
		c->met_at = downs[c->need - 1];
		for (i = 0; i < q->nviews && i < ENGINE_STEP_MAX_VIEWS; i++) {
			v = &q->views[i];
			if (!v->silent && (!v->lost || !anyone) && v->down &&
			    v->down_at == c->met_at)
				c->met_by = i;
		}
		return;
	}
	/* At most K of the ups may have come after the break. */
	k = c->need - c->failing - 1;
	engine_step_sort(ups, nups);
	if (nups - 1 - k >= 0)
		c->broke_at = ups[nups - 1 - k];
}

/*
 * Is S down: a check of its own down, or, with a quorum, enough vantage
 * points agreeing (C, filled then)?
 */
static int
engine_step_is_down(const struct engine_snapshot *s,
    struct engine_quorum_count *c)
{
	if (s->quorum == NULL)
		return engine_step_any_down(s->checks, s->nchecks);
	engine_step_quorum(s->quorum, s->started_at, c);
	return c->met;
}

/*
 * One result of CS, OK or not, started at AT (AT_MONO): the check is down
 * after DOWN_AFTER failures in a row and up again after UP_AFTER
 * successes.  The first of each run is kept: that is when the service
 * actually changed.
 */
void
engine_step_count(struct engine_check *cs, int ok, int64_t at,
    int64_t at_mono, int down_after, int up_after)
{
	if (ok) {
		cs->fails = 0;
		if (cs->successes++ == 0) {
			cs->first_ok_at = at;
			cs->first_ok_mono = at_mono;
		}
		if (cs->down && cs->successes >= up_after) {
			cs->down = 0;
			cs->changed_at = cs->first_ok_at;
		} else if (cs->changed_at == 0)
			cs->changed_at = at;	/* its first result */
	} else {
		cs->successes = 0;
		if (cs->fails++ == 0) {
			cs->first_fail_at = at;
			cs->first_fail_mono = at_mono;
		}
		if (!cs->down && cs->fails >= down_after) {
			cs->down = 1;
			cs->changed_at = cs->first_fail_at;
		} else if (cs->changed_at == 0)
			cs->changed_at = at;
	}
}

/*
 * The checks still down fail from AT (AT_MONO) on: a maintenance window
 * closed, or the incident they were attached to ended, and what came
 * before was accounted for there.
 */
void
engine_step_recount(struct engine_check *checks, int n, int64_t at,
    int64_t at_mono)
{
	int	 i;

	for (i = 0; i < n; i++)
		if (checks[i].down) {
			checks[i].first_fail_at = at;
			checks[i].first_fail_mono = at_mono;
		}
}

int
engine_step_any_down(const struct engine_check *checks, int n)
{
	int	 i;

	for (i = 0; i < n; i++)
		if (checks[i].down)
			return 1;
	return 0;
}

/* Did the latest probe of any check fail? */
int
engine_step_failing_now(const struct engine_check *checks, int n)
{
	int	 i;

	for (i = 0; i < n; i++)
		if (checks[i].fails > 0)
			return 1;
	return 0;
}

/*
 * The outage began at the earliest first failure of a down check (by the
 * monotonic clock when known: the wall clock may have jumped between).
 */
int64_t
engine_step_outage_start(const struct engine_check *checks, int n,
    const char **cause, int64_t *mono)
{
	const struct engine_check	*cs;
	int64_t				 started_at = 0;
	int				 i, earlier;

	*cause = "";
	*mono = 0;
	for (i = 0; i < n; i++) {
		cs = &checks[i];
		if (!cs->down)
			continue;
		if (cs->first_fail_mono != 0 && *mono != 0)
			earlier = cs->first_fail_mono < *mono;
		else
			earlier = cs->first_fail_at < started_at;
		if (started_at == 0 || earlier) {
			started_at = cs->first_fail_at;
			*mono = cs->first_fail_mono;
			if (cs->detail != NULL)
				*cause = cs->detail;
		}
	}
	return started_at;
}

/*
 * When S came back: at the first success of the check that recovered
 * last.  Recorded as the outage's start plus its length (engine_elapsed),
 * so never before it began, however the wall clock was set in between.
 */
int64_t
engine_step_came_back(const struct engine_snapshot *s, int64_t *length,
    int64_t *mono)
{
	const struct engine_check	*cs;
	struct engine_quorum_count	 c;
	int64_t				 at = 0;
	int				 i, later;

	*mono = 0;
	if (s->quorum != NULL) {
		/* Back when the quorum broke, by the vantage points' times. */
		engine_step_quorum(s->quorum, s->started_at, &c);
		at = c.met ? 0 : c.broke_at;
		if (at != 0 && at < s->started_at)
			at = s->started_at;
	}
	for (i = 0; i < s->nchecks && s->quorum == NULL; i++) {
		cs = &s->checks[i];
		if (cs->first_ok_mono != 0 && *mono != 0)
			later = cs->first_ok_mono > *mono;
		else
			later = cs->first_ok_at > at;
		if (later) {
			at = cs->first_ok_at;
			*mono = cs->first_ok_mono;
		}
	}
	if (at == 0) {
		at = s->now;		/* the monitoring host: no checks */
		*mono = s->now_mono;
	}
	*length = engine_step_elapsed(s->started_at, s->started_mono, at,
	    *mono);
	return s->started_at + *length;
}

/*
 * Does the failing share of the N probed systems (FAILING of them) say
 * the monitoring host lost its network, more than PCT percent (0: never
 * judged)?  *MARGIN: how many more results it stays lost for at least,
 * since each result changes whether one system fails, nothing else.
 */
int
engine_step_lost(int n, int failing, int pct, int *margin)
{
	int	 lost;

	*margin = 0;
	if (pct == 0)
		return 0;
	lost = n >= ENGINE_HOST_MIN && failing * 100 > n * pct;
	if (lost)
		*margin = failing - n * pct / 100 - 1;
	return lost;
}

/*
 * Not lost (engine_step_lost), but could it be, once UNSETTLED more of
 * the N systems are probed: those not failing whose last result came
 * before the failure being decided on?  A mass failure reaches the
 * systems one probe at a time over a round: without waiting, the first
 * PCT percent of them would each open an incident of their own before
 * the share says the monitoring host lost its network (session 6 saw
 * 5,001 incidents for 10,000 systems failing at once).
 */
int
engine_step_lost_open(int n, int failing, int unsettled, int pct)
{
	if (pct == 0 || n < ENGINE_HOST_MIN)
		return 0;
	return (failing + unsettled) * 100 > n * pct;
}

/*
 * A parent of S that is down, if any (its index, else -1): S's outage
 * belongs to its incident (the root's, when the parent is itself
 * attached further up).
 */
int
engine_step_parent_down(const struct engine_snapshot *s)
{
	const struct engine_parent	*p;
	int				 i;

	for (i = 0; i < s->nparents; i++) {
		p = &s->parents[i];
		if (p->known && p->down && p->incident_id != 0)
			return i;
	}
	return -1;
}

/*
 * A parent whose state is not known yet at the time S began to fail: it
 * is failing without being declared down, or it was last probed before
 * S's first failure.  Both fail in the same moment more often than not
 * (a switch takes its servers with it); S waits for the parent to settle
 * rather than open an incident the parent's would have covered.
 */
int
engine_step_parent_unsettled(const struct engine_snapshot *s,
    int64_t started_at)
{
	const struct engine_parent	*p;
	int				 i;

	for (i = 0; i < s->nparents; i++) {
		p = &s->parents[i];
		if (!p->known || !p->probed)
			continue;
		if (p->pending || p->last_result_at < started_at ||
		    p->counting)
			return i;
	}
	return -1;
}

static void
engine_step_need(struct engine_step *d, enum engine_step_need need)
{
	d->what = ENGINE_STEP_NEED;
	d->need = need;
}

/*
 * S has its own outage since STARTED_AT.  Flapping: it failed again
 * within the policy's reopen window of its last restoration, so the same
 * incident goes on ("failed again") with its level and clocks, instead of
 * a new record and a new 1-hour clock for what is one problem.  A closed
 * record is final: a relapse after closing is a new incident that names
 * the closed one as the one it recurs.
 */
void
engine_step_relapse(const struct engine_snapshot *s, int64_t started_at,
    int64_t started_mono, struct engine_step *d)
{
	d->what = ENGINE_STEP_OPEN;
	d->started_at = started_at;
	d->started_mono = started_mono;
	d->recurrence_of = 0;
	if (s->reopen_ms <= 0 || s->last_incident_id == 0)
		return;
	d->gap = engine_step_elapsed(s->last_restored_at,
	    s->last_restored_mono, started_at, started_mono);
	if (d->gap > s->reopen_ms)
		return;
	switch (s->last) {
	case ENGINE_LAST_UNKNOWN:
		engine_step_need(d, ENGINE_NEED_LAST);
		break;
	case ENGINE_LAST_UNREAD:
		d->what = ENGINE_STEP_UNREAD;
		break;
	case ENGINE_LAST_RESTORED:
		d->what = ENGINE_STEP_REOPEN;
		break;
	case ENGINE_LAST_CLOSED:
		d->recurrence_of = s->last_incident_id;
		break;
	case ENGINE_LAST_GONE:
	case ENGINE_LAST_OTHER:
		break;
	}
}

/* Bring the system's recorded state in line with its checks. */
void
engine_step_decide(const struct engine_snapshot *s, struct engine_step *d)
{
	struct engine_quorum_count	 c;
	int64_t				 length, mono;
	int				 p;

	memset(d, 0, sizeof(*d));
	d->what = ENGINE_STEP_NONE;
	d->pending = -1;
	if (!engine_step_is_down(s, &c)) {
		d->pending = 0;
		if (!s->down)
			return;
		if (s->planned)
			d->what = ENGINE_STEP_UNPLAN;
		else if (!s->attached)
			d->what = ENGINE_STEP_RESTORE;
		else
			d->what = ENGINE_STEP_DETACH;
		if (d->what != ENGINE_STEP_RESTORE)
			d->back_at = engine_step_came_back(s, &length, &mono);
		return;
	}
	if (s->down) {
		if (!s->attached || !engine_step_failing_now(s->checks,
		    s->nchecks))
			return;
		if (s->owner_down == ENGINE_STEP_UNKNOWN)
			engine_step_need(d, ENGINE_NEED_OWNER);
		else if (!s->owner_down)
			d->what = ENGINE_STEP_REOWN;
		return;
	}
	if (s->quorum != NULL) {
		/* When the quorum was met: the vantage points' own times. */
		d->started_at = c.met_at;
		d->started_mono = 0;
		d->cause = c.met_by >= 0 ? s->quorum->views[c.met_by].cause :
		    NULL;
		if (d->cause == NULL)
			d->cause = "";
	} else
		d->started_at = engine_step_outage_start(s->checks,
		    s->nchecks, &d->cause, &d->started_mono);
	if (s->in_window == ENGINE_STEP_UNKNOWN) {
		engine_step_need(d, ENGINE_NEED_WINDOW);
		return;
	}
	if (s->in_window) {
		d->what = ENGINE_STEP_PLAN;
		d->window_end = s->window_end;
		return;
	}
	if (s->nparents == ENGINE_STEP_UNKNOWN) {
		engine_step_need(d, ENGINE_NEED_PARENTS);
		return;
	}
	if ((p = engine_step_parent_down(s)) != -1) {
		d->what = ENGINE_STEP_ATTACH;
		d->parent = p;
		return;
	}
	/* With a quorum, a node whose network is lost is left out. */
	if (s->lost == ENGINE_STEP_UNKNOWN && s->quorum == NULL) {
		engine_step_need(d, ENGINE_NEED_LOST);
		return;
	}
	/* With a quorum, the vantage points decide: no monitoring host. */
	if (s->lost == ENGINE_STEP_LOST_OPEN && s->quorum == NULL) {
		d->what = ENGINE_STEP_PENDING;
		d->parent = ENGINE_STEP_HOST;
		d->pending = 1;
		return;
	}
	if (s->lost && s->quorum == NULL) {
		d->what = ENGINE_STEP_ATTACH;
		d->parent = ENGINE_STEP_HOST;
		return;
	}
	if ((p = engine_step_parent_unsettled(s, d->started_at)) != -1) {
		d->what = ENGINE_STEP_PENDING;
		d->parent = p;
		d->probe_parent = s->parents[p].last_result_at < d->started_at;
		d->pending = 1;
		return;
	}
	d->pending = 0;
	engine_step_relapse(s, d->started_at, d->started_mono, d);
}

/*
 * The restoration time S would have if the successes now coming in were
 * confirmed (0 while a check that is down has none), as the outage's
 * start plus its length by both clocks.
 */
static int64_t
engine_step_back_at(const struct engine_snapshot *s)
{
	struct engine_quorum_count	 c;
	int64_t				 length, mono;
	int				 i;

	if (s->quorum != NULL && engine_step_is_down(s, &c))
		return 0;
	for (i = 0; i < s->nchecks && s->quorum == NULL; i++)
		if (s->checks[i].down && s->checks[i].successes == 0)
			return 0;
	return engine_step_came_back(s, &length, &mono);
}

/*
 * The RTO timer fired, or a result came in while it waits for a run of
 * successes that began within the RTO (policy_rto_verdict): the outage
 * is major once no such run is left, as of the RTO when it waited.
 * Returns 0 when there is nothing to decide: S is not down on a general
 * incident of its own.
 */
int
engine_step_rto(const struct engine_snapshot *s, struct engine_rto *r)
{
	memset(r, 0, sizeof(*r));
	if (!s->down || s->attached || s->planned || s->major)
		return 0;
	/* Lengths by both clocks (engine_step_elapsed), on the wall's axis. */
	r->length = engine_step_elapsed(s->started_at, s->started_mono,
	    s->now, s->now_mono);
	r->back_at = engine_step_back_at(s);
	r->verdict = policy_rto_verdict(s->started_at, s->rto_ms, r->back_at,
	    s->started_at + r->length);
	/*
	 * Waiting for confirmation must not delay the deadlines: a run that
	 * broke makes the incident major as of the RTO, and the raised
	 * level's notify clock counts from then.
	 */
	r->at = s->rto_wait ? s->started_at + s->rto_ms : s->now;
	r->c = policy_classify(s->core, s->critical_infrastructure,
	    r->length, s->rto_ms);
	/* A person's confidentiality or integrity level may be higher. */
	r->level = r->c.level > s->level ? r->c.level : s->level;
	return 1;
}

/*
 * S is back when the last check to recover came back: the first of its
 * successes, even when the RTO passed before they confirmed it.  The
 * monitoring host has no checks: HOST_BACK is when the network came back.
 */
void
engine_step_restore(const struct engine_snapshot *s, int64_t host_back,
    struct engine_restore *r)
{
	memset(r, 0, sizeof(*r));
	if (s->nchecks > 0)
		r->restored_at = engine_step_came_back(s, &r->length,
		    &r->restored_mono);
	else {
		r->length = engine_step_elapsed(s->started_at, 0, host_back,
		    0);
		r->restored_at = s->started_at + r->length;
	}
	r->within = policy_within_rto(s->started_at,
	    s->started_at + r->length, s->rto_ms);
	r->c = policy_classify(s->core, s->critical_infrastructure, r->length,
	    s->rto_ms);
	/* The incident's level: availability's, or a person's higher one. */
	r->level = r->c.level > s->level ? r->c.level : s->level;
}
