/*
 * hostnet.c: has the monitoring host itself lost its network?
 *
 * Read from the kernel's own tables, which answer at once: the default
 * route (/proc/self/net/route and ipv6_route: the unit's ProcSubset=pid
 * hides /proc/net but not a process's own view), the state of its link
 * (/sys/class/net/IF/operstate) and whether the IPv4 gateway answered
 * ARP (/proc/net/arp: the probes that just failed went through it, so the
 * kernel has asked).  No packet is sent and nothing waits: an unanswered
 * ARP entry is incomplete (flags 0) within a second or so; a gateway that
 * died moments ago may still show its last complete entry, so this says
 * "lost" only on evidence, never "up" for certain.  An IPv6
 * gateway's neighbour state is only in netlink; with an IPv6 default
 * route on a link that is up, the host counts as connected.
 */
#include <arpa/inet.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostnet.h"
#include "util.h"

#define HOSTNET_FILE_MAX	((size_t)64 * 1024)	/* read of a table */

/* The start of a /proc or /sys file, NUL-terminated; "" if unreadable. */
static char *
hostnet_read(const char *path)
{
	char	*buf;
	ssize_t	 n;
	size_t	 len = 0;
	int	 fd;

	buf = xmalloc(HOSTNET_FILE_MAX + 1);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) != -1) {
		while (len < HOSTNET_FILE_MAX && (n = read(fd, buf + len,
		    HOSTNET_FILE_MAX - len)) > 0)
			len += (size_t)n;
		close(fd);
	}
	buf[len] = '\0';
	return buf;
}

/*
 * The IPv4 default route in /proc/net/route's text: its interface and
 * gateway (network byte order, as the table has it).  1 if found.
 */
int
hostnet_default_route(const char *route, char *ifname, size_t iflen,
    unsigned *gw)
{
	const char	*line;
	char		 name[64];
	unsigned	 dest, gate, flags, mask;

	for (line = route; line != NULL && *line != '\0';
	    line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		if (sscanf(line, "%63s %x %x %x %*d %*d %*d %x", name, &dest,
		    &gate, &flags, &mask) != 5)
			continue;
		/* RTF_UP (1) and RTF_GATEWAY (2), to anywhere. */
		if (dest == 0 && mask == 0 && (flags & 3) == 3) {
			snprintf(ifname, iflen, "%s", name);
			*gw = gate;
			return 1;
		}
	}
	return 0;
}

/* Did GW answer ARP on IFNAME (a complete entry, flag ATF_COM)? */
int
hostnet_neighbour_ok(const char *arp, unsigned gw, const char *ifname)
{
	const char	*line;
	char		 addr[64], dev[64];
	unsigned	 flags;
	struct in_addr	 in;

	for (line = arp; line != NULL && *line != '\0';
	    line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		if (sscanf(line, "%63s %*x %x %*s %*s %63s", addr, &flags,
		    dev) != 3 || inet_pton(AF_INET, addr, &in) != 1)
			continue;
		if (in.s_addr == gw && strcmp(dev, ifname) == 0)
			return (flags & 0x2) != 0;
	}
	return 0;
}

/* The IPv6 default route's interface in /proc/net/ipv6_route's text. */
int
hostnet_ipv6_default(const char *ipv6_route, char *ifname, size_t iflen)
{
	const char	*line;
	char		 dest[40], name[64];
	unsigned	 plen, flags;

	for (line = ipv6_route; line != NULL && *line != '\0';
	    line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		if (sscanf(line, "%39s %x %*s %*s %*s %*s %*s %*s %x %63s",
		    dest, &plen, &flags, name) != 4)
			continue;
		/* ::/0 through a gateway (RTF_UP|RTF_GATEWAY), not lo. */
		if (plen == 0 && strspn(dest, "0") == 32 &&
		    (flags & 3) == 3 && strcmp(name, "lo") != 0) {
			snprintf(ifname, iflen, "%s", name);
			return 1;
		}
	}
	return 0;
}

/* "unknown" is what many working virtual links (tun, ppp) say. */
int
hostnet_operstate_up(const char *operstate)
{
	return strncmp(operstate, "up", 2) == 0 ||
	    strncmp(operstate, "unknown", 7) == 0;
}

static int
hostnet_link_up(const char *ifname)
{
	char	 path[128], *state;
	int	 up;

	snprintf(path, sizeof(path), "/sys/class/net/%s/operstate", ifname);
	state = hostnet_read(path);
	/* A state out of sight is not evidence that the link is down. */
	up = *state == '\0' || hostnet_operstate_up(state);
	free(state);
	return up;
}

void
hostnet_check(struct hostnet *h)
{
	char		*route, *arp, *route6;
	char		 ifname[64], gwtext[INET_ADDRSTRLEN];
	unsigned	 gw = 0;
	struct in_addr	 in;

	memset(h, 0, sizeof(*h));
	route = hostnet_read("/proc/self/net/route");
	arp = hostnet_read("/proc/self/net/arp");
	route6 = hostnet_read("/proc/self/net/ipv6_route");
	if (*route == '\0' && *route6 == '\0') {
		/* Not even the header line: the tables are out of sight. */
		h->lost = -1;
		snprintf(h->why, sizeof(h->why), "its routing table could not "
		    "be read");
	} else if (hostnet_default_route(route, ifname, sizeof(ifname),
	    &gw)) {
		in.s_addr = gw;
		inet_ntop(AF_INET, &in, gwtext, sizeof(gwtext));
		if (!hostnet_link_up(ifname)) {
			h->lost = 1;
			snprintf(h->why, sizeof(h->why), "its link %s is down",
			    ifname);
		} else if (!hostnet_neighbour_ok(arp, gw, ifname)) {
			h->lost = 1;
			snprintf(h->why, sizeof(h->why), "its default gateway "
			    "%s on %s does not answer (no ARP reply)", gwtext,
			    ifname);
		} else
			snprintf(h->why, sizeof(h->why), "its link %s is up "
			    "and its default gateway %s answers", ifname,
			    gwtext);
	} else if (hostnet_ipv6_default(route6, ifname, sizeof(ifname))) {
		if (!hostnet_link_up(ifname)) {
			h->lost = 1;
			snprintf(h->why, sizeof(h->why), "its link %s is down",
			    ifname);
		} else
			snprintf(h->why, sizeof(h->why), "its link %s is up "
			    "with an IPv6 default route", ifname);
	} else {
		h->lost = 1;
		snprintf(h->why, sizeof(h->why), "no default route");
	}
	free(route);
	free(arp);
	free(route6);
}
