/*
 * clocks.h: the procedure's deadlines, kept in the store and armed on
 * the loop.  Each open clock reminds before its deadline and records a
 * missed deadline once; after a restart every open clock is re-armed,
 * and what fell due while the daemon was down fires at once, marked
 * late.
 *
 * Changes go through the caller's store transaction (clocks_open,
 * clocks_stop, clocks_relevel); once it is committed, clocks_sync makes
 * the armed timers match the store again.
 */
#ifndef RTOWATCH_CLOCKS_H
#define RTOWATCH_CLOCKS_H

#include <stdint.h>

#include "notice.h"
#include "policy.h"

struct event_base;
struct store;
struct clocks;

struct clocks	*clocks_new(struct event_base *, struct store *);
void		 clocks_free(struct clocks *);
void		 clocks_set_policy(struct clocks *, const struct policy *);
int		 clocks_recover(struct clocks *);
int		 clocks_open(struct clocks *, int64_t, enum policy_clock, int,
		    int64_t, int64_t *);
int		 clocks_open_once(struct clocks *, int64_t, enum policy_clock,
		    int, int64_t);
int		 clocks_report_start(struct clocks *, int64_t, int);
int		 clocks_stop(struct clocks *, int64_t, enum policy_clock,
		    int64_t, const char *);
int		 clocks_relevel(struct clocks *, int64_t, enum policy_clock,
		    int);
void		 clocks_sync(struct clocks *, int64_t);
void		 clocks_rearm(struct clocks *);
void		 clocks_flushed(void *);
void		 clocks_set_namer(struct clocks *,
		    const char *(*)(void *, int64_t), void *);

#endif
