/*
 * monitor.c: the scheduler.
 *
 * Each check has a monitor; the monitors wait in one binary heap ordered
 * by when each is due, behind one timer.  The first runs are spread
 * evenly over each check's interval so that thousands of checks do not
 * fire together; after that each run is due exactly one interval after
 * the previous due time (not after the previous run finished), so the
 * schedule does not drift.  A slot missed because the loop was busy is
 * skipped, not made up in a burst.
 *
 * Starts are grouped into slots of MONITOR_SLOT_MS: the timer fires at
 * the end of a slot and starts every monitor due in it.  With one wake-up
 * of the loop per probe, sleeping and waking cost a fifth of the CPU of a
 * TCP probe (tests/bench/); 10,000 checks every 10 s still start ten at a
 * time, a hundred times a second.
 *
 * How late each probe starts (actual minus planned start, the slot's wait
 * included) is counted in a histogram that SIGUSR1 logs and clears: the
 * benchmark (tests/bench/) reads it, and an operator can see whether the
 * loop keeps up.
 *
 * A check whose probes are costly while they run (an https check: a TLS
 * handshake, most of a probe's CPU, and its session's memory; about
 * 100 kB each through libcurl) takes one of "set https-concurrency"
 * slots for as long as its probe runs.  When every slot is taken, a
 * monitor that comes due waits, in the order it came due, and starts when a slot frees: the wait is
 * counted as its start lateness, and its probe's timeout and response
 * time begin when it starts, so the wait never makes a check look slow
 * or fail.  Without the cap, a host short of CPU (10,000 https checks
 * every 10 s make 1,000 TLS handshakes a second) let 3,000 transfers pile
 * up at once, 420 MB, and most of them timed out because the others
 * slowed them: the cap keeps the memory and the work at what the CPU
 * can do (tests/bench/bench_rss.py).  A monitor still waiting when it is
 * due again is counted as "skipped (running)", as one whose probe runs.
 * The default, 128, is from that benchmark on a busy 2-core host: 64
 * slots held 36 MB but carried only 440-660 handshakes a second (each
 * transfer waits on the server several times, tens of ms when the CPU
 * is shared, and on a real network each round trip), 128 carried
 * 740-810 in 41-44 MB, and 256 no more in 55 MB.  With the loop's own
 * TLS client (probes/tls_client.c), 32, 64 and 128 slots carried 840,
 * 720 and 930 handshakes a second at 36.9, 37.7 and 39.5 MB peak: on
 * loopback the CPU limits, not the slots, and the memory between them is
 * 2.6 MB.  128 stays, for real networks, where each handshake waits two
 * round trips and 32 slots would carry 320 a second at 100 ms a probe.
 * Of those, only as many are open as carry more probes a second
 * (daemon/slots.c); the monitors measure its windows (monitor_window).
 *
 * A probe whose TCP handshake has gone unanswered for MONITOR_LEND_MS
 * (a target dropped off the network, a firewall dropping) holds little:
 * a socket (and libcurl's handle, through curl), no TLS yet.  While others wait, it
 * gives its slot to the next one, and runs on outside the count.
 * Otherwise each such probe would hold a slot for its whole timeout,
 * and a few hundred silent targets would starve every https check on
 * the host: 128 slots carry 25.6 timeouts of 5 s a second.  One that
 * answers late (its SYN retransmitted: a server's full accept queue)
 * asks for a slot again before its TLS handshake (probe_gate), and
 * waits for one ahead of the probes not started yet: its timeout runs.
 * Without that, a server that stopped accepting, then accepted again,
 * had every lent probe handshake at once, over the cap.
 *
 * A probe that failed on this host (PROBE_LOCAL_ERROR: out of
 * descriptors, buffers or memory) says nothing about its target: it is
 * counted against the host and never reaches the engine, so it opens no
 * incident and feeds no "lost network".  It is logged (one line, then a
 * summary a minute), shown by rtowatch status, and when it lasts
 * MONITOR_HOST_ALERT_MS the operators are told: a warning in the log and
 * a "monitoring host failing" event in the timeline, which the desktop
 * agent shows.
 */
#include <sys/queue.h>

#include <event2/event.h>

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "engine.h"
#include "history.h"
#include "log.h"
#include "metrics.h"
#include "monitor.h"
#include "probe.h"
#include "slots.h"
#include "store.h"
#include "util.h"

