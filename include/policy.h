/*
 * policy.h: the procedure's rules (IMS-P-009) as pure functions over the
 * procedure's numbers, which are data (rules/policy.conf).
 *
 * No I/O and no clock: every function takes attributes, times and the
 * policy and returns a decision, so all of it is unit-tested.
 */
#ifndef RTOWATCH_POLICY_H
#define RTOWATCH_POLICY_H

#include <stdint.h>

#define POLICY_LEVELS		4
#define POLICY_MAX_REMINDERS	8
#define POLICY_MAX_RECIPIENTS	16

/* The procedure's clocks. */
enum policy_clock {
	CLOCK_NOTIFY,	/* report on the portal (5.3.7.3.1), 1 h */
	CLOCK_RESTORE,	/* damage controlled or restored (5.3.4, 5.3.8) */
	CLOCK_REPORT,	/* investigation report, levels 3-4 (5.3.3) */
	CLOCK_CLOSE,	/* closure deadline (結案期限, 5.3.8) */
	CLOCK_MAX
};

/* A length of time: milliseconds, or calendar months ("1 month"). */
struct policy_period {
	int64_t		 ms;
	int		 months;
};

struct policy {
	struct policy_period	 length[CLOCK_MAX][POLICY_LEVELS + 1];
	int			 applies[CLOCK_MAX][POLICY_LEVELS + 1];
	/* Reminders before each clock's deadline, largest offset first. */
	int64_t			 remind[CLOCK_MAX][POLICY_MAX_REMINDERS];
	int			 nremind[CLOCK_MAX];
	struct policy_period	 retention;
	int64_t			 reopen_ms;	/* flapping window, 0: none */
	int			 lost_network_pct; /* 0: off */
	/* Who is told at each level: bit i is recipients[i]. */
	char			*recipients[POLICY_MAX_RECIPIENTS];
	int			 nrecipients;
	unsigned		 webhooks;	/* bit i: a webhook's name */
	unsigned		 tell[POLICY_LEVELS + 1];
};

struct policy_class {
	int	level;		/* availability impact level 1-4 (5.3.2) */
	int	major;		/* 1: major/emergency, 0: general (5.2.3) */
};

/* The RTO has passed and the system is still down: what now (5.2.3)? */
enum policy_rto {
	POLICY_RTO_NOT_YET,	/* it has not passed: the clock moved */
	POLICY_RTO_WAIT,	/* a run of successes began in time */
	POLICY_RTO_MAJOR	/* not restored within the RTO */
};

struct policy_class	 policy_classify(int core, int critical_infrastructure,
			    int64_t outage_ms, int64_t rto_ms);
int			 policy_within_rto(int64_t started_at,
			    int64_t restored_at, int64_t rto_ms);
enum policy_rto		 policy_rto_verdict(int64_t started_at,
			    int64_t rto_ms, int64_t back_at, int64_t now);
int			 policy_clock_applies(const struct policy *,
			    enum policy_clock, int level);
int64_t			 policy_due(const struct policy *, enum policy_clock,
			    int level, int64_t start);
int64_t			 policy_period_add(struct policy_period, int64_t);
int			 policy_reminders_due(const struct policy *,
			    enum policy_clock, int64_t due, int done,
			    int64_t now);
int64_t			 policy_next_wakeup(const struct policy *,
			    enum policy_clock, int64_t due, int done,
			    int breached);
const char		*policy_clock_name(enum policy_clock);
int			 policy_clock_find(const char *, enum policy_clock *);
const char		*policy_level_name(int level);

#endif
