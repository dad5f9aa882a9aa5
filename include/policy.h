/*
 * policy.h: the procedure's rules (IMS-P-009) as pure functions.
 *
 * No I/O and no clock: every function takes attributes and times and
 * returns a decision, so the whole matrix is unit-tested.
 */
#ifndef RTOWATCH_POLICY_H
#define RTOWATCH_POLICY_H

#include <stdint.h>

/* The notification clock of 5.3.7.3.1: one hour from awareness. */
#define POLICY_NOTIFY_MS	(60LL * 60 * 1000)

struct policy_class {
	int	level;		/* availability impact level 1-4 (5.3.2) */
	int	major;		/* 1: major/emergency, 0: general (5.2.3) */
};

struct policy_class	policy_classify(int core, int critical_infrastructure,
			    int64_t outage_ms, int64_t rto_ms);
int64_t			policy_notify_due(int64_t opened_at);
int64_t			policy_restore_due(int level, int64_t opened_at);
const char		*policy_level_name(int level);

#endif
