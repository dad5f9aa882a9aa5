/*
 * history.h: the response-time history, added up in memory per check
 * and written once a minute (history.c, store_response.c).
 */
#ifndef RTOWATCH_HISTORY_H
#define RTOWATCH_HISTORY_H

#include <stdint.h>

#include "probe.h"

struct conf;
struct event_base;
struct history;
struct store;

struct history	*history_new(struct event_base *, struct store *);
void		 history_configure(struct history *, const struct conf *);
void		 history_add(struct history *, int, enum probe_result,
		    int64_t, int64_t);
void		 history_free(struct history *);

#endif
