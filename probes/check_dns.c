/*
 * check_dns.c: a DNS check.
 *
 *	check dns NAME [server ADDRESS[:PORT]]
 *	    [type A|AAAA|MX|TXT|NS|CNAME|SOA|PTR] [expect VALUE]
 *	    [every D] [timeout D]
 *
 * One query for NAME (type A by default) to SERVER, or to the first
 * nameserver of /etc/resolv.conf (read once at start-up); the service is
 * up when the server answers with at least one record of that type and,
 * with "expect", one of them is VALUE.  A PTR check of an address asks
 * for its in-addr.arpa or ip6.arpa name.
 *
 * We own the whole query path (a UDP socket and dns_wire.c's parser) for
 * every type rather than evdns for A/AAAA and our own code for the rest:
 * evdns only asks for A, AAAA and PTR, only through the daemon's shared
 * resolver (not the server named in the check), retries and hides the
 * RCODE behind its own error codes.  A check of a DNS server wants to
 * see exactly what that server answered: NXDOMAIN, SERVFAIL and REFUSED
 * apart, the TC bit, a port unreachable.  One path also means one parser
 * to test and fuzz.
 *
 * The socket is connected to the server, so the kernel drops datagrams
 * from anyone else and reports ICMP port unreachable as ECONNREFUSED;
 * replies with another ID or question are ignored.  There is one query
 * and no retransmission: a lost datagram fails this probe, and "down
 * after N failures" is what absorbs that.  The timeout is probe.c's.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <event2/event.h>
#include <event2/util.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "dns_wire.h"
#include "log.h"
#include "probe.h"
#include "util.h"

#define DNS_RESOLV_CONF		"/etc/resolv.conf"
#define DNS_RESOLV_CONF_MAX	65536
#define DNS_SERVER_TEXT		(INET6_ADDRSTRLEN + 8)

struct dns_server {
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	char			 text[DNS_SERVER_TEXT];	/* for details */
};

struct dns_opts {
	int			 type;
	char			*qname;		/* what is asked */
	char			*expect;
	int			 has_server;
	struct dns_server	 server;
};

struct dns_state {
	struct event		*ev;
	evutil_socket_t		 fd;
	uint16_t		 id;
	const struct dns_server	*server;
};

/* The first nameserver of resolv.conf, for checks without "server". */
static struct dns_server	dns_default;
static int			dns_have_default;

/*
 * The loop runs one callback at a time, so one receive buffer (as large
 * as a datagram can be) and one parsed reply serve every probe.
 */
static uint8_t			dns_rbuf[65536];
static struct dns_reply		dns_reply;

/* "127.0.0.53", "127.0.0.1:5353", "[::1]:5353". */
static void
dns_server_fmt(struct dns_server *s)
{
	const struct sockaddr_in	*sin = (struct sockaddr_in *)&s->ss;
	const struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&s->ss;
	char				 a[INET6_ADDRSTRLEN];
	unsigned			 port;

	if (s->ss.ss_family == AF_INET) {
		inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a));
		port = ntohs(sin->sin_port);
		if (port == 53)
			snprintf(s->text, sizeof(s->text), "%s", a);
		else
			snprintf(s->text, sizeof(s->text), "%s:%u", a, port);
	} else {
		inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof(a));
		port = ntohs(sin6->sin6_port);
		if (port == 53)
			snprintf(s->text, sizeof(s->text), "%s", a);
		else
			snprintf(s->text, sizeof(s->text), "[%s]:%u", a,
			    port);
	}
}

