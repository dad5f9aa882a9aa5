/*
 * test_anomaly.c: the counters' windows, holds and episodes, driven with
 * decoded packets and their times; what they decide is read from their
 * queue of events, as the writer (anomaly_store.c) reads it.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "anomaly.h"
#include "anomaly_rules.h"
#include "log.h"
#include "packet.h"

#define T0	1795000000000LL		/* ms, on a window boundary */
#define MAXEV	512

/* A copy of the events taken from the queue so far. */
struct seen {
	int		 n;
	struct {
		enum anomaly_event_kind kind;
		int64_t	 episode, at, packets, incident;
		char	 summary[512], detail[2048], name[32], value[64];
		char	 system[64];
	}		 ev[MAXEV];
};

static struct seen	 seen;

/* Take what A queued, as the writer does, into SEEN. */
static void
take(struct anomaly *a)
{
	const struct anomaly_event	*ev;
	size_t				 n, i;

	n = anomaly_events(a, &ev);
	for (i = 0; i < n; i++) {
		assert_true(seen.n < MAXEV);
		seen.ev[seen.n].kind = ev[i].kind;
		seen.ev[seen.n].episode = ev[i].episode;
		seen.ev[seen.n].at = ev[i].at;
		seen.ev[seen.n].packets = ev[i].packets;
		seen.ev[seen.n].incident = ev[i].incident;
#define COPY(f) snprintf(seen.ev[seen.n].f, sizeof(seen.ev[0].f), "%s", \
	    ev[i].f != NULL ? ev[i].f : "")
		COPY(summary);
		COPY(detail);
		COPY(name);
		COPY(value);
		COPY(system);
#undef COPY
		seen.n++;
	}
	assert_int_equal(anomaly_events_clear(a), 0);
	assert_int_equal(anomaly_events(a, NULL), 0);
}

static int
count(enum anomaly_event_kind kind)
{
	int	 i, n = 0;

	for (i = 0; i < seen.n; i++)
		n += seen.ev[i].kind == kind;
	return n;
}

/* The Nth event of KIND (from 0); fails the test if there is none. */
static int
nth(enum anomaly_event_kind kind, int n)
{
	int	 i;

	for (i = 0; i < seen.n; i++)
		if (seen.ev[i].kind == kind && n-- == 0)
			return i;
	fail_msg("no event %d of kind %d among %d", n, kind, seen.n);
	return -1;
}

/* The indicator of EPISODE of that kind and value, or -1. */
static int
indicator(int64_t episode, const char *kind, const char *value)
{
	int	 i;

	for (i = 0; i < seen.n; i++)
		if (seen.ev[i].kind == ANOMALY_EVENT_INDICATOR &&
		    seen.ev[i].episode == episode &&
		    strcmp(seen.ev[i].name, kind) == 0 &&
		    strcmp(seen.ev[i].value, value) == 0)
			return i;
	return -1;
}

static int
setup(void **state)
{
	(void)state;
	memset(&seen, 0, sizeof(seen));
	return 0;
}

static void
syn(struct packet *pk, uint32_t src, uint32_t dst, uint16_t dport)
{
	memset(pk, 0, sizeof(*pk));
	pk->kind = PACKET_IP;
	pk->family = 4;
	memcpy(pk->src, &src, 4);
	memcpy(pk->dst, &dst, 4);
	pk->proto = IPPROTO_TCP;
	pk->has_ports = 1;
	pk->sport = 40000;
	pk->dport = dport;
	pk->tcp_flags = PACKET_TCP_SYN;
}

/* N SYNs spread over one second starting at T. */
static void
second_of_syns(struct anomaly *a, int64_t t, int n)
{
	struct packet	 pk;
	int		 i;

	for (i = 0; i < n; i++) {
		syn(&pk, htonl(0xcb007100 + (uint32_t)(i % 200)),
		    htonl(0xc6336410), 80);
		anomaly_packet(a, t + (int64_t)i * 1000 / n, 60, &pk);
	}
}

static void
conf_syn(struct anomaly_conf *ac, int64_t hold, int64_t end)
{
	memset(ac, 0, sizeof(*ac));
	ac->name = (char *)(uintptr_t)"t";
	ac->interface = (char *)(uintptr_t)"lo";
	ac->window_ms = 1000;
	ac->end_ms = end;
	ac->th[ANOMALY_SYN_RATE].set = 1;
	ac->th[ANOMALY_SYN_RATE].above = 1000;
	ac->th[ANOMALY_SYN_RATE].ms = hold;
}

/* Counter C alone, above ABOVE for (or in) MS; "end after 2s". */
static void
conf_counter(struct anomaly_conf *ac, enum anomaly_counter c, double above,
    int64_t ms)
{
	conf_syn(ac, 1000, 2000);
	ac->th[ANOMALY_SYN_RATE].set = 0;
	ac->th[c].set = 1;
	ac->th[c].above = above;
	ac->th[c].ms = ms;
}

/* "above N/s for 3s" opens at the end of the third window, not before. */
static void
test_hold(void **state)
{
	struct anomaly_conf	 ac;
	struct anomaly		*a;
	int64_t			 ep;
	int			 s, o, e;

	(void)state;
	conf_syn(&ac, 3000, 2000);
	a = anomaly_new(&ac);
	for (s = 0; s < 3; s++)
		second_of_syns(a, T0 + s * 1000, 2000);
	/* The third window closes with the next packet, or time. */
	take(a);
	assert_int_equal(seen.n, 0);
	anomaly_tick(a, T0 + 3000);
	take(a);
	assert_int_equal(count(ANOMALY_EVENT_OPEN), 1);
	o = nth(ANOMALY_EVENT_OPEN, 0);
	ep = seen.ev[o].episode;
	assert_true(ep != 0);
	assert_true(seen.ev[o].at == T0 + 3000);
	assert_string_equal(seen.ev[o].summary,
	    "syn-rate 2000/s above 1000/s for 3s");
	assert_non_null(strstr(seen.ev[o].detail,
	    "top targets: 198.51.100.16 (2000 packets)"));
	/* Its indicators come with it (5.9). */
	assert_true((s = indicator(ep, "target", "198.51.100.16")) != -1);
	assert_true(seen.ev[s].packets == 2000);
	assert_true(indicator(ep, "port", "80/tcp") != -1);
	for (s = o, e = 0; s < seen.n; s++)
		e += seen.ev[s].kind == ANOMALY_EVENT_INDICATOR &&
		    strcmp(seen.ev[s].name, "source") == 0;
	assert_int_equal(e, 5);		/* the top five */
	assert_int_equal(anomaly_open_episodes(a), 1);
	/* Still above: the same episode, no second warning. */
	second_of_syns(a, T0 + 3000, 2000);
	anomaly_tick(a, T0 + 4000);
	take(a);
	assert_int_equal(count(ANOMALY_EVENT_OPEN), 1);
	/*
	 * Calm for "end after 2s": at 1s of calm (just below) nothing, at
	 * 2s (the edge) ended, at the last window above's end.
	 */
	anomaly_tick(a, T0 + 5000);
	take(a);
	assert_int_equal(count(ANOMALY_EVENT_END), 0);
	anomaly_tick(a, T0 + 6000);
	take(a);
	assert_int_equal(count(ANOMALY_EVENT_END), 1);
	e = nth(ANOMALY_EVENT_END, 0);
	assert_true(seen.ev[e].episode == ep);
	assert_true(seen.ev[e].at == T0 + 4000);
	assert_string_equal(seen.ev[e].detail, "every counter under its "
	    "threshold for 2s; syn-rate peaked at 2000/s");
	/* The episode's indicators again, over its whole length. */
	assert_true(seen.ev[e + 1].kind == ANOMALY_EVENT_INDICATOR);
	assert_true(seen.ev[e + 1].episode == ep);
	assert_int_equal(anomaly_open_episodes(a), 0);
	assert_int_equal(count(ANOMALY_EVENT_RELATE), 0);
	anomaly_free(a);
}

