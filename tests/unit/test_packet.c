/*
 * test_packet.c: the decoder on crafted frames: TCP in IP fragments as
 * nmap -f cuts them (ports in the first, flags in the second, nothing
 * misread in the rest), RFC 1858's tiny and overlapping fragments marked,
 * BSD loopback frames of either byte order, and the link types refused.
 */
#include <netinet/in.h>
#include <pcap/dlt.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "packet.h"

static const uint8_t	scanner[4] = { 203, 0, 113, 66 };
static const uint8_t	target[4] = { 198, 51, 100, 20 };

/* A whole TCP header: ports 40000 -> DPORT, FLAGS, with MSS option. */
static size_t
tcphdr(uint8_t *p, uint16_t dport, uint8_t flags)
{
	memset(p, 0, 24);
	p[0] = 40000 >> 8;
	p[1] = 40000 & 0xff;
	p[2] = (uint8_t)(dport >> 8);
	p[3] = (uint8_t)dport;
	p[12] = 6 << 4;
	p[13] = flags;
	p[20] = 2;		/* MSS 1460 */
	p[21] = 4;
	p[22] = 1460 >> 8;
	p[23] = 1460 & 0xff;
	return 24;
}

/*
 * An Ethernet frame into F: IPv4, protocol PROTO, identification ID,
 * fragment offset OFF bytes, more fragments MF, carrying the LEN bytes at
 * L4.  Returns its length.
 */
static size_t
eth4(uint8_t *f, uint8_t proto, uint16_t id, size_t off, int mf,
    const uint8_t *l4, size_t len)
{
	uint16_t	 fo = (uint16_t)(off / 8 | (mf ? 0x2000 : 0));

	memset(f, 0, 14 + 20);
	f[12] = 0x08;
	f[13] = 0x00;
	f[14] = 0x45;
	f[16] = (uint8_t)((20 + len) >> 8);
	f[17] = (uint8_t)(20 + len);
	f[18] = (uint8_t)(id >> 8);
	f[19] = (uint8_t)id;
	f[20] = (uint8_t)(fo >> 8);
	f[21] = (uint8_t)fo;
	f[22] = 64;
	f[23] = proto;
	memcpy(f + 26, scanner, 4);
	memcpy(f + 30, target, 4);
	memcpy(f + 34, l4, len);
	return 34 + len;
}

/* A whole SYN is read as before: ports, flags, not a fragment. */
static void
test_whole_syn(void **state)
{
	uint8_t		 tcp[24], f[128];
	struct packet	 pk;
	size_t		 n;

	(void)state;
	tcphdr(tcp, 443, PACKET_TCP_SYN);
	n = eth4(f, IPPROTO_TCP, 7, 0, 0, tcp, sizeof(tcp));
	assert_int_equal(packet_decode(DLT_EN10MB, f, n, &pk), 0);
	assert_int_equal(pk.kind, PACKET_IP);
	assert_true(pk.has_ports);
	assert_int_equal(pk.dport, 443);
	assert_int_equal(pk.tcp_flags, PACKET_TCP_SYN);
	assert_int_equal(pk.frag, PACKET_FRAG_NONE);
	assert_int_equal(pk.frag_bad, 0);
}

/*
 * nmap -sS -f: the 24-byte header in three fragments of 8 bytes.  The
 * first has the ports and is tiny; the second the flags, at offset 8,
 * overlapping by RFC 1858's rule; the third neither, and its bytes are not
 * read as ports.  Joined, the second is a SYN to the scanned port.
 */
