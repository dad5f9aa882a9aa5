/*
 * resolve.c: host names to addresses for every probe kind, kept for the
 * TTL of the answer.
 *
 * evdns_getaddrinfo() drops the TTL, so a probe of a name every few
 * seconds asked the resolver every time.  Here a name is one cache entry:
 * an A and an AAAA query through evdns_base_resolve_ipv4/ipv6() (whose
 * callbacks carry the TTL), both at once as getaddrinfo does, the
 * addresses kept until the smaller TTL of the two answers, clamped to
 * "set dns-ttl MIN MAX", runs out.  The next probe after that asks again
 * and waits for the new answer: an expired address is never used, so a
 * name that stops resolving fails its probes as a dns-failure.  A failed
 * lookup is not kept either; at worst a failing name costs one query per
 * probe, as before.
 *
 * Entries belong to this module and outlive the probes that wait on them
 * (struct resolve_wait): a probe that ends or is freed by a reload only
 * unlinks its wait, and the evdns requests, which point at the entry,
 * are never cancelled (evdns would still call back, later).  The cache
 * survives reloads; entries nobody asked for since their TTL ran out are
 * swept when new names come in, and everything goes at shutdown, after
 * which evdns_base_free(.., 0) drops the requests still in flight without
 * calling back.
 *
 * /etc/hosts is read here, at start and at each reload, rather than left
 * to evdns: evdns only consults it inside evdns_getaddrinfo(), and that
 * would send the queries whose TTL we cannot see.
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "resolve.h"
#include "util.h"

/*
 * How long the addresses of one family wait for the other's answer
 * (evdns_getaddrinfo waits up to 3 s): a resolver that drops AAAA queries
 * must not hold every probe up until the probe's timeout.
 */
#define RESOLVE_SKEW_MS		500
#define RESOLVE_SWEEP_MS	(60 * 1000LL)
#define RESOLVE_NAME_MAX	255
#define RESOLVE_FIRST_BUCKETS	64

/* A name and its addresses: an /etc/hosts entry, or a cache entry's head. */
struct resolve_key {
	LIST_ENTRY(resolve_key)	 link;
	char			*name;		/* lower case */
	uint32_t		 hash;
	union resolve_sa	*addr;
	int			 naddr;
};
LIST_HEAD(resolve_bucket, resolve_key);

struct resolve_table {
	struct resolve_bucket	*b;
	size_t			 nb;		/* a power of two, or 0 */
	size_t			 count;
};

struct resolve_entry;

/* One family's query; its evdns request's callback argument. */
struct resolve_family {
	struct resolve_entry	*e;
	struct evdns_request	*req;		/* in flight */
	int			 done;		/* answered in this round */
	int			 error;		/* EVUTIL_EAI_*, or 0 */
	long long		 ttl;		/* seconds */
	union resolve_sa	*addr;
	int			 naddr;
};

struct resolve_wait {
	TAILQ_ENTRY(resolve_wait) entry;
	struct resolve_entry	*e;
	unsigned		 round;
	resolve_cb		 cb;
	void			*arg;
};
TAILQ_HEAD(resolve_waits, resolve_wait);

struct resolve_entry {
	struct resolve_key	 k;		/* first: what the table holds */
	int64_t			 expires;	/* mono ms; k.addr is kept */
	int			 pending;	/* a round of queries */
	unsigned		 round;
	int			 delivering;	/* not to be swept */
	struct resolve_family	 fam[2];	/* A, AAAA */
	struct event		*skew;
	struct resolve_waits	 waits;
};

static struct {
	struct event_base	*base;
	struct resolve_table	 cache;
	struct resolve_table	 hosts;
	int64_t			 ttl_min_ms;
	int64_t			 ttl_max_ms;
	int64_t			 next_sweep;
	char			*servers;	/* "set resolver", as applied */
} resolve = {
	.ttl_min_ms = CONF_DEFAULT_DNS_TTL_MIN_MS,
	.ttl_max_ms = CONF_DEFAULT_DNS_TTL_MAX_MS,
};

