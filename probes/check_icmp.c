/*
 * check_icmp.c: the ping check.
 *
 *	check ping HOST [count N] [loss P%] [rtt above D] [every D]
 *	    [timeout D]
 *
 * Each probe sends N echo requests (default 1) to HOST (an IPv4 or IPv6
 * address, or a name looked up through evdns), spread over the first half
 * of the timeout and one second apart at most, and judges the replies
 * just before the timeout:
 *  - no reply at all: unreachable when an ICMP error (destination
 *    unreachable, time exceeded) quoting one of our requests came back or
 *    sendto() said so (no route), timeout otherwise;
 *  - "loss P%": more than P% of the requests lost is a failure (timeout);
 *    without it, any reply is enough, as for ping(8)'s exit status;
 *  - "rtt above D": an average round trip above D is a failure
 *    (bad-status: the host answers, too slowly);
 *  - otherwise ok, with the count and rtt min/avg/max in the detail.
 * So "count 3 loss 34%" fails when two of three are lost, "count 1" (the
 * default) when the one request gets no reply; "down after N failures"
 * then decides how many failed probes make an outage.
 *
 * All probes share one socket per address family, opened by init() before
 * the daemon drops its privileges: a raw ICMP socket when allowed, else an
 * unprivileged datagram ICMP socket (Linux, for groups in
 * net.ipv4.ping_group_range), whose identifier the kernel chooses.  The
 * sequence number (icmp_seqmap.c) and the source address match a reply to
 * its probe; with a raw socket the identifier too.  Round-trip times come
 * from the kernel's receive timestamp (SO_TIMESTAMPNS) against the
 * CLOCK_REALTIME taken just before sendto().
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <linux/errqueue.h>
#include <linux/icmp.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>

#include <event2/event.h>
#include <event2/util.h>

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "icmp_seqmap.h"
#include "icmp_wire.h"
#include "log.h"
#include "probe.h"
#include "util.h"

#define ICMP_MAX_COUNT		100
#define ICMP_MAX_SPACING_MS	1000
#define ICMP_RECV_BURST		64	/* datagrams read per wake-up */
#define ICMP_BUFLEN		4096

enum echo_state {
	ECHO_UNSENT = 0,
	ECHO_AWAITED,
	ECHO_REPLIED,
	ECHO_FAILED,		/* an ICMP error or a send error */
	ECHO_LOST		/* could not be sent, dropped locally */
};

struct icmp_opts {
	int		 count;
	int		 loss_pct;	/* -1: fail only when all are lost */
	int64_t		 rtt_above_ms;	/* 0: no limit */
};

struct icmp_sock {
	int		 family;
	evutil_socket_t	 fd;
	int		 raw;		/* else datagram: kernel's identifier */
	struct event	*ev;
	char		 why[160];	/* why there is no socket */
};

struct icmp_state {
	TAILQ_ENTRY(icmp_state)		 entry;
	struct probe			*p;
	uint32_t			 id;
	struct event			*send_ev;
	struct event			*judge_ev;
	struct icmp_sock		*sock;
	struct sockaddr_storage		 dst;
	socklen_t			 dstlen;
	char				 addr[INET6_ADDRSTRLEN];
	int				 count;
	int				 sent;
	int				 settled;	/* replied, failed, lost */
	int				 replies;
	int				 failures;
	int64_t				 spacing_ms;
	int64_t				 rtt_min_ns, rtt_max_ns, rtt_sum_ns;
	char				 error[160];	/* the last failure */
	uint16_t			 seq[ICMP_MAX_COUNT];
	uint8_t				 state[ICMP_MAX_COUNT];
};
TAILQ_HEAD(icmp_state_list, icmp_state);

/* The kind's shared state on the loop. */
static struct {
	struct event_base	*base;
	struct icmp_sock	 s4, s6;
	struct icmp_seqmap	*map;
	uint16_t		 ident;		/* raw sockets' identifier */
	uint32_t		 next_id;
	int			 map_full_logged;
	struct icmp_state_list	 probes;
} icmp = {
	.s4 = { .family = AF_INET, .fd = -1 },
	.s6 = { .family = AF_INET6, .fd = -1 },
	.probes = TAILQ_HEAD_INITIALIZER(icmp.probes),
};

static void	icmp_judge(struct icmp_state *);

