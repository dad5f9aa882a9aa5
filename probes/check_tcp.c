/*
 * check_tcp.c: a TCP connect check.
 *
 *	check tcp HOST port N [every D] [timeout D]
 *
 * A non-blocking connect; the service is up when the handshake completes.
 * HOST is an address, or a name looked up through evdns at each probe
 * (never getaddrinfo in the loop).  The timeout is probe.c's.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "probe.h"
#include "util.h"

struct tcp_opts {
	int	 port;
};

struct tcp_state {
	struct evdns_getaddrinfo_request *req;
	struct event			*ev;
	evutil_socket_t			 fd;
};

static int
tcp_option(struct conf_parser *p, struct check_conf *cc, const char *word)
{
	struct tcp_opts	*o = cc->opts;
	long long	 port;

	if (o == NULL)
		o = cc->opts = xcalloc(1, sizeof(*o));
	if (strcmp(word, "port") != 0)
		return 0;
	if (conf_next_number(p, "port", 1, 65535, &port) == -1)
		return -1;
	o->port = (int)port;
	return 1;
}

/* An address literal, or a host name of letters, digits, '-' and '.'. */
static int
tcp_valid_host(const char *host)
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

static int
tcp_finish(struct conf_parser *p, struct check_conf *cc)
{
	struct tcp_opts	*o = cc->opts;

	if (!tcp_valid_host(cc->target)) {
		conf_error(p, "tcp check: \"%s\" is not a host name or "
		    "address", cc->target);
		return -1;
	}
	if (o == NULL || o->port == 0) {
		conf_error(p, "tcp check of %s: missing \"port N\"",
		    cc->target);
		return -1;
	}
	return 0;
}

static void
tcp_describe(const struct check_conf *cc, char *buf, size_t len)
{
	const struct tcp_opts	*o = cc->opts;

	snprintf(buf, len, "tcp %s port %d", cc->target, o->port);
}

static void
tcp_free_opts(struct check_conf *cc)
{
	free(cc->opts);
	cc->opts = NULL;
}

static enum probe_result
tcp_errno_result(int error)
{
	switch (error) {
	case ECONNREFUSED:
	case ECONNRESET:
		return PROBE_REFUSED;
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EHOSTDOWN:
	case ENETDOWN:
		return PROBE_UNREACHABLE;
	case ETIMEDOUT:
		return PROBE_TIMEOUT;
	default:
		return PROBE_ERROR;
	}
}

static void
tcp_connected_cb(evutil_socket_t fd, short events, void *arg)
{
	struct probe	*p = arg;
	socklen_t	 len = sizeof(int);
	int		 error = 0;

	(void)events;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) == -1)
		error = errno;
	if (error == 0)
		probe_done(p, PROBE_OK, "connected");
	else
		probe_done(p, tcp_errno_result(error), "%s",
		    strerror(error));
}

static void
tcp_connect(struct probe *p, struct sockaddr *sa, socklen_t salen)
{
	struct tcp_state	*s = p->priv;
	const struct tcp_opts	*o = p->check->opts;

	if (sa->sa_family == AF_INET)
		((struct sockaddr_in *)sa)->sin_port = htons(o->port);
	else
		((struct sockaddr_in6 *)sa)->sin6_port = htons(o->port);

	s->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (s->fd == -1) {
		probe_done(p, PROBE_ERROR, "socket: %s", strerror(errno));
		return;
	}
	if (connect(s->fd, sa, salen) == 0) {
		probe_done(p, PROBE_OK, "connected");
		return;
	}
	if (errno != EINPROGRESS) {
		probe_done(p, tcp_errno_result(errno), "%s", strerror(errno));
		return;
	}
	if ((s->ev = event_new(p->base, s->fd, EV_WRITE, tcp_connected_cb,
	    p)) == NULL)
		fatalx("tcp: event_new failed");
	event_add(s->ev, NULL);
}

static void
tcp_resolved_cb(int result, struct evutil_addrinfo *ai, void *arg)
{
	struct probe		*p = arg;
	struct tcp_state	*s = p->priv;
	struct sockaddr_storage	 ss;
	socklen_t		 len;

	if (result == EVUTIL_EAI_CANCEL)
		return;		/* cancelled: p may be gone */
	s->req = NULL;
	if (result != 0 || ai == NULL) {
		probe_done(p, PROBE_DNS_FAILURE, "cannot resolve %s: %s",
		    p->check->target, evutil_gai_strerror(result));
		if (ai != NULL)
			evutil_freeaddrinfo(ai);
		return;
	}
	len = (socklen_t)ai->ai_addrlen;
	memcpy(&ss, ai->ai_addr, len);
	evutil_freeaddrinfo(ai);
	tcp_connect(p, (struct sockaddr *)&ss, len);
}

static void
tcp_start(struct probe *p)
{
	struct evdns_getaddrinfo_request *req;
	struct tcp_state	*s;
	struct sockaddr_storage	 ss;
	struct evutil_addrinfo	 hints;
	int			 len = sizeof(ss);

	s = p->priv = xcalloc(1, sizeof(*s));
	s->fd = -1;
	if (evutil_parse_sockaddr_port(p->check->target,
	    (struct sockaddr *)&ss, &len) == 0) {
		tcp_connect(p, (struct sockaddr *)&ss, (socklen_t)len);
		return;
	}
	if (p->dns == NULL) {
		probe_done(p, PROBE_DNS_FAILURE, "no resolver for %s",
		    p->check->target);
		return;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = EVUTIL_AI_ADDRCONFIG;
	/*
	 * When the answer is at hand the callback runs before this returns,
	 * the probe is done and s is gone: only a pending request is kept.
	 */
	req = evdns_getaddrinfo(p->dns, p->check->target, NULL, &hints,
	    tcp_resolved_cb, p);
	if (req != NULL)
		s->req = req;
}

static void
tcp_cancel(struct probe *p)
{
	struct tcp_state	*s = p->priv;

	if (s == NULL)
		return;
	if (s->req != NULL) {
		evdns_getaddrinfo_cancel(s->req);
		s->req = NULL;
	}
	if (s->ev != NULL)
		event_free(s->ev);
	if (s->fd != -1)
		close(s->fd);
	free(s);
	p->priv = NULL;
}

const struct probe_ops probe_tcp_ops = {
	.name = "tcp",
	.option = tcp_option,
	.finish = tcp_finish,
	.describe = tcp_describe,
	.start = tcp_start,
	.cancel = tcp_cancel,
	.free_opts = tcp_free_opts,
};
