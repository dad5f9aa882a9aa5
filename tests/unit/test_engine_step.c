/*
 * test_engine_step.c: the engine's decisions without the engine: counting
 * results, the outage's start, dependencies, the lost network,
 * maintenance, flapping, the attached system left down, and the RTO.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "engine_step.h"

#define S	1000LL
#define MIN	(60 * S)
#define H	(60 * MIN)
#define T0	(1767225600LL * S)	/* 2026-01-01 00:00 UTC */
#define M0	(1000 * S)		/* a monotonic reading at T0 */

static struct engine_check	 checks[4];

/* A system with N checks, up, every question unanswered. */
static void
snap_init(struct engine_snapshot *s, int n)
{
	memset(checks, 0, sizeof(checks));
	memset(s, 0, sizeof(*s));
	s->now = T0;
	s->now_mono = M0;
	s->core = 1;
	s->rto_ms = 4 * H;
	s->checks = checks;
	s->nchecks = n;
	s->reopen_ms = 30 * MIN;
	s->nparents = ENGINE_STEP_UNKNOWN;
	s->in_window = ENGINE_STEP_UNKNOWN;
	s->lost = ENGINE_STEP_UNKNOWN;
	s->owner_down = ENGINE_STEP_UNKNOWN;
	s->last = ENGINE_LAST_UNKNOWN;
}

/* Check I fails K times, every 10 s from AT. */
static void
probe_fail(int i, int k, int64_t at, int down_after)
{
	int	 j;

	for (j = 0; j < k; j++)
		engine_step_count(&checks[i], 0, at + j * 10 * S,
		    M0 + (at - T0) + j * 10 * S, down_after, 2);
}

static void
probe_ok(int i, int k, int64_t at, int up_after)
{
	int	 j;

	for (j = 0; j < k; j++)
		engine_step_count(&checks[i], 1, at + j * 10 * S,
		    M0 + (at - T0) + j * 10 * S, 3, up_after);
}

/* Answer nothing but settled: no window, no parent, network fine. */
static void
snap_settled(struct engine_snapshot *s)
{
	s->in_window = 0;
	s->nparents = 0;
	s->lost = 0;
}

/* Down after N failures, up after M successes, first of each run kept. */
static void
test_count(void **state)
{
	struct engine_check	*c = &checks[0];
	struct engine_snapshot	 s;

	(void)state;
	snap_init(&s, 1);
	probe_fail(0, 2, T0, 3);
	assert_int_equal(c->down, 0);
	assert_int_equal(c->fails, 2);
	/* A success breaks the run: the next one starts afresh. */
	probe_ok(0, 1, T0 + 20 * S, 2);
	assert_int_equal(c->fails, 0);
	probe_fail(0, 3, T0 + 30 * S, 3);
	assert_int_equal(c->down, 1);
	assert_int_equal(c->first_fail_at, T0 + 30 * S);
	assert_int_equal(c->first_fail_mono, M0 + 30 * S);
	/* Still failing: the start stays the run's first failure. */
	probe_fail(0, 2, T0 + 60 * S, 3);
	assert_int_equal(c->first_fail_at, T0 + 30 * S);
	probe_ok(0, 1, T0 + 80 * S, 2);
	assert_int_equal(c->down, 1);
	probe_ok(0, 1, T0 + 90 * S, 2);
	assert_int_equal(c->down, 0);
	assert_int_equal(c->first_ok_at, T0 + 80 * S);
}

/*
 * The outage starts at the earliest first failure of a down check, by
 * the monotonic clock when both are known; a check still counting does
 * not count.
 */
static void
test_outage_start(void **state)
{
	struct engine_snapshot	 s;
	const char		*cause;
	int64_t			 mono, at;

	(void)state;
	snap_init(&s, 3);
	probe_fail(0, 3, T0 + 20 * S, 3);
	checks[0].detail = "tcp 192.0.2.25 port 25: timeout";
	probe_fail(1, 3, T0 + 10 * S, 3);
	checks[1].detail = "http https://192.0.2.80/: refused";
	probe_fail(2, 2, T0, 3);		/* counting, not down */
	at = engine_step_outage_start(checks, 3, &cause, &mono);
	assert_int_equal(at, T0 + 10 * S);
	assert_int_equal(mono, M0 + 10 * S);
	assert_string_equal(cause, "http https://192.0.2.80/: refused");

	/* The wall clock was set back between: the monotonic order wins. */
	checks[0].first_fail_at = T0 - H;
	at = engine_step_outage_start(checks, 3, &cause, &mono);
	assert_int_equal(at, T0 + 10 * S);
}

