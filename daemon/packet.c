/*
 * packet.c: from captured bytes to the header fields the counters read.
 *
 * Every read is checked against the captured length: a packet cut short
 * by the snap length, or forged, yields what could be read and no more.
 * Only the first fragment of an IP datagram carries ports, and the TCP
 * flags when it is long enough; a later fragment is never read as a
 * transport header, except for the flags at their place in the datagram.
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
		if (len < 4)
			return;
		pk->sport = packet_get16(l4);
		pk->dport = packet_get16(l4 + 2);
		pk->has_ports = 1;
		/* A first fragment of 8 bytes (nmap -f) ends before them. */
		if (len < 14)
			return;
		pk->tcp_flags = l4[13];
		pk->has_tcp_flags = 1;
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

/*
 * A fragment at OFF bytes into its datagram, whose L4 (LEN bytes) starts
 * there; the transport is known already (PK->proto).
 */
static __attribute__((noinline)) void
packet_fragment(struct packet *pk, uint32_t id, size_t off,
    const uint8_t *l4, size_t len)
{
	pk->frag_id = id;
	pk->frag_off = (uint16_t)off;
	if (off == 0) {
		pk->frag = PACKET_FRAG_FIRST;
		packet_l4(pk, l4, len);
		if (pk->proto == IPPROTO_TCP && !pk->has_tcp_flags)
			pk->frag_bad |= PACKET_FRAG_TINY;
		return;
	}
	pk->frag = PACKET_FRAG_LATER;
	if (pk->proto != IPPROTO_TCP)
		return;
	/*
	 * Offsets go by 8 bytes: only the second fragment can hold the
	 * flags (byte 13), and a legitimate first fragment holds the whole
	 * TCP header, so one there is overlapping or cut to hide them.  Its
	 * flags are read all the same: packet_frag_join() pairs them with
	 * the first fragment's ports.  No ports here: they are not in it.
	 */
	if (off == 8) {
		pk->frag_bad |= PACKET_FRAG_OVERLAP;
		if (len > 13 - off) {
			pk->tcp_flags = l4[13 - off];
			pk->has_tcp_flags = 1;
		}
	}
}

/* Inlined even where called thrice: most packets are IPv4 on Ethernet. */
static inline __attribute__((always_inline)) int
packet_ipv4(struct packet *pk, const uint8_t *p, size_t len)
{
	size_t	 hl, total;
	uint16_t fo;

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
	total = packet_get16(p + 2);
	if (total >= hl && total < len)
		len = total;	/* Ethernet padding is not payload */
	fo = packet_get16(p + 6);
	/* More fragments, or an offset: not a whole datagram. */
	if (__builtin_expect((fo & 0x3fff) != 0, 0)) {
		packet_fragment(pk, packet_get16(p + 4), (size_t)(fo &
		    0x1fff) * 8, p + hl, len - hl);
		return 0;
	}
	packet_l4(pk, p + hl, len - hl);
	return 0;
}

static int
packet_ipv6(struct packet *pk, const uint8_t *p, size_t len)
{
	size_t	 off = 40, ext, fo;
	uint32_t id = 0;
	uint8_t	 next;
	int	 i, frag = 0;

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
			fo = packet_get16(p + off + 2) & 0xfff8;
			id = (uint32_t)packet_get16(p + off + 4) << 16 |
			    packet_get16(p + off + 6);
			off += 8;
			if (fo != 0) {
				pk->proto = next;
				packet_fragment(pk, id, fo, p + off, len - off);
				return 0;
			}
			/* An atomic fragment (M clear) is a whole datagram. */
			frag = packet_get16(p + off - 6) & 1;
			continue;
		default:
			break;
		}
		break;
	}
 out:
	pk->proto = next;
	if (off > len)
		return 0;
	if (frag)
		packet_fragment(pk, id, 0, p + off, len - off);
	else
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
	memcpy(pk->arp_tip, p + 24, 4);
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
 * BSD loopback (DLT_NULL in the byte order of the host that captured,
 * DLT_LOOP in network order): the address family, 4 bytes.  A file may come
 * from a host of either order, and families are small numbers, so the
 * order is told by where the zero bytes are.  IPv6 has a different number
 * on each system that writes these.
 */
