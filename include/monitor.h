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

struct conf;
struct engine;
struct event_base;
struct evdns_base;
struct monitors;

struct monitors	*monitors_start(struct event_base *, struct evdns_base *,
		    const struct conf *, struct engine *);
void		 monitors_probe_now(void *, const char *);
void		 monitors_log_stats(struct monitors *);
void		 monitors_stop(struct monitors *);

#endif
