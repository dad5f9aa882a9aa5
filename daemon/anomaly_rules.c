/*
 * anomaly_rules.c: the traffic counters' names and units, for the parser
 * (conf_anomaly.c) and the counters (anomaly.c) alike.
 */
#include <string.h>

#include "anomaly_rules.h"

static const struct {
	const char		*name;
	enum anomaly_unit	 unit;
} anomaly_counters[ANOMALY_COUNTER_MAX] = {
	[ANOMALY_SYN_RATE] = { "syn-rate", ANOMALY_UNIT_RATE },
	[ANOMALY_SYN_UNANSWERED] = { "syn-unanswered", ANOMALY_UNIT_SHARE },
	[ANOMALY_PACKET_RATE] = { "packet-rate", ANOMALY_UNIT_RATE },
	[ANOMALY_BYTE_RATE] = { "byte-rate", ANOMALY_UNIT_RATE },
	[ANOMALY_ICMP_RATE] = { "icmp-rate", ANOMALY_UNIT_RATE },
	[ANOMALY_UDP_AMP_RATE] = { "udp-amplification-rate",
	    ANOMALY_UNIT_RATE },
	[ANOMALY_UDP_RATE] = { "udp-rate", ANOMALY_UNIT_RATE },
	[ANOMALY_BAD_FRAGMENT_RATE] = { "bad-fragment-rate",
	    ANOMALY_UNIT_RATE },
	[ANOMALY_PORTS_PER_SOURCE] = { "distinct-ports-per-source",
	    ANOMALY_UNIT_DISTINCT },
	[ANOMALY_HOSTS_PER_SOURCE] = { "distinct-hosts-per-source",
	    ANOMALY_UNIT_DISTINCT },
	[ANOMALY_SLOW_PORTS_PER_SOURCE] = { "slow-distinct-ports-per-source",
	    ANOMALY_UNIT_DISTINCT },
	[ANOMALY_SLOW_HOSTS_PER_SOURCE] = { "slow-distinct-hosts-per-source",
	    ANOMALY_UNIT_DISTINCT },
};

const char *
anomaly_counter_name(enum anomaly_counter c)
{
	return anomaly_counters[c].name;
}

enum anomaly_unit
anomaly_counter_unit(enum anomaly_counter c)
{
	return anomaly_counters[c].unit;
}

/* The counter named NAME in *C; -1 if none is. */
int
anomaly_counter_find(const char *name, enum anomaly_counter *c)
{
	enum anomaly_counter	 i;

	for (i = 0; i < ANOMALY_COUNTER_MAX; i++)
		if (strcmp(anomaly_counters[i].name, name) == 0) {
			*c = i;
			return 0;
		}
	return -1;
}