/* The whole way to an incident of its own, asking as it goes. */
static void
test_open(void **state)
{
	struct engine_snapshot	 s;
	struct engine_step	 d;

	(void)state;
	snap_init(&s, 2);
	probe_fail(0, 2, T0, 3);
	engine_step_decide(&s, &d);
	assert_int_equal(d.what, ENGINE_STEP_NONE);	/* counting */
	assert_int_equal(d.pending, 0);
	probe_fail(0, 1, T0 + 20 * S, 3);
	checks[0].detail = "tcp 192.0.2.25 port 25: timeout";
	engine_step_decide(&s, &d);
	assert_int_equal(d.what, ENGINE_STEP_NEED);
	assert_int_equal(d.need, ENGINE_NEED_WINDOW);
	assert_int_equal(d.started_at, T0);
	s.in_window = 0;
	engine_step_decide(&s, &d);
	assert_int_equal(d.need, ENGINE_NEED_PARENTS);
	s.nparents = 0;
	engine_step_decide(&s, &d);
	assert_int_equal(d.need, ENGINE_NEED_LOST);
	s.lost = 0;
	engine_step_decide(&s, &d);
	assert_int_equal(d.what, ENGINE_STEP_OPEN);
	assert_int_equal(d.started_at, T0);
	assert_int_equal(d.started_mono, M0);
	assert_string_equal(d.cause, "tcp 192.0.2.25 port 25: timeout");
	assert_int_equal(d.recurrence_of, 0);
	assert_int_equal(d.pending, 0);

	/* Down: nothing more to do while it stays down on its own. */
	s.down = 1;
	s.started_at = T0;
	engine_step_decide(&s, &d);
	assert_int_equal(d.what, ENGINE_STEP_NONE);
	assert_int_equal(d.pending, -1);
}

/* Back: restored, or the planned outage or attached part ends. */
static void
test_back(void **state)
{
	struct engine_snapshot	 s;
	struct engine_step	 d;
	struct engine_restore	 r;

	(void)state;
	snap_init(&s, 2);
	s.down = 1;
	s.started_at = T0;
	s.started_mono = M0;
	s.level = 2;
	checks[0].down = checks[1].down = 1;
	probe_ok(0, 2, T0 + 1 * H, 2);
	engine_step_decide(&s, &d);
	assert_int_equal(d.what, ENGINE_STEP_NONE);	/* check 1 down */
	assert_int_equal(d.pending, -1);
	/* Back when the last check to recover came back. */
	probe_ok(1, 2, T0 + 2 * H, 2);
	engine_step_decide(&s, &d);
	assert_int_equal(d.what, ENGINE_STEP_RESTORE);
	assert_int_equal(d.pending, 0);
	engine_step_restore(&s, 0, &r);
	assert_int_equal(r.restored_at, T0 + 2 * H);
	assert_int_equal(r.length, 2 * H);
	assert_int_equal(r.within, 1);
	assert_int_equal(r.c.level, 2);
	assert_int_equal(r.c.major, 0);
	/* A person's higher level stays. */
	s.level = 4;
	engine_step_restore(&s, 0, &r);
	assert_int_equal(r.level, 4);

	s.planned = 1;
	engine_step_decide(&s, &d);
	assert_int_equal(d.what, ENGINE_STEP_UNPLAN);
	assert_int_equal(d.back_at, T0 + 2 * H);
	s.planned = 0;
	s.attached = 1;
	engine_step_decide(&s, &d);
	assert_int_equal(d.what, ENGINE_STEP_DETACH);
	assert_int_equal(d.back_at, T0 + 2 * H);
}

/* The wall clock set back: the outage lasts what the monotonic says. */
static void
test_back_clock_set_back(void **state)
{
	struct engine_snapshot	 s;
	struct engine_restore	 r;

	(void)state;
	snap_init(&s, 1);
	s.down = 1;
	s.started_at = T0;
	s.started_mono = M0;
	checks[0].down = 1;
	engine_step_count(&checks[0], 1, T0 - 1 * H, M0 + 5 * H, 3, 1);
	engine_step_restore(&s, 0, &r);
	assert_int_equal(r.length, 5 * H);
	assert_int_equal(r.restored_at, T0 + 5 * H);
	assert_int_equal(r.within, 0);
	assert_int_equal(r.c.major, 1);
	assert_int_equal(r.c.level, 3);
	/* The monitoring host: no checks, back when the network was. */
	s.nchecks = 0;
	engine_step_restore(&s, T0 + 30 * MIN, &r);
	assert_int_equal(r.restored_at, T0 + 30 * MIN);
	assert_int_equal(r.within, 1);
}