/* Two windows above, one below, two above: a hold of 3 never met. */
static void
test_hold_interrupted(void **state)
{
	struct anomaly_conf	 ac;
	struct anomaly		*a;

	(void)state;
	conf_syn(&ac, 3000, 2000);
	a = anomaly_new(&ac);
	second_of_syns(a, T0, 2000);
	second_of_syns(a, T0 + 1000, 2000);
	second_of_syns(a, T0 + 2000, 500);
	second_of_syns(a, T0 + 3000, 2000);
	second_of_syns(a, T0 + 4000, 2000);
	anomaly_tick(a, T0 + 10000);
	take(a);
	assert_int_equal(seen.n, 0);
	anomaly_free(a);
}

/* "above 1000/s": 999/s and 1000/s are not above it, 1001/s is. */
static void
test_rate_edge(void **state)
{
	static const int	 rate[] = { 999, 1000, 1001 };
	struct anomaly_conf	 ac;
	struct anomaly		*a;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(rate) / sizeof(rate[0]); i++) {
		memset(&seen, 0, sizeof(seen));
		conf_syn(&ac, 1000, 2000);
		a = anomaly_new(&ac);
		second_of_syns(a, T0, rate[i]);
		anomaly_tick(a, T0 + 1000);
		take(a);
		assert_int_equal(count(ANOMALY_EVENT_OPEN), rate[i] > 1000);
		anomaly_free(a);
	}
}

/* Drops of the live capture: one warning per episode, and its end. */
static void
test_drops(void **state)
{
	struct anomaly_conf	 ac;
	struct anomaly		*a;
	struct packet		 pk;
	int			 o;

	(void)state;
	conf_syn(&ac, 3000, 2000);
	a = anomaly_new(&ac);
	syn(&pk, htonl(0xc0000201), htonl(0xc0000202), 80);
	anomaly_packet(a, T0, 60, &pk);
	anomaly_drops(a, T0 + 100, 1000, 0);
	take(a);
	assert_int_equal(seen.n, 0);
	anomaly_drops(a, T0 + 1000, 1000, 250);
	anomaly_drops(a, T0 + 2000, 1000, 10);
	take(a);
	assert_int_equal(seen.n, 1);
	o = nth(ANOMALY_EVENT_OPEN, 0);
	assert_string_equal(seen.ev[o].summary,
	    "capture dropped 250 packets: the counters undercount");
	assert_true(seen.ev[o].at == T0 + 1000);
	anomaly_tick(a, T0 + 3000);
	take(a);
	assert_int_equal(count(ANOMALY_EVENT_END), 0);
	anomaly_tick(a, T0 + 5000);
	take(a);
	assert_int_equal(count(ANOMALY_EVENT_END), 1);
	assert_true(seen.ev[nth(ANOMALY_EVENT_END, 0)].episode ==
	    seen.ev[o].episode);
	assert_true(seen.ev[nth(ANOMALY_EVENT_END, 0)].at == T0 + 2000);
	assert_string_equal(seen.ev[nth(ANOMALY_EVENT_END, 0)].detail,
	    "no packet dropped for 2s; 260 dropped in all");
	anomaly_drops(a, T0 + 6000, 1000, 5);
	take(a);
	assert_int_equal(count(ANOMALY_EVENT_OPEN), 2);
	assert_true(seen.ev[nth(ANOMALY_EVENT_OPEN, 1)].episode !=
	    seen.ev[o].episode);
	anomaly_free(a);
}

/* One connection attempt from port SPORT and its SYN-ACK, at T and T2. */
static void
handshake(struct anomaly *a, int64_t t, int64_t t2, uint16_t sport)
{
	struct packet	 pk;
	uint32_t	 c = htonl(0xc000020a), srv = htonl(0xc6336410);

	syn(&pk, c, srv, 443);
	pk.sport = sport;
	anomaly_packet(a, t, 60, &pk);
	syn(&pk, srv, c, sport);
	pk.sport = 443;
	pk.tcp_flags = PACKET_TCP_SYN | PACKET_TCP_ACK;
	anomaly_packet(a, t2, 60, &pk);
}

/*
 * SYN-ACKs that answer the SYNs of the window before are not a negative
 * number of unanswered SYNs (nor, unsigned, a huge one).
 */
static void
test_synack_of_previous_window(void **state)
{
	struct anomaly_conf	 ac;
	struct anomaly		*a;
	struct packet		 pk;
	int			 i;

	(void)state;
	conf_counter(&ac, ANOMALY_SYN_UNANSWERED, 50, 1000);
	a = anomaly_new(&ac);
	/* 19 SYNs late in the first window, answered in the second. */
	for (i = 0; i < 19; i++) {
		syn(&pk, htonl(0xc000020a), htonl(0xc6336410), 443);
		pk.sport = (uint16_t)(30000 + i);
		anomaly_packet(a, T0 + 900 + i, 60, &pk);
	}
	for (i = 0; i < 19; i++) {
		syn(&pk, htonl(0xc6336410), htonl(0xc000020a),
		    (uint16_t)(30000 + i));
		pk.sport = 443;
		pk.tcp_flags = PACKET_TCP_SYN | PACKET_TCP_ACK;
		anomaly_packet(a, T0 + 1000 + i, 60, &pk);
	}
	for (i = 0; i < 20; i++)
		handshake(a, T0 + 1100 + i, T0 + 1101 + i,
		    (uint16_t)(31000 + i));
	anomaly_tick(a, T0 + 5000);
	take(a);
	assert_int_equal(seen.n, 0);
	anomaly_free(a);
}

/*
 * A share needs 20 SYNs in the window: 19 unanswered are no share at
 * all, 20 are 100%.
 */
static void
test_unanswered_min_syns(void **state)
{
	struct anomaly_conf	 ac;
	struct anomaly		*a;
	struct packet		 pk;
	int			 n, i;

	(void)state;
	for (n = 19; n <= 20; n++) {
		memset(&seen, 0, sizeof(seen));
		conf_counter(&ac, ANOMALY_SYN_UNANSWERED, 50, 1000);
		a = anomaly_new(&ac);
		for (i = 0; i < n; i++) {
			syn(&pk, htonl(0xc000020a), htonl(0xc6336410), 443);
			pk.sport = (uint16_t)(30000 + i);
			anomaly_packet(a, T0 + i, 60, &pk);
		}
		anomaly_tick(a, T0 + 1000);
		take(a);
		assert_int_equal(count(ANOMALY_EVENT_OPEN), n == 20);
		if (n == 20)
			assert_string_equal(seen.ev[nth(ANOMALY_EVENT_OPEN,
			    0)].summary, "syn-unanswered 100% above 50% for 1s");
		anomaly_free(a);
	}
}

/* Down systems by address, as the engine answers. */
static int64_t
relate(void *arg, const char *addr, const char **system)
{
	(void)arg;
	if (strcmp(addr, "198.51.100.16") != 0)
		return 0;
	*system = "web";
	return 7;
}

/*
 * SOURCE sends one SYN to each of NPORTS ports (from 1) of DST at T.
 * The first packet of a new source only takes its index entry.
 */
