/*
 * maint.c: when is a system in a maintenance window.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "maint.h"

/* Local midnight DAYS days from the day of T, as wall ms. */
static int64_t
maint_midnight(int64_t t, int days)
{
	struct tm	 tm;
	time_t		 sec = (time_t)(t / 1000);

	localtime_r(&sec, &tm);
	tm.tm_mday += days;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm) * 1000;
}

static int
maint_wday(int64_t t)
{
	struct tm	 tm;
	time_t		 sec = (time_t)(t / 1000);

	localtime_r(&sec, &tm);
	return tm.tm_wday;
}

/*
 * Is T inside a window of M?  If so, say when that window began and
 * ends.  A daily or weekly window may run past midnight, so the days
 * before T's are tried too.
 */
int
maint_window_at(const struct maint_conf *m, int64_t t, int64_t *start,
    int64_t *end)
{
	int64_t	 day, s;
	int	 back, span;

	if (m->repeat == MAINT_ONCE) {
		if (t < m->at || t >= m->at + m->length_ms)
			return 0;
		*start = m->at;
		*end = m->at + m->length_ms;
		return 1;
	}
	span = (int)(m->length_ms / 86400000) + 1;
	if (m->repeat == MAINT_WEEKLY)
		span += 7;
	for (back = 0; back <= span; back++) {
		day = maint_midnight(t, -back);
		if (m->repeat == MAINT_WEEKLY && maint_wday(day) != m->wday)
			continue;
		/* Through struct tm, so a DST change keeps local time. */
		s = maint_midnight(day, 0) + (int64_t)m->secs * 1000;
		if (t >= s && t < s + m->length_ms) {
			*start = s;
			*end = s + m->length_ms;
			return 1;
		}
	}
	return 0;
}

/* "02:00" or "02:00:30" into seconds after midnight. */
int
maint_parse_clock(const char *s, int *secs)
{
	int	 h, m, sec = 0, n = 0;

	if (sscanf(s, "%2d:%2d%n", &h, &m, &n) != 2 || n != 5)
		return -1;
	if (s[n] == ':') {
		if (sscanf(s + n, ":%2d%n", &sec, &n) != 1 || n != 3)
			return -1;
		n = 8;
	}
	if (s[n] != '\0' || h < 0 || h > 23 || m < 0 || m > 59 ||
	    sec < 0 || sec > 59)
		return -1;
	*secs = h * 3600 + m * 60 + sec;
	return 0;
}

int
maint_parse_day(const char *s)
{
	static const char *const days[] = { "sunday", "monday", "tuesday",
	    "wednesday", "thursday", "friday", "saturday" };
	int	 i;

	for (i = 0; i < 7; i++)
		if (strcasecmp(s, days[i]) == 0)
			return i;
	return -1;
}

/*
 * "2026-12-01T02:00" or "2026-12-01T02:00:30" in the local zone; with a
 * trailing Z, in UTC.
 */
int
maint_parse_when(const char *s, int64_t *t)
{
	struct tm	 tm;
	int		 n = 0, utc;
	time_t		 sec;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &n) != 5 || n != 16)
		return -1;
	if (s[n] == ':') {
		if (sscanf(s + n, ":%2d", &tm.tm_sec) != 1)
			return -1;
		n += 3;
	}
	utc = s[n] == 'Z';
	if (s[n + utc] != '\0' || tm.tm_mon < 1 || tm.tm_mon > 12 ||
	    tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 59)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon--;
	tm.tm_isdst = -1;
	sec = utc ? timegm(&tm) : mktime(&tm);
	*t = (int64_t)sec * 1000;
	return 0;
}
