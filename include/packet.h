/*
 * packet.h: the packet decoder of the traffic counters.
 *
 * Raw bytes from libpcap (Ethernet with VLAN tags, Linux cooked capture,
 * BSD loopback or raw IP) into the few header fields the counters read.  Pure and bounds
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

/* Where a packet lies in its IP datagram. */
#define PACKET_FRAG_NONE	0	/* a whole datagram */
#define PACKET_FRAG_FIRST	1	/* offset 0, more to come: ports */
#define PACKET_FRAG_LATER	2	/* no transport header of its own */

/*
 * Fragments made to slip past filters (RFC 1858): a first fragment too
 * short to hold the TCP flags, and a TCP fragment at offset 8 bytes, which
 * can only be there to write over the flags.  Set by the decoder for a
 * detector to count; counting them is the detector's business.
 */
#define PACKET_FRAG_TINY	0x01
#define PACKET_FRAG_OVERLAP	0x02

enum packet_kind {
	PACKET_OTHER,		/* not IP nor ARP, or cut short */
	PACKET_IP,		/* IPv4 or IPv6, proto says what follows */
	PACKET_ARP
};

/*
 * Laid out so that it takes no more room than before fragments were read
 * (76 bytes): one more 8-byte step costs the replay a tenth of its speed.
 */
struct packet {
	enum packet_kind kind;
	int		 family;	/* 4 or 6, for PACKET_IP */
	uint8_t		 src[16];	/* IPv4 in the first 4 bytes */
	uint8_t		 dst[16];
	uint8_t		 proto;		/* IPPROTO_TCP, _UDP, _ICMP, _ICMPV6 */
	uint8_t		 has_ports;	/* TCP or UDP ports read */
	uint8_t		 has_tcp_flags;	/* TCP flags read (maybe alone) */
	uint8_t		 has_icmp;	/* ICMP or ICMPv6 header present */
	uint16_t	 sport;
	uint16_t	 dport;
	uint8_t		 tcp_flags;
	uint8_t		 icmp_type;
	uint8_t		 frag;		/* PACKET_FRAG_NONE, _FIRST, _LATER */
	uint8_t		 frag_bad;	/* PACKET_FRAG_TINY | _OVERLAP */
	uint16_t	 frag_off;	/* bytes into the datagram */
	uint16_t	 arp_op;	/* 1 request, 2 reply */
	uint32_t	 frag_id;	/* the datagram's identification */
	uint8_t		 arp_mac[6];	/* the sender's */
	uint8_t		 arp_ip[4];
	uint8_t		 arp_tip[4];	/* the address asked for */
};

/*
 * The TCP flags of a datagram cut so small (nmap -f) that its first
 * fragment holds the ports and the next one the flags: a few recent
 * datagrams remembered, so that whichever of the two comes second is
 * counted with both.  Bounded: one slot per hash, the newest wins.
 */
#define PACKET_FRAG_SLOTS	1024
#define PACKET_FRAG_MS		30000	/* Linux's ipfrag_time */

struct packet_frag_slot {
	int64_t		 ms;		/* when seen; 0: empty */
	uint8_t		 src[16];
	uint8_t		 dst[16];
	uint32_t	 id;
	uint8_t		 family;
	uint8_t		 has_ports;
	uint8_t		 has_flags;
	uint8_t		 tcp_flags;
	uint16_t	 sport;
	uint16_t	 dport;
};

struct packet_frags {
	struct packet_frag_slot	 slot[PACKET_FRAG_SLOTS];
};

int	packet_decode(int, const uint8_t *, size_t, struct packet *);
int	packet_dlt_known(int);
void	packet_frag_join(struct packet_frags *, int64_t, struct packet *);
char	*packet_addr_fmt(int, const uint8_t *, char *, size_t);

#endif