static void
test_nmap_fragments(void **state)
{
	static struct packet_frags fr;
	uint8_t		 tcp[24], f[3][64];
	struct packet	 pk[3];
	size_t		 n[3];
	int		 i;

	(void)state;
	tcphdr(tcp, 8080, PACKET_TCP_SYN);
	n[0] = eth4(f[0], IPPROTO_TCP, 4321, 0, 1, tcp, 8);
	n[1] = eth4(f[1], IPPROTO_TCP, 4321, 8, 1, tcp + 8, 8);
	n[2] = eth4(f[2], IPPROTO_TCP, 4321, 16, 0, tcp + 16, 8);
	for (i = 0; i < 3; i++)
		assert_int_equal(packet_decode(DLT_EN10MB, f[i], n[i], &pk[i]),
		    0);

	assert_int_equal(pk[0].frag, PACKET_FRAG_FIRST);
	assert_true(pk[0].has_ports);
	assert_int_equal(pk[0].sport, 40000);
	assert_int_equal(pk[0].dport, 8080);
	assert_false(pk[0].has_tcp_flags);
	assert_int_equal(pk[0].frag_bad, PACKET_FRAG_TINY);

	assert_int_equal(pk[1].frag, PACKET_FRAG_LATER);
	assert_false(pk[1].has_ports);
	assert_true(pk[1].has_tcp_flags);
	assert_int_equal(pk[1].tcp_flags, PACKET_TCP_SYN);
	assert_int_equal(pk[1].frag_bad, PACKET_FRAG_OVERLAP);

	/* The MSS option's bytes (2, 4, 0x05b4) are no ports. */
	assert_int_equal(pk[2].frag, PACKET_FRAG_LATER);
	assert_false(pk[2].has_ports);
	assert_false(pk[2].has_tcp_flags);
	assert_int_equal(pk[2].frag_bad, 0);
	assert_int_equal(pk[2].frag_off, 16);

	memset(&fr, 0, sizeof(fr));
	for (i = 0; i < 3; i++)
		packet_frag_join(&fr, 1000 + i, &pk[i]);
	assert_false(pk[0].has_tcp_flags);	/* nothing before it */
	assert_true(pk[1].has_ports);
	assert_int_equal(pk[1].dport, 8080);
	assert_int_equal(pk[1].tcp_flags, PACKET_TCP_SYN);
	assert_false(pk[2].has_ports);

	/* The other way round: the flags first, then the ports. */
	memset(&fr, 0, sizeof(fr));
	packet_decode(DLT_EN10MB, f[1], n[1], &pk[1]);
	packet_decode(DLT_EN10MB, f[0], n[0], &pk[0]);
	packet_frag_join(&fr, 1000, &pk[1]);
	packet_frag_join(&fr, 1001, &pk[0]);
	assert_true(pk[0].has_ports);
	assert_true(pk[0].has_tcp_flags);
	assert_int_equal(pk[0].tcp_flags, PACKET_TCP_SYN);

	/* Another datagram's (its id) flags are not joined, nor old ones. */
	memset(&fr, 0, sizeof(fr));
	packet_decode(DLT_EN10MB, f[0], n[0], &pk[0]);
	packet_frag_join(&fr, 1000, &pk[0]);
	n[1] = eth4(f[1], IPPROTO_TCP, 4322, 8, 1, tcp + 8, 8);
	packet_decode(DLT_EN10MB, f[1], n[1], &pk[1]);
	packet_frag_join(&fr, 1001, &pk[1]);
	assert_false(pk[1].has_ports);
	n[1] = eth4(f[1], IPPROTO_TCP, 4321, 8, 1, tcp + 8, 8);
	packet_decode(DLT_EN10MB, f[1], n[1], &pk[1]);
	packet_frag_join(&fr, 1000 + PACKET_FRAG_MS, &pk[1]);
	assert_false(pk[1].has_ports);
}

/* A first fragment with the whole header is neither tiny nor joined. */
static void
test_first_fragment_whole_header(void **state)
{
	uint8_t		 tcp[24], udp[16], f[128];
	struct packet	 pk;
	size_t		 n;

	(void)state;
	tcphdr(tcp, 22, PACKET_TCP_SYN);
	n = eth4(f, IPPROTO_TCP, 9, 0, 1, tcp, 24);
	assert_int_equal(packet_decode(DLT_EN10MB, f, n, &pk), 0);
	assert_int_equal(pk.frag, PACKET_FRAG_FIRST);
	assert_true(pk.has_ports);
	assert_int_equal(pk.dport, 22);
	assert_int_equal(pk.tcp_flags, PACKET_TCP_SYN);
	assert_int_equal(pk.frag_bad, 0);

	/* UDP: the ports from the first fragment of a big datagram. */
	memset(udp, 0, sizeof(udp));
	udp[0] = 0x30;
	udp[1] = 0x39;		/* 12345 */
	udp[3] = 53;
	n = eth4(f, IPPROTO_UDP, 10, 0, 1, udp, sizeof(udp));
	assert_int_equal(packet_decode(DLT_EN10MB, f, n, &pk), 0);
	assert_true(pk.has_ports);
	assert_int_equal(pk.sport, 12345);
	assert_int_equal(pk.dport, 53);
	assert_int_equal(pk.frag_bad, 0);
	/* A later UDP fragment: its payload is not ports. */
	n = eth4(f, IPPROTO_UDP, 10, 1480, 0, udp, sizeof(udp));
	assert_int_equal(packet_decode(DLT_EN10MB, f, n, &pk), 0);
	assert_int_equal(pk.frag, PACKET_FRAG_LATER);
	assert_false(pk.has_ports);
}

