/*
 * anomaly_rules.h: the rules of the traffic counters, as conf_anomaly.c
 * parses them from
 *
 *	anomaly "NAME" interface "IFACE" [filter "BPF"] [window 1s] {
 *		syn-rate above 5000/s for 10s
 *		distinct-ports-per-source above 100 in 60s
 *		slow-distinct-ports-per-source above 100 in 5m
 *		arp-change "192.0.2.1"
 *		end after 30s
 *	}
 */
#ifndef RTOWATCH_ANOMALY_RULES_H
#define RTOWATCH_ANOMALY_RULES_H

#include <sys/queue.h>
#include <stdint.h>

#define ANOMALY_DEFAULT_WINDOW_MS	1000
#define ANOMALY_DEFAULT_END_MS		(30 * 1000LL)
#define ANOMALY_MAX_ARP			64

enum anomaly_counter {
	ANOMALY_SYN_RATE,		/* TCP SYN (no ACK) per second */
	ANOMALY_SYN_UNANSWERED,		/* % of SYNs without a SYN-ACK */
	ANOMALY_PACKET_RATE,		/* packets per second */
	ANOMALY_BYTE_RATE,		/* bytes per second */
	ANOMALY_ICMP_RATE,		/* ICMP and ICMPv6 per second */
	ANOMALY_UDP_AMP_RATE,		/* unasked or oversized UDP replies */
	ANOMALY_UDP_RATE,		/* UDP per second */
	ANOMALY_BAD_FRAGMENT_RATE,	/* RFC 1858 fragments per second */
	ANOMALY_PORTS_PER_SOURCE,	/* distinct ports one source hit */
	ANOMALY_HOSTS_PER_SOURCE,	/* distinct hosts one source hit */
	ANOMALY_SLOW_PORTS_PER_SOURCE,	/* the same over a longer period */
	ANOMALY_SLOW_HOSTS_PER_SOURCE,
	ANOMALY_COUNTER_MAX
};

/* How a counter's threshold reads: 5000/s for 10s, 80% for 10s, 100 in 60s */
enum anomaly_unit {
	ANOMALY_UNIT_RATE,
	ANOMALY_UNIT_SHARE,
	ANOMALY_UNIT_DISTINCT
};

struct anomaly_threshold {
	int		 set;
	double		 above;		/* per second, percent, or count */
	int64_t		 ms;		/* "for" hold, or "in" period */
	int		 line;
};

struct anomaly_conf {
	TAILQ_ENTRY(anomaly_conf) entry;
	char			*name;
	char			*interface;
	char			*filter;	/* NULL: every packet */
	int64_t			 window_ms;
	int64_t			 end_ms;	/* quiet this long: ended */
	struct anomaly_threshold th[ANOMALY_COUNTER_MAX];
	uint32_t		 arp_ip[ANOMALY_MAX_ARP];	/* net order */
	int			 narp;
	int			 bad_rules;	/* with errors, not kept */
	const char		*file;
	int			 line;
};
TAILQ_HEAD(anomaly_list, anomaly_conf);

const char	*anomaly_counter_name(enum anomaly_counter);
enum anomaly_unit anomaly_counter_unit(enum anomaly_counter);
int		 anomaly_counter_find(const char *, enum anomaly_counter *);

#endif
