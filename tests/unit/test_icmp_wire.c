/*
 * test_icmp_wire.c: the ICMP echo builder and the parser of what comes
 * back, on well-formed replies and errors of both families and on every
 * way a packet can be short, foreign or broken.
 */
#include <sys/socket.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "icmp_wire.h"

static const uint8_t	src4[4] = { 198, 18, 0, 2 };
static const uint8_t	dst4[4] = { 198, 18, 0, 130 };
static const uint8_t	dst6[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
			    0, 0, 0, 1 };

/* An IPv4 header of HL bytes for a packet of TOTAL bytes into P. */
static void
ip4(uint8_t *p, size_t hl, size_t total, const uint8_t *src,
    const uint8_t *dst)
{
	memset(p, 0, hl);
	p[0] = (uint8_t)(0x40 | hl / 4);
	p[2] = (uint8_t)(total >> 8);
	p[3] = (uint8_t)total;
	p[8] = 64;
	p[9] = 1;		/* ICMP */
	memcpy(p + 12, src, 4);
	memcpy(p + 16, dst, 4);
}

/* Set the ICMPv4 sum of the LEN bytes at P. */
static void
sum4(uint8_t *p, size_t len)
{
	uint16_t	 c;

	p[2] = p[3] = 0;
	c = icmp_wire_cksum(p, len);
	p[2] = (uint8_t)(c >> 8);
	p[3] = (uint8_t)c;
}

/* Turn our echo request at P into the reply a host sends back. */
static void
to_reply4(uint8_t *p, size_t len)
{
	p[0] = 0;
	sum4(p, len);
}

static void
test_echo_request(void **state)
{
	uint8_t		 b[64];
	size_t		 n;

	(void)state;
	n = icmp_wire_echo(AF_INET, 0x1234, 0xbeef, 0xdeadbeef, 7, b,
	    sizeof(b));
	assert_int_equal(n, ICMP_WIRE_ECHOLEN);
	assert_int_equal(b[0], 8);
	assert_int_equal(b[1], 0);
	assert_int_equal(b[4] << 8 | b[5], 0x1234);
	assert_int_equal(b[6] << 8 | b[7], 0xbeef);
	assert_memory_equal(b + 8, "rtowatch", 8);
	/* A correct sum checks to zero. */
	assert_int_equal(icmp_wire_cksum(b, n), 0);

	n = icmp_wire_echo(AF_INET6, 1, 2, 3, 4, b, sizeof(b));
	assert_int_equal(n, ICMP_WIRE_ECHOLEN);
	assert_int_equal(b[0], 128);
	/* The kernel fills in the ICMPv6 sum. */
	assert_int_equal(b[2] | b[3], 0);

	assert_int_equal(icmp_wire_echo(AF_INET, 1, 2, 3, 4, b,
	    ICMP_WIRE_ECHOLEN - 1), 0);
}

static void
test_cksum(void **state)
{
	/* RFC 1071's example: 0x0001 f203 f4f5 f6f7 sums to 0xddf2. */
	static const uint8_t	 d[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5,
				    0xf6, 0xf7 };
	static const uint8_t	 odd[] = { 0x01 };

	(void)state;
	assert_int_equal(icmp_wire_cksum(d, sizeof(d)), (uint16_t)~0xddf2);
	assert_int_equal(icmp_wire_cksum(odd, 1), (uint16_t)~0x0100);
}