/* A parent down: the child's outage is part of its incident. */
static void
test_parent_down(void **state)
{
	struct engine_parent	 p[2];
	struct engine_snapshot	 s;
	struct engine_step	 d;

	(void)state;
	snap_init(&s, 1);
	probe_fail(0, 3, T0, 3);
	memset(p, 0, sizeof(p));
	p[0].known = 1;			/* up, settled */
	p[0].probed = 1;
	p[0].last_result_at = T0 + 20 * S;
	p[1].known = 1;
	p[1].probed = 1;
	p[1].down = 1;
	p[1].incident_id = 7;
	p[1].last_result_at = T0 + 20 * S;
	s.parents = p;
	s.nparents = 2;
	s.in_window = 0;
	engine_step_decide(&s, &d);
	assert_int_equal(d.what, ENGINE_STEP_ATTACH);
	assert_int_equal(d.parent, 1);
	assert_int_equal(d.started_at, T0);
	assert_int_equal(d.pending, -1);

	/* Down without an incident yet (planned): not an owner. */
	p[1].incident_id = 0;
	engine_step_decide(&s, &d);
	assert_int_equal(d.need, ENGINE_NEED_LOST);
}

/* A parent not settled: the child waits, probing it if it is stale. */
static void
test_parent_pending(void **state)
{
	struct engine_parent	 p[1];
	struct engine_snapshot	 s;
	struct engine_step	 d;

	(void)state;
	snap_init(&s, 1);
	snap_settled(&s);
	probe_fail(0, 3, T0, 3);
	memset(p, 0, sizeof(p));
	p[0].known = 1;
	p[0].probed = 1;
	p[0].counting = 1;		/* failing, not down yet */
	p[0].last_result_at = T0 + 20 * S;
	s.parents = p;
	s.nparents = 1;
	engine_step_decide(&s, &d);
	assert_int_equal(d.what, ENGINE_STEP_PENDING);
	assert_int_equal(d.parent, 0);
	assert_int_equal(d.probe_parent, 0);
	assert_int_equal(d.pending, 1);

	/* Last probed before the child began to fail: ask it now. */
	p[0].counting = 0;
	p[0].last_result_at = T0 - 10 * S;
	engine_step_decide(&s, &d);
	assert_int_equal(d.what, ENGINE_STEP_PENDING);
	assert_int_equal(d.probe_parent, 1);

	/* A parent that waits on its own parent is not settled either. */
	p[0].last_result_at = T0 + 20 * S;
	p[0].pending = 1;
	engine_step_decide(&s, &d);
	assert_int_equal(d.what, ENGINE_STEP_PENDING);
	assert_int_equal(d.probe_parent, 0);

	/* Settled up: the child's own incident. */
	p[0].pending = 0;
	engine_step_decide(&s, &d);
	assert_int_equal(d.what, ENGINE_STEP_OPEN);

	/* Unknown or unprobed parents are no reason to wait. */
	p[0].counting = 1;
	p[0].probed = 0;
	engine_step_decide(&s, &d);
	assert_int_equal(d.what, ENGINE_STEP_OPEN);
	p[0].probed = 1;
	p[0].known = 0;
	engine_step_decide(&s, &d);
	assert_int_equal(d.what, ENGINE_STEP_OPEN);
}

