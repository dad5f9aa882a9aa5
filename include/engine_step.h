/*
 * engine_step.h: the incident engine's decisions as pure functions.
 *
 * engine.c keeps the systems, the store, the clocks and the timers; here
 * is only what it decides.  A probe result moves a check's counts
 * (engine_step_count); then a snapshot of the system and of what lies
 * beyond it (its parents, its maintenance windows, the network) gives one
 * decision (engine_step_decide), which engine.c applies: the store first,
 * then its memory, its log and its timers.  No I/O and no clock: every
 * time comes in with the snapshot, so all of it is unit-tested.
 *
 * Some of what a decision may need is dear to find out (whether the
 * network is lost counts every system; whether a relapse reopens reads
 * the store), so the snapshot says ENGINE_STEP_UNKNOWN for it and the
 * decision asks (ENGINE_STEP_NEED) only on the path that uses it.
 */
#ifndef RTOWATCH_ENGINE_STEP_H
#define RTOWATCH_ENGINE_STEP_H

#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "probe.h"

#define ENGINE_STEP_UNKNOWN	(-1)	/* not asked yet */

/* The pseudo-system a mass failure is blamed on (lost-network). */
#define ENGINE_HOST_NAME	"(monitoring host)"
#define ENGINE_HOST_MIN		3	/* systems, for a share to mean much */
/*
 * snapshot.lost: not lost yet, but the systems not probed since this one
 * began to fail could still make it so (engine_step_lost_open).
 */
#define ENGINE_STEP_LOST_OPEN	2
/* The longest a system waits for that, from its first failure. */
#define ENGINE_LOST_WAIT_MS	60000

/* One check's run of results. */
struct engine_check {
	int		 fails;		/* consecutive */
	int		 successes;	/* consecutive */
	int		 down;
	int		 rtt_ms;	/* of the last result; -1: none */
	int64_t		 first_fail_at;
	int64_t		 first_ok_at;
	int64_t		 first_fail_mono;	/* 0: not known */
	int64_t		 first_ok_mono;
	char		*detail;	/* of the last failure, once one came */
	enum probe_result last;		/* for rtowatch status */
	int64_t		 last_at;	/* 0: not probed yet */
	int64_t		 changed_at;	/* went up or down; 0: not yet */
	char		*last_detail;
	size_t		 last_size;	/* of last_detail's buffer */
	const char	*desc;		/* the rules' (check_conf's) */
};

/*
 * One vantage point's view of a system: a node sharing the register,
 * this one among them (issue 21).  Its own times, as it observed them.
 */
struct engine_vantage {
	const char	*node;
	int		 down;		/* it sees a check of the system down */
	int64_t		 down_at;	/* since its own first failure */
	int64_t		 up_at;		/* up again since; 0: not known */
	const char	*cause;		/* of its failure, or NULL */
	int		 lost;		/* its own network is lost */
	int		 silent;	/* not heard of for too long */
};

/* "down when NEED of OF vantage points fail", over VIEWS. */
struct engine_quorum {
	int				 need;
	int				 of;
	const struct engine_vantage	*views;
	int				 nviews;
};

/* What engine_step_quorum counted. */
struct engine_quorum_count {
	int		 counted;	/* neither lost nor silent */
	int		 failing;	/* of those, seeing it down */
	int		 need;		/* of those, for the quorum */
	int		 met;
	int64_t		 met_at;	/* met: since when */
	int		 met_by;	/* met: the view that made it */
	int64_t		 broke_at;	/* not met: since when; 0: unknown */
};

/* A parent ("depends") of the system, as the decision sees it. */
struct engine_parent {
	int		 known;		/* a system of that name exists */
	int		 probed;	/* in the rules, with checks */
	int		 down;
	int		 pending;
	int		 counting;	/* a check failing, not down yet */
	int64_t		 incident_id;
	int64_t		 last_result_at;
};

/* What the last restored incident has become (store). */
enum engine_last {
	ENGINE_LAST_UNKNOWN,	/* not read yet */
	ENGINE_LAST_UNREAD,	/* the store could not read it */
	ENGINE_LAST_GONE,	/* no such incident */
	ENGINE_LAST_RESTORED,
	ENGINE_LAST_CLOSED,
	ENGINE_LAST_OTHER
};

struct engine_snapshot {
	/* When it is decided, by the wall and monotonic clocks. */
	int64_t		 now;
	int64_t		 now_mono;

	/* The system's rules. */
	int		 core;
	int		 critical_infrastructure;
	int64_t		 rto_ms;
	const struct engine_check *checks;
	int		 nchecks;
	/* The vantage points' quorum; NULL: this node alone (1 of 1). */
	const struct engine_quorum *quorum;

