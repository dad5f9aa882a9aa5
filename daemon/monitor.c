/*
 * monitor.c: the scheduler.
 *
 * Each check has a monitor with its own timer.  The first runs are spread
 * evenly over each check's interval so that thousands of checks do not
 * fire together; after that each run is due exactly one interval after
 * the previous due time (not after the previous run finished), so the
 * schedule does not drift.  A slot missed because the loop was busy is
 * skipped, not made up in a burst.
 *
 * How late each probe starts (actual minus planned start) is counted in a
 * histogram that SIGUSR1 logs and clears: the benchmark (tests/bench/)
 * reads it, and an operator can see whether the loop keeps up.
 */
#include <event2/event.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* 0.1 ms wide buckets below 100 ms, 10 ms wide below 10 s, one above. */
#define LATE_FINE	1000LL
#define LATE_COARSE	990LL
#define LATE_BUCKETS	(LATE_FINE + LATE_COARSE + 1)

struct monitor_stats {
	uint64_t		 started;
	uint64_t		 busy;		/* due, previous still running */
	uint64_t		 missed;	/* slots the loop was too late for */
	int64_t			 max_us;
	uint32_t		 late[LATE_BUCKETS];
};

struct monitors {
	struct event_base	*base;
	struct evdns_base	*dns;
	struct engine		*engine;
	TAILQ_HEAD(monitor_list, monitor) list;
	struct monitor_stats	 stats;
};

static void	monitor_arm(struct monitor *);

static int64_t
mono_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
monitor_count_start(struct monitor_stats *st, int64_t late_us)
{
	int	 b;

	if (late_us < 0)
		late_us = 0;
	if (late_us < LATE_FINE * 100)
		b = late_us / 100;
	else if (late_us < LATE_FINE * 100 + LATE_COARSE * 10000)
		b = LATE_FINE + (late_us - LATE_FINE * 100) / 10000;
	else
		b = LATE_BUCKETS - 1;
	st->late[b]++;
	st->started++;
	if (late_us > st->max_us)
		st->max_us = late_us;
}

/* The upper bound of the bucket holding the q-th of the counted starts. */
static double
monitor_late_ms(const struct monitor_stats *st, uint64_t q)
{
	uint64_t	 sum = 0;
	int		 b;

	for (b = 0; b < LATE_BUCKETS - 1; b++) {
		if ((sum += st->late[b]) >= q)
			return b < LATE_FINE ? (b + 1) / 10.0 :
			    LATE_FINE / 10.0 + (b - LATE_FINE + 1) * 10.0;
	}
	return st->max_us / 1000.0;
}

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
	if (m->probe == NULL) {
		monitor_count_start(&m->ms->stats, mono_us() - m->due * 1000);
		m->probe = probe_start(m->ms->base, m->ms->dns, m->cc,
		    monitor_done_cb, m);
	} else
		m->ms->stats.busy++;
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
		m->ms->stats.missed += (now - m->due) / m->cc->every_ms + 1;
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

/*
 * Log how many probes started since the last call (or the start, or a
 * reload), how many slots were skipped, and how late the starts were;
 * then clear.
 */
void
monitors_log_stats(struct monitors *ms)
{
	struct monitor_stats	*st = &ms->stats;

	if (st->started == 0)
		log_info("schedule: 0 probes started, %" PRIu64 " skipped "
		    "(running), %" PRIu64 " skipped (loop late)", st->busy,
		    st->missed);
	else
		log_info("schedule: %" PRIu64 " probes started, %" PRIu64
		    " skipped (running), %" PRIu64 " skipped (loop late); "
		    "late p50 %.1f ms, p99 %.1f ms, max %.1f ms",
		    st->started, st->busy, st->missed,
		    monitor_late_ms(st, (st->started + 1) / 2),
		    monitor_late_ms(st, (st->started * 99 + 99) / 100),
		    st->max_us / 1000.0);
	memset(st, 0, sizeof(*st));
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
