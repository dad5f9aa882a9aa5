/*
 * anomaly.h: the traffic counters of one anomaly block, their episodes
 * and the early warnings (資安預警事件) those open.
 *
 * The counters are fed decoded packets with the capture's own
 * timestamps, which are the only clock: a capture file replays exactly
 * as it was recorded.  Memory is fixed when the block is created,
 * whatever the traffic: a flood of spoofed sources evicts entries, it
 * never grows a table.
 */
#ifndef RTOWATCH_ANOMALY_H
#define RTOWATCH_ANOMALY_H

#include <stdint.h>

struct anomaly;
struct anomaly_conf;
struct packet;
struct store;

struct anomaly	*anomaly_new(struct store *, const struct anomaly_conf *);
void		 anomaly_free(struct anomaly *);
const char	*anomaly_name(const struct anomaly *);
void		 anomaly_packet(struct anomaly *, int64_t, uint32_t,
		    const struct packet *);
void		 anomaly_tick(struct anomaly *, int64_t);
void		 anomaly_drops(struct anomaly *, int64_t, uint64_t,
		    uint64_t);
void		 anomaly_stop(struct anomaly *, int64_t, const char *);
int		 anomaly_open_episodes(const struct anomaly *);
void		 anomaly_set_relate(struct anomaly *,
		    int64_t (*)(void *, const char *, const char **), void *);
void		 anomaly_rates(const struct anomaly *, double *, double *);

#endif
