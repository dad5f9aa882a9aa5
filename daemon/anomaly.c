/*
 * anomaly.c: counters over fixed windows, episodes, early warnings.
 *
 * Fixed windows, not sliding ones: a window's counters are a handful of
 * integers reset at its end, so a packet costs a few increments and no
 * per-packet expiry; "above 5000/s for 10s" is then "ten windows of 1s in
 * a row", which is what an operator reads in the rule.  The price is that
 * a burst split across two windows counts half in each; a window of 1s
 * against holds of several seconds makes that a rounding, not a miss.
 *
 * Three kinds of episode, each opening one warning and recording its end:
 *  - flood: the rate counters (SYN, unanswered SYN, packets, bytes, ICMP,
 *    UDP from amplification ports); open while any of them has been above
 *    its threshold for its hold, ended after END of every one below;
 *  - scan: a source that reached N distinct ports or hosts within its
 *    period; ended after END without a new one;
 *  - arp: a watched address answered from another MAC than the one first
 *    seen; ended when the first MAC answers again.
 * A dropped-packets episode of the live capture is a fourth.
 *
 * The detector writes nothing.  What it decides (a warning opens, ends,
 * gains an indicator, aims at a system that is down) is appended to a
 * bounded queue of events, named by the detector's own episode ids; the
 * writer (anomaly_store.c) records the queue on the loop, once a tick,
 * outside the capture's read.  A packet never waits for the database,
 * and the decisions can be tested without one.
 *
 * Bounded memory.  Heavy hitters (top sources, targets, ports) are kept
 * in direct-mapped sketches: one slot per hash bucket holding a key and
 * a count, a different key decrementing it and taking the slot at zero
 * (a Misra-Gries summary of size one per bucket), so a heavy key keeps
 * its slot against a rain of one-packet keys.  Per-source distinct
 * counts live in a fixed table of sources, each with two bitmaps for
 * linear counting (ports and hosts); when the eight slots a source may
 * take are all taken the one with the fewest packets is evicted.  A
 * million spoofed sources thus churn the table's light entries while a
 * scanner, heavy, stays.
 *
 * Speed.  A packet costs a few dozen nanoseconds at most, the replay of
 * a capture file being limited by how fast libpcap reads it: each key
 * hashed once (IPv4 addresses and ports by one multiply), a window's
 * sketches filled only when a warning may ask for them, and the three
 * random reads of a packet (its SYN table slot, its source's index
 * bucket, its source's sketch slot) each one cache line, fetched ahead
 * together, in tables that fit the second-level cache.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anomaly.h"
#include "anomaly_rules.h"
#include "log.h"
#include "packet.h"
#include "util.h"

#define ANOMALY_SKETCH_SLOTS	512	/* per window and class */
#define ANOMALY_EPISODE_SLOTS	2048	/* accumulated over an episode */
#define ANOMALY_SOURCES		8192	/* the per-source table */
#define ANOMALY_SOURCE_WAYS	8	/* index entries in a 64-byte line */
#define ANOMALY_BITMAP_BITS	2048	/* linear counting, per source */
#define ANOMALY_SMALL		8	/* bits kept in a list before */
#define ANOMALY_SYN_SLOTS	32768	/* SYNs awaiting their SYN-ACK: 64 KiB */
#define ANOMALY_MIN_SYNS	20	/* per window, for a share */
#define ANOMALY_TOP		5	/* in a warning's detail */
#define ANOMALY_MAX_SCANNERS	16	/* named in one scan episode */
#define ANOMALY_MAX_RELATED	8	/* incidents one episode links to */
#define ANOMALY_EVENTS_MAX	((size_t)4 * ANOMALY_EVENTS_HIGH)	/* queued */

enum anomaly_class {
	CLASS_ALL,	/* packet-rate, byte-rate */
	CLASS_SYN,
	CLASS_ICMP,
	CLASS_UDPAMP,
	CLASS_MAX
};

enum anomaly_what {
	WHAT_SOURCE,
	WHAT_TARGET,
	WHAT_PORT,
	WHAT_MAX
};

static const char *const anomaly_what_kind[WHAT_MAX] = {
	[WHAT_SOURCE] = "source",
	[WHAT_TARGET] = "target",
	[WHAT_PORT] = "port",
};

/* An address (family 4 or 6) or a port (family 0, port in key[0..2]). */
struct anomaly_key {
	uint64_t	 hash;		/* of the rest, computed once */
	uint8_t		 key[16];
	uint8_t		 family;
	uint8_t		 proto;
};

struct anomaly_slot {
	struct anomaly_key k;
	uint64_t	 count;
};

struct anomaly_sketch {
	struct anomaly_slot *slot;
	size_t		 nslots;
};

/*
 * A linear-counting bitmap that starts as a short list of its set bits:
 * most sources of a spoofed flood send one packet, and clearing 256
 * bytes for each would cost more than everything else they cause.
 */
struct anomaly_bits {
	int		 n;		/* bits set */
	uint16_t	 small[ANOMALY_SMALL];	/* while n <= ANOMALY_SMALL */
	uint8_t		 map[ANOMALY_BITMAP_BITS / 8];	/* beyond */
};

struct anomaly_source {
	struct anomaly_key k;		/* family 0: empty */
	uint64_t	 packets;	/* this period */
	int64_t		 ports_period;
	int64_t		 hosts_period;
	int		 flagged;	/* named in the scan episode */
	uint16_t	 min_port, max_port;
	uint8_t		 last_dst[16];
	struct anomaly_bits ports;
	struct anomaly_bits hosts;
};

/*
 * The source table's index: what a lookup reads to find a source or a
 * victim.  A source has eight candidate slots, and their index entries
 * make one bucket of 64 bytes, one cache line: a packet from a new
 * source reads that line and no other, neither two or three of a linear
 * probe nor any of the big table.  Field by field, so that the eight
 * tags compare in a few instructions.
 */
struct anomaly_source_bucket {
	uint32_t	 tag[ANOMALY_SOURCE_WAYS];	/* hash >> 32 | 1; 0: empty */
	uint16_t	 weight[ANOMALY_SOURCE_WAYS];	/* see below */
	uint8_t		 admitted[ANOMALY_SOURCE_WAYS];	/* its big slot is its */
};

/* An entry's weight: its packets this period, or never evicted. */
#define ANOMALY_WEIGHT_FLAGGED	UINT16_MAX
#define ANOMALY_WEIGHT_MAX	(UINT16_MAX - 1)

struct anomaly_scanner {
	struct anomaly_key k;
	double		 ports;		/* estimated distinct counts */
	double		 hosts;
	uint16_t	 min_port, max_port;
	uint8_t		 last_dst[16];
	uint64_t	 packets;
};

struct anomaly_episode {
	int64_t		 warning;	/* its episode id; 0: no episode */
	int64_t		 started;
	int64_t		 last_active;	/* last window above, or crossing */
	double		 peak;
	enum anomaly_counter counter;	/* that opened it */
	enum anomaly_class cls;
	int64_t		 related[ANOMALY_MAX_RELATED];	/* incidents */
	int		 nrelated;
};