	/* Its state. */
	int		 down;
	int		 planned;	/* down in a maintenance window */
	int		 attached;	/* down, on another's incident */
	int		 pending;	/* down, parent not settled */
	int		 level;
	int		 major;
	int		 rto_wait;
	int64_t		 started_at;
	int64_t		 started_mono;	/* 0: from before a restart */

	/* The latest restored incident, which a quick relapse reopens. */
	int64_t		 last_incident_id;
	int64_t		 last_restored_at;
	int64_t		 last_restored_mono;
	int64_t		 reopen_ms;	/* the policy's window, 0: none */

	/*
	 * What lies beyond, ENGINE_STEP_UNKNOWN (ENGINE_LAST_UNKNOWN, or
	 * nparents -1) until the decision asks for it.
	 */
	const struct engine_parent *parents;
	int		 nparents;
	int		 in_window;	/* at the outage's start */
	int64_t		 window_end;
	int		 lost;		/* the network is lost; or LOST_OPEN */
	int		 owner_down;	/* the attached incident's system */
	enum engine_last last;
};

enum engine_step_kind {
	ENGINE_STEP_NONE,
	ENGINE_STEP_NEED,	/* answer d->need, decide again */
	ENGINE_STEP_OPEN,	/* an incident of its own */
	ENGINE_STEP_REOPEN,	/* the last restored incident goes on */
	ENGINE_STEP_UNREAD,	/* a relapse: the last incident is unread */
	ENGINE_STEP_ATTACH,	/* on a parent's incident or the host's */
	ENGINE_STEP_PLAN,	/* inside a maintenance window */
	ENGINE_STEP_PENDING,	/* a parent (or the network) not settled */
	ENGINE_STEP_RESTORE,	/* back: the incident is restored */
	ENGINE_STEP_UNPLAN,	/* back: the planned outage ends */
	ENGINE_STEP_DETACH,	/* back: its part of the incident ends */
	ENGINE_STEP_REOWN	/* still down after its incident's owner */
};

enum engine_step_need {
	ENGINE_NEED_PARENTS,
	ENGINE_NEED_WINDOW,
	ENGINE_NEED_LOST,
	ENGINE_NEED_OWNER,
	ENGINE_NEED_LAST
};

#define ENGINE_STEP_HOST	(-1)	/* attach, pending: the monitoring host */

struct engine_step {
	enum engine_step_kind	 what;
	enum engine_step_need	 need;
	/* Open, reopen, attach, plan, pending: the outage's start. */
	int64_t			 started_at;
	int64_t			 started_mono;
	const char		*cause;
	int64_t			 window_end;	/* plan */
	int64_t			 back_at;	/* unplan, detach */
	int			 parent;	/* attach, pending: index */
	int			 probe_parent;	/* pending: probe it now */
	int64_t			 gap;		/* reopen: since restored */
	int64_t			 recurrence_of;	/* open: a closed incident */
	/* 1 (pending) or 0 (settled) at once, -1: the effect says. */
	int			 pending;
};

/* The RTO timer fired, or a result came in while it waits. */
struct engine_rto {
	enum policy_rto		 verdict;
	int64_t			 length;	/* by both clocks */
	int64_t			 back_at;	/* 0: not coming back */
	int64_t			 at;		/* major as of */
	struct policy_class	 c;
	int			 level;
};

/* The system is back: when, and what the outage was. */
struct engine_restore {
	int64_t			 restored_at;
	int64_t			 restored_mono;
	int64_t			 length;
	int			 within;
	struct policy_class	 c;
	int			 level;
};

void	 engine_step_quorum(const struct engine_quorum *, int64_t,
	    struct engine_quorum_count *);
int64_t	 engine_step_elapsed(int64_t, int64_t, int64_t, int64_t);
void	 engine_step_count(struct engine_check *, int, int64_t, int64_t,
	    int, int);
void	 engine_step_recount(struct engine_check *, int, int64_t, int64_t);
int	 engine_step_any_down(const struct engine_check *, int);
int	 engine_step_failing_now(const struct engine_check *, int);
int64_t	 engine_step_outage_start(const struct engine_check *, int,
	    const char **, int64_t *);
int64_t	 engine_step_came_back(const struct engine_snapshot *, int64_t *,
	    int64_t *);
int	 engine_step_lost(int, int, int, int *);
int	 engine_step_lost_open(int, int, int, int);
int	 engine_step_parent_down(const struct engine_snapshot *);
int	 engine_step_parent_unsettled(const struct engine_snapshot *,
	    int64_t);
void	 engine_step_relapse(const struct engine_snapshot *, int64_t,
	    int64_t, struct engine_step *);
void	 engine_step_decide(const struct engine_snapshot *,
	    struct engine_step *);
int	 engine_step_rto(const struct engine_snapshot *, struct engine_rto *);
void	 engine_step_restore(const struct engine_snapshot *, int64_t,
	    struct engine_restore *);

#endif
