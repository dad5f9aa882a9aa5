/*
 * engine.c: from probe results to outages and incidents.
 *
 * Each check counts its consecutive failures and successes.  A check is
 * down after "down after N" failures in a row and up again after "up
 * after M" successes; a system is down while any of its checks is.  The
 * outage starts at the first failure of the run that brought it down, and
 * ends at the first success of the run that brought it back: both are
 * the moments the service actually changed, not when we became sure.
 * Each of those moments is kept as a wall time, for the record, and as a
 * monotonic time, for durations that a wall clock set back or forward
 * must not distort (engine_step_elapsed).
 *
 * What to do about a result is decided apart, by the pure functions of
 * engine_step.c over a snapshot of the system (engine_snapshot); the
 * functions here apply the decision.
 *
 * Every transition is written to the store first.  A write the database
 * refuses for a while (locked, disk full, read-only) is held in memory by
 * the store, in order, and written later with these same times (store.c);
 * to the engine it succeeded, so its state moves on and an outage that
 * begins and ends meanwhile is recorded as it happened.  Only a write that
 * fails for good (or the store's bound on what it holds) leaves the state
 * unchanged, and the next probe result tries again with the same times.
 *
 * The results that come in in one turn of the loop are applied together
 * (engine_batch_cb), their changes one group in the store: one sync for
 * all, not one each (4-12 ms on a disk), which at a mass failure kept the
 * loop from starting probes on time.  Each change is still decided and
 * written before memory changes, in a savepoint of the group; a group the
 * database refuses is held, change by change, like any change refused.
 */
#include <sys/queue.h>

#include <event2/event.h>

#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clocks.h"
#include "conf.h"
#include "engine.h"
#include "engine_step.h"
#include "hostnet.h"
#include "log.h"
#include "maint.h"
#include "policy.h"
#include "store.h"
#include "timerheap.h"
#include "util.h"
#include "wallclock.h"
#include "workflow.h"

#define ENGINE_HASH_SIZE	4096	/* a power of two */

/*
 * Vantage points (issue 21): each node writes its heartbeat and judges
 * its own network every ENGINE_VANTAGE_MS; the leader reads the others'
 * observations as often.  A node whose heartbeat has not changed for
 * ENGINE_SILENT_MS (three of them) is silent, and left out.
 */
#define ENGINE_VANTAGE_MS	1000LL
#define ENGINE_SILENT_MS	(3LL * ENGINE_VANTAGE_MS)
/* The quorums' pass gives the loop back after this long (ms). */
#define ENGINE_QUORUM_SLICE_MS	50
#define ENGINE_NETWORK_CHECK	"network"	/* of ENGINE_HOST_NAME */

/*
 * Most checks never fail and most systems are never down: a check's
 * failure text and a system's timers are allocated when first needed, which
 * keeps 10,000 checks at a few hundred bytes each.
 */
#define ENGINE_DETAIL_MAX	256

/*
 * Results queued at most.  The turn is bounded by ENGINE_SLICE_MS; this
 * bounds the memory only, when the loop is rounds behind: beyond it a
 * result is applied at once, from its probe's callback.  (At 1,024, when
 * this bounded the turn, a loop busy with a wave applied a slice from
 * each result's callback, and probes started 0.5 s late.)
 */
#define ENGINE_QUEUE_MAX	65536
/*
 * The queue's array is kept between turns up to this many results (48 kB);
 * one grown beyond it by a backlog is freed once the backlog is applied.
 * It never shrank: a loop rounds behind once (the incidents of a mass
 * failure opening on a busy machine) kept up to 3 MB for good, and how
 * far behind it fell, so how much was kept, differed from run to run
 * (room for 16,384-32,768 results, 0.8-1.6 MB, at 10,000 tcp checks).
 */
#define ENGINE_QUEUE_KEEP	1024

/*
 * The longest a turn applies results, and then settles a lost-network
 * wave: what is left waits for the next turn, after the loop has polled
 * and started the probes due meanwhile.  Each change costs a few hundred
 * microseconds of SQL (its statements, savepoint and chain), so a wave of
 * 5,000 systems decided at once held the loop for 1.1-2.7 s at 10,000.
 */
#define ENGINE_SLICE_MS		20
/* A timer's write that failed is tried again this much later. */
#define ENGINE_RETRY_MS		5000

/* A probe result waiting for its turn's group. */
struct engine_queued {
	struct sys_state	*s;
	int			 index;
	enum probe_result	 result;
	char			*detail;
	int64_t			 at;
	int64_t			 at_mono;
	int64_t			 rtt_ms;
};

struct sys_state {
	TAILQ_ENTRY(sys_state)	 entry;
	struct sys_state	*hnext;		/* in engine->hash */
	struct engine		*engine;
	/*
	 * NAME, OWNER and PARENTS are the rules' (e->conf's system_conf),
	 * pointed at anew by every engine_configure, which runs before the
	 * old rules are freed; own copies (NAMES_OWN) only for a system
	 * the rules no longer have: kept down until its incident is dealt
	 * with, or read from the store at a start.  Copied for each of
	 * 10,000 systems they were 0.3-0.6 MB of small allocations, and
	 * the same few owners' names thousands of times (issue 20).
	 */
	char			*name;
	char			*owner;		/* or NULL */
	int			 names_own;
	int			 configured;
	int			 core;
	int			 critical_infrastructure;
	int			 down_after;
	int			 up_after;
	int			 nchecks;
	int64_t			 rto_ms;
	struct engine_check	*checks;	/* desc: the rules' */

	int			 down;
	int			 planned;	/* down in a maintenance window */
	int			 attached;	/* down, on a parent's incident */
	int			 pending;	/* down, parent not settled */
#define ENGINE_PENDING_HOST	2		/* ... or the network */
	int			 level;
	int			 major;
	int64_t			 started_at;
	int64_t			 started_mono;	/* 0: from before a restart */
	int64_t			 outage_id;
	int64_t			 incident_id;
	int64_t			 last_result_at;
	/* On e->rto_timers and e->maint_timers, by the monotonic clock. */
	struct timerheap_entry	 rto_timer;	/* at started_at + rto */
	struct timerheap_entry	 maint_timer;	/* at the window's end */
	int64_t			 maint_end;	/* that end, a wall time */

	char			**parents;	/* depends "NAME"; see NAME */
	struct sys_state	**children;	/* those depending on this */
	size_t			 nparents;
	size_t			 nchildren;

	/* The latest restored incident, which a quick relapse reopens. */
	int			 last_level;
	int			 last_major;
	int64_t			 last_incident_id;
	int64_t			 last_restored_at;
	int64_t			 last_restored_mono;
	/* The host's incident: the first end a system of it recorded. */
	int64_t			 first_back;

	int			 here;		/* this node probes it */
	/*
	 * The vantage points' quorum (issue 21), NULL for a system this node
	 * alone decides (1 of 1): most of them, so out of line (issue 20).
	 */
	struct sys_quorum	*qs;
	int			 rto_wait;	/* RTO passed during a run of successes */
};

/*
 * A system's quorum: need and of, its vantage points and the other
 * nodes' VIEWS, by e->nodes' index.
 */
struct sys_quorum {
	struct conf_quorum	 quorum;
	int			 q_failing;	/* as last logged */
	int			 q_counted;
	char			**vantage;	/* "vantage points"; 0: all */
	size_t			 nvantage;
	struct sys_view		*views;
	size_t			 nviews;
	struct engine_vantage	*qviews;	/* the snapshot's, built */
	struct engine_quorum	 q;
	uint64_t		 q_pass;	/* the last pass it was in */
};

/* Another node's view of a system, from its observations. */
struct sys_view {
	unsigned char		*cdown;		/* its checks', by index */
	int			 ndown;
	int64_t			 down_at;
	int64_t			 up_at;
	char			*cause;		/* of its first check down */
};

/* An observation of this node, waiting for the end of the loop turn. */
struct engine_obs {
	char			*system;
	char			*check;
	char			*cause;
	int			 down;
	int64_t			 at;
};

/* Another node sharing the register: a vantage point. */
struct engine_node {
	char			*name;
	char			*seen;		/* its heartbeat, as written */
	int64_t			 seen_mono;	/* then, by our clock */
	int			 lost;		/* its own network */
	int			 silent;	/* as last said */
};

struct engine_window {
	char		*system;
	int64_t		 start;
	int64_t		 end;
};

struct engine {
	struct event_base	*base;
	struct store		*store;
	struct clocks		*clocks;
	const struct policy	*policy;	/* the current rules' */
	const struct maint_list	*maints;
	const struct conf	*conf;
	/* Windows people added (rtowatch maintenance), from the store. */
	struct engine_window	*windows;
	size_t			 nwindows;
	TAILQ_HEAD(sys_state_list, sys_state) systems;
	/* By name: every probe result looks its system up. */
	struct sys_state	*hash[ENGINE_HASH_SIZE];
	void			 (*probe_now)(void *, const char *);
	void			*probe_now_arg;
	/*
	 * How many more results the network stays lost for at least: each
	 * result changes whether its own system fails, nothing else, so
	 * engine_host_check() need not count every system after each.
	 * Cleared where systems change otherwise (reload, maintenance).
	 */
	int			 lost_margin;
	/*
	 * Systems wait (ENGINE_PENDING_HOST) while the share failing could
	 * still say the network is lost, once the systems not probed since
	 * the first of them began to fail (at LOST_WAVE_AT) are:
	 * engine_lost_settle() decides for all of them at once, and
	 * LOST_VERDICT is that decision while it is applied: over several
	 * turns if there are many (ENGINE_SLICE_MS each), LOST_NEXT the
	 * next system to look at, and every system deciding meanwhile gets
	 * the same answer.
	 */
	int64_t			 lost_wave_at;	/* 0: none waits */
	int64_t			 lost_wave_mono;
	int			 lost_verdict;	/* or ENGINE_STEP_UNKNOWN */
	int			 lost_settling;
	struct sys_state	*lost_next;
	/* Results, applied at the turn's end (engine_batch_cb), in order. */
	struct engine_queued	*batch;
	size_t			 nbatch;
	size_t			 batch_size;
	struct event		*batch_ev;
	/*
	 * The systems' RTO and maintenance-window timers: one event each
	 * cost 144 bytes a system, 0.7 MB with 5,000 down at 10,000.
	 */
	struct timerheap	*rto_timers;
	struct timerheap	*maint_timers;
	/*
	 * A standby (lead.c) keeps its checks' results, for status, and
	 * decides nothing: the leader does, and this node's state comes
	 * from the register (engine_recover) when it takes over.
	 */
	int			 standby;
	struct workflow		 wf;		/* what people's actions use */

	/* Vantage points (issue 21): see engine_vantage_cb. */
	const char		*node;		/* this one's name */
	int			 quorums;	/* systems with a quorum */
	int			 self_lost;	/* this node's network */
	struct engine_node	*nodes;
	size_t			 nnodes;
	int64_t			 obs_after;	/* the last observation read */
	struct event		*vantage_timer;
	/* PostgreSQL: the reads above, off the loop (store_vantage.c). */
	struct store_vantage_reader *reader;
	int64_t			 read_t0;	/* mono ms, of the read */
	int64_t			 read_after;
	struct event		*quorum_ev;	/* the pass goes on */
	uint64_t		 q_pass;
	/* This node's observations of this loop turn, written at its end. */
	struct engine_obs	*obs;
	size_t			 nobs;
	size_t			 obs_size;
	struct event		*obs_ev;
};

static unsigned	engine_hash(const char *);
static void	engine_remove(struct engine *, struct sys_state *);
static void	engine_observed_flush(evutil_socket_t, short, void *);
static void	engine_batch_cb(evutil_socket_t, short, void *);
static void	engine_batch_run(struct engine *, int64_t);

/* The system whose incident (or restored incident) is INCIDENT. */
static const char *
engine_incident_system(void *arg, int64_t incident)
{
	struct engine		*e = arg;
	struct sys_state	*s;

	TAILQ_FOREACH(s, &e->systems, entry)
		if (s->incident_id == incident ||
		    s->last_incident_id == incident)
			return s->name;
	return NULL;
}

static void	engine_rto_cb(struct timerheap_entry *, void *);
static void	engine_maint_cb(struct timerheap_entry *, void *);

/* The timers due in one turn are one store group, as results are. */
static void
engine_timers_begin(void *arg)
{
	struct engine	*e = arg;

	store_group_begin(e->store);
}

static void
engine_timers_end(void *arg)
{
	struct engine	*e = arg;

	store_group_commit(e->store);
}

struct engine *
engine_new(struct event_base *base, struct store *store)
{
	struct engine	*e;

	e = xcalloc(1, sizeof(*e));
	e->base = base;
	e->store = store;
	e->clocks = clocks_new(base, store);
	store_on_flush(store, clocks_flushed, e->clocks);
	clocks_set_namer(e->clocks, engine_incident_system, e);
	TAILQ_INIT(&e->systems);
	e->lost_verdict = ENGINE_STEP_UNKNOWN;
	if ((e->batch_ev = event_new(base, -1, 0, engine_batch_cb, e)) ==
	    NULL)
		fatalx("engine: event_new failed");
	e->rto_timers = timerheap_new(base, mono_ms, engine_rto_cb, e);
	e->maint_timers = timerheap_new(base, mono_ms, engine_maint_cb, e);
	/*
	 * A mass failure's RTOs pass together, as a window's end does for
	 * the systems it covered: applied as results are, a slice a turn.
	 */
	timerheap_set_slice(e->rto_timers, ENGINE_SLICE_MS, engine_timers_begin,
	    engine_timers_end);
	timerheap_set_slice(e->maint_timers, ENGINE_SLICE_MS,
	    engine_timers_begin, engine_timers_end);
	e->wf.store = store;
	e->wf.clocks = e->clocks;
	e->wf.engine = e;
	return e;
}

