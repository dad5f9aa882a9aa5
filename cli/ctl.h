/*
 * ctl.h: rtowatch's workflow verbs over the daemon's control socket.
 */
#ifndef RTOWATCH_CTL_H
#define RTOWATCH_CTL_H

#include <stdio.h>

int	ctl_is_verb(const char *);
int	ctl_main(const char *, const char *, int, char **);
void	ctl_usage(FILE *);

#endif