/* Reading a small file before the loop runs does not block it. */
static int
dns_init(struct event_base *base, struct evdns_base *dns)
{
	FILE	*f;
	char	*text;
	size_t	 n;

	(void)base;
	(void)dns;
	dns_have_default = 0;
	if ((f = fopen(DNS_RESOLV_CONF, "r")) == NULL) {
		log_debug("dns: %s: cannot read it; dns checks need "
		    "\"server\"", DNS_RESOLV_CONF);
		return 0;
	}
	text = xmalloc(DNS_RESOLV_CONF_MAX + 1);
	n = fread(text, 1, DNS_RESOLV_CONF_MAX, f);
	text[n] = '\0';
	fclose(f);
	if (dns_resolv_conf_nameserver(text, &dns_default.ss,
	    &dns_default.len) == 0) {
		dns_have_default = 1;
		dns_server_fmt(&dns_default);
		log_debug("dns: default nameserver %s", dns_default.text);
	} else
		log_debug("dns: no nameserver in %s; dns checks need "
		    "\"server\"", DNS_RESOLV_CONF);
	free(text);
	return 0;
}

static int
dns_option(struct conf_parser *p, struct check_conf *cc, const char *word)
{
	struct dns_opts	*o = cc->opts;
	char		*v;
	int		 len;

	if (o == NULL)
		o = cc->opts = xcalloc(1, sizeof(*o));
	if (strcmp(word, "type") == 0) {
		if (conf_next_string(p, "record type", &v) == -1)
			return -1;
		if (o->type != 0)
			conf_error(p, "dns check: type set twice");
		o->type = dns_type_from_name(v);
		if (o->type == -1)
			conf_error(p, "dns check: unknown record type \"%s\" "
			    "(A, AAAA, MX, TXT, NS, CNAME, SOA or PTR)", v);
		free(v);
		return o->type == -1 ? -1 : 1;
	}
	if (strcmp(word, "server") == 0) {
		if (conf_next_string(p, "server address", &v) == -1)
			return -1;
		if (o->has_server)
			conf_error(p, "dns check: server set twice");
		memset(&o->server, 0, sizeof(o->server));
		len = (int)sizeof(o->server.ss);
		/* An address: the resolver's own name cannot be looked up. */
		if (evutil_parse_sockaddr_port(v,
		    (struct sockaddr *)&o->server.ss, &len) == -1) {
			conf_error(p, "dns check: server \"%s\" is not an "
			    "address or address:port", v);
			free(v);
			return -1;
		}
		free(v);
		o->server.len = (socklen_t)len;
		if (o->server.ss.ss_family == AF_INET &&
		    ((struct sockaddr_in *)&o->server.ss)->sin_port == 0)
			((struct sockaddr_in *)&o->server.ss)->sin_port =
			    htons(53);
		if (o->server.ss.ss_family == AF_INET6 &&
		    ((struct sockaddr_in6 *)&o->server.ss)->sin6_port == 0)
			((struct sockaddr_in6 *)&o->server.ss)->sin6_port =
			    htons(53);
		dns_server_fmt(&o->server);
		o->has_server = 1;
		return 1;
	}
	if (strcmp(word, "expect") == 0) {
		if (conf_next_string(p, "expected value", &v) == -1)
			return -1;
		if (o->expect != NULL)
			conf_error(p, "dns check: expect set twice");
		free(o->expect);
		o->expect = v;
		return 1;
	}
	return 0;
}

static int
dns_finish(struct conf_parser *p, struct check_conf *cc)
{
	struct dns_opts	*o = cc->opts;
	struct in6_addr	 a6;
	char		 rev[DNS_MAX_NAME_TEXT];

	if (o == NULL)
		o = cc->opts = xcalloc(1, sizeof(*o));
	if (o->type == 0)
		o->type = DNS_T_A;
	if (o->type == DNS_T_PTR &&
	    dns_reverse_name(cc->target, rev, sizeof(rev)) == 0)
		o->qname = xstrdup(rev);
	else if (dns_name_valid(cc->target))
		o->qname = xstrdup(cc->target);
	else {
		conf_error(p, "dns check: \"%s\" is not a domain name%s",
		    cc->target, o->type == DNS_T_PTR ? " or address" : "");
		return -1;
	}
	if (o->expect != NULL && (o->type == DNS_T_A ||
	    o->type == DNS_T_AAAA) && inet_pton(o->type == DNS_T_A ?
	    AF_INET : AF_INET6, o->expect, &a6) != 1) {
		conf_error(p, "dns check of %s: expect \"%s\" is not an %s "
		    "address", cc->target, o->expect,
		    o->type == DNS_T_A ? "IPv4" : "IPv6");
		return -1;
	}
	return 0;
}

