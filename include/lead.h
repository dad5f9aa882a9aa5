/*
 * lead.h: which node of a shared register leads (lead.c).
 *
 * Several rtowatchd nodes may share one PostgreSQL register.  Exactly one
 * leads: it decides outages, opens incidents, runs the clocks and sends
 * mail and webhooks.  The others stand by, watch and say so in the nodes
 * table, and the first to get the lead when the leader's session ends
 * takes over.  A register in SQLite has one node, always the leader.
 */
#ifndef RTOWATCH_LEAD_H
#define RTOWATCH_LEAD_H

#include <stdint.h>

struct conf;
struct event_base;
struct lead;
struct store;

enum lead_role {
	LEAD_STANDBY,
	LEAD_LEADER,
	LEAD_OBSERVER		/* set lead no */
};

/* What the callback of lead_start is told. */
enum lead_change {
	LEAD_TAKE,	/* this node leads now (at once on SQLite) */
	LEAD_SUSPEND,	/* it lost its session: hold and send nothing */
	LEAD_RESUME,	/* it leads still, nobody led between */
	LEAD_LOST	/* another node leads, or led: stop everything */
};

struct lead	*lead_start(struct event_base *, struct store *,
		    const struct conf *, void (*)(enum lead_change, void *),
		    void *);
void		 lead_free(struct lead *);
const char	*lead_role_str(enum lead_role);

#endif
