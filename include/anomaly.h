/*
 * anomaly.h: the traffic counters of one anomaly block, their episodes
 * and the early warnings (資安預警事件) those open.
 *
 * The counters are fed decoded packets with the capture's own
 * timestamps, which are the only clock: a capture file replays exactly
 * as it was recorded.  Memory is fixed when the block is created,
 * whatever the traffic: a flood of spoofed sources evicts entries, it
 * never grows a table.
 *
 * The counters decide and write nothing: each decision is an event in a
 * bounded queue the block owns, named by the block's own episode ids,
 * which the writer (anomaly_store.h) records on the loop and empties.
 */
#ifndef RTOWATCH_ANOMALY_H
#define RTOWATCH_ANOMALY_H

#include <stdint.h>

#include <stddef.h>

/*
 * Above this many events queued, the capture has them written at once.
 * The queue holds four times as many: a packet queues five events at
 * most (a scanner flagged) but the windows it closes (a flood's warning,
 * its indicators, its relations), so that the capture can look every few
 * dozen packets.
 */
#define ANOMALY_EVENTS_HIGH	256

struct anomaly;
struct anomaly_conf;
struct packet;

enum anomaly_event_kind {
	ANOMALY_EVENT_OPEN,		/* a warning: summary, detail */
	ANOMALY_EVENT_LINE,		/* of its timeline: name, detail */
	ANOMALY_EVENT_INDICATOR,	/* name (its kind), value, packets */
	ANOMALY_EVENT_END,		/* detail */
	ANOMALY_EVENT_RELATE,		/* incident, system, value, name */
	ANOMALY_EVENT_DETAIL		/* an open warning's detail, grown */
};

/*
 * One decision about an early warning.  EPISODE is the block's id of the
 * warning (from 1, never reused by the block), not the store's.
 */
struct anomaly_event {
	enum anomaly_event_kind	 kind;
	int64_t			 episode;
	int64_t			 at;		/* ms; not for an indicator */
	char			*summary;	/* open */
	char			*detail;	/* open, line, end, detail */
	const char		*name;		/* line: its event; indicator:
						   source, target, port, mac;
						   relate: the category */
	char			*value;		/* indicator; relate: the
						   address aimed at */
	int64_t			 packets;	/* indicator */
	int64_t			 incident;	/* relate: the system's */
	char			*system;	/* relate */
};

struct anomaly	*anomaly_new(const struct anomaly_conf *);
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
size_t		 anomaly_events(const struct anomaly *,
		    const struct anomaly_event **);
uint64_t	 anomaly_events_clear(struct anomaly *);
void		 anomaly_episode_lost(struct anomaly *, int64_t);

#endif
