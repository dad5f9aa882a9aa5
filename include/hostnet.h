/*
 * hostnet.h: has the monitoring host itself lost its network?
 *
 * When most systems fail at once, either this host is cut off (its links
 * down, no default route, its default gateway not answering) or
 * something beyond the gateway is down.  Only the first calls for the
 * procedure's telephone fallback (5.3.7.3.3).
 */
#ifndef RTOWATCH_HOSTNET_H
#define RTOWATCH_HOSTNET_H

#include <stddef.h>

struct hostnet {
	int	 lost;		/* 1: this host lost its network, -1: maybe */
	char	 why[256];	/* what was found, either way */
};

void	 hostnet_check(struct hostnet *);

/* The pure halves, for the unit tests. */
int	 hostnet_default_route(const char *route, char *ifname, size_t iflen,
	    unsigned *gw);
int	 hostnet_neighbour_ok(const char *arp, unsigned gw, const char *ifname);
int	 hostnet_ipv6_default(const char *ipv6_route, char *ifname,
	    size_t iflen);
int	 hostnet_operstate_up(const char *operstate);

#endif