/* An echo reply with its IPv4 header, as a raw socket reads it. */
static void
test_reply4_raw(void **state)
{
	struct icmp_wire_msg	 m;
	uint8_t			 b[20 + ICMP_WIRE_ECHOLEN];

	(void)state;
	ip4(b, 20, sizeof(b), src4, dst4);
	icmp_wire_echo(AF_INET, 0x4242, 17, 99, 2, b + 20, ICMP_WIRE_ECHOLEN);
	to_reply4(b + 20, ICMP_WIRE_ECHOLEN);
	assert_int_equal(icmp_wire_parse(AF_INET, 1, b, sizeof(b), &m), 0);
	assert_int_equal(m.kind, ICMP_WIRE_ECHO_REPLY);
	assert_int_equal(m.family, AF_INET);
	assert_int_equal(m.id, 0x4242);
	assert_int_equal(m.seq, 17);
	assert_true(m.has_payload);
	assert_int_equal(m.probe_id, 99);
	assert_int_equal(m.attempt, 2);

	/* The same without its IP header: a datagram ICMP socket. */
	assert_int_equal(icmp_wire_parse(AF_INET, 0, b + 20,
	    ICMP_WIRE_ECHOLEN, &m), 0);
	assert_int_equal(m.kind, ICMP_WIRE_ECHO_REPLY);
	assert_int_equal(m.seq, 17);

	/* A bad sum is noise. */
	b[30] ^= 0x55;
	assert_int_equal(icmp_wire_parse(AF_INET, 1, b, sizeof(b), &m), -1);
	assert_int_equal(m.kind, ICMP_WIRE_OTHER);
}

/* IPv4 options: the ICMP header is where the header length says. */
static void
test_reply4_options(void **state)
{
	struct icmp_wire_msg	 m;
	uint8_t			 b[24 + ICMP_WIRE_ECHOLEN];

	(void)state;
	ip4(b, 24, sizeof(b), src4, dst4);
	icmp_wire_echo(AF_INET, 1, 5, 6, 0, b + 24, ICMP_WIRE_ECHOLEN);
	to_reply4(b + 24, ICMP_WIRE_ECHOLEN);
	assert_int_equal(icmp_wire_parse(AF_INET, 1, b, sizeof(b), &m), 0);
	assert_int_equal(m.seq, 5);
}

/* Someone else's reply (ping(8)'s payload) parses, without ours. */
static void
test_reply4_foreign_payload(void **state)
{
	struct icmp_wire_msg	 m;
	uint8_t			 b[8 + 56];

	(void)state;
	memset(b, 0xa5, sizeof(b));
	b[0] = 0;
	b[1] = 0;
	sum4(b, sizeof(b));
	assert_int_equal(icmp_wire_parse(AF_INET, 0, b, sizeof(b), &m), 0);
	assert_int_equal(m.kind, ICMP_WIRE_ECHO_REPLY);
	assert_false(m.has_payload);
}

/* Host unreachable from a router, quoting our request to dst4. */
static void
test_unreach4(void **state)
{
	struct icmp_wire_msg	 m;
	uint8_t			 b[20 + 8 + 20 + ICMP_WIRE_ECHOLEN];
	uint8_t			*icmp = b + 20, *inner = b + 28;

	(void)state;
	ip4(b, 20, sizeof(b), src4, (const uint8_t[]){ 198, 18, 0, 1 });
	memset(icmp, 0, 8);
	icmp[0] = 3;
	icmp[1] = 1;
	ip4(inner, 20, 20 + ICMP_WIRE_ECHOLEN,
	    (const uint8_t[]){ 198, 18, 0, 1 }, dst4);
	icmp_wire_echo(AF_INET, 0x7777, 300, 1, 0, inner + 20,
	    ICMP_WIRE_ECHOLEN);
	sum4(icmp, sizeof(b) - 20);
	assert_int_equal(icmp_wire_parse(AF_INET, 1, b, sizeof(b), &m), 0);
	assert_int_equal(m.kind, ICMP_WIRE_ERROR);
	assert_int_equal(m.type, 3);
	assert_int_equal(m.code, 1);
	assert_int_equal(m.id, 0x7777);
	assert_int_equal(m.seq, 300);
	assert_memory_equal(m.dst, dst4, 4);
	assert_string_equal(icmp_wire_error_str(AF_INET, m.type, m.code),
	    "host unreachable");

	/* RFC 792's minimum quote: the header and 8 bytes. */
	ip4(b, 20, 20 + 8 + 28, src4, dst4);
	sum4(icmp, 8 + 28);
	assert_int_equal(icmp_wire_parse(AF_INET, 1, b, 20 + 8 + 28, &m), 0);
	assert_int_equal(m.seq, 300);

	/* One byte less of the quoted echo header: not ours to judge. */
	sum4(icmp, 8 + 27);
	assert_int_equal(icmp_wire_parse(AF_INET, 1, b, 20 + 8 + 27, &m), -1);
}

