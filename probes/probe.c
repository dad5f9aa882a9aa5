/*
 * probe.c: what every probe kind shares.
 *
 * The common code owns a probe's timeout and its completion: a kind only
 * starts its work and says how it ended through probe_done().  Completion
 * is delivered from the event loop, never from inside start(), so the
 * scheduler never sees a probe finish before probe_start() returned.
 */
#include <event2/event.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "probe.h"
#include "util.h"

const struct probe_ops *const probe_kinds[] = {
	&probe_tcp_ops,
	&probe_http_ops,
	&probe_dns_ops,
	&probe_icmp_ops,
	NULL
};

struct probe_private {
	struct event	*timer;
	struct event	*deliver;
	int		 finished;
};

static const char *const probe_result_names[PROBE_RESULT_MAX] = {
	[PROBE_OK] = "ok",
	[PROBE_TIMEOUT] = "timeout",
	[PROBE_REFUSED] = "refused",
	[PROBE_UNREACHABLE] = "unreachable",
	[PROBE_DNS_FAILURE] = "dns-failure",
	[PROBE_BAD_STATUS] = "bad-status",
	[PROBE_CONTENT_MISMATCH] = "content-mismatch",
	[PROBE_TLS_ERROR] = "tls-error",
	[PROBE_CERT_EXPIRED] = "cert-expired",
	[PROBE_ERROR] = "error",
};

const char *
probe_result_str(enum probe_result r)
{
	if ((unsigned)r >= PROBE_RESULT_MAX)
		return "unknown";
	return probe_result_names[r];
}

int
probe_init_all(struct event_base *base, struct evdns_base *dns)
{
	int	 i;

	for (i = 0; probe_kinds[i] != NULL; i++)
		if (probe_kinds[i]->init != NULL &&
		    probe_kinds[i]->init(base, dns) == -1) {
			log_warnx("cannot set up %s probes",
			    probe_kinds[i]->name);
			return -1;
		}
	return 0;
}

void
probe_shutdown_all(void)
{
	int	 i;

	for (i = 0; probe_kinds[i] != NULL; i++)
		if (probe_kinds[i]->shutdown != NULL)
			probe_kinds[i]->shutdown();
}

const struct probe_ops *
probe_find(const char *name)
{
	int	 i;

	for (i = 0; probe_kinds[i] != NULL; i++)
		if (strcmp(probe_kinds[i]->name, name) == 0)
			return probe_kinds[i];
	return NULL;
}

static void
probe_deliver_cb(evutil_socket_t fd, short events, void *arg)
{
	struct probe	*p = arg;

	(void)fd;
	(void)events;
	p->done(p, p->arg);
}

static void
probe_timeout_cb(evutil_socket_t fd, short events, void *arg)
{
	struct probe	*p = arg;
	char		 d[32];

	(void)fd;
	(void)events;
	probe_done(p, PROBE_TIMEOUT, "no answer within %s",
	    duration_fmt(p->check->timeout_ms, d, sizeof(d)));
}

struct probe *
probe_start(struct event_base *base, struct evdns_base *dns,
    const struct check_conf *cc, probe_done_cb done, void *arg)
{
	struct probe		*p;
	struct probe_private	*pp;
	struct timeval		 tv;

	p = xcalloc(1, sizeof(*p));
	pp = xcalloc(1, sizeof(*pp));
	p->ops = cc->ops;
	p->check = cc;
	p->base = base;
	p->dns = dns;
	p->done = done;
	p->arg = arg;
	p->common = pp;
	p->started_at = wall_ms();
	p->started_mono = mono_ms();
	p->rtt_ms = -1;

	if ((pp->timer = evtimer_new(base, probe_timeout_cb, p)) == NULL ||
	    (pp->deliver = event_new(base, -1, 0, probe_deliver_cb, p)) ==
	    NULL)
		fatalx("probe_start: event_new failed");
	tv.tv_sec = cc->timeout_ms / 1000;
	tv.tv_usec = (cc->timeout_ms % 1000) * 1000;
	evtimer_add(pp->timer, &tv);
	p->ops->start(p);
	return p;
}

/*
 * How a probe ends, once: record the result, let the kind release its
 * sockets, and queue the callback.
 */
void
probe_done(struct probe *p, enum probe_result result, const char *fmt, ...)
{
	struct probe_private	*pp = p->common;
	va_list			 ap;

	if (pp->finished)
		return;
	pp->finished = 1;
	p->result = result;
	if (result == PROBE_OK && p->rtt_ms < 0)
		p->rtt_ms = mono_ms() - p->started_mono;
	va_start(ap, fmt);
	vsnprintf(p->detail, sizeof(p->detail), fmt, ap);
	va_end(ap);
	evtimer_del(pp->timer);
	p->ops->cancel(p);
	event_active(pp->deliver, EV_TIMEOUT, 1);
}

/* Stop a probe that has not reported yet; it will not report. */
void
probe_cancel(struct probe *p)
{
	struct probe_private	*pp = p->common;

	if (!pp->finished) {
		pp->finished = 1;
		p->ops->cancel(p);
	}
	probe_free(p);
}

void
probe_free(struct probe *p)
{
	struct probe_private	*pp = p->common;

	event_free(pp->deliver);
	event_free(pp->timer);
	free(pp);
	free(p);
}