static uint32_t
resolve_hash(const char *s)
{
	uint32_t	 h = 2166136261U;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619U;
	return h;
}

/* DNS names compare without case. */
static int
resolve_lower(const char *name, char *buf, size_t size)
{
	size_t	 i;

	for (i = 0; name[i] != '\0'; i++) {
		if (i + 1 >= size)
			return -1;
		buf[i] = (name[i] >= 'A' && name[i] <= 'Z') ?
		    (char)(name[i] - 'A' + 'a') : name[i];
	}
	buf[i] = '\0';
	return 0;
}

static struct resolve_key *
resolve_table_find(const struct resolve_table *t, const char *name,
    uint32_t h)
{
	struct resolve_key	*k;

	if (t->nb == 0)
		return NULL;
	LIST_FOREACH(k, &t->b[h & (t->nb - 1)], link)
		if (k->hash == h && strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

static void
resolve_table_insert(struct resolve_table *t, struct resolve_key *k)
{
	struct resolve_bucket	*nb;
	struct resolve_key	*m;
	size_t			 i, n;

	if (t->count >= t->nb) {
		n = t->nb == 0 ? RESOLVE_FIRST_BUCKETS : t->nb * 2;
		nb = xcalloc(n, sizeof(*nb));
		for (i = 0; i < t->nb; i++)
			while ((m = LIST_FIRST(&t->b[i])) != NULL) {
				LIST_REMOVE(m, link);
				LIST_INSERT_HEAD(&nb[m->hash & (n - 1)], m,
				    link);
			}
		free(t->b);
		t->b = nb;
		t->nb = n;
	}
	LIST_INSERT_HEAD(&t->b[k->hash & (t->nb - 1)], k, link);
	t->count++;
}

static void
resolve_table_remove(struct resolve_table *t, struct resolve_key *k)
{
	LIST_REMOVE(k, link);
	t->count--;
}

socklen_t
resolve_sa_len(const union resolve_sa *a)
{
	return a->sa.sa_family == AF_INET ? sizeof(a->sin) :
	    sizeof(a->sin6);
}

/* The TTL of an answer, in seconds, as the time to keep it. */
int64_t
resolve_ttl_ms(long long ttl, int64_t min_ms, int64_t max_ms)
{
	int64_t	 ms;

	ms = ttl < 0 || ttl > max_ms / 1000 ? max_ms : (int64_t)ttl * 1000;
	if (ms < min_ms)
		ms = min_ms;
	if (ms > max_ms)
		ms = max_ms;
	return ms;
}

static void
resolve_key_out(const struct resolve_key *k, struct resolve_addrs *out)
{
	out->n = k->naddr < RESOLVE_MAX_ADDRS ? k->naddr : RESOLVE_MAX_ADDRS;
	memcpy(out->a, k->addr, (size_t)out->n * sizeof(out->a[0]));
}

/* ------------------------------------------------------------ /etc/hosts */

static void
resolve_hosts_add(const char *name, const union resolve_sa *a)
{
	struct resolve_key	*k;
	char			 key[RESOLVE_NAME_MAX + 1];
	uint32_t		 h;

	if (resolve_lower(name, key, sizeof(key)) == -1)
		return;
	h = resolve_hash(key);
	if ((k = resolve_table_find(&resolve.hosts, key, h)) == NULL) {
		k = xcalloc(1, sizeof(*k));
		k->name = xstrdup(key);
		k->hash = h;
		resolve_table_insert(&resolve.hosts, k);
	}
	if (k->naddr >= RESOLVE_MAX_ADDRS)
		return;
	k->addr = xrealloc(k->addr, (size_t)(k->naddr + 1) *
	    sizeof(*k->addr));
	k->addr[k->naddr++] = *a;
}

static void
resolve_table_clear(struct resolve_table *t,
    void (*free_key)(struct resolve_key *))
{
	struct resolve_key	*k, *next;
	size_t			 i;

	for (i = 0; i < t->nb; i++)
		for (k = LIST_FIRST(&t->b[i]); k != NULL; k = next) {
			next = LIST_NEXT(k, link);
			free_key(k);
		}
	free(t->b);
	t->b = NULL;
	t->nb = 0;
	t->count = 0;
}

static void
resolve_key_free(struct resolve_key *k)
{
	free(k->addr);
	free(k->name);
	free(k);
}

/* One line: an address, then its names; '#' starts a comment. */
static void
resolve_hosts_line(char *line)
{
	union resolve_sa	 a;
	char			*s, *tok, *last;

	if ((s = strchr(line, '#')) != NULL)
		*s = '\0';
	if ((tok = strtok_r(line, " \t\r\n", &last)) == NULL)
		return;
	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET, tok, &a.sin.sin_addr) == 1)
		a.sin.sin_family = AF_INET;
	else if (inet_pton(AF_INET6, tok, &a.sin6.sin6_addr) == 1)
		a.sin6.sin6_family = AF_INET6;
	else
		return;
	while ((tok = strtok_r(NULL, " \t\r\n", &last)) != NULL)
		resolve_hosts_add(tok, &a);
}

