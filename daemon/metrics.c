/*
 * metrics.c: the daemon's state in Prometheus's text exposition format.
 *
 * The counters of what happened (probes by kind and result, how late
 * they started) are kept here, fed by monitor.c, from the start of the
 * process: never cleared, as a Prometheus counter must not be (SIGUSR1
 * clears the scheduler's own histogram, not this one).  The rest is
 * read when asked: the checks from the engine, incidents, clocks and the
 * outbox from the database (a few indexed counts), the store's health
 * and the capture's counters from their owners.  metrics_write knows no
 * HTTP: the control socket and the web listener each serve it.
 *
 * Names follow Prometheus's conventions: the rtowatch_ prefix, base
 * units (seconds), _total for counters, every family with HELP and TYPE
 * before its samples, label values escaped.
 */
#include <event2/buffer.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "engine.h"
#include "metrics.h"
#include "monitor.h"
#include "probe.h"
#include "rtowatch.h"
#include "store.h"
#include "util.h"

#define METRICS_MAX_KINDS	16

/* The upper bounds of start lateness's buckets, in microseconds. */
static const int64_t metrics_late_le[] = {
	1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000
};
#define METRICS_LATE_N	(sizeof(metrics_late_le) / sizeof(metrics_late_le[0]))

static struct {
	uint64_t	 probes[METRICS_MAX_KINDS][PROBE_RESULT_MAX];
	uint64_t	 late[METRICS_LATE_N + 1];	/* the last: +Inf */
	uint64_t	 late_count;
	int64_t		 late_sum_us;
} metrics;

static size_t
metrics_kind(const struct probe_ops *ops)
{
	size_t	 i;

	for (i = 0; i < METRICS_MAX_KINDS && probe_kinds[i] != NULL; i++)
		if (probe_kinds[i] == ops)
			return i;
	return METRICS_MAX_KINDS;
}

/* A probe reported RESULT (monitor.c), the host's own failures too. */
void
metrics_probe(const struct probe_ops *ops, enum probe_result result)
{
	size_t	 k;

	if ((k = metrics_kind(ops)) < METRICS_MAX_KINDS &&
	    (unsigned)result < PROBE_RESULT_MAX)
		metrics.probes[k][result]++;
}

/* A probe started LATE_US after its planned time (monitor.c). */
void
metrics_lateness(int64_t late_us)
{
	size_t	 b;

	if (late_us < 0)
		late_us = 0;
	for (b = 0; b < METRICS_LATE_N; b++)
		if (late_us <= metrics_late_le[b])
			break;
	metrics.late[b]++;
	metrics.late_count++;
	metrics.late_sum_us += late_us;
}

