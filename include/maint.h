/*
 * maint.h: maintenance windows.  An outage that begins inside a window of
 * its system is planned: recorded, but no incident; if it outlasts the
 * window it becomes one, its outage counted from the window's end.
 *
 * Windows are in the configured time zone (set timezone, Asia/Taipei by
 * default), which is the process's TZ.  The functions are pure but for
 * that zone.
 */
#ifndef RTOWATCH_MAINT_H
#define RTOWATCH_MAINT_H

#include <sys/queue.h>
#include <stdint.h>

enum maint_repeat {
	MAINT_ONCE,
	MAINT_DAILY,
	MAINT_WEEKLY
};

struct maint_conf {
	TAILQ_ENTRY(maint_conf)	 entry;
	char			*system;
	enum maint_repeat	 repeat;
	int			 wday;		/* weekly: 0 Sunday .. 6 */
	int			 secs;		/* daily, weekly: local time */
	int64_t			 at;		/* once: wall ms */
	int64_t			 length_ms;
	const char		*file;
	int			 line;
};
TAILQ_HEAD(maint_list, maint_conf);

int	maint_window_at(const struct maint_conf *, int64_t, int64_t *,
	    int64_t *);
int	maint_parse_clock(const char *, int *);
int	maint_parse_day(const char *);
int	maint_parse_when(const char *, int64_t *);

#endif