/*
 * A small local file, read before the loop runs and at reloads (which
 * read the rules files the same way).  Without it, localhost alone, as
 * evdns would do.
 */
static void
resolve_hosts_load(const char *path)
{
	FILE		*f;
	char		*line = NULL;
	size_t		 size = 0;
	char		 lo4[] = "127.0.0.1 localhost", lo6[] = "::1 localhost";

	resolve_table_clear(&resolve.hosts, resolve_key_free);
	if ((f = fopen(path, "r")) == NULL) {
		log_debug("resolve: %s: cannot read it; localhost only",
		    path);
		resolve_hosts_line(lo4);
		resolve_hosts_line(lo6);
		return;
	}
	while (getline(&line, &size, f) != -1)
		resolve_hosts_line(line);
	free(line);
	fclose(f);
	log_debug("resolve: %zu names in %s", resolve.hosts.count, path);
}

/* ------------------------------------------------------------ the cache */

static void
resolve_entry_free(struct resolve_key *k)
{
	struct resolve_entry	*e = (struct resolve_entry *)k;
	struct resolve_wait	*w;
	int			 i;

	while ((w = TAILQ_FIRST(&e->waits)) != NULL) {
		TAILQ_REMOVE(&e->waits, w, entry);
		free(w);
	}
	if (e->skew != NULL)
		event_free(e->skew);
	for (i = 0; i < 2; i++)
		free(e->fam[i].addr);
	resolve_key_free(&e->k);
}

/* Entries nobody asked for since their TTL ran out, once a minute. */
static void
resolve_sweep(int64_t now)
{
	struct resolve_key	*k, *next;
	struct resolve_entry	*e;
	size_t			 i, n = 0;

	if (now < resolve.next_sweep)
		return;
	resolve.next_sweep = now + RESOLVE_SWEEP_MS;
	for (i = 0; i < resolve.cache.nb; i++)
		for (k = LIST_FIRST(&resolve.cache.b[i]); k != NULL;
		    k = next) {
			next = LIST_NEXT(k, link);
			e = (struct resolve_entry *)k;
			if (e->pending || e->delivering ||
			    !TAILQ_EMPTY(&e->waits) || e->fam[0].req != NULL ||
			    e->fam[1].req != NULL || now < e->expires)
				continue;
			resolve_table_remove(&resolve.cache, k);
			resolve_entry_free(k);
			n++;
		}
	if (n > 0)
		log_debug("resolve: %zu expired names forgotten, %zu kept", n,
		    resolve.cache.count);
}

/* Both families failed: the error getaddrinfo would have given. */
static int
resolve_error(const struct resolve_entry *e)
{
	int	 a = e->fam[0].error, b = e->fam[1].error;

	if (a == EVUTIL_EAI_NONAME || b == EVUTIL_EAI_NONAME)
		return EVUTIL_EAI_NONAME;
	if (a == 0 || a == EVUTIL_EAI_NODATA)
		return b != 0 ? b : EVUTIL_EAI_NODATA;
	return a;
}

