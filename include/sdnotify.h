/*
 * sdnotify.h: the service manager's notification protocol (sd_notify(3),
 * sd_watchdog_enabled(3)), without libsystemd.
 *
 * Linking libsystemd for these three calls and the journal's one mapped
 * it and what it pulls in (libgcrypt, libgpg-error, liblzma, liblz4,
 * libzstd): about 930 kB of every daemon's RSS (issue 20).  The protocol
 * is one datagram of "KEY=VALUE" lines to the socket $NOTIFY_SOCKET names.
 */
#ifndef RTOWATCH_SDNOTIFY_H
#define RTOWATCH_SDNOTIFY_H

#include <stdint.h>

/*
 * Sends STATE ("READY=1", "STATUS=...", several lines at once) to
 * $NOTIFY_SOCKET: a path, or an abstract socket name after '@'.  As
 * sd_notify(3): 0 if the variable is not set (not under a service
 * manager), > 0 once sent, -errno if it could not be.
 */
int	sdnotify(const char *);
int	sdnotifyf(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));

/*
 * As sd_watchdog_enabled(3): > 0 and the interval in *USEC if the service
 * manager wants pings ($WATCHDOG_USEC, for this process if $WATCHDOG_PID
 * says which), 0 if not, -EINVAL if either variable is not a number.
 */
int	sdnotify_watchdog(uint64_t *);

#endif