#define MONITOR_SLOT_MS	10
#define MONITOR_HOST_QUIET_MS	10000	/* none for this long: it is over */
#define MONITOR_HOST_ALERT_MS	15000	/* lasting this long: an alert */
#define MONITOR_HOST_LOG_MS	60000	/* a summary line at most per */
/* Linux retransmits an unanswered SYN after 1 s: lost, or dropped. */
/* The https slots' windows (see monitor_window). */
#define MONITOR_WINDOW_MIN_MS	1000
#define MONITOR_WINDOW_MAX_MS	10000
/* The loop on a CPU or waiting for one this share of a window: bound. */
#define MONITOR_BOUND_PCT	90
#define MONITOR_LEND_MS		1000
#define MONITOR_LEND_CHECK_MS	250	/* how often, while probes wait */

/* Probes failing on this host; outlives the monitors across a reload. */
static struct {
	uint64_t	 total;		/* since the start */
	uint64_t	 episode;	/* since since */
	uint64_t	 unlogged;
	int64_t		 since;		/* wall ms; 0: not failing */
	int64_t		 since_mono;
	int64_t		 last_mono;
	int64_t		 last_at;	/* wall ms */
	int64_t		 logged_mono;
	int		 alerted;
	char		 last[512];
} monitor_host;

struct monitor {
	struct monitors		*ms;
	const struct system_conf *sys;
	const struct check_conf	*cc;
	int			 index;		/* of cc within sys */
	int			 slot;		/* of all checks, in order */
	struct probe		*probe;		/* in flight, or NULL */
	int64_t			 due;		/* mono ms of the next run */
	struct monitor_pslot	*ps;		/* NULL: takes no https slot */
};

/*
 * A monitor's part in the https slots, out of line: only https checks
 * take one, and at 10,000 checks these fields cost 40 B each (issue 20).
 */
struct monitor_pslot {
	struct monitor		*m;
	int			 waiting;	/* for a slot, on waits or
						   resumes */
	int			 holds;		/* a slot, on holders */
	int64_t			 waited_due;	/* -1: started outside */
	int64_t			 held_mono;	/* took its slot, mono ms */
	TAILQ_ENTRY(monitor_pslot) pool;	/* on waits or holders */
};

/* 0.1 ms wide buckets below 100 ms, 10 ms wide below 10 s, one above. */
#define LATE_FINE	1000
#define LATE_COARSE	990
#define LATE_BUCKETS	(LATE_FINE + LATE_COARSE + 1)
/* Where each kind ends, in microseconds as the lateness is counted. */
#define LATE_FINE_US	(LATE_FINE * INT64_C(100))
#define LATE_COARSE_US	(LATE_FINE_US + LATE_COARSE * INT64_C(10000))

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
	struct history		*history;
	struct monitor		*all;		/* one per check */
	struct monitor		**heap;		/* by due; heap[0] next */
	size_t			 n;
	struct event		*timer;		/* at heap[0]'s slot */
	struct monitor_stats	 stats;
	TAILQ_HEAD(, monitor_pslot) waits;	/* for a slot, first due first */
	TAILQ_HEAD(, monitor_pslot) holders;	/* of a slot, oldest first */
	TAILQ_HEAD(, monitor_pslot) resumes;	/* lent, connected, waiting */
	struct event		*lend;		/* while some wait */
};

/*
 * The https slots (set https-concurrency); read by metrics.c.  One set
 * of monitors runs at a time: a reload stops the old before it starts
 * the new, so the counts are kept here, and set again by each start.
 */
static struct monitor_pool_status monitor_pool;

/*
 * The https slots open (daemon/slots.c decides) and the window they are
 * judged over: three times the mean time a probe holds its slot, within
 * MONITOR_WINDOW_MIN_MS and MONITOR_WINDOW_MAX_MS.
 */