/* The other nodes' views of S, which name its checks by index. */
static void
engine_free_views(struct sys_state *s)
{
	size_t	 i;

	if (s->qs == NULL)
		return;
	for (i = 0; i < s->qs->nviews; i++) {
		free(s->qs->views[i].cdown);
		free(s->qs->views[i].cause);
	}
	free(s->qs->views);
	s->qs->views = NULL;
	s->qs->nviews = 0;
}

static void
engine_free_checks(struct sys_state *s)
{
	int	 i;

	engine_free_views(s);
	for (i = 0; i < s->nchecks; i++) {
		free(s->checks[i].detail);
		free(s->checks[i].last_detail);
	}
	free(s->checks);
	s->checks = NULL;
	s->nchecks = 0;
}

/* S's own copies of its names, if it has them. */
static void
engine_free_names(struct sys_state *s)
{
	size_t	 i;

	if (!s->names_own)
		return;
	for (i = 0; i < s->nparents; i++)
		free(s->parents[i]);
	free(s->parents);
	free(s->owner);
	free(s->name);
	s->names_own = 0;
}

/* S's names are the rules' SYS's, until the next engine_configure. */
static void
engine_point_names(struct sys_state *s, struct system_conf *sys)
{
	engine_free_names(s);
	s->name = sys->name;	/* the same text: its hash chain holds */
	s->owner = sys->owner;
	s->parents = sys->depends;
	s->nparents = sys->ndepends;
}

/*
 * S is no longer in the rules, whose strings are freed after this
 * configure: copies of its names, which its open incident still needs.
 */
static void
engine_own_names(struct sys_state *s)
{
	char	**parents = NULL;
	size_t	  i;

	if (s->names_own)
		return;
	if (s->nparents > 0) {
		parents = xcalloc(s->nparents, sizeof(char *));
		for (i = 0; i < s->nparents; i++)
			parents[i] = xstrdup(s->parents[i]);
	}
	s->parents = parents;
	s->name = xstrdup(s->name);
	s->owner = s->owner != NULL ? xstrdup(s->owner) : NULL;
	s->names_own = 1;
}

static void	engine_free_vantage(struct sys_state *);

static void
engine_free_system(struct sys_state *s)
{
	free(s->children);
	timerheap_disarm(s->engine->rto_timers, &s->rto_timer);
	timerheap_disarm(s->engine->maint_timers, &s->maint_timer);
	engine_free_checks(s);
	engine_free_vantage(s);
	engine_free_names(s);
	free(s);
}

void
engine_free(struct engine *e)
{
	struct sys_state	*s;

	if (e == NULL)
		return;
	engine_batch_run(e, 0);
	event_free(e->batch_ev);
	free(e->batch);
	while ((s = TAILQ_FIRST(&e->systems)) != NULL)
		engine_remove(e, s);
	timerheap_free(e->rto_timers);
	timerheap_free(e->maint_timers);
	store_on_flush(e->store, NULL, NULL);
	clocks_free(e->clocks);
	if (e->vantage_timer != NULL)
		event_free(e->vantage_timer);
	store_vantage_reader_free(e->reader);
	if (e->quorum_ev != NULL)
		event_free(e->quorum_ev);
	engine_observed_flush(-1, 0, e);	/* the last turn's */
	free(e->obs);
	if (e->obs_ev != NULL)
		event_free(e->obs_ev);
	while (e->nnodes > 0) {
		free(e->nodes[--e->nnodes].name);
		free(e->nodes[e->nnodes].seen);
	}
	free(e->nodes);
	while (e->nwindows > 0)
		free(e->windows[--e->nwindows].system);
	free(e->windows);
	free(e);
}

static void	engine_rto_check(struct sys_state *);
static void	engine_evaluate(struct engine *, struct sys_state *);
static int	engine_owner_down(struct engine *,
		    const struct sys_state *);
static void	engine_reown(struct engine *, struct sys_state *);
static int	engine_in_window(const struct engine *, const char *,
		    int64_t, int64_t *);
static void	engine_arm_maint(struct sys_state *, int64_t);
static struct sys_state *engine_find(struct engine *, const char *);
static int	engine_network_lost(struct engine *);
static void	engine_vantage_start(struct engine *);
static void	engine_vantage_read(struct engine *);
static void	engine_vantage_catch_up(struct engine *);
static void	engine_vantage_silence(struct engine *);
static const char *engine_quorum_cause(const struct sys_state *,
		    const struct engine_step *, char *, size_t);
static const char *engine_quorum_views(const struct sys_state *, int,
		    int64_t, char *, size_t);
static void	engine_observe(struct engine *, const struct sys_state *,
		    int);
static void	engine_observe_add(struct engine *, const char *,
		    const char *, int, int64_t, const char *);

/*
 * Does S wait for a quorum of vantage points (not 1 of 1)?  A system
 * assigned to some nodes does: its view is theirs, not this node's.
 */
static int
engine_has_quorum(const struct sys_state *s)
{
	return s->qs != NULL;
}

/* Does node NAME probe S ("vantage points", or all by default)? */
static int
engine_assigned(const struct sys_state *s, const char *name)
{
	size_t	 i;

	if (s->qs == NULL || s->qs->nvantage == 0)
		return 1;
	for (i = 0; i < s->qs->nvantage; i++)
		if (strcmp(s->qs->vantage[i], name) == 0)
			return 1;
	return 0;
}

/* S's quorum, when its rules no longer ask for one or it goes. */
static void
engine_free_vantage(struct sys_state *s)
{
	if (s->qs == NULL)
		return;
	engine_free_views(s);
	while (s->qs->nvantage > 0)
		free(s->qs->vantage[--s->qs->nvantage]);
	free(s->qs->vantage);
	free(s->qs->qviews);
	free(s->qs);
	s->qs = NULL;
}

/*
 * S's quorum from its rules SYS: need 0, or 1 of 1 without vantage
 * points, is this node alone, and S keeps no quorum at all.
 */
static void
engine_set_quorum(struct sys_state *s, const struct conf *conf,
    const struct system_conf *sys)
{
	struct conf_quorum	 q;
	size_t			 n;

	q = sys->quorum.need != 0 ? sys->quorum : conf->quorum;
	if (q.need <= 1 && q.of <= 1 && sys->nvantage == 0) {
		engine_free_vantage(s);
		return;
	}
	if (s->qs == NULL)
		s->qs = xcalloc(1, sizeof(*s->qs));
	while (s->qs->nvantage > 0)
		free(s->qs->vantage[--s->qs->nvantage]);
	free(s->qs->vantage);
	s->qs->vantage = NULL;
	s->qs->quorum = q;
	if (sys->nvantage > 0) {
		s->qs->vantage = xcalloc(sys->nvantage, sizeof(char *));
		for (n = 0; n < sys->nvantage; n++)
			s->qs->vantage[n] = xstrdup(sys->vantage[n]);
		s->qs->nvantage = sys->nvantage;
		/* Without a rule, every node assigned must agree. */
		if (s->qs->quorum.need == 0)
			s->qs->quorum.need = s->qs->quorum.of =
			    (int)sys->nvantage;
	}
}

/*
 * The vantage points' views of S for the decision: this node's own,
 * from its checks, first, then every other node's, from its
 * observations (up when it has none); of a system assigned to some
 * nodes, only theirs.
 */
static void
engine_quorum_build(const struct engine *e, struct sys_state *s)
{
	struct engine_vantage	*v;
	const struct sys_view	*sv;
	const char		*cause;
	int64_t			 mono;
	size_t			 i, n;
	int			 j;

	s->qs->qviews = xreallocarray(s->qs->qviews, e->nnodes + 1,
	    sizeof(*s->qs->qviews));
	n = 0;
	if (s->here) {
		v = &s->qs->qviews[n++];
		memset(v, 0, sizeof(*v));
		v->node = e->node;
		v->lost = e->self_lost;
		if ((v->down = engine_step_any_down(s->checks, s->nchecks))) {
			v->down_at = engine_step_outage_start(s->checks,
			    s->nchecks, &cause, &mono);
			v->cause = cause;
		} else
			for (j = 0; j < s->nchecks; j++)
				if (s->checks[j].first_ok_at > v->up_at)
					v->up_at = s->checks[j].first_ok_at;
	}
	for (i = 0; i < e->nnodes; i++) {
		if (!engine_assigned(s, e->nodes[i].name))
			continue;
		v = &s->qs->qviews[n++];
		memset(v, 0, sizeof(*v));
		v->node = e->nodes[i].name;
		v->lost = e->nodes[i].lost;
		v->silent = e->nodes[i].silent;
		if (i >= s->qs->nviews)
			continue;
		sv = &s->qs->views[i];
		v->down = sv->ndown > 0;
		v->down_at = sv->down_at;
		v->up_at = sv->up_at;
		v->cause = sv->cause;
	}
	s->qs->q.need = s->qs->quorum.need;
	s->qs->q.of = s->qs->quorum.of;
	s->qs->q.views = s->qs->qviews;
	/* Nodes on one register: far below INT_MAX. */
	s->qs->q.nviews = (int)n;
}
static int	engine_lost_answer(struct engine *, int64_t, int64_t);

/*
 * What the decisions (engine_step.h) see of S: its rules, its state and
 * the time; what lies beyond it stays unknown until asked for.
 */
static void
engine_snapshot(const struct engine *e, struct sys_state *s,
    struct engine_snapshot *snap)
{
	memset(snap, 0, sizeof(*snap));
	snap->now = wall_ms();
	snap->now_mono = mono_ms();
	snap->core = s->core;
	snap->critical_infrastructure = s->critical_infrastructure;
	snap->rto_ms = s->rto_ms;
	snap->checks = s->checks;
	snap->nchecks = s->nchecks;
	if (engine_has_quorum(s)) {
		engine_quorum_build(e, s);
		snap->quorum = &s->qs->q;
	}
	snap->down = s->down;
	snap->planned = s->planned;
	snap->attached = s->attached;
	snap->pending = s->pending;
	snap->level = s->level;
	snap->major = s->major;
	snap->rto_wait = s->rto_wait;
	snap->started_at = s->started_at;
	snap->started_mono = s->started_mono;
	snap->last_incident_id = s->last_incident_id;
	snap->last_restored_at = s->last_restored_at;
	snap->last_restored_mono = s->last_restored_mono;
	snap->reopen_ms = e->policy != NULL ? e->policy->reopen_ms : 0;
	snap->parents = NULL;
	snap->nparents = ENGINE_STEP_UNKNOWN;
	snap->in_window = ENGINE_STEP_UNKNOWN;
	snap->lost = ENGINE_STEP_UNKNOWN;
	snap->owner_down = ENGINE_STEP_UNKNOWN;
	snap->last = ENGINE_LAST_UNKNOWN;
}

/*
 * Answer what decision D asks about S; PARENTS has room for S's (NULL:
 * none asked, as for the monitoring host's relapse).
 */
static void
engine_answer(struct engine *e, const struct sys_state *s,
    struct engine_snapshot *snap, struct engine_parent *parents,
    const struct engine_step *d)
{
	struct store_incident	 last;
	struct engine_parent	*pp;
	const struct sys_state	*p;
	int			 i, j, rc;

	switch (d->need) {
	case ENGINE_NEED_PARENTS:
		snap->parents = parents;
		/* A system's depends lines: far below INT_MAX. */
		snap->nparents = parents != NULL ? (int)s->nparents : 0;
		for (i = 0; i < snap->nparents; i++) {
			pp = &parents[i];
			memset(pp, 0, sizeof(*pp));
			if ((p = engine_find(e, s->parents[i])) == NULL)
				continue;
			pp->known = 1;
			/*
			 * One that other nodes probe ("vantage points") is
			 * as their views say: nothing to wait for here.
			 */
			pp->probed = p->configured && p->nchecks > 0 &&
			    p->here;
			pp->down = p->down;
			pp->pending = p->pending;
			pp->incident_id = p->incident_id;
			pp->last_result_at = p->last_result_at;
			for (j = 0; j < p->nchecks; j++)
				if (p->checks[j].fails > 0 &&
				    !p->checks[j].down)
					pp->counting = 1;
		}
		break;
	case ENGINE_NEED_WINDOW:
		snap->in_window = engine_in_window(e, s->name, d->started_at,
		    &snap->window_end);
		break;
	case ENGINE_NEED_LOST:
		snap->lost = engine_lost_answer(e, d->started_at,
		    d->started_mono);
		break;
	case ENGINE_NEED_OWNER:
		snap->owner_down = engine_owner_down(e, s);
		break;
	case ENGINE_NEED_LAST:
		rc = store_incident_get(e->store, s->last_incident_id, &last);
		if (rc == -1)
			snap->last = ENGINE_LAST_UNREAD;
		else if (rc == 0)
			snap->last = ENGINE_LAST_GONE;
		else if (strcmp(last.status, "restored") == 0)
			snap->last = ENGINE_LAST_RESTORED;
		else if (strcmp(last.status, "closed") == 0)
			snap->last = ENGINE_LAST_CLOSED;
		else
			snap->last = ENGINE_LAST_OTHER;
		break;
	}
}

