/*
 * probe.c: what every probe kind shares.
 *
 * The common code owns a probe's timeout and its completion: a kind only
 * starts its work and says how it ended through probe_done().  Completion
 * is delivered from the event loop, never from inside start(), so the
 * scheduler never sees a probe finish before probe_start() returned.
 * It also turns a probe's host into addresses (probe_resolve(), through
 * resolve.c's cache), so that every kind looks names up, fails and
 * cancels the same way.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <event2/event.h>
#include <event2/util.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "probe.h"
#include "resolve.h"
#include "util.h"

const struct probe_ops *const probe_kinds[] = {
	&probe_tcp_ops,
	&probe_http_ops,
	&probe_dns_ops,
	&probe_icmp_ops,
	NULL
};

struct probe_private {
	struct event			*timer;
	struct event			*deliver;
	int				 finished;
	struct resolve_wait		*wait;		/* pending lookup */
	probe_resolved_cb		 resolved;
	int				 socktype;
	char				*host;		/* being looked up */
	int64_t				 grace_ms;	/* given after a hold */
};

/* A timeout timer this late says the loop was held (probe_timeout_cb). */
#define PROBE_HELD_MS	100

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
	[PROBE_CERT_EXPIRING] = "cert-expiring",
	[PROBE_ERROR] = "error",
	[PROBE_LOCAL_ERROR] = "local-error",
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

	resolve_init(base);
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
	resolve_shutdown();
}