static int
packet_loopback(struct packet *pk, const uint8_t *p, size_t len)
{
	uint32_t	 af;

	if (len < 4)
		return -1;
	af = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
	if (af > 0xffff)
		af = __builtin_bswap32(af);
	switch (af) {
	case 2:			/* AF_INET everywhere */
		return packet_ipv4(pk, p + 4, len - 4);
	case 10:		/* Linux */
	case 24:		/* OpenBSD, NetBSD */
	case 28:		/* FreeBSD */
	case 30:		/* macOS */
		return packet_ipv6(pk, p + 4, len - 4);
	default:
		return -1;
	}
}

/*
 * Is DLT a link type packet_decode() reads?  Any other is refused where a
 * capture starts, not counted as packets of nothing.
 */
int
packet_dlt_known(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
	case DLT_NULL:
	case DLT_LOOP:
		return 1;
	default:
		return 0;
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
	case DLT_NULL:
	case DLT_LOOP:
		return packet_loopback(pk, p, len);
	default:
		return -1;
	}
}

static uint32_t
packet_frag_hash(const struct packet *pk)
{
	uint32_t	 h = pk->frag_id * 0x9e3779b1U, w;
	int		 i, n = pk->family == 6 ? 16 : 4;

	for (i = 0; i < n; i += 4) {
		memcpy(&w, pk->src + i, 4);
		h = (h ^ w) * 0x85ebca6bU;
		memcpy(&w, pk->dst + i, 4);
		h = (h ^ w) * 0xc2b2ae35U;
	}
	return (h ^ h >> 15) & (PACKET_FRAG_SLOTS - 1);
}

/*
 * A TCP fragment PK, decoded at NOW (ms): when it has the ports and not
 * the flags, or the flags and not the ports, and the other fragment of
 * its datagram came first, it gets what that one had.  Either way the
 * counters see one packet with both, the SYN of nmap -f among them.
 */
void
packet_frag_join(struct packet_frags *fr, int64_t now, struct packet *pk)
{
	struct packet_frag_slot	*s;
	int			 match;

	if (pk->kind != PACKET_IP || pk->proto != IPPROTO_TCP ||
	    pk->frag == PACKET_FRAG_NONE || pk->has_ports == pk->has_tcp_flags)
		return;
	s = &fr->slot[packet_frag_hash(pk)];
	match = s->ms != 0 && now - s->ms < PACKET_FRAG_MS &&
	    now - s->ms > -PACKET_FRAG_MS && s->id == pk->frag_id &&
	    s->family == pk->family &&
	    memcmp(s->src, pk->src, sizeof(s->src)) == 0 &&
	    memcmp(s->dst, pk->dst, sizeof(s->dst)) == 0;
	if (match && pk->has_ports && s->has_flags) {
		pk->tcp_flags = s->tcp_flags;
		pk->has_tcp_flags = 1;
		s->ms = 0;
		return;
	}
	if (match && pk->has_tcp_flags && s->has_ports) {
		pk->sport = s->sport;
		pk->dport = s->dport;
		pk->has_ports = 1;
		s->ms = 0;
		return;
	}
	memset(s, 0, sizeof(*s));
	s->ms = now != 0 ? now : 1;
	s->id = pk->frag_id;
	s->family = (uint8_t)pk->family;
	memcpy(s->src, pk->src, sizeof(s->src));
	memcpy(s->dst, pk->dst, sizeof(s->dst));
	s->has_ports = (uint8_t)pk->has_ports;
	s->sport = pk->sport;
	s->dport = pk->dport;
	s->has_flags = pk->has_tcp_flags;
	s->tcp_flags = pk->tcp_flags;
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