static void
metrics_family(struct evbuffer *out, const char *name, const char *type,
    const char *help)
{
	evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

/* A label's value, escaped as the format says: \\, \" and \n. */
static void
metrics_label(struct evbuffer *out, const char *name, const char *value,
    int first)
{
	const char	*p;

	evbuffer_add_printf(out, "%s%s=\"", first ? "" : ",", name);
	for (p = value != NULL ? value : ""; *p != '\0'; p++) {
		if (*p == '\\')
			evbuffer_add(out, "\\\\", 2);
		else if (*p == '"')
			evbuffer_add(out, "\\\"", 2);
		else if (*p == '\n')
			evbuffer_add(out, "\\n", 2);
		else
			evbuffer_add(out, p, 1);
	}
	evbuffer_add(out, "\"", 1);
}

/* The check's kind: its description's first word ("tcp ..."). */
static void
metrics_check_kind(const char *desc, char *buf, size_t len)
{
	size_t	 n;

	n = strcspn(desc, " ");
	if (n >= len)
		n = len - 1;
	memcpy(buf, desc, n);
	buf[n] = '\0';
}

/* One family's sample for every check: up, round trip, last change. */
enum metrics_check_what {
	METRICS_CHECK_UP,
	METRICS_CHECK_RTT,
	METRICS_CHECK_CHANGED
};

struct metrics_checks {
	struct evbuffer		*out;
	enum metrics_check_what	 what;
};

static int
metrics_check_system(const struct engine_system_status *s, void *arg)
{
	struct metrics_checks		*mc = arg;
	const struct engine_check_status *cs;
	char				 kind[32];
	int				 i;

	for (i = 0; i < s->nchecks; i++) {
		cs = &s->checks[i];
		/* Not probed yet: nothing is known, no sample. */
		if (cs->result == NULL)
			continue;
		if (mc->what == METRICS_CHECK_RTT && cs->rtt_ms < 0)
			continue;
		if (mc->what == METRICS_CHECK_CHANGED && cs->changed_at == 0)
			continue;
		metrics_check_kind(cs->desc, kind, sizeof(kind));
		evbuffer_add_printf(mc->out, "%s{", mc->what ==
		    METRICS_CHECK_UP ? "rtowatch_check_up" : mc->what ==
		    METRICS_CHECK_RTT ? "rtowatch_check_round_trip_seconds" :
		    "rtowatch_check_last_change_timestamp_seconds");
		metrics_label(mc->out, "system", s->name, 1);
		metrics_label(mc->out, "check", cs->desc, 0);
		metrics_label(mc->out, "kind", kind, 0);
		switch (mc->what) {
		case METRICS_CHECK_UP:
			evbuffer_add_printf(mc->out, "} %d\n", !cs->down);
			break;
		case METRICS_CHECK_RTT:
			evbuffer_add_printf(mc->out, "} %.3f\n",
			    (double)cs->rtt_ms / 1000.0);
			break;
		case METRICS_CHECK_CHANGED:
			evbuffer_add_printf(mc->out, "} %.3f\n",
			    (double)cs->changed_at / 1000.0);
			break;
		}
	}
	return 0;
}

static void
metrics_checks(struct evbuffer *out, const struct metrics_source *src)
{
	struct metrics_checks	 mc;

	mc.out = out;
	metrics_family(out, "rtowatch_check_up", "gauge",
	    "Whether the check is up (1) or down (0), as the engine counts "
	    "its results.");
	mc.what = METRICS_CHECK_UP;
	engine_status(src->engine, metrics_check_system, &mc);
	metrics_family(out, "rtowatch_check_round_trip_seconds", "gauge",
	    "The round trip of the check's last probe.");
	mc.what = METRICS_CHECK_RTT;
	engine_status(src->engine, metrics_check_system, &mc);
	metrics_family(out, "rtowatch_check_last_change_timestamp_seconds",
	    "gauge", "When the check last went up or down (its first "
	    "result, if never).");
	mc.what = METRICS_CHECK_CHANGED;
	engine_status(src->engine, metrics_check_system, &mc);
}

static void
metrics_probes(struct evbuffer *out)
{
	size_t	 k;
	int	 r;

	metrics_family(out, "rtowatch_probes_total", "counter",
	    "Probes that reported, by kind and result (local_error: the "
	    "monitoring host failed, not the target).");
	for (k = 0; k < METRICS_MAX_KINDS && probe_kinds[k] != NULL; k++)
		for (r = 0; r < PROBE_RESULT_MAX; r++) {
			evbuffer_add_printf(out, "rtowatch_probes_total{");
			metrics_label(out, "kind", probe_kinds[k]->name, 1);
			metrics_label(out, "result",
			    probe_result_str((enum probe_result)r), 0);
			evbuffer_add_printf(out, "} %" PRIu64 "\n",
			    metrics.probes[k][r]);
		}
	metrics_family(out, "rtowatch_probe_start_lateness_seconds",
	    "histogram", "How late each probe started after its planned "
	    "time: whether the loop keeps up.");
	{
		uint64_t	 cum = 0;

		for (k = 0; k < METRICS_LATE_N; k++) {
			cum += metrics.late[k];
			evbuffer_add_printf(out, "rtowatch_probe_start_"
			    "lateness_seconds_bucket{le=\"%g\"} %" PRIu64 "\n",
			    (double)metrics_late_le[k] / 1e6, cum);
		}
	}
	evbuffer_add_printf(out, "rtowatch_probe_start_lateness_seconds_bucket"
	    "{le=\"+Inf\"} %" PRIu64 "\n"
	    "rtowatch_probe_start_lateness_seconds_sum %.6f\n"
	    "rtowatch_probe_start_lateness_seconds_count %" PRIu64 "\n",
	    metrics.late_count, (double)metrics.late_sum_us / 1e6,
	    metrics.late_count);
}

/* The first two columns of SQL's rows into VALS by the first's text. */
struct metrics_rows {
	const char *const	*keys;
	size_t			 nkeys;
	int64_t			*v1, *v2;
};

static int
metrics_row(int n, const char *const *names, const char *const *vals,
    const int *nums, void *arg)
{
	struct metrics_rows	*mr = arg;
	size_t			 i;

	(void)names;
	(void)nums;
	if (n < 2 || vals[0] == NULL)
		return 0;
	for (i = 0; i < mr->nkeys; i++)
		if (strcmp(vals[0], mr->keys[i]) == 0) {
			mr->v1[i] = vals[1] != NULL ?
			    strtoll(vals[1], NULL, 10) : 0;
			if (mr->v2 != NULL && n > 2 && vals[2] != NULL)
				mr->v2[i] = strtoll(vals[2], NULL, 10);
		}
	return 0;
}

static const char *const metrics_levels[] = { "1", "2", "3", "4" };
static const char *const metrics_clock_kinds[] = {
	"notify", "restore", "report", "close"
};

static int
metrics_records(struct evbuffer *out, const struct metrics_source *src)
{
	struct metrics_rows	 mr;
	int64_t			 lv[4] = { 0 }, run[4] = { 0 }, over[4] = { 0 };
	char			 now[TIME_STRLEN];
	const char		*args[1];
	size_t			 i;

	mr.keys = metrics_levels;
	mr.nkeys = 4;
	mr.v1 = lv;
	mr.v2 = NULL;
	if (store_select(src->store, "SELECT level, count(*) FROM incidents"
	    " WHERE status = 'open' GROUP BY level", 0, NULL, metrics_row,
	    &mr) == -1)
		return -1;
	metrics_family(out, "rtowatch_incidents_open", "gauge",
	    "Incidents open (not restored nor closed), by level (資安事件等級).");
	for (i = 0; i < 4; i++)
		evbuffer_add_printf(out, "rtowatch_incidents_open{level=\"%s\"}"
		    " %" PRId64 "\n", metrics_levels[i], lv[i]);

	/* Times are ISO 8601 UTC text of one width: they sort as text. */
	args[0] = time_fmt(wall_ms(), now, sizeof(now));
	mr.keys = metrics_clock_kinds;
	mr.v1 = run;
	mr.v2 = over;
	if (store_select(src->store, "SELECT kind, count(*),"
	    " coalesce(sum(breached_at IS NOT NULL OR due_at <= ?1), 0)"
	    " FROM clocks WHERE stopped_at IS NULL GROUP BY kind", 1, args,
	    metrics_row, &mr) == -1)
		return -1;
	metrics_family(out, "rtowatch_clocks_running", "gauge",
	    "Deadline clocks running, by kind.");
	for (i = 0; i < 4; i++)
		evbuffer_add_printf(out, "rtowatch_clocks_running{kind=\"%s\"}"
		    " %" PRId64 "\n", metrics_clock_kinds[i], run[i]);
	metrics_family(out, "rtowatch_clocks_overdue", "gauge",
	    "Deadline clocks running past their deadline, by kind.");
	for (i = 0; i < 4; i++)
		evbuffer_add_printf(out, "rtowatch_clocks_overdue{kind=\"%s\"}"
		    " %" PRId64 "\n", metrics_clock_kinds[i], over[i]);
	return 0;
}

static int
metrics_outbox(struct evbuffer *out, const struct metrics_source *src)
{
	int64_t	 oldest = 0, age = 0;
	int	 queued = 0, alerted = 0;

	if (store_outbox_stats(src->store, &queued, &alerted, &oldest) == -1)
		return -1;
	if (queued > 0 && oldest != 0 && (age = wall_ms() - oldest) < 0)
		age = 0;
	metrics_family(out, "rtowatch_outbox_messages", "gauge",
	    "Messages queued in the mail outbox, not sent yet.");
	evbuffer_add_printf(out, "rtowatch_outbox_messages %d\n", queued);
	metrics_family(out, "rtowatch_outbox_oldest_age_seconds", "gauge",
	    "How long the oldest queued message has waited (0: none).");
	evbuffer_add_printf(out, "rtowatch_outbox_oldest_age_seconds %.3f\n",
	    (double)age / 1000.0);
	return 0;
}

static void
metrics_store(struct evbuffer *out, const struct metrics_source *src)
{
	struct store_health	 h;

	store_health(src->store, &h);
	metrics_family(out, "rtowatch_store_failing", "gauge",
	    "Whether the database refuses writes (資料庫寫入失敗).");
	evbuffer_add_printf(out, "rtowatch_store_failing %d\n", h.failing);
	metrics_family(out, "rtowatch_store_held_transactions", "gauge",
	    "Transactions held in memory until the database takes them.");
	evbuffer_add_printf(out, "rtowatch_store_held_transactions %zu\n",
	    h.held);
	metrics_family(out, "rtowatch_store_held_bytes", "gauge",
	    "Bytes of the transactions held in memory.");
	evbuffer_add_printf(out, "rtowatch_store_held_bytes %zu\n",
	    h.held_bytes);
	metrics_family(out, "rtowatch_store_refused_total", "counter",
	    "Transactions refused, unrecorded, with the held queue full.");
	evbuffer_add_printf(out, "rtowatch_store_refused_total %u\n",
	    h.refused);
	metrics_family(out, "rtowatch_store_failing_seconds", "gauge",
	    "How long the database has refused writes (0: it takes them).");
	evbuffer_add_printf(out, "rtowatch_store_failing_seconds %.3f\n",
	    h.failing ? (double)h.for_ms / 1000.0 : 0.0);
}

/* The capture's counters, one family at a time over the blocks. */
enum metrics_capture_what {
	METRICS_CAPTURE_PACKETS,
	METRICS_CAPTURE_DROPPED,
	METRICS_CAPTURE_UP,
	METRICS_CAPTURE_EPISODES,
	METRICS_CAPTURE_NWHAT
};

static const struct {
	const char	*name, *type, *help;
} metrics_capture_families[METRICS_CAPTURE_NWHAT] = {
	{ "rtowatch_capture_packets_total", "counter",
	  "Packets the anomaly block's capture saw." },
	{ "rtowatch_capture_dropped_total", "counter",
	  "Packets the kernel dropped before the capture read them." },
	{ "rtowatch_capture_up", "gauge",
	  "Whether the anomaly block captures (0: it failed to)." },
	{ "rtowatch_anomaly_episodes_open", "gauge",
	  "Traffic anomalies the block is in now (open episodes)." },
};

struct metrics_capture {
	struct evbuffer			*out;
	enum metrics_capture_what	 what;
};

static int
metrics_capture_block(const struct capture_status *st, void *arg)
{
	struct metrics_capture	*mc = arg;

	evbuffer_add_printf(mc->out, "%s{",
	    metrics_capture_families[mc->what].name);
	metrics_label(mc->out, "block", st->name, 1);
	metrics_label(mc->out, "interface", st->interface, 0);
	switch (mc->what) {
	case METRICS_CAPTURE_PACKETS:
		evbuffer_add_printf(mc->out, "} %" PRIu64 "\n", st->packets);
		break;
	case METRICS_CAPTURE_DROPPED:
		evbuffer_add_printf(mc->out, "} %u\n", st->dropped);
		break;
	case METRICS_CAPTURE_UP:
		evbuffer_add_printf(mc->out, "} %d\n", st->error == NULL);
		break;
	default:
		evbuffer_add_printf(mc->out, "} %d\n", st->episodes);
		break;
	}
	return 0;
}

static void
metrics_capture(struct evbuffer *out, const struct metrics_source *src)
{
	struct metrics_capture	 mc;
	int			 w;

	if (src->capture == NULL)
		return;
	mc.out = out;
	for (w = 0; w < METRICS_CAPTURE_NWHAT; w++) {
		mc.what = (enum metrics_capture_what)w;
		metrics_family(out, metrics_capture_families[w].name,
		    metrics_capture_families[w].type,
		    metrics_capture_families[w].help);
		capture_status(src->capture, metrics_capture_block, &mc);
	}
}

/*
 * Everything, appended to OUT: 0, or -1 when the database could not be
 * read (OUT then holds a part, which the caller discards).
 */
int
metrics_write(struct evbuffer *out, const struct metrics_source *src)
{
	struct monitor_host_status	 hs;
	struct monitor_pool_status	 ps;

	metrics_family(out, "rtowatch_build_info", "gauge",
	    "The running rtowatchd's version.");
	evbuffer_add_printf(out, "rtowatch_build_info{");
	metrics_label(out, "version", RTOWATCH_VERSION, 1);
	evbuffer_add_printf(out, "} 1\n");
	metrics_checks(out, src);
	metrics_probes(out);
	monitor_host_status(&hs);
	metrics_family(out, "rtowatch_host_local_errors_total", "counter",
	    "Probes that failed on the monitoring host itself.");
	evbuffer_add_printf(out, "rtowatch_host_local_errors_total %" PRIu64
	    "\n", hs.total);
	monitor_pool_status(&ps);
	metrics_family(out, "rtowatch_https_concurrency", "gauge",
	    "How many https probes may run at once (set https-concurrency).");
	evbuffer_add_printf(out, "rtowatch_https_concurrency %d\n", ps.limit);
	metrics_family(out, "rtowatch_https_open", "gauge",
	    "https slots open now: grown toward https-concurrency only while "
	    "more carry more probes a second.");
	evbuffer_add_printf(out, "rtowatch_https_open %d\n", ps.open);
	metrics_family(out, "rtowatch_https_running", "gauge",
	    "https probes holding a slot now (not those that lent theirs).");
	evbuffer_add_printf(out, "rtowatch_https_running %d\n", ps.running);
	metrics_family(out, "rtowatch_https_running_peak", "gauge",
	    "The most https probes that ran at once since the start.");
	evbuffer_add_printf(out, "rtowatch_https_running_peak %d\n", ps.peak);
	metrics_family(out, "rtowatch_https_waiting", "gauge",
	    "https probes due and waiting for a slot now.");
	evbuffer_add_printf(out, "rtowatch_https_waiting %d\n", ps.waiting);
	metrics_family(out, "rtowatch_https_waited_total", "counter",
	    "https probes that waited for a slot (their wait counts as start "
	    "lateness, not as response time).");
	evbuffer_add_printf(out, "rtowatch_https_waited_total %" PRIu64 "\n",
	    ps.waited);
	metrics_family(out, "rtowatch_https_lent_total", "counter",
	    "Slots given on to a waiting probe by a probe whose TCP handshake "
	    "went unanswered for 1 s.");
	evbuffer_add_printf(out, "rtowatch_https_lent_total %" PRIu64 "\n",
	    ps.lent);
	if (metrics_records(out, src) == -1 || metrics_outbox(out, src) == -1)
		return -1;
	metrics_store(out, src);
	metrics_capture(out, src);
	return 0;
}