/* The counters of the current window. */
struct anomaly_window {
	uint64_t	 packets, bytes, syn, synack_matched, icmp, udpamp;
};

struct anomaly {
	char			*name;
	int64_t			 window_ms;
	int64_t			 end_ms;
	struct anomaly_threshold th[ANOMALY_COUNTER_MAX];
	int			 need[ANOMALY_COUNTER_MAX];	/* windows */
	int			 run[ANOMALY_COUNTER_MAX];	/* above */
	int			 ports_bits_needed, hosts_bits_needed;

	int64_t			 win_start;	/* 0: no packet yet */
	struct anomaly_window	 w;
	double			 last_pps, last_bps;
	struct anomaly_sketch	 top[CLASS_MAX][WHAT_MAX];
	int			 want[CLASS_MAX];	/* this window */
	struct anomaly_sketch	 ep_top[WHAT_MAX];
	uint16_t		*syns;		/* tags of flows awaiting */

	struct anomaly_source	*sources;
	struct anomaly_source_bucket *buckets;	/* the index */
	uint64_t		 evictions;

	struct anomaly_episode	 flood;
	struct anomaly_episode	 scan;
	struct anomaly_scanner	 scanners[ANOMALY_MAX_SCANNERS];
	int			 nscanners;
	int			 more_scanners;

	uint32_t		 arp_ip[ANOMALY_MAX_ARP];
	uint8_t			 arp_mac[ANOMALY_MAX_ARP][6];
	int			 arp_known[ANOMALY_MAX_ARP];
	int64_t			 arp_warning[ANOMALY_MAX_ARP];	/* episodes */
	int			 narp;

	struct anomaly_episode	 drops;
	uint64_t		 dropped;	/* in the drops episode */

	/* Which incident a target address belongs to (the engine's). */
	int64_t			(*relate)(void *, const char *, const char **);
	void			*relate_arg;

	/* What was decided, for the writer; fixed at creation. */
	struct anomaly_event	*events;
	size_t			 nevents;
	uint64_t		 events_lost;	/* the queue was full */
	int64_t			 next_episode;
};

/* UDP source ports of services that answer small queries with big replies. */
static const uint16_t anomaly_amp_ports[] = {
	17,	/* qotd */
	19,	/* chargen */
	53,	/* dns */
	111,	/* portmap */
	123,	/* ntp */
	137,	/* netbios-ns */
	161,	/* snmp */
	389,	/* cldap */
	1900,	/* ssdp */
	3702,	/* ws-discovery */
	5353,	/* mdns */
	11211,	/* memcached */
};

static inline uint64_t
anomaly_mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/*
 * The hash of a key of at most 40 bits (an IPv4 address and its family,
 * a port and its protocol): a multiply by an odd constant and a shift,
 * both invertible, so that two such keys have the same hash only when
 * they are the same key, and in a third of anomaly_mix's time.
 */
static inline uint64_t
anomaly_mix_short(uint64_t x)
{
	x *= 0x9e3779b97f4a7c15ULL;
	return x ^ x >> 32;
}

/*
 * Hashed from the values it was made of, not read back from the copy
 * just written: a load of what was just stored in smaller pieces stalls.
 */
static void
anomaly_key_hash(struct anomaly_key *k, uint64_t a, uint64_t b, int family,
    int proto)
{
	k->hash = anomaly_mix(a ^ anomaly_mix(b ^ ((uint64_t)family << 8 |
	    (uint64_t)proto)));
}

static uint64_t
anomaly_hash(const struct anomaly_key *k)
{
	return k->hash;
}

static inline int
anomaly_key_eq(const struct anomaly_key *a, const struct anomaly_key *b)
{
	uint64_t	 a0, a1, b0, b1;

	if (a->hash != b->hash)
		return 0;
	/*
	 * The short keys' hashes are one to one (anomaly_mix_short) and
	 * made of their family and protocol too.  Those two bytes are not
	 * compared as one: B was just written a byte at a time, and a
	 * two-byte load of it would wait for both stores to retire.
	 */
	if (b->family != 6)
		return a->family != 6;
	if (a->family != 6 || a->proto != b->proto)
		return 0;
	memcpy(&a0, a->key, 8);
	memcpy(&a1, a->key + 8, 8);
	memcpy(&b0, b->key, 8);
	memcpy(&b1, b->key + 8, 8);
	return a0 == b0 && a1 == b1;
}

/*
 * ADDR is 16 bytes, an IPv4 address zero-padded (struct packet's).  An
 * IPv4 address is read as the 4 bytes the decoder has just stored, not
 * as 8 or 16: a wider load of narrower stores still in flight waits for
 * them to retire, on every packet.
 */
static inline void
anomaly_key_addr(struct anomaly_key *k, int family, const uint8_t *addr)
{
	uint64_t	 a, b;
	uint32_t	 a4;

	k->family = (uint8_t)family;
	k->proto = 0;
	if (family == 4) {
		memcpy(&a4, addr, 4);
		memset(k->key, 0, sizeof(k->key));
		memcpy(k->key, &a4, 4);
		k->hash = anomaly_mix_short((uint64_t)4 << 32 | a4);
		return;
	}
	memcpy(&a, addr, 8);
	memcpy(&b, addr + 8, 8);
	memcpy(k->key, addr, sizeof(k->key));
	anomaly_key_hash(k, a, b, family, 0);
}

static inline void
anomaly_key_port(struct anomaly_key *k, uint8_t proto, uint16_t port)
{
	memset(k->key, 0, sizeof(k->key));
	k->key[0] = (uint8_t)(port >> 8);
	k->key[1] = (uint8_t)port;
	k->family = 0;
	k->proto = proto;
	k->hash = anomaly_mix_short((uint64_t)proto << 16 | port);
}

static char *
anomaly_key_fmt(const struct anomaly_key *k, char *buf, size_t len)
{
	if (k->family != 0)
		return packet_addr_fmt(k->family, k->key, buf, len);
	snprintf(buf, len, "%u/%s", (unsigned)(k->key[0] << 8 | k->key[1]),
	    k->proto == IPPROTO_TCP ? "tcp" : k->proto == IPPROTO_UDP ?
	    "udp" : "ip");
	return buf;
}

static void
anomaly_sketch_init(struct anomaly_sketch *s, size_t n)
{
	s->slot = xcalloc(n, sizeof(*s->slot));
	s->nslots = n;
}

static void
anomaly_sketch_clear(struct anomaly_sketch *s)
{
	memset(s->slot, 0, s->nslots * sizeof(*s->slot));
}

static inline struct anomaly_slot *
anomaly_sketch_slot(const struct anomaly_sketch *s, const struct anomaly_key *k)
{
	return &s->slot[anomaly_hash(k) & (s->nslots - 1)];
}

