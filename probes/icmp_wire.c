/*
 * icmp_wire.c: build ICMP/ICMPv6 echo requests, parse what comes back.
 *
 * The parser reads bytes from the network: every length is checked before
 * the byte is read, fields are read byte by byte (no casts of the buffer
 * to header structs, so no alignment or aliasing questions), and anything
 * that is not an echo reply or an error quoting an echo request of ours
 * is ICMP_WIRE_OTHER.
 */
#include <sys/socket.h>

#include <string.h>

#include "icmp_wire.h"

#define ICMP4_ECHO_REPLY	0
#define ICMP4_UNREACH		3
#define ICMP4_ECHO		8
#define ICMP4_TIME_EXCEEDED	11
#define ICMP6_UNREACH		1
#define ICMP6_TIME_EXCEEDED	3
#define ICMP6_ECHO		128
#define ICMP6_ECHO_REPLY	129

#define IP4_MINHDR		20
#define IP6_HDRLEN		40
#define PROTO_ICMP		1
#define PROTO_ICMPV6		58

/* Our mark at the head of the payload: "rtowatch", not a C string. */
static const uint8_t icmp_wire_magic[8] = {
	'r', 't', 'o', 'w', 'a', 't', 'c', 'h'
};

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* The Internet checksum (RFC 1071), in network byte order. */
uint16_t
icmp_wire_cksum(const uint8_t *p, size_t len)
{
	uint32_t	 sum = 0;
	size_t		 i;

	for (i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * An echo request into BUF: the header, then our mark, the probe's id and
 * the attempt, so that a reply can be told from someone else's even when
 * the kernel chose the identifier (datagram ICMP sockets).  The ICMPv6
 * checksum covers a pseudo-header only the kernel knows: it fills it in.
 */
size_t
icmp_wire_echo(int family, uint16_t id, uint16_t seq, uint32_t probe_id,
    uint16_t attempt, uint8_t *buf, size_t len)
{
	if (len < ICMP_WIRE_ECHOLEN)
		return 0;
	memset(buf, 0, ICMP_WIRE_ECHOLEN);
	buf[0] = family == AF_INET6 ? ICMP6_ECHO : ICMP4_ECHO;
	put16(buf + 4, id);
	put16(buf + 6, seq);
	memcpy(buf + ICMP_WIRE_HDRLEN, icmp_wire_magic,
	    sizeof(icmp_wire_magic));
	put32(buf + ICMP_WIRE_HDRLEN + 8, probe_id);
	put16(buf + ICMP_WIRE_HDRLEN + 12, attempt);
	if (family != AF_INET6)
		put16(buf + 2, icmp_wire_cksum(buf, ICMP_WIRE_ECHOLEN));
	return ICMP_WIRE_ECHOLEN;
}

static void
parse_payload(const uint8_t *icmp, size_t len, struct icmp_wire_msg *m)
{
	const uint8_t	*pl = icmp + ICMP_WIRE_HDRLEN;

	if (len < ICMP_WIRE_ECHOLEN ||
	    memcmp(pl, icmp_wire_magic, sizeof(icmp_wire_magic)) != 0)
		return;
	m->has_payload = 1;
	m->probe_id = get32(pl + 8);
	m->attempt = get16(pl + 12);
}

/* The IPv4 header at P: its length, or 0 when it is not one. */
static size_t
ip4_header(const uint8_t *p, size_t len, uint8_t proto)
{
	size_t	 hl;

	if (len < IP4_MINHDR || p[0] >> 4 != 4)
		return 0;
	hl = (size_t)(p[0] & 0x0f) * 4;
	if (hl < IP4_MINHDR || hl > len || p[9] != proto)
		return 0;
	return hl;
}

/*
 * The quoted packet of an ICMPv4 error: the IPv4 header of our echo
 * request and at least its first 8 bytes (RFC 792).
 */
static int
parse_quoted4(const uint8_t *q, size_t len, struct icmp_wire_msg *m)
{
	size_t	 hl;

	if ((hl = ip4_header(q, len, PROTO_ICMP)) == 0 ||
	    len - hl < ICMP_WIRE_HDRLEN || q[hl] != ICMP4_ECHO)
		return -1;
	memcpy(m->dst, q + 16, 4);
	m->id = get16(q + hl + 4);
	m->seq = get16(q + hl + 6);
	return 0;
}

/* The quoted packet of an ICMPv6 error (RFC 4443 2.4: as much as fits). */
static int
parse_quoted6(const uint8_t *q, size_t len, struct icmp_wire_msg *m)
{
	if (len < IP6_HDRLEN + ICMP_WIRE_HDRLEN || q[0] >> 4 != 6 ||
	    q[6] != PROTO_ICMPV6 || q[IP6_HDRLEN] != ICMP6_ECHO)
		return -1;
	memcpy(m->dst, q + 24, 16);
	m->id = get16(q + IP6_HDRLEN + 4);
	m->seq = get16(q + IP6_HDRLEN + 6);
	return 0;
}

/*
 * One received datagram of FAMILY into M.  IPHDR says whether it starts
 * with the IPv4 header (raw IPv4 sockets) or with the ICMP header
 * (datagram ICMP sockets and all ICMPv6 sockets).  0 for an echo reply or
 * an error that quotes an echo request; -1 for anything else.
 */
int
icmp_wire_parse(int family, int iphdr, const uint8_t *buf, size_t len,
    struct icmp_wire_msg *m)
{
	const uint8_t	*icmp = buf;
	size_t		 hl;
	int		 v6 = family == AF_INET6;

	memset(m, 0, sizeof(*m));
	m->family = v6 ? AF_INET6 : AF_INET;
	if (!v6 && iphdr) {
		if ((hl = ip4_header(buf, len, PROTO_ICMP)) == 0)
			return -1;
		icmp += hl;
		len -= hl;
	}
	if (len < ICMP_WIRE_HDRLEN)
		return -1;
	/* The kernel checks ICMPv6 sums; raw IPv4 gets packets unchecked. */
	if (!v6 && icmp_wire_cksum(icmp, len) != 0)
		return -1;
	m->type = icmp[0];
	m->code = icmp[1];
	if (m->type == (v6 ? ICMP6_ECHO_REPLY : ICMP4_ECHO_REPLY)) {
		m->kind = ICMP_WIRE_ECHO_REPLY;
		m->id = get16(icmp + 4);
		m->seq = get16(icmp + 6);
		parse_payload(icmp, len, m);
		return 0;
	}
	if (v6 ? m->type != ICMP6_UNREACH && m->type != ICMP6_TIME_EXCEEDED :
	    m->type != ICMP4_UNREACH && m->type != ICMP4_TIME_EXCEEDED)
		return -1;
	if ((v6 ? parse_quoted6 : parse_quoted4)(icmp + ICMP_WIRE_HDRLEN,
	    len - ICMP_WIRE_HDRLEN, m) == -1) {
		memset(m, 0, sizeof(*m));
		return -1;
	}
	m->kind = ICMP_WIRE_ERROR;
	return 0;
}

/* An ICMP error in words, as ping(8) and RFC 792/4443 name them. */
const char *
icmp_wire_error_str(int family, uint8_t type, uint8_t code)
{
	static const char *const unreach4[] = {
		"network unreachable", "host unreachable",
		"protocol unreachable", "port unreachable",
		"fragmentation needed", "source route failed",
		"destination network unknown", "destination host unknown",
		"source host isolated",
		"network administratively prohibited",
		"host administratively prohibited",
		"network unreachable for TOS", "host unreachable for TOS",
		"communication administratively prohibited",
		"host precedence violation", "precedence cutoff in effect",
	};
	static const char *const unreach6[] = {
		"no route to destination",
		"communication administratively prohibited",
		"beyond scope of source address", "address unreachable",
		"port unreachable", "source address failed policy",
		"reject route to destination",
	};

	if (family == AF_INET6) {
		if (type == ICMP6_UNREACH)
			return code < sizeof(unreach6) / sizeof(unreach6[0]) ?
			    unreach6[code] : "destination unreachable";
		if (type == ICMP6_TIME_EXCEEDED)
			return code == 0 ? "hop limit exceeded in transit" :
			    "fragment reassembly time exceeded";
	} else {
		if (type == ICMP4_UNREACH)
			return code < sizeof(unreach4) / sizeof(unreach4[0]) ?
			    unreach4[code] : "destination unreachable";
		if (type == ICMP4_TIME_EXCEEDED)
			return code == 0 ? "time to live exceeded in transit" :
			    "fragment reassembly time exceeded";
	}
	return "ICMP error";
}