/* An error quoting something that is not an echo request is not ours. */
static void
test_unreach4_not_echo(void **state)
{
	struct icmp_wire_msg	 m;
	uint8_t			 b[8 + 20 + 8];

	(void)state;
	memset(b, 0, sizeof(b));
	b[0] = 3;
	b[1] = 3;
	ip4(b + 8, 20, 28, src4, dst4);
	b[8 + 9] = 17;		/* UDP: port unreachable to a UDP probe */
	sum4(b, sizeof(b));
	assert_int_equal(icmp_wire_parse(AF_INET, 0, b, sizeof(b), &m), -1);

	/* Quoting an echo reply (ours to someone): not ours either. */
	b[8 + 9] = 1;
	b[28] = 0;
	sum4(b, sizeof(b));
	assert_int_equal(icmp_wire_parse(AF_INET, 0, b, sizeof(b), &m), -1);

	/* Time exceeded quoting our echo request: an error. */
	b[0] = 11;
	b[1] = 0;
	b[28] = 8;
	sum4(b, sizeof(b));
	assert_int_equal(icmp_wire_parse(AF_INET, 0, b, sizeof(b), &m), 0);
	assert_int_equal(m.kind, ICMP_WIRE_ERROR);
	assert_string_equal(icmp_wire_error_str(AF_INET, 11, 0),
	    "time to live exceeded in transit");
}

/* Broken IPv4 headers and short packets never read past the end. */
static void
test_bad4(void **state)
{
	struct icmp_wire_msg	 m;
	uint8_t			 b[20 + ICMP_WIRE_ECHOLEN];
	size_t			 n;

	(void)state;
	ip4(b, 20, sizeof(b), src4, dst4);
	icmp_wire_echo(AF_INET, 1, 2, 3, 4, b + 20, ICMP_WIRE_ECHOLEN);
	to_reply4(b + 20, ICMP_WIRE_ECHOLEN);
	for (n = 0; n < 28; n++)
		assert_int_equal(icmp_wire_parse(AF_INET, 1, b, n, &m), -1);
	b[0] = 0x44;		/* header length 16: too short */
	assert_int_equal(icmp_wire_parse(AF_INET, 1, b, sizeof(b), &m), -1);
	b[0] = 0x4f;		/* 60 bytes: longer than the packet */
	assert_int_equal(icmp_wire_parse(AF_INET, 1, b, 40, &m), -1);
	b[0] = 0x65;		/* not version 4 */
	assert_int_equal(icmp_wire_parse(AF_INET, 1, b, sizeof(b), &m), -1);
	b[0] = 0x45;
	b[9] = 6;		/* TCP */
	assert_int_equal(icmp_wire_parse(AF_INET, 1, b, sizeof(b), &m), -1);
	b[9] = 1;
	assert_int_equal(icmp_wire_parse(AF_INET, 1, b, sizeof(b), &m), 0);
	/* A reply cut inside our payload: a reply, the payload unread. */
	sum4(b + 20, 8 + 10);
	assert_int_equal(icmp_wire_parse(AF_INET, 0, b + 20, 8 + 10, &m), 0);
	assert_int_equal(m.kind, ICMP_WIRE_ECHO_REPLY);
	assert_false(m.has_payload);
}