/* Does errno ERR say the monitoring host, not the target, failed? */
int
probe_errno_local(int err)
{
	switch (err) {
	case EMFILE:
	case ENFILE:
	case ENOBUFS:
	case ENOMEM:
		return 1;
	default:
		return 0;
	}
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

/*
 * The check's timeout came.  If the loop was held meanwhile (a slow
 * store write, a stall), the target may have answered long ago: libevent
 * hands expired timers all at once but ready sockets only a batch at a
 * time (epoll's), so the timer can come before an answer already
 * waiting.  The kind first looks at its socket (ready()); and a timer
 * late by PROBE_HELD_MS or more gives the probe once the time it lost
 * (at most its timeout again), for an answer it could not be served
 * yet, e.g. a request it could only send after the hold.  A target that
 * does not answer is still a timeout, only later.
 */
static void
probe_timeout_cb(evutil_socket_t fd, short events, void *arg)
{
	struct probe		*p = arg;
	struct probe_private	*pp = p->common;
	struct timeval		 tv;
	int64_t			 late;
	char			 d[32];

	(void)fd;
	(void)events;
	if (pp->wait == NULL && p->ops->ready != NULL) {
		p->ops->ready(p);
		if (pp->finished)
			return;
	}
	late = mono_ms() - p->started_mono - p->check->timeout_ms -
	    pp->grace_ms;
	if (pp->grace_ms == 0 && late >= PROBE_HELD_MS) {
		pp->grace_ms = late < p->check->timeout_ms ? late :
		    p->check->timeout_ms;
		tv.tv_sec = pp->grace_ms / 1000;
		tv.tv_usec = (pp->grace_ms % 1000) * 1000;
		evtimer_add(pp->timer, &tv);
		return;
	}
	duration_fmt(p->check->timeout_ms, d, sizeof(d));
	if (pp->wait != NULL)
		probe_done(p, PROBE_DNS_FAILURE, "cannot resolve %s: no "
		    "answer from the resolver within %s", pp->host, d);
	else if (p->ops->expire != NULL)
		p->ops->expire(p, d);
	/* A kind that did not say is told here. */
	probe_done(p, PROBE_TIMEOUT, "no answer within %s", d);
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
 * A pending lookup is left before the kind's cancel() frees its state:
 * the lookup goes on in resolve.c, for the cache, and reaches nothing of
 * ours when it ends.
 */
static void
probe_stop(struct probe *p)
{
	struct probe_private	*pp = p->common;

	if (pp->wait != NULL) {
		resolve_cancel(pp->wait);
		pp->wait = NULL;
	}
	p->ops->cancel(p);
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
	probe_stop(p);
	event_active(pp->deliver, EV_TIMEOUT, 1);
}

/* Is P still waiting for its TCP handshake (the kind says)? */
int
probe_connecting(struct probe *p)
{
	struct probe_private	*pp = p->common;

	return !pp->finished && p->ops->connecting != NULL &&
	    p->ops->connecting(p);
}

/*
 * P is past its TCP handshake and about to start the costly part: 1 if
 * it may (it holds its slot, or there is one free), 0 if it must wait
 * for probe_resume().
 */
int
probe_gate(struct probe *p)
{
	return p->gate == NULL || p->gate(p, p->arg);
}

/* The wait probe_gate() asked for is over. */
void
probe_resume(struct probe *p)
{
	struct probe_private	*pp = p->common;

	if (!pp->finished && p->ops->resume != NULL)
		p->ops->resume(p);
}

/* Stop a probe that has not reported yet; it will not report. */
void
probe_cancel(struct probe *p)
{
	struct probe_private	*pp = p->common;

	if (!pp->finished) {
		pp->finished = 1;
		probe_stop(p);
	}
	probe_free(p);
}

void
probe_free(struct probe *p)
{
	struct probe_private	*pp = p->common;

	event_free(pp->deliver);
	event_free(pp->timer);
	free(pp->host);
	free(pp);
	free(p);
}

/* An address literal, or a host name of letters, digits, '-' and '.'. */
int
probe_host_valid(const char *host)
{
	struct in6_addr	 a6;
	struct in_addr	 a4;
	const char	*s;

	if (inet_pton(AF_INET, host, &a4) == 1 ||
	    inet_pton(AF_INET6, host, &a6) == 1)
		return 1;
	if (*host == '\0' || strlen(host) > 253)
		return 0;
	for (s = host; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '.')
			return 0;
	return 1;
}

/* The addresses resolve.c found, as the list the kinds take. */
static void
probe_resolved(int error, const struct resolve_addrs *ra, void *arg)
{
	struct probe		*p = arg;
	struct probe_private	*pp = p->common;
	struct evutil_addrinfo	 ai[RESOLVE_MAX_ADDRS];
	union resolve_sa	 sa[RESOLVE_MAX_ADDRS];
	int			 i;

	pp->wait = NULL;
	if (error == RESOLVE_NO_RESOLVER) {
		probe_done(p, PROBE_DNS_FAILURE, "no resolver for %s",
		    pp->host);
		return;
	}
	if (error != 0 || ra == NULL || ra->n == 0) {
		probe_done(p, PROBE_DNS_FAILURE, "cannot resolve %s: %s",
		    pp->host, evutil_gai_strerror(error != 0 ? error :
		    EVUTIL_EAI_NODATA));
		return;
	}
	memset(ai, 0, sizeof(ai));
	for (i = 0; i < ra->n; i++) {
		sa[i] = ra->a[i];
		ai[i].ai_family = sa[i].sa.sa_family;
		ai[i].ai_socktype = pp->socktype;
		ai[i].ai_addrlen = resolve_sa_len(&sa[i]);
		ai[i].ai_addr = &sa[i].sa;
		ai[i].ai_next = i + 1 < ra->n ? &ai[i + 1] : NULL;
	}
	pp->resolved(p, ai);
}

/*
 * Hand HOST's addresses to CB: at once for an address literal, a name of
 * /etc/hosts or one whose cached addresses are within their TTL, else
 * after an evdns lookup (never getaddrinfo in the loop), shared with the
 * other probes of that name.  A lookup that fails ends the probe as a
 * dns-failure; one still pending when the probe ends is left here,
 * before the kind's cancel().  One lookup at a time per probe.
 */
void
probe_resolve(struct probe *p, const char *host, int socktype,
    probe_resolved_cb cb)
{
	struct probe_private		*pp = p->common;
	struct resolve_wait		*w;
	struct sockaddr_storage		 ss;
	struct sockaddr_in6		*sin6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_in		*sin = (struct sockaddr_in *)&ss;
	struct evutil_addrinfo		 ai;

	memset(&ss, 0, sizeof(ss));
	memset(&ai, 0, sizeof(ai));
	ai.ai_socktype = socktype;
	ai.ai_addr = (struct sockaddr *)&ss;
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		ai.ai_family = sin->sin_family = AF_INET;
		ai.ai_addrlen = sizeof(*sin);
		cb(p, &ai);
		return;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		ai.ai_family = sin6->sin6_family = AF_INET6;
		ai.ai_addrlen = sizeof(*sin6);
		cb(p, &ai);
		return;
	}
	free(pp->host);
	pp->host = xstrdup(host);
	pp->resolved = cb;
	pp->socktype = socktype;
	/*
	 * An answer at hand (hosts file, cache) is given before this
	 * returns, and the probe may have ended (p itself lives on until
	 * the queued completion): only a pending wait is kept.
	 */
	if ((w = resolve_name(p->dns, host, probe_resolved, p)) != NULL)
		pp->wait = w;
}
