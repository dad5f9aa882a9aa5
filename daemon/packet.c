/*
 * packet.c: from captured bytes to the header fields the counters read.
 *
 * Every read is checked against the captured length: a packet cut short
 * by the snap length, or forged, yields what could be read and no more.
 * Only the first fragment of an IP datagram carries ports.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pcap/dlt.h>

#include <stdio.h>
#include <string.h>

#include "packet.h"

#define ETHERTYPE_IPV4	0x0800
#define ETHERTYPE_ARP	0x0806
#define ETHERTYPE_VLAN	0x8100
#define ETHERTYPE_QINQ	0x88a8
#define ETHERTYPE_IPV6	0x86dd
#define PACKET_MAX_VLANS 4	/* tags stacked before the payload */
#define PACKET_MAX_EXT	8	/* IPv6 extension headers followed */

static inline uint16_t
packet_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* TCP, UDP and ICMP after an IP header; L4 points at LEN bytes. */
static inline void
packet_l4(struct packet *pk, const uint8_t *l4, size_t len)
{
	switch (pk->proto) {
	case IPPROTO_TCP:
		if (len < 14)
			return;
		pk->sport = packet_get16(l4);
		pk->dport = packet_get16(l4 + 2);
		pk->tcp_flags = l4[13];
		pk->has_ports = 1;
		break;
	case IPPROTO_UDP:
		if (len < 4)
			return;
		pk->sport = packet_get16(l4);
		pk->dport = packet_get16(l4 + 2);
		pk->has_ports = 1;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (len < 1)
			return;
		pk->icmp_type = l4[0];
		pk->has_icmp = 1;
		break;
	default:
		break;
	}
}

static inline int
packet_ipv4(struct packet *pk, const uint8_t *p, size_t len)
{
	size_t	 hl, total;

	if (len < 20 || (p[0] >> 4) != 4)
		return -1;
	hl = (size_t)(p[0] & 0x0f) * 4;
	if (hl < 20 || hl > len)
		return -1;
	pk->kind = PACKET_IP;
	pk->family = 4;
	pk->proto = p[9];
	memcpy(pk->src, p + 12, 4);
	memcpy(pk->dst, p + 16, 4);
	/* Later fragments carry no transport header. */
	if ((packet_get16(p + 6) & 0x1fff) != 0)
		return 0;
	total = packet_get16(p + 2);
	if (total >= hl && total < len)
		len = total;	/* Ethernet padding is not payload */
	packet_l4(pk, p + hl, len - hl);
	return 0;
}

static int
packet_ipv6(struct packet *pk, const uint8_t *p, size_t len)
{
	size_t	 off = 40, ext;
	uint8_t	 next;
	int	 i;

	if (len < 40 || (p[0] >> 4) != 6)
		return -1;
	pk->kind = PACKET_IP;
	pk->family = 6;
	memcpy(pk->src, p + 8, 16);
	memcpy(pk->dst, p + 24, 16);
	next = p[6];
	for (i = 0; i < PACKET_MAX_EXT; i++) {
		switch (next) {
		case 0:		/* hop-by-hop */
		case 43:	/* routing */
		case 60:	/* destination options */
			if (off + 2 > len)
				goto out;
			ext = ((size_t)p[off + 1] + 1) * 8;
			next = p[off];
			off += ext;
			continue;
		case 44:	/* fragment: ports only in the first */
			if (off + 8 > len)
				goto out;
			next = p[off];
			if ((packet_get16(p + off + 2) & 0xfff8) != 0) {
				pk->proto = next;
				return 0;
			}
			off += 8;
			continue;
		default:
			break;
		}
		break;
	}
 out:
	pk->proto = next;
	if (off <= len)
		packet_l4(pk, p + off, len - off);
	return 0;
}

static int
packet_arp(struct packet *pk, const uint8_t *p, size_t len)
{
	/* Ethernet and IPv4 only: hardware type 1, protocol 0x0800. */
	if (len < 28 || packet_get16(p) != 1 ||
	    packet_get16(p + 2) != ETHERTYPE_IPV4 || p[4] != 6 || p[5] != 4)
		return -1;
	pk->kind = PACKET_ARP;
	pk->arp_op = packet_get16(p + 6);
	memcpy(pk->arp_mac, p + 8, 6);
	memcpy(pk->arp_ip, p + 14, 4);
	return 0;
}

static int
packet_ethertype(struct packet *pk, uint16_t type, const uint8_t *p,
    size_t len)
{
	switch (type) {
	case ETHERTYPE_IPV4:
		return packet_ipv4(pk, p, len);
	case ETHERTYPE_IPV6:
		return packet_ipv6(pk, p, len);
	case ETHERTYPE_ARP:
		return packet_arp(pk, p, len);
	default:
		return -1;
	}
}

/*
 * Decode one captured packet of link type DLT.  Returns 0 when an IP or
 * ARP header was read (PK->kind says which), -1 otherwise.
 */
int
packet_decode(int dlt, const uint8_t *p, size_t len, struct packet *pk)
{
	uint16_t	 type;
	size_t		 off;
	int		 i;

	memset(pk, 0, sizeof(*pk));
	/* Most packets: Ethernet, no VLAN tag, IPv4. */
	if (dlt == DLT_EN10MB && len >= 14 && packet_get16(p + 12) ==
	    ETHERTYPE_IPV4)
		return packet_ipv4(pk, p + 14, len - 14);
	switch (dlt) {
	case DLT_EN10MB:
		if (len < 14)
			return -1;
		type = packet_get16(p + 12);
		off = 14;
		for (i = 0; i < PACKET_MAX_VLANS && (type == ETHERTYPE_VLAN ||
		    type == ETHERTYPE_QINQ); i++) {
			if (off + 4 > len)
				return -1;
			type = packet_get16(p + off + 2);
			off += 4;
		}
		return packet_ethertype(pk, type, p + off, len - off);
	case DLT_LINUX_SLL:
		if (len < 16)
			return -1;
		return packet_ethertype(pk, packet_get16(p + 14), p + 16,
		    len - 16);
	case DLT_LINUX_SLL2:
		if (len < 20)
			return -1;
		return packet_ethertype(pk, packet_get16(p), p + 20, len - 20);
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		if (len < 1)
			return -1;
		return (p[0] >> 4) == 6 ? packet_ipv6(pk, p, len) :
		    packet_ipv4(pk, p, len);
	default:
		return -1;
	}
}

/* An address of FAMILY (4 or 6) as text. */
char *
packet_addr_fmt(int family, const uint8_t *a, char *buf, size_t len)
{
	if (inet_ntop(family == 6 ? AF_INET6 : AF_INET, a, buf,
	    (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
	return buf;
}