/* Decide for S, answering what the decision asks on its way. */
static void
engine_decide(struct engine *e, const struct sys_state *s,
    struct engine_snapshot *snap, struct engine_parent *parents,
    struct engine_step *d)
{
	for (;;) {
		engine_step_decide(snap, d);
		if (d->what != ENGINE_STEP_NEED)
			return;
		engine_answer(e, s, snap, parents, d);
	}
}

/*
 * While a system is down and its incident still general, a timer waits
 * for the moment the outage outlasts the RTO.
 */
static void
engine_arm_rto(struct sys_state *s)
{
	int64_t		 wait;

	timerheap_disarm(s->engine->rto_timers, &s->rto_timer);
	if (!s->down || s->attached || s->planned || s->major ||
	    s->rto_ms <= 0)
		return;
	/*
	 * One millisecond past: exactly at the RTO is still in time.  The
	 * RTO ends at its wall time, or sooner when the monotonic clock says
	 * it has been longer (engine_step_elapsed); engine_clock_jumped arms it
	 * again when the wall clock jumps.
	 */
	wait = s->started_at + s->rto_ms + 1 - wall_ms();
	if (s->started_mono != 0 &&
	    s->started_mono + s->rto_ms + 1 - mono_ms() < wait)
		wait = s->started_mono + s->rto_ms + 1 - mono_ms();
	if (wait < 0)
		wait = 0;
	timerheap_arm(s->engine->rto_timers, &s->rto_timer, mono_ms() + wait);
}

static void
engine_rto_cb(struct timerheap_entry *en, void *arg)
{
	(void)arg;
	engine_rto_check((struct sys_state *)(void *)((char *)en -
	    offsetof(struct sys_state, rto_timer)));
}

/*
 * The RTO timer fired, or a result came in while it waits for a run of
 * successes that began within the RTO: engine_step_rto decides.
 */
static void
engine_rto_check(struct sys_state *s)
{
	struct engine		*e = s->engine;
	struct engine_snapshot	 snap;
	struct engine_rto	 r;
	int64_t			 now, due;
	char			 detail[512], d1[32], d2[32], t[TIME_STRLEN];

	engine_snapshot(e, s, &snap);
	now = snap.now;
	if (!engine_step_rto(&snap, &r)) {
		s->rto_wait = 0;
		return;
	}
	switch (r.verdict) {
	case POLICY_RTO_NOT_YET:
		s->rto_wait = 0;
		engine_arm_rto(s);	/* the wall clock was set back */
		return;
	case POLICY_RTO_WAIT:
		if (!s->rto_wait)
			log_info("%s: its RTO passed while it is coming back "
			    "since %s; waiting for the successes to confirm "
			    "it before classifying the incident", s->name,
			    time_fmt(r.back_at, t, sizeof(t)));
		s->rto_wait = 1;
		return;
	case POLICY_RTO_MAJOR:
		break;
	}
	if (s->rto_wait)
		snprintf(detail, sizeof(detail), "%s was coming back, but "
		    "failed again before %d successes confirmed it: not "
		    "restored within its RTO of %s, major incident as of %s, "
		    "availability level %d, level %d -> %d", s->name,
		    s->up_after, duration_fmt(s->rto_ms, d2, sizeof(d2)),
		    time_fmt(r.at, t, sizeof(t)), r.c.level, s->level,
		    r.level);
	else
		snprintf(detail, sizeof(detail), "%s down for %s, longer than "
		    "its RTO of %s: major incident, availability level %d, "
		    "level %d -> %d", s->name, duration_fmt(r.length, d1,
		    sizeof(d1)), duration_fmt(s->rto_ms, d2, sizeof(d2)),
		    r.c.level, s->level, r.level);
	if (store_begin(e->store) == -1 ||
	    store_incident_escalate(e->store, s->incident_id, r.c.level, now,
	    detail) == -1 ||
	    /* 5.4.2: the raised level is notified anew, on its own clock. */
	    clocks_open(e->clocks, s->incident_id, CLOCK_NOTIFY, r.level,
	    r.at, &due) == -1 ||
	    clocks_relevel(e->clocks, s->incident_id, CLOCK_RESTORE,
	    r.level) == -1 ||
	    clocks_relevel(e->clocks, s->incident_id, CLOCK_CLOSE,
	    r.level) == -1 ||
	    clocks_report_start(e->clocks, s->incident_id, r.level) == -1 ||
	    notice_queue(e->store, e->policy, s->incident_id, r.level,
	    s->name, "reclassified as major", detail, now) == -1 ||
	    store_commit(e->store) == -1) {
		store_rollback(e->store);
		log_warnx("%s: escalation could not be recorded; retrying",
		    s->name);
		timerheap_arm(e->rto_timers, &s->rto_timer,
		    mono_ms() + ENGINE_RETRY_MS);
		return;
	}
	clocks_sync(e->clocks, s->incident_id);
	log_fields(s->name, s->incident_id, r.c.level);
	log_warnx("%s; incident %lld", detail, (long long)s->incident_id);
	s->major = 1;
	s->level = r.level;
	s->rto_wait = 0;
}

/* SYS: the rules' system NAME; NULL: one they do not have. */
static struct sys_state *
engine_add(struct engine *e, const char *name, struct system_conf *sys)
{
	struct sys_state	*s;

	s = xcalloc(1, sizeof(*s));
	if (sys != NULL)
		engine_point_names(s, sys);
	else {
		s->name = xstrdup(name);
		s->names_own = 1;
	}
	s->engine = e;
	s->here = 1;		/* until its rules say otherwise */
	TAILQ_INSERT_TAIL(&e->systems, s, entry);
	s->hnext = e->hash[engine_hash(name)];
	e->hash[engine_hash(name)] = s;
	return s;
}

static unsigned
engine_hash(const char *name)
{
	return str_hash(name) & (ENGINE_HASH_SIZE - 1);
}

static struct sys_state *
engine_find(struct engine *e, const char *name)
{
	struct sys_state	*s;

	for (s = e->hash[engine_hash(name)]; s != NULL; s = s->hnext)
		if (strcmp(s->name, name) == 0)
			return s;
	return NULL;
}

static void
engine_remove(struct engine *e, struct sys_state *s)
{
	struct sys_state	**sp;

	for (sp = &e->hash[engine_hash(s->name)]; *sp != NULL;
	    sp = &(*sp)->hnext)
		if (*sp == s) {
			*sp = s->hnext;
			break;
		}
	if (e->lost_next == s)
		e->lost_next = TAILQ_NEXT(s, entry);
	TAILQ_REMOVE(&e->systems, s, entry);
	engine_free_system(s);
}

/* Who depends on whom, as pointers, rebuilt with every rules load. */
static void
engine_link_children(struct engine *e)
{
	struct sys_state	*s, *p;
	size_t			 i;

	/*
	 * The analyzer loses track of TAILQ_REMOVE's pointer-to-pointer
	 * unlinking in engine_remove and thinks a freed system is still
	 * listed here.
	 */
	/* NOLINTBEGIN(clang-analyzer-unix.Malloc) */
	TAILQ_FOREACH(s, &e->systems, entry) {
		free(s->children);
		s->children = NULL;
		s->nchildren = 0;
	}
	/* NOLINTEND(clang-analyzer-unix.Malloc) */
	TAILQ_FOREACH(s, &e->systems, entry)
		for (i = 0; i < s->nparents; i++) {
			if ((p = engine_find(e, s->parents[i])) == NULL)
				continue;
			p->children = xreallocarray(p->children,
			    p->nchildren + 1, sizeof(struct sys_state *));
			p->children[p->nchildren++] = s;
		}
}

/* A system down with all its checks down, as recovered from the store. */
static void
engine_mark_checks_down(struct sys_state *s)
{
	int	 i;

	for (i = 0; i < s->nchecks; i++) {
		s->checks[i].down = 1;
		s->checks[i].fails = s->down_after;
		s->checks[i].first_fail_at = s->started_at;
		s->checks[i].first_fail_mono = s->started_mono;
		s->checks[i].changed_at = s->started_at;
	}
}

/*
 * Take the (new) rules.  A system keeps its state across a reload, so an
 * outage in progress goes on; its checks start counting afresh when their
 * list changed.  A system dropped from the rules with an open outage is
 * kept, unprobed, until a person deals with its incident.
 */
int
engine_configure(struct engine *e, const struct conf *conf)
{
	struct sys_state	*s, *next;
	struct system_conf	*sys;
	struct check_conf	*cc;
	int			 i, same;

	engine_batch_run(e, 0);	/* with the rules they were probed by */
	e->lost_margin = 0;
	e->node = conf->node_name;
	e->quorums = 0;
	e->policy = &conf->policy;
	e->maints = &conf->maints;
	e->conf = conf;
	e->wf.conf = conf;
	clocks_set_policy(e->clocks, e->policy);
	TAILQ_FOREACH(s, &e->systems, entry)
		s->configured = 0;
	TAILQ_FOREACH(sys, &conf->systems, entry) {
		if ((s = engine_find(e, sys->name)) == NULL)
			s = engine_add(e, sys->name, sys);
		s->configured = 1;
		engine_point_names(s, sys);
		s->core = sys->core;
		s->critical_infrastructure = sys->critical_infrastructure;
		s->rto_ms = sys->rto_ms;
		s->down_after = sys->down_after;
		s->up_after = sys->up_after;
		engine_set_quorum(s, conf, sys);
		s->here = conf_system_probed_here(conf, sys);
		if (!s->here)
			log_debug("%s: not probed from this node (%s): its "
			    "vantage points are others", s->name, e->node);
		e->quorums += engine_has_quorum(s);
		engine_arm_rto(s);

		/* The old rules' descriptions are still there to compare. */
		same = s->nchecks == sys->nchecks;
		i = 0;
		TAILQ_FOREACH(cc, &sys->checks, entry) {
			if (same && strcmp(s->checks[i].desc, cc->desc) != 0)
				same = 0;
			i++;
		}
		if (!same) {
			engine_free_checks(s);
			s->nchecks = sys->nchecks;
			/* Counted by the parser: never negative. */
			s->checks = xcalloc((size_t)s->nchecks,
			    sizeof(*s->checks));
			if (s->down)
				engine_mark_checks_down(s);
		}
		i = 0;
		TAILQ_FOREACH(cc, &sys->checks, entry)
			s->checks[i++].desc = cc->desc;
	}
	for (s = TAILQ_FIRST(&e->systems); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry);
		if (s->configured)
			continue;
		if (!s->down) {
			engine_remove(e, s);
			continue;
		}
		/* Its checks go with the rules; a copy of its names stays. */
		engine_own_names(s);
		if (strcmp(s->name, ENGINE_HOST_NAME) != 0)
			log_warnx("%s: no longer in the rules; its outage "
			    "and incident %lld stay open", s->name,
			    (long long)s->incident_id);
		engine_free_checks(s);
	}
	engine_link_children(e);
	engine_vantage_start(e);
	return 0;
}

static int
engine_recover_one(const struct store_open_outage *o, void *arg)
{
	struct engine		*e = arg;
	struct sys_state	*s;
	char			 t[TIME_STRLEN];

	if ((s = engine_find(e, o->system)) == NULL) {
		s = engine_add(e, o->system, NULL);
		log_warnx("%s: not in the rules; its open outage and "
		    "incident %lld stay open", o->system,
		    (long long)o->incident_id);
	}
	s->down = 1;
	s->started_at = o->started_at;
	s->started_mono = 0;	/* only its wall time survived the restart */
	s->outage_id = o->outage_id;
	s->incident_id = o->incident_id;
	s->level = o->level;
	s->major = o->major;
	s->planned = o->incident_id == 0;
	s->attached = !s->planned &&
	    strcmp(o->incident_system, o->system) != 0;
	engine_mark_checks_down(s);
	engine_arm_rto(s);
	if (s->planned) {
		int64_t	 end;

		/* The window may be over, or gone from the rules. */
		if (!engine_in_window(e, s->name, wall_ms(), &end))
			end = wall_ms();
		engine_arm_maint(s, end);
	}
	log_info("%s: still down since %s, incident %lld continues",
	    s->name, time_fmt(s->started_at, t, sizeof(t)),
	    (long long)s->incident_id);
	return 0;
}

static int
engine_recover_restored(const char *system, int64_t incident,
    int64_t restored_at, int level, int major, void *arg)
{
	struct sys_state	*s;

	if ((s = engine_find(arg, system)) != NULL && !s->down) {
		s->last_incident_id = incident;
		s->last_restored_at = restored_at;
		s->last_restored_mono = 0;
		s->last_level = level;
		s->last_major = major;
	}
	return 0;
}

static void
engine_window_add(struct engine *e, const char *system, int64_t start,
    int64_t end)
{
	struct engine_window	*w;

	e->windows = xreallocarray(e->windows, e->nwindows + 1,
	    sizeof(*e->windows));
	w = &e->windows[e->nwindows++];
	w->system = xstrdup(system);
	w->start = start;
	w->end = end;
}

static int
engine_recover_window(const char *system, int64_t start, int64_t end,
    void *arg)
{
	engine_window_add(arg, system, start, end);
	return 0;
}