/* ------------------------------------------------------------- options */

static struct icmp_opts *
icmp_opts_get(struct check_conf *cc)
{
	struct icmp_opts	*o = cc->opts;

	if (o == NULL) {
		o = cc->opts = xcalloc(1, sizeof(*o));
		o->count = 1;
		o->loss_pct = -1;
	}
	return o;
}

/* "34%" or "34", 0 to 100. */
static int
icmp_parse_pct(const char *s, int *out)
{
	char	*end;
	long	 v;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno == ERANGE || v > 100 ||
	    (*end != '\0' && strcmp(end, "%") != 0))
		return -1;
	*out = (int)v;
	return 0;
}

static int
icmp_option(struct conf_parser *p, struct check_conf *cc, const char *word)
{
	struct icmp_opts	*o = icmp_opts_get(cc);
	long long		 n;
	char			*s;
	int			 rc = 1;

	if (strcmp(word, "count") == 0) {
		if (conf_next_number(p, "count", 1, ICMP_MAX_COUNT, &n) == -1)
			return -1;
		o->count = (int)n;
	} else if (strcmp(word, "loss") == 0) {
		if (conf_next_string(p, "loss percentage", &s) == -1)
			return -1;
		if (icmp_parse_pct(s, &o->loss_pct) == -1) {
			conf_error(p, "loss: \"%s\" is not a percentage "
			    "(0%% to 100%%)", s);
			rc = -1;
		}
		free(s);
	} else if (strcmp(word, "rtt") == 0) {
		if (conf_next_string(p, "\"above\" after \"rtt\"", &s) == -1)
			return -1;
		if (strcmp(s, "above") != 0) {
			conf_error(p, "expected \"rtt above DURATION\", found "
			    "\"rtt %s\"", s);
			free(s);
			return -1;
		}
		free(s);
		if (conf_next_duration(p, "rtt above", 1, 3600000,
		    &o->rtt_above_ms) == -1)
			return -1;
	} else
		rc = 0;
	return rc;
}

static int
icmp_finish(struct conf_parser *p, struct check_conf *cc)
{
	icmp_opts_get(cc);
	if (!probe_host_valid(cc->target)) {
		conf_error(p, "ping check: \"%s\" is not a host name or "
		    "address", cc->target);
		return -1;
	}
	return 0;
}

static void
icmp_describe(const struct check_conf *cc, char *buf, size_t len)
{
	const struct icmp_opts	*o = cc->opts;

	if (o != NULL && o->count > 1)
		snprintf(buf, len, "ping %s count %d", cc->target, o->count);
	else
		snprintf(buf, len, "ping %s", cc->target);
}

static void
icmp_free_opts(struct check_conf *cc)
{
	free(cc->opts);
	cc->opts = NULL;
}

/* ------------------------------------------------------------- sockets */

static void	icmp_read_cb(evutil_socket_t, short, void *);

/*
 * Raw first; an unprivileged datagram socket when raw is refused.  Either
 * way with kernel receive timestamps, and for datagram sockets the ICMP
 * errors on the error queue (there is no other way to see them).
 */
