/*
 * monitor.h: the scheduler.  One monitor per configured check; each fires
 * its probe on its own interval, with start times spread over the first
 * interval so that many checks do not fire in bursts.  Results go to the
 * engine keyed by (system name, check index), never by pointer, so a
 * result that arrives after a reload cannot touch freed memory.
 * monitors_log_stats() (SIGUSR1) logs how late probes started.
 */
#ifndef RTOWATCH_MONITOR_H
#define RTOWATCH_MONITOR_H

#include <stdint.h>

struct conf;
struct engine;
struct event_base;
struct evdns_base;
struct history;
struct monitors;

/* Probes that failed on the monitoring host itself (PROBE_LOCAL_ERROR). */
struct monitor_host_status {
	int		 failing;	/* in the last 10 s */
	int64_t		 since;		/* wall ms, when failing */
	uint64_t	 episode;	/* failures since then */
	uint64_t	 total;		/* since the daemon started */
	int64_t		 last_at;	/* wall ms of the last one */
	const char	*last;		/* what it was, or NULL */
};

/* The https slots (set https-concurrency), for metrics. */
struct monitor_pool_status {
	int		 limit;		/* set https-concurrency */
	int		 open;		/* slots open now, up to limit */
	int		 running;	/* probes holding a slot */
	int		 peak;		/* the most at once, since the start */
	int		 waiting;	/* due, waiting for a slot */
	uint64_t	 waited;	/* probes that waited, since the start */
	uint64_t	 lent;		/* slots given on, the handshake silent */
};

struct monitors	*monitors_start(struct event_base *, struct evdns_base *,
		    const struct conf *, struct engine *, struct history *);
void		 monitors_probe_now(void *, const char *);
void		 monitors_log_stats(struct monitors *);
void		 monitors_stop(struct monitors *);
void		 monitor_host_status(struct monitor_host_status *);
void		 monitor_pool_status(struct monitor_pool_status *);

#endif
