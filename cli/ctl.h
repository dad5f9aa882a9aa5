/*
 * ctl.h: rtowatch's workflow verbs over the daemon's control socket
 * (ctl.c); rtowatch.c's table names them with the side CLI_SOCKET.
 */
#ifndef RTOWATCH_CTL_H
#define RTOWATCH_CTL_H

struct cli_ctx;

int	ctl_main(struct cli_ctx *, int, char **);

int	ctl_status(struct cli_ctx *, int, char **);
int	ctl_step(struct cli_ctx *, int, char **);
int	ctl_set(struct cli_ctx *, int, char **);
int	ctl_edit(struct cli_ctx *, int, char **);
int	ctl_level(struct cli_ctx *, int, char **);
int	ctl_warning(struct cli_ctx *, int, char **);
int	ctl_maintenance(struct cli_ctx *, int, char **);
int	ctl_open(struct cli_ctx *, int, char **);
int	ctl_drill(struct cli_ctx *, int, char **);

#endif