/* IPv6 with a fragment header: the same rules. */
static void
test_ipv6_fragments(void **state)
{
	uint8_t		 tcp[24], f[128];
	struct packet	 pk;
	size_t		 n;

	(void)state;
	tcphdr(tcp, 25, PACKET_TCP_SYN);
	memset(f, 0, sizeof(f));
	f[12] = 0x86;
	f[13] = 0xdd;
	f[14] = 0x60;
	f[19] = 16;		/* payload: fragment header + 8 */
	f[20] = 44;		/* next: fragment */
	f[21] = 64;
	f[22] = 0x20;		/* 2001:db8:: */
	f[23] = 0x01;
	f[24] = 0x0d;
	f[25] = 0xb8;
	f[38] = 0x20;
	f[39] = 0x01;
	f[40] = 0x0d;
	f[41] = 0xb8;
	f[54] = IPPROTO_TCP;	/* fragment header */
	f[57] = 1;		/* offset 0, M */
	f[61] = 77;		/* id */
	memcpy(f + 62, tcp, 8);
	n = 70;
	assert_int_equal(packet_decode(DLT_EN10MB, f, n, &pk), 0);
	assert_int_equal(pk.family, 6);
	assert_int_equal(pk.frag, PACKET_FRAG_FIRST);
	assert_true(pk.has_ports);
	assert_int_equal(pk.dport, 25);
	assert_int_equal(pk.frag_bad, PACKET_FRAG_TINY);
	assert_int_equal(pk.frag_id, 77);
	/* The second: offset 8, the flags. */
	f[56] = 0;
	f[57] = 8 | 1;
	memcpy(f + 62, tcp + 8, 8);
	assert_int_equal(packet_decode(DLT_EN10MB, f, n, &pk), 0);
	assert_int_equal(pk.frag, PACKET_FRAG_LATER);
	assert_false(pk.has_ports);
	assert_int_equal(pk.tcp_flags, PACKET_TCP_SYN);
	assert_int_equal(pk.frag_bad, PACKET_FRAG_OVERLAP);
}

/* BSD loopback: the family in the capturing host's order, or network's. */
static void
test_loopback_link_types(void **state)
{
	uint8_t		 tcp[24], e[128], f[128];
	struct packet	 pk;
	size_t		 n;

	(void)state;
	tcphdr(tcp, 443, PACKET_TCP_SYN);
	n = eth4(e, IPPROTO_TCP, 1, 0, 0, tcp, sizeof(tcp)) - 14;
	/* DLT_NULL written little-endian (x86), AF_INET = 2. */
	memcpy(f, "\x02\x00\x00\x00", 4);
	memcpy(f + 4, e + 14, n);
	assert_int_equal(packet_decode(DLT_NULL, f, n + 4, &pk), 0);
	assert_int_equal(pk.family, 4);
	assert_int_equal(pk.dport, 443);
	assert_int_equal(pk.tcp_flags, PACKET_TCP_SYN);
	assert_memory_equal(pk.src, scanner, 4);
	/* DLT_NULL from a big-endian host, DLT_LOOP (network order). */
	memcpy(f, "\x00\x00\x00\x02", 4);
	assert_int_equal(packet_decode(DLT_NULL, f, n + 4, &pk), 0);
	assert_int_equal(pk.dport, 443);
	assert_int_equal(packet_decode(DLT_LOOP, f, n + 4, &pk), 0);
	assert_int_equal(pk.dport, 443);
	/* An unknown family, and a frame cut inside the header. */
	memcpy(f, "\x07\x00\x00\x00", 4);
	assert_int_equal(packet_decode(DLT_NULL, f, n + 4, &pk), -1);
	assert_int_equal(pk.kind, PACKET_OTHER);
	assert_int_equal(packet_decode(DLT_NULL, f, 3, &pk), -1);
	/* IPv6 as FreeBSD numbers it (28), little-endian. */
	memset(f, 0, sizeof(f));
	f[0] = 28;
	f[4] = 0x60;
	f[10] = 6;		/* next: TCP */
	f[11] = 64;
	memcpy(f + 44, tcp, 24);
	assert_int_equal(packet_decode(DLT_NULL, f, 68, &pk), 0);
	assert_int_equal(pk.family, 6);
	assert_int_equal(pk.dport, 443);
}

/* The link types decoded are known; others are not, and read nothing. */
static void
test_link_types_known(void **state)
{
	static const int known[] = { DLT_EN10MB, DLT_LINUX_SLL,
	    DLT_LINUX_SLL2, DLT_RAW, DLT_IPV4, DLT_IPV6, DLT_NULL, DLT_LOOP };
	static const int unknown[] = { DLT_PPP, DLT_IEEE802_11,
	    DLT_IEEE802_11_RADIO, DLT_CAN_SOCKETCAN, DLT_NETLINK, 147 };
	uint8_t		 f[64];
	struct packet	 pk;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		assert_true(packet_dlt_known(known[i]));
	memset(f, 0x45, sizeof(f));
	for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		assert_false(packet_dlt_known(unknown[i]));
		assert_int_equal(packet_decode(unknown[i], f, sizeof(f), &pk),
		    -1);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_syn),
		cmocka_unit_test(test_nmap_fragments),
		cmocka_unit_test(test_first_fragment_whole_header),
		cmocka_unit_test(test_ipv6_fragments),
		cmocka_unit_test(test_loopback_link_types),
		cmocka_unit_test(test_link_types_known),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
