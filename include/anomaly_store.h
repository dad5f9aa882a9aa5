/*
 * anomaly_store.h: the writer of one anomaly block's early warnings
 * (資安預警事件): it records the events the block queued (anomaly.h) in
 * the store, on the loop.
 */
#ifndef RTOWATCH_ANOMALY_STORE_H
#define RTOWATCH_ANOMALY_STORE_H

struct anomaly;
struct anomaly_store;
struct store;

struct anomaly_store	*anomaly_store_new(struct store *, struct anomaly *);
void			 anomaly_store_free(struct anomaly_store *);
void			 anomaly_store_write(struct anomaly_store *);

#endif