static inline void
anomaly_sketch_add(struct anomaly_sketch *s, const struct anomaly_key *k,
    uint64_t n)
{
	struct anomaly_slot	*sl = anomaly_sketch_slot(s, k);

	if (sl->count == 0) {
		sl->k = *k;
		sl->count = n;
	} else if (anomaly_key_eq(&sl->k, k))
		sl->count += n;
	else if (sl->count > n)
		sl->count -= n;
	else {
		sl->k = *k;
		sl->count = n - sl->count;
		if (sl->count == 0)
			sl->count = 1;
	}
}

static void
anomaly_sketch_merge(struct anomaly_sketch *to,
    const struct anomaly_sketch *from)
{
	size_t	 i;

	for (i = 0; i < from->nslots; i++)
		if (from->slot[i].count > 0)
			anomaly_sketch_add(to, &from->slot[i].k,
			    from->slot[i].count);
}

/* The N heaviest slots, heaviest first; returns how many. */
static int
anomaly_sketch_top(const struct anomaly_sketch *s, struct anomaly_slot *out,
    int n)
{
	size_t	 i;
	int	 have = 0, j;

	for (i = 0; i < s->nslots; i++) {
		if (s->slot[i].count == 0)
			continue;
		for (j = have; j > 0 && out[j - 1].count < s->slot[i].count;
		    j--)
			if (j < n)
				out[j] = out[j - 1];
		if (j < n) {
			out[j] = s->slot[i];
			if (have < n)
				have++;
		}
	}
	return have;
}

/* The bits of a linear-counting bitmap that mean more than N distinct. */
static int
anomaly_bits_needed(double n)
{
	return (int)ceil(ANOMALY_BITMAP_BITS * (1 - exp(-n /
	    ANOMALY_BITMAP_BITS)));
}

static double
anomaly_estimate(int bits)
{
	if (bits >= ANOMALY_BITMAP_BITS)
		bits = ANOMALY_BITMAP_BITS - 1;
	return -ANOMALY_BITMAP_BITS * log(1 - (double)bits /
	    ANOMALY_BITMAP_BITS);
}

static enum anomaly_class
anomaly_counter_class(enum anomaly_counter c)
{
	switch (c) {
	case ANOMALY_SYN_RATE:
	case ANOMALY_SYN_UNANSWERED:
		return CLASS_SYN;
	case ANOMALY_ICMP_RATE:
		return CLASS_ICMP;
	case ANOMALY_UDP_AMP_RATE:
		return CLASS_UDPAMP;
	default:
		return CLASS_ALL;
	}
}

/*
 * Which classes' heavy hitters the window now starting may be asked for:
 * the open flood's, or those of a counter that crosses if this window is
 * above too.  The others are not filled: in quiet traffic, or during a
 * flood of one class, most of a packet's sketch updates would only be
 * cleared unread at the window's end.  What a warning names is the same.
 */
static void
anomaly_want(struct anomaly *a)
{
	enum anomaly_counter c;

	memset(a->want, 0, sizeof(a->want));
	if (a->flood.warning != 0) {
		a->want[a->flood.cls] = 1;
		return;
	}
	for (c = 0; c <= ANOMALY_UDP_AMP_RATE; c++)
		if (a->th[c].set && a->run[c] + 1 >= a->need[c])
			a->want[anomaly_counter_class(c)] = 1;
}

struct anomaly *
anomaly_new(const struct anomaly_conf *ac)
{
	struct anomaly	*a;
	int		 c, i;

	a = xcalloc(1, sizeof(*a));
	a->name = xstrdup(ac->name);
	a->events = xcalloc(ANOMALY_EVENTS_MAX, sizeof(*a->events));
	a->next_episode = 1;
	a->window_ms = ac->window_ms;
	a->end_ms = ac->end_ms;
	memcpy(a->th, ac->th, sizeof(a->th));
	for (c = 0; c < ANOMALY_COUNTER_MAX; c++)
		a->need[c] = a->th[c].set ? (int)(a->th[c].ms /
		    a->window_ms) : 0;
	if (a->th[ANOMALY_PORTS_PER_SOURCE].set)
		a->ports_bits_needed = anomaly_bits_needed(
		    a->th[ANOMALY_PORTS_PER_SOURCE].above);
	if (a->th[ANOMALY_HOSTS_PER_SOURCE].set)
		a->hosts_bits_needed = anomaly_bits_needed(
		    a->th[ANOMALY_HOSTS_PER_SOURCE].above);
	for (c = 0; c < CLASS_MAX; c++)
		for (i = 0; i < WHAT_MAX; i++)
			anomaly_sketch_init(&a->top[c][i],
			    ANOMALY_SKETCH_SLOTS);
	for (i = 0; i < WHAT_MAX; i++)
		anomaly_sketch_init(&a->ep_top[i], ANOMALY_EPISODE_SLOTS);
	a->syns = xcalloc(ANOMALY_SYN_SLOTS, sizeof(*a->syns));
	if (a->ports_bits_needed > 0 || a->hosts_bits_needed > 0)
	{
		a->sources = xcalloc(ANOMALY_SOURCES, sizeof(*a->sources));
		a->buckets = xcalloc_align(64, ANOMALY_SOURCES /
		    ANOMALY_SOURCE_WAYS, sizeof(*a->buckets));
	}
	memcpy(a->arp_ip, ac->arp_ip, sizeof(a->arp_ip));
	a->narp = ac->narp;
	anomaly_want(a);
	return a;
}

void
anomaly_free(struct anomaly *a)
{
	int	 c, i;

	if (a == NULL)
		return;
	for (c = 0; c < CLASS_MAX; c++)
		for (i = 0; i < WHAT_MAX; i++)
			free(a->top[c][i].slot);
	for (i = 0; i < WHAT_MAX; i++)
		free(a->ep_top[i].slot);
	free(a->syns);
	free(a->sources);
	free(a->buckets);
	anomaly_events_clear(a);
	free(a->events);
	free(a->name);
	free(a);
}

const char *
anomaly_name(const struct anomaly *a)
{
	return a->name;
}

int
anomaly_open_episodes(const struct anomaly *a)
{
	int	 i, n = 0;

	n += a->flood.warning != 0;
	n += a->scan.warning != 0;
	n += a->drops.warning != 0;
	for (i = 0; i < a->narp; i++)
		n += a->arp_warning[i] != 0;
	return n;
}

/* The last complete window's packets and bytes per second. */
void
anomaly_rates(const struct anomaly *a, double *pps, double *bps)
{
	*pps = a->last_pps;
	*bps = a->last_bps;
}

void
anomaly_set_relate(struct anomaly *a,
    int64_t (*fn)(void *, const char *, const char **), void *arg)
{
	a->relate = fn;
	a->relate_arg = arg;
}

/*
 * The events decided since the queue was last cleared, oldest first, in
 * *EV when EV is not NULL; returns how many.
 */