static void
scan(struct anomaly *a, int64_t t, uint32_t source, uint32_t dst,
    int nports)
{
	struct packet	 pk;
	int		 i;

	for (i = 0; i < nports; i++) {
		syn(&pk, htonl(source), htonl(dst), (uint16_t)(1 + i));
		anomaly_packet(a, t + i, 60, &pk);
	}
}

/*
 * "above 10 in 60s": ten distinct ports counted are not above, eleven
 * are; the warning names the source, its target and its ports, relates
 * to the incident of the system down at that address once, and a second
 * scanner is a line of the same warning's timeline.
 */
static void
test_port_scan(void **state)
{
	struct anomaly_conf	 ac;
	struct anomaly		*a;
	struct packet		 pk;
	int64_t			 ep;
	int			 o, r;

	(void)state;
	conf_counter(&ac, ANOMALY_PORTS_PER_SOURCE, 10, 60000);
	a = anomaly_new(&ac);
	anomaly_set_relate(a, relate, NULL);
	/* 11 packets, the first not counted: 10 ports. */
	scan(a, T0, 0xc0000209, 0xc6336410, 11);
	take(a);
	assert_int_equal(seen.n, 0);
	syn(&pk, htonl(0xc0000209), htonl(0xc6336410), 12);
	anomaly_packet(a, T0 + 100, 60, &pk);
	take(a);
	assert_int_equal(count(ANOMALY_EVENT_OPEN), 1);
	o = nth(ANOMALY_EVENT_OPEN, 0);
	ep = seen.ev[o].episode;
	assert_true(seen.ev[o].at == T0 + 100);
	assert_string_equal(seen.ev[o].summary, "distinct-ports-per-source "
	    "above 10 in 1m: source 192.0.2.9");
	assert_true(indicator(ep, "source", "192.0.2.9") != -1);
	assert_true(indicator(ep, "target", "198.51.100.16") != -1);
	/* Its range of ports is only known at its end. */
	assert_true(indicator(ep, "port", "2-12") == -1);
	assert_int_equal(count(ANOMALY_EVENT_RELATE), 1);
	r = nth(ANOMALY_EVENT_RELATE, 0);
	assert_true(seen.ev[r].episode == ep);
	assert_true(seen.ev[r].incident == 7);
	assert_string_equal(seen.ev[r].value, "198.51.100.16");
	assert_string_equal(seen.ev[r].system, "web");
	assert_string_equal(seen.ev[r].name, "INT");
	/* Flagged: its later packets open nothing more. */
	scan(a, T0 + 200, 0xc0000209, 0xc6336410, 20);
	take(a);
	assert_int_equal(count(ANOMALY_EVENT_OPEN), 1);
	assert_int_equal(count(ANOMALY_EVENT_LINE), 0);
	/* A second scanner of the same system: a line, no new relation. */
	scan(a, T0 + 300, 0xc000020a, 0xc6336410, 13);
	take(a);
	assert_int_equal(count(ANOMALY_EVENT_OPEN), 1);
	assert_int_equal(count(ANOMALY_EVENT_LINE), 1);
	assert_true(seen.ev[nth(ANOMALY_EVENT_LINE, 0)].episode == ep);
	assert_string_equal(seen.ev[nth(ANOMALY_EVENT_LINE, 0)].name,
	    "source above threshold");
	assert_true(indicator(ep, "source", "192.0.2.10") != -1);
	assert_int_equal(count(ANOMALY_EVENT_RELATE), 1);
	/* No new scanner for "end after 2s": ended at the last one seen. */
	anomaly_tick(a, T0 + 3000);
	take(a);
	assert_int_equal(count(ANOMALY_EVENT_END), 1);
	assert_true(seen.ev[nth(ANOMALY_EVENT_END, 0)].episode == ep);
	assert_true(seen.ev[nth(ANOMALY_EVENT_END, 0)].at == T0 + 312);
	/* The first port is not counted (scan()); the second scan's are. */
	assert_true(indicator(ep, "port", "1-20") != -1);
	assert_true(indicator(ep, "port", "2-13") != -1);
	anomaly_free(a);
}

static void
arp(struct packet *pk, uint32_t ip, uint8_t last)
{
	static const uint8_t	 mac[6] = { 0x02, 0, 0, 0, 0, 0 };

	memset(pk, 0, sizeof(*pk));
	pk->kind = PACKET_ARP;
	pk->arp_op = 2;
	memcpy(pk->arp_mac, mac, sizeof(mac));
	pk->arp_mac[5] = last;
	memcpy(pk->arp_ip, &ip, 4);
}

/* ARP for watched GW from the MAC ending in LAST, at T. */
static void
arp_at(struct anomaly *a, int64_t t, uint32_t gw, uint8_t last)
{
	struct packet	 pk;

	arp(&pk, gw, last);
	anomaly_packet(a, t, 60, &pk);
}

/*
 * A watched address held by one MAC for longer than END, then answered
 * from another: it moved, from the one it had before.  The conflict ends
 * after END with only one MAC.
 */
static void
test_arp_change(void **state)
{
	struct anomaly_conf	 ac;
	struct anomaly		*a;
	struct packet		 pk;
	uint32_t		 gw = htonl(0xc0000201);
	int64_t			 ep;
	int			 o;

	(void)state;
	conf_syn(&ac, 1000, 2000);
	ac.arp_ip[0] = gw;
	ac.narp = 1;
	a = anomaly_new(&ac);
	arp_at(a, T0, gw, 1);
	arp(&pk, htonl(0xc0000202), 9);	/* not watched */
	anomaly_packet(a, T0 + 1, 60, &pk);
	anomaly_packet(a, T0 + 2, 60, &pk);
	arp_at(a, T0 + 1500, gw, 1);
	take(a);
	assert_int_equal(seen.n, 0);
	arp_at(a, T0 + 2500, gw, 2);
	arp_at(a, T0 + 2501, gw, 2);
	take(a);
	assert_int_equal(count(ANOMALY_EVENT_OPEN), 1);
	o = nth(ANOMALY_EVENT_OPEN, 0);
	ep = seen.ev[o].episode;
	assert_string_equal(seen.ev[o].summary, "arp-change: 192.0.2.1 moved "
	    "from 02:00:00:00:00:01 to 02:00:00:00:00:02");
	assert_true(indicator(ep, "target", "192.0.2.1") != -1);
	assert_true(indicator(ep, "mac", "02:00:00:00:00:01") != -1);
	assert_true(indicator(ep, "mac", "02:00:00:00:00:02") != -1);
	assert_int_equal(anomaly_open_episodes(a), 1);
	/* The first MAC answers again: not over while both do. */
	arp_at(a, T0 + 3000, gw, 1);
	take(a);
	assert_int_equal(count(ANOMALY_EVENT_END), 0);
	anomaly_tick(a, T0 + 4000);
	take(a);
	assert_int_equal(count(ANOMALY_EVENT_END), 0);
	/* 2s with 02:..:01 alone (the other's last at 2.501s). */
	anomaly_tick(a, T0 + 5000);
	take(a);
	assert_int_equal(count(ANOMALY_EVENT_END), 1);
	assert_true(seen.ev[nth(ANOMALY_EVENT_END, 0)].episode == ep);
	assert_true(seen.ev[nth(ANOMALY_EVENT_END, 0)].at == T0 + 2501);
	assert_string_equal(seen.ev[nth(ANOMALY_EVENT_END, 0)].detail,
	    "192.0.2.1 only at 02:00:00:00:00:01 for 2s; 1 flip-flop "
	    "between 02:00:00:00:00:01 and 02:00:00:00:00:02");
	assert_int_equal(anomaly_open_episodes(a), 0);
	anomaly_free(a);
}