static struct slots monitor_slots;
static struct {
	int64_t		 since;		/* the window's start, mono ms */
	int64_t		 length;	/* ms */
	uint64_t	 done;		/* slots given back by ended probes */
	int64_t		 held;		/* their time in a slot, ms */
	int		 saturated;	/* a probe waited in the window */
	int		 busiest;	/* the most slots taken at once */
	int64_t		 busy_ns;	/* the loop's busy time at since */
} monitor_window;

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
	int64_t	 b;

	if (late_us < 0)
		late_us = 0;
	if (late_us < LATE_FINE_US)
		b = late_us / 100;
	else if (late_us < LATE_COARSE_US)
		b = LATE_FINE + (late_us - LATE_FINE_US) / 10000;
	else
		b = LATE_BUCKETS - 1;
	st->late[b]++;
	st->started++;
	metrics_lateness(late_us);
	if (late_us > st->max_us)
		st->max_us = late_us;
}

/*
 * The upper bound of the bucket holding the q-th of the counted starts,
 * but never above the largest start counted: the bucket of the largest
 * ends above it, and "p99 15.1 ms, max 15.0 ms" would be wrong.
 */
static double
monitor_late_ms(const struct monitor_stats *st, uint64_t q)
{
	uint64_t	 sum = 0;
	double		 bound;
	int		 b;

	for (b = 0; b < LATE_BUCKETS - 1; b++) {
		if ((sum += st->late[b]) >= q) {
			bound = b < LATE_FINE ? (b + 1) / 10.0 : LATE_FINE /
			    10.0 + (double)(b - LATE_FINE + 1) * 10.0;
			return bound < (double)st->max_us / 1000.0 ? bound :
			    (double)st->max_us / 1000.0;
		}
	}
	return (double)st->max_us / 1000.0;
}

/* Tell the operators, in the timeline (the desktop agent shows it). */
static void
monitor_host_event(struct monitors *ms, const char *event, const char *detail)
{
	struct store	*st = engine_store(ms->engine);

	if (store_begin(st) == -1 ||
	    store_timeline_add(st, &(struct store_event){ .at = wall_ms(),
	    .event = event, .actor = "rtowatchd", .detail = detail }) == -1 ||
	    store_commit(st) == -1) {
		store_rollback(st);
		log_warnx("monitoring host: \"%s\" could not be recorded",
		    event);
	}
}

static void
monitor_host_error(struct monitors *ms, struct monitor *m, struct probe *p)
{
	char	 d[32], detail[768];
	int64_t	 now = mono_ms();

	snprintf(monitor_host.last, sizeof(monitor_host.last), "%s: %s: %s",
	    m->sys->name, m->cc->desc, p->detail);
	monitor_host.total++;
	monitor_host.episode++;
	monitor_host.last_mono = now;
	monitor_host.last_at = wall_ms();
	if (monitor_host.since == 0) {
		monitor_host.since = monitor_host.last_at;
		monitor_host.since_mono = now;
		monitor_host.episode = 1;
		monitor_host.alerted = 0;
		monitor_host.unlogged = 0;
		monitor_host.logged_mono = now;
		log_warnx("monitoring host: a probe failed on this host, not "
		    "at its target: %s; such failures open no incident",
		    monitor_host.last);
	} else if (now - monitor_host.logged_mono >= MONITOR_HOST_LOG_MS) {
		log_warnx("monitoring host: %llu more probes failed on this "
		    "host in the last %lld s (the last: %s)",
		    (unsigned long long)monitor_host.unlogged + 1,
		    (long long)(now - monitor_host.logged_mono) / 1000,
		    monitor_host.last);
		monitor_host.logged_mono = now;
		monitor_host.unlogged = 0;
	} else
		monitor_host.unlogged++;
	if (!monitor_host.alerted &&
	    now - monitor_host.since_mono >= MONITOR_HOST_ALERT_MS) {
		monitor_host.alerted = 1;
		snprintf(detail, sizeof(detail), "probes have failed on the "
		    "monitoring host itself for %s (%llu of them), so their "
		    "targets are not being watched; the last: %s",
		    duration_fmt(now - monitor_host.since_mono, d, sizeof(d)),
		    (unsigned long long)monitor_host.episode,
		    monitor_host.last);
		log_warnx("monitoring host failing: %s", detail);
		monitor_host_event(ms, "monitoring host failing", detail);
	}
}