static void
icmp_sock_open(struct icmp_sock *s)
{
	const char	*fam = s->family == AF_INET ? "IPv4" : "IPv6";
	int		 proto, raw_errno, on = 1;

	proto = s->family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	s->fd = socket(s->family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    proto);
	if (s->fd != -1)
		s->raw = 1;
	else {
		raw_errno = errno;
		s->fd = socket(s->family, SOCK_DGRAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, proto);
		if (s->fd == -1) {
			if (errno == EAFNOSUPPORT)
				snprintf(s->why, sizeof(s->why), "no %s on "
				    "this host", fam);
			else
				snprintf(s->why, sizeof(s->why), "no %s ICMP "
				    "socket: raw: %s; datagram: %s (see "
				    "net.ipv4.ping_group_range)", fam,
				    strerror(raw_errno), strerror(errno));
			log_warnx("ping: %s: ping checks of %s targets will "
			    "fail", s->why, fam);
			return;
		}
		log_info("ping: no raw %s socket (%s): using a datagram ICMP "
		    "socket", fam, strerror(raw_errno));
	}
	if (setsockopt(s->fd, SOL_SOCKET, SO_TIMESTAMPNS, &on,
	    sizeof(on)) == -1)
		log_warn("ping: SO_TIMESTAMPNS");
	if (s->raw && s->family == AF_INET) {
		struct icmp_filter	 f;

		/* Wake up for echo replies and errors only. */
		f.data = ~(1U << ICMP_ECHOREPLY | 1U << ICMP_DEST_UNREACH |
		    1U << ICMP_TIME_EXCEEDED);
		if (setsockopt(s->fd, SOL_RAW, ICMP_FILTER, &f,
		    sizeof(f)) == -1)
			log_warn("ping: ICMP_FILTER");
	} else if (s->raw) {
		struct icmp6_filter	 f;

		ICMP6_FILTER_SETBLOCKALL(&f);
		ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
		ICMP6_FILTER_SETPASS(ICMP6_DST_UNREACH, &f);
		ICMP6_FILTER_SETPASS(ICMP6_TIME_EXCEEDED, &f);
		if (setsockopt(s->fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f,
		    sizeof(f)) == -1)
			log_warn("ping: ICMP6_FILTER");
	} else if (s->family == AF_INET) {
		if (setsockopt(s->fd, IPPROTO_IP, IP_RECVERR, &on,
		    sizeof(on)) == -1)
			log_warn("ping: IP_RECVERR");
	} else if (setsockopt(s->fd, IPPROTO_IPV6, IPV6_RECVERR, &on,
	    sizeof(on)) == -1)
		log_warn("ping: IPV6_RECVERR");
	if ((s->ev = event_new(icmp.base, s->fd, EV_READ | EV_PERSIST,
	    icmp_read_cb, s)) == NULL)
		fatalx("ping: event_new failed");
	event_add(s->ev, NULL);
}

static void
icmp_sock_close(struct icmp_sock *s)
{
	if (s->ev != NULL)
		event_free(s->ev);
	s->ev = NULL;
	if (s->fd != -1)
		close(s->fd);
	s->fd = -1;
	s->raw = 0;
	s->why[0] = '\0';
}

/* Never fails: without a socket, ping probes say why and others run. */
static int
icmp_init(struct event_base *base, struct evdns_base *dns)
{
	(void)dns;
	icmp.base = base;
	icmp.map = icmp_seqmap_new();
	icmp.ident = (uint16_t)getpid();
	icmp.next_id = 1;
	icmp_sock_open(&icmp.s4);
	icmp_sock_open(&icmp.s6);
	return 0;
}

static void
icmp_shutdown(void)
{
	icmp_sock_close(&icmp.s6);
	icmp_sock_close(&icmp.s4);
	icmp_seqmap_free(icmp.map);
	icmp.map = NULL;
	icmp.base = NULL;
}

/* ------------------------------------------------------- probe results */

static struct icmp_state *
icmp_find(uint32_t id)
{
	struct icmp_state	*s;

	TAILQ_FOREACH(s, &icmp.probes, entry)
		if (s->id == id)
			return s;
	return NULL;
}

static int64_t
icmp_now_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Is ADDR (4 or 16 bytes of FAMILY) the probe's destination? */
static int
icmp_is_dst(const struct icmp_state *s, int family, const void *addr)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	if (s->dst.ss_family != family)
		return 0;
	if (family == AF_INET) {
		sin = (const struct sockaddr_in *)&s->dst;
		return memcmp(&sin->sin_addr, addr, 4) == 0;
	}
	sin6 = (const struct sockaddr_in6 *)&s->dst;
	return memcmp(&sin6->sin6_addr, addr, 16) == 0;
}