static void
test_reply6(void **state)
{
	struct icmp_wire_msg	 m;
	uint8_t			 b[ICMP_WIRE_ECHOLEN];

	(void)state;
	icmp_wire_echo(AF_INET6, 0x0102, 0xfffe, 12345, 1, b, sizeof(b));
	b[0] = 129;
	assert_int_equal(icmp_wire_parse(AF_INET6, 0, b, sizeof(b), &m), 0);
	assert_int_equal(m.kind, ICMP_WIRE_ECHO_REPLY);
	assert_int_equal(m.family, AF_INET6);
	assert_int_equal(m.id, 0x0102);
	assert_int_equal(m.seq, 0xfffe);
	assert_true(m.has_payload);
	assert_int_equal(m.probe_id, 12345);
	assert_int_equal(m.attempt, 1);

	/* Our own request, looped back to a raw socket: not a reply. */
	b[0] = 128;
	assert_int_equal(icmp_wire_parse(AF_INET6, 0, b, sizeof(b), &m), -1);
	/* Neighbour discovery and the like: not ours. */
	b[0] = 135;
	assert_int_equal(icmp_wire_parse(AF_INET6, 0, b, sizeof(b), &m), -1);
	assert_int_equal(icmp_wire_parse(AF_INET6, 0, b, 7, &m), -1);
}

static void
test_unreach6(void **state)
{
	struct icmp_wire_msg	 m;
	uint8_t			 b[8 + 40 + ICMP_WIRE_ECHOLEN];
	uint8_t			*in = b + 8;

	(void)state;
	memset(b, 0, sizeof(b));
	b[0] = 1;
	b[1] = 3;		/* address unreachable */
	in[0] = 0x60;
	in[6] = 58;
	memcpy(in + 24, dst6, 16);
	icmp_wire_echo(AF_INET6, 9, 4242, 1, 0, in + 40, ICMP_WIRE_ECHOLEN);
	assert_int_equal(icmp_wire_parse(AF_INET6, 0, b, sizeof(b), &m), 0);
	assert_int_equal(m.kind, ICMP_WIRE_ERROR);
	assert_int_equal(m.id, 9);
	assert_int_equal(m.seq, 4242);
	assert_memory_equal(m.dst, dst6, 16);
	assert_string_equal(icmp_wire_error_str(AF_INET6, 1, 3),
	    "address unreachable");
	assert_string_equal(icmp_wire_error_str(AF_INET6, 1, 200),
	    "destination unreachable");
	assert_string_equal(icmp_wire_error_str(AF_INET6, 3, 0),
	    "hop limit exceeded in transit");

	/* Short of the quoted echo header. */
	assert_int_equal(icmp_wire_parse(AF_INET6, 0, b, 8 + 40 + 7, &m),
	    -1);
	/* An extension header before ICMPv6: we never send one. */
	in[6] = 0;
	assert_int_equal(icmp_wire_parse(AF_INET6, 0, b, sizeof(b), &m), -1);
	in[6] = 58;
	in[0] = 0x40;
	assert_int_equal(icmp_wire_parse(AF_INET6, 0, b, sizeof(b), &m), -1);
	/* Packet too big quotes ours but is no failure of the host. */
	in[0] = 0x60;
	b[0] = 2;
	assert_int_equal(icmp_wire_parse(AF_INET6, 0, b, sizeof(b), &m), -1);
}

static void
test_error_names(void **state)
{
	(void)state;
	assert_string_equal(icmp_wire_error_str(AF_INET, 3, 0),
	    "network unreachable");
	assert_string_equal(icmp_wire_error_str(AF_INET, 3, 13),
	    "communication administratively prohibited");
	assert_string_equal(icmp_wire_error_str(AF_INET, 3, 16),
	    "destination unreachable");
	assert_string_equal(icmp_wire_error_str(AF_INET, 11, 1),
	    "fragment reassembly time exceeded");
	assert_string_equal(icmp_wire_error_str(AF_INET, 5, 0),
	    "ICMP error");
	assert_string_equal(icmp_wire_error_str(AF_INET6, 1, 6),
	    "reject route to destination");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_echo_request),
		cmocka_unit_test(test_cksum),
		cmocka_unit_test(test_reply4_raw),
		cmocka_unit_test(test_reply4_options),
		cmocka_unit_test(test_reply4_foreign_payload),
		cmocka_unit_test(test_unreach4),
		cmocka_unit_test(test_unreach4_not_echo),
		cmocka_unit_test(test_bad4),
		cmocka_unit_test(test_reply6),
		cmocka_unit_test(test_unreach6),
		cmocka_unit_test(test_error_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