/* Most systems failing at once: the monitoring host's incident. */
static void
test_lost_network(void **state)
{
	struct engine_parent	 p[1];
	struct engine_snapshot	 s;
	struct engine_step	 d;

	(void)state;
	snap_init(&s, 1);
	probe_fail(0, 3, T0, 3);
	s.in_window = 0;
	s.nparents = 0;
	s.lost = 1;
	engine_step_decide(&s, &d);
	assert_int_equal(d.what, ENGINE_STEP_ATTACH);
	assert_int_equal(d.parent, ENGINE_STEP_HOST);
	assert_int_equal(d.started_at, T0);

	/* A parent down comes first: it is the root of the child's cause. */
	memset(p, 0, sizeof(p));
	p[0].known = 1;
	p[0].down = 1;
	p[0].incident_id = 3;
	s.parents = p;
	s.nparents = 1;
	engine_step_decide(&s, &d);
	assert_int_equal(d.what, ENGINE_STEP_ATTACH);
	assert_int_equal(d.parent, 0);

	/* The host's incident could not be recorded: on its own. */
	p[0].down = 0;
	s.lost = 0;
	engine_step_decide(&s, &d);
	assert_int_equal(d.what, ENGINE_STEP_OPEN);

	/* Not lost yet, but it may be once the others are probed: wait. */
	s.lost = ENGINE_STEP_LOST_OPEN;
	engine_step_decide(&s, &d);
	assert_int_equal(d.what, ENGINE_STEP_PENDING);
	assert_int_equal(d.parent, ENGINE_STEP_HOST);
	assert_int_equal(d.pending, 1);
}

/* More than the share fails at once: the network is lost. */
static void
test_lost_share(void **state)
{
	int	 margin;

	(void)state;
	assert_int_equal(engine_step_lost(10, 5, 50, &margin), 0);
	assert_int_equal(margin, 0);
	assert_int_equal(engine_step_lost(10, 6, 50, &margin), 1);
	assert_int_equal(margin, 0);
	/* Three may pass again before it can be found again. */
	assert_int_equal(engine_step_lost(10, 9, 50, &margin), 1);
	assert_int_equal(margin, 3);
	assert_int_equal(engine_step_lost(10, 6, 55, &margin), 1);
	assert_int_equal(margin, 0);
	/* Too few systems for a share to mean much; or not judged. */
	assert_int_equal(engine_step_lost(ENGINE_HOST_MIN - 1,
	    ENGINE_HOST_MIN - 1, 50, &margin), 0);
	assert_int_equal(engine_step_lost(ENGINE_HOST_MIN, ENGINE_HOST_MIN,
	    50, &margin), 1);
	assert_int_equal(engine_step_lost(10, 10, 0, &margin), 0);
	assert_int_equal(margin, 0);

	/*
	 * One failing of ten, the other nine not probed since: they could
	 * all be failing too.  Five of them probed and passing: no longer.
	 */
	assert_int_equal(engine_step_lost_open(10, 1, 9, 50), 1);
	assert_int_equal(engine_step_lost_open(10, 1, 5, 50), 1);
	assert_int_equal(engine_step_lost_open(10, 1, 4, 50), 0);
	assert_int_equal(engine_step_lost_open(ENGINE_HOST_MIN - 1, 1, 1, 50),
	    0);
	assert_int_equal(engine_step_lost_open(10, 1, 9, 0), 0);
}

/* Down in a maintenance window: planned; the window's end overruns. */
static void
test_maintenance(void **state)
{
	struct engine_snapshot	 s;
	struct engine_step	 d;

	(void)state;
	snap_init(&s, 1);
	probe_fail(0, 3, T0, 3);
	s.in_window = 1;
	s.window_end = T0 + 1 * H;
	engine_step_decide(&s, &d);
	assert_int_equal(d.what, ENGINE_STEP_PLAN);
	assert_int_equal(d.window_end, T0 + 1 * H);
	assert_int_equal(d.started_at, T0);
	/* Asked first: a planned outage needs no parent or network. */
	assert_int_equal(s.nparents, ENGINE_STEP_UNKNOWN);

	/* Planned and down: nothing, until the window closes. */
	s.down = s.planned = 1;
	s.started_at = T0;
	engine_step_decide(&s, &d);
	assert_int_equal(d.what, ENGINE_STEP_NONE);

	/*
	 * Overrun: engine.c ends the planned outage and counts the checks
	 * still down from the window's end, then decides afresh.
	 */
	s.down = s.planned = 0;
	probe_fail(1, 1, T0 + 1 * H - 10 * S, 3);	/* counting: stays */
	engine_step_recount(checks, 2, T0 + 1 * H, M0 + 1 * H);
	assert_int_equal(checks[1].first_fail_at, T0 + 1 * H - 10 * S);
	s.nchecks = 2;
	snap_settled(&s);
	engine_step_decide(&s, &d);
	assert_int_equal(d.what, ENGINE_STEP_OPEN);
	assert_int_equal(d.started_at, T0 + 1 * H);
}

