/*
 * policy.c: IMS-P-009's classification rules, pure.
 *
 * Issue 4 moves the durations into rules/policy.conf; the shape of these
 * functions (attributes and times in, decision out) stays.
 */
#include "policy.h"

#define HOUR_MS		(60LL * 60 * 1000)

/*
 * The availability matrix of 5.3.2, and 5.2.3's general/major split.
 *
 *                          restored within RTO   not restored in time
 *   non-core business              1                      2
 *   core, not critical infra       2                      3
 *   core of critical infra         3                      4
 *
 * "Critical infrastructure" qualifies core business only: a non-core
 * system of a critical-infrastructure provider is judged as non-core.
 * An outage exactly as long as the RTO was restored in time.
 */
struct policy_class
policy_classify(int core, int critical_infrastructure, int64_t outage_ms,
    int64_t rto_ms)
{
	struct policy_class	 c;
	int			 base;

	if (!core)
		base = 1;
	else if (!critical_infrastructure)
		base = 2;
	else
		base = 3;
	c.major = outage_ms > rto_ms;
	c.level = base + c.major;
	return c;
}

/* 5.3.7.3.1: report on the portal within one hour of awareness. */
int64_t
policy_notify_due(int64_t opened_at)
{
	return opened_at + POLICY_NOTIFY_MS;
}

/* 5.3.4 and 5.3.8: damage controlled within 72 h (1-2) or 36 h (3-4). */
int64_t
policy_restore_due(int level, int64_t opened_at)
{
	return opened_at + (level >= 3 ? 36 : 72) * HOUR_MS;
}

/* 5.3.8's names of the levels. */
const char *
policy_level_name(int level)
{
	static const char *const names[] = {
		[1] = "minor (輕微)",
		[2] = "attention (注意)",
		[3] = "major (重大)",
		[4] = "severe (嚴重)",
	};

	if (level < 1 || level > 4)
		return "unknown";
	return names[level];
}
