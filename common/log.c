/*
 * log.c: stderr in the foreground, syslog or a sink (the daemon's journal,
 * daemon/journal.c) otherwise.  No library beyond libc: the CLI links it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static int		 log_foreground = 1;
static int		 log_verbose;
static log_sink_fn	 log_sink;
static struct log_fields log_next;

void
log_init(const char *ident, int foreground, int verbose)
{
	log_foreground = foreground;
	log_verbose = verbose;
	if (!foreground)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	tzset();
}

void
log_set_verbose(int verbose)
{
	log_verbose = verbose;
}

/* Whether debug messages go out: spares a caller building one for nothing. */
int
log_getverbose(void)
{
	return log_verbose;
}

void
log_set_sink(log_sink_fn sink)
{
	log_sink = sink;
}

void
log_fields(const char *system, long long incident, int level)
{
	log_next.system = system;
	log_next.incident = incident;
	log_next.level = level;
}

static void	log_vwrite(int, const char *, va_list, const char *)
		    __attribute__((format(printf, 2, 0)));

static void
log_vwrite(int pri, const char *fmt, va_list ap, const char *suffix)
{
	struct log_fields	 f = log_next;
	char			 msg[2048], full[2304];

	memset(&log_next, 0, sizeof(log_next));
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (!log_foreground && log_sink != NULL) {
		if (suffix != NULL) {
			snprintf(full, sizeof(full), "%s: %s", msg, suffix);
			log_sink(pri, full, &f);
		} else
			log_sink(pri, msg, &f);
	} else if (log_foreground) {
		if (suffix != NULL)
			fprintf(stderr, "%s: %s\n", msg, suffix);
		else
			fprintf(stderr, "%s\n", msg);
		fflush(stderr);
	} else if (suffix != NULL)
		syslog(pri, "%s: %s", msg, suffix);
	else
		syslog(pri, "%s", msg);
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	log_vwrite(LOG_ERR, fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_ERR, fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_INFO, fmt, ap, NULL);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_DEBUG, fmt, ap, NULL);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, fmt, ap, strerror(saved));
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}