/*
 * The round ends: keep the addresses (A first) or forget the name, and
 * tell the probes that waited.  Only the waits of this round are told: a
 * callback may start the next round, whose waits queue behind.
 */
static void
resolve_complete(struct resolve_entry *e)
{
	struct resolve_addrs	 out;
	struct resolve_family	*f;
	struct resolve_wait	*w;
	resolve_cb		 cb;
	void			*arg;
	long long		 ttl = -1;
	int64_t			 keep;
	int			 i, j, error = 0;

	if (e->skew != NULL)
		evtimer_del(e->skew);
	e->pending = 0;
	out.n = 0;
	for (i = 0; i < 2; i++) {
		f = &e->fam[i];
		for (j = 0; j < f->naddr && out.n < RESOLVE_MAX_ADDRS; j++)
			out.a[out.n++] = f->addr[j];
		if (f->naddr > 0 && (ttl < 0 || f->ttl < ttl))
			ttl = f->ttl;
		free(f->addr);
		f->addr = NULL;
		f->naddr = 0;
	}
	free(e->k.addr);
	e->k.addr = NULL;
	e->k.naddr = 0;
	e->expires = 0;
	if (out.n > 0) {
		e->k.addr = xcalloc((size_t)out.n, sizeof(*e->k.addr));
		memcpy(e->k.addr, out.a, (size_t)out.n * sizeof(out.a[0]));
		e->k.naddr = out.n;
		keep = resolve_ttl_ms(ttl, resolve.ttl_min_ms,
		    resolve.ttl_max_ms);
		e->expires = mono_ms() + keep;
		log_debug("resolve: %s: %d address%s, TTL %llds, kept %lldms",
		    e->k.name, out.n, out.n == 1 ? "" : "es", ttl,
		    (long long)keep);
	} else {
		error = resolve_error(e);
		log_debug("resolve: %s: %s", e->k.name,
		    evutil_gai_strerror(error));
	}
	e->delivering = 1;
	/*
	 * The analyzer loses track of TAILQ_REMOVE's pointer-to-pointer
	 * unlinking and thinks the freed wait is still first.
	 */
	/* NOLINTBEGIN(clang-analyzer-unix.Malloc) */
	while ((w = TAILQ_FIRST(&e->waits)) != NULL &&
	    w->round == e->round) {
		TAILQ_REMOVE(&e->waits, w, entry);
		cb = w->cb;
		arg = w->arg;
		free(w);
		cb(error, error == 0 ? &out : NULL, arg);
	}
	/* NOLINTEND(clang-analyzer-unix.Malloc) */
	e->delivering = 0;
}

static void
resolve_skew_cb(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	resolve_complete(arg);
}

static void
resolve_answer_cb(int result, char type, int count, int ttl,
    void *addresses, void *arg)
{
	struct resolve_family	*f = arg, *other;
	struct resolve_entry	*e = f->e;
	struct timeval		 tv;
	int			 i, n;

	f->req = NULL;
	/* Late, after the other family's skew ran out: that round is over. */
	if (!e->pending || f->done)
		return;
	f->done = 1;
	if (result == DNS_ERR_NOTEXIST)
		f->error = EVUTIL_EAI_NONAME;
	else if (result != DNS_ERR_NONE)
		f->error = EVUTIL_EAI_FAIL;
	else if (count <= 0 || addresses == NULL ||
	    (type != DNS_IPv4_A && type != DNS_IPv6_AAAA))
		f->error = EVUTIL_EAI_NODATA;
	else {
		n = count < RESOLVE_MAX_ADDRS ? count : RESOLVE_MAX_ADDRS;
		f->addr = xcalloc((size_t)n, sizeof(*f->addr));
		for (i = 0; i < n; i++)
			if (type == DNS_IPv4_A) {
				f->addr[i].sin.sin_family = AF_INET;
				memcpy(&f->addr[i].sin.sin_addr,
				    (const char *)addresses + (size_t)i * 4, 4);
			} else {
				f->addr[i].sin6.sin6_family = AF_INET6;
				memcpy(&f->addr[i].sin6.sin6_addr,
				    (const char *)addresses + (size_t)i * 16,
				    16);
			}
		f->naddr = n;
		f->ttl = ttl < 0 ? -1 : ttl;
		f->error = 0;
	}
	other = &e->fam[f == &e->fam[0] ? 1 : 0];
	if (other->done)
		resolve_complete(e);
	else if (f->naddr > 0) {
		if (e->skew == NULL && (e->skew = evtimer_new(resolve.base,
		    resolve_skew_cb, e)) == NULL)
			fatalx("resolve: evtimer_new failed");
		tv.tv_sec = RESOLVE_SKEW_MS / 1000;
		tv.tv_usec = (suseconds_t)(RESOLVE_SKEW_MS % 1000) * 1000;
		evtimer_add(e->skew, &tv);
	}
}