/* Flapping: within the window a restored incident goes on. */
static void
test_flapping(void **state)
{
	struct engine_snapshot	 s;
	struct engine_step	 d;

	(void)state;
	snap_init(&s, 1);
	snap_settled(&s);
	s.last_incident_id = 5;
	s.last_restored_at = T0 - 10 * MIN;
	s.last_restored_mono = M0 - 10 * MIN;
	probe_fail(0, 3, T0, 3);
	engine_step_decide(&s, &d);
	assert_int_equal(d.what, ENGINE_STEP_NEED);
	assert_int_equal(d.need, ENGINE_NEED_LAST);
	s.last = ENGINE_LAST_RESTORED;
	engine_step_decide(&s, &d);
	assert_int_equal(d.what, ENGINE_STEP_REOPEN);
	assert_int_equal(d.gap, 10 * MIN);
	assert_int_equal(d.started_at, T0);

	/* A closed record is final: a new incident that recurs it. */
	s.last = ENGINE_LAST_CLOSED;
	engine_step_decide(&s, &d);
	assert_int_equal(d.what, ENGINE_STEP_OPEN);
	assert_int_equal(d.recurrence_of, 5);

	/* The store could not say: try again at the next result. */
	s.last = ENGINE_LAST_UNREAD;
	engine_step_decide(&s, &d);
	assert_int_equal(d.what, ENGINE_STEP_UNREAD);
	s.last = ENGINE_LAST_GONE;
	engine_step_decide(&s, &d);
	assert_int_equal(d.what, ENGINE_STEP_OPEN);
	assert_int_equal(d.recurrence_of, 0);

	/* At the window's end exactly is within; not read after it. */
	s.last = ENGINE_LAST_UNKNOWN;
	s.last_restored_at = T0 - 30 * MIN;
	s.last_restored_mono = M0 - 30 * MIN;
	engine_step_decide(&s, &d);
	assert_int_equal(d.need, ENGINE_NEED_LAST);
	s.last_restored_at = T0 - 30 * MIN - 1;
	s.last_restored_mono = M0 - 30 * MIN - 1;
	engine_step_decide(&s, &d);
	assert_int_equal(d.what, ENGINE_STEP_OPEN);
	assert_int_equal(d.recurrence_of, 0);

	/* The wall clock set forward does not hide a longer gap. */
	s.last_restored_at = T0 - 10 * MIN;
	s.last_restored_mono = M0 - 40 * MIN;
	engine_step_decide(&s, &d);
	assert_int_equal(d.what, ENGINE_STEP_OPEN);

	/* No reopen window: never. */
	s.last_restored_mono = M0 - 10 * MIN;
	s.reopen_ms = 0;
	engine_step_decide(&s, &d);
	assert_int_equal(d.what, ENGINE_STEP_OPEN);
}

/* Attached and failing after the incident's owner came back. */
static void
test_reown(void **state)
{
	struct engine_snapshot	 s;
	struct engine_step	 d;

	(void)state;
	snap_init(&s, 1);
	s.down = s.attached = 1;
	s.started_at = T0;
	checks[0].down = 1;
	/* Passing again: it just finishes recovering on the old incident. */
	probe_ok(0, 1, T0 + 1 * H, 3);
	engine_step_decide(&s, &d);
	assert_int_equal(d.what, ENGINE_STEP_NONE);
	probe_fail(0, 1, T0 + 1 * H + 10 * S, 3);
	engine_step_decide(&s, &d);
	assert_int_equal(d.need, ENGINE_NEED_OWNER);
	s.owner_down = 1;
	engine_step_decide(&s, &d);
	assert_int_equal(d.what, ENGINE_STEP_NONE);
	s.owner_down = 0;
	engine_step_decide(&s, &d);
	assert_int_equal(d.what, ENGINE_STEP_REOWN);
}