static void
icmp_sockaddr_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const void	*a;

	if (ss->ss_family == AF_INET)
		a = &((const struct sockaddr_in *)ss)->sin_addr;
	else if (ss->ss_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
	else {
		snprintf(buf, len, "?");
		return;
	}
	if (inet_ntop(ss->ss_family, a, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
}

/*
 * Attempt A is over.  When it was the last one awaited the probe is judged
 * and ends: -1 then, and s is gone.
 */
static int
icmp_settle(struct icmp_state *s, int a, enum echo_state st)
{
	if (s->state[a] == ECHO_AWAITED)
		icmp_seqmap_clear(icmp.map, s->seq[a]);
	s->state[a] = (uint8_t)st;
	s->settled++;
	if (st == ECHO_REPLIED)
		s->replies++;
	else if (st == ECHO_FAILED)
		s->failures++;
	if (s->settled < s->count)
		return 0;
	icmp_judge(s);
	return -1;
}

static void
icmp_reply(struct icmp_state *s, const struct icmp_seqmap_entry *e,
    int64_t recv_ns)
{
	int64_t	 rtt;

	rtt = recv_ns - e->sent_ns;
	if (rtt < 0)
		rtt = 0;
	if (s->replies == 0 || rtt < s->rtt_min_ns)
		s->rtt_min_ns = rtt;
	if (s->replies == 0 || rtt > s->rtt_max_ns)
		s->rtt_max_ns = rtt;
	s->rtt_sum_ns += rtt;
	(void)icmp_settle(s, e->attempt, ECHO_REPLIED);
}

static void
icmp_error(struct icmp_state *s, const struct icmp_seqmap_entry *e,
    int family, uint8_t type, uint8_t code,
    const struct sockaddr_storage *from)
{
	char	 who[INET6_ADDRSTRLEN];

	if (from != NULL && from->ss_family != AF_UNSPEC) {
		icmp_sockaddr_str(from, who, sizeof(who));
		snprintf(s->error, sizeof(s->error), "%s (ICMP from %s)",
		    icmp_wire_error_str(family, type, code), who);
	} else
		snprintf(s->error, sizeof(s->error), "%s",
		    icmp_wire_error_str(family, type, code));
	(void)icmp_settle(s, e->attempt, ECHO_FAILED);
}

static void
icmp_judge_cb(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	icmp_judge(arg);
}

/* The probe's result from what came back; ends the probe. */
static void
icmp_judge(struct icmp_state *s)
{
	const struct icmp_opts	*o = s->p->check->opts;
	struct probe		*p = s->p;
	char			 ok[128];
	int			 lost, pct;
	double			 avg;

	lost = s->count - s->replies;
	if (s->replies == 0) {
		if (s->failures > 0)
			probe_done(p, PROBE_UNREACHABLE, "%s (0/%d)",
			    s->error, s->count);
		else
			probe_done(p, PROBE_TIMEOUT, "no reply (0/%d)",
			    s->count);
		return;
	}
	pct = (lost * 200 + s->count) / (2 * s->count);
	if (o->loss_pct >= 0 && lost * 100 > o->loss_pct * s->count) {
		probe_done(p, PROBE_TIMEOUT, "%d/%d lost (%d%% > %d%%)%s%s",
		    lost, s->count, pct, o->loss_pct,
		    s->failures > 0 ? ", last: " : "", s->failures > 0 ?
		    s->error : "");
		return;
	}
	avg = (double)s->rtt_sum_ns / s->replies / 1e6;
	p->rtt_ms = (int64_t)(avg + 0.5);
	if (o->rtt_above_ms > 0 && avg > (double)o->rtt_above_ms) {
		probe_done(p, PROBE_BAD_STATUS, "rtt %.1f ms above %lld ms "
		    "(%d/%d %s)", avg, (long long)o->rtt_above_ms,
		    s->replies, s->count, s->replies == 1 ? "reply" :
		    "replies");
		return;
	}
	/* The scheduler logs only the time of a success: say more here. */
	snprintf(ok, sizeof(ok), "%d/%d %s, rtt min/avg/max %.2f/%.2f/%.2f "
	    "ms", s->replies, s->count, s->replies == 1 ? "reply" : "replies",
	    (double)s->rtt_min_ns / 1e6, avg, (double)s->rtt_max_ns / 1e6);
	log_debug("ping %s: %s", s->addr, ok);
	probe_done(p, PROBE_OK, "%s", ok);
}

/* ------------------------------------------------------------ receiving */

/* A reply or error of FAMILY for the request awaited under SEQ, or NULL. */
static struct icmp_state *
icmp_match(int family, uint16_t seq, const struct icmp_seqmap_entry **ep)
{
	const struct icmp_seqmap_entry	*e;
	struct icmp_state		*s;

	if ((e = icmp_seqmap_find(icmp.map, seq)) == NULL ||
	    (s = icmp_find(e->probe_id)) == NULL ||
	    s->dst.ss_family != family || e->attempt >= s->count ||
	    s->state[e->attempt] != ECHO_AWAITED ||
	    s->seq[e->attempt] != seq)
		return NULL;
	*ep = e;
	return s;
}

static void
icmp_handle(struct icmp_sock *sk, const uint8_t *buf, size_t len,
    const struct sockaddr_storage *from, int64_t recv_ns)
{
	const struct icmp_seqmap_entry	*e;
	struct icmp_wire_msg		 m;
	struct icmp_state		*s;
	const void			*src;

	if (icmp_wire_parse(sk->family, sk->raw && sk->family == AF_INET,
	    buf, len, &m) == -1)
		return;
	/* A datagram socket only sees its own, under the kernel's id. */
	if (sk->raw && m.id != icmp.ident)
		return;
	if ((s = icmp_match(sk->family, m.seq, &e)) == NULL)
		return;
	if (m.kind == ICMP_WIRE_ERROR) {
		if (icmp_is_dst(s, sk->family, m.dst))
			icmp_error(s, e, sk->family, m.type, m.code, from);
		return;
	}
	if (from->ss_family != sk->family)
		return;
	src = sk->family == AF_INET ?
	    (const void *)&((const struct sockaddr_in *)from)->sin_addr :
	    (const void *)&((const struct sockaddr_in6 *)from)->sin6_addr;
	if (!icmp_is_dst(s, sk->family, src))
		return;
	if (m.has_payload && (m.probe_id != e->probe_id ||
	    m.attempt != e->attempt))
		return;
	icmp_reply(s, e, recv_ns);
}

/*
 * An ICMP error queued on a datagram socket: the kernel hands back our
 * own echo request (with its identifier) and says what came of it.
 */
static void
icmp_handle_errqueue(struct icmp_sock *sk, const uint8_t *buf, size_t len,
    const struct sockaddr_storage *dst, struct msghdr *msg)
{
	const struct icmp_seqmap_entry	*e;
	struct sock_extended_err	*ee = NULL;
	struct sockaddr_storage		 from;
	struct icmp_state		*s;
	struct cmsghdr			*c;
	const void			*a;
	uint16_t			 seq;

	for (c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c))
		if ((c->cmsg_level == IPPROTO_IP &&
		    c->cmsg_type == IP_RECVERR) ||
		    (c->cmsg_level == IPPROTO_IPV6 &&
		    c->cmsg_type == IPV6_RECVERR))
			ee = (struct sock_extended_err *)CMSG_DATA(c);
	if (ee == NULL || len < ICMP_WIRE_HDRLEN || dst->ss_family !=
	    sk->family)
		return;
	seq = (uint16_t)(buf[6] << 8 | buf[7]);
	if ((s = icmp_match(sk->family, seq, &e)) == NULL)
		return;
	a = sk->family == AF_INET ?
	    (const void *)&((const struct sockaddr_in *)dst)->sin_addr :
	    (const void *)&((const struct sockaddr_in6 *)dst)->sin6_addr;
	if (!icmp_is_dst(s, sk->family, a))
		return;
	if (ee->ee_origin == SO_EE_ORIGIN_ICMP ||
	    ee->ee_origin == SO_EE_ORIGIN_ICMP6) {
		memset(&from, 0, sizeof(from));
		memcpy(&from, SO_EE_OFFENDER(ee), sk->family == AF_INET ?
		    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
		icmp_error(s, e, sk->family, ee->ee_type, ee->ee_code, &from);
	} else {
		snprintf(s->error, sizeof(s->error), "%s",
		    strerror((int)ee->ee_errno));
		(void)icmp_settle(s, e->attempt, ECHO_FAILED);
	}
}

static int64_t
icmp_recv_time(struct msghdr *msg)
{
	struct cmsghdr	*c;
	struct timespec	 ts;
	struct timeval	 tv;

	for (c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c))
		if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SCM_TIMESTAMPNS &&
		    c->cmsg_len >= CMSG_LEN(sizeof(ts))) {
			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
		}
	/* No kernel stamp: when the loop woke up. */
	if (event_base_gettimeofday_cached(icmp.base, &tv) == 0)
		return (int64_t)tv.tv_sec * 1000000000 +
		    (int64_t)tv.tv_usec * 1000;
	return icmp_now_ns();
}

