/*
 * capture.c: packets for the traffic counters.
 *
 * Live, each anomaly block has its own libpcap handle on its interface,
 * non-blocking, read when the event loop says its descriptor is ready: a
 * read never waits, and a callback reads at most CAPTURE_BATCH packets
 * so that the probes' timers still run under a flood.  The handle is not
 * in immediate mode: with a 100 ms timeout the kernel hands over packets
 * in blocks, one wake-up per block instead of one per packet.  A timer
 * closes the windows when no packet arrives, and reads pcap_stats to
 * report the kernel's drops.
 *
 * From a file (rtowatchd --pcap-file), the whole file is read at once,
 * before the event loop would start, each packet decoded once and fed
 * to every block whose filter it passes, with the file's own timestamps
 * as the clock.  libpcap opens the file and compiles the filters; a
 * classic pcap file is then read in place (pcapfile.c), anything else
 * through libpcap's own loop.  Published captures are not always in time
 * order (merged from two taps, or edited): the packets pass through a
 * window of CAPTURE_REORDER packets that puts them back in order, and
 * those later than that are counted and said.  For a classic file the
 * walk keeps that window (an index of offsets, pcapfile.c), and the
 * packets are decoded where they lie; through libpcap, they are decoded
 * as read and held decoded here.
 *
 * A link type packet.c does not decode is refused, file or interface:
 * packets counted as nothing would hide every attack in them.
 *
 * Each block's warnings are written by its writer (anomaly_store.c), not
 * by the counters: once a tick, after the reads, and at once when more
 * than ANOMALY_EVENTS_HIGH events are queued (a read stops early for
 * that).  A file's replay writes once per CAPTURE_TICK_MS of the file's
 * own clock.  The queue is looked at every CAPTURE_LOOK packets, not at
 * each: a packet queues a few events at most, and the look is most of
 * what the writer would add to a packet's cost.
 */
#include <event2/event.h>
#include <pcap/pcap.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anomaly.h"
#include "anomaly_store.h"
#include "capture.h"
#include "conf.h"
#include "engine.h"
#include "log.h"
#include "packet.h"
#include "pcapfile.h"
#include "store.h"
#include "util.h"

#define CAPTURE_SNAPLEN		256	/* headers, not payloads */
#define CAPTURE_TIMEOUT_MS	100
#define CAPTURE_BUFFER		(8 * 1024 * 1024)
#define CAPTURE_BATCH		4096
#define CAPTURE_TICK_MS		100
#define CAPTURE_LOOK		64	/* packets; a power of 2 */
#define CAPTURE_STATS_MS	1000
#define CAPTURE_RETRY_MS	5000	/* an interface gone or not there yet */
#define CAPTURE_REORDER		PCAPFILE_REORDER /* as the walk's */

struct capture_block {
	struct capture		*cap;
	struct anomaly		*an;
	struct anomaly_store	*writer;	/* of its warnings */
	char			*name;
	char			*interface;
	char			*filter;
	/* The rest of its definition, to tell a reload's changes. */
	int64_t			 window_ms, end_ms;
	struct anomaly_threshold th[ANOMALY_COUNTER_MAX];
	uint32_t		 arp_ip[ANOMALY_MAX_ARP];
	int			 narp;
	pcap_t			*pcap;		/* live */
	int			 dlt;
	struct bpf_program	 bpf;		/* file mode */
	int			 has_bpf;
	struct event		*ev;
	struct packet_frags	*frags;		/* nmap -f's flags, live */
	char			*refused;	/* why it does not capture */
	uint64_t		 packets;
	unsigned		 last_recv, last_drop;
	int64_t			 retry_at;	/* mono ms; 0: capturing */
	int			 failures;	/* opens failed in a row */
};

struct capture {
	struct store		*store;
	struct event_base	*base;		/* live */
	struct engine		*engine;	/* warnings relate to its incidents */
	struct capture_block	**blocks;	/* the event callbacks hold them */
	size_t			 nblocks;
	struct event		*tick;
	int64_t			 last_stats;
};

static int64_t	capture_relate(void *, const char *, const char **);
static int	capture_open(struct capture_block *, struct event_base *);