/* The RTO passes: major, or wait for a run that began in time. */
static void
test_rto(void **state)
{
	struct engine_snapshot	 s;
	struct engine_rto	 r;

	(void)state;
	snap_init(&s, 1);
	assert_int_equal(engine_step_rto(&s, &r), 0);	/* up */
	s.down = 1;
	s.started_at = T0;
	s.started_mono = M0;
	s.level = 2;
	checks[0].down = 1;
	s.attached = 1;
	assert_int_equal(engine_step_rto(&s, &r), 0);
	s.attached = 0;
	s.major = 1;
	assert_int_equal(engine_step_rto(&s, &r), 0);
	s.major = 0;

	/* Exactly at the RTO: not yet (the clock was set back). */
	s.now = T0 + 4 * H;
	s.now_mono = M0 + 4 * H;
	assert_int_equal(engine_step_rto(&s, &r), 1);
	assert_int_equal(r.verdict, POLICY_RTO_NOT_YET);

	/* Past it, still failing: major now, core -> level 3. */
	s.now = T0 + 4 * H + 1;
	s.now_mono = M0 + 4 * H + 1;
	assert_int_equal(engine_step_rto(&s, &r), 1);
	assert_int_equal(r.verdict, POLICY_RTO_MAJOR);
	assert_int_equal(r.at, T0 + 4 * H + 1);
	assert_int_equal(r.c.level, 3);
	assert_int_equal(r.level, 3);
	assert_int_equal(r.back_at, 0);

	/* The wall clock set back: the monotonic clock says it passed. */
	s.now = T0 + 1 * H;
	assert_int_equal(engine_step_rto(&s, &r), 1);
	assert_int_equal(r.verdict, POLICY_RTO_MAJOR);
	assert_int_equal(r.length, 4 * H + 1);

	/* Successes began within the RTO, not confirmed: wait. */
	s.now = T0 + 4 * H + 1;
	probe_ok(0, 1, T0 + 4 * H - 10 * S, 3);
	assert_int_equal(engine_step_rto(&s, &r), 1);
	assert_int_equal(r.verdict, POLICY_RTO_WAIT);
	assert_int_equal(r.back_at, T0 + 4 * H - 10 * S);

	/* The run broke after waiting: major as of the RTO itself. */
	probe_fail(0, 1, T0 + 4 * H + 20 * S, 3);
	s.rto_wait = 1;
	s.now = T0 + 4 * H + 30 * S;
	s.now_mono = M0 + 4 * H + 30 * S;
	assert_int_equal(engine_step_rto(&s, &r), 1);
	assert_int_equal(r.verdict, POLICY_RTO_MAJOR);
	assert_int_equal(r.at, T0 + 4 * H);

	/* A person's higher level is kept. */
	s.level = 4;
	assert_int_equal(engine_step_rto(&s, &r), 1);
	assert_int_equal(r.level, 4);
	assert_int_equal(r.c.level, 3);
}

/*
 * "down when 2 of 3 vantage points fail": one failing is N-1, no outage;
 * a second makes it, as of the second's own first failure, whatever the
 * order they are listed in; a vantage point whose network is lost or
 * that is silent is left out, and the share of those left decides.
 */