size_t
anomaly_events(const struct anomaly *a, const struct anomaly_event **ev)
{
	if (ev != NULL)
		*ev = a->events;
	return a->nevents;
}

/* The writer is done with the queue; returns how many events were lost. */
uint64_t
anomaly_events_clear(struct anomaly *a)
{
	struct anomaly_event	*ev;
	uint64_t		 lost = a->events_lost;
	size_t			 i;

	for (i = 0; i < a->nevents; i++) {
		ev = &a->events[i];
		free(ev->summary);
		free(ev->detail);
		free(ev->value);
		free(ev->system);
	}
	a->nevents = 0;
	a->events_lost = 0;
	return lost;
}

/*
 * The store refused EPISODE's warning: the episode is not open, so that
 * the next crossing opens it again, as when the store refuses any change.
 */
void
anomaly_episode_lost(struct anomaly *a, int64_t episode)
{
	struct anomaly_episode	*ep[] = { &a->flood, &a->scan, &a->drops };
	size_t			 i;
	int			 j;

	for (i = 0; i < sizeof(ep) / sizeof(ep[0]); i++)
		if (ep[i]->warning == episode) {
			ep[i]->warning = 0;
			ep[i]->nrelated = 0;
		}
	for (j = 0; j < a->narp; j++)
		if (a->arp_warning[j] == episode)
			a->arp_warning[j] = 0;
}

/*
 * A new event at the queue's end, or NULL when the queue is full: the
 * writer empties it every tick, and the capture earlier when it is above
 * ANOMALY_EVENTS_HIGH, so that only a bug can fill it; the loss is
 * counted and logged then.
 */
static struct anomaly_event *
anomaly_emit(struct anomaly *a, enum anomaly_event_kind kind,
    int64_t episode, int64_t at)
{
	struct anomaly_event	*ev;

	if (a->nevents == ANOMALY_EVENTS_MAX) {
		a->events_lost++;
		return NULL;
	}
	ev = &a->events[a->nevents++];
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	ev->episode = episode;
	ev->at = at;
	return ev;
}

/*
 * The episode's traffic aims at ADDR: if a watched system checked at ADDR
 * is down, its incident and the warning are related, once per episode,
 * and the incident's timeline suggests CATEGORY (an external attack,
 * 5.2.3.1.4).
 */
static void
anomaly_relate(struct anomaly *a, struct anomaly_episode *ep, int64_t now,
    const char *addr, const char *category)
{
	struct anomaly_event	*ev;
	const char		*system = NULL;
	int64_t			 incident;
	int			 i;

	if (a->relate == NULL || ep->warning == 0 ||
	    ep->nrelated == ANOMALY_MAX_RELATED ||
	    (incident = a->relate(a->relate_arg, addr, &system)) == 0)
		return;
	for (i = 0; i < ep->nrelated; i++)
		if (ep->related[i] == incident)
			return;
	ep->related[ep->nrelated++] = incident;
	if ((ev = anomaly_emit(a, ANOMALY_EVENT_RELATE, ep->warning,
	    now)) == NULL)
		return;
	ev->incident = incident;
	ev->value = xstrdup(addr);
	ev->system = xstrdup(system != NULL ? system : "?");
	ev->name = category;
}

/* The flood's current top targets, each perhaps a system that is down. */
static void
anomaly_relate_targets(struct anomaly *a, const struct anomaly_sketch *s,
    int64_t now)
{
	struct anomaly_slot	 top[ANOMALY_TOP];
	char			 buf[64];
	int			 i, n;

	if (a->relate == NULL)
		return;
	n = anomaly_sketch_top(s, top, ANOMALY_TOP);
	for (i = 0; i < n; i++)
		anomaly_relate(a, &a->flood, now, anomaly_key_fmt(&top[i].k,
		    buf, sizeof(buf)), "DOS");
}

/* One indicator (a source, a target...) of an episode's warning. */
static void
anomaly_indicator(struct anomaly *a, int64_t warning, const char *kind,
    const char *value, int64_t packets)
{
	struct anomaly_event	*ev;

	if ((ev = anomaly_emit(a, ANOMALY_EVENT_INDICATOR, warning,
	    0)) == NULL)
		return;
	ev->name = kind;
	ev->value = xstrdup(value);
	ev->packets = packets;
}

/* Indicators of an episode for the intelligence export (5.9). */
static void
anomaly_indicators(struct anomaly *a, int64_t warning,
    const struct anomaly_sketch *tops)
{
	struct anomaly_slot	 top[ANOMALY_TOP];
	char			 buf[64];
	int			 i, n, w;

	for (w = 0; w < WHAT_MAX; w++) {
		n = anomaly_sketch_top(&tops[w], top, ANOMALY_TOP);
		for (i = 0; i < n; i++)
			anomaly_indicator(a, warning, anomaly_what_kind[w],
			    anomaly_key_fmt(&top[i].k, buf, sizeof(buf)),
			    (int64_t)top[i].count);
	}
}

/* "top targets: 198.51.100.10 (4800), ...; top sources: ..." */
static void
anomaly_detail(const struct anomaly_sketch *tops, char *out, size_t len)
{
	static const char *const label[WHAT_MAX] = {
		[WHAT_SOURCE] = "top sources",
		[WHAT_TARGET] = "top targets",
		[WHAT_PORT] = "top ports",
	};
	static const int order[WHAT_MAX] = { WHAT_TARGET, WHAT_SOURCE,
	    WHAT_PORT };
	struct anomaly_slot	 top[ANOMALY_TOP];
	char			 buf[64];
	size_t			 off = 0;
	int			 i, n, w;

	out[0] = '\0';
	for (w = 0; w < WHAT_MAX && off < len; w++) {
		n = anomaly_sketch_top(&tops[order[w]], top, ANOMALY_TOP);
		if (n == 0)
			continue;
		off += (size_t)snprintf(out + off, len - off, "%s%s:",
		    off > 0 ? "; " : "", label[order[w]]);
		for (i = 0; i < n && off < len; i++)
			off += (size_t)snprintf(out + off, len - off,
			    "%s %s (%llu packets)", i > 0 ? "," : "",
			    anomaly_key_fmt(&top[i].k, buf, sizeof(buf)),
			    (unsigned long long)top[i].count);
	}
}

/* A new episode's warning: its episode id, or 0 if it cannot be queued. */
static int64_t
anomaly_warning_open(struct anomaly *a, int64_t at, const char *summary,
    const char *detail)
{
	struct anomaly_event	*ev;

	if ((ev = anomaly_emit(a, ANOMALY_EVENT_OPEN, a->next_episode,
	    at)) == NULL)
		return 0;
	ev->summary = xstrdup(summary);
	ev->detail = xstrdup(detail);
	return a->next_episode++;
}

/* A line of an open warning's timeline. */
static void
anomaly_warning_line(struct anomaly *a, int64_t warning, int64_t at,
    const char *event, const char *detail)
{
	struct anomaly_event	*ev;

	if ((ev = anomaly_emit(a, ANOMALY_EVENT_LINE, warning, at)) == NULL)
		return;
	ev->name = event;
	ev->detail = xstrdup(detail);
}