/* A probe ran on this host: an episode of local failures may be over. */
static void
monitor_host_ok(struct monitors *ms)
{
	char	 d[32], detail[256];
	int64_t	 now = mono_ms();

	if (monitor_host.since == 0 ||
	    now - monitor_host.last_mono < MONITOR_HOST_QUIET_MS)
		return;
	snprintf(detail, sizeof(detail), "probes run again on the monitoring "
	    "host; %llu failed on it over %s",
	    (unsigned long long)monitor_host.episode,
	    duration_fmt(monitor_host.last_mono - monitor_host.since_mono +
	    1, d, sizeof(d)));
	log_info("monitoring host: %s", detail);
	if (monitor_host.alerted)
		monitor_host_event(ms, "monitoring host recovered", detail);
	monitor_host.since = 0;
	monitor_host.alerted = 0;
}

void
monitor_host_status(struct monitor_host_status *hs)
{
	memset(hs, 0, sizeof(*hs));
	hs->total = monitor_host.total;
	hs->failing = monitor_host.since != 0 &&
	    mono_ms() - monitor_host.last_mono < MONITOR_HOST_QUIET_MS;
	hs->since = hs->failing ? monitor_host.since : 0;
	hs->episode = hs->failing ? monitor_host.episode : 0;
	hs->last_at = monitor_host.last_at;
	hs->last = monitor_host.total > 0 ? monitor_host.last : NULL;
}

static void	monitor_pool_next(struct monitors *);

/* Does M wait for an https slot? */
static int
monitor_waiting(const struct monitor *m)
{
	return m->ps != NULL && m->ps->waiting;
}

static void
monitor_pool_release(struct monitors *ms, struct monitor *m)
{
	TAILQ_REMOVE(&ms->holders, m->ps, pool);
	m->ps->holds = 0;
	monitor_pool.running--;
}

/*
 * The loop thread's time on a CPU and waiting for one, ns, from
 * /proc/thread-self/schedstat; -1 when there is none (no procfs).
 */