void
engine_set_leading(struct engine *e, int leading)
{
	e->standby = !leading;
}

/* After a restart: every outage still open in the store goes on. */
int
engine_recover(struct engine *e)
{
	/* The other vantage points' views, before any result counts. */
	if (e->quorums > 0)
		engine_vantage_catch_up(e);
	if (store_maintenance_windows(e->store, wall_ms(),
	    engine_recover_window, e) == -1 ||
	    store_open_outages(e->store, engine_recover_one, e) == -1 ||
	    store_last_restored(e->store, engine_recover_restored, e) == -1)
		return -1;
	return clocks_recover(e->clocks);
}

/*
 * Flapping: the system fails again within the policy's reopen window of
 * its last restoration (engine_step_relapse), so the same incident goes
 * on ("failed again") with its level and clocks.
 */
static void
engine_reopen(struct engine *e, struct sys_state *s, int64_t now,
    int64_t started_at, int64_t started_mono, int64_t gap,
    const char *cause)
{
	char	 detail[768], t[TIME_STRLEN], d[32];
	int64_t	 incident = s->last_incident_id;

	snprintf(detail, sizeof(detail), "%s failed again at %s, %s after it "
	    "was restored: %s", s->name, time_fmt(started_at, t, sizeof(t)),
	    duration_fmt(gap, d, sizeof(d)), cause);
	if (store_begin(e->store) == -1 ||
	    store_incident_reopen(e->store, &(struct store_outage){
	    .system = s->name, .incident_id = incident,
	    .started_at = started_at, .detected_at = now, .cause = cause,
	    .detail = detail }, &s->outage_id) == -1 ||
	    notice_queue(e->store, e->policy, incident, s->last_level,
	    s->name, "failed again", detail, now) == -1 ||
	    store_commit(e->store) == -1) {
		store_rollback(e->store);
		log_warnx("%s: down again, but it could not be recorded; "
		    "retrying at the next probe", s->name);
		return;
	}
	clocks_sync(e->clocks, incident);
	s->down = 1;
	s->incident_id = incident;
	s->started_at = started_at;
	s->started_mono = started_mono;
	s->level = s->last_level;
	s->major = s->last_major;
	s->last_incident_id = 0;
	engine_arm_rto(s);
	log_fields(s->name, incident, s->level);
	log_warnx("%s; incident %lld reopened", detail, (long long)incident);
}

/*
 * Open an incident for S, down since STARTED_AT.  OUTAGE is an outage of
 * S attached to another incident that goes on, on this one (0: a new
 * outage).  RECURRENCE_OF: the closed incident this relapse recurs (0:
 * none; engine_step_relapse).
 */
static void
engine_open(struct engine *e, struct sys_state *s, int64_t now,
    int64_t started_at, int64_t started_mono, const char *cause,
    int64_t outage, int64_t recurrence_of)
{
	struct store_new_incident	 ni;
	struct policy_class		 c;
	int64_t				 due, outage_id = 0, incident = 0;
	char				 t1[TIME_STRLEN], t2[TIME_STRLEN];
	char				 cause_buf[1024], opened[1280], d[32];

	c = policy_classify(s->core, s->critical_infrastructure,
	    engine_step_elapsed(started_at, started_mono, now, mono_ms()),
	    s->rto_ms);

	memset(&ni, 0, sizeof(ni));
	ni.system = s->name;
	ni.owner = s->owner != NULL ? s->owner : "";
	ni.core = s->core;
	ni.critical_infrastructure = s->critical_infrastructure;
	ni.rto_ms = s->rto_ms;
	ni.level = c.level;
	ni.major = c.major;
	ni.started_at = started_at;
	ni.detected_at = now;
	ni.opened_at = now;
	ni.notify_due_at = policy_due(e->policy, CLOCK_NOTIFY, c.level, now);
	ni.restore_due_at = policy_due(e->policy, CLOCK_RESTORE, c.level,
	    now);
	snprintf(cause_buf, sizeof(cause_buf), "%s", cause);
	ni.cause = cause_buf;
	ni.recurrence_of = recurrence_of;
	ni.outage_id = outage;
	if (recurrence_of != 0)
		snprintf(opened, sizeof(opened), "%s; a recurrence of incident "
		    "%lld (closed), restored %s before", cause_buf,
		    (long long)recurrence_of, duration_fmt(started_at -
		    s->last_restored_at, d, sizeof(d)));
	else
		snprintf(opened, sizeof(opened), "%s", cause_buf);
	/*
	 * The daemon is the discoverer: awareness, and the clocks, is now.
	 * The ids are S's once committed: a change the register refuses
	 * leaves S without an incident (its id goes to the next one), and
	 * the status claims none.
	 */
	if (store_begin(e->store) == -1 ||
	    store_outage_open(e->store, &ni, &outage_id, &incident) == -1 ||
	    clocks_open(e->clocks, incident, CLOCK_NOTIFY, c.level, now,
	    &due) == -1 ||
	    clocks_open(e->clocks, incident, CLOCK_RESTORE, c.level,
	    now, &due) == -1 ||
	    notice_queue(e->store, e->policy, incident, c.level,
	    s->name, "down, incident opened", opened, now) == -1 ||
	    store_commit(e->store) == -1) {
		store_rollback(e->store);
		log_warnx("%s: down, but the incident could not be recorded; "
		    "retrying at the next probe", s->name);
		return;
	}
	s->outage_id = outage_id;
	s->incident_id = incident;
	clocks_sync(e->clocks, s->incident_id);
	s->down = 1;
	s->attached = 0;
	s->started_at = started_at;
	s->started_mono = started_mono;
	s->level = c.level;
	s->major = c.major;
	engine_arm_rto(s);
	log_fields(s->name, s->incident_id, c.level);
	log_warnx("%s: down since %s (%s); incident %lld opened: level %d, "
	    "%s; notify the portal by %s", s->name,
	    time_fmt(started_at, t1, sizeof(t1)), opened,
	    (long long)s->incident_id, c.level, c.major ? "major" : "general",
	    time_fmt(ni.notify_due_at, t2, sizeof(t2)));
}

/* S has an outage of its own (D): open, reopen, or wait for the store. */
static void
engine_own(struct engine *e, struct sys_state *s, int64_t now,
    const struct engine_step *d)
{
	switch (d->what) {
	case ENGINE_STEP_UNREAD:
		log_warnx("%s: down, but its last incident cannot be read; "
		    "retrying at the next probe", s->name);
		break;
	case ENGINE_STEP_REOPEN:
		engine_reopen(e, s, now, d->started_at, d->started_mono,
		    d->gap, d->cause);
		break;
	default:
		engine_open(e, s, now, d->started_at, d->started_mono,
		    d->cause, 0, d->recurrence_of);
		break;
	}
}

/*
 * The monitoring host's incident H ends: the network came back at the
 * first success, since H began, of a check passing again (NOW if none).
 */
static int64_t
engine_host_back_at(struct engine *e, const struct sys_state *h,
    int64_t now)
{
	const struct sys_state	*s;
	const struct engine_check *cs;
	int64_t			 back = now, at;
	int			 i;

	/* A system of it came back and its outage ended then: exactly. */
	if (h->first_back != 0 && h->first_back < back)
		back = h->first_back;
	TAILQ_FOREACH(s, &e->systems, entry)
		for (i = 0; i < s->nchecks; i++) {
			cs = &s->checks[i];
			/* One back already is in first_back, as it ended. */
			if (!s->down || cs->successes == 0 ||
			    cs->first_ok_at <= h->started_at)
				continue;
			/* As its own outage will end (engine_step_came_back). */
			at = s->started_at + engine_step_elapsed(s->started_at,
			    s->started_mono, cs->first_ok_at, cs->first_ok_mono);
			if (at < back)
				back = at;
		}
	return back;
}

static void
engine_restore(struct engine *e, struct sys_state *s)
{
	struct engine_snapshot	 snap;
	struct engine_restore	 r;
	int64_t			 now, host_back = 0;
	char			 detail[1280], t[TIME_STRLEN], d1[32], d2[32];
	char			 views[1024];

	engine_snapshot(e, s, &snap);
	now = snap.now;
	if (s->nchecks == 0)	/* the monitoring host */
		host_back = engine_host_back_at(e, s, now);
	engine_step_restore(&snap, host_back, &r);
	/* Back when the quorum broke: the views that broke it. */
	views[0] = '\0';
	if (snap.quorum != NULL)
		engine_quorum_views(s, 1, r.restored_at, views, sizeof(views));
	snprintf(detail, sizeof(detail), "%s back at %s after %s, %s the "
	    "RTO of %s%s%s%s", s->name, time_fmt(r.restored_at, t, sizeof(t)),
	    duration_fmt(r.length, d1, sizeof(d1)), r.within ? "within" :
	    "beyond", duration_fmt(s->rto_ms, d2, sizeof(d2)),
	    r.within ? "" : ": major incident", views[0] != '\0' ? "; " :
	    "", views);
	/*
	 * Service is back: the restore clock stops, and for the levels that
	 * need one (3-4) the investigation report's clock starts (5.3.3).
	 */
	if (store_begin(e->store) == -1 ||
	    store_outage_end(e->store, &(struct store_restore){
	    .outage_id = s->outage_id, .incident_id = s->incident_id,
	    .restored_at = r.restored_at, .within_rto = r.within,
	    .availability = r.c.level, .level = r.level, .major = r.c.major,
	    .detail = detail }) == -1 ||
	    clocks_stop(e->clocks, s->incident_id, CLOCK_RESTORE, now,
	    "rtowatchd: service restored") == -1 ||
	    clocks_report_start(e->clocks, s->incident_id, r.level) == -1 ||
	    notice_queue(e->store, e->policy, s->incident_id, r.level,
	    s->name, "restored", detail, now) == -1 ||
	    store_commit(e->store) == -1) {
		store_rollback(e->store);
		log_warnx("%s: restored, but it could not be recorded; "
		    "retrying at the next probe", s->name);
		return;
	}
	clocks_sync(e->clocks, s->incident_id);
	log_fields(s->name, s->incident_id, r.c.level);
	log_info("%s; incident %lld restored", detail,
	    (long long)s->incident_id);
	s->last_incident_id = s->incident_id;
	s->last_restored_at = r.restored_at;
	s->last_restored_mono = r.restored_mono;
	s->first_back = 0;
	s->last_level = r.level;
	s->last_major = s->major || r.c.major;
	s->down = 0;
	s->rto_wait = 0;
	s->outage_id = 0;
	s->incident_id = 0;
	s->started_at = 0;
	s->started_mono = 0;
	engine_arm_rto(s);	/* disarms */
}

static void
engine_attach(struct engine *e, struct sys_state *s, struct sys_state *p,
    int64_t started_at, int64_t started_mono, const char *cause)
{
	char	 detail[768], t[TIME_STRLEN];
	int64_t	 now = wall_ms();

	snprintf(detail, sizeof(detail), "%s down since %s while %s, which it "
	    "depends on, is down: affected scope (可能影響範圍) of this "
	    "incident: %s", s->name, time_fmt(started_at, t, sizeof(t)),
	    p->name, cause);
	if (store_begin(e->store) == -1 ||
	    store_outage_attach(e->store, &(struct store_outage){
	    .system = s->name, .incident_id = p->incident_id,
	    .started_at = started_at, .detected_at = now, .cause = cause,
	    .detail = detail }, &s->outage_id) == -1 ||
	    store_commit(e->store) == -1) {
		store_rollback(e->store);
		log_warnx("%s: down, but it could not be recorded; retrying "
		    "at the next probe", s->name);
		return;
	}
	s->down = 1;
	s->attached = 1;
	s->pending = 0;
	s->started_at = started_at;
	s->started_mono = started_mono;
	s->incident_id = p->incident_id;
	log_warnx("%s; incident %lld", detail, (long long)p->incident_id);
}

/* An attached outage ends at AT: S is back, or its parent is. */
static int
engine_detach(struct engine *e, struct sys_state *s, int64_t at,
    const char *why)
{
	struct sys_state	*h;
	char			 detail[512], t[TIME_STRLEN];

	snprintf(detail, sizeof(detail), "%s: %s at %s", s->name, why,
	    time_fmt(at, t, sizeof(t)));
	if (store_begin(e->store) == -1 ||
	    store_outage_detach(e->store, &(struct store_restore){
	    .outage_id = s->outage_id, .incident_id = s->incident_id,
	    .restored_at = at, .detail = detail }) == -1 ||
	    store_commit(e->store) == -1) {
		store_rollback(e->store);
		log_warnx("%s: could not be recorded; retrying", detail);
		return -1;
	}
	log_info("%s; incident %lld", detail, (long long)s->incident_id);
	if ((h = engine_find(e, ENGINE_HOST_NAME)) != NULL && h != s &&
	    h->incident_id == s->incident_id && (h->first_back == 0 ||
	    at < h->first_back))
		h->first_back = at;
	s->down = 0;
	s->attached = 0;
	s->outage_id = 0;
	s->incident_id = 0;
	s->started_at = 0;
	s->started_mono = 0;
	return 0;
}

