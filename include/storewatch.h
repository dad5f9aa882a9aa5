/*
 * storewatch.h: the database file is watched while the daemon runs; one
 * deleted or replaced under it is written back from the open database.
 */
#ifndef RTOWATCH_STOREWATCH_H
#define RTOWATCH_STOREWATCH_H

struct event_base;
struct store;
struct storewatch;

struct storewatch	*storewatch_new(struct event_base *, struct store *);
void			 storewatch_free(struct storewatch *);

#endif
