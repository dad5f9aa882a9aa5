/*
 * check_tcp.c: a TCP service check.
 *
 *	check tcp HOST port N [send "TEXT"] [expect "TEXT"]
 *	    [connect-timeout D] [every D] [timeout D]
 *
 * A non-blocking connect; without send or expect, the service is up when
 * the handshake completes.  With send, TEXT is written once connected
 * ("QUIT\r\n"); with expect, the service is up when TEXT appears in the
 * first CHECK_TCP_READ_MAX bytes it sends (a banner: "220", "SSH-2.0-").
 * A server that closes, or sends that much, without it is a content
 * mismatch quoting what it said.
 *
 * Two clocks: connect-timeout bounds the handshake alone, the check's
 * timeout (probe.c's) the whole probe, reading included; a timeout says
 * which step it caught.  HOST is an address, or a name resolved through
 * evdns and kept for its TTL (resolve.c; never getaddrinfo in the loop).
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <event2/event.h>
#include <event2/util.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_tcp.h"
#include "conf.h"
#include "log.h"
#include "probe.h"
#include "util.h"

struct tcp_opts {
	char	*send;			/* NULL: nothing to send */
	char	*expect;		/* NULL: the handshake is enough */
	int64_t	 connect_timeout_ms;	/* 0: the check's timeout */
	uint16_t port;
};

enum tcp_step {
	TCP_CONNECTING,
	TCP_SENDING,
	TCP_READING
};

struct tcp_state {
	struct event		*ev;
	struct check_tcp_reply	*reply;		/* with expect, once connected */
	size_t			 sent;
	evutil_socket_t		 fd;
	enum tcp_step		 step;
	short			 waiting;	/* what ev waits for, after connect */
};

/*
 * Add N bytes just read into r->buf + r->len: 1 when EXPECT is now among
 * the bytes kept.  Only the new bytes and the EXPECT_LEN - 1 before them
 * are searched again.
 */
int
check_tcp_reply_add(struct check_tcp_reply *r, size_t n, const char *expect,
    size_t expect_len)
{
	size_t	 from;

	if (n > sizeof(r->buf) - r->len)
		n = sizeof(r->buf) - r->len;
	from = r->len + 1 > expect_len ? r->len + 1 - expect_len : 0;
	r->len += n;
	if (expect_len == 0)
		return 1;
	if (r->len - from < expect_len)
		return 0;
	return memmem(r->buf + from, r->len - from, expect, expect_len) !=
	    NULL;
}

/*
 * The reply's first line, fit to quote in a result: cut at the first CR or
 * LF and at LEN - 1 bytes (then ending in "..."), every byte that is not
 * printable ASCII as '?' and a double quote as a single one.
 */
void
check_tcp_excerpt(const struct check_tcp_reply *r, char *out, size_t len)
{
	size_t	 i;
	char	 c;

	if (len == 0)
		return;
	for (i = 0; i < r->len && i + 1 < len; i++) {
		c = r->buf[i];
		if (c == '\r' || c == '\n')
			break;
		if (c == '"')
			c = '\'';
		else if (c < ' ' || c > '~')
			c = '?';
		out[i] = c;
	}
	out[i] = '\0';
	/* A line cut short says so: `status` shows it as the reader's. */
	if (i < r->len && r->buf[i] != '\r' && r->buf[i] != '\n' && i >= 3)
		memcpy(out + i - 3, "...", 3);
}

static int
tcp_text_once(struct conf_parser *p, const char *what, char **out)
{
	char	*s;

	if (conf_next_string(p, what, &s) == -1)
		return -1;
	if (*out != NULL) {
		conf_error(p, "tcp check: \"%s\" given twice", what);
		free(s);
		return -1;
	}
	*out = s;
	if (*s == '\0') {
		conf_error(p, "%s: empty text", what);
		return -1;
	}
	return 0;
}

static int
tcp_option(struct conf_parser *p, struct check_conf *cc, const char *word)
{
	struct tcp_opts	*o = cc->opts;
	long long	 port;

	if (o == NULL)
		o = cc->opts = xcalloc(1, sizeof(*o));
	if (strcmp(word, "port") == 0) {
		if (conf_next_number(p, "port", 1, 65535, &port) == -1)
			return -1;
		o->port = (uint16_t)port;	/* 1-65535, checked */
	} else if (strcmp(word, "send") == 0) {
		if (tcp_text_once(p, "send", &o->send) == -1)
			return -1;
	} else if (strcmp(word, "expect") == 0) {
		if (tcp_text_once(p, "expect", &o->expect) == -1)
			return -1;
		if (strlen(o->expect) > CHECK_TCP_READ_MAX) {
			conf_error(p, "expect: %zu bytes of text, more than "
			    "the %d read", strlen(o->expect),
			    CHECK_TCP_READ_MAX);
			return -1;
		}
	} else if (strcmp(word, "connect-timeout") == 0) {
		if (conf_next_duration(p, "connect-timeout", 10, 3600000,
		    &o->connect_timeout_ms) == -1)
			return -1;
	} else
		return 0;
	return 1;
}

