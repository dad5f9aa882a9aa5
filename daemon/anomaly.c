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
#define ANOMALY_BITMAP_FULL	1536	/* new ones rarely show beyond */
#define ANOMALY_SMALL		8	/* bits kept in a list before */
#define ANOMALY_SYN_SLOTS	32768	/* SYNs awaiting their SYN-ACK: 64 KiB */
#define ANOMALY_MIN_SYNS	20	/* per window, for a share */
#define ANOMALY_TOP		5	/* in a warning's detail */
#define ANOMALY_MAX_SCANNERS	16	/* named in one scan episode */
#define ANOMALY_MAX_RELATED	8	/* incidents one episode links to */
#define ANOMALY_AIMED_SHARE	10	/* a flood aims at 1/10 of it or more */
#define ANOMALY_EVENTS_MAX	((size_t)4 * ANOMALY_EVENTS_HIGH)	/* queued */
#define ANOMALY_AMP_SLOTS	32768	/* UDP requests awaiting replies */
#define ANOMALY_AMP_FACTOR	10	/* times its request: amplified */

enum anomaly_class {
	CLASS_ALL,	/* packet-rate, byte-rate */
	CLASS_SYN,
	CLASS_ICMP,
	CLASS_UDPAMP,
	CLASS_UDP,
	CLASS_FRAG,	/* RFC 1858 fragments */
	CLASS_MAX
};

/*
 * The flood counters, the most specific first: a flood that crosses two
 * (an ICMP flood is above packet-rate too) is named by the one that says
 * what it is, and shows that one's sources, targets and ports.
 */
static const int anomaly_flood_counters[] = {
	ANOMALY_SYN_RATE,
	ANOMALY_SYN_UNANSWERED,
	ANOMALY_ICMP_RATE,
	ANOMALY_UDP_AMP_RATE,
	ANOMALY_UDP_RATE,
	ANOMALY_PACKET_RATE,
	ANOMALY_BYTE_RATE,
};

/* Fragments made to slip past filters: an episode of their own. */
static const int anomaly_frag_counters[] = {
	ANOMALY_BAD_FRAGMENT_RATE,
};

#define ANOMALY_NELEM(x)	(sizeof(x) / sizeof((x)[0]))

struct anomaly;
struct anomaly_key;
static void	anomaly_scan_window(struct anomaly *, int64_t);
static void	anomaly_scan_end(struct anomaly *, const char *);
static void	anomaly_scan_reset(struct anomaly *);
static void	anomaly_arp_window(struct anomaly *, int64_t);
/* Inlined always: a call costs about what its three additions do. */
static inline __attribute__((always_inline)) void anomaly_count(
		    struct anomaly *, int, const struct anomaly_key *,
		    const struct anomaly_key *, const struct anomaly_key *);

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
	/* Since flagged: the periods before this one, and every packet. */
	uint64_t	 total;
	double		 ports_before, hosts_before;
	struct anomaly_bits ports;
	struct anomaly_bits hosts;
};

/*
 * A source's counts over the longer periods of the slow-* counters, in a
 * table beside the sources' (same index), only when those are set: a
 * scan of a few ports a second never fills a short period, and spreads
 * over two.
 */
struct anomaly_slow {
	int64_t		 ports_period, hosts_period;
	uint16_t	 min_port, max_port;
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

/*
 * A source named in the scan episode: its slot in the sources' table, and
 * the address its scan aimed at when it crossed.  That address, not the
 * source's last one, is what the episode concerns: a decoy is a real
 * host's address, and that host's own connections (to a system that is
 * down, retried) are no part of the scan.
 */
struct anomaly_scanner {
	struct anomaly_key k;
	size_t		 index;
	uint64_t	 shown;		/* its packets when last told */
	uint8_t		 target[16];
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

/*
 * A watched address's MACs.  None is trusted for being seen first: the
 * daemon may start while a spoof goes on.  A second MAC is a conflict
 * naming both, which the address had before being said only when the
 * first held it alone for END; the conflict ends after END with one
 * MAC, and counts the flip-flops between them meanwhile.
 */
struct anomaly_arp {
	uint8_t		 mac[2][6];
	int64_t		 seen[2];	/* last, ms */
	int64_t		 since;		/* mac[0] alone since */
	int		 nmacs;
	int		 last;		/* which was seen last */
	int64_t		 flips;
	struct anomaly_episode ep;
};

/* The counters of the current window. */
struct anomaly_window {
	uint64_t	 packets, bytes, syn, synack_matched, icmp, udpamp;
	uint64_t	 udp, frag_bad;
};

struct anomaly {
	char			*name;
	int64_t			 window_ms;
	int64_t			 end_ms;
	struct anomaly_threshold th[ANOMALY_COUNTER_MAX];
	int			 need[ANOMALY_COUNTER_MAX];	/* windows */
	int			 run[ANOMALY_COUNTER_MAX];	/* above */
	int			 ports_bits_needed, hosts_bits_needed;
	int			 slow_ports_bits, slow_hosts_bits;

	int64_t			 win_start;	/* 0: no packet yet */
	struct anomaly_window	 w;
	double			 last_pps, last_bps;
	struct anomaly_sketch	 top[CLASS_MAX][WHAT_MAX];
	int			 want[CLASS_MAX];	/* this window */
	struct anomaly_sketch	 ep_top[WHAT_MAX];
	struct anomaly_sketch	 frag_top[WHAT_MAX];
	uint16_t		*syns;		/* tags of flows awaiting */
	uint32_t		*amp;		/* UDP requests: tag, size */

	struct anomaly_source	*sources;
	struct anomaly_source_bucket *buckets;	/* the index */
	struct anomaly_slow	*slow;		/* NULL: no slow-* counter */
	uint64_t		 evictions;