static struct capture_block *
capture_block_new(struct capture *cap, const struct anomaly_conf *ac)
{
	struct capture_block	*b;

	b = xcalloc(1, sizeof(*b));
	b->cap = cap;
	b->an = anomaly_new(ac);
	b->writer = anomaly_store_new(cap->store, b->an);
	b->frags = xcalloc(1, sizeof(*b->frags));
	if (cap->engine != NULL)
		anomaly_set_relate(b->an, capture_relate, cap->engine);
	b->name = xstrdup(ac->name);
	b->interface = xstrdup(ac->interface);
	if (ac->filter != NULL)
		b->filter = xstrdup(ac->filter);
	b->window_ms = ac->window_ms;
	b->end_ms = ac->end_ms;
	memcpy(b->th, ac->th, sizeof(b->th));
	memcpy(b->arp_ip, ac->arp_ip, sizeof(b->arp_ip));
	b->narp = ac->narp;
	return b;
}

static int
capture_streq(const char *a, const char *b)
{
	return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

/*
 * Is the block still what AC defines?  Where a threshold is written (its
 * line) does not count: a comment added above a block changes nothing.
 */
static int
capture_block_same(const struct capture_block *b,
    const struct anomaly_conf *ac)
{
	int	 c;

	if (strcmp(b->name, ac->name) != 0 ||
	    strcmp(b->interface, ac->interface) != 0 ||
	    !capture_streq(b->filter, ac->filter) ||
	    b->window_ms != ac->window_ms || b->end_ms != ac->end_ms ||
	    b->narp != ac->narp ||
	    memcmp(b->arp_ip, ac->arp_ip, sizeof(b->arp_ip)) != 0)
		return 0;
	for (c = 0; c < ANOMALY_COUNTER_MAX; c++)
		if (b->th[c].set != ac->th[c].set || (b->th[c].set &&
		    (b->th[c].above != ac->th[c].above ||
		    b->th[c].ms != ac->th[c].ms)))
			return 0;
	return 1;
}

static void
capture_block_free(struct capture_block *b)
{
	if (b->ev != NULL)
		event_free(b->ev);
	if (b->pcap != NULL)
		pcap_close(b->pcap);
	if (b->has_bpf)
		pcap_freecode(&b->bpf);
	anomaly_store_free(b->writer);
	anomaly_free(b->an);
	free(b->frags);
	free(b->refused);
	free(b->name);
	free(b->interface);
	free(b->filter);
	free(b);
}

struct capture *
capture_new(struct store *store, const struct conf *conf)
{
	const struct anomaly_conf	*ac;
	struct capture			*cap;
	int				 n = 0;

	cap = xcalloc(1, sizeof(*cap));
	cap->store = store;
	TAILQ_FOREACH(ac, &conf->anomalies, entry)
		n++;
	cap->blocks = xcalloc((size_t)n + 1, sizeof(struct capture_block *));
	TAILQ_FOREACH(ac, &conf->anomalies, entry)
		cap->blocks[cap->nblocks++] = capture_block_new(cap, ac);
	return cap;
}

void
capture_free(struct capture *cap)
{
	size_t	 i;

	if (cap == NULL)
		return;
	if (cap->tick != NULL)
		event_free(cap->tick);
	for (i = 0; i < cap->nblocks; i++)
		capture_block_free(cap->blocks[i]);
	free(cap->blocks);
	free(cap);
}

/*
 * The daemon stops: every block's open episodes end, saying so, instead
 * of staying open in the records for ever.
 */
void
capture_stop(struct capture *cap, const char *why)
{
	size_t	 i;

	for (i = 0; i < cap->nblocks; i++) {
		anomaly_stop(cap->blocks[i]->an, wall_ms(), why);
		anomaly_store_write(cap->blocks[i]->writer);
	}
}

/*
 * At a live start: the anomaly warnings a run that did not stop cleanly
 * (killed, crashed) left open are ended, since nothing watches them now.
 */
void
capture_end_orphans(struct capture *cap)
{
	int	 n;

	if (store_begin(cap->store) == -1)
		return;
	n = store_warning_end_orphans(cap->store, wall_ms(), "rtowatchd",
	    "rtowatchd stopped without ending this episode (killed or "
	    "crashed) and was not watching when it ended");
	if (n == -1) {
		store_rollback(cap->store);
		log_warnx("cannot end the early warnings a previous run left "
		    "open");
		return;
	}
	if (store_commit(cap->store) == -1)
		return;
	if (n > 0)
		log_warnx("%d early warning%s left open by a run that did not "
		    "stop cleanly %s ended", n, n == 1 ? "" : "s",
		    n == 1 ? "was" : "were");
}

static int64_t
capture_ms(const struct pcap_pkthdr *h)
{
	return (int64_t)h->ts.tv_sec * 1000 + h->ts.tv_usec / 1000;
}

/* Why a capture of link type DLT is refused, in BUF. */
static const char *
capture_dlt_refused(int dlt, char *buf, size_t len)
{
	const char	*name = pcap_datalink_val_to_name(dlt);

	snprintf(buf, len, "link type %s (%d) is not one rtowatchd decodes "
	    "(it reads EN10MB, LINUX_SLL, LINUX_SLL2, RAW, NULL and LOOP)",
	    name != NULL ? name : "unknown", dlt);
	return buf;
}

/* The peak resident memory in KiB, for the replay's last line. */
static long
capture_peak_kib(void)
{
	char	 line[128];
	FILE	*f;
	long	 kib = -1;

	if ((f = fopen("/proc/self/status", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/*
 * A packet of the file decoded, waiting for its turn: the filters are
 * judged on the bytes when read, since those are gone by then.
 */
struct capture_held {
	int64_t			 ms;
	uint32_t		 len;
	struct packet		 pk;
};

/* What the replay's callback needs between two packets. */
struct capture_file {
	struct capture		*cap;
	int			 dlt;
	uint64_t		 total;
	int64_t			 now;		/* of the last packet counted */
	int64_t			 written;	/* the file's clock */
	/* The reorder window: a ring of packets sorted by time. */
	struct capture_held	*held;
	uint8_t			*pass;		/* [slot][block]: filter said */
	size_t			 head, n;
	int64_t			 newest;	/* the time of the last held */
	int			 filtered;	/* a block has a filter */
	uint64_t		 reordered;	/* put back in order */
	uint64_t		 late;		/* beyond the window */
	uint64_t		 delivered;	/* out of the window */
	struct packet_frags	*frags;
};

/* The blocks' writers' turn: by the file's clock, or a long queue. */
static void
capture_file_write(struct capture_file *cf)
{
	struct capture	*cap = cf->cap;
	size_t		 i;
	int		 tick;

	tick = cf->now - cf->written >= CAPTURE_TICK_MS;
	if (tick)
		cf->written = cf->now;
	for (i = 0; i < cap->nblocks; i++)
		if (tick || anomaly_events(cap->blocks[i]->an, NULL) >=
		    ANOMALY_EVENTS_HIGH)
			anomaly_store_write(cap->blocks[i]->writer);
}


static void
capture_file_swap(struct capture_file *cf, size_t a, size_t b)
{
	struct capture_held	 t;
	uint8_t			*pa = cf->pass + a * cf->cap->nblocks;
	uint8_t			*pb = cf->pass + b * cf->cap->nblocks;
	uint8_t			 c;
	size_t			 i;

	t = cf->held[a];
	cf->held[a] = cf->held[b];
	cf->held[b] = t;
	for (i = 0; i < cf->cap->nblocks; i++) {
		c = pa[i];
		pa[i] = pb[i];
		pb[i] = c;
	}
}

/* The window's oldest packet, to every block whose filter took it. */
static void
capture_file_deliver(struct capture_file *cf)
{
	struct capture		*cap = cf->cap;
	struct capture_block	*b;
	struct capture_held	*hp = &cf->held[cf->head];
	const uint8_t		*pass = cf->pass + cf->head * cap->nblocks;
	size_t			 i;

	cf->now = hp->ms;
	cf->head = (cf->head + 1) & (CAPTURE_REORDER - 1);
	cf->n--;
	for (i = 0; i < cap->nblocks; i++) {
		if (cf->filtered && !pass[i])
			continue;
		b = cap->blocks[i];
		b->packets++;
		anomaly_packet(b->an, hp->ms, hp->len, &hp->pk);
	}
	if ((++cf->delivered & (CAPTURE_LOOK - 1)) == 0)
		capture_file_write(cf);
}

/*
 * One packet of the file: decoded once, held in the window in time order,
 * fed to every block it passes when the window is full.  In a file in
 * order it goes at the window's end, where it was decoded.  One older
 * than a packet already counted is counted at that packet's time.
 */
static void
capture_file_cb(u_char *arg, const struct pcap_pkthdr *h, const u_char *data)
{
	struct capture_file	*cf = (struct capture_file *)arg;
	struct capture		*cap = cf->cap;
	struct capture_held	*hp;
	uint8_t			*pass;
	size_t			 slot, prev;
	int64_t			 ms = capture_ms(h);
	size_t			 i;
	int			 late = 0;

	cf->total++;
	if (cf->n == CAPTURE_REORDER)
		capture_file_deliver(cf);
	if (__builtin_expect(ms < cf->now, 0)) {
		/* Only a packet delivered at a later time sets cf->now. */
		cf->late++;
		ms = cf->now;
		late = 1;
	}
	slot = (cf->head + cf->n++) & (CAPTURE_REORDER - 1);
	/* Not IP nor ARP: still a packet, and bytes. */
	hp = &cf->held[slot];
	hp->ms = ms;
	hp->len = h->len;
	packet_decode(cf->dlt, data, h->caplen, &hp->pk);
	if (__builtin_expect(hp->pk.frag != PACKET_FRAG_NONE, 0))
		packet_frag_join(cf->frags, ms, &hp->pk);
	if (cf->filtered) {
		pass = cf->pass + slot * cap->nblocks;
		for (i = 0; i < cap->nblocks; i++)
			pass[i] = !cap->blocks[i]->has_bpf ||
			    pcap_offline_filter(&cap->blocks[i]->bpf, h,
			    data) != 0;
	}
	if (__builtin_expect(ms >= cf->newest, 1)) {
		cf->newest = ms;
		return;
	}
	/* Earlier than the packets before it: moved back to its place. */
	cf->reordered += !late;
	while (slot != cf->head) {
		prev = (slot - 1) & (CAPTURE_REORDER - 1);
		if (cf->held[prev].ms <= cf->held[slot].ms)
			break;
		capture_file_swap(cf, prev, slot);
		slot = prev;
	}
}

/*
 * One packet of a classic pcap file, in time order already (the walk
 * has its own window): straight to every block it passes.
 */
static void
capture_file_direct_cb(u_char *arg, const struct pcap_pkthdr *h,
    const u_char *data)
{
	struct capture_file	*cf = (struct capture_file *)arg;
	struct capture		*cap = cf->cap;
	struct capture_block	*b;
	struct packet		 pk;
	size_t			 i;

	cf->total++;
	cf->now = capture_ms(h);
	/* Not IP nor ARP: still a packet, and bytes. */
	packet_decode(cf->dlt, data, h->caplen, &pk);
	if (__builtin_expect(pk.frag != PACKET_FRAG_NONE, 0))
		packet_frag_join(cf->frags, cf->now, &pk);
	for (i = 0; i < cap->nblocks; i++) {
		b = cap->blocks[i];
		if (b->has_bpf && pcap_offline_filter(&b->bpf, h, data) == 0)
			continue;
		b->packets++;
		anomaly_packet(b->an, cf->now, h->len, &pk);
	}
	if ((cf->total & (CAPTURE_LOOK - 1)) == 0)
		capture_file_write(cf);
}

/*
 * Feed a whole capture file to every block, as fast as it reads.  Returns
 * 0 at the file's end, -1 when it cannot be read.  A classic pcap file
 * is walked in place; any other goes through one pcap_dispatch over the
 * whole file, not a pcap_next_ex per packet: libpcap's loop costs less
 * per packet than its one-packet entry point.
 */
int
capture_run_file(struct capture *cap, const char *path)
{
	char			 err[PCAP_ERRBUF_SIZE];
	struct capture_file	 cf;
	struct pcapfile		 pf;
	struct capture_block	*b;
	pcap_t			*p;
	int64_t			 t0 = 0;
	size_t			 i;
	int			 rc, dlt, open = 0;

	if ((p = pcap_open_offline_with_tstamp_precision(path,
	    PCAP_TSTAMP_PRECISION_MICRO, err)) == NULL) {
		/* libpcap names the file in some messages, not all. */
		if (strstr(err, path) != NULL)
			log_warnx("%s", err);
		else
			log_warnx("%s: %s", path, err);
		return -1;
	}
	dlt = pcap_datalink(p);
	if (!packet_dlt_known(dlt)) {
		log_warnx("%s: %s", path, capture_dlt_refused(dlt, err,
		    sizeof(err)));
		pcap_close(p);
		return -1;
	}
	for (i = 0; i < cap->nblocks; i++) {
		b = cap->blocks[i];
		if (b->filter == NULL)
			continue;
		if (pcap_compile(p, &b->bpf, b->filter, 1,
		    PCAP_NETMASK_UNKNOWN) == -1) {
			log_warnx("anomaly %s: filter \"%s\" on %s: %s",
			    b->name, b->filter, path, pcap_geterr(p));
			pcap_close(p);
			return -1;
		}
		b->has_bpf = 1;
	}
	if ((rc = pcapfile_map(path, &pf, err, sizeof(err))) == -1) {
		log_warnx("%s", err);
		pcap_close(p);
		return -1;
	}
	log_info("%s: reading for %zu anomaly blocks (link type %s, %s)",
	    path, cap->nblocks, pcap_datalink_val_to_name(dlt), rc == 1 ?
	    "classic pcap, read in place" : "through libpcap");
	memset(&cf, 0, sizeof(cf));
	cf.cap = cap;
	cf.dlt = dlt;
	cf.held = xcalloc(CAPTURE_REORDER, sizeof(*cf.held));
	cf.pass = xcalloc(CAPTURE_REORDER, cap->nblocks);
	cf.frags = xcalloc(1, sizeof(*cf.frags));
	for (i = 0; i < cap->nblocks; i++)
		cf.filtered |= cap->blocks[i]->has_bpf;
	t0 = mono_ms();
	if (rc == 1) {
		/* The walk puts the records in time order itself. */
		if ((rc = pcapfile_walk(&pf, capture_file_direct_cb,
		    (u_char *)&cf, err, sizeof(err))) == -1)
			log_warnx("%s: %s; stopped after %llu packets", path,
			    err, (unsigned long long)cf.total);
		cf.reordered = pf.reordered;
		cf.late = pf.late;
		pcapfile_unmap(&pf);
	} else if ((rc = pcap_dispatch(p, -1, capture_file_cb,
	    (u_char *)&cf)) == PCAP_ERROR) {
		/* A count of -1 above: every packet of the file. */
		log_warnx("%s: %s; stopped after %llu packets", path,
		    pcap_geterr(p), (unsigned long long)cf.total);
		rc = -1;
	}
	while (cf.n > 0)
		capture_file_deliver(&cf);
	free(cf.held);
	free(cf.pass);
	free(cf.frags);
	if (cf.reordered > 0 || cf.late > 0)
		log_warnx("%s: not in time order: %llu packets put back in "
		    "order, %llu beyond the window of %d packets and counted "
		    "at the time of the packet before them", path,
		    (unsigned long long)cf.reordered,
		    (unsigned long long)cf.late, CAPTURE_REORDER);
	for (i = 0; i < cap->nblocks; i++) {
		b = cap->blocks[i];
		anomaly_tick(b->an, cf.now);
		open += anomaly_open_episodes(b->an);
		anomaly_stop(b->an, cf.now, "the capture file ended");
		anomaly_store_write(b->writer);
		log_info("anomaly %s: %llu packets", b->name,
		    (unsigned long long)b->packets);
	}
	log_info("%s: %llu packets in %lld ms; %llu out of time order, %llu "
	    "beyond the reorder window; %d episodes still open at the end; "
	    "peak memory %ld KiB", path, (unsigned long long)cf.total,
	    (long long)(mono_ms() - t0), (unsigned long long)cf.reordered,
	    (unsigned long long)cf.late, open, capture_peak_kib());
	pcap_close(p);
	return rc == -1 ? -1 : 0;
}

static void
capture_packet_cb(u_char *arg, const struct pcap_pkthdr *h,
    const u_char *data)
{
	struct capture_block	*b = (struct capture_block *)arg;
	struct packet		 pk;

	packet_decode(b->dlt, data, h->caplen, &pk);
	if (pk.frag != PACKET_FRAG_NONE)
		packet_frag_join(b->frags, capture_ms(h), &pk);
	b->packets++;
	anomaly_packet(b->an, capture_ms(h), h->len, &pk);
	/* Written by capture_read, outside libpcap's loop. */
	if ((b->packets & (CAPTURE_LOOK - 1)) == 0 &&
	    anomaly_events(b->an, NULL) >= ANOMALY_EVENTS_HIGH)
		pcap_breakloop(b->pcap);
}

/*
 * The handle failed (the interface went away, or down for good): said
 * once, not at every read; the open episodes end, since nothing counts
 * for them now, and the block tries its interface again every
 * CAPTURE_RETRY_MS.  Called from the handle's own event: it is freed.
 */
static void
capture_lost(struct capture_block *b)
{
	char	 why[PCAP_ERRBUF_SIZE + 64];

	snprintf(why, sizeof(why), "the capture on %s failed (%s)",
	    b->interface, pcap_geterr(b->pcap));
	log_warnx("anomaly %s: %s; trying again every %d s", b->name, why,
	    CAPTURE_RETRY_MS / 1000);
	anomaly_stop(b->an, wall_ms(), why);
	event_free(b->ev);
	b->ev = NULL;
	pcap_close(b->pcap);
	b->pcap = NULL;
	b->failures = 1;
	b->retry_at = mono_ms() + CAPTURE_RETRY_MS;
}

static void
capture_read(struct capture_block *b)
{
	int	 rc;

	rc = pcap_dispatch(b->pcap, CAPTURE_BATCH, capture_packet_cb,
	    (u_char *)b);
	if (rc == PCAP_ERROR)
		capture_lost(b);
	else if (rc == PCAP_ERROR_BREAK)
		anomaly_store_write(b->writer);
}

static void
capture_read_cb(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	capture_read(arg);
}

/* Windows end on time even in silence; drops are read once a second. */
static void
capture_tick_cb(evutil_socket_t fd, short events, void *arg)
{
	struct capture		*cap = arg;
	struct capture_block	*b;
	struct pcap_stat	 ps;
	int64_t			 now = wall_ms();
	size_t			 i;
	int			 stats;

	(void)fd;
	(void)events;
	stats = mono_ms() - cap->last_stats >= CAPTURE_STATS_MS;
	if (stats)
		cap->last_stats = mono_ms();
	for (i = 0; i < cap->nblocks; i++) {
		b = cap->blocks[i];
		if (b->pcap == NULL) {
			if (b->retry_at != 0 && mono_ms() >= b->retry_at)
				(void)capture_open(b, cap->base);
			continue;
		}
		capture_read(b);
		anomaly_tick(b->an, now);
		if (b->pcap == NULL || !stats ||
		    pcap_stats(b->pcap, &ps) == -1)
			continue;
		/* The counters are 32 bits and wrap. */
		anomaly_drops(b->an, now, ps.ps_recv - b->last_recv,
		    ps.ps_drop - b->last_drop);
		b->last_recv = ps.ps_recv;
		b->last_drop = ps.ps_drop;
	}
	/* What the blocks decided since the last tick. */
	for (i = 0; i < cap->nblocks; i++)
		anomaly_store_write(cap->blocks[i]->writer);
}

/*
 * The interface's link type is not one packet.c decodes: one it also
 * offers that is (a wireless card, say), or -1.
 */
static int
capture_dlt_choose(struct capture_block *b)
{
	int	*dlts, n, i, rc = -1;

	if ((n = pcap_list_datalinks(b->pcap, &dlts)) <= 0)
		return -1;
	for (i = 0; i < n && rc == -1; i++)
		if (packet_dlt_known(dlts[i]) &&
		    pcap_set_datalink(b->pcap, dlts[i]) == 0) {
			b->dlt = dlts[i];
			rc = 0;
		}
	pcap_free_datalinks(dlts);
	return rc;
}

/*
 * Open the block's interface.  A failure is logged the first time; the
 * tick tries again every CAPTURE_RETRY_MS, quietly, until it works (an
 * interface not there yet, gone and back, a USB adapter plugged in).
 */
static int
capture_open(struct capture_block *b, struct event_base *base)
{
	char			 err[PCAP_ERRBUF_SIZE], why[PCAP_ERRBUF_SIZE + 256];
	struct bpf_program	 bpf;
	int			 rc, fd;

	b->retry_at = mono_ms() + CAPTURE_RETRY_MS;
	if ((b->pcap = pcap_create(b->interface, err)) == NULL) {
		snprintf(why, sizeof(why), "%s", err);
		goto fail;
	}
	pcap_set_snaplen(b->pcap, CAPTURE_SNAPLEN);
	pcap_set_promisc(b->pcap, 1);
	pcap_set_timeout(b->pcap, CAPTURE_TIMEOUT_MS);
	pcap_set_buffer_size(b->pcap, CAPTURE_BUFFER);
	if ((rc = pcap_activate(b->pcap)) < 0) {
		snprintf(why, sizeof(why), "cannot capture on %s: %s",
		    b->interface, pcap_geterr(b->pcap));
		goto fail;
	}
	if (rc > 0)
		log_warnx("anomaly %s: %s: %s", b->name, b->interface,
		    pcap_geterr(b->pcap));
	b->dlt = pcap_datalink(b->pcap);
	if (!packet_dlt_known(b->dlt) && capture_dlt_choose(b) == -1) {
		/* No retry: the interface will not change what it is. */
		capture_dlt_refused(b->dlt, why, sizeof(why));
		log_warnx("anomaly %s: %s: %s; this block does not capture",
		    b->name, b->interface, why);
		free(b->refused);
		b->refused = xstrdup(why);
		pcap_close(b->pcap);
		b->pcap = NULL;
		b->retry_at = 0;
		return -1;
	}
	if (b->filter != NULL) {
		if (pcap_compile(b->pcap, &bpf, b->filter, 1,
		    PCAP_NETMASK_UNKNOWN) == -1 ||
		    pcap_setfilter(b->pcap, &bpf) == -1) {
			snprintf(why, sizeof(why), "filter \"%s\" on %s: %s",
			    b->filter, b->interface, pcap_geterr(b->pcap));
			goto fail;
		}
		pcap_freecode(&bpf);
	}
	if (pcap_setnonblock(b->pcap, 1, err) == -1) {
		snprintf(why, sizeof(why), "%s", err);
		goto fail;
	}
	if ((fd = pcap_get_selectable_fd(b->pcap)) == -1) {
		snprintf(why, sizeof(why), "%s has no descriptor to wait on",
		    b->interface);
		goto fail;
	}
	if ((b->ev = event_new(base, fd, EV_READ | EV_PERSIST,
	    capture_read_cb, b)) == NULL || event_add(b->ev, NULL) == -1)
		fatalx("event_new failed");
	log_info("anomaly %s: capturing on %s (link type %s)%s%s%s", b->name,
	    b->interface, pcap_datalink_val_to_name(b->dlt),
	    b->filter != NULL ? ", filter " : "",
	    b->filter != NULL ? b->filter : "",
	    b->failures > 0 ? ", again" : "");
	b->retry_at = 0;
	b->failures = 0;
	return 0;
 fail:
	if (b->failures++ == 0)
		log_warnx("anomaly %s: %s; trying again every %d s", b->name,
		    why, CAPTURE_RETRY_MS / 1000);
	else
		log_debug("anomaly %s: %s (try %d)", b->name, why,
		    b->failures);
	if (b->pcap != NULL)
		pcap_close(b->pcap);
	b->pcap = NULL;
	return -1;
}

/*
 * Open every block's interface; this needs the CAP_NET_RAW priv_drop()
 * keeps.  A block whose interface cannot be opened is reported once and
 * tried again every CAPTURE_RETRY_MS: the availability probes matter
 * more than any block.  Returns how many blocks capture now.
 */
int
capture_start_live(struct capture *cap, struct event_base *base)
{
	struct timeval	 tv = { 0, CAPTURE_TICK_MS * 1000L };
	size_t		 i;
	int		 n = 0;

	cap->base = base;
	for (i = 0; i < cap->nblocks; i++)
		if (cap->blocks[i]->pcap != NULL ||
		    capture_open(cap->blocks[i], base) == 0)
			n++;
	/* A reload before a takeover (lead.c) may have made it already. */
	if (cap->nblocks == 0 || cap->tick != NULL)
		return n;
	/* Also for the blocks still waiting for their interface. */
	if ((cap->tick = event_new(base, -1, EV_PERSIST, capture_tick_cb,
	    cap)) == NULL || event_add(cap->tick, &tv) == -1)
		fatalx("event_new failed");
	cap->last_stats = mono_ms();
	return n;
}

/*
 * SIGHUP with new rules.  A block defined as before keeps its handle, its
 * counters and its open episodes: a reload for another reason loses
 * nothing.  A block changed or gone ends its episodes, saying why, and
 * closes; a block new or changed opens on its interface (CAP_NET_RAW is
 * kept for this).  Returns how many blocks capture afterwards.
 */
int
capture_reload(struct capture *cap, const struct conf *conf,
    struct event_base *base)
{
	const struct anomaly_conf	*ac;
	struct capture_block		**old = cap->blocks, *b;
	struct timeval			 tv = { 0, CAPTURE_TICK_MS * 1000L };
	size_t				 nold = cap->nblocks, n = 0, i;
	int				 live = 0;

	TAILQ_FOREACH(ac, &conf->anomalies, entry)
		n++;
	cap->blocks = xcalloc(n + 1, sizeof(struct capture_block *));
	cap->nblocks = 0;
	TAILQ_FOREACH(ac, &conf->anomalies, entry) {
		b = NULL;
		for (i = 0; i < nold; i++)
			if (old[i] != NULL && capture_block_same(old[i], ac)) {
				b = old[i];
				old[i] = NULL;
				break;
			}
		if (b == NULL) {
			b = capture_block_new(cap, ac);
			(void)capture_open(b, base);
		}
		cap->blocks[cap->nblocks++] = b;
		live += b->pcap != NULL;
	}
	for (i = 0; i < nold; i++) {
		if (old[i] == NULL)
			continue;
		anomaly_stop(old[i]->an, wall_ms(), "the rules were reloaded "
		    "and this block changed or went");
		anomaly_store_write(old[i]->writer);
		log_info("anomaly %s: stopped capturing on %s", old[i]->name,
		    old[i]->interface);
		capture_block_free(old[i]);
	}
	free(old);
	cap->base = base;
	if (cap->nblocks > 0 && cap->tick == NULL) {
		if ((cap->tick = event_new(base, -1, EV_PERSIST,
		    capture_tick_cb, cap)) == NULL ||
		    event_add(cap->tick, &tv) == -1)
			fatalx("event_new failed");
		cap->last_stats = mono_ms();
	}
	return live;
}

static int64_t
capture_relate(void *engine, const char *addr, const char **system)
{
	return engine_incident_for_address(engine, addr, system);
}

/* Warnings aimed at a system that is down relate to its incident. */
void
capture_set_engine(struct capture *cap, struct engine *engine)
{
	size_t	 i;

	cap->engine = engine;
	for (i = 0; i < cap->nblocks; i++)
		anomaly_set_relate(cap->blocks[i]->an, capture_relate, engine);
}

/* Every block's rates and counts, for the control socket's status. */
int
capture_status(struct capture *cap,
    int (*cb)(const struct capture_status *, void *), void *arg)
{
	struct capture_status	 st;
	size_t			 i;

	for (i = 0; i < cap->nblocks; i++) {
		memset(&st, 0, sizeof(st));
		st.name = cap->blocks[i]->name;
		st.interface = cap->blocks[i]->interface;
		anomaly_rates(cap->blocks[i]->an, &st.packets_per_s,
		    &st.bytes_per_s);
		st.packets = cap->blocks[i]->packets;
		st.dropped = cap->blocks[i]->last_drop;
		st.episodes = anomaly_open_episodes(cap->blocks[i]->an);
		st.error = cap->blocks[i]->refused;
		if (cb(&st, arg) == -1)
			return -1;
	}
	return 0;
}

/* SIGUSR1: the last window's rates of every block. */
void
capture_log_stats(struct capture *cap)
{
	double	 pps, bps;
	size_t	 i;

	for (i = 0; i < cap->nblocks; i++) {
		anomaly_rates(cap->blocks[i]->an, &pps, &bps);
		log_info("anomaly %s on %s: %.0f packets/s, %.0f bytes/s, "
		    "%llu packets, %d episodes open", cap->blocks[i]->name,
		    cap->blocks[i]->interface, pps, bps,
		    (unsigned long long)cap->blocks[i]->packets,
		    anomaly_open_episodes(cap->blocks[i]->an));
	}
}