/*
 * The daemon starts while a spoof goes on: the forger's MAC is seen
 * first, the real one a moment later.  Neither is called the one that
 * moved: a conflict names both.  The two answering in turn are one
 * warning, its flip-flops counted, not a warning each.
 */
static void
test_arp_conflict_at_start(void **state)
{
	struct anomaly_conf	 ac;
	struct anomaly		*a;
	uint32_t		 gw = htonl(0xc0000201);
	int64_t			 ep;
	int			 o, i;

	(void)state;
	conf_syn(&ac, 1000, 2000);
	ac.arp_ip[0] = gw;
	ac.narp = 1;
	a = anomaly_new(&ac);
	arp_at(a, T0, gw, 0xd1);	/* the forger */
	arp_at(a, T0 + 200, gw, 1);	/* the gateway */
	take(a);
	assert_int_equal(count(ANOMALY_EVENT_OPEN), 1);
	o = nth(ANOMALY_EVENT_OPEN, 0);
	ep = seen.ev[o].episode;
	assert_string_equal(seen.ev[o].summary, "arp-conflict: 192.0.2.1 "
	    "claimed by 02:00:00:00:00:d1 and 02:00:00:00:00:01; which is "
	    "its own is not known");
	assert_null(strstr(seen.ev[o].summary, "moved"));
	assert_true(indicator(ep, "mac", "02:00:00:00:00:d1") != -1);
	assert_true(indicator(ep, "mac", "02:00:00:00:00:01") != -1);
	for (i = 0; i < 10; i++)
		arp_at(a, T0 + 300 + i * 100, gw, i % 2 ? 1 : 0xd1);
	anomaly_tick(a, T0 + 6000);
	take(a);
	assert_int_equal(count(ANOMALY_EVENT_OPEN), 1);
	assert_int_equal(count(ANOMALY_EVENT_END), 1);
	assert_true(seen.ev[nth(ANOMALY_EVENT_END, 0)].episode == ep);
	assert_string_equal(seen.ev[nth(ANOMALY_EVENT_END, 0)].detail,
	    "192.0.2.1 only at 02:00:00:00:00:01 for 2s; 10 flip-flops "
	    "between 02:00:00:00:00:01 and 02:00:00:00:00:d1");
	anomaly_free(a);
}

/*
 * A flood aimed at a system that is down relates to its incident once,
 * suggesting DOS; the block stopping ends the episode at its last window
 * above, with its indicators.
 */
static void
test_flood_relate_stop(void **state)
{
	struct anomaly_conf	 ac;
	struct anomaly		*a;
	int64_t			 ep;
	int			 e;

	(void)state;
	conf_syn(&ac, 1000, 30000);
	a = anomaly_new(&ac);
	anomaly_set_relate(a, relate, NULL);
	second_of_syns(a, T0, 2000);
	second_of_syns(a, T0 + 1000, 2000);
	anomaly_tick(a, T0 + 3000);
	take(a);
	assert_int_equal(count(ANOMALY_EVENT_OPEN), 1);
	ep = seen.ev[nth(ANOMALY_EVENT_OPEN, 0)].episode;
	assert_int_equal(count(ANOMALY_EVENT_RELATE), 1);
	assert_true(seen.ev[nth(ANOMALY_EVENT_RELATE, 0)].episode == ep);
	assert_string_equal(seen.ev[nth(ANOMALY_EVENT_RELATE, 0)].name,
	    "DOS");
	anomaly_stop(a, T0 + 9000, "rtowatchd stopped");
	take(a);
	assert_int_equal(count(ANOMALY_EVENT_END), 1);
	e = nth(ANOMALY_EVENT_END, 0);
	assert_true(seen.ev[e].episode == ep);
	assert_true(seen.ev[e].at == T0 + 2000);
	assert_string_equal(seen.ev[e].detail, "rtowatchd stopped while the "
	    "episode went on; its real end is unknown");
	assert_true(seen.ev[e + 1].kind == ANOMALY_EVENT_INDICATOR);
	assert_int_equal(anomaly_open_episodes(a), 0);
	/* Nothing open: a second stop says nothing. */
	anomaly_stop(a, T0 + 9000, "again");
	take(a);
	assert_int_equal(count(ANOMALY_EVENT_END), 1);
	anomaly_free(a);
}

/*
 * The store refused the warning: the episode is not open, and the next
 * window above opens it again, under a new id.
 */
static void
test_episode_lost(void **state)
{
	struct anomaly_conf	 ac;
	struct anomaly		*a;
	int64_t			 ep;

	(void)state;
	conf_syn(&ac, 1000, 2000);
	a = anomaly_new(&ac);
	second_of_syns(a, T0, 2000);
	anomaly_tick(a, T0 + 1000);
	take(a);
	ep = seen.ev[nth(ANOMALY_EVENT_OPEN, 0)].episode;
	anomaly_episode_lost(a, ep + 1);	/* not this one */
	assert_int_equal(anomaly_open_episodes(a), 1);
	anomaly_episode_lost(a, ep);
	assert_int_equal(anomaly_open_episodes(a), 0);
	second_of_syns(a, T0 + 1000, 2000);
	anomaly_tick(a, T0 + 2000);
	take(a);
	assert_int_equal(count(ANOMALY_EVENT_OPEN), 2);
	assert_true(seen.ev[nth(ANOMALY_EVENT_OPEN, 1)].episode > ep);
	assert_int_equal(count(ANOMALY_EVENT_END), 0);
	anomaly_free(a);
}

/* A packet of PROTO from SRC to DST (host order), ports when TCP or UDP. */
static void
ip(struct packet *pk, uint8_t proto, uint32_t src, uint32_t dst,
    uint16_t sport, uint16_t dport)
{
	memset(pk, 0, sizeof(*pk));
	pk->kind = PACKET_IP;
	pk->family = 4;
	src = htonl(src);
	dst = htonl(dst);
	memcpy(pk->src, &src, 4);
	memcpy(pk->dst, &dst, 4);
	pk->proto = proto;
	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP) {
		pk->has_ports = 1;
		pk->sport = sport;
		pk->dport = dport;
	}
	if (proto == IPPROTO_ICMP) {
		pk->has_icmp = 1;
		pk->icmp_type = 8;
	}
}

/*
 * nmap -f: each probe's first fragment holds its ports but not its
 * flags (tiny), the second writes at offset 8 (overlapping).  They are an
 * anomaly of their own, named by bad-fragment-rate with their own source,
 * whatever else goes on: here a SYN flood from elsewhere at once.
 */
