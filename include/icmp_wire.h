/*
 * icmp_wire.h: ICMP and ICMPv6 echo packets on the wire.
 *
 * What the ping probe sends and the parser of what comes back, kept apart
 * from the sockets so that the parser of outside input can be unit-tested
 * and fuzzed on its own.  Everything here is pure: bytes in, a struct out.
 */
#ifndef RTOWATCH_ICMP_WIRE_H
#define RTOWATCH_ICMP_WIRE_H

#include <stddef.h>
#include <stdint.h>

/*
 * The payload after the 8-byte echo header: the mark "rtowatch", the
 * probe's id (32 bits) and the attempt (16 bits), then 2 bytes of zeros.
 */
#define ICMP_WIRE_HDRLEN	8
#define ICMP_WIRE_PAYLOADLEN	16
#define ICMP_WIRE_ECHOLEN	(ICMP_WIRE_HDRLEN + ICMP_WIRE_PAYLOADLEN)

enum icmp_wire_kind {
	ICMP_WIRE_OTHER = 0,	/* not for us: someone else's, or noise */
	ICMP_WIRE_ECHO_REPLY,	/* an echo reply */
	ICMP_WIRE_ERROR		/* an error that quotes an echo request */
};

struct icmp_wire_msg {
	enum icmp_wire_kind	 kind;
	int			 family;	/* AF_INET or AF_INET6 */
	uint8_t			 type;		/* of the message received */
	uint8_t			 code;
	uint16_t		 id;		/* of the echo (or quoted echo) */
	uint16_t		 seq;
	/* ECHO_REPLY: whether the payload is ours, and what it says. */
	int			 has_payload;
	uint32_t		 probe_id;
	uint16_t		 attempt;
	/* ERROR: where the quoted echo request was going. */
	uint8_t			 dst[16];	/* 4 bytes used for AF_INET */
};

size_t		 icmp_wire_echo(int, uint16_t, uint16_t, uint32_t, uint16_t,
		    uint8_t *, size_t);
int		 icmp_wire_parse(int, int, const uint8_t *, size_t,
		    struct icmp_wire_msg *);
uint16_t	 icmp_wire_cksum(const uint8_t *, size_t);
const char	*icmp_wire_error_str(int, uint8_t, uint8_t);

#endif
