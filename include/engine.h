/*
 * engine.h: the incident engine.  It turns probe results into system
 * states, outages and incident records, applying policy.h's decisions and
 * writing them through store.h before anything else happens.
 */
#ifndef RTOWATCH_ENGINE_H
#define RTOWATCH_ENGINE_H

#include <stdint.h>

#include "probe.h"

struct conf;
struct store;
struct engine;
struct event_base;

struct engine	*engine_new(struct event_base *, struct store *);
void		 engine_free(struct engine *);
int		 engine_configure(struct engine *, const struct conf *);
int		 engine_recover(struct engine *);
void		 engine_set_prober(struct engine *,
		    void (*)(void *, const char *), void *);
void		 engine_result(struct engine *, const char *, int,
		    enum probe_result, const char *, int64_t);

#endif
