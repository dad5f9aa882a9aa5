/*
 * util.c: allocation that cannot fail, and the time convention of util.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "util.h"

void *
xmalloc(size_t size)
{
	void	*p;

	if ((p = malloc(size == 0 ? 1 : size)) == NULL)
		fatal("malloc");
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size)) == NULL)
		fatal("calloc");
	return p;
}

/* Zeroed, at an address multiple of ALIGN (a power of two). */
void *
xcalloc_align(size_t align, size_t n, size_t size)
{
	void	*p;

	if (size != 0 && n > SIZE_MAX / size)
		fatalx("xcalloc_align: %zu * %zu bytes", n, size);
	if (posix_memalign(&p, align, n * size == 0 ? 1 : n * size) != 0)
		fatalx("posix_memalign");
	memset(p, 0, n * size);
	return p;
}

void *
xrealloc(void *old, size_t size)
{
	void	*p;

	if ((p = realloc(old, size == 0 ? 1 : size)) == NULL)
		fatal("realloc");
	return p;
}

/* N elements of SIZE bytes: the product checked, as OpenBSD's. */
void *
xreallocarray(void *old, size_t n, size_t size)
{
	void	*p;

	if (size != 0 && n > SIZE_MAX / size)
		fatalx("xreallocarray: %zu * %zu bytes", n, size);
	if ((p = realloc(old, n * size == 0 ? 1 : n * size)) == NULL)
		fatal("realloc");
	return p;
}

char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		fatal("strdup");
	return p;
}

/* FNV-1a, for tables keyed by a name. */
uint32_t
str_hash(const char *s)
{
	uint32_t	 h = 2166136261U;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619U;
	return h;
}

int
xasprintf(char **ret, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vasprintf(ret, fmt, ap);
	va_end(ap);
	if (n == -1)
		fatal("vasprintf");
	return n;
}

int64_t
wall_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
mono_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Format wall ms as "YYYY-MM-DDTHH:MM:SS.mmmZ". */
char *
time_fmt(int64_t t, char *buf, size_t len)
{
	struct tm	 tm;
	time_t		 sec;
	int		 ms;

	sec = (time_t)(t / 1000);
	ms = (int)(t % 1000);
	if (ms < 0) {
		ms += 1000;
		sec--;
	}
	if (gmtime_r(&sec, &tm) == NULL) {
		snprintf(buf, len, "invalid");
		return buf;
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, ms);
	return buf;
}

/* Parse what time_fmt() writes; the milliseconds are optional. */
int
time_parse(const char *s, int64_t *t)
{
	struct tm	 tm;
	int		 ms = 0, n = 0;
	char		 frac[4] = "000";

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
		return -1;
	s += n;
	if (*s == '.') {
		s++;
		for (n = 0; n < 3 && *s >= '0' && *s <= '9'; n++)
			frac[n] = *s++;
		while (*s >= '0' && *s <= '9')
			s++;
		ms = atoi(frac);
	}
	if (strcmp(s, "Z") != 0)
		return -1;
	if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
	    tm.tm_sec > 60)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*t = (int64_t)timegm(&tm) * 1000 + ms;
	return 0;
}

/* The length of a time_fmt() time at S ("...Z", ms optional), or 0. */
static size_t
time_span(const char *s)
{
	static const char	 shape[] = "dddd-dd-ddTdd:dd:dd";
	size_t			 i;

	for (i = 0; i < sizeof(shape) - 1; i++)
		if (shape[i] == 'd' ? s[i] < '0' || s[i] > '9' :
		    s[i] != shape[i])
			return 0;
	if (s[i] == '.')
		for (i++; s[i] >= '0' && s[i] <= '9'; i++)
			;
	return s[i] == 'Z' ? i + 1 : 0;
}

/*
 * TEXT (a timeline detail, which keeps the UTC times it was written with)
 * with each of those times in the local zone (TZ), "2026-12-03 12:32:06",
 * followed by the zone's abbreviation when ZONE: people read the times of
 * an incident in one zone.  A new string.
 */
char *
time_text_local(const char *text, int zone)
{
	struct tm	 tm;
	time_t		 sec;
	int64_t		 v;
	size_t		 n, len = 2 * strlen(text) + 64, o = 0;
	char		*out, stamp[64];

	out = xmalloc(len);
	while (*text != '\0') {
		if ((n = time_span(text)) == 0 || n >= sizeof(stamp)) {
			out[o++] = *text++;
			continue;
		}
		memcpy(stamp, text, n);
		stamp[n] = '\0';
		sec = 0;
		if (time_parse(stamp, &v) == 0)
			sec = (time_t)(v / 1000 - (v % 1000 < 0));
		if (sec == 0 || localtime_r(&sec, &tm) == NULL ||
		    strftime(out + o, len - o, zone ? "%Y-%m-%d %H:%M:%S %Z" :
		    "%Y-%m-%d %H:%M:%S", &tm) == 0) {
			memcpy(out + o, stamp, n);
			o += n;
		} else
			o += strlen(out + o);
		text += n;
		if (len - o < 64) {
			len *= 2;
			out = xrealloc(out, len);
		}
	}
	out[o] = '\0';
	return out;
}

/* "2d 3h", "4h 5m", "5m 3s", "12s", "250ms": the two largest units. */
char *
duration_fmt(int64_t ms, char *buf, size_t len)
{
	static const struct {
		const char	*unit;
		int64_t		 ms;
	} units[] = {
		{ "d", 86400000 }, { "h", 3600000 }, { "m", 60000 },
		{ "s", 1000 },
	};
	size_t	 i;
	int64_t	 a, b;

	if (ms < 0)
		ms = 0;
	if (ms < 1000) {
		snprintf(buf, len, "%lldms", (long long)ms);
		return buf;
	}
	/*
	 * Under a minute the milliseconds are kept, as decimals: a timeout
	 * of 1,500 ms is "1.5s", not "1s".
	 */
	if (ms < 60000 && ms % 1000 != 0) {
		b = ms % 1000;
		if (b % 100 == 0)
			snprintf(buf, len, "%lld.%llds", (long long)(ms / 1000),
			    (long long)(b / 100));
		else if (b % 10 == 0)
			snprintf(buf, len, "%lld.%02llds",
			    (long long)(ms / 1000), (long long)(b / 10));
		else
			snprintf(buf, len, "%lld.%03llds",
			    (long long)(ms / 1000), (long long)b);
		return buf;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (ms < units[i].ms)
			continue;
		a = ms / units[i].ms;
		if (i + 1 < sizeof(units) / sizeof(units[0]) &&
		    (b = (ms % units[i].ms) / units[i + 1].ms) > 0)
			snprintf(buf, len, "%lld%s %lld%s", (long long)a,
			    units[i].unit, (long long)b, units[i + 1].unit);
		else
			snprintf(buf, len, "%lld%s", (long long)a,
			    units[i].unit);
		break;
	}
	return buf;
}

/*
 * "postgresql://..." or a conninfo ("host=... dbname=..."): the register
 * is a PostgreSQL database (daemon/store_pg.c); anything else is the
 * path of an SQLite file.
 */
int
database_is_pg(const char *path)
{
	size_t	 n;

	if (strncmp(path, "postgresql://", 13) == 0 ||
	    strncmp(path, "postgres://", 11) == 0)
		return 1;
	/* keyword=value ... */
	n = strspn(path, "abcdefghijklmnopqrstuvwxyz_");
	return n > 0 && path[n + strspn(path + n, " ")] == '=';
}
