/*
 * policy.c: IMS-P-009's rules, pure.
 *
 * The matrix of 5.3.2 is the procedure's logic and lives here; its
 * numbers (how long each clock runs, for which levels, the reminders,
 * who is told) come from rules/policy.conf through struct policy.
 */
#include <string.h>
#include <time.h>

#include "policy.h"

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

/*
 * 5.2.3: was an outage from STARTED_AT to RESTORED_AT restored within
 * the RTO?  "Within" (於RTO內) includes the bound, like "1 小時內": back
 * at started_at + rto exactly is in time, one millisecond later is not.
 */
int
policy_within_rto(int64_t started_at, int64_t restored_at, int64_t rto_ms)
{
	return restored_at - started_at <= rto_ms;
}

/*
 * The RTO timer of an outage that began at STARTED_AT fired at NOW with
 * the system still down.  The restoration time is the first success of
 * the run that brings it back (BACK_AT, 0 while no such run is going
 * on), but the run counts only once "up after M" successes confirm it:
 * a run that began within the RTO is waited for, since it may yet prove
 * the outage general.  Its confirmation restores the incident in time;
 * a failure breaking it asks again, and with no run left the outage is
 * major as of the RTO.
 */
enum policy_rto
policy_rto_verdict(int64_t started_at, int64_t rto_ms, int64_t back_at,
    int64_t now)
{
	if (policy_within_rto(started_at, now, rto_ms))
		return POLICY_RTO_NOT_YET;
	if (back_at != 0 && policy_within_rto(started_at, back_at, rto_ms))
		return POLICY_RTO_WAIT;
	return POLICY_RTO_MAJOR;
}

static int
policy_valid_level(int level)
{
	return level >= 1 && level <= POLICY_LEVELS;
}

/* Does this clock run for an incident of this level at all? */
int
policy_clock_applies(const struct policy *pol, enum policy_clock clock,
    int level)
{
	return policy_valid_level(level) && pol->applies[clock][level];
}

/*
 * START plus a period.  Months are calendar months in UTC, the day
 * clamped to the target month's last day (31 January + 1 month is the
 * end of February), which is how a person reads "within one month".
 */
int64_t
policy_period_add(struct policy_period len, int64_t start)
{
	struct tm	 tm;
	time_t		 sec;
	int64_t		 ms;
	int		 mdays, y, m;
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };

	if (len.months == 0)
		return start + len.ms;
	sec = (time_t)(start / 1000);
	ms = start % 1000;
	gmtime_r(&sec, &tm);
	m = tm.tm_mon + len.months;
	y = tm.tm_year + 1900 + m / 12;
	m %= 12;
	mdays = days[m];
	if (m == 1 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		mdays = 29;
	tm.tm_year = y - 1900;
	tm.tm_mon = m;
	if (tm.tm_mday > mdays)
		tm.tm_mday = mdays;
	return (int64_t)timegm(&tm) * 1000 + ms + len.ms;
}

/* The deadline of CLOCK for an incident of LEVEL whose clock began at START. */
int64_t
policy_due(const struct policy *pol, enum policy_clock clock, int level,
    int64_t start)
{
	if (!policy_clock_applies(pol, clock, level))
		return 0;
	return policy_period_add(pol->length[clock][level], start);
}

/*
 * How many of the clock's reminders are due by NOW, counting those
 * already done: the engine sends the ones between DONE and the result.
 */
int
policy_reminders_due(const struct policy *pol, enum policy_clock clock,
    int64_t due, int done, int64_t now)
{
	int	 n = done;

	while (n < pol->nremind[clock] && due - pol->remind[clock][n] <= now)
		n++;
	return n;
}

/* When the clock next needs attention: a reminder, the deadline, or never. */
int64_t
policy_next_wakeup(const struct policy *pol, enum policy_clock clock,
    int64_t due, int done, int breached)
{
	if (done < pol->nremind[clock])
		return due - pol->remind[clock][done];
	if (!breached)
		return due;
	return 0;
}

const char *
policy_clock_name(enum policy_clock clock)
{
	static const char *const names[CLOCK_MAX] = {
		[CLOCK_NOTIFY] = "notify",
		[CLOCK_RESTORE] = "restore",
		[CLOCK_REPORT] = "report",
		[CLOCK_CLOSE] = "close",
	};

	if ((unsigned)clock >= CLOCK_MAX)
		return "unknown";
	return names[clock];
}

/* The clock named NAME in *CLOCK; -1 if none is. */
int
policy_clock_find(const char *name, enum policy_clock *clock)
{
	enum policy_clock	 c;

	for (c = 0; c < CLOCK_MAX; c++)
		if (strcmp(policy_clock_name(c), name) == 0) {
			*clock = c;
			return 0;
		}
	return -1;
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

	if (!policy_valid_level(level))
		return "unknown";
	return names[level];
}