static void
test_bad_fragments(void **state)
{
	struct anomaly_conf	 ac;
	struct anomaly		*a;
	struct packet		 pk;
	int64_t			 ep;
	int			 i, s, o;

	(void)state;
	conf_syn(&ac, 1000, 2000);
	ac.th[ANOMALY_BAD_FRAGMENT_RATE].set = 1;
	ac.th[ANOMALY_BAD_FRAGMENT_RATE].above = 5;
	ac.th[ANOMALY_BAD_FRAGMENT_RATE].ms = 1000;
	a = anomaly_new(&ac);
	for (s = 0; s < 2; s++) {
		second_of_syns(a, T0 + s * 1000, 2000);
		for (i = 0; i < 100; i++) {
			ip(&pk, IPPROTO_TCP, 0xc0000263, 0xc6336420, 40000,
			    (uint16_t)(1 + i));
			pk.frag = PACKET_FRAG_FIRST;
			pk.frag_bad = PACKET_FRAG_TINY;
			anomaly_packet(a, T0 + s * 1000 + i * 5, 60, &pk);
			ip(&pk, IPPROTO_TCP, 0xc0000263, 0xc6336420, 0, 0);
			pk.has_ports = 0;
			pk.frag = PACKET_FRAG_LATER;
			pk.frag_bad = PACKET_FRAG_OVERLAP;
			anomaly_packet(a, T0 + s * 1000 + i * 5 + 1, 60, &pk);
		}
	}
	anomaly_tick(a, T0 + 2000);
	take(a);
	assert_int_equal(count(ANOMALY_EVENT_OPEN), 2);
	for (o = -1, i = 0; i < 2; i++)
		if (strncmp(seen.ev[nth(ANOMALY_EVENT_OPEN, i)].summary,
		    "bad-fragment-rate", 17) == 0)
			o = nth(ANOMALY_EVENT_OPEN, i);
	assert_true(o != -1);
	ep = seen.ev[o].episode;
	assert_string_equal(seen.ev[o].summary,
	    "bad-fragment-rate 200/s above 5/s for 1s");
	assert_true(indicator(ep, "source", "192.0.2.99") != -1);
	assert_true(indicator(ep, "target", "198.51.100.32") != -1);
	/* The SYN flood's sources are not the fragments'. */
	assert_true(indicator(ep, "source", "203.0.113.0") == -1);
	assert_int_equal(anomaly_open_episodes(a), 2);
	anomaly_tick(a, T0 + 5000);
	take(a);
	assert_int_equal(count(ANOMALY_EVENT_END), 2);
	anomaly_free(a);
}

/*
 * A scan from a source whose earlier scan's episode ended is a new
 * episode, even within the same period (nmap -sS, then -sU).
 */
static void
test_scan_again_after_end(void **state)
{
	struct anomaly_conf	 ac;
	struct anomaly		*a;
	struct packet		 pk;
	int			 i;

	(void)state;
	conf_counter(&ac, ANOMALY_PORTS_PER_SOURCE, 10, 60000);
	a = anomaly_new(&ac);
	scan(a, T0, 0xc0000209, 0xc6336410, 30);
	anomaly_tick(a, T0 + 5000);
	take(a);
	assert_int_equal(count(ANOMALY_EVENT_OPEN), 1);
	assert_int_equal(count(ANOMALY_EVENT_END), 1);
	for (i = 0; i < 30; i++) {
		ip(&pk, IPPROTO_UDP, 0xc0000209, 0xc6336410, 50000,
		    (uint16_t)(1 + i));
		anomaly_packet(a, T0 + 6000 + i, 60, &pk);
	}
	take(a);
	assert_int_equal(count(ANOMALY_EVENT_OPEN), 2);
	assert_true(seen.ev[nth(ANOMALY_EVENT_OPEN, 1)].episode >
	    seen.ev[nth(ANOMALY_EVENT_OPEN, 0)].episode);
	assert_string_equal(seen.ev[nth(ANOMALY_EVENT_OPEN, 1)].summary,
	    "distinct-ports-per-source above 10 in 1m: source 192.0.2.9");
	anomaly_free(a);
}

/*
 * An open scan's figures grow: each window tells its detail again with
 * the ports and packets so far, its source's packets grow, and its end
 * says how far it went.
 */
static void
test_scan_grows(void **state)
{
	struct anomaly_conf	 ac;
	struct anomaly		*a;
	int			 o, d, e, i;

	(void)state;
	conf_counter(&ac, ANOMALY_PORTS_PER_SOURCE, 10, 60000);
	a = anomaly_new(&ac);
	scan(a, T0, 0xc0000209, 0xc6336410, 12);
	take(a);
	o = nth(ANOMALY_EVENT_OPEN, 0);
	assert_non_null(strstr(seen.ev[o].detail, "in 11 packets"));
	/* 1000 ports over a second more. */
	for (i = 0; i < 1000; i++) {
		struct packet	 pk;

		syn(&pk, htonl(0xc0000209), htonl(0xc6336410),
		    (uint16_t)(13 + i));
		anomaly_packet(a, T0 + 100 + i, 60, &pk);
	}
	anomaly_tick(a, T0 + 2000);
	take(a);
	assert_true(count(ANOMALY_EVENT_DETAIL) >= 1);
	d = nth(ANOMALY_EVENT_DETAIL, count(ANOMALY_EVENT_DETAIL) - 1);
	assert_true(seen.ev[d].episode == seen.ev[o].episode);
	assert_non_null(strstr(seen.ev[d].detail, "(2-1012)"));
	assert_non_null(strstr(seen.ev[d].detail, "in 1011 packets"));
	/* The source's packets as they are now; the store keeps the most. */
	for (i = 0, e = 0; i < seen.n; i++)
		if (seen.ev[i].kind == ANOMALY_EVENT_INDICATOR &&
		    strcmp(seen.ev[i].name, "source") == 0 &&
		    seen.ev[i].packets == 1011)
			e++;
	assert_true(e >= 1);
	anomaly_tick(a, T0 + 6000);
	take(a);
	e = nth(ANOMALY_EVENT_END, 0);
	assert_non_null(strstr(seen.ev[e].detail, "in 1011 packets"));
	assert_true(indicator(seen.ev[o].episode, "port", "2-1012") != -1);
	anomaly_free(a);
}

/* N packets of proto PROTO from SRC over the second at T. */
static void
second_of(struct anomaly *a, int64_t t, uint8_t proto, uint32_t src,
    uint16_t dport, int n)
{
	struct packet	 pk;
	int		 i;

	for (i = 0; i < n; i++) {
		ip(&pk, proto, src, 0xc6336410, 40000, dport);
		anomaly_packet(a, t + (int64_t)i * 1000 / n, 100, &pk);
	}
}

/* N packets of a web client SRC to DST port 8080 over the second at T. */
static void
second_of_to(struct anomaly *a, int64_t t, uint32_t src, uint32_t dst, int n)
{
	struct packet	 pk;
	int		 i;

	for (i = 0; i < n; i++) {
		ip(&pk, IPPROTO_TCP, src, dst, (uint16_t)(41000 + i % 7), 8080);
		pk.has_tcp_flags = 1;
		pk.tcp_flags = PACKET_TCP_ACK;
		anomaly_packet(a, t + (int64_t)i * 1000 / n, 100, &pk);
	}
}

/*
 * An ICMP flood is above packet-rate too: it is named icmp-rate, and its
 * sources are the ICMP packets', not the web traffic's beside it.  A UDP
 * flood is udp-rate, its top ports the UDP ones.
 */