static void
dns_describe(const struct check_conf *cc, char *buf, size_t len)
{
	const struct dns_opts	*o = cc->opts;

	snprintf(buf, len, "dns %s %s%s%s", cc->target,
	    dns_type_name(o->type), o->has_server ? " server " : "",
	    o->has_server ? o->server.text : "");
}

static void
dns_free_opts(struct check_conf *cc)
{
	struct dns_opts	*o = cc->opts;

	if (o != NULL) {
		free(o->qname);
		free(o->expect);
		free(o);
	}
	cc->opts = NULL;
}

static enum probe_result
dns_errno_result(int error)
{
	switch (error) {
	case ECONNREFUSED:
		return PROBE_REFUSED;
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EHOSTDOWN:
	case ENETDOWN:
		return PROBE_UNREACHABLE;
	default:
		return probe_errno_local(error) ? PROBE_LOCAL_ERROR :
		    PROBE_ERROR;
	}
}

static void
dns_fail_errno(struct probe *p, const char *what, int error)
{
	struct dns_state	*s = p->priv;

	if (error == ECONNREFUSED)
		probe_done(p, PROBE_REFUSED, "no DNS server at %s (port "
		    "unreachable)", s->server->text);
	else
		probe_done(p, dns_errno_result(error), "%s %s: %s", what,
		    s->server->text, strerror(error));
}

/* "127.0.0.1, 127.0.0.2", TXT values quoted, at most LEN. */
static void
dns_answers_fmt(const struct dns_reply *r, int type, char *buf, size_t len)
{
	size_t	 n = 0;
	int	 i, w;

	buf[0] = '\0';
	for (i = 0; i < r->nanswers && n + 1 < len; i++) {
		w = snprintf(buf + n, len - n, type == DNS_T_TXT ?
		    "%s\"%s\"" : "%s%s", i > 0 ? ", " : "", r->answers[i]);
		if (w < 0)
			break;
		n += (size_t)w;
	}
	if (r->nmore > 0 && n + 1 < len)
		snprintf(buf + n, len - n, " and %d more", r->nmore);
}

/* What our reply says about the service. */
static void
dns_judge(struct probe *p, const struct dns_reply *r)
{
	const struct dns_opts	*o = p->check->opts;
	struct dns_state	*s = p->priv;
	const char		*type = dns_type_name(o->type);
	const char		*rcode;
	char			 list[512];
	int			 i;

	if (r->tc) {
		probe_done(p, PROBE_DNS_FAILURE, "truncated reply (TC) from "
		    "%s: %s %s does not fit in UDP", s->server->text, type,
		    o->qname);
		return;
	}
	if (r->rcode == DNS_RCODE_NXDOMAIN) {
		probe_done(p, PROBE_DNS_FAILURE, "NXDOMAIN for %s", o->qname);
		return;
	}
	if (r->rcode != DNS_RCODE_NOERROR) {
		if ((rcode = dns_rcode_name(r->rcode)) != NULL)
			probe_done(p, PROBE_DNS_FAILURE, "%s from %s for %s",
			    rcode, s->server->text, o->qname);
		else
			probe_done(p, PROBE_DNS_FAILURE, "RCODE %d from %s "
			    "for %s", r->rcode, s->server->text, o->qname);
		return;
	}
	if (r->nanswers == 0) {
		probe_done(p, PROBE_DNS_FAILURE, "no %s record for %s (empty "
		    "answer from %s)", type, o->qname, s->server->text);
		return;
	}
	dns_answers_fmt(r, o->type, list, sizeof(list));
	if (o->expect != NULL) {
		for (i = 0; i < r->nanswers; i++)
			if (dns_value_equal(o->type, r->answers[i], o->expect))
				break;
		if (i == r->nanswers) {
			probe_done(p, PROBE_CONTENT_MISMATCH, "%s is %s, "
			    "expected %s", type, list, o->expect);
			return;
		}
	}
	p->rtt_ms = mono_ms() - p->started_mono;
	probe_done(p, PROBE_OK, "%s %s in %lld ms", type, list,
	    (long long)p->rtt_ms);
}