/* Read one datagram (FLAGS: 0 or MSG_ERRQUEUE); 0 when there was none. */
static int
icmp_recv_one(struct icmp_sock *sk, int flags)
{
	uint8_t			 buf[ICMP_BUFLEN];
	union {
		struct cmsghdr	 hdr;
		uint8_t		 space[512];
	} cbuf;
	struct sockaddr_storage	 from;
	struct iovec		 iov;
	struct msghdr		 msg;
	ssize_t			 n;

	memset(&from, 0, sizeof(from));
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = buf;
	iov.iov_len = sizeof(buf);
	msg.msg_name = &from;
	msg.msg_namelen = sizeof(from);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf.space;
	msg.msg_controllen = sizeof(cbuf.space);
	if ((n = recvmsg(sk->fd, &msg, flags)) == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		/* A pending socket error, reported once: read on. */
		return errno == EINTR || flags == 0 ? 1 : 0;
	}
	if (flags & MSG_ERRQUEUE)
		icmp_handle_errqueue(sk, buf, (size_t)n, &from, &msg);
	else
		icmp_handle(sk, buf, (size_t)n, &from, icmp_recv_time(&msg));
	return 1;
}

static void
icmp_read_cb(evutil_socket_t fd, short events, void *arg)
{
	struct icmp_sock	*sk = arg;
	int			 i;

	(void)fd;
	(void)events;
	if (!sk->raw)
		for (i = 0; i < ICMP_RECV_BURST; i++)
			if (!icmp_recv_one(sk, MSG_ERRQUEUE))
				break;
	for (i = 0; i < ICMP_RECV_BURST; i++)
		if (!icmp_recv_one(sk, 0))
			break;
}