static void
test_flood_named_by_its_counter(void **state)
{
	struct anomaly_conf	 ac;
	struct anomaly		*a;
	int64_t			 ep;
	int			 o, s;

	(void)state;
	conf_counter(&ac, ANOMALY_PACKET_RATE, 1000, 1000);
	ac.th[ANOMALY_ICMP_RATE].set = 1;
	ac.th[ANOMALY_ICMP_RATE].above = 1000;
	ac.th[ANOMALY_ICMP_RATE].ms = 1000;
	ac.th[ANOMALY_UDP_RATE] = ac.th[ANOMALY_ICMP_RATE];
	a = anomaly_new(&ac);
	for (s = 0; s < 2; s++) {
		second_of(a, T0 + s * 1000, IPPROTO_ICMP, 0xcb007101, 0, 2000);
		second_of(a, T0 + s * 1000 + 1, IPPROTO_TCP, 0xc000020a, 443,
		    800);
	}
	anomaly_tick(a, T0 + 2000);
	take(a);
	o = nth(ANOMALY_EVENT_OPEN, 0);
	ep = seen.ev[o].episode;
	assert_string_equal(seen.ev[o].summary,
	    "icmp-rate 2000/s above 1000/s for 1s");
	assert_true(indicator(ep, "source", "203.0.113.1") != -1);
	assert_true(indicator(ep, "source", "192.0.2.10") == -1);
	assert_null(strstr(seen.ev[o].detail, "443/tcp"));
	anomaly_free(a);

	memset(&seen, 0, sizeof(seen));
	a = anomaly_new(&ac);
	second_of(a, T0, IPPROTO_UDP, 0xcb007102, 9999, 3000);
	second_of(a, T0 + 1, IPPROTO_TCP, 0xc000020a, 443, 800);
	anomaly_tick(a, T0 + 1000);
	take(a);
	o = nth(ANOMALY_EVENT_OPEN, 0);
	assert_string_equal(seen.ev[o].summary,
	    "udp-rate 3000/s above 1000/s for 1s");
	assert_true(indicator(seen.ev[o].episode, "port", "9999/udp") != -1);
	assert_true(indicator(seen.ev[o].episode, "port", "443/tcp") == -1);
	anomaly_free(a);
}

/*
 * A flood that crosses packet-rate first (its hold is shorter) is named
 * anew, on its timeline, when its own counter crosses.
 */
static void
test_flood_renamed(void **state)
{
	struct anomaly_conf	 ac;
	struct anomaly		*a;
	int			 s, l;

	(void)state;
	conf_counter(&ac, ANOMALY_PACKET_RATE, 1000, 1000);
	ac.th[ANOMALY_ICMP_RATE].set = 1;
	ac.th[ANOMALY_ICMP_RATE].above = 1000;
	ac.th[ANOMALY_ICMP_RATE].ms = 2000;
	a = anomaly_new(&ac);
	for (s = 0; s < 3; s++)
		second_of(a, T0 + s * 1000, IPPROTO_ICMP, 0xcb007101, 0, 2000);
	anomaly_tick(a, T0 + 3000);
	take(a);
	assert_int_equal(count(ANOMALY_EVENT_OPEN), 1);
	assert_string_equal(seen.ev[nth(ANOMALY_EVENT_OPEN, 0)].summary,
	    "packet-rate 2000/s above 1000/s for 1s");
	l = nth(ANOMALY_EVENT_LINE, 0);
	assert_string_equal(seen.ev[l].name, "named by its own counter");
	assert_non_null(strstr(seen.ev[l].detail,
	    "icmp-rate 2000/s above 1000/s for 2s; top targets:"));
	anomaly_tick(a, T0 + 9000);
	take(a);
	assert_non_null(strstr(seen.ev[nth(ANOMALY_EVENT_END, 0)].detail,
	    "icmp-rate peaked at 2000/s"));
	anomaly_free(a);
}

/* An ARP request from SENDER asking for TARGET (host order), at T. */
static void
arp_ask(struct anomaly *a, int64_t t, uint32_t sender, uint32_t target)
{
	struct packet	 pk;

	arp(&pk, htonl(sender), 5);
	pk.arp_op = 1;
	target = htonl(target);
	memcpy(pk.arp_tip, &target, 4);
	anomaly_packet(a, t, 60, &pk);
}

/*
 * nmap -sn on the local segment: ARP requests for many addresses from
 * one sender are a host sweep; a host announcing itself over and over,
 * or probing with no address of its own, is not.
 */
static void
test_arp_sweep(void **state)
{
	struct anomaly_conf	 ac;
	struct anomaly		*a;
	int			 i;

	(void)state;
	conf_counter(&ac, ANOMALY_HOSTS_PER_SOURCE, 50, 60000);
	a = anomaly_new(&ac);
	for (i = 0; i < 100; i++) {
		arp_ask(a, T0 + i, 0xc0000207, 0xc0000207);
		arp_ask(a, T0 + i, 0, 0xc0000200 + (uint32_t)i);
	}
	take(a);
	assert_int_equal(seen.n, 0);
	for (i = 0; i < 60; i++)
		arp_ask(a, T0 + 200 + i, 0xc0000205, 0xc0000200 +
		    (uint32_t)i);
	take(a);
	assert_int_equal(count(ANOMALY_EVENT_OPEN), 1);
	assert_string_equal(seen.ev[nth(ANOMALY_EVENT_OPEN, 0)].summary,
	    "distinct-hosts-per-source above 50 in 1m: source 192.0.2.5");
	anomaly_free(a);
}

/*
 * 4 ports a second, 132 ports in 33s across a boundary of the 30s
 * periods: 60 in one, 72 in the next, never above 100 in either.  The
 * slow counter's 5 minutes hold it all.
 */
static void
test_slow_scan(void **state)
{
	struct anomaly_conf	 ac;
	struct anomaly		*a;
	struct packet		 pk;
	int64_t			 start;
	int			 i, pass;

	(void)state;
	for (pass = 0; pass < 2; pass++) {
		memset(&seen, 0, sizeof(seen));
		conf_counter(&ac, ANOMALY_PORTS_PER_SOURCE, 100, 30000);
		if (pass == 1) {
			ac.th[ANOMALY_SLOW_PORTS_PER_SOURCE].set = 1;
			ac.th[ANOMALY_SLOW_PORTS_PER_SOURCE].above = 100;
			ac.th[ANOMALY_SLOW_PORTS_PER_SOURCE].ms = 300000;
		}
		a = anomaly_new(&ac);
		start = (T0 / 300000 + 1) * 300000 + 15000;
		for (i = 0; i < 133; i++) {
			syn(&pk, htonl(0xc0000209), htonl(0xc6336410),
			    (uint16_t)(1 + i));
			anomaly_packet(a, start + i * 250, 60, &pk);
		}
		take(a);
		assert_int_equal(count(ANOMALY_EVENT_OPEN), pass);
		if (pass == 1)
			assert_string_equal(seen.ev[nth(ANOMALY_EVENT_OPEN,
			    0)].summary, "slow-distinct-ports-per-source "
			    "above 100 in 5m: source 192.0.2.9");
		/* Its figures are the long period's, not the short's. */
		if (pass == 1)
			assert_non_null(strstr(seen.ev[nth(ANOMALY_EVENT_OPEN,
			    0)].detail, "distinct ports (2-"));
		anomaly_free(a);
	}
}

/*
 * CLIENTS ask a DNS server each second for N queries of 40 bytes, and
 * it answers each with REPLY bytes (ASKED: whether the queries are seen).
 */
static void
dns_second(struct anomaly *a, int64_t t, int n, int asked, uint32_t reply)
{
	struct packet	 pk;
	uint32_t	 client;
	uint16_t	 port;
	int		 i;

	for (i = 0; i < n; i++) {
		client = 0xc0000200 + (uint32_t)(i % 100);
		port = (uint16_t)(20000 + i);
		if (asked) {
			ip(&pk, IPPROTO_UDP, client, 0xc6336435, port, 53);
			anomaly_packet(a, t + (int64_t)i * 1000 / n, 40, &pk);
		}
		ip(&pk, IPPROTO_UDP, 0xc6336435, client, 53, port);
		anomaly_packet(a, t + (int64_t)i * 1000 / n, reply, &pk);
	}
}