static void
anomaly_warning_end(struct anomaly *a, int64_t warning, int64_t at,
    const char *detail)
{
	struct anomaly_event	*ev;

	if ((ev = anomaly_emit(a, ANOMALY_EVENT_END, warning, at)) == NULL)
		return;
	ev->detail = xstrdup(detail);
}

/*
 * The block stops watching (the daemon stops, or a reload changes or
 * removes it): every episode still open ends, at the last moment it was
 * seen going on, with WHY; an ARP change, which has no such moment, at
 * NOW.  A warning left open would stay open forever.
 */
void
anomaly_stop(struct anomaly *a, int64_t now, const char *why)
{
	char	 detail[256];
	int	 i;

	if (anomaly_open_episodes(a) == 0)
		return;
	snprintf(detail, sizeof(detail), "%s while the episode went on; its "
	    "real end is unknown", why);
	if (a->flood.warning != 0) {
		anomaly_warning_end(a, a->flood.warning, a->flood.last_active,
		    detail);
		anomaly_indicators(a, a->flood.warning, a->ep_top);
	}
	if (a->scan.warning != 0)
		anomaly_warning_end(a, a->scan.warning, a->scan.last_active,
		    detail);
	if (a->drops.warning != 0)
		anomaly_warning_end(a, a->drops.warning, a->drops.last_active,
		    detail);
	for (i = 0; i < a->narp; i++)
		if (a->arp_warning[i] != 0)
			anomaly_warning_end(a, a->arp_warning[i], now, detail);
	memset(&a->flood, 0, sizeof(a->flood));
	memset(&a->scan, 0, sizeof(a->scan));
	memset(&a->drops, 0, sizeof(a->drops));
	memset(a->arp_warning, 0, sizeof(a->arp_warning));
}

static void
anomaly_value_fmt(enum anomaly_counter c, double v, char *buf, size_t len)
{
	if (anomaly_counter_unit(c) == ANOMALY_UNIT_SHARE)
		snprintf(buf, len, "%.0f%%", v);
	else if (anomaly_counter_unit(c) == ANOMALY_UNIT_DISTINCT)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.0f/s", v);
}

/* A window is over: judge the rate counters, then start the next. */
static void
anomaly_close_window(struct anomaly *a, int64_t end)
{
	double		 v[ANOMALY_COUNTER_MAX], secs;
	char		 summary[512], detail[2048], val[32], th[32], d[32];
	/* ANOMALY_COUNTER_MAX: none crossed. */
	enum anomaly_counter c, crossed = ANOMALY_COUNTER_MAX;
	int		 above = 0, i;
	enum anomaly_class cls, k;

	secs = (double)a->window_ms / 1000;
	memset(v, 0, sizeof(v));
	v[ANOMALY_SYN_RATE] = (double)a->w.syn / secs;
	/* A SYN-ACK may answer a SYN of the window before. */
	if (a->w.syn >= ANOMALY_MIN_SYNS && a->w.synack_matched < a->w.syn)
		v[ANOMALY_SYN_UNANSWERED] = 100.0 * (double)(a->w.syn -
		    a->w.synack_matched) / (double)a->w.syn;
	v[ANOMALY_PACKET_RATE] = (double)a->w.packets / secs;
	v[ANOMALY_BYTE_RATE] = (double)a->w.bytes / secs;
	v[ANOMALY_ICMP_RATE] = (double)a->w.icmp / secs;
	v[ANOMALY_UDP_AMP_RATE] = (double)a->w.udpamp / secs;
	a->last_pps = v[ANOMALY_PACKET_RATE];
	a->last_bps = v[ANOMALY_BYTE_RATE];

	for (c = 0; c <= ANOMALY_UDP_AMP_RATE; c++) {
		if (!a->th[c].set)
			continue;
		if (v[c] > a->th[c].above) {
			above = 1;
			if (++a->run[c] >= a->need[c] &&
			    crossed == ANOMALY_COUNTER_MAX)
				crossed = c;
		} else
			a->run[c] = 0;
	}
	if (a->flood.warning == 0 && crossed != ANOMALY_COUNTER_MAX) {
		cls = anomaly_counter_class(crossed);
		for (i = 0; i < WHAT_MAX; i++) {
			anomaly_sketch_clear(&a->ep_top[i]);
			anomaly_sketch_merge(&a->ep_top[i], &a->top[cls][i]);
		}
		anomaly_value_fmt(crossed, v[crossed], val, sizeof(val));
		anomaly_value_fmt(crossed, a->th[crossed].above, th,
		    sizeof(th));
		snprintf(summary, sizeof(summary), "%s %s above %s for %s",
		    anomaly_counter_name(crossed), val, th,
		    duration_fmt(a->th[crossed].ms, d, sizeof(d)));
		anomaly_detail(a->ep_top, detail, sizeof(detail));
		a->flood.warning = anomaly_warning_open(a, end, summary,
		    detail);
		if (a->flood.warning != 0)
			anomaly_indicators(a, a->flood.warning, a->ep_top);
		a->flood.started = end;
		a->flood.last_active = end;
		a->flood.counter = crossed;
		a->flood.cls = cls;
		a->flood.peak = v[crossed];
		anomaly_relate_targets(a, &a->top[cls][WHAT_TARGET], end);
	} else if (a->flood.warning != 0) {
		cls = a->flood.cls;
		for (i = 0; i < WHAT_MAX; i++)
			anomaly_sketch_merge(&a->ep_top[i], &a->top[cls][i]);
		if (v[a->flood.counter] > a->flood.peak)
			a->flood.peak = v[a->flood.counter];
		/* A system may go down while the episode lasts. */
		anomaly_relate_targets(a, &a->top[cls][WHAT_TARGET], end);
		if (above)
			a->flood.last_active = end;
		else if (end - a->flood.last_active >= a->end_ms) {
			c = a->flood.counter;
			anomaly_value_fmt(c, a->flood.peak, val, sizeof(val));
			snprintf(detail, sizeof(detail), "every counter under "
			    "its threshold for %s; %s peaked at %s",
			    duration_fmt(a->end_ms, d, sizeof(d)),
			    anomaly_counter_name(c), val);
			anomaly_warning_end(a, a->flood.warning,
			    a->flood.last_active, detail);
			anomaly_indicators(a, a->flood.warning, a->ep_top);
			memset(&a->flood, 0, sizeof(a->flood));
		}
	}
	if (a->scan.warning != 0 && end - a->scan.last_active >= a->end_ms) {
		snprintf(detail, sizeof(detail), "no new source above its "
		    "threshold for %s", duration_fmt(a->end_ms, d, sizeof(d)));
		anomaly_warning_end(a, a->scan.warning, a->scan.last_active,
		    detail);
		memset(&a->scan, 0, sizeof(a->scan));
		a->nscanners = 0;
		a->more_scanners = 0;
	}
	if (a->drops.warning != 0 && end - a->drops.last_active >= a->end_ms) {
		snprintf(detail, sizeof(detail), "no packet dropped for %s; "
		    "%llu dropped in all", duration_fmt(a->end_ms, d,
		    sizeof(d)), (unsigned long long)a->dropped);
		anomaly_warning_end(a, a->drops.warning, a->drops.last_active,
		    detail);
		memset(&a->drops, 0, sizeof(a->drops));
	}
	memset(&a->w, 0, sizeof(a->w));
	/* Only what this window filled needs clearing. */
	for (k = 0; k < CLASS_MAX; k++)
		if (a->want[k])
			for (i = 0; i < WHAT_MAX; i++)
				anomaly_sketch_clear(&a->top[k][i]);
	anomaly_want(a);
}