/* -------------------------------------------------------------- sending */

static enum probe_result
icmp_errno_result(int error)
{
	switch (error) {
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EHOSTDOWN:
	case ENETDOWN:
	case EADDRNOTAVAIL:
		return PROBE_UNREACHABLE;
	default:
		return probe_errno_local(error) ? PROBE_LOCAL_ERROR :
		    PROBE_ERROR;
	}
}

/* Send the next echo request; 0 when the probe goes on, -1 when done. */
static int
icmp_send(struct icmp_state *s)
{
	uint8_t		 pkt[ICMP_WIRE_ECHOLEN];
	int		 a = s->sent++;
	uint16_t	 seq;
	size_t		 len;

	if (icmp_seqmap_add(icmp.map, s->id, (uint16_t)a, icmp_now_ns(),
	    &seq) == -1) {
		if (!icmp.map_full_logged) {
			icmp.map_full_logged = 1;
			log_warnx("ping: 65536 echo requests awaited at once; "
			    "counting more as lost");
		}
		return icmp_settle(s, a, ECHO_LOST);
	}
	s->seq[a] = seq;
	s->state[a] = ECHO_AWAITED;
	len = icmp_wire_echo(s->dst.ss_family, icmp.ident, seq, s->id,
	    (uint16_t)a, pkt, sizeof(pkt));
	if (sendto(s->sock->fd, pkt, len, 0, (struct sockaddr *)&s->dst,
	    s->dstlen) != -1)
		return 0;
	if (errno == EAGAIN || errno == ENOBUFS) {
		/*
		 * This host's queue is full: the echo never left, which says
		 * nothing of the target (counted as lost, it would make one).
		 */
		probe_done(s->p, PROBE_LOCAL_ERROR, "sendto %s: %s", s->addr,
		    strerror(errno));
		return -1;
	}
	if (icmp_errno_result(errno) == PROBE_ERROR ||
	    icmp_errno_result(errno) == PROBE_LOCAL_ERROR) {
		probe_done(s->p, icmp_errno_result(errno), "sendto %s: %s",
		    s->addr, strerror(errno));
		return -1;
	}
	snprintf(s->error, sizeof(s->error), "sendto %s: %s", s->addr,
	    strerror(errno));
	return icmp_settle(s, a, ECHO_FAILED);
}

static void
icmp_arm(struct event *ev, int64_t ms)
{
	struct timeval	 tv;

	if (ms < 0)
		ms = 0;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(ev, &tv);
}

static void
icmp_send_cb(evutil_socket_t fd, short events, void *arg)
{
	struct icmp_state	*s = arg;

	(void)fd;
	(void)events;
	if (icmp_send(s) == -1)
		return;
	if (s->sent < s->count)
		icmp_arm(s->send_ev, s->spacing_ms);
}