/*
 * A DNS server answering 2,500 queries a second that it was asked is
 * not amplification; the same replies with no query seen are, and so
 * are replies fifty times the size of their queries.
 */
static void
test_amplification(void **state)
{
	struct anomaly_conf	 ac;
	struct anomaly		*a;
	int			 pass;

	(void)state;
	for (pass = 0; pass < 3; pass++) {
		memset(&seen, 0, sizeof(seen));
		conf_counter(&ac, ANOMALY_UDP_AMP_RATE, 2000, 1000);
		a = anomaly_new(&ac);
		dns_second(a, T0, 2500, pass != 1, pass == 2 ? 2000 : 120);
		anomaly_tick(a, T0 + 1000);
		take(a);
		assert_int_equal(count(ANOMALY_EVENT_OPEN), pass != 0);
		if (pass != 0)
			assert_string_equal(seen.ev[nth(ANOMALY_EVENT_OPEN,
			    0)].summary, "udp-amplification-rate 2500/s above "
			    "2000/s for 1s");
		anomaly_free(a);
	}
}

/* The one system down, and the address of its failing check. */
static const char	*down_addr;

static int64_t
relate_down(void *arg, const char *addr, const char **system)
{
	(void)arg;
	if (down_addr == NULL || strcmp(addr, down_addr) != 0)
		return 0;
	*system = "down";
	return 9;
}

/*
 * A scan with decoys: SYNs from the scanner and from a decoy that is the
 * address of an unrelated system that is down; the target resets each.
 * The flood aims at the target, not at the decoy its resets go to: no
 * relation to that system's incident.
 */
static void
test_decoy_not_related(void **state)
{
	struct anomaly_conf	 ac;
	struct anomaly		*a;
	struct packet		 pk;
	int			 s, i;

	(void)state;
	down_addr = "192.0.2.77";
	conf_counter(&ac, ANOMALY_PACKET_RATE, 1000, 1000);
	a = anomaly_new(&ac);
	anomaly_set_relate(a, relate_down, NULL);
	for (s = 0; s < 2; s++)
		for (i = 0; i < 1000; i++) {
			syn(&pk, htonl(i % 2 ? 0xc000024d : 0xcb007109),
			    htonl(0xc6336410), (uint16_t)(1 + i));
			anomaly_packet(a, T0 + s * 1000 + i, 60, &pk);
			syn(&pk, htonl(0xc6336410), htonl(i % 2 ?
			    0xc000024d : 0xcb007109), 40000);
			pk.sport = (uint16_t)(1 + i);
			pk.tcp_flags = PACKET_TCP_RST | PACKET_TCP_ACK;
			pk.has_tcp_flags = 1;
			anomaly_packet(a, T0 + s * 1000 + i, 60, &pk);
		}
	anomaly_tick(a, T0 + 2000);
	take(a);
	assert_int_equal(count(ANOMALY_EVENT_OPEN), 1);
	assert_int_equal(count(ANOMALY_EVENT_RELATE), 0);
	/* The target itself down: related. */
	down_addr = "198.51.100.16";
	second_of(a, T0 + 2000, IPPROTO_TCP, 0xcb007109, 80, 2000);
	anomaly_tick(a, T0 + 3000);
	take(a);
	assert_int_equal(count(ANOMALY_EVENT_RELATE), 1);
	assert_string_equal(seen.ev[nth(ANOMALY_EVENT_RELATE, 0)].value,
	    "198.51.100.16");
	down_addr = NULL;
	anomaly_free(a);
}

/*
 * A decoy that is a real host: flagged for the scan's SYNs to one target,
 * it also opens its own connections to another system, which is down.
 * The scan concerns the address it scanned, not the host's last one: no
 * relation to that system's incident, no such target, and the detail
 * names the target scanned.  The target scanned going down while the
 * scan goes on is related, by the windows' recheck.  Once the scan stops,
 * the host's own connections do not keep its episode open.
 */
static void
test_decoy_host_keeps_its_target(void **state)
{
	struct anomaly_conf	 ac;
	struct anomaly		*a;
	struct packet		 pk;
	int64_t			 ep;
	int			 i, d;

	(void)state;
	down_addr = "192.0.2.80";
	conf_counter(&ac, ANOMALY_PORTS_PER_SOURCE, 10, 60000);
	a = anomaly_new(&ac);
	anomaly_set_relate(a, relate_down, NULL);
	scan(a, T0, 0xc6336401, 0xc6336402, 12);
	take(a);
	ep = seen.ev[nth(ANOMALY_EVENT_OPEN, 0)].episode;
	/*
	 * Over three windows, its own connections to 192.0.2.80:8080, and
	 * the scan going on, a port every 500ms.
	 */
	for (i = 0; i < 30; i++) {
		syn(&pk, htonl(0xc6336401), htonl(0xc0000250), 8080);
		pk.sport = (uint16_t)(41000 + i);
		anomaly_packet(a, T0 + 100 + i * 100, 60, &pk);
		if (i % 5 == 0) {
			syn(&pk, htonl(0xc6336401), htonl(0xc6336402),
			    (uint16_t)(13 + i / 5));
			anomaly_packet(a, T0 + 150 + i * 100, 60, &pk);
		}
	}
	anomaly_tick(a, T0 + 3000);
	take(a);
	assert_int_equal(count(ANOMALY_EVENT_END), 0);
	assert_int_equal(count(ANOMALY_EVENT_RELATE), 0);
	assert_int_equal(indicator(ep, "target", "192.0.2.80"), -1);
	assert_true(indicator(ep, "target", "198.51.100.2") != -1);
	assert_true(count(ANOMALY_EVENT_DETAIL) >= 1);
	d = nth(ANOMALY_EVENT_DETAIL, count(ANOMALY_EVENT_DETAIL) - 1);
	assert_null(strstr(seen.ev[d].detail, "192.0.2.80"));
	assert_non_null(strstr(seen.ev[d].detail, "(target 198.51.100.2)"));
	/* The host scanned goes down while the scan lasts: related. */
	down_addr = "198.51.100.2";
	syn(&pk, htonl(0xc6336401), htonl(0xc6336402), 19);
	anomaly_packet(a, T0 + 3100, 60, &pk);
	anomaly_tick(a, T0 + 4000);
	take(a);
	assert_int_equal(count(ANOMALY_EVENT_RELATE), 1);
	assert_string_equal(seen.ev[nth(ANOMALY_EVENT_RELATE, 0)].value,
	    "198.51.100.2");
	assert_string_equal(seen.ev[nth(ANOMALY_EVENT_RELATE, 0)].name,
	    "INT");
	/* The scan over, the host's own connections go on: it ends. */
	for (i = 0; i < 40; i++) {
		syn(&pk, htonl(0xc6336401), htonl(0xc0000250), 8080);
		pk.sport = (uint16_t)(42000 + i);
		anomaly_packet(a, T0 + 4000 + i * 100, 60, &pk);
	}
	anomaly_tick(a, T0 + 8000);
	take(a);
	assert_int_equal(count(ANOMALY_EVENT_END), 1);
	assert_true(seen.ev[nth(ANOMALY_EVENT_END, 0)].at == T0 + 3100);
	down_addr = NULL;
	anomaly_free(a);
}

/*
 * A flood aimed at one host while a system that is down gets its usual
 * traffic (40 packets a second, the daemon's own checks of it): that
 * system is among the flood's top targets, but the flood does not aim
 * at it, and is not related to its incident, neither while it lasts nor
 * in its calm windows before it ends, when that traffic is all there is.
 * A second host taking a third of the flood is aimed at: related.
 */
