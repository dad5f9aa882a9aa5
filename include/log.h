/*
 * log.h: the daemon's and tools' log API.
 *
 * In the foreground (-d) messages go to stderr; otherwise to syslog, which
 * the journal collects under systemd.  log_warn() appends strerror(errno);
 * the x variants do not.  fatal()/fatalx() are for broken invariants only:
 * a failing target is data, never an error path.
 */
#ifndef RTOWATCH_LOG_H
#define RTOWATCH_LOG_H

#include <stdarg.h>

void	log_init(const char *ident, int foreground, int verbose);
void	log_set_verbose(int);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
