/*
 * engine.h: the incident engine.  It turns probe results into system
 * states, outages and incident records, applying policy.h's decisions and
 * writing them through store.h before anything else happens.
 */
#ifndef RTOWATCH_ENGINE_H
#define RTOWATCH_ENGINE_H

#include <stdint.h>

#include "probe.h"

struct conf;
struct store;
struct engine;
struct event_base;
struct wallclock_jump;
struct workflow;

/* What rtowatch status shows of a system and its checks. */
struct engine_check_status {
	const char	*desc;		/* "tcp 192.0.2.25 port 25" */
	const char	*result;	/* NULL: not probed yet */
	const char	*detail;
	int64_t		 at;
	int		 failures;	/* consecutive */
	int		 down;
	int		 rtt_ms;	/* of the last result; -1: none */
	int64_t		 changed_at;	/* went up or down; 0: not known */
};

struct engine_system_status {
	const char	*name;
	const char	*state;		/* up, down, maintenance, unknown */
	int64_t		 since;		/* the outage's start, when down */
	int64_t		 incident;	/* 0: none */
	int		 level;
	int		 major;
	int		 attached;	/* down on a parent's incident */
	const struct engine_check_status *checks;
	int		 nchecks;
	int		 here;		/* probed by this node */
	char *const	*vantage;	/* its vantage points; 0: all */
	size_t		 nvantage;
};

struct engine	*engine_new(struct event_base *, struct store *);
void		 engine_free(struct engine *);
int		 engine_configure(struct engine *, const struct conf *);
int		 engine_recover(struct engine *);
void		 engine_set_leading(struct engine *, int);
void		 engine_set_prober(struct engine *,
		    void (*)(void *, const char *), void *);
void		 engine_result(struct engine *, const char *, int,
		    enum probe_result, const char *, int64_t, int64_t,
		    int64_t);
void		 engine_clock_jumped(const struct wallclock_jump *, void *);
struct store	*engine_store(struct engine *);
struct workflow	*engine_workflow(struct engine *);
int		 engine_knows(struct engine *, const char *);
void		 engine_incident_relevel(struct engine *, int64_t, int);
void		 engine_incident_major(struct engine *, int64_t);
void		 engine_maintenance_added(struct engine *, const char *,
		    int64_t, int64_t);
void		 engine_maintenance_cancelled(struct engine *, const char *,
		    int64_t, int64_t);
int		 engine_status(struct engine *,
		    int (*)(const struct engine_system_status *, void *),
		    void *);
int64_t		 engine_incident_for_address(struct engine *, const char *,
		    const char **);

#endif
