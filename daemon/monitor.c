/*
 * monitor.c: the scheduler.
 *
 * Each check has a monitor with its own timer.  The first runs are spread
 * evenly over each check's interval so that thousands of checks do not
 * fire together; after that each run is due exactly one interval after
 * the previous due time (not after the previous run finished), so the
 * schedule does not drift.  A slot missed because the loop was busy is
 * skipped, not made up in a burst.
 */
#include <event2/event.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "engine.h"
#include "log.h"
#include "monitor.h"
#include "probe.h"
#include "util.h"

struct monitor {
	TAILQ_ENTRY(monitor)	 entry;
	struct monitors		*ms;
	const struct system_conf *sys;
	const struct check_conf	*cc;
	int			 index;		/* of cc within sys */
	struct event		*timer;
	struct probe		*probe;		/* in flight, or NULL */
	int64_t			 due;		/* mono ms of the next run */
	char			 desc[128];
};

struct monitors {
	struct event_base	*base;
	struct evdns_base	*dns;
	struct engine		*engine;
	TAILQ_HEAD(monitor_list, monitor) list;
};

static void	monitor_arm(struct monitor *);

static void
monitor_done_cb(struct probe *p, void *arg)
{
	struct monitor	*m = arg;

	m->probe = NULL;
	if (p->result == PROBE_OK)
		log_debug("%s: %s: ok in %lld ms", m->sys->name, m->desc,
		    (long long)p->rtt_ms);
	else
		log_debug("%s: %s: %s: %s", m->sys->name, m->desc,
		    probe_result_str(p->result), p->detail);
	engine_result(m->ms->engine, m->sys->name, m->index, p->result,
	    p->detail, p->started_at);
	probe_free(p);
}

static void
monitor_fire_cb(evutil_socket_t fd, short events, void *arg)
{
	struct monitor	*m = arg;

	(void)fd;
	(void)events;
	/* The timeout is below the interval, so this is only a safeguard. */
	if (m->probe == NULL)
		m->probe = probe_start(m->ms->base, m->ms->dns, m->cc,
		    monitor_done_cb, m);
	m->due += m->cc->every_ms;
	monitor_arm(m);
}

static void
monitor_arm(struct monitor *m)
{
	struct timeval	 tv;
	int64_t		 now, wait;

	now = mono_ms();
	if (m->due < now) {
		/* Skip the slots the loop missed, keep the phase. */
		m->due += ((now - m->due) / m->cc->every_ms + 1) *
		    m->cc->every_ms;
	}
	wait = m->due - now;
	tv.tv_sec = wait / 1000;
	tv.tv_usec = (wait % 1000) * 1000;
	evtimer_add(m->timer, &tv);
}

struct monitors *
monitors_start(struct event_base *base, struct evdns_base *dns,
    const struct conf *conf, struct engine *engine)
{
	struct monitors		*ms;
	struct monitor		*m;
	struct system_conf	*sys;
	struct check_conf	*cc;
	int64_t			 now, n = 0, total = 0;
	int			 i;

	ms = xcalloc(1, sizeof(*ms));
	ms->base = base;
	ms->dns = dns;
	ms->engine = engine;
	TAILQ_INIT(&ms->list);

	TAILQ_FOREACH(sys, &conf->systems, entry)
		total += sys->nchecks;
	now = mono_ms();
	TAILQ_FOREACH(sys, &conf->systems, entry) {
		i = 0;
		TAILQ_FOREACH(cc, &sys->checks, entry) {
			m = xcalloc(1, sizeof(*m));
			m->ms = ms;
			m->sys = sys;
			m->cc = cc;
			m->index = i++;
			cc->ops->describe(cc, m->desc, sizeof(m->desc));
			/* The n-th of total checks starts n/total into its
			 * interval. */
			m->due = now + cc->every_ms * n++ / total;
			if ((m->timer = evtimer_new(base, monitor_fire_cb,
			    m)) == NULL)
				fatalx("monitors_start: evtimer_new failed");
			TAILQ_INSERT_TAIL(&ms->list, m, entry);
			monitor_arm(m);
		}
	}
	log_info("watching %d system%s with %lld check%s", conf->nsystems,
	    conf->nsystems == 1 ? "" : "s", (long long)total,
	    total == 1 ? "" : "s");
	return ms;
}

/*
 * Probe SYSTEM now, outside its schedule (which stays as it was): the
 * engine needs its state to judge a system that depends on it.
 */
void
monitors_probe_now(void *arg, const char *system)
{
	struct monitors	*ms = arg;
	struct monitor	*m;

	TAILQ_FOREACH(m, &ms->list, entry)
		if (m->probe == NULL && strcmp(m->sys->name, system) == 0)
			m->probe = probe_start(ms->base, ms->dns, m->cc,
			    monitor_done_cb, m);
}

/* Stop every timer and cancel every probe in flight: none reports. */
void
monitors_stop(struct monitors *ms)
{
	struct monitor	*m;

	if (ms == NULL)
		return;
	while ((m = TAILQ_FIRST(&ms->list)) != NULL) {
		TAILQ_REMOVE(&ms->list, m, entry);
		if (m->probe != NULL)
			probe_cancel(m->probe);
		event_free(m->timer);
		free(m);
	}
	free(ms);
}
