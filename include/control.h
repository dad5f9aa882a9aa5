/*
 * control.h: the control socket (docs/control-api.md), HTTP and JSON on
 * a Unix socket, served on the daemon's loop.
 */
#ifndef RTOWATCH_CONTROL_H
#define RTOWATCH_CONTROL_H

#include <stdio.h>

struct capture;
struct conf;
struct control;
struct engine;
struct event_base;
struct store;

struct control	*control_start(struct event_base *, struct engine *,
		    struct store *, const struct conf *);
void		 control_configure(struct control *, const struct conf *);
void		 control_set_capture(struct control *, struct capture *);
void		 control_free(struct control *);
const char	*control_path(const struct control *);
void		 control_routes_print(FILE *);

#endif