static void
test_flood_bystander_not_related(void **state)
{
	struct anomaly_conf	 ac;
	struct anomaly		*a;
	int64_t			 ep;
	int			 s;

	(void)state;
	down_addr = "192.0.2.80";
	conf_counter(&ac, ANOMALY_PACKET_RATE, 1000, 1000);
	a = anomaly_new(&ac);
	anomaly_set_relate(a, relate_down, NULL);
	for (s = 0; s < 2; s++) {
		second_of(a, T0 + s * 1000, IPPROTO_TCP, 0xcb007109, 80, 2000);
		second_of_to(a, T0 + s * 1000, 0xc6336401, 0xc0000250, 40);
	}
	for (s = 2; s < 5; s++)
		second_of_to(a, T0 + s * 1000, 0xc6336401, 0xc0000250, 40);
	anomaly_tick(a, T0 + 5000);
	take(a);
	assert_int_equal(count(ANOMALY_EVENT_OPEN), 1);
	ep = seen.ev[nth(ANOMALY_EVENT_OPEN, 0)].episode;
	assert_true(indicator(ep, "target", "192.0.2.80") != -1);
	assert_int_equal(count(ANOMALY_EVENT_RELATE), 0);
	/* It goes on, a third of it now at the system that is down. */
	second_of(a, T0 + 5000, IPPROTO_TCP, 0xcb007109, 80, 2000);
	second_of_to(a, T0 + 5000, 0xc6336401, 0xc0000250, 1000);
	anomaly_tick(a, T0 + 6000);
	take(a);
	assert_int_equal(count(ANOMALY_EVENT_RELATE), 1);
	assert_string_equal(seen.ev[nth(ANOMALY_EVENT_RELATE, 0)].value,
	    "192.0.2.80");
	assert_string_equal(seen.ev[nth(ANOMALY_EVENT_RELATE, 0)].name,
	    "DOS");
	down_addr = NULL;
	anomaly_free(a);
}

/*
 * A scan's detail tells what the block counts: with no host counter, no
 * "0 distinct hosts"; with one, the hosts; a host counter alone, no
 * ports.
 */
static void
test_scan_detail_counts_what_is_counted(void **state)
{
	struct anomaly_conf	 ac;
	struct anomaly		*a;
	struct packet		 pk;
	const char		*d;
	int			 i;

	(void)state;
	conf_counter(&ac, ANOMALY_PORTS_PER_SOURCE, 10, 60000);
	a = anomaly_new(&ac);
	scan(a, T0, 0xc0000209, 0xc6336410, 12);
	take(a);
	d = seen.ev[nth(ANOMALY_EVENT_OPEN, 0)].detail;
	assert_null(strstr(d, "hosts"));
	assert_non_null(strstr(d, "source 192.0.2.9: about 11 distinct ports "
	    "(2-12) (target 198.51.100.16) in 11 packets"));
	anomaly_free(a);

	memset(&seen, 0, sizeof(seen));
	ac.th[ANOMALY_HOSTS_PER_SOURCE].set = 1;
	ac.th[ANOMALY_HOSTS_PER_SOURCE].above = 50;
	ac.th[ANOMALY_HOSTS_PER_SOURCE].ms = 60000;
	a = anomaly_new(&ac);
	scan(a, T0, 0xc0000209, 0xc6336410, 12);
	take(a);
	d = seen.ev[nth(ANOMALY_EVENT_OPEN, 0)].detail;
	assert_non_null(strstr(d, "about 11 distinct ports (2-12) and 1 "
	    "distinct hosts (target 198.51.100.16)"));
	anomaly_free(a);

	memset(&seen, 0, sizeof(seen));
	ac.th[ANOMALY_PORTS_PER_SOURCE].set = 0;
	ac.th[ANOMALY_HOSTS_PER_SOURCE].above = 10;
	a = anomaly_new(&ac);
	for (i = 0; i < 12; i++) {
		syn(&pk, htonl(0xc0000209), htonl(0xc6336400 + (uint32_t)i),
		    (uint16_t)(1 + i));
		anomaly_packet(a, T0 + i, 60, &pk);
	}
	take(a);
	d = seen.ev[nth(ANOMALY_EVENT_OPEN, 0)].detail;
	assert_null(strstr(d, "ports"));
	assert_non_null(strstr(d, "source 192.0.2.9: about 11 distinct "
	    "hosts (target 198.51.100.11) in 11 packets"));
	anomaly_free(a);
}

/*
 * An ARP conflict for the very address a failing check targets relates
 * to that system's incident, and when the system goes down during the
 * conflict, then.
 */
static void
test_arp_related(void **state)
{
	struct anomaly_conf	 ac;
	struct anomaly		*a;
	uint32_t		 gw = htonl(0xc0000201);

	(void)state;
	conf_syn(&ac, 1000, 5000);
	ac.arp_ip[0] = gw;
	ac.narp = 1;
	a = anomaly_new(&ac);
	anomaly_set_relate(a, relate_down, NULL);
	down_addr = NULL;
	arp_at(a, T0, gw, 1);
	arp_at(a, T0 + 100, gw, 2);
	take(a);
	assert_int_equal(count(ANOMALY_EVENT_OPEN), 1);
	assert_int_equal(count(ANOMALY_EVENT_RELATE), 0);
	down_addr = "192.0.2.1";
	arp_at(a, T0 + 1100, gw, 2);
	anomaly_tick(a, T0 + 2000);
	take(a);
	assert_int_equal(count(ANOMALY_EVENT_RELATE), 1);
	assert_true(seen.ev[nth(ANOMALY_EVENT_RELATE, 0)].incident == 9);
	assert_string_equal(seen.ev[nth(ANOMALY_EVENT_RELATE, 0)].value,
	    "192.0.2.1");
	down_addr = NULL;
	anomaly_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_hold, setup),
		cmocka_unit_test_setup(test_hold_interrupted, setup),
		cmocka_unit_test_setup(test_rate_edge, setup),
		cmocka_unit_test_setup(test_drops, setup),
		cmocka_unit_test_setup(test_synack_of_previous_window, setup),
		cmocka_unit_test_setup(test_unanswered_min_syns, setup),
		cmocka_unit_test_setup(test_port_scan, setup),
		cmocka_unit_test_setup(test_arp_change, setup),
		cmocka_unit_test_setup(test_arp_conflict_at_start, setup),
		cmocka_unit_test_setup(test_flood_relate_stop, setup),
		cmocka_unit_test_setup(test_episode_lost, setup),
		cmocka_unit_test_setup(test_bad_fragments, setup),
		cmocka_unit_test_setup(test_scan_again_after_end, setup),
		cmocka_unit_test_setup(test_scan_grows, setup),
		cmocka_unit_test_setup(test_flood_named_by_its_counter, setup),
		cmocka_unit_test_setup(test_flood_renamed, setup),
		cmocka_unit_test_setup(test_arp_sweep, setup),
		cmocka_unit_test_setup(test_slow_scan, setup),
		cmocka_unit_test_setup(test_amplification, setup),
		cmocka_unit_test_setup(test_decoy_not_related, setup),
		cmocka_unit_test_setup(test_decoy_host_keeps_its_target, setup),
		cmocka_unit_test_setup(test_flood_bystander_not_related, setup),
		cmocka_unit_test_setup(test_scan_detail_counts_what_is_counted,
		    setup),
		cmocka_unit_test_setup(test_arp_related, setup),
	};

	log_init("test_anomaly", 1, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