static int
tcp_finish(struct conf_parser *p, struct check_conf *cc)
{
	struct tcp_opts	*o = cc->opts;
	char		 a[32], b[32];

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
	/* An unset timeout may still shrink to fit the interval. */
	if (cc->set_timeout && o->connect_timeout_ms >= cc->timeout_ms) {
		conf_error(p, "tcp check of %s: connect-timeout %s must be "
		    "below the check's timeout %s", cc->target,
		    duration_fmt(o->connect_timeout_ms, a, sizeof(a)),
		    duration_fmt(cc->timeout_ms, b, sizeof(b)));
		return -1;
	}
	return 0;
}

static void
tcp_describe(const struct check_conf *cc, char *buf, size_t len)
{
	const struct tcp_opts	*o = cc->opts;

	if (o->expect != NULL)
		snprintf(buf, len, "tcp %s port %d expect \"%.40s\"",
		    cc->target, o->port, o->expect);
	else
		snprintf(buf, len, "tcp %s port %d", cc->target, o->port);
}

static void
tcp_free_opts(struct check_conf *cc)
{
	struct tcp_opts	*o = cc->opts;

	if (o != NULL) {
		free(o->send);
		free(o->expect);
	}
	free(o);
	cc->opts = NULL;
}

static enum probe_result
tcp_errno_result(int error)
{
	switch (error) {
	case ECONNREFUSED:
	case ECONNRESET:
	case EPIPE:
		return PROBE_REFUSED;
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EHOSTDOWN:
	case ENETDOWN:
		return PROBE_UNREACHABLE;
	case ETIMEDOUT:
		return PROBE_TIMEOUT;
	default:
		return probe_errno_local(error) ? PROBE_LOCAL_ERROR :
		    PROBE_ERROR;
	}
}

static void	tcp_io_cb(evutil_socket_t, short, void *);

/* Wait for the socket to be ready for EVENTS, with no clock but probe.c's. */
static void
tcp_wait(struct probe *p, short events)
{
	struct tcp_state	*s = p->priv;

	if (s->waiting == events)
		return;
	s->waiting = events;
	if (s->ev != NULL)
		event_free(s->ev);
	if ((s->ev = event_new(p->base, s->fd, events | EV_PERSIST,
	    tcp_io_cb, p)) == NULL)
		fatalx("tcp: event_new failed");
	event_add(s->ev, NULL);
}

static void
tcp_read(struct probe *p)
{
	struct tcp_state	*s = p->priv;
	const struct tcp_opts	*o = p->check->opts;
	struct check_tcp_reply	*r = s->reply;
	char			 said[CHECK_TCP_EXCERPT_MAX];
	ssize_t			 n;

	n = recv(s->fd, r->buf + r->len, sizeof(r->buf) - r->len, 0);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		probe_done(p, tcp_errno_result(errno), "reading, after %zu "
		    "bytes: %s", r->len, strerror(errno));
		return;
	}
	if (check_tcp_reply_add(r, (size_t)n, o->expect,
	    strlen(o->expect))) {
		check_tcp_excerpt(r, said, sizeof(said));
		probe_done(p, PROBE_OK, "connected: \"%s\"", said);
		return;
	}
	check_tcp_excerpt(r, said, sizeof(said));
	if (n == 0 && r->len == 0)
		probe_done(p, PROBE_CONTENT_MISMATCH, "expected \"%.60s\", "
		    "the server closed the connection without a word",
		    o->expect);
	else if (n == 0)
		probe_done(p, PROBE_CONTENT_MISMATCH, "expected \"%.60s\", "
		    "the server said \"%s\" and closed the connection",
		    o->expect, said);
	else if (r->len == sizeof(r->buf))
		probe_done(p, PROBE_CONTENT_MISMATCH, "expected \"%.60s\" "
		    "in the first %zu bytes, the server said \"%s\"",
		    o->expect, r->len, said);
}

/* Connected: send, then read, or done. */
static void
tcp_converse(struct probe *p)
{
	struct tcp_state	*s = p->priv;
	const struct tcp_opts	*o = p->check->opts;
	size_t			 len;
	ssize_t			 n;

	if (o->send != NULL && s->step != TCP_READING) {
		len = strlen(o->send);
		while (s->sent < len) {
			n = send(s->fd, o->send + s->sent, len - s->sent,
			    MSG_NOSIGNAL);
			if (n == -1 && (errno == EAGAIN ||
			    errno == EWOULDBLOCK)) {
				tcp_wait(p, EV_WRITE);
				return;
			}
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1) {
				probe_done(p, tcp_errno_result(errno),
				    "sending: %s", strerror(errno));
				return;
			}
			s->sent += (size_t)n;
		}
	}
	if (o->expect == NULL) {
		if (o->send != NULL)
			probe_done(p, PROBE_OK, "connected, sent %zu bytes",
			    s->sent);
		else
			probe_done(p, PROBE_OK, "connected");
		return;
	}
	if (s->step != TCP_READING) {
		s->step = TCP_READING;
		s->reply = xmalloc(sizeof(*s->reply));
		s->reply->len = 0;
		tcp_wait(p, EV_READ);
	}
	tcp_read(p);
}

