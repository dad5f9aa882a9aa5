/*
 * check_tcp.c: a TCP connect check.
 *
 *	check tcp HOST port N [every D] [timeout D]
 *
 * A non-blocking connect; the service is up when the handshake completes.
 * HOST is an address, or a name resolved through evdns and kept for its
 * TTL (resolve.c; never getaddrinfo in the loop).  The timeout is
 * probe.c's.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <event2/event.h>
#include <event2/util.h>

#include <errno.h>
#include <netdb.h>
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
	struct event	*ev;
	evutil_socket_t	 fd;
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

static int
tcp_finish(struct conf_parser *p, struct check_conf *cc)
{
	struct tcp_opts	*o = cc->opts;

	if (!probe_host_valid(cc->target)) {
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

/* The first address found for the host. */
static void
tcp_connect(struct probe *p, const struct addrinfo *ai)
{
	struct tcp_state	*s = p->priv;
	const struct tcp_opts	*o = p->check->opts;
	struct sockaddr_storage	 ss;
	socklen_t		 len = (socklen_t)ai->ai_addrlen;

	memcpy(&ss, ai->ai_addr, len);
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons(o->port);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(o->port);

	s->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (s->fd == -1) {
		probe_done(p, PROBE_ERROR, "socket: %s", strerror(errno));
		return;
	}
	if (connect(s->fd, (struct sockaddr *)&ss, len) == 0) {
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
tcp_start(struct probe *p)
{
	struct tcp_state	*s;

	s = p->priv = xcalloc(1, sizeof(*s));
	s->fd = -1;
	probe_resolve(p, p->check->target, SOCK_STREAM, tcp_connect);
}

static void
tcp_cancel(struct probe *p)
{
	struct tcp_state	*s = p->priv;

	if (s == NULL)
		return;
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