/*
 * Close every window that ended by NOW.  After enough empty windows every
 * counter is at rest, so a long silence costs no more than that.
 */
void
anomaly_tick(struct anomaly *a, int64_t now)
{
	int64_t	 n, limit;
	int	 c;

	if (a->win_start == 0)
		return;
	limit = a->end_ms / a->window_ms + 2;
	for (c = 0; c < ANOMALY_COUNTER_MAX; c++)
		if (a->need[c] + 2 > limit)
			limit = a->need[c] + 2;
	for (n = 0; now >= a->win_start + a->window_ms; n++) {
		if (n == limit) {
			a->win_start = now - now % a->window_ms;
			break;
		}
		a->win_start += a->window_ms;
		anomaly_close_window(a, a->win_start);
	}
}

/* A slot for a new source; its bitmaps are cleared when first used. */
static void
anomaly_source_take(struct anomaly_source *s, const struct anomaly_key *k)
{
	s->k = *k;
	s->packets = 0;
	s->ports_period = s->hosts_period = -1;
	s->flagged = 0;
}

/* The bucket of the source index that holds the source of hash H. */
static struct anomaly_source_bucket *
anomaly_source_bucket(struct anomaly *a, uint64_t h)
{
	return &a->buckets[(size_t)h & (ANOMALY_SOURCES /
	    ANOMALY_SOURCE_WAYS - 1)];
}

static struct anomaly_source *
anomaly_source_find(struct anomaly *a, const struct anomaly_key *k)
{
	struct anomaly_source_bucket *b;
	struct anomaly_source	*s;
	uint64_t		 h = anomaly_hash(k);
	uint32_t		 tag = (uint32_t)(h >> 32) | 1, w, best;
	unsigned		 i, j, rot, victim;

	b = anomaly_source_bucket(a, h);
	s = &a->sources[(size_t)(b - a->buckets) * ANOMALY_SOURCE_WAYS];
#pragma GCC unroll 8
	for (i = 0; i < ANOMALY_SOURCE_WAYS; i++) {
		if (b->tag[i] != tag)
			continue;
		if (!b->admitted[i]) {
			/* Its second packet: now it gets a slot. */
			b->admitted[i] = 1;
			anomaly_source_take(&s[i], k);
			return &s[i];
		}
		if (anomaly_key_eq(&s[i].k, k))
			return &s[i];
	}
	if (b->tag[ANOMALY_SOURCE_WAYS - 1] == 0) {
		/* Entries are filled in order and never emptied. */
		victim = 0;
		while (b->tag[victim] != 0)
			victim++;
	} else {
		/*
		 * The bucket is full: the lightest, unflagged, goes.  Among
		 * equally light ones the newcomer's hash picks, so that it
		 * is not always the same entry that churns; and as no entry
		 * weighs less than one packet, the first of one packet in
		 * that order ends the search: a spoofed flood's bucket is
		 * full of them.
		 */
		rot = (unsigned)(h >> 13) & (ANOMALY_SOURCE_WAYS - 1);
		best = UINT32_MAX;
		victim = rot;
		for (j = 0; j < ANOMALY_SOURCE_WAYS; j++) {
			i = j ^ rot;
			if ((w = b->weight[i]) == 1) {
				victim = i;
				best = w;
				break;
			}
			if (w < best) {
				best = w;
				victim = i;
			}
		}
		if (best == ANOMALY_WEIGHT_FLAGGED)
			return NULL;
		a->evictions++;
	}
	/*
	 * A source's first packet only takes an index entry: the million
	 * one-packet sources of a spoofed flood never touch the big table.
	 * A scanner loses its first probe to this, one of hundreds.
	 */
	b->tag[victim] = tag;
	b->weight[victim] = 1;
	b->admitted[victim] = 0;
	return NULL;
}

static void
anomaly_bits_clear(struct anomaly_bits *b)
{
	b->n = 0;
}

static void
anomaly_map_set(struct anomaly_bits *b, unsigned bit)
{
	b->map[bit / 8] |= (uint8_t)(1U << (bit % 8));
}

/* Set the bit H picks; the list becomes the bitmap when it is full. */
static void
anomaly_bit_set(struct anomaly_bits *b, uint64_t h)
{
	unsigned	 bit = (unsigned)(h & (ANOMALY_BITMAP_BITS - 1));
	int		 i;

	if (b->n <= ANOMALY_SMALL) {
		for (i = 0; i < b->n; i++)
			if (b->small[i] == bit)
				return;
		if (b->n < ANOMALY_SMALL) {
			b->small[b->n++] = (uint16_t)bit;
			return;
		}
		memset(b->map, 0, sizeof(b->map));
		for (i = 0; i < b->n; i++)
			anomaly_map_set(b, b->small[i]);
	} else if (b->map[bit / 8] & (1U << (bit % 8)))
		return;
	anomaly_map_set(b, bit);
	b->n++;
}

static void
anomaly_scan_flag(struct anomaly *a, struct anomaly_source *s,
    enum anomaly_counter c, int64_t now)
{
	struct anomaly_scanner	*sc = NULL;
	char			 summary[512], detail[2048], src[64], dst[64];
	char			 d[32];
	int			 i;