/* Is SYSTEM in one of its maintenance windows at T?  Until when? */
static int
engine_in_window(const struct engine *e, const char *system, int64_t t,
    int64_t *end)
{
	const struct maint_conf	*m;
	int64_t			 b, en;
	size_t			 i;
	int			 in = 0;

	for (i = 0; i < e->nwindows; i++)
		if (strcmp(e->windows[i].system, system) == 0 &&
		    e->windows[i].start <= t && t < e->windows[i].end &&
		    (!in || e->windows[i].end > *end)) {
			*end = e->windows[i].end;
			in = 1;
		}
	if (e->maints == NULL)
		return in;
	TAILQ_FOREACH(m, e->maints, entry)
		if (strcmp(m->system, system) == 0 &&
		    maint_window_at(m, t, &b, &en) && (!in || en > *end)) {
			*end = en;
			in = 1;
		}
	return in;
}

static void
engine_arm_maint(struct sys_state *s, int64_t end)
{
	int64_t		 wait = end - wall_ms();

	s->maint_end = end;	/* for engine_clock_jumped */
	if (wait < 0)
		wait = 0;
	timerheap_arm(s->engine->maint_timers, &s->maint_timer,
	    mono_ms() + wait);
}

/* A planned outage ends at AT: S is back, or its window closed. */
static int
engine_unplan(struct engine *e, struct sys_state *s, int64_t at)
{
	char	 t[TIME_STRLEN];

	e->lost_margin = 0;
	if (store_outage_close(e->store, s->outage_id, at) == -1) {
		log_warnx("%s: the end of its planned outage could not be "
		    "recorded; retrying", s->name);
		return -1;
	}
	log_info("%s: planned outage ended at %s", s->name,
	    time_fmt(at, t, sizeof(t)));
	timerheap_disarm(e->maint_timers, &s->maint_timer);
	s->down = 0;
	s->planned = 0;
	s->outage_id = 0;
	s->started_at = 0;
	s->started_mono = 0;
	return 0;
}

/*
 * The window closed with S still down: from now on it is an outage like
 * any other, counted from the window's end (not from its first failure
 * inside the window, which was planned).
 */
static void
engine_maint_cb(struct timerheap_entry *en, void *arg)
{
	struct sys_state	*s = (struct sys_state *)(void *)((char *)en -
				    offsetof(struct sys_state, maint_timer));
	int64_t			 end = wall_ms();

	(void)arg;
	if (!s->down || !s->planned)
		return;
	if (engine_in_window(s->engine, s->name, end, &end)) {
		engine_arm_maint(s, end);	/* a window follows on */
		return;
	}
	if (engine_unplan(s->engine, s, end) == -1) {
		timerheap_arm(s->engine->maint_timers, &s->maint_timer,
		    mono_ms() + ENGINE_RETRY_MS);
		return;
	}
	engine_step_recount(s->checks, s->nchecks, end, mono_ms());
	log_warnx("%s: still down when its maintenance window closed",
	    s->name);
	engine_evaluate(s->engine, s);
}

static void
engine_plan(struct engine *e, struct sys_state *s, int64_t started_at,
    int64_t started_mono, int64_t end, const char *cause)
{
	char	 t1[TIME_STRLEN], t2[TIME_STRLEN];

	e->lost_margin = 0;
	if (store_outage_planned(e->store, &(struct store_outage){
	    .system = s->name, .started_at = started_at,
	    .detected_at = wall_ms(), .cause = cause }, &s->outage_id) == -1) {
		log_warnx("%s: down, but it could not be recorded; retrying "
		    "at the next probe", s->name);
		return;
	}
	s->down = 1;
	s->planned = 1;
	s->pending = 0;
	s->started_at = started_at;
	s->started_mono = started_mono;
	engine_arm_maint(s, end);
	log_info("%s: down since %s, inside its maintenance window until "
	    "%s: planned outage, no incident", s->name,
	    time_fmt(started_at, t1, sizeof(t1)), time_fmt(end, t2,
	    sizeof(t2)));
}

/* Is SYS failing at all: counting, or down (not planned)? */
static int
engine_failing(const struct sys_state *s)
{
	return (s->down && !s->planned) ||
	    engine_step_failing_now(s->checks, s->nchecks);
}

/*
 * Count the probed systems (*N), those failing (*FAILING), those not
 * failing whose last result came before SINCE (*UNSETTLED: they may be
 * failing by now) and those waiting to know whether the network is lost
 * (*WAITING).
 */
static void
engine_network_count(const struct engine *e, int64_t since, int *n,
    int *failing, int *unsettled, int *waiting)
{
	const struct sys_state	*s;
	int			 f;

	*n = *failing = *unsettled = *waiting = 0;
	TAILQ_FOREACH(s, &e->systems, entry) {
		if (!s->configured || s->nchecks == 0 || !s->here)
			continue;
		(*n)++;
		*failing += f = engine_failing(s);
		if (!f && s->last_result_at < since)
			(*unsettled)++;
		if (s->pending == ENGINE_PENDING_HOST)
			(*waiting)++;
	}
}

/* Does the failing share of all probed systems say we lost our network? */
static int
engine_network_lost(struct engine *e)
{
	int	 n, failing, unsettled, waiting;

	e->lost_margin = 0;
	if (e->policy->lost_network_pct == 0)
		return 0;
	engine_network_count(e, 0, &n, &failing, &unsettled, &waiting);
	return engine_step_lost(n, failing, e->policy->lost_network_pct,
	    &e->lost_margin);
}

/*
 * Is the network lost, for a system down since STARTED_AT (STARTED_MONO)
 * with no incident yet: 1, 0, or ENGINE_STEP_LOST_OPEN while the systems
 * not probed since could still make it so (engine_step_lost_open).  The
 * first to wait starts a wave that the others join without counting
 * again, decided for all at once at the end of the turn
 * (engine_lost_settle), and waits at most ENGINE_LOST_WAIT_MS.
 */
static int
engine_lost_answer(struct engine *e, int64_t started_at,
    int64_t started_mono)
{
	int	 n, failing, unsettled, waiting, pct;

	if (e->lost_verdict != ENGINE_STEP_UNKNOWN)
		return e->lost_verdict;
	if (e->lost_margin > 0)
		return 1;
	if ((pct = e->policy->lost_network_pct) == 0)
		return 0;
	if (e->lost_wave_at != 0) {
		/* It joins the wave, which the turn's end decides. */
		if (mono_ms() - e->lost_wave_mono >= ENGINE_LOST_WAIT_MS)
			return 0;
		return ENGINE_STEP_LOST_OPEN;
	}
	engine_network_count(e, started_at, &n, &failing, &unsettled,
	    &waiting);
	if (engine_step_lost(n, failing, pct, &e->lost_margin))
		return 1;
	if (!engine_step_lost_open(n, failing, unsettled, pct))
		return 0;
	if (e->lost_wave_at == 0) {
		e->lost_wave_at = started_at;
		e->lost_wave_mono = started_mono != 0 ? started_mono :
		    mono_ms();
	}
	if (mono_ms() - e->lost_wave_mono >= ENGINE_LOST_WAIT_MS)
		return 0;
	return ENGINE_STEP_LOST_OPEN;
}

/* The wave is settled, or the network came back meanwhile. */
static void
engine_lost_done(struct engine *e)
{
	e->lost_wave_at = 0;
	e->lost_verdict = ENGINE_STEP_UNKNOWN;
	e->lost_settling = 0;
	e->lost_next = NULL;
}

/*
 * The systems waiting to know whether the network is lost: once the
 * share says it is, or can no longer say so (or they waited long
 * enough), all of them decide, with that answer.  Each decision is a
 * change written, so they are applied until END (mono ms; 0: all of
 * them), and the rest at the next turns with the same answer.
 */
static void
engine_lost_settle(struct engine *e, int64_t end)
{
	struct sys_state	*s;
	int			 n, failing, unsettled, waiting, pct, verdict;
	int			 decided = 0;

	if (e->lost_wave_at == 0)
		return;
	/* It lost the lead while settling: a standby decides nothing. */
	if (e->standby) {
		engine_lost_done(e);
		return;
	}
	if (!e->lost_settling) {
		pct = e->policy->lost_network_pct;
		engine_network_count(e, e->lost_wave_at, &n, &failing,
		    &unsettled, &waiting);
		if (waiting == 0 || pct == 0)
			verdict = 0;
		else if (engine_step_lost(n, failing, pct, &e->lost_margin))
			verdict = 1;
		else if (!engine_step_lost_open(n, failing, unsettled, pct) ||
		    mono_ms() - e->lost_wave_mono >= ENGINE_LOST_WAIT_MS)
			verdict = 0;
		else
			return;
		if (waiting == 0) {
			e->lost_wave_at = 0;
			return;
		}
		e->lost_settling = 1;
		e->lost_verdict = verdict;
		e->lost_next = TAILQ_FIRST(&e->systems);
	}
	/* One at least, so that a wave settles behind a flood of results. */
	while ((s = e->lost_next) != NULL) {
		if (end != 0 && decided > 0 && mono_ms() >= end)
			return;
		e->lost_next = TAILQ_NEXT(s, entry);
		if (s->pending == ENGINE_PENDING_HOST && !s->down) {
			engine_evaluate(e, s);
			decided++;
		}
	}
	engine_lost_done(e);
}

/*
 * The monitoring host's own incident, opened once for a mass failure.  It
 * is classified as the most critical system it hides (the highest base
 * level, then the shortest RTO), since any of them may really be down.
 * Its cause says which it is: this host lost its network (the portal may
 * be out of reach too, hence the telephone), or everything beyond its
 * gateway is unreachable.
 */
static struct sys_state *
engine_host_down(struct engine *e)
{
	struct sys_state	*h, *s;
	struct engine_snapshot	 snap;
	struct engine_step	 d;
	struct hostnet		 net;
	int64_t			 started_at = wall_ms();
	int			 base, best = 0, i;
	char			 cause[512];

	if ((h = engine_find(e, ENGINE_HOST_NAME)) == NULL)
		h = engine_add(e, ENGINE_HOST_NAME, NULL);
	if (h->down)
		return h;
	TAILQ_FOREACH(s, &e->systems, entry) {
		if (!s->configured || s->nchecks == 0 || !engine_failing(s))
			continue;
		/*
		 * The network went at the first failure it hides (of those
		 * not already down on incidents of their own).
		 */
		for (i = 0; i < s->nchecks && !s->down; i++)
			if (s->checks[i].fails > 0 &&
			    s->checks[i].first_fail_at < started_at)
				started_at = s->checks[i].first_fail_at;
		base = policy_classify(s->core, s->critical_infrastructure, 0,
		    1).level;
		if (base > best || (base == best && s->rto_ms < h->rto_ms)) {
			best = base;
			h->core = s->core;
			h->critical_infrastructure = s->critical_infrastructure;
			h->rto_ms = s->rto_ms;
		}
	}
	if (h->names_own) {
		free(h->owner);
		h->owner = xstrdup("rtowatchd");
	} else
		h->owner = "rtowatchd";	/* not freed: not own */
	hostnet_check(&net);
	if (net.lost)
		snprintf(cause, sizeof(cause), "most systems failed at once "
		    "and this host %s its network (%s); if the portal "
		    "cannot be reached, telephone the regional center "
		    "(區網中心) within the hour and enter the report later "
		    "(5.3.7.3.3)", net.lost == 1 ? "lost" : "may have lost",
		    net.why);
	else
		snprintf(cause, sizeof(cause), "most systems failed at once, "
		    "but this host's network is up (%s): everything beyond "
		    "it is unreachable, an upstream link or router is down; "
		    "see the affected scope", net.why);
	engine_snapshot(e, h, &snap);
	memset(&d, 0, sizeof(d));
	for (;;) {
		engine_step_relapse(&snap, started_at, 0, &d);
		if (d.what != ENGINE_STEP_NEED)
			break;
		engine_answer(e, h, &snap, NULL, &d);
	}
	d.cause = cause;
	engine_own(e, h, wall_ms(), &d);
	return h->down ? h : NULL;
}

/* Fewer fail now: the host's incident ends; who is still down gets its own. */
static void
engine_host_check(struct engine *e)
{
	struct sys_state	*h, *s;

	if ((h = engine_find(e, ENGINE_HOST_NAME)) == NULL || !h->down)
		return;
	if (e->lost_margin > 0) {
		e->lost_margin--;
		return;
	}
	if (engine_network_lost(e))
		return;
	engine_restore(e, h);
	if (h->down)
		return;
	/* Back before the wave was settled: who still waits decides anew. */
	if (e->lost_settling)
		engine_lost_done(e);
	/*
	 * Those failing since a result after the network came back are
	 * still down: an incident of their own.  The others were last
	 * probed before it came back, as most are when a mass failure ends
	 * (a round reaches them one at a time): their next result decides,
	 * and most are back by then, their part of the host's incident
	 * ended rather than an incident of their own opened.
	 */
	TAILQ_FOREACH(s, &e->systems, entry)
		if (s->down && s->attached && (!s->configured ||
		    s->nchecks == 0 || s->last_result_at >=
		    h->last_restored_at))
			engine_evaluate(e, s);
}

