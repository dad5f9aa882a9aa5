/*
 * resolve.h: the probes' host names, resolved through evdns and kept for
 * their TTL.
 *
 * A name is looked up once (A and AAAA together) and its addresses are
 * kept until the answer's TTL, clamped to "set dns-ttl MIN MAX", runs
 * out; probes of a name whose lookup is under way wait for that one.
 * Names in /etc/hosts are answered from the file, without the network.
 * A failed lookup is not kept: the next probe asks again.  Entries belong
 * to this module, never to a probe, so an answer arriving after the probe
 * that asked was cancelled finds only the entry.
 */
#ifndef RTOWATCH_RESOLVE_H
#define RTOWATCH_RESOLVE_H

#include <netinet/in.h>
#include <sys/socket.h>

#include <stdint.h>

struct conf;
struct event_base;
struct evdns_base;

#define RESOLVE_MAX_ADDRS	16	/* kept per name */
#define RESOLVE_HOSTS_FILE	"/etc/hosts"
/* An error of its own for resolve_cb: there is no evdns base at all. */
#define RESOLVE_NO_RESOLVER	1

union resolve_sa {
	struct sockaddr		 sa;
	struct sockaddr_in	 sin;
	struct sockaddr_in6	 sin6;
};

struct resolve_addrs {
	int			 n;
	union resolve_sa	 a[RESOLVE_MAX_ADDRS];	/* IPv4 first */
};

/*
 * How a lookup ended: ERROR 0 and the addresses (valid during the call),
 * or an EVUTIL_EAI_* code for evutil_gai_strerror(), or
 * RESOLVE_NO_RESOLVER.
 */
typedef void (*resolve_cb)(int, const struct resolve_addrs *, void *);

struct resolve_wait;

struct evdns_base	*resolve_base_new(struct event_base *,
			    const struct conf *);
void			 resolve_init(struct event_base *);
void			 resolve_configure(const struct conf *);
struct resolve_wait	*resolve_name(struct evdns_base *, const char *,
			    resolve_cb, void *);
void			 resolve_cancel(struct resolve_wait *);
void			 resolve_shutdown(void);
int64_t			 resolve_ttl_ms(long long, int64_t, int64_t);
socklen_t		 resolve_sa_len(const union resolve_sa *);

#endif