	s->flagged = 1;
	a->scan.last_active = now;
	for (i = 0; i < a->nscanners; i++)
		if (anomaly_key_eq(&a->scanners[i].k, &s->k))
			sc = &a->scanners[i];
	if (sc == NULL && a->nscanners < ANOMALY_MAX_SCANNERS)
		sc = &a->scanners[a->nscanners++];
	else if (sc == NULL)
		a->more_scanners++;
	if (sc != NULL) {
		sc->k = s->k;
		sc->ports = anomaly_estimate(s->ports.n);
		sc->hosts = anomaly_estimate(s->hosts.n);
		sc->min_port = s->min_port;
		sc->max_port = s->max_port;
		sc->packets = s->packets;
		memcpy(sc->last_dst, s->last_dst, sizeof(sc->last_dst));
	}
	anomaly_key_fmt(&s->k, src, sizeof(src));
	packet_addr_fmt(s->k.family, s->last_dst, dst, sizeof(dst));
	snprintf(detail, sizeof(detail), "source %s: about %.0f distinct "
	    "ports (%u-%u) and %.0f distinct hosts (last %s) in %llu packets",
	    src, anomaly_estimate(s->ports.n), s->min_port, s->max_port,
	    anomaly_estimate(s->hosts.n), dst,
	    (unsigned long long)s->packets);
	if (a->scan.warning == 0) {
		snprintf(summary, sizeof(summary), "%s above %.0f in %s: "
		    "source %s", anomaly_counter_name(c), a->th[c].above,
		    duration_fmt(a->th[c].ms, d, sizeof(d)), src);
		a->scan.warning = anomaly_warning_open(a, now, summary,
		    detail);
		a->scan.started = now;
		a->scan.counter = c;
	} else
		anomaly_warning_line(a, a->scan.warning, now,
		    "source above threshold", detail);
	if (a->scan.warning != 0) {
		anomaly_indicator(a, a->scan.warning, "source", src,
		    (int64_t)s->packets);
		anomaly_indicator(a, a->scan.warning, "target", dst, 0);
		if (s->max_port != 0) {
			snprintf(d, sizeof(d), "%u-%u", s->min_port,
			    s->max_port);
			anomaly_indicator(a, a->scan.warning, "port", d, 0);
		}
	}
	anomaly_relate(a, &a->scan, now, dst, "INT");
}

/*
 * Does this packet start something: a TCP SYN, a UDP datagram towards a
 * lower port than its own (a client's ephemeral port to a service), an
 * ICMP echo request?  Replies are left out.
 */
static int
anomaly_initiates(const struct packet *pk)
{
	if (pk->proto == IPPROTO_TCP)
		return pk->has_ports && (pk->tcp_flags & (PACKET_TCP_SYN |
		    PACKET_TCP_ACK)) == PACKET_TCP_SYN;
	if (pk->proto == IPPROTO_UDP)
		return pk->has_ports && pk->dport <= pk->sport;
	if (pk->proto == IPPROTO_ICMP)
		return pk->has_icmp && pk->icmp_type == 8;
	if (pk->proto == IPPROTO_ICMPV6)
		return pk->has_icmp && pk->icmp_type == 128;
	return 0;
}

/* Per source: distinct destination ports and hosts in their periods. */
static void
anomaly_per_source(struct anomaly *a, int64_t now, const struct packet *pk,
    const struct anomaly_key *k, const struct anomaly_key *dk)
{
	struct anomaly_source	*s;
	struct anomaly_source_bucket *b;
	const struct anomaly_threshold *tp, *th;
	int64_t			 pp, hp;
	size_t			 way;

	tp = &a->th[ANOMALY_PORTS_PER_SOURCE];
	th = &a->th[ANOMALY_HOSTS_PER_SOURCE];
	if ((s = anomaly_source_find(a, k)) == NULL)
		return;
	b = &a->buckets[(size_t)(s - a->sources) / ANOMALY_SOURCE_WAYS];
	way = (size_t)(s - a->sources) % ANOMALY_SOURCE_WAYS;
	pp = tp->set ? now / tp->ms + 1 : 0;
	hp = th->set ? now / th->ms + 1 : 0;
	if (s->ports_period != pp) {
		s->ports_period = pp;
		s->min_port = s->max_port = 0;
		anomaly_bits_clear(&s->ports);
		s->flagged = 0;
		s->packets = 0;
	}
	if (s->hosts_period != hp) {
		s->hosts_period = hp;
		anomaly_bits_clear(&s->hosts);
		s->flagged = 0;
		s->packets = 0;
	}
	s->packets++;
	b->weight[way] = s->flagged ? ANOMALY_WEIGHT_FLAGGED :
	    s->packets > ANOMALY_WEIGHT_MAX ? ANOMALY_WEIGHT_MAX :
	    (uint16_t)s->packets;
	if (s->flagged)
		a->scan.last_active = now;
	memcpy(s->last_dst, pk->dst, sizeof(s->last_dst));
	if (tp->set && pk->has_ports) {
		if (s->min_port == 0 || pk->dport < s->min_port)
			s->min_port = pk->dport;
		if (pk->dport > s->max_port)
			s->max_port = pk->dport;
		anomaly_bit_set(&s->ports, anomaly_mix(pk->dport + 1));
	}
	if (th->set)
		anomaly_bit_set(&s->hosts, anomaly_hash(dk));
	if (s->flagged)
		return;
	if (tp->set && s->ports.n > a->ports_bits_needed)
		anomaly_scan_flag(a, s, ANOMALY_PORTS_PER_SOURCE, now);
	else if (th->set && s->hosts.n > a->hosts_bits_needed)
		anomaly_scan_flag(a, s, ANOMALY_HOSTS_PER_SOURCE, now);
	if (s->flagged)
		b->weight[way] = ANOMALY_WEIGHT_FLAGGED;
}

/*
 * A connection's hash from its ends' address hashes (those of the keys,
 * already computed) and ports, in the SYN's direction: one short mix.
 * Its low bits pick the SYN table's slot, its high ones are the tag.
 */
static uint64_t
anomaly_flow_hash(uint64_t ha, uint64_t hb, uint16_t pa, uint16_t pb)
{
	return anomaly_mix_short(ha ^ (hb << 1 | hb >> 63) ^
	    ((uint64_t)pa << 16 | pb));
}

static uint16_t *
anomaly_syn_slot(struct anomaly *a, uint64_t h)
{
	return &a->syns[h & (ANOMALY_SYN_SLOTS - 1)];
}

static uint16_t
anomaly_syn_tag(uint64_t h)
{
	return (uint16_t)(h >> 48) | 1;	/* never 0, the empty slot */
}

static int
anomaly_is_amp(uint16_t port)
{
	size_t	 i;

	for (i = 0; i < sizeof(anomaly_amp_ports) /
	    sizeof(anomaly_amp_ports[0]); i++)
		if (anomaly_amp_ports[i] == port)
			return 1;
	return 0;
}

static inline void
anomaly_count(struct anomaly *a, enum anomaly_class c,
    const struct anomaly_key *src, const struct anomaly_key *dst,
    const struct anomaly_key *port)
{
	anomaly_sketch_add(&a->top[c][WHAT_SOURCE], src, 1);
	anomaly_sketch_add(&a->top[c][WHAT_TARGET], dst, 1);
	if (port != NULL)
		anomaly_sketch_add(&a->top[c][WHAT_PORT], port, 1);
}