/*
 * The destination is known: plan the requests and send the first.  The
 * judgement comes a little before probe.c's timeout, so that a probe with
 * some replies is judged on them and not cut off as a plain timeout.
 */
static void
icmp_begin(struct icmp_state *s, const struct sockaddr *sa, socklen_t len)
{
	struct probe	*p = s->p;
	int64_t		 timeout = p->check->timeout_ms, margin, left;

	memcpy(&s->dst, sa, len);
	s->dstlen = len;
	if (sa->sa_family == AF_INET) {
		((struct sockaddr_in *)&s->dst)->sin_port = 0;
		s->sock = &icmp.s4;
	} else {
		((struct sockaddr_in6 *)&s->dst)->sin6_port = 0;
		s->sock = &icmp.s6;
	}
	icmp_sockaddr_str(&s->dst, s->addr, sizeof(s->addr));
	if (s->sock->fd == -1) {
		probe_done(p, PROBE_ERROR, "cannot ping %s: %s", s->addr,
		    s->sock->why[0] != '\0' ? s->sock->why :
		    "no ICMP socket");
		return;
	}
	margin = timeout / 10 < 20 ? timeout / 10 : 20;
	left = p->started_mono + timeout - margin - mono_ms();
	s->spacing_ms = s->count > 1 ? left / (2 * (int64_t)s->count) : 0;
	if (s->spacing_ms > ICMP_MAX_SPACING_MS)
		s->spacing_ms = ICMP_MAX_SPACING_MS;
	if ((s->judge_ev = evtimer_new(p->base, icmp_judge_cb, s)) == NULL ||
	    (s->send_ev = evtimer_new(p->base, icmp_send_cb, s)) == NULL)
		fatalx("ping: evtimer_new failed");
	icmp_arm(s->judge_ev, left);
	icmp_send_cb(-1, 0, s);
}

static int
icmp_can_ping(const struct addrinfo *a)
{
	return (a->ai_family == AF_INET && icmp.s4.fd != -1) ||
	    (a->ai_family == AF_INET6 && icmp.s6.fd != -1);
}

/* The first address of a family we can ping, else the first. */
static void
icmp_resolved(struct probe *p, const struct addrinfo *ai)
{
	const struct addrinfo	*pick;
	struct sockaddr_storage	 ss;
	socklen_t		 len;

	for (pick = ai; !icmp_can_ping(pick); pick = pick->ai_next)
		if (pick->ai_next == NULL) {
			pick = ai;
			break;
		}
	len = (socklen_t)pick->ai_addrlen;
	if (len > sizeof(ss))
		len = sizeof(ss);
	memcpy(&ss, pick->ai_addr, len);
	icmp_begin(p->priv, (struct sockaddr *)&ss, len);
}

static void
icmp_start(struct probe *p)
{
	const struct icmp_opts	*o = p->check->opts;
	struct icmp_state	*s;

	s = p->priv = xcalloc(1, sizeof(*s));
	s->p = p;
	s->count = o->count;
	if ((s->id = icmp.next_id++) == 0)
		s->id = icmp.next_id++;
	TAILQ_INSERT_TAIL(&icmp.probes, s, entry);
	if (icmp.map == NULL) {
		probe_done(p, PROBE_ERROR, "ping probes were not set up");
		return;
	}
	probe_resolve(p, p->check->target, SOCK_DGRAM, icmp_resolved);
}

/* Forget the requests still awaited: their late replies find nothing. */
static void
icmp_cancel(struct probe *p)
{
	struct icmp_state	*s = p->priv;
	int			 a;

	if (s == NULL)
		return;
	for (a = 0; a < s->sent && a < s->count; a++)
		if (s->state[a] == ECHO_AWAITED)
			icmp_seqmap_clear(icmp.map, s->seq[a]);
	if (s->send_ev != NULL)
		event_free(s->send_ev);
	if (s->judge_ev != NULL)
		event_free(s->judge_ev);
	TAILQ_REMOVE(&icmp.probes, s, entry);
	free(s);
	p->priv = NULL;
}

const struct probe_ops probe_icmp_ops = {
	.name = "ping",
	.init = icmp_init,
	.shutdown = icmp_shutdown,
	.option = icmp_option,
	.finish = icmp_finish,
	.describe = icmp_describe,
	.start = icmp_start,
	.cancel = icmp_cancel,
	.free_opts = icmp_free_opts,
};
