/*
 * log.h: the daemon's and tools' log API.
 *
 * In the foreground (-d) messages go to stderr; otherwise to syslog, or
 * to the sink the daemon set (the journal, with fields, under systemd).  log_warn() appends strerror(errno);
 * the x variants do not.  fatal()/fatalx() are for broken invariants only:
 * a failing target is data, never an error path.
 */
#ifndef RTOWATCH_LOG_H
#define RTOWATCH_LOG_H

#include <stdarg.h>

/* What a line is about, for the journal's fields; unknown: NULL, 0, 0. */
struct log_fields {
	const char	*system;
	long long	 incident;
	int		 level;
};
typedef void	(*log_sink_fn)(int, const char *, const struct log_fields *);

void	log_init(const char *ident, int foreground, int verbose);
void	log_set_verbose(int);
int	log_getverbose(void);
/* Outside the foreground, lines go to SINK instead of syslog. */
void	log_set_sink(log_sink_fn);
/* The fields of the next line only (SYSTEM=, INCIDENT=, LEVEL=). */
void	log_fields(const char *system, long long incident, int level);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