static int64_t
monitor_busy_ns(void)
{
	char		 buf[96];
	long long	 run, wait;
	ssize_t		 n;
	int		 fd;

	if ((fd = open("/proc/thread-self/schedstat", O_RDONLY |
	    O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if (sscanf(buf, "%lld %lld", &run, &wait) != 2)
		return -1;
	return run + wait;
}

/* A probe that held its slot since HELD_MONO ended. */
static void
monitor_window_done(struct monitors *ms, int64_t held_mono)
{
	struct slots_window	 w;
	int64_t			 now = mono_ms(), busy, mean;

	monitor_window.done++;
	monitor_window.held += now - held_mono;
	if (now - monitor_window.since < monitor_window.length)
		return;
	busy = monitor_busy_ns();
	w.rate = (double)monitor_window.done * 1000.0 /
	    (double)(now - monitor_window.since);
	w.saturated = monitor_window.saturated;
	w.busiest = monitor_window.busiest;
	w.bound = busy >= 0 && monitor_window.busy_ns >= 0 &&
	    (busy - monitor_window.busy_ns) * 100 >= (now -
	    monitor_window.since) * 1000000 * MONITOR_BOUND_PCT;
	monitor_pool.open = slots_judge(&monitor_slots, &w);

	mean = monitor_window.held / (int64_t)monitor_window.done;
	monitor_window.length = 3 * mean;
	if (monitor_window.length < MONITOR_WINDOW_MIN_MS)
		monitor_window.length = MONITOR_WINDOW_MIN_MS;
	if (monitor_window.length > MONITOR_WINDOW_MAX_MS)
		monitor_window.length = MONITOR_WINDOW_MAX_MS;
	monitor_window.since = now;
	monitor_window.busy_ns = busy;
	monitor_window.done = 0;
	monitor_window.held = 0;
	monitor_window.busiest = monitor_pool.running;
	monitor_window.saturated = !TAILQ_EMPTY(&ms->waits) ||
	    !TAILQ_EMPTY(&ms->resumes);
}

static void
monitor_done_cb(struct probe *p, void *arg)
{
	struct monitor	*m = arg;

	m->probe = NULL;
	if (m->ps != NULL && m->ps->holds) {
		monitor_window_done(m->ms, m->ps->held_mono);
		monitor_pool_release(m->ms, m);
		monitor_pool_next(m->ms);
	} else if (m->ps != NULL && m->ps->waiting) {
		/* Its timeout came while it waited to resume. */
		TAILQ_REMOVE(&m->ms->resumes, m->ps, pool);
		m->ps->waiting = 0;
		monitor_pool.waiting--;
	}
	metrics_probe(p->ops, p->result);
	if (p->result == PROBE_LOCAL_ERROR) {
		monitor_host_error(m->ms, m, p);
		probe_free(p);
		return;
	}
	monitor_host_ok(m->ms);
	if (p->result == PROBE_OK)
		log_debug("%s: %s: ok in %lld ms", m->sys->name, m->cc->desc,
		    (long long)p->rtt_ms);
	else
		log_debug("%s: %s: %s: %s", m->sys->name, m->cc->desc,
		    probe_result_str(p->result), p->detail);
	engine_result(m->ms->engine, m->sys->name, m->index, p->result,
	    p->detail, p->started_at, p->started_mono, p->rtt_ms);
	history_add(m->ms->history, m->slot, p->result, p->started_at,
	    p->rtt_ms);
	probe_free(p);
}

/* The heap keeps the monitor due first at heap[0]. */
static int
monitor_before(const struct monitor *a, const struct monitor *b)
{
	return a->due < b->due;
}

static void
monitor_sift_down(struct monitors *ms, size_t i)
{
	struct monitor	*m = ms->heap[i];
	size_t		 c;

	while ((c = 2 * i + 1) < ms->n) {
		if (c + 1 < ms->n && monitor_before(ms->heap[c + 1],
		    ms->heap[c]))
			c++;
		if (!monitor_before(ms->heap[c], m))
			break;
		ms->heap[i] = ms->heap[c];
		i = c;
	}
	ms->heap[i] = m;
}

/* The end of the slot holding T: when a start due at T is made. */
static int64_t
monitor_slot_end(int64_t t)
{
	return (t + MONITOR_SLOT_MS - 1) / MONITOR_SLOT_MS * MONITOR_SLOT_MS;
}

static void
monitor_arm(struct monitors *ms)
{
	struct timeval	 tv;
	int64_t		 wait;

	if (ms->n == 0)
		return;
	wait = monitor_slot_end(ms->heap[0]->due) - mono_ms();
	if (wait < 0)
		wait = 0;
	tv.tv_sec = wait / 1000;
	tv.tv_usec = (wait % 1000) * 1000;
	evtimer_add(ms->timer, &tv);
}

/*
 * Start M's probe now; DUE (mono ms) is when it was planned, -1 for a
 * probe outside the schedule, whose lateness is not counted.
 */
static void
monitor_pool_take(struct monitors *ms, struct monitor *m)
{
	m->ps->holds = 1;
	m->ps->held_mono = mono_ms();
	TAILQ_INSERT_TAIL(&ms->holders, m->ps, pool);
	if (++monitor_pool.running > monitor_pool.peak)
		monitor_pool.peak = monitor_pool.running;
	if (monitor_pool.running > monitor_window.busiest)
		monitor_window.busiest = monitor_pool.running;
}

static int	monitor_gate_cb(struct probe *, void *);

static void
monitor_launch(struct monitors *ms, struct monitor *m, int64_t due)
{
	if (due >= 0)
		monitor_count_start(&ms->stats, mono_us() - due * 1000);
	if (m->ps != NULL)
		monitor_pool_take(ms, m);
	m->probe = probe_start(ms->base, ms->dns, m->cc, monitor_done_cb, m);
	if (m->ps != NULL)
		m->probe->gate = monitor_gate_cb;
}

static void
monitor_lend_arm(struct monitors *ms)
{
	struct timeval	 tv = { 0, MONITOR_LEND_CHECK_MS * 1000L };

	if (!evtimer_pending(ms->lend, NULL))
		evtimer_add(ms->lend, &tv);
}

/*
 * Probes wait: the slots of those whose TCP handshake is unanswered
 * after MONITOR_LEND_MS go to them.  The holders are in the order they
 * took their slots, so the walk stops at the first too young.
 */
static void
monitor_lend_cb(evutil_socket_t fd, short events, void *arg)
{
	struct monitors	*ms = arg;
	struct monitor_pslot	*ps, *next;
	int64_t			 now = mono_ms();

	(void)fd;
	(void)events;
	for (ps = TAILQ_FIRST(&ms->holders); ps != NULL &&
	    now - ps->held_mono >= MONITOR_LEND_MS; ps = next) {
		next = TAILQ_NEXT(ps, pool);
		if (probe_connecting(ps->m->probe)) {
			monitor_pool_release(ms, ps->m);
			monitor_pool.lent++;
		}
	}
	monitor_pool_next(ms);
	if (!TAILQ_EMPTY(&ms->waits) || !TAILQ_EMPTY(&ms->resumes))
		monitor_lend_arm(ms);
}

/*
 * M's probe, which lent its slot, is connected and about to handshake:
 * it takes a free slot, or waits first in line for one.
 */
static int
monitor_gate_cb(struct probe *p, void *arg)
{
	struct monitor	*m = arg;
	struct monitors	*ms = m->ms;

	(void)p;
	if (m->ps->holds)
		return 1;
	if (monitor_pool.running < monitor_pool.open &&
	    TAILQ_EMPTY(&ms->resumes)) {
		monitor_pool_take(ms, m);
		return 1;
	}
	monitor_window.saturated = 1;
	m->ps->waiting = 1;
	TAILQ_INSERT_TAIL(&ms->resumes, m->ps, pool);
	monitor_pool.waiting++;
	monitor_lend_arm(ms);
	return 0;
}

/* Start M's probe, or queue it when it needs a slot and none is free. */
static void
monitor_want(struct monitors *ms, struct monitor *m, int64_t due)
{
	if (m->ps != NULL && monitor_pool.running >= monitor_pool.open) {
		monitor_window.saturated = 1;
		m->ps->waiting = 1;
		m->ps->waited_due = due;
		TAILQ_INSERT_TAIL(&ms->waits, m->ps, pool);
		monitor_pool.waiting++;
		monitor_pool.waited++;
		monitor_lend_arm(ms);
		return;
	}
	monitor_launch(ms, m, due);
}

/*
 * A slot freed: resume the connected probes waiting for one, then start
 * the monitors waiting longest.  Neither probe_resume() nor
 * probe_start() reports before it returns, so no slot frees inside
 * this loop.
 */
static void
monitor_pool_next(struct monitors *ms)
{
	struct monitor_pslot	*ps;

	while (monitor_pool.running < monitor_pool.open) {
		if ((ps = TAILQ_FIRST(&ms->resumes)) != NULL) {
			TAILQ_REMOVE(&ms->resumes, ps, pool);
			ps->waiting = 0;
			monitor_pool.waiting--;
			monitor_pool_take(ms, ps->m);
			probe_resume(ps->m->probe);
			continue;
		}
		if ((ps = TAILQ_FIRST(&ms->waits)) == NULL)
			break;
		TAILQ_REMOVE(&ms->waits, ps, pool);
		ps->waiting = 0;
		monitor_pool.waiting--;
		monitor_launch(ms, ps->m, ps->waited_due);
	}
}

/* Start M's probe (unless the last one still runs) and plan its next. */
static void
monitor_run(struct monitors *ms, struct monitor *m, int64_t now_us)
{
	int64_t	 now = now_us / 1000, skip;

	if (m->probe == NULL && !monitor_waiting(m))
		monitor_want(ms, m, m->due);
	else
		ms->stats.busy++;
	m->due += m->cc->every_ms;
	if (m->due <= now) {
		/* Skip the slots the loop missed, keep the phase. */
		skip = (now - m->due) / m->cc->every_ms + 1;
		ms->stats.missed += (uint64_t)skip;	/* at least 1 */
		m->due += skip * m->cc->every_ms;
	}
}

static void
monitor_fire_cb(evutil_socket_t fd, short events, void *arg)
{
	struct monitors	*ms = arg;
	int64_t		 now_us;

	(void)fd;
	(void)events;
	now_us = mono_us();
	while (ms->n > 0 && ms->heap[0]->due * 1000 <= now_us) {
		monitor_run(ms, ms->heap[0], now_us);
		monitor_sift_down(ms, 0);
	}
	monitor_arm(ms);
}

/*
 * HISTORY, if not NULL, was configured with CONF: its slots are the
 * checks in this order.
 */
struct monitors *
monitors_start(struct event_base *base, struct evdns_base *dns,
    const struct conf *conf, struct engine *engine, struct history *history)
{
	struct monitors		*ms;
	struct monitor		*m;
	struct system_conf	*sys;
	struct check_conf	*cc;
	int64_t			 now, n = 0, total = 0;
	int			 i, elsewhere = 0;

	ms = xcalloc(1, sizeof(*ms));
	ms->base = base;
	ms->dns = dns;
	ms->engine = engine;
	ms->history = history;
	if ((ms->timer = evtimer_new(base, monitor_fire_cb, ms)) == NULL)
		fatalx("monitors_start: evtimer_new failed");
	TAILQ_INIT(&ms->waits);
	TAILQ_INIT(&ms->holders);
	TAILQ_INIT(&ms->resumes);
	if ((ms->lend = evtimer_new(base, monitor_lend_cb, ms)) == NULL)
		fatalx("monitors_start: evtimer_new failed");
	/* What was learnt goes on past a reload, within the new cap. */
	monitor_pool.limit = conf->https_concurrency;
	if (monitor_slots.cap == 0)
		slots_init(&monitor_slots, monitor_pool.limit);
	else
		slots_set_cap(&monitor_slots, monitor_pool.limit);
	monitor_pool.open = monitor_slots.open;
	monitor_window.since = mono_ms();
	monitor_window.busy_ns = monitor_busy_ns();
	monitor_window.length = MONITOR_WINDOW_MIN_MS;
	monitor_window.done = 0;
	monitor_window.held = 0;
	monitor_window.busiest = 0;
	monitor_window.saturated = 0;

	/* Only the systems assigned to this node ("vantage points"). */
	TAILQ_FOREACH(sys, &conf->systems, entry)
		if (conf_system_probed_here(conf, sys))
			total += sys->nchecks;
		else
			elsewhere++;
	ms->all = xcalloc(total > 0 ? (size_t)total : 1, sizeof(*ms->all));
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): pointers, one a check */
	ms->heap = xcalloc(total > 0 ? (size_t)total : 1, sizeof(*ms->heap));
	now = mono_ms();
	TAILQ_FOREACH(sys, &conf->systems, entry) {
		if (!conf_system_probed_here(conf, sys))
			continue;
		i = 0;
		TAILQ_FOREACH(cc, &sys->checks, entry) {
			m = &ms->all[ms->n];
			m->ms = ms;
			m->sys = sys;
			m->cc = cc;
			m->index = i++;
			m->slot = (int)ms->n;
			if (cc->ops->pooled != NULL && cc->ops->pooled(cc)) {
				m->ps = xcalloc(1, sizeof(*m->ps));
				m->ps->m = m;
			}
			/*
			 * The n-th of total checks starts n/total into its
			 * interval, at the start of a slot.  In this order
			 * the array is already a heap.
			 */
			m->due = monitor_slot_end(now + cc->every_ms * n++ /
			    (total > 0 ? total : 1));
			ms->heap[ms->n++] = m;
		}
	}
	for (i = (int)(ms->n / 2) - 1; i >= 0; i--)
		monitor_sift_down(ms, (size_t)i);
	monitor_arm(ms);
	log_info("watching %d system%s with %lld check%s", conf->nsystems,
	    conf->nsystems == 1 ? "" : "s", (long long)total,
	    total == 1 ? "" : "s");
	if (elsewhere > 0)
		log_info("node %s: %d system%s not probed from here: assigned "
		    "to other vantage points", conf->node_name, elsewhere,
		    elsewhere == 1 ? "" : "s");
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
	size_t		 i;

	for (i = 0; i < ms->n; i++) {
		m = ms->heap[i];
		if (m->probe == NULL && !monitor_waiting(m) &&
		    strcmp(m->sys->name, system) == 0)
			monitor_want(ms, m, -1);
	}
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
		    (double)st->max_us / 1000.0);
	memset(st, 0, sizeof(*st));
}

/* Stop the timer and cancel every probe in flight: none reports. */
void
monitors_stop(struct monitors *ms)
{
	struct monitor	*m;
	size_t		 i;

	if (ms == NULL)
		return;
	for (i = 0; i < ms->n; i++) {
		m = ms->heap[i];
		if (m->probe != NULL)
			probe_cancel(m->probe);
		free(m->ps);
	}
	/* Those waiting for a slot go with their monitors. */
	monitor_pool.running = 0;
	monitor_pool.waiting = 0;
	event_free(ms->lend);
	event_free(ms->timer);
	free(ms->all);
	free(ms->heap);
	free(ms);
}

void
monitor_pool_status(struct monitor_pool_status *ps)
{
	*ps = monitor_pool;
}