	struct anomaly_episode	 flood;
	struct anomaly_episode	 frag;
	struct anomaly_episode	 scan;
	struct anomaly_scanner	 scanners[ANOMALY_MAX_SCANNERS];
	int			 nscanners;
	int			 more_scanners;

	uint32_t		 arp_ip[ANOMALY_MAX_ARP];
	struct anomaly_arp	 arp[ANOMALY_MAX_ARP];
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
	/* -log(1) is -0, which printf writes "-0". */
	if (bits <= 0)
		return 0;
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
	case ANOMALY_UDP_RATE:
		return CLASS_UDP;
	case ANOMALY_BAD_FRAGMENT_RATE:
		return CLASS_FRAG;
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
/* Where counter C stands in LIST (N long): N if it is not there. */
static size_t
anomaly_rank(const int *list, size_t n, int c)
{
	size_t	 r;

	for (r = 0; r < n && list[r] != c; r++)
		;
	return r;
}

/*
 * An open episode of LIST's counters wants its class, and those of the
 * more specific counters that may cross and rename it (see
 * anomaly_rate_episode).
 */
static void
anomaly_want_list(struct anomaly *a, const struct anomaly_episode *ep,
    const int *list, size_t n)
{
	size_t	 r;
	int	 c, open = -1;

	if (ep->warning != 0) {
		a->want[ep->cls] = 1;
		open = ep->counter;
	}
	/* Up to the open episode's counter, the more specific ones. */
	for (r = 0; r < n && list[r] != open; r++) {
		c = list[r];
		if (a->th[c].set && a->run[c] + 1 >= a->need[c])
			a->want[anomaly_counter_class(c)] = 1;
	}
}

static void
anomaly_want(struct anomaly *a)
{
	memset(a->want, 0, sizeof(a->want));
	anomaly_want_list(a, &a->flood, anomaly_flood_counters,
	    ANOMALY_NELEM(anomaly_flood_counters));
	anomaly_want_list(a, &a->frag, anomaly_frag_counters,
	    ANOMALY_NELEM(anomaly_frag_counters));
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
	if (a->th[ANOMALY_SLOW_PORTS_PER_SOURCE].set)
		a->slow_ports_bits = anomaly_bits_needed(
		    a->th[ANOMALY_SLOW_PORTS_PER_SOURCE].above);
	if (a->th[ANOMALY_SLOW_HOSTS_PER_SOURCE].set)
		a->slow_hosts_bits = anomaly_bits_needed(
		    a->th[ANOMALY_SLOW_HOSTS_PER_SOURCE].above);
	for (c = 0; c < CLASS_MAX; c++)
		for (i = 0; i < WHAT_MAX; i++)
			anomaly_sketch_init(&a->top[c][i],
			    ANOMALY_SKETCH_SLOTS);
	for (i = 0; i < WHAT_MAX; i++) {
		anomaly_sketch_init(&a->ep_top[i], ANOMALY_EPISODE_SLOTS);
		anomaly_sketch_init(&a->frag_top[i], ANOMALY_SKETCH_SLOTS);
	}
	a->syns = xcalloc(ANOMALY_SYN_SLOTS, sizeof(*a->syns));
	if (a->th[ANOMALY_UDP_AMP_RATE].set)
		a->amp = xcalloc(ANOMALY_AMP_SLOTS, sizeof(*a->amp));
	if (a->ports_bits_needed > 0 || a->hosts_bits_needed > 0 ||
	    a->slow_ports_bits > 0 || a->slow_hosts_bits > 0) {
		a->sources = xcalloc(ANOMALY_SOURCES, sizeof(*a->sources));
		a->buckets = xcalloc_align(64, ANOMALY_SOURCES /
		    ANOMALY_SOURCE_WAYS, sizeof(*a->buckets));
	}
	if (a->slow_ports_bits > 0 || a->slow_hosts_bits > 0)
		a->slow = xcalloc(ANOMALY_SOURCES, sizeof(*a->slow));
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
	for (i = 0; i < WHAT_MAX; i++) {
		free(a->ep_top[i].slot);
		free(a->frag_top[i].slot);
	}
	free(a->syns);
	free(a->amp);
	free(a->slow);
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
	n += a->frag.warning != 0;
	n += a->scan.warning != 0;
	n += a->drops.warning != 0;
	for (i = 0; i < a->narp; i++)
		n += a->arp[i].ep.warning != 0;
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
	struct anomaly_episode	*ep[4 + ANOMALY_MAX_ARP];
	size_t			 i, n = 0;
	int			 j;

	ep[n++] = &a->flood;
	ep[n++] = &a->frag;
	ep[n++] = &a->scan;
	ep[n++] = &a->drops;
	for (j = 0; j < a->narp; j++)
		ep[n++] = &a->arp[j].ep;
	for (i = 0; i < n; i++)
		if (ep[i]->warning == episode) {
			ep[i]->warning = 0;
			ep[i]->nrelated = 0;
		}
	if (a->scan.warning == 0 && a->nscanners > 0)
		anomaly_scan_reset(a);
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

/*
 * The episode's current top targets that its traffic aims at, each
 * perhaps a system that is down.  A target aimed at takes a share of the
 * window's packets (ANOMALY_AIMED_SHARE): a system that only gets its
 * usual traffic while a flood goes on elsewhere (the daemon's own checks
 * of it, retried while it is down) is no target of the flood, though it
 * may be among the top five.
 */
static void
anomaly_relate_targets(struct anomaly *a, struct anomaly_episode *ep,
    const struct anomaly_sketch *s, int64_t now, const char *category)
{
	struct anomaly_slot	 top[ANOMALY_TOP];
	char			 buf[64];
	uint64_t		 all = 0;
	size_t			 j;
	int			 i, n;

	if (a->relate == NULL)
		return;
	for (j = 0; j < s->nslots; j++)
		all += s->slot[j].count;
	n = anomaly_sketch_top(s, top, ANOMALY_TOP);
	for (i = 0; i < n; i++)
		if (top[i].count * ANOMALY_AIMED_SHARE >= all)
			anomaly_relate(a, ep, now, anomaly_key_fmt(&top[i].k,
			    buf, sizeof(buf)), category);
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
	if (a->frag.warning != 0) {
		anomaly_warning_end(a, a->frag.warning, a->frag.last_active,
		    detail);
		anomaly_indicators(a, a->frag.warning, a->frag_top);
	}
	if (a->scan.warning != 0)
		anomaly_scan_end(a, detail);
	if (a->drops.warning != 0)
		anomaly_warning_end(a, a->drops.warning, a->drops.last_active,
		    detail);
	for (i = 0; i < a->narp; i++)
		if (a->arp[i].ep.warning != 0) {
			anomaly_warning_end(a, a->arp[i].ep.warning, now,
			    detail);
			memset(&a->arp[i].ep, 0, sizeof(a->arp[i].ep));
		}
	memset(&a->flood, 0, sizeof(a->flood));
	memset(&a->frag, 0, sizeof(a->frag));
	memset(&a->drops, 0, sizeof(a->drops));
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

/*
 * A rate episode (a flood of LIST's counters, most specific first, or
 * bad fragments), at the end of a window whose values are V: opened when
 * one of its counters crosses, named by the most specific that did, and
 * renamed, on its timeline, when a more specific one crosses later; its
 * sources, targets and ports are that counter's class's.  Ended after
 * END with every one of its counters below.
 */
static void
anomaly_rate_episode(struct anomaly *a, struct anomaly_episode *ep,
    struct anomaly_sketch *tops, const int *list, size_t n, const double *v,
    int64_t end, const char *category)
{
	char		 summary[512], detail[2048], line[2600], val[32];
	char		 th[32], d[32];
	size_t		 r;
	int		 c, crossed = -1, above = 0, i;
	enum anomaly_class cls;

	for (r = 0; r < n; r++) {
		c = list[r];
		if (!a->th[c].set || v[c] <= a->th[c].above)
			continue;
		above = 1;
		if (a->run[c] >= a->need[c] && crossed == -1)
			crossed = c;
	}
	if (crossed != -1 && (ep->warning == 0 || anomaly_rank(list, n,
	    crossed) < anomaly_rank(list, n, ep->counter))) {
		cls = anomaly_counter_class(crossed);
		for (i = 0; i < WHAT_MAX; i++) {
			anomaly_sketch_clear(&tops[i]);
			anomaly_sketch_merge(&tops[i], &a->top[cls][i]);
		}
		anomaly_value_fmt(crossed, v[crossed], val, sizeof(val));
		anomaly_value_fmt(crossed, a->th[crossed].above, th,
		    sizeof(th));
		snprintf(summary, sizeof(summary), "%s %s above %s for %s",
		    anomaly_counter_name(crossed), val, th,
		    duration_fmt(a->th[crossed].ms, d, sizeof(d)));
		anomaly_detail(tops, detail, sizeof(detail));
		if (ep->warning == 0) {
			ep->warning = anomaly_warning_open(a, end, summary,
			    detail);
			if (ep->warning != 0)
				anomaly_indicators(a, ep->warning, tops);
			ep->started = end;
		} else {
			/* The line's name is a constant: events keep it. */
			snprintf(line, sizeof(line), "%s; %s", summary,
			    detail);
			anomaly_warning_line(a, ep->warning, end,
			    "named by its own counter", line);
		}
		ep->last_active = end;
		ep->counter = crossed;
		ep->cls = cls;
		ep->peak = v[crossed];
		anomaly_relate_targets(a, ep, &a->top[cls][WHAT_TARGET], end,
		    category);
	} else if (ep->warning != 0) {
		cls = ep->cls;
		for (i = 0; i < WHAT_MAX; i++)
			anomaly_sketch_merge(&tops[i], &a->top[cls][i]);
		if (v[ep->counter] > ep->peak)
			ep->peak = v[ep->counter];
		/*
		 * A system may go down while the episode lasts; once calm,
		 * a window's traffic is no longer the flood's.
		 */
		if (v[ep->counter] > a->th[ep->counter].above)
			anomaly_relate_targets(a, ep, &a->top[cls][WHAT_TARGET],
			    end, category);
		if (above)
			ep->last_active = end;
		else if (end - ep->last_active >= a->end_ms) {
			c = ep->counter;
			anomaly_value_fmt(c, ep->peak, val, sizeof(val));
			snprintf(detail, sizeof(detail), "every counter under "
			    "its threshold for %s; %s peaked at %s",
			    duration_fmt(a->end_ms, d, sizeof(d)),
			    anomaly_counter_name(c), val);
			anomaly_warning_end(a, ep->warning, ep->last_active,
			    detail);
			anomaly_indicators(a, ep->warning, tops);
			memset(ep, 0, sizeof(*ep));
		}
	}
}

/* A window is over: judge the rate counters, then start the next. */
static void
anomaly_close_window(struct anomaly *a, int64_t end)
{
	double		 v[ANOMALY_COUNTER_MAX], secs;
	char		 detail[2048], d[32];
	enum anomaly_counter c;
	enum anomaly_class k;
	int		 i;

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
	v[ANOMALY_UDP_RATE] = (double)a->w.udp / secs;
	v[ANOMALY_BAD_FRAGMENT_RATE] = (double)a->w.frag_bad / secs;
	a->last_pps = v[ANOMALY_PACKET_RATE];
	a->last_bps = v[ANOMALY_BYTE_RATE];

	for (c = 0; c < ANOMALY_COUNTER_MAX; c++) {
		if (!a->th[c].set || anomaly_counter_unit(c) ==
		    ANOMALY_UNIT_DISTINCT)
			continue;
		if (v[c] > a->th[c].above)
			a->run[c]++;
		else
			a->run[c] = 0;
	}
	anomaly_rate_episode(a, &a->flood, a->ep_top, anomaly_flood_counters,
	    ANOMALY_NELEM(anomaly_flood_counters), v, end, "DOS");
	anomaly_rate_episode(a, &a->frag, a->frag_top, anomaly_frag_counters,
	    ANOMALY_NELEM(anomaly_frag_counters), v, end, "INT");
	anomaly_scan_window(a, end);
	anomaly_arp_window(a, end);
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
	s->packets = s->total = 0;
	s->ports_before = s->hosts_before = 0;
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

/*
 * Set the bit H picks; the list becomes the bitmap when it is full.
 * Inlined always: each packet counted per source sets two or four.
 */
static inline __attribute__((always_inline)) void
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

/* A named scanner's source, or NULL if its slot went to another. */
static struct anomaly_source *
anomaly_scanner_source(struct anomaly *a, const struct anomaly_scanner *sc)
{
	struct anomaly_source	*s = &a->sources[sc->index];

	return anomaly_key_eq(&s->k, &sc->k) ? s : NULL;
}

/*
 * What a source did since it was flagged, as the warning's detail says;
 * TARGET is what its scan aimed at.  Only what a counter of the block
 * counts is told: without a host counter, hosts are not counted, and "0
 * distinct hosts" would be false.
 */
static void
anomaly_source_fmt(const struct anomaly *a, const struct anomaly_source *s,
    const uint8_t *target, char *out, size_t len)
{
	char	 src[64], dst[64], ports[64] = "", hosts[64] = "";
	int	 by_ports, by_hosts;

	by_ports = s->max_port != 0 && (a->ports_bits_needed > 0 ||
	    a->slow_ports_bits > 0);
	by_hosts = a->hosts_bits_needed > 0 || a->slow_hosts_bits > 0;
	anomaly_key_fmt(&s->k, src, sizeof(src));
	packet_addr_fmt(s->k.family, target, dst, sizeof(dst));
	if (by_ports)
		snprintf(ports, sizeof(ports), "about %.0f distinct ports "
		    "(%u-%u)%s", s->ports_before + anomaly_estimate(
		    s->ports.n), s->min_port, s->max_port, by_hosts ?
		    " and " : "");
	if (by_hosts)
		snprintf(hosts, sizeof(hosts), "%s%.0f distinct hosts",
		    by_ports ? "" : "about ", s->hosts_before +
		    anomaly_estimate(s->hosts.n));
	snprintf(out, len, "source %s: %s%s (target %s) in %llu packets",
	    src, ports, hosts, dst, (unsigned long long)s->total);
}

/*
 * The scan episode's figures as they are now, each named source's on
 * its own: its detail grows while the episode lasts (the first source's
 * line was all it said when it opened).
 */
static void
anomaly_scan_detail(struct anomaly *a, char *out, size_t len)
{
	struct anomaly_source	*s;
	size_t			 off = 0;
	int			 i;

	out[0] = '\0';
	for (i = 0; i < a->nscanners && off < len; i++) {
		if ((s = anomaly_scanner_source(a, &a->scanners[i])) == NULL)
			continue;
		if (off > 0)
			off += (size_t)snprintf(out + off, len - off, "; ");
		if (off < len)
			anomaly_source_fmt(a, s, a->scanners[i].target,
			    out + off, len - off);
		off += strlen(out + off);
	}
	if (a->more_scanners > 0 && off < len)
		snprintf(out + off, len - off, "; and %d more sources",
		    a->more_scanners);
}

/*
 * The named sources' indicators: their packets so far, their last
 * target, and at the end (FINAL) the range of ports they reached, which
 * is only known then.
 */
static void
anomaly_scan_indicators(struct anomaly *a, int final)
{
	struct anomaly_source	*s;
	char			 buf[64];
	int			 i;

	for (i = 0; i < a->nscanners; i++) {
		if ((s = anomaly_scanner_source(a, &a->scanners[i])) == NULL)
			continue;
		anomaly_indicator(a, a->scan.warning, "source",
		    anomaly_key_fmt(&s->k, buf, sizeof(buf)),
		    (int64_t)s->total);
		anomaly_indicator(a, a->scan.warning, "target",
		    packet_addr_fmt(s->k.family, a->scanners[i].target, buf,
		    sizeof(buf)), 0);
		if (final && s->max_port != 0) {
			snprintf(buf, sizeof(buf), "%u-%u", s->min_port,
			    s->max_port);
			anomaly_indicator(a, a->scan.warning, "port", buf, 0);
		}
		a->scanners[i].shown = s->total;
	}
}

/*
 * The scan episode is over: its sources are no longer flagged, so that
 * the next scan from one of them is a new episode, counted afresh.
 * Only flagged entries weigh ANOMALY_WEIGHT_FLAGGED in the index.
 */
static void
anomaly_scan_reset(struct anomaly *a)
{
	struct anomaly_source	*s;
	size_t			 b, w;

	memset(&a->scan, 0, sizeof(a->scan));
	a->nscanners = 0;
	a->more_scanners = 0;
	if (a->sources == NULL)
		return;
	for (b = 0; b < ANOMALY_SOURCES / ANOMALY_SOURCE_WAYS; b++)
		for (w = 0; w < ANOMALY_SOURCE_WAYS; w++) {
			if (a->buckets[b].weight[w] != ANOMALY_WEIGHT_FLAGGED)
				continue;
			s = &a->sources[b * ANOMALY_SOURCE_WAYS + w];
			s->flagged = 0;
			s->packets = s->total = 0;
			s->ports_before = s->hosts_before = 0;
			s->min_port = s->max_port = 0;
			anomaly_bits_clear(&s->ports);
			anomaly_bits_clear(&s->hosts);
			if (a->slow != NULL) {
				anomaly_bits_clear(&a->slow[b *
				    ANOMALY_SOURCE_WAYS + w].ports);
				anomaly_bits_clear(&a->slow[b *
				    ANOMALY_SOURCE_WAYS + w].hosts);
			}
			a->buckets[b].weight[w] = 1;
		}
}

/* The scan episode's end: its final figures and indicators. */
static void
anomaly_scan_end(struct anomaly *a, const char *why)
{
	struct anomaly_event	*ev;
	char			 detail[2048];
	size_t			 off;

	snprintf(detail, sizeof(detail), "%s; ", why);
	off = strlen(detail);
	anomaly_scan_detail(a, detail + off, sizeof(detail) - off);
	/* The warning's own detail, too, says how far it went. */
	if ((ev = anomaly_emit(a, ANOMALY_EVENT_DETAIL, a->scan.warning,
	    a->scan.last_active)) != NULL)
		ev->detail = xstrdup(detail + off);
	anomaly_warning_end(a, a->scan.warning, a->scan.last_active, detail);
	anomaly_scan_indicators(a, 1);
	anomaly_scan_reset(a);
}

/*
 * A window closed with the scan episode open: what its sources did since
 * is told (a detail event, their indicators), a system they aim at that
 * went down since is related, and after END without a packet from them
 * nor a new source, the episode ends.
 */
static void
anomaly_scan_window(struct anomaly *a, int64_t end)
{
	struct anomaly_source	*s;
	struct anomaly_event	*ev;
	char			 detail[2048], d[32], dst[64];
	int			 i, grew = 0;

	if (a->scan.warning == 0)
		return;
	if (end - a->scan.last_active >= a->end_ms) {
		snprintf(detail, sizeof(detail), "no new source above its "
		    "threshold for %s", duration_fmt(a->end_ms, d, sizeof(d)));
		anomaly_scan_end(a, detail);
		return;
	}
	for (i = 0; i < a->nscanners; i++) {
		if ((s = anomaly_scanner_source(a, &a->scanners[i])) == NULL)
			continue;
		grew |= s->total != a->scanners[i].shown;
		anomaly_relate(a, &a->scan, end, packet_addr_fmt(s->k.family,
		    a->scanners[i].target, dst, sizeof(dst)), "INT");
	}
	if (!grew)
		return;
	anomaly_scan_detail(a, detail, sizeof(detail));
	if ((ev = anomaly_emit(a, ANOMALY_EVENT_DETAIL, a->scan.warning,
	    end)) != NULL)
		ev->detail = xstrdup(detail);
	anomaly_scan_indicators(a, 0);
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
		sc->index = (size_t)(s - a->sources);
		sc->shown = s->total;
		/* The packet that made it cross is one of its scan's. */
		memcpy(sc->target, s->last_dst, sizeof(sc->target));
	}
	anomaly_key_fmt(&s->k, src, sizeof(src));
	packet_addr_fmt(s->k.family, s->last_dst, dst, sizeof(dst));
	anomaly_source_fmt(a, s, s->last_dst, detail, sizeof(detail));
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
		    (int64_t)s->total);
		anomaly_indicator(a, a->scan.warning, "target", dst, 0);
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

/*
 * The period of threshold TH that NOW is in (from 1), and whether a
 * source's count for it must start again: its bits are cleared, and a
 * flagged source keeps what they counted in *BEFORE.
 */
static int
anomaly_period(const struct anomaly_threshold *th, int64_t now,
    int64_t *period)
{
	int64_t	 p = th->set ? now / th->ms + 1 : 0;

	if (*period == p)
		return 0;
	*period = p;
	return 1;
}

/*
 * A source's slow-* counts (a->slow, same index): its periods are longer
 * than the short ones' and kept apart, so that a scan slower than the
 * short threshold allows is found.  The counter that crossed, or -1.
 */
static int
anomaly_slow_source(struct anomaly *a, size_t index, int64_t now,
    int has_port, uint16_t dport, const struct anomaly_key *dk)
{
	struct anomaly_slow	*sl = &a->slow[index];

	if (anomaly_period(&a->th[ANOMALY_SLOW_PORTS_PER_SOURCE], now,
	    &sl->ports_period)) {
		anomaly_bits_clear(&sl->ports);
		sl->min_port = sl->max_port = 0;
	}
	if (has_port) {
		if (sl->min_port == 0 || dport < sl->min_port)
			sl->min_port = dport;
		if (dport > sl->max_port)
			sl->max_port = dport;
	}
	if (anomaly_period(&a->th[ANOMALY_SLOW_HOSTS_PER_SOURCE], now,
	    &sl->hosts_period))
		anomaly_bits_clear(&sl->hosts);
	if (a->slow_ports_bits > 0 && has_port) {
		anomaly_bit_set(&sl->ports, anomaly_mix((uint64_t)dport + 1));
		if (sl->ports.n > a->slow_ports_bits)
			return ANOMALY_SLOW_PORTS_PER_SOURCE;
	}
	if (a->slow_hosts_bits > 0) {
		anomaly_bit_set(&sl->hosts, anomaly_hash(dk));
		if (sl->hosts.n > a->slow_hosts_bits)
			return ANOMALY_SLOW_HOSTS_PER_SOURCE;
	}
	return -1;
}

/*
 * A source flagged by a slow counter: what it did is what the long period
 * saw, of which the short one holds only the end.
 */
static void
anomaly_slow_figures(struct anomaly_source *s, const struct anomaly_slow *sl)
{
	double	 d;

	if ((d = anomaly_estimate(sl->ports.n) -
	    anomaly_estimate(s->ports.n)) > 0)
		s->ports_before = d;
	if ((d = anomaly_estimate(sl->hosts.n) -
	    anomaly_estimate(s->hosts.n)) > 0)
		s->hosts_before = d;
	if (sl->min_port != 0 && (s->min_port == 0 ||
	    sl->min_port < s->min_port))
		s->min_port = sl->min_port;
	if (sl->max_port > s->max_port)
		s->max_port = sl->max_port;
}

/*
 * Does flagged source S aim at what its scan did when it crossed?  A
 * source not named (beyond ANOMALY_MAX_SCANNERS) is taken to.
 */
static int
anomaly_scanner_aims(const struct anomaly *a, const struct anomaly_source *s,
    const uint8_t *dst)
{
	size_t	 index = (size_t)(s - a->sources);
	int	 i;

	for (i = 0; i < a->nscanners; i++)
		if (a->scanners[i].index == index)
			return memcmp(a->scanners[i].target, dst,
			    sizeof(a->scanners[i].target)) == 0;
	return 1;
}

/*
 * Per source S (with a slot): distinct destination ports and hosts in
 * their periods.  DST is the address aimed at (16 bytes), DPORT its port
 * if HAS_PORT.  A source stays flagged until the scan episode ends,
 * whatever the periods: its figures then add up over them.
 */
static void
anomaly_source_count(struct anomaly *a, struct anomaly_source *s,
    int64_t now, const uint8_t *dst, int has_port, uint16_t dport,
    const struct anomaly_key *dk)
{
	struct anomaly_source_bucket *b;
	size_t			 way, index;
	int			 c = -1, slow, ports_n, hosts_n;

	index = (size_t)(s - a->sources);
	b = &a->buckets[index / ANOMALY_SOURCE_WAYS];
	way = index % ANOMALY_SOURCE_WAYS;
	if (anomaly_period(&a->th[ANOMALY_PORTS_PER_SOURCE], now,
	    &s->ports_period)) {
		if (s->flagged)
			s->ports_before += anomaly_estimate(s->ports.n);
		else
			s->min_port = s->max_port = 0;
		anomaly_bits_clear(&s->ports);
		s->packets = 0;
	}
	if (anomaly_period(&a->th[ANOMALY_HOSTS_PER_SOURCE], now,
	    &s->hosts_period)) {
		if (s->flagged)
			s->hosts_before += anomaly_estimate(s->hosts.n);
		anomaly_bits_clear(&s->hosts);
		s->packets = 0;
	}
	if (!s->flagged && s->total == 0 && a->slow != NULL) {
		/* A slot new to this source: its slow counts too. */
		a->slow[index].ports_period = a->slow[index].hosts_period =
		    -1;
	}
	s->packets++;
	s->total++;
	b->weight[way] = s->flagged ? ANOMALY_WEIGHT_FLAGGED :
	    s->packets > ANOMALY_WEIGHT_MAX ? ANOMALY_WEIGHT_MAX :
	    (uint16_t)s->packets;
	memcpy(s->last_dst, dst, sizeof(s->last_dst));
	ports_n = s->ports.n;
	hosts_n = s->hosts.n;
	if (has_port) {
		if (s->min_port == 0 || dport < s->min_port)
			s->min_port = dport;
		if (dport > s->max_port)
			s->max_port = dport;
		if (a->ports_bits_needed > 0)
			anomaly_bit_set(&s->ports, anomaly_mix(
			    (uint64_t)dport + 1));
	}
	if (a->hosts_bits_needed > 0)
		anomaly_bit_set(&s->hosts, anomaly_hash(dk));
	if (s->flagged) {
		/*
		 * The scan goes on while its source reaches a new port or
		 * host; once its bits are nearly all set, and new ones
		 * rarely show (a scan of all ports), while it aims at what
		 * it scanned.  A decoy is a real host's address, and that
		 * host's own traffic (a client retrying a system that is
		 * down, the very one scanned perhaps) would keep the
		 * episode open for ever.  The slow counters' bits are not
		 * kept for a flagged source: with them, any packet is the
		 * scan's, as before.
		 */
		if (s->ports.n != ports_n || s->hosts.n != hosts_n ||
		    a->slow != NULL || ((s->ports.n >= ANOMALY_BITMAP_FULL ||
		    s->hosts.n >= ANOMALY_BITMAP_FULL) &&
		    anomaly_scanner_aims(a, s, dst)))
			a->scan.last_active = now;
		return;
	}
	if (a->ports_bits_needed > 0 && s->ports.n > a->ports_bits_needed)
		c = ANOMALY_PORTS_PER_SOURCE;
	else if (a->hosts_bits_needed > 0 &&
	    s->hosts.n > a->hosts_bits_needed)
		c = ANOMALY_HOSTS_PER_SOURCE;
	/* One call, counted either way: the compiler inlines it then. */
	if (a->slow != NULL &&
	    (slow = anomaly_slow_source(a, index, now, has_port, dport,
	    dk)) != -1 && c == -1)
		c = slow;
	if (c == ANOMALY_SLOW_PORTS_PER_SOURCE ||
	    c == ANOMALY_SLOW_HOSTS_PER_SOURCE)
		anomaly_slow_figures(s, &a->slow[index]);
	if (c != -1) {
		anomaly_scan_flag(a, s, c, now);
		b->weight[way] = ANOMALY_WEIGHT_FLAGGED;
	}
}

/*
 * A packet from source K that counts per source.  Most sources of a
 * spoofed flood get no slot: only a source with one pays for the call
 * that counts it, whose frame is big (callgrind: 30 instructions a
 * packet of the flood when the look-up was inside it).
 */
static inline void
anomaly_per_source(struct anomaly *a, int64_t now, const uint8_t *dst,
    int has_port, uint16_t dport, const struct anomaly_key *k,
    const struct anomaly_key *dk)
{
	struct anomaly_source	*s;

	if ((s = anomaly_source_find(a, k)) != NULL)
		anomaly_source_count(a, s, now, dst, has_port, dport, dk);
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

/*
 * A UDP port of a service that answers small queries with big replies.
 * A switch, not a loop over a table: it is asked twice for every UDP
 * packet, and the compiler makes it a few comparisons.
 */
static inline int
anomaly_is_amp(uint16_t port)
{
	switch (port) {
	case 17:	/* qotd */
	case 19:	/* chargen */
	case 53:	/* dns */
	case 111:	/* portmap */
	case 123:	/* ntp */
	case 137:	/* netbios-ns */
	case 161:	/* snmp */
	case 389:	/* cldap */
	case 1900:	/* ssdp */
	case 3702:	/* ws-discovery */
	case 5353:	/* mdns */
	case 11211:	/* memcached */
		return 1;
	default:
		return 0;
	}
}

/*
 * A packet that answers one (a SYN-ACK, a reset, an echo reply, an
 * ICMP error): a scan with decoys makes its target answer each decoy, so
 * the decoys are not what a flood of all packets aims at.
 */
static int
anomaly_is_answer(const struct packet *pk)
{
	if (pk->proto == IPPROTO_TCP)
		return pk->has_tcp_flags && ((pk->tcp_flags &
		    PACKET_TCP_RST) || (pk->tcp_flags & (PACKET_TCP_SYN |
		    PACKET_TCP_ACK)) == (PACKET_TCP_SYN | PACKET_TCP_ACK));
	if (pk->proto == IPPROTO_ICMP)
		return pk->has_icmp && (pk->icmp_type == 0 ||
		    pk->icmp_type == 3 || pk->icmp_type == 11);
	if (pk->proto == IPPROTO_ICMPV6)
		return pk->has_icmp && (pk->icmp_type < 5 ||
		    pk->icmp_type == 129);
	return 0;
}

/*
 * A UDP datagram with its ports, LEN bytes.  To a service that
 * amplifies, it is a request, remembered by its flow with its size; from
 * one, a reply, counted by udp-amplification-rate only when no request
 * seen asked for it or it is ANOMALY_AMP_FACTOR times bigger: a server
 * answering its own clients is not amplifying.  Without the counter, no
 * table.
 */
static void
anomaly_udp(struct anomaly *a, uint32_t len, const struct packet *pk,
    const struct anomaly_key *src, const struct anomaly_key *dst)
{
	struct anomaly_key	 port;
	uint32_t		*slot, asked;
	uint64_t		 h;

	if (a->amp == NULL)
		return;
	if (anomaly_is_amp(pk->dport)) {
		h = anomaly_flow_hash(src->hash, dst->hash, pk->sport,
		    pk->dport);
		a->amp[h & (ANOMALY_AMP_SLOTS - 1)] = (uint32_t)anomaly_syn_tag(
		    h) << 16 | (len > UINT16_MAX ? UINT16_MAX : len);
	}
	if (!anomaly_is_amp(pk->sport))
		return;
	h = anomaly_flow_hash(dst->hash, src->hash, pk->dport, pk->sport);
	slot = &a->amp[h & (ANOMALY_AMP_SLOTS - 1)];
	asked = *slot & UINT16_MAX;
	if (*slot >> 16 == anomaly_syn_tag(h) &&
	    len <= (uint64_t)asked * ANOMALY_AMP_FACTOR)
		return;
	a->w.udpamp++;
	if (a->want[CLASS_UDPAMP]) {
		anomaly_key_port(&port, pk->proto, pk->sport);
		anomaly_count(a, CLASS_UDPAMP, src, dst, &port);
	}
}

static inline void
anomaly_count(struct anomaly *a, int c,
    const struct anomaly_key *src, const struct anomaly_key *dst,
    const struct anomaly_key *port)
{
	anomaly_sketch_add(&a->top[c][WHAT_SOURCE], src, 1);
	if (dst != NULL)
		anomaly_sketch_add(&a->top[c][WHAT_TARGET], dst, 1);
	if (port != NULL)
		anomaly_sketch_add(&a->top[c][WHAT_PORT], port, 1);
}

#define ANOMALY_MACFMT	"%02x:%02x:%02x:%02x:%02x:%02x"
#define ANOMALY_MACARG(m) (m)[0], (m)[1], (m)[2], (m)[3], (m)[4], (m)[5]

/*
 * An ARP packet for watched address I, from MAC at NOW.  A second MAC
 * opens a conflict naming both; the one the address had before is named
 * only when it had held it alone for END (the daemon may have started
 * in the middle of a spoof, and then the first MAC seen may well be the
 * forger's).  The address aimed at is related to a system down there.
 */
static void
anomaly_arp_claim(struct anomaly *a, int i, int64_t now, const uint8_t *mac,
    int op)
{
	struct anomaly_arp	*ar = &a->arp[i];
	char			 summary[512], detail[512], ip[INET_ADDRSTRLEN];
	char			 was[18], is[18];
	int			 j;

	for (j = 0; j < ar->nmacs; j++)
		if (memcmp(ar->mac[j], mac, 6) == 0)
			break;
	if (j == ar->nmacs) {
		if (ar->nmacs < 2)
			ar->nmacs++;
		else	/* a third MAC takes the place of the older one */
			j = ar->seen[0] < ar->seen[1] ? 0 : 1;
		memcpy(ar->mac[j], mac, 6);
		if (j == 0)
			ar->since = now;
	} else if (ar->nmacs == 2 && j != ar->last)
		ar->flips++;
	ar->last = j;
	ar->seen[j] = now;
	if (ar->nmacs < 2 || ar->ep.warning != 0)
		return;
	/* The other MAC, the one seen before this one. */
	packet_addr_fmt(4, (const uint8_t *)&a->arp_ip[i], ip, sizeof(ip));
	snprintf(was, sizeof(was), ANOMALY_MACFMT, ANOMALY_MACARG(
	    ar->mac[1 - j]));
	snprintf(is, sizeof(is), ANOMALY_MACFMT, ANOMALY_MACARG(mac));
	if (j == 1 && now - ar->since >= a->end_ms)
		snprintf(summary, sizeof(summary), "arp-change: %s moved from "
		    "%s to %s", ip, was, is);
	else
		snprintf(summary, sizeof(summary), "arp-conflict: %s claimed "
		    "by %s and %s; which is its own is not known", ip, was,
		    is);
	snprintf(detail, sizeof(detail), "ARP %s from %s says %s is at %s; "
	    "%s said so from %s", op == 2 ? "reply" : "request", is, ip, is,
	    ip, was);
	ar->flips = 0;
	ar->ep.started = now;
	ar->ep.warning = anomaly_warning_open(a, now, summary, detail);
	if (ar->ep.warning == 0)
		return;
	anomaly_indicator(a, ar->ep.warning, "target", ip, 1);
	anomaly_indicator(a, ar->ep.warning, "mac", was, 1);
	anomaly_indicator(a, ar->ep.warning, "mac", is, 1);
	anomaly_relate(a, &ar->ep, now, ip, "INT");
}

/*
 * A window closed: an ARP conflict whose address was claimed by one MAC
 * alone for END is over, that MAC keeping it; one still going on is
 * related to a system that went down at its address since.
 */
static void
anomaly_arp_window(struct anomaly *a, int64_t end)
{
	struct anomaly_arp	*ar;
	char			 detail[512], ip[INET_ADDRSTRLEN], mac[18];
	char			 other[18], d[32];
	int64_t			 quiet;
	int			 i, o;

	for (i = 0; i < a->narp; i++) {
		ar = &a->arp[i];
		if (ar->ep.warning == 0)
			continue;
		packet_addr_fmt(4, (const uint8_t *)&a->arp_ip[i], ip,
		    sizeof(ip));
		o = 1 - ar->last;
		/* The other's claims before the conflict are not its end. */
		quiet = ar->seen[o] > ar->ep.started ? ar->seen[o] :
		    ar->ep.started;
		if (end - quiet < a->end_ms) {
			anomaly_relate(a, &ar->ep, end, ip, "INT");
			continue;
		}
		snprintf(mac, sizeof(mac), ANOMALY_MACFMT, ANOMALY_MACARG(
		    ar->mac[ar->last]));
		snprintf(other, sizeof(other), ANOMALY_MACFMT, ANOMALY_MACARG(
		    ar->mac[o]));
		snprintf(detail, sizeof(detail), "%s only at %s for %s; %lld "
		    "flip-flop%s between %s and %s", ip, mac, duration_fmt(
		    a->end_ms, d, sizeof(d)), (long long)ar->flips,
		    ar->flips == 1 ? "" : "s", mac, other);
		anomaly_warning_end(a, ar->ep.warning, quiet, detail);
		memset(&ar->ep, 0, sizeof(ar->ep));
		/* The address is that MAC's, alone since the other's last. */
		if (ar->last == 1)
			memcpy(ar->mac[0], ar->mac[1], 6);
		ar->seen[0] = ar->seen[ar->last];
		ar->since = quiet;
		ar->nmacs = 1;
		ar->last = 0;
		ar->flips = 0;
	}
}

/*
 * An ARP request for many addresses from one sender is a host sweep
 * (nmap -sn on the local segment): counted per source like any other,
 * its targets being the addresses asked for.  Announcements (the sender
 * asking for itself) and probes (no sender address) are not.
 */
static void
anomaly_arp_sweep(struct anomaly *a, int64_t now, const struct packet *pk)
{
	struct anomaly_key	 src, dst;
	uint8_t			 to[16];
	uint32_t		 sender;

	memcpy(&sender, pk->arp_ip, 4);
	if (pk->arp_op != 1 || sender == 0 ||
	    memcmp(pk->arp_ip, pk->arp_tip, 4) == 0)
		return;
	memset(to, 0, sizeof(to));
	memcpy(to, pk->arp_tip, 4);
	anomaly_key_addr(&src, 4, pk->arp_ip);
	anomaly_key_addr(&dst, 4, to);
	anomaly_per_source(a, now, to, 0, 0, &src, &dst);
}

static void
anomaly_arp(struct anomaly *a, int64_t now, const struct packet *pk)
{
	uint32_t	 addr;
	int		 i;

	if (a->sources != NULL)
		anomaly_arp_sweep(a, now, pk);
	/* Replies, and the requests that announce their sender. */
	if (pk->arp_op != 2 && pk->arp_op != 1)
		return;
	memcpy(&addr, pk->arp_ip, 4);
	for (i = 0; i < a->narp; i++)
		if (a->arp_ip[i] == addr) {
			anomaly_arp_claim(a, i, now, pk->arp_mac, pk->arp_op);
			return;
		}
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
		if (a->narp > 0 || a->sources != NULL)
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

	if (pk->has_ports && (a->want[CLASS_ALL] || a->want[CLASS_SYN] ||
	    a->want[CLASS_UDP] || a->want[CLASS_FRAG]))
		anomaly_key_port(&port, pk->proto, pk->dport);
	/* What answers a scan aims at its (perhaps forged) sources. */
	if (a->want[CLASS_ALL])
		anomaly_count(a, CLASS_ALL, &src, anomaly_is_answer(pk) ?
		    NULL : &dst, pk->has_ports ? &port : NULL);
	if (pk->frag_bad != 0) {
		a->w.frag_bad++;
		if (a->want[CLASS_FRAG])
			anomaly_count(a, CLASS_FRAG, &src, &dst,
			    pk->has_ports ? &port : NULL);
	}
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
	} else if (pk->proto == IPPROTO_UDP) {
		a->w.udp++;
		if (!pk->has_ports)
			;
		else {
			if (a->want[CLASS_UDP])
				anomaly_count(a, CLASS_UDP, &src, &dst, &port);
			anomaly_udp(a, len, pk, &src, &dst);
		}
	}
	if (per_source)
		anomaly_per_source(a, now, pk->dst, pk->has_ports, pk->dport,
		    &src, &dst);
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
