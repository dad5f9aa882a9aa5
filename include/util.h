/*
 * util.h: allocation wrappers and the one time convention.
 *
 * Allocation failure aborts here, so callers never check.  Recorded times
 * are UTC wall-clock milliseconds since the epoch (int64_t, "ms") and are
 * written to the database and to JSON as ISO 8601 text with milliseconds
 * and a Z suffix ("2026-11-25T22:30:00.123Z"): readable by an auditor with
 * sqlite3, sortable as text, and understood by SQLite's date functions.
 * Intervals and timers use CLOCK_MONOTONIC (mono_ms).
 */
#ifndef RTOWATCH_UTIL_H
#define RTOWATCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define TIME_STRLEN	sizeof("YYYY-MM-DDTHH:MM:SS.mmmZ")

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xcalloc_align(size_t, size_t, size_t);
void	*xrealloc(void *, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
uint32_t str_hash(const char *);
int	 xasprintf(char **, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

int64_t	 wall_ms(void);
int64_t	 mono_ms(void);
char	*time_fmt(int64_t, char *, size_t);
int	 time_parse(const char *, int64_t *);
char	*time_text_local(const char *, int);
char	*duration_fmt(int64_t, char *, size_t);

/* Is a database setting a PostgreSQL URI or conninfo, not a file? */
int	 database_is_pg(const char *);

#endif