/* Is the system whose incident S is attached to still down? */
static int
engine_owner_down(struct engine *e, const struct sys_state *s)
{
	const struct sys_state	*o;
	size_t			 i;

	/* It is attached to the host's incident or a parent's, mostly. */
	if ((o = engine_find(e, ENGINE_HOST_NAME)) != NULL && !o->attached &&
	    o->down && o->incident_id == s->incident_id)
		return 1;
	for (i = 0; i < s->nparents; i++)
		if ((o = engine_find(e, s->parents[i])) != NULL &&
		    !o->attached && o->down &&
		    o->incident_id == s->incident_id)
			return 1;
	TAILQ_FOREACH(o, &e->systems, entry)
		if (o != s && !o->attached && o->down &&
		    o->incident_id == s->incident_id)
			return 1;
	return 0;
}

/*
 * S is still failing after the system it was attached to came back: its
 * part of that incident ends, and an incident of its own starts.  (A
 * system already passing probes again just finishes recovering on the
 * old incident.)  A parent's incident accounted for S's outage while the
 * parent was down, so S's own is counted from the parent's recovery.  The
 * monitoring host's incident only stood for systems failing together:
 * S's outage goes on, from its own first failure, on its own incident.
 */
static void
engine_reown(struct engine *e, struct sys_state *s)
{
	const struct sys_state	*h;
	const char		*cause;
	int64_t			 now = wall_ms(), mono;

	if ((h = engine_find(e, ENGINE_HOST_NAME)) != NULL &&
	    (h->incident_id == s->incident_id ||
	    h->last_incident_id == s->incident_id)) {
		/*
		 * A failure probed before the network came back, but applied
		 * after (its answer came late, or waited in the queue while
		 * the loop caught up): not a failure since.  Its next result
		 * decides, as for those engine_host_check() left alone.
		 */
		if (s->last_result_at < h->last_restored_at)
			return;
		engine_step_outage_start(s->checks, s->nchecks, &cause, &mono);
		engine_open(e, s, now, s->started_at, s->started_mono, cause,
		    s->outage_id, 0);
		return;
	}
	if (engine_detach(e, s, now, "still down after the system it was "
	    "attached to recovered; an incident of its own from") == -1)
		return;
	engine_step_recount(s->checks, s->nchecks, now, mono_ms());
	engine_evaluate(e, s);
}

/*
 * Bring the system's recorded state in line with its checks: decide
 * (engine_step_decide), then apply.
 */
#define ENGINE_PARENTS_STACK	8

static void
engine_evaluate(struct engine *e, struct sys_state *s)
{
	struct engine_snapshot	 snap;
	struct engine_parent	 pstack[ENGINE_PARENTS_STACK], *pp = pstack;
	struct engine_step	 d;
	struct sys_state	*p, *h = NULL;
	char			 qcause[1024];

	if (s->nparents > ENGINE_PARENTS_STACK)
		pp = xcalloc(s->nparents, sizeof(*pp));
	engine_snapshot(e, s, &snap);
	engine_decide(e, s, &snap, pp, &d);
	if (d.what == ENGINE_STEP_ATTACH && d.parent == ENGINE_STEP_HOST &&
	    (h = engine_host_down(e)) == NULL) {
		/* The host's incident is not recorded: S is on its own. */
		snap.lost = 0;
		engine_decide(e, s, &snap, pp, &d);
	}
	if (d.pending == 0)
		s->pending = 0;
	if (engine_has_quorum(s) && d.what != ENGINE_STEP_NONE &&
	    d.what != ENGINE_STEP_NEED && d.started_at != 0)
		d.cause = engine_quorum_cause(s, &d, qcause, sizeof(qcause));
	switch (d.what) {
	case ENGINE_STEP_NONE:
	case ENGINE_STEP_NEED:
		break;
	case ENGINE_STEP_UNPLAN:
		engine_unplan(e, s, d.back_at);
		break;
	case ENGINE_STEP_RESTORE:
		engine_restore(e, s);
		break;
	case ENGINE_STEP_DETACH:
		engine_detach(e, s, d.back_at, "back");
		break;
	case ENGINE_STEP_REOWN:
		engine_reown(e, s);
		break;
	case ENGINE_STEP_PLAN:
		engine_plan(e, s, d.started_at, d.started_mono, d.window_end,
		    d.cause);
		break;
	case ENGINE_STEP_ATTACH:
		/* The host's is recorded, or S decided again without it. */
		p = d.parent == ENGINE_STEP_HOST ? h :
		    engine_find(e, s->parents[d.parent]);
		if (p != NULL)
			engine_attach(e, s, p, d.started_at, d.started_mono,
			    d.cause);
		break;
	case ENGINE_STEP_PENDING:
		if (d.parent == ENGINE_STEP_HOST) {
			if (s->pending != ENGINE_PENDING_HOST)
				log_info("%s: down; waiting for the systems not "
				    "probed since it began to fail, to tell "
				    "whether most fail at once (lost-network "
				    "above %d%%), before opening an incident",
				    s->name, e->policy->lost_network_pct);
			s->pending = ENGINE_PENDING_HOST;
			break;
		}
		if ((p = engine_find(e, s->parents[d.parent])) == NULL)
			break;		/* it was found when asked */
		if (!s->pending)
			log_info("%s: down; waiting for the state of %s, which "
			    "it depends on, before opening an incident",
			    s->name, p->name);
		s->pending = 1;
		if (d.probe_parent && e->probe_now != NULL)
			e->probe_now(e->probe_now_arg, p->name);
		break;
	case ENGINE_STEP_OPEN:
	case ENGINE_STEP_REOPEN:
	case ENGINE_STEP_UNREAD:
		engine_own(e, s, wall_ms(), &d);
		break;
	}
	if (pp != pstack)
		free(pp);
}

/*
 * P's state may have settled or changed: children waiting for it decide
 * now, and a child still down after P recovered gets an incident of its
 * own, its outage counted from P's recovery.
 */
static void
engine_evaluate_children(struct engine *e, struct sys_state *p)
{
	struct sys_state	*c;
	size_t			 i;

	for (i = 0; i < p->nchildren; i++) {
		c = p->children[i];
		if (c->pending || (c->down && c->attached))
			engine_evaluate(e, c);
	}
}

void
engine_set_prober(struct engine *e, void (*fn)(void *, const char *),
    void *arg)
{
	e->probe_now = fn;
	e->probe_now_arg = arg;
}

/* Keep DETAIL as the check's last result text, in a buffer of its size. */
static void
engine_set_last(struct engine_check *cs, const char *detail)
{
	size_t	 len = strlen(detail) + 1;

	if (len > ENGINE_DETAIL_MAX)
		len = ENGINE_DETAIL_MAX;
	if (len > cs->last_size) {
		cs->last_detail = xrealloc(cs->last_detail, len);
		cs->last_size = len;
	}
	memcpy(cs->last_detail, detail, len - 1);
	cs->last_detail[len - 1] = '\0';
}

/*
 * Keep the failure's text ("DESC: RESULT: DETAIL") in a buffer of its
 * length: a failing check's text is mostly the same each time, and a
 * fixed 256 bytes each was 1.3 MB of 10,000 checks' heap with half of
 * them failing.
 */
static void
engine_set_failure(struct engine_check *cs, const char *desc,
    enum probe_result result, const char *detail)
{
	char	 buf[ENGINE_DETAIL_MAX];

	snprintf(buf, sizeof(buf), "%s: %s: %s", desc,
	    probe_result_str(result), detail);
	if (cs->detail != NULL && strcmp(cs->detail, buf) == 0)
		return;
	free(cs->detail);
	cs->detail = xstrdup(buf);
}

/* One result of S's check INDEX, in the turn's group. */
static void
engine_apply(struct engine *e, struct sys_state *s, int index,
    enum probe_result result, const char *detail, int64_t at,
    int64_t at_mono, int64_t rtt_ms)
{
	struct engine_check	*cs;
	int			 was;

	if (index >= s->nchecks)
		return;		/* its checks changed since */
	cs = &s->checks[index];
	was = cs->down;
	cs->last = result;
	cs->last_at = at;
	cs->rtt_ms = rtt_ms < 0 || rtt_ms > INT_MAX ? -1 : (int)rtt_ms;
	engine_set_last(cs, detail);
	engine_step_count(cs, result == PROBE_OK, at, at_mono, s->down_after,
	    s->up_after);
	if (result != PROBE_OK)
		engine_set_failure(cs, cs->desc, result, detail);
	s->last_result_at = at;
	if (cs->down != was)
		engine_observe(e, s, index);
	/* A standby, or a node that only observes, decides nothing. */
	if (e->standby)
		return;
	engine_evaluate(e, s);
	if (s->rto_wait)
		engine_rto_check(s);
	engine_evaluate_children(e, s);
	engine_host_check(e);
}

/*
 * Apply the results queued so far, in the order they came, as one group:
 * for SLICE_MS at most, and settle a lost-network wave for as long again
 * (0: all of it); the rest at the next turn.
 */
static void
engine_batch_run(struct engine *e, int64_t slice_ms)
{
	const struct timeval	 now = { 0, 0 };
	struct engine_queued	*q;
	int64_t			 end = 0;
	size_t			 i;

	if (e->nbatch == 0 && !e->lost_settling)
		return;
	event_del(e->batch_ev);
	if (slice_ms != 0)
		end = mono_ms() + slice_ms;
	store_group_begin(e->store);
	for (i = 0; i < e->nbatch && (i == 0 || end == 0 ||
	    mono_ms() < end); i++) {
		q = &e->batch[i];
		engine_apply(e, q->s, q->index, q->result, q->detail, q->at,
		    q->at_mono, q->rtt_ms);
		free(q->detail);
	}
	e->nbatch -= i;
	if (e->nbatch > 0)
		memmove(e->batch, e->batch + i, e->nbatch * sizeof(*e->batch));
	else if (e->batch_size > ENGINE_QUEUE_KEEP) {
		free(e->batch);
		e->batch = NULL;
		e->batch_size = 0;
	}
	/*
	 * Once a turn: it counts every system.  A slice of its own, so
	 * that the wave advances even when results fill theirs, as they
	 * did in every turn of a wave on a busy machine.
	 */
	engine_lost_settle(e, slice_ms != 0 ? mono_ms() + slice_ms : 0);
	store_group_commit(e->store);
	/* Not active now: the loop polls first, and starts what is due. */
	if (e->nbatch > 0 || e->lost_settling)
		event_add(e->batch_ev, &now);
}

static void
engine_batch_cb(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	engine_batch_run(arg, ENGINE_SLICE_MS);
}

/*
 * AT and AT_MONO: when the probe started, by the wall and monotonic
 * clocks.  Queued, and applied with the other results of this turn of the
 * loop once its callbacks have run (engine_batch_cb).
 */
void
engine_result(struct engine *e, const char *name, int index,
    enum probe_result result, const char *detail, int64_t at,
    int64_t at_mono, int64_t rtt_ms)
{
	struct sys_state	*s;
	struct engine_queued	*q;

	if ((s = engine_find(e, name)) == NULL || index >= s->nchecks)
		return;
	if (e->nbatch == e->batch_size) {
		e->batch_size = e->batch_size == 0 ? 64 : e->batch_size * 2;
		e->batch = xreallocarray(e->batch, e->batch_size,
		    sizeof(*e->batch));
	}
	q = &e->batch[e->nbatch++];
	q->s = s;
	q->index = index;
	q->result = result;
	q->detail = xstrdup(detail != NULL ? detail : "");
	q->at = at;
	q->at_mono = at_mono;
	q->rtt_ms = rtt_ms;
	if (e->nbatch >= ENGINE_QUEUE_MAX)
		engine_batch_run(e, ENGINE_SLICE_MS);
	else if (e->nbatch == 1)
		event_active(e->batch_ev, 0, 0);
}

static int
engine_collect_id(int n, const char *const *names, const char *const *vals,
    const int *nums, void *arg)
{
	struct { int64_t *id; size_t n; } *ids = arg;

	(void)names;
	(void)nums;
	if (n < 1 || vals[0] == NULL)
		return 0;
	ids->id = xrealloc(ids->id, (ids->n + 1) * sizeof(*ids->id));
	ids->id[ids->n++] = strtoll(vals[0], NULL, 10);
	return 0;
}

/*
 * Every incident not closed yet says in its timeline that the wall clock
 * jumped: its deadlines and times around this moment read differently.
 */
static void
engine_note_jump(struct engine *e, const struct wallclock_jump *j)
{
	struct { int64_t *id; size_t n; } ids = { NULL, 0 };
	char	 detail[512], sk[40], t1[TIME_STRLEN], t2[TIME_STRLEN];
	size_t	 i;
	int	 rc;

	wallclock_skew_fmt(j->skew, sk, sizeof(sk));
	time_fmt(j->from, t1, sizeof(t1));
	time_fmt(j->to, t2, sizeof(t2));
	snprintf(detail, sizeof(detail), "the wall clock of the monitoring "
	    "host (監控主機) moved %s, from %s to %s.  Deadlines follow the "
	    "wall clock: those it passed fire now, those it put off wait for "
	    "it.  An outage lasts the longer of what the wall and monotonic "
	    "clocks measure: setting the clock back never shortens one", sk,
	    t1, t2);
	if (store_select(e->store, "SELECT id FROM incidents"
	    " WHERE status <> 'closed' ORDER BY id", 0, NULL,
	    engine_collect_id, &ids) == -1) {
		log_warnx("the wall clock moved %s; the open incidents could "
		    "not be read to note it", sk);
		return;
	}
	rc = store_begin(e->store);
	for (i = 0; rc == 0 && i < ids.n; i++)
		rc = store_timeline_add(e->store, &(struct store_event){
		    .incident_id = ids.id[i], .at = j->to,
		    .event = "clock jump", .actor = "rtowatchd",
		    .detail = detail });
	if (rc == -1 || store_commit(e->store) == -1) {
		store_rollback(e->store);
		log_warnx("the wall clock moved %s; it could not be noted in "
		    "the timeline of %zu open incident%s", sk, ids.n,
		    ids.n == 1 ? "" : "s");
	} else
		log_warnx("the wall clock moved %s, from %s to %s: "
		    "every deadline re-armed by its wall time; noted in %zu "
		    "open incident%s", sk, t1, t2, ids.n, ids.n == 1 ? "" :
		    "s");
	free(ids.id);
}