static void
tcp_io_cb(evutil_socket_t fd, short events, void *arg)
{
	struct probe		*p = arg;
	struct tcp_state	*s = p->priv;
	const struct tcp_opts	*o = p->check->opts;
	socklen_t		 len = sizeof(int);
	int			 error = 0;
	char			 d[32];

	if (s->step != TCP_CONNECTING) {
		tcp_converse(p);
		return;
	}
	if (events & EV_TIMEOUT) {
		probe_done(p, PROBE_TIMEOUT, "no answer to the handshake "
		    "within %s", duration_fmt(o->connect_timeout_ms, d,
		    sizeof(d)));
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) == -1)
		error = errno;
	if (error != 0) {
		probe_done(p, tcp_errno_result(error), "%s",
		    strerror(error));
		return;
	}
	s->step = TCP_SENDING;
	tcp_converse(p);
}

/* The first address found for the host. */
static void
tcp_connect(struct probe *p, const struct addrinfo *ai)
{
	struct tcp_state	*s = p->priv;
	const struct tcp_opts	*o = p->check->opts;
	struct sockaddr_storage	 ss;
	socklen_t		 len = (socklen_t)ai->ai_addrlen;
	struct timeval		 tv;

	memcpy(&ss, ai->ai_addr, len);
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons(o->port);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(o->port);

	s->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (s->fd == -1) {
		probe_done(p, tcp_errno_result(errno), "socket: %s",
		    strerror(errno));
		return;
	}
	if (connect(s->fd, (struct sockaddr *)&ss, len) == 0) {
		s->step = TCP_SENDING;
		tcp_converse(p);
		return;
	}
	if (errno != EINPROGRESS) {
		probe_done(p, tcp_errno_result(errno), "%s", strerror(errno));
		return;
	}
	if ((s->ev = event_new(p->base, s->fd, EV_WRITE, tcp_io_cb, p)) ==
	    NULL)
		fatalx("tcp: event_new failed");
	tv.tv_sec = o->connect_timeout_ms / 1000;
	tv.tv_usec = (o->connect_timeout_ms % 1000) * 1000;
	event_add(s->ev, o->connect_timeout_ms > 0 &&
	    o->connect_timeout_ms < p->check->timeout_ms ? &tv : NULL);
}

static void
tcp_start(struct probe *p)
{
	struct tcp_state	*s;

	s = p->priv = xcalloc(1, sizeof(*s));
	s->fd = -1;
	s->step = TCP_CONNECTING;
	probe_resolve(p, p->check->target, SOCK_STREAM, tcp_connect);
}

/* The check's timeout, with the step it caught. */
static void
tcp_expire(struct probe *p, const char *within)
{
	struct tcp_state	*s = p->priv;
	const struct tcp_opts	*o = p->check->opts;
	char			 said[CHECK_TCP_EXCERPT_MAX];

	switch (s->step) {
	case TCP_CONNECTING:
		probe_done(p, PROBE_TIMEOUT, "no answer to the handshake "
		    "within %s", within);
		break;
	case TCP_SENDING:
		probe_done(p, PROBE_TIMEOUT, "connected, but the server took "
		    "only %zu of %zu bytes within %s", s->sent,
		    o->send != NULL ? strlen(o->send) : 0, within);
		break;
	case TCP_READING:
		check_tcp_excerpt(s->reply, said, sizeof(said));
		if (s->reply->len == 0)
			probe_done(p, PROBE_TIMEOUT, "connected, but no "
			    "\"%.60s\" within %s: the server said nothing",
			    o->expect, within);
		else
			probe_done(p, PROBE_TIMEOUT, "connected, but no "
			    "\"%.60s\" within %s: the server said \"%s\"",
			    o->expect, within, said);
		break;
	}
}

/*
 * The timeout came: an answer the loop had no turn for yet (it was held)
 * is taken now, as its event would take it.
 */
static void
tcp_ready(struct probe *p)
{
	struct tcp_state	*s = p->priv;
	struct pollfd		 pfd;

	if (s == NULL || s->fd == -1 || s->ev == NULL)
		return;
	pfd.fd = s->fd;
	pfd.events = s->step == TCP_CONNECTING || s->waiting == EV_WRITE ?
	    POLLOUT : POLLIN;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) <= 0 || pfd.revents == 0)
		return;
	tcp_io_cb(s->fd, pfd.events == POLLOUT ? EV_WRITE : EV_READ, p);
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
	free(s->reply);
	free(s);
	p->priv = NULL;
}

const struct probe_ops probe_tcp_ops = {
	.name = "tcp",
	.option = tcp_option,
	.finish = tcp_finish,
	.describe = tcp_describe,
	.start = tcp_start,
	.expire = tcp_expire,
	.ready = tcp_ready,
	.cancel = tcp_cancel,
	.free_opts = tcp_free_opts,
};