static void
dns_read_cb(evutil_socket_t fd, short events, void *arg)
{
	struct probe		*p = arg;
	struct dns_state	*s = p->priv;
	const struct dns_opts	*o = p->check->opts;
	enum dns_parse		 rc;
	char			 err[256];
	ssize_t			 n;

	(void)events;
	for (;;) {
		n = recv(fd, dns_rbuf, sizeof(dns_rbuf), 0);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				dns_fail_errno(p, "reading from", errno);
			return;
		}
		rc = dns_parse_reply(dns_rbuf, (size_t)n, s->id, o->qname,
		    o->type, &dns_reply, err, sizeof(err));
		switch (rc) {
		case DNS_PARSE_NOT_OURS:
			log_debug("dns %s: ignored a reply to another query "
			    "from %s", o->qname, s->server->text);
			continue;
		case DNS_PARSE_MALFORMED:
			probe_done(p, PROBE_ERROR, "malformed reply: %s", err);
			return;
		case DNS_PARSE_OK:
			dns_judge(p, &dns_reply);
			return;
		}
	}
}

static void
dns_start(struct probe *p)
{
	const struct dns_opts	*o = p->check->opts;
	struct dns_state	*s;
	uint8_t			 q[DNS_MAX_QUERY];
	int			 len;

	s = p->priv = xcalloc(1, sizeof(*s));
	s->fd = -1;
	if (o->has_server)
		s->server = &o->server;
	else if (dns_have_default)
		s->server = &dns_default;
	else {
		probe_done(p, PROBE_ERROR, "no nameserver: none in %s and no "
		    "\"server\" in the check", DNS_RESOLV_CONF);
		return;
	}
	/* A random ID (and the kernel's random port) against spoofing. */
	evutil_secure_rng_get_bytes(&s->id, sizeof(s->id));
	if ((len = dns_build_query(q, sizeof(q), s->id, o->qname,
	    o->type)) == -1) {
		probe_done(p, PROBE_ERROR, "cannot build a query for %s",
		    o->qname);
		return;
	}
	s->fd = socket(s->server->ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (s->fd == -1) {
		probe_done(p, dns_errno_result(errno), "socket: %s",
		    strerror(errno));
		return;
	}
	if (connect(s->fd, (const struct sockaddr *)&s->server->ss,
	    s->server->len) == -1) {
		dns_fail_errno(p, "connect to", errno);
		return;
	}
	if (send(s->fd, q, (size_t)len, 0) == -1) {
		dns_fail_errno(p, "send to", errno);
		return;
	}
	if ((s->ev = event_new(p->base, s->fd, EV_READ | EV_PERSIST,
	    dns_read_cb, p)) == NULL)
		fatalx("dns: event_new failed");
	event_add(s->ev, NULL);
}

static void
dns_cancel(struct probe *p)
{
	struct dns_state	*s = p->priv;

	if (s == NULL)
		return;
	if (s->ev != NULL)
		event_free(s->ev);
	if (s->fd != -1)
		close(s->fd);
	free(s);
	p->priv = NULL;
}

const struct probe_ops probe_dns_ops = {
	.name = "dns",
	.init = dns_init,
	.option = dns_option,
	.finish = dns_finish,
	.describe = dns_describe,
	.start = dns_start,
	.cancel = dns_cancel,
	.free_opts = dns_free_opts,
};