/*
 * The wall clock was set or jumped (wallclock.c).  The loop's timers
 * count on the monotonic clock, so each wall-clock deadline is armed
 * again from its wall time: the procedure's clocks, the RTOs and the
 * ends of maintenance windows.  What the jump passed fires at once.
 */
void
engine_clock_jumped(const struct wallclock_jump *j, void *arg)
{
	struct engine		*e = arg;
	struct sys_state	*s;

	/* A standby or an observer has no deadline armed, records nothing. */
	if (e->standby)
		return;
	if (j->noted)
		engine_note_jump(e, j);
	else
		log_debug("the wall clock was set (%lld ms): deadlines "
		    "re-armed", (long long)j->skew);
	TAILQ_FOREACH(s, &e->systems, entry) {
		if (timerheap_armed(&s->rto_timer))
			engine_arm_rto(s);
		if (timerheap_armed(&s->maint_timer))
			engine_arm_maint(s, s->maint_end);
	}
	clocks_rearm(e->clocks);
}

/* The store, for the monitors' own timeline events. */
struct store *
engine_store(struct engine *e)
{
	return e->store;
}

/*
 * The workflow actions' context (workflow.h): they write through the same
 * store and clocks, under the rules the engine runs on.
 */
struct workflow *
engine_workflow(struct engine *e)
{
	return &e->wf;
}

int
engine_knows(struct engine *e, const char *system)
{
	struct sys_state	*s;

	return (s = engine_find(e, system)) != NULL && s->configured;
}

/*
 * A person set the incident's level (confidentiality or integrity): the
 * system down on it carries the new level, so that a later escalation
 * or restoration never lowers it.
 */
void
engine_incident_relevel(struct engine *e, int64_t incident, int level)
{
	struct sys_state	*s;

	TAILQ_FOREACH(s, &e->systems, entry) {
		if (s->incident_id == incident && s->level < level)
			s->level = level;
		if (s->last_incident_id == incident && s->last_level < level)
			s->last_level = level;
	}
}

/*
 * A person declared the incident major (rtowatch major): the system down
 * on it is major already, so its RTO timer has nothing left to decide.
 */
void
engine_incident_major(struct engine *e, int64_t incident)
{
	struct sys_state	*s;

	TAILQ_FOREACH(s, &e->systems, entry) {
		if (s->incident_id == incident) {
			s->major = 1;
			engine_arm_rto(s);	/* disarms */
		}
		if (s->last_incident_id == incident)
			s->last_major = 1;
	}
}

/*
 * A window a person added, already in the store.  An outage that begins
 * inside it is planned; a system already down keeps its incident.
 */
void
engine_maintenance_added(struct engine *e, const char *system,
    int64_t start, int64_t end)
{
	engine_window_add(e, system, start, end);
}

/*
 * A window a person cancelled, already in the store: it no longer makes
 * outages planned, and a system down inside it is judged as when a
 * window closes (engine_maint_cb), from now.
 */
void
engine_maintenance_cancelled(struct engine *e, const char *system,
    int64_t start, int64_t end)
{
	struct sys_state	*s;
	size_t			 i;

	for (i = 0; i < e->nwindows; i++)
		if (strcmp(e->windows[i].system, system) == 0 &&
		    e->windows[i].start == start && e->windows[i].end == end)
			break;
	if (i == e->nwindows)
		return;
	free(e->windows[i].system);
	e->windows[i] = e->windows[--e->nwindows];
	if ((s = engine_find(e, system)) != NULL && s->down && s->planned)
		engine_arm_maint(s, wall_ms());
}

/* Every system's state, for rtowatch status. */
int
engine_status(struct engine *e,
    int (*cb)(const struct engine_system_status *, void *), void *arg)
{
	struct engine_system_status	 st;
	struct engine_check_status	*cs;
	struct sys_state		*s;
	int64_t				 now = wall_ms(), end;
	int				 i, rc = 0;

	TAILQ_FOREACH(s, &e->systems, entry) {
		memset(&st, 0, sizeof(st));
		st.name = s->name;
		/* Up in a window is maintenance too: its failures are planned. */
		if (s->planned || (!s->down &&
		    engine_in_window(e, s->name, now, &end)))
			st.state = "maintenance";
		else if (s->down)
			st.state = "down";
		/* A standby decides nothing: its checks are its own view. */
		else if ((s->last_result_at == 0 && s->here) || e->standby)
			st.state = "unknown";
		else
			st.state = "up";
		st.since = s->down ? s->started_at : 0;
		st.incident = s->incident_id;
		st.level = s->down ? s->level : 0;
		st.major = s->down ? s->major : 0;
		st.attached = s->attached;
		st.here = s->here;
		if (s->qs != NULL) {
			st.vantage = s->qs->vantage;
			st.nvantage = s->qs->nvantage;
		}
		cs = xcalloc((size_t)s->nchecks + 1, sizeof(*cs));
		for (i = 0; i < s->nchecks; i++) {
			cs[i].desc = s->checks[i].desc;
			cs[i].result = s->checks[i].last_at == 0 ? NULL :
			    probe_result_str(s->checks[i].last);
			cs[i].detail = s->checks[i].last_detail != NULL ?
			    s->checks[i].last_detail : "";
			cs[i].at = s->checks[i].last_at;
			cs[i].failures = s->checks[i].fails;
			cs[i].rtt_ms = s->checks[i].last_at == 0 ? -1 :
			    s->checks[i].rtt_ms;
			cs[i].down = s->checks[i].down;
			cs[i].changed_at = s->checks[i].changed_at;
		}
		st.checks = cs;
		st.nchecks = s->nchecks;
		rc = cb(&st, arg);
		free(cs);
		if (rc == -1)
			break;
	}
	return rc;
}

/* Is a check's TARGET (a host, an address or a URL) the address ADDR? */
static int
engine_target_is(const char *target, const char *addr)
{
	const char	*host;
	size_t		 n = strlen(addr);

	if (strcmp(target, addr) == 0)
		return 1;
	if ((host = strstr(target, "://")) == NULL)
		return 0;
	host += 3;
	if (*host == '[')
		host++;
	return strncmp(host, addr, n) == 0 && strchr(":/]",
	    host[n]) != NULL;
}

/*
 * The incident of a system that is down with a failing check of ADDR:
 * an early warning whose targets include ADDR is related to it (an
 * external attack, 5.2.3.1.4).  Returns the incident, 0 for none; the
 * system's name in *SYSTEM.
 */
int64_t
engine_incident_for_address(struct engine *e, const char *addr,
    const char **system)
{
	const struct system_conf	*sc;
	const struct check_conf		*cc;
	struct sys_state		*s;
	int				 i;

	if (e->conf == NULL)
		return 0;
	TAILQ_FOREACH(s, &e->systems, entry) {
		if (!s->down || s->incident_id == 0 ||
		    (sc = conf_find_system(e->conf, s->name)) == NULL)
			continue;
		i = 0;
		TAILQ_FOREACH(cc, &sc->checks, entry) {
			if (i < s->nchecks && s->checks[i].down &&
			    engine_target_is(cc->target, addr)) {
				*system = s->name;
				return s->incident_id;
			}
			i++;
		}
	}
	return 0;
}

/*
 * Vantage points (issue 21).  Several nodes share one register: each
 * writes its own observations (a check going down or up in its view, at
 * its own first failure or success) and its heartbeat, and judges its
 * own network as the lost-network policy says; the leader reads the
 * others' and decides a system's outages by the quorum of its rules
 * (engine_step_quorum).  "set lead no" makes a node that only observes.
 */

