/*
 * packet.h: the packet decoder of the traffic counters.
 *
 * Raw bytes from libpcap (Ethernet with VLAN tags, Linux cooked capture or
 * raw IP) into the few header fields the counters read.  Pure and bounds
 * checked: it is the parser of outside input that the fuzzer runs.
 */
#ifndef RTOWATCH_PACKET_H
#define RTOWATCH_PACKET_H

#include <stddef.h>
#include <stdint.h>

#define PACKET_TCP_FIN	0x01
#define PACKET_TCP_SYN	0x02
#define PACKET_TCP_RST	0x04
#define PACKET_TCP_ACK	0x10

enum packet_kind {
	PACKET_OTHER,		/* not IP nor ARP, or cut short */
	PACKET_IP,		/* IPv4 or IPv6, proto says what follows */
	PACKET_ARP
};

struct packet {
	enum packet_kind kind;
	int		 family;	/* 4 or 6, for PACKET_IP */
	uint8_t		 src[16];	/* IPv4 in the first 4 bytes */
	uint8_t		 dst[16];
	uint8_t		 proto;		/* IPPROTO_TCP, _UDP, _ICMP, _ICMPV6 */
	int		 has_ports;	/* TCP or UDP header present */
	uint16_t	 sport;
	uint16_t	 dport;
	uint8_t		 tcp_flags;
	int		 has_icmp;	/* ICMP or ICMPv6 header present */
	uint8_t		 icmp_type;
	uint16_t	 arp_op;	/* 1 request, 2 reply */
	uint8_t		 arp_mac[6];	/* the sender's */
	uint8_t		 arp_ip[4];
};

int	packet_decode(int, const uint8_t *, size_t, struct packet *);
char	*packet_addr_fmt(int, const uint8_t *, char *, size_t);

#endif
