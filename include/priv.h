/*
 * priv.h: who the daemon runs as.
 *
 * Started as root outside systemd, rtowatchd opens what needs root first
 * (the raw ICMP sockets, the database, the control socket's directory),
 * then priv_drop() becomes the user and group of "set user"/"set group"
 * keeping only CAP_NET_RAW.  Under systemd, User= and
 * AmbientCapabilities= have done that already and priv_drop() does nothing.
 */
#ifndef RTOWATCH_PRIV_H
#define RTOWATCH_PRIV_H

#include <sys/types.h>

/* Look the account up while /etc is still readable; fatal if unknown. */
void	priv_init(const char *user, const char *group);
/*
 * Create PATH if missing with MODE, and when root give it to the service
 * user and group, so that they can still write it after priv_drop().
 */
void	priv_own_file(const char *path, mode_t mode);
/*
 * The same for a directory, which is only given away when we made it;
 * -1 (logged) when it cannot be made or the account could not write it.
 */
int	priv_own_dir(const char *path, mode_t mode);
/* Become the account; fatal if root could be had back afterwards. */
void	priv_drop(void);

#endif