static void
anomaly_arp(struct anomaly *a, int64_t now, const struct packet *pk)
{
	char		 summary[512], detail[256], ip[INET_ADDRSTRLEN];
	char		 was[18], is[18];
	uint32_t	 addr;
	int		 i;

	/* Replies, and the requests that announce their sender. */
	if (pk->arp_op != 2 && pk->arp_op != 1)
		return;
	memcpy(&addr, pk->arp_ip, 4);
	for (i = 0; i < a->narp; i++)
		if (a->arp_ip[i] == addr)
			break;
	if (i == a->narp)
		return;
	if (!a->arp_known[i]) {
		memcpy(a->arp_mac[i], pk->arp_mac, 6);
		a->arp_known[i] = 1;
		return;
	}
	packet_addr_fmt(4, pk->arp_ip, ip, sizeof(ip));
#define MACFMT "%02x:%02x:%02x:%02x:%02x:%02x"
#define MACARG(m) (m)[0], (m)[1], (m)[2], (m)[3], (m)[4], (m)[5]
	snprintf(was, sizeof(was), MACFMT, MACARG(a->arp_mac[i]));
	snprintf(is, sizeof(is), MACFMT, MACARG(pk->arp_mac));
	if (memcmp(a->arp_mac[i], pk->arp_mac, 6) == 0) {
		if (a->arp_warning[i] == 0)
			return;
		snprintf(detail, sizeof(detail), "%s is at %s again", ip,
		    was);
		anomaly_warning_end(a, a->arp_warning[i], now, detail);
		a->arp_warning[i] = 0;
		return;
	}
	if (a->arp_warning[i] != 0)
		return;
	snprintf(summary, sizeof(summary), "arp-change: %s moved from %s "
	    "to %s", ip, was, is);
	snprintf(detail, sizeof(detail), "ARP %s from %s says %s is at %s; "
	    "it was at %s", pk->arp_op == 2 ? "reply" : "request", is, ip,
	    is, was);
	a->arp_warning[i] = anomaly_warning_open(a, now, summary, detail);
	if (a->arp_warning[i] != 0) {
		anomaly_indicator(a, a->arp_warning[i], "target", ip, 1);
		anomaly_indicator(a, a->arp_warning[i], "mac", is, 1);
	}
#undef MACFMT
#undef MACARG
}

/*
 * One packet, at NOW (the capture's time, ms), LEN bytes on the wire.
 *
 * The SYN table's slot and the source index's bucket are random reads
 * of tables bigger than the first-level cache: both are fetched ahead,
 * as soon as the hashes are known, and used after the sketches, so that
 * the two misses overlap each other and the sketches' work.
 */
void
anomaly_packet(struct anomaly *a, int64_t now, uint32_t len,
    const struct packet *pk)
{
	struct anomaly_key	 src, dst, port;
	uint16_t		*syn = NULL;
	uint64_t		 h = 0;
	int			 flags = 0, per_source;

	if (a->win_start == 0)
		a->win_start = now - now % a->window_ms;
	else if (now >= a->win_start + a->window_ms)
		anomaly_tick(a, now);
	a->w.packets++;
	a->w.bytes += len;
	if (pk->kind == PACKET_ARP) {
		if (a->narp > 0)
			anomaly_arp(a, now, pk);
		return;
	}
	if (pk->kind != PACKET_IP)
		return;
	anomaly_key_addr(&src, pk->family, pk->src);
	anomaly_key_addr(&dst, pk->family, pk->dst);
	if (pk->proto == IPPROTO_TCP && pk->has_ports) {
		flags = pk->tcp_flags & (PACKET_TCP_SYN | PACKET_TCP_ACK);
		if (flags == PACKET_TCP_SYN)
			h = anomaly_flow_hash(src.hash, dst.hash, pk->sport,
			    pk->dport);
		else if (flags == (PACKET_TCP_SYN | PACKET_TCP_ACK))
			h = anomaly_flow_hash(dst.hash, src.hash, pk->dport,
			    pk->sport);
		if (flags & PACKET_TCP_SYN) {
			syn = anomaly_syn_slot(a, h);
			__builtin_prefetch(syn, 1);
		}
	}
	/*
	 * Only what opens a conversation counts per source: a server
	 * answering many clients on their ephemeral ports is not scanning
	 * them, and its replies take no place in the table.
	 */
	per_source = a->sources != NULL && anomaly_initiates(pk);
	if (per_source)
		__builtin_prefetch(anomaly_source_bucket(a, src.hash), 1);
	/* A flood's sources are many: their sketch's slot is cold too. */
	if (a->want[CLASS_ALL])
		__builtin_prefetch(anomaly_sketch_slot(
		    &a->top[CLASS_ALL][WHAT_SOURCE], &src), 1);
	if (flags == PACKET_TCP_SYN && a->want[CLASS_SYN])
		__builtin_prefetch(anomaly_sketch_slot(
		    &a->top[CLASS_SYN][WHAT_SOURCE], &src), 1);

	if (pk->has_ports && (a->want[CLASS_ALL] || a->want[CLASS_SYN]))
		anomaly_key_port(&port, pk->proto, pk->dport);
	if (a->want[CLASS_ALL])
		anomaly_count(a, CLASS_ALL, &src, &dst, pk->has_ports ?
		    &port : NULL);
	if (flags == PACKET_TCP_SYN) {
		a->w.syn++;
		if (a->want[CLASS_SYN])
			anomaly_count(a, CLASS_SYN, &src, &dst, &port);
		*syn = anomaly_syn_tag(h);
	} else if (syn != NULL) {
		/* A SYN-ACK: the SYN it answers is no longer waiting. */
		if (*syn == anomaly_syn_tag(h)) {
			*syn = 0;
			a->w.synack_matched++;
		}
	} else if (pk->proto == IPPROTO_ICMP || pk->proto == IPPROTO_ICMPV6) {
		a->w.icmp++;
		if (a->want[CLASS_ICMP])
			anomaly_count(a, CLASS_ICMP, &src, &dst, NULL);
	} else if (pk->proto == IPPROTO_UDP && pk->has_ports &&
	    anomaly_is_amp(pk->sport)) {
		a->w.udpamp++;
		if (a->want[CLASS_UDPAMP]) {
			anomaly_key_port(&port, pk->proto, pk->sport);
			anomaly_count(a, CLASS_UDPAMP, &src, &dst, &port);
		}
	}
	if (per_source)
		anomaly_per_source(a, now, pk, &src, &dst);
}

/* The live capture lost DROPPED packets (of RECEIVED) since last asked. */
void
anomaly_drops(struct anomaly *a, int64_t now, uint64_t received,
    uint64_t dropped)
{
	char	 summary[512], detail[256];

	if (dropped == 0)
		return;
	log_warnx("anomaly %s: the capture dropped %llu of %llu packets",
	    a->name, (unsigned long long)dropped,
	    (unsigned long long)received + dropped);
	a->drops.last_active = now;
	a->dropped += dropped;
	if (a->drops.warning != 0)
		return;
	snprintf(summary, sizeof(summary), "capture dropped %llu packets: "
	    "the counters undercount", (unsigned long long)dropped);
	snprintf(detail, sizeof(detail), "pcap_stats: %llu received, %llu "
	    "dropped by the kernel since the last look",
	    (unsigned long long)received, (unsigned long long)dropped);
	a->drops.warning = anomaly_warning_open(a, now, summary, detail);
}