/* Append to BUF, at *OFF, as much of FMT as fits. */
static void
engine_cat(char *buf, size_t len, size_t *off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
engine_cat(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (*off >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n > 0)
		*off += (size_t)n;
}

/*
 * S's quorum and each vantage point's view, its own first failure among
 * them: "down when 2 of 3 vantage points fail, met at T: a up; b down
 * since T1 (cause); ...", or, BROKE, "no longer met at T: ...".
 */
static const char *
engine_quorum_views(const struct sys_state *s, int broke, int64_t at,
    char *buf, size_t len)
{
	const struct engine_vantage	*v;
	size_t				 off = 0;
	int				 i;
	char				 t[TIME_STRLEN];

	engine_cat(buf, len, &off, "down when %d of %d vantage points fail, "
	    "%smet at %s:", s->qs->quorum.need, s->qs->quorum.of, broke ?
	    "no longer " : "", time_fmt(at, t, sizeof(t)));
	for (i = 0; i < s->qs->q.nviews; i++) {
		v = &s->qs->q.views[i];
		engine_cat(buf, len, &off, "%s %s", i == 0 ? "" : ";",
		    v->node);
		if (v->lost)
			engine_cat(buf, len, &off, " left out, its own network "
			    "is lost");
		else if (v->silent)
			engine_cat(buf, len, &off, " left out, silent");
		else if (v->down)
			engine_cat(buf, len, &off, " down since %s (%s)",
			    time_fmt(v->down_at, t, sizeof(t)),
			    v->cause != NULL ? v->cause : "");
		else
			engine_cat(buf, len, &off, " up");
	}
	if (off >= len && len > 4)
		memcpy(buf + len - 4, "...", 4);
	return buf;
}

/* What opened S's outage (D), for its record and timeline. */
static const char *
engine_quorum_cause(const struct sys_state *s, const struct engine_step *d,
    char *buf, size_t len)
{
	return engine_quorum_views(s, 0, d->started_at, buf, len);
}

/* This node saw check I of S go down or up: its observation. */
static void
engine_observe(struct engine *e, const struct sys_state *s, int i)
{
	const struct engine_check	*cs = &s->checks[i];
	char				 t[TIME_STRLEN], msg[512];

	snprintf(msg, sizeof(msg), "%s: %s %s since %s, observed by node %s",
	    s->name, cs->desc, cs->down ? "down" : "up",
	    time_fmt(cs->down ? cs->first_fail_at : cs->first_ok_at, t,
	    sizeof(t)), e->node);
	/* The leader says what it decides of it; the others, this. */
	if (!e->standby)
		log_debug("%s", msg);
	else
		log_info("%s", msg);
	engine_observe_add(e, s->name, cs->desc, cs->down,
	    cs->down ? cs->first_fail_at : cs->first_ok_at,
	    cs->down ? cs->detail : NULL);
}

/*
 * Queue an observation of this node: the turn's are written together
 * once the turn's callbacks are done (engine_observed_flush), one
 * transaction for a mass failure's thousands.
 */
static void
engine_observe_add(struct engine *e, const char *system, const char *check,
    int down, int64_t at, const char *cause)
{
	struct engine_obs	*o;
	struct timeval		 now = { 0, 0 };

	if (e->nobs == e->obs_size) {
		e->obs_size = e->obs_size == 0 ? 16 : e->obs_size * 2;
		e->obs = xreallocarray(e->obs, e->obs_size, sizeof(*e->obs));
	}
	o = &e->obs[e->nobs++];
	o->system = xstrdup(system);
	o->check = xstrdup(check);
	o->down = down;
	o->at = at;
	o->cause = xstrdup(cause != NULL ? cause : "");
	if (e->obs_ev == NULL && (e->obs_ev = evtimer_new(e->base,
	    engine_observed_flush, e)) == NULL)
		fatalx("engine: evtimer_new failed");
	if (!evtimer_pending(e->obs_ev, NULL))
		evtimer_add(e->obs_ev, &now);
}

/* Write the observations queued this turn (store_observations_add). */
static void
engine_observed_flush(evutil_socket_t fd, short events, void *arg)
{
	struct engine			*e = arg;
	struct store_observation	*o;
	int64_t				 t0;
	size_t				 i;

	(void)fd;
	(void)events;
	if (e->nobs == 0)
		return;
	o = xcalloc(e->nobs, sizeof(*o));
	for (i = 0; i < e->nobs; i++) {
		o[i].node = e->node;
		o[i].system = e->obs[i].system;
		o[i].check = e->obs[i].check;
		o[i].down = e->obs[i].down;
		o[i].at = e->obs[i].at;
		o[i].cause = e->obs[i].cause;
	}
	t0 = mono_ms();
	if (store_observations_add(e->store, o, e->nobs) == -1)
		log_warnx("node %s: %zu observation%s could not be recorded",
		    e->node, e->nobs, e->nobs == 1 ? "" : "s");
	else
		log_debug("node %s: %zu observation%s written in %lld ms",
		    e->node, e->nobs, e->nobs == 1 ? "" : "s",
		    (long long)(mono_ms() - t0));
	free(o);
	for (i = 0; i < e->nobs; i++) {
		free(e->obs[i].system);
		free(e->obs[i].check);
		free(e->obs[i].cause);
	}
	e->nobs = 0;
}

/* Does the failing share of this node's systems say its network is lost? */
static int
engine_self_lost(const struct engine *e)
{
	const struct sys_state	*s;
	int			 n = 0, failing = 0, margin;

	if (e->policy == NULL || e->policy->lost_network_pct == 0)
		return 0;
	TAILQ_FOREACH(s, &e->systems, entry) {
		if (!s->configured || s->nchecks == 0 || !s->here)
			continue;
		n++;
		failing += engine_step_failing_now(s->checks, s->nchecks) ||
		    engine_step_any_down(s->checks, s->nchecks);
	}
	return engine_step_lost(n, failing, e->policy->lost_network_pct,
	    &margin);
}

static struct engine_node *
engine_node(struct engine *e, const char *name, size_t *idx)
{
	size_t	 i;

	for (i = 0; i < e->nnodes; i++)
		if (strcmp(e->nodes[i].name, name) == 0)
			break;
	if (i == e->nnodes) {
		e->nodes = xreallocarray(e->nodes, e->nnodes + 1,
		    sizeof(*e->nodes));
		memset(&e->nodes[i], 0, sizeof(e->nodes[i]));
		e->nodes[i].name = xstrdup(name);
		e->nodes[i].silent = 1;		/* until its heartbeat */
		e->nnodes++;
		log_info("vantage point %s: known", name);
	}
	if (idx != NULL)
		*idx = i;
	return &e->nodes[i];
}

/* NODE's heartbeat, SEEN_AT as it wrote it. */
static int
engine_vantage_seen(const char *node, const char *seen_at, void *arg)
{
	struct engine		*e = arg;
	struct engine_node	*n;
	int64_t			 at, ago;

	if (node == NULL || seen_at == NULL || strcmp(node, e->node) == 0)
		return 0;
	n = engine_node(e, node, NULL);
	if (n->seen != NULL && strcmp(n->seen, seen_at) == 0)
		return 0;
	free(n->seen);
	n->seen = xstrdup(seen_at);
	/*
	 * Changed since the last look: written within a turn, by our own
	 * clock, however the node's is set.  At the first look, its age by
	 * the wall clocks tells a node long gone from one alive.
	 */
	ago = 0;
	if (n->seen_mono == 0 && time_parse(seen_at, &at) == 0 &&
	    wall_ms() > at)
		ago = wall_ms() - at;
	n->seen_mono = mono_ms() - ago;
	if (n->seen_mono == 0)
		n->seen_mono = 1;
	return 0;
}

/* Another node's view of S, by its index in e->nodes. */
static struct sys_view *
engine_view(struct sys_state *s, size_t idx)
{
	if (idx >= s->qs->nviews) {
		s->qs->views = xreallocarray(s->qs->views, idx + 1, sizeof(*s->qs->views));
		memset(&s->qs->views[s->qs->nviews], 0, (idx + 1 - s->qs->nviews) *
		    sizeof(*s->qs->views));
		s->qs->nviews = idx + 1;
	}
	if (s->qs->views[idx].cdown == NULL)
		s->qs->views[idx].cdown = xcalloc((size_t)s->nchecks + 1, 1);
	return &s->qs->views[idx];
}

/* One observation of another node, O, in the order they were written. */
static int
engine_observed(const struct store_observation *o, void *arg)
{
	struct engine		*e = arg;
	struct engine_node	*n;
	struct sys_state	*s;
	struct sys_view		*v;
	size_t			 idx;
	int			 i;
	char			 t[TIME_STRLEN];

	e->obs_after = o->id;
	if (o->node == NULL || o->system == NULL || o->check == NULL)
		return 0;
	n = engine_node(e, o->node, &idx);
	if (strcmp(o->system, ENGINE_HOST_NAME) == 0) {
		if (n->lost != o->down)
			log_warnx("vantage point %s: its own network is %s "
			    "since %s; %s", n->name, o->down ? "lost" : "back",
			    time_fmt(o->at, t, sizeof(t)), o->down ? "left out "
			    "of every quorum until it is back" : "counted "
			    "again");
		n->lost = o->down;
		return 0;
	}
	if ((s = engine_find(e, o->system)) == NULL || !engine_has_quorum(s))
		return 0;
	for (i = 0; i < s->nchecks; i++)
		if (strcmp(s->checks[i].desc, o->check) == 0)
			break;
	if (i == s->nchecks)
		return 0;	/* its rules differ from ours */
	v = engine_view(s, idx);
	if (v->cdown[i] == o->down)
		return 0;
	v->cdown[i] = (unsigned char)o->down;
	if (o->down && v->ndown++ == 0) {
		v->down_at = o->at;
		free(v->cause);
		v->cause = xstrdup(o->cause != NULL ? o->cause : "");
	} else if (!o->down && --v->ndown == 0)
		v->up_at = o->at;
	log_debug("%s: vantage point %s sees %s %s since %s%s%s", s->name,
	    n->name, o->check, o->down ? "down" : "up",
	    time_fmt(o->at, t, sizeof(t)), o->down ? ": " : "",
	    o->down && o->cause != NULL ? o->cause : "");
	return 0;
}

/*
 * The other nodes' heartbeats and new observations: a bounded read a
 * turn (store_observations_after).
 */
static void
engine_vantage_read(struct engine *e)
{
	int64_t	 t0 = mono_ms(), after = e->obs_after;

	if (store_vantage_points(e->store, engine_vantage_seen, e) == -1 ||
	    store_observations_after(e->store, e->obs_after, e->node,
	    engine_observed, e) == -1)
		log_debug("vantage points: the register cannot be read now");
	else if (e->obs_after != after)
		log_debug("vantage points: observations %lld-%lld read in "
		    "%lld ms", (long long)after + 1, (long long)e->obs_after,
		    (long long)(mono_ms() - t0));
}

/*
 * An observation read off the loop: one the start's catch-up (on the
 * records' connection) read meanwhile is not taken twice.
 */
static int
engine_observed_off(const struct store_observation *o, void *arg)
{
	struct engine	*e = arg;

	if (o->id <= e->obs_after)
		return 0;
	return engine_observed(o, arg);
}

/* Who has not been heard of for too long, by our monotonic clock. */
static void
engine_vantage_silence(struct engine *e)
{
	struct engine_node	*n;
	int64_t			 now = mono_ms();
	size_t			 i;
	int			 silent;

	for (i = 0; i < e->nnodes; i++) {
		n = &e->nodes[i];
		silent = n->seen_mono == 0 ||
		    now - n->seen_mono > ENGINE_SILENT_MS;
		if (silent != n->silent)
			log_warnx("vantage point %s: %s", n->name, silent ?
			    "silent (no heartbeat for 3 s); left out of every "
			    "quorum until it is heard of again" :
			    "heard of; counted");
		n->silent = silent;
	}
}

/*
 * At start, every observation written so far, a bounded read at a time
 * (so many only after a long while on one register).
 */
static void
engine_vantage_catch_up(struct engine *e)
{
	int64_t	 before;
	int	 i;

	for (i = 0; i < 1000; i++) {
		before = e->obs_after;
		engine_vantage_read(e);
		if (e->obs_after == before)
			break;
	}
	engine_vantage_silence(e);
}

/* Say how S's vantage points count, when it changed. */
static void
engine_quorum_say(struct sys_state *s)
{
	struct engine_quorum_count	 c;

	engine_step_quorum(&s->qs->q, s->started_at, &c);
	if (c.failing == s->qs->q_failing && c.counted == s->qs->q_counted)
		return;
	s->qs->q_failing = c.failing;
	s->qs->q_counted = c.counted;
	log_info("%s: %d of the %d vantage points counted see it down, %d "
	    "needed (down when %d of %d fail)%s", s->name, c.failing,
	    c.counted, c.need, s->qs->quorum.need, s->qs->quorum.of, c.met ?
	    ": quorum met" : "");
}

/*
 * Judge every system with a quorum by the views just read.  The outages
 * this opens or closes are one transaction, as a turn's results are
 * (engine_batch_run): a mass failure meets hundreds of quorums in one
 * read, and one transaction each, a sync each, held the loop for seconds
 * on PostgreSQL.  After ENGINE_QUORUM_SLICE_MS the group is committed
 * and the pass goes on at the loop's next turn (quorum_ev, a timer, so
 * that the probes' sockets and timers come first), from the systems
 * this pass has not judged yet.  A later read starts a new pass.
 */
static void
engine_quorum_pass(struct engine *e)
{
	struct sys_state	*s, *next;
	struct engine_snapshot	 snap;
	struct timeval		 now = { 0, 0 };
	int64_t			 start = mono_ms();

	store_group_begin(e->store);
	for (s = TAILQ_FIRST(&e->systems); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry);
		if (!s->configured || !engine_has_quorum(s) ||
		    s->qs->q_pass == e->q_pass)
			continue;
		s->qs->q_pass = e->q_pass;
		engine_evaluate(e, s);
		engine_snapshot(e, s, &snap);	/* the views, counted */
		engine_quorum_say(s);
		if (next != NULL &&
		    mono_ms() - start >= ENGINE_QUORUM_SLICE_MS) {
			store_group_commit(e->store);
			evtimer_add(e->quorum_ev, &now);
			return;
		}
	}
	store_group_commit(e->store);
}

static void
engine_quorum_cb(evutil_socket_t fd, short events, void *arg)
{
	struct engine	*e = arg;

	(void)fd;
	(void)events;
	if (!e->standby && e->quorums > 0)
		engine_quorum_pass(e);
}

/* The views read (or not): who is silent, and each quorum, now. */
static void
engine_vantage_decide(struct engine *e)
{
	engine_vantage_silence(e);
	e->q_pass++;
	engine_quorum_pass(e);
}

/* The read off the loop is over (store_vantage_read). */
static void
engine_vantage_read_done(int rc, void *arg)
{
	struct engine	*e = arg;

	if (rc == -1)
		log_debug("vantage points: the register cannot be read now");
	else if (e->obs_after != e->read_after)
		log_debug("vantage points: observations %lld-%lld read off the "
		    "loop in %lld ms", (long long)e->read_after + 1,
		    (long long)e->obs_after, (long long)(mono_ms() -
		    e->read_t0));
	/* It may have lost the lead meanwhile. */
	if (e->standby || e->quorums == 0)
		return;
	engine_vantage_decide(e);
}

static void
engine_vantage_cb(evutil_socket_t fd, short events, void *arg)
{
	struct engine		*e = arg;
	struct store_health	 health;
	int64_t			 t0, after;
	int			 lost;

	(void)fd;
	(void)events;
	if ((lost = engine_self_lost(e)) != e->self_lost) {
		e->self_lost = lost;
		log_warnx("node %s: most systems fail from here: %s", e->node,
		    lost ? "its own network is lost; its views are left out "
		    "of the quorums" : "its network is back");
		engine_observe_add(e, ENGINE_HOST_NAME, ENGINE_NETWORK_CHECK,
		    lost, wall_ms(), lost ? "most systems fail from this node "
		    "(lost-network)" : NULL);
	}
	/* Alive or not is each node's row in nodes (lead.c). */
	store_health(e->store, &health);
	if (e->standby || e->quorums == 0)
		return;
	/*
	 * A register refusing writes is not asked either: the views stand
	 * as last read, and whoever falls silent meanwhile is left out.
	 * On PostgreSQL the read is made off the loop, on a connection of
	 * its own, and the quorums are decided when it is over; one still
	 * in flight (no answer yet: its session goes after 1 s) is waited
	 * for.
	 */
	if (!health.failing && store_sqlite(e->store) == NULL) {
		if (e->reader == NULL)
			e->reader = store_vantage_reader_new(e->base,
			    store_path(e->store));
		t0 = e->read_t0;
		after = e->read_after;
		e->read_t0 = mono_ms();
		e->read_after = e->obs_after;
		if (store_vantage_read(e->reader, e->obs_after, e->node,
		    engine_vantage_seen, engine_observed_off,
		    engine_vantage_read_done, e) == 1) {
			e->read_t0 = t0;	/* the one in flight's */
			e->read_after = after;
		}
		return;
	}
	if (!health.failing)
		engine_vantage_read(e);
	engine_vantage_decide(e);
}

/*
 * The heartbeat, this node's network and the leader's reading run on a
 * shared register (PostgreSQL), or where a rule asks for a quorum; one
 * node alone on SQLite only writes its observations.
 */
static void
engine_vantage_start(struct engine *e)
{
	struct timeval	 tv;

	tv.tv_sec = ENGINE_VANTAGE_MS / 1000;
	tv.tv_usec = (ENGINE_VANTAGE_MS % 1000) * 1000;
	if (store_sqlite(e->store) != NULL && e->quorums == 0) {
		if (e->vantage_timer != NULL)
			event_del(e->vantage_timer);
		return;
	}
	if (e->vantage_timer == NULL && (e->vantage_timer = event_new(e->base,
	    -1, EV_PERSIST, engine_vantage_cb, e)) == NULL)
		fatalx("engine: event_new failed");
	if (e->quorum_ev == NULL && (e->quorum_ev = evtimer_new(e->base,
	    engine_quorum_cb, e)) == NULL)
		fatalx("engine: evtimer_new failed");
	if (!evtimer_pending(e->vantage_timer, NULL))
		evtimer_add(e->vantage_timer, &tv);
}