/* Ask for both families; -1 when neither request could be made. */
static int
resolve_start(struct evdns_base *dns, struct resolve_entry *e)
{
	struct resolve_family	*f;
	int			 i;

	e->pending = 1;
	e->round++;
	for (i = 0; i < 2; i++) {
		f = &e->fam[i];
		f->done = 0;
		f->error = 0;
		/* Still asked from the last round: its answer serves this. */
		if (f->req != NULL)
			continue;
		if (i == 0)
			f->req = evdns_base_resolve_ipv4(dns, e->k.name, 0,
			    resolve_answer_cb, f);
		else
			f->req = evdns_base_resolve_ipv6(dns, e->k.name, 0,
			    resolve_answer_cb, f);
		if (f->req == NULL) {
			f->done = 1;
			f->error = EVUTIL_EAI_FAIL;
		}
	}
	if (e->fam[0].done && e->fam[1].done) {
		e->pending = 0;
		return -1;
	}
	return 0;
}

/*
 * Hand NAME's addresses to CB: at once (and NULL returned) from
 * /etc/hosts, from a cache entry within its TTL, or with an error; else
 * after the lookup under way for it, or a new one.  The wait returned
 * may be given to resolve_cancel() until CB runs.
 */
struct resolve_wait *
resolve_name(struct evdns_base *dns, const char *name, resolve_cb cb,
    void *arg)
{
	struct resolve_addrs	 out;
	struct resolve_key	*k;
	struct resolve_entry	*e;
	struct resolve_wait	*w;
	char			 key[RESOLVE_NAME_MAX + 1];
	uint32_t		 h;
	int64_t			 now;

	if (resolve_lower(name, key, sizeof(key)) == -1) {
		cb(EVUTIL_EAI_NONAME, NULL, arg);
		return NULL;
	}
	h = resolve_hash(key);
	if ((k = resolve_table_find(&resolve.hosts, key, h)) != NULL) {
		resolve_key_out(k, &out);
		cb(0, &out, arg);
		return NULL;
	}
	now = mono_ms();
	e = (struct resolve_entry *)resolve_table_find(&resolve.cache, key, h);
	if (e != NULL && e->k.naddr > 0 && now < e->expires) {
		resolve_key_out(&e->k, &out);
		cb(0, &out, arg);
		return NULL;
	}
	if (dns == NULL) {
		cb(RESOLVE_NO_RESOLVER, NULL, arg);
		return NULL;
	}
	if (e == NULL) {
		resolve_sweep(now);
		e = xcalloc(1, sizeof(*e));
		e->k.name = xstrdup(key);
		e->k.hash = h;
		e->fam[0].e = e->fam[1].e = e;
		TAILQ_INIT(&e->waits);
		resolve_table_insert(&resolve.cache, &e->k);
	}
	if (!e->pending && resolve_start(dns, e) == -1) {
		cb(EVUTIL_EAI_FAIL, NULL, arg);
		return NULL;
	}
	w = xcalloc(1, sizeof(*w));
	w->e = e;
	w->round = e->round;
	w->cb = cb;
	w->arg = arg;
	TAILQ_INSERT_TAIL(&e->waits, w, entry);
	return w;
}

