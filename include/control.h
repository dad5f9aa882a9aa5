/*
 * control.h: the control socket (docs/control-api.md), HTTP and JSON on
 * a Unix socket, served on the daemon's loop.
 */
#ifndef RTOWATCH_CONTROL_H
#define RTOWATCH_CONTROL_H

#include <sys/types.h>

#include <jansson.h>
#include <stdio.h>

#include "conf.h"

struct capture;
struct conf;
struct control;
struct engine;
struct event_base;
struct evhttp_request;
struct store;

struct control	*control_start(struct event_base *, struct engine *,
		    struct store *, const struct conf *);
void		 control_configure(struct control *, const struct conf *);
void		 control_set_capture(struct control *, struct capture *);
void		 control_free(struct control *);
const char	*control_path(const struct control *);
void		 control_routes_print(FILE *);
/* For web.c: the same routes and roles on another listener. */
void		 control_serve(struct control *, struct evhttp_request *,
		    const char *, uid_t, enum conf_role);
json_t		*control_read(struct control *, const char *, const char *,
		    int *);
enum conf_role	 control_account(struct control *, uid_t, char *, size_t);
void		 control_follow(struct control *, void (*)(void *),
		    void (*)(const char *, void *), void *);

#endif
