/*
 * web.h: the web page (set web listen), read-only, on the daemon's loop.
 */
#ifndef RTOWATCH_WEB_H
#define RTOWATCH_WEB_H

struct conf;
struct control;
struct event_base;
struct web;

struct web	*web_configure(struct web *, struct event_base *,
		    struct control *, const struct conf *);
void		 web_set_cli(struct web *, const char *);
void		 web_free(struct web *);

#endif