/* The prober no longer waits; the lookup goes on for the others. */
void
resolve_cancel(struct resolve_wait *w)
{
	TAILQ_REMOVE(&w->e->waits, w, entry);
	free(w);
}

/* ------------------------------------------------------ set-up, teardown */

static char *
resolve_servers_text(const struct conf *conf)
{
	char	*s = xstrdup(""), *t;
	int	 i;

	for (i = 0; i < conf->nresolvers; i++) {
		xasprintf(&t, "%s%s%s", s, i > 0 ? " " : "",
		    conf->resolvers[i]);
		free(s);
		s = t;
	}
	return s;
}

/*
 * The daemon's evdns base: the nameservers of /etc/resolv.conf, or those
 * of "set resolver"; its search domains and options either way.  Its
 * hosts file is ours (see above).
 */
struct evdns_base *
resolve_base_new(struct event_base *base, const struct conf *conf)
{
	struct evdns_base	*dns;
	struct sockaddr_storage	 ss;
	int			 i, len, flags;

	if ((dns = evdns_base_new(base, 0)) == NULL)
		return NULL;
	flags = DNS_OPTION_SEARCH | DNS_OPTION_MISC;
	if (conf->nresolvers == 0)
		flags |= DNS_OPTION_NAMESERVERS;
	(void)evdns_base_resolv_conf_parse(dns, flags, "/etc/resolv.conf");
	for (i = 0; i < conf->nresolvers; i++) {
		memset(&ss, 0, sizeof(ss));
		len = (int)sizeof(ss);
		/* conf.c checked the form. */
		if (evutil_parse_sockaddr_port(conf->resolvers[i],
		    (struct sockaddr *)&ss, &len) == -1)
			continue;
		if (ss.ss_family == AF_INET &&
		    ((struct sockaddr_in *)&ss)->sin_port == 0)
			((struct sockaddr_in *)&ss)->sin_port = htons(53);
		if (ss.ss_family == AF_INET6 &&
		    ((struct sockaddr_in6 *)&ss)->sin6_port == 0)
			((struct sockaddr_in6 *)&ss)->sin6_port = htons(53);
		if (evdns_base_nameserver_sockaddr_add(dns,
		    (struct sockaddr *)&ss, (ev_socklen_t)len, 0) != 0)
			log_warnx("resolver %s: cannot use it",
			    conf->resolvers[i]);
	}
	free(resolve.servers);
	resolve.servers = resolve_servers_text(conf);
	if (conf->nresolvers > 0)
		log_info("resolving names through %s", resolve.servers);
	return dns;
}

void
resolve_init(struct event_base *base)
{
	resolve.base = base;
}

/*
 * At start and at each reload: the TTL bounds and /etc/hosts.  The cache
 * stays: an entry's addresses were good for their TTL, whatever the rules
 * say now.  The nameservers are the evdns base's, made at start.
 */
void
resolve_configure(const struct conf *conf)
{
	char	*servers;

	resolve.ttl_min_ms = conf->dns_ttl_min_ms;
	resolve.ttl_max_ms = conf->dns_ttl_max_ms;
	resolve_hosts_load(RESOLVE_HOSTS_FILE);
	if (resolve.servers == NULL)
		return;
	servers = resolve_servers_text(conf);
	if (strcmp(servers, resolve.servers) != 0)
		log_warnx("set resolver changed: takes effect at restart; "
		    "still resolving through %s", resolve.servers[0] != '\0' ?
		    resolve.servers : "/etc/resolv.conf");
	free(servers);
}

void
resolve_shutdown(void)
{
	resolve_table_clear(&resolve.cache, resolve_entry_free);
	resolve_table_clear(&resolve.hosts, resolve_key_free);
	free(resolve.servers);
	resolve.servers = NULL;
	resolve.base = NULL;
}