static void
test_quorum(void **state)
{
	struct engine_vantage		 v[3];
	struct engine_quorum		 q = { 2, 3, v, 3 };
	struct engine_quorum_count	 c;
	struct engine_snapshot		 s;
	struct engine_step		 d;

	(void)state;
	memset(v, 0, sizeof(v));
	v[0].node = "a";
	v[1].node = "b";
	v[2].node = "c";
	snap_init(&s, 1);
	snap_settled(&s);
	s.quorum = &q;

	/* Nobody fails. */
	engine_step_decide(&s, &d);
	assert_int_equal(d.what, ENGINE_STEP_NONE);

	/* N-1: b alone fails, its own check down: no outage. */
	v[1].down = 1;
	v[1].down_at = T0 + 10 * S;
	v[1].cause = "b: timeout";
	engine_step_quorum(&q, 0, &c);
	assert_int_equal(c.counted, 3);
	assert_int_equal(c.failing, 1);
	assert_int_equal(c.need, 2);
	assert_false(c.met);
	engine_step_decide(&s, &d);
	assert_int_equal(d.what, ENGINE_STEP_NONE);
	/* The local checks alone decide nothing with a quorum. */
	probe_fail(0, 3, T0, 3);
	assert_true(checks[0].down);
	engine_step_decide(&s, &d);
	assert_int_equal(d.what, ENGINE_STEP_NONE);

	/* N: c fails too, earlier than b: met at b's, the second. */
	v[2].down = 1;
	v[2].down_at = T0 + 5 * S;
	v[2].cause = "c: refused";
	engine_step_quorum(&q, 0, &c);
	assert_true(c.met);
	assert_int_equal(c.met_at, T0 + 10 * S);
	assert_int_equal(c.met_by, 1);
	engine_step_decide(&s, &d);
	assert_int_equal(d.what, ENGINE_STEP_OPEN);
	assert_int_equal(d.started_at, T0 + 10 * S);
	assert_int_equal(d.started_mono, 0);
	assert_string_equal(d.cause, "b: timeout");

	/* b's network is lost: left out, 1 of the 2 left fails, 2 needed. */
	v[1].lost = 1;
	engine_step_quorum(&q, 0, &c);
	assert_int_equal(c.counted, 2);
	assert_int_equal(c.failing, 1);
	assert_int_equal(c.need, 2);
	assert_false(c.met);
	engine_step_decide(&s, &d);
	assert_int_equal(d.what, ENGINE_STEP_NONE);

	/* b back, a silent: c and b fail, 2 of the 2 counted: met. */
	v[1].lost = 0;
	v[0].silent = 1;
	engine_step_quorum(&q, 0, &c);
	assert_int_equal(c.counted, 2);
	assert_true(c.met);
	/* a and b silent or lost: c alone is counted, and decides. */
	v[1].silent = 1;
	engine_step_quorum(&q, 0, &c);
	assert_int_equal(c.counted, 1);
	assert_int_equal(c.need, 1);
	assert_true(c.met);
	assert_int_equal(c.met_at, T0 + 5 * S);
	/* Nobody counted: nothing decided. */
	v[2].silent = 1;
	engine_step_quorum(&q, 0, &c);
	assert_int_equal(c.counted, 0);
	assert_false(c.met);
	/*
	 * All three say their network is lost: what failed is beyond them
	 * all, and they count (as the monitoring host's incident on one).
	 */
	v[0].silent = v[1].silent = v[2].silent = 0;
	v[0].lost = v[1].lost = v[2].lost = 1;
	engine_step_quorum(&q, 0, &c);
	assert_int_equal(c.counted, 3);
	assert_true(c.met);
	/* One not lost: the two lost are left out, 1 of 1 up. */
	v[0].lost = 0;
	engine_step_quorum(&q, 0, &c);
	assert_int_equal(c.counted, 1);
	assert_false(c.met);
	v[0].lost = v[1].lost = v[2].lost = 0;

	/* Down since b's failure; c comes back: the quorum broke then. */
	s.down = 1;
	s.started_at = T0 + 10 * S;
	s.level = 1;
	engine_step_decide(&s, &d);
	assert_int_equal(d.what, ENGINE_STEP_NONE);
	v[2].down = 0;
	v[2].up_at = T0 + 70 * S;
	engine_step_quorum(&q, s.started_at, &c);
	assert_false(c.met);
	assert_int_equal(c.broke_at, T0 + 70 * S);
	engine_step_decide(&s, &d);
	assert_int_equal(d.what, ENGINE_STEP_RESTORE);
	{
		struct engine_restore	 r;

		engine_step_restore(&s, 0, &r);
		assert_int_equal(r.restored_at, T0 + 70 * S);
		assert_int_equal(r.length, 60 * S);
	}
	/*
	 * Still down from b and c, but c falls silent: 1 of the 2 left
	 * fail, the quorum broke at no time a view says (now, then).
	 */
	v[2].down = 1;
	v[2].silent = 1;
	engine_step_quorum(&q, s.started_at, &c);
	assert_false(c.met);
	assert_int_equal(c.counted, 2);
	assert_int_equal(c.broke_at, 0);
	{
		struct engine_restore	 r;

		s.now = T0 + 100 * S;
		engine_step_restore(&s, 0, &r);
		assert_int_equal(r.restored_at, T0 + 100 * S);
		s.now = T0;
	}
	v[2].down = 0;
	v[2].silent = 0;

	/* Both back: still when the first came back (the quorum's end). */
	v[1].down = 0;
	v[1].up_at = T0 + 90 * S;
	engine_step_quorum(&q, s.started_at, &c);
	assert_int_equal(c.broke_at, T0 + 70 * S);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_outage_start),
		cmocka_unit_test(test_open),
		cmocka_unit_test(test_back),
		cmocka_unit_test(test_back_clock_set_back),
		cmocka_unit_test(test_parent_down),
		cmocka_unit_test(test_parent_pending),
		cmocka_unit_test(test_lost_network),
		cmocka_unit_test(test_lost_share),
		cmocka_unit_test(test_maintenance),
		cmocka_unit_test(test_flapping),
		cmocka_unit_test(test_reown),
		cmocka_unit_test(test_rto),
		cmocka_unit_test(test_quorum),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
