/*
 * test_dns_wire.c: DNS queries as built, replies as read (every record
 * type's rendering, compression, loops, truncation, stray replies), and
 * the dns check's options in the rules.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conf.h"
#include "dns_wire.h"
#include "probe.h"

#define QNAME	"example.test"
#define QID	0x4242

/* A reply under construction. */
struct pkt {
	uint8_t	 b[2048];
	size_t	 n;
};

static void
put8(struct pkt *p, unsigned v)
{
	p->b[p->n++] = (uint8_t)v;
}

static void
put16(struct pkt *p, unsigned v)
{
	put8(p, v >> 8);
	put8(p, v & 0xff);
}

static void
put32(struct pkt *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p, v & 0xffff);
}

static void
putbytes(struct pkt *p, const void *v, size_t len)
{
	memcpy(p->b + p->n, v, len);
	p->n += len;
}

/* "mail.example.test" as labels and a final 0. */
static void
putname(struct pkt *p, const char *name)
{
	const char	*s = name, *dot;
	size_t		 n;

	while (*s != '\0') {
		dot = strchr(s, '.');
		n = dot != NULL ? (size_t)(dot - s) : strlen(s);
		put8(p, (unsigned)n);
		putbytes(p, s, n);
		s += n;
		if (*s == '.')
			s++;
	}
	put8(p, 0);
}

/* Header and question for QNAME; the name starts at offset 12. */
static void
head(struct pkt *p, unsigned id, unsigned flags, unsigned ancount,
    int type)
{
	p->n = 0;
	put16(p, id);
	put16(p, flags);
	put16(p, 1);
	put16(p, ancount);
	put16(p, 0);
	put16(p, 0);
	putname(p, QNAME);
	put16(p, (unsigned)type);
	put16(p, 1);
}

/* An answer's owner (a pointer to the question), type ... rdlength. */
static void
rr(struct pkt *p, int type, unsigned rdlen)
{
	put16(p, 0xc00c);
	put16(p, (unsigned)type);
	put16(p, 1);
	put32(p, 300);
	put16(p, rdlen);
}

static enum dns_parse
parse(const struct pkt *p, int type, struct dns_reply *r, char *err)
{
	return dns_parse_reply(p->b, p->n, QID, QNAME, type, r, err, 256);
}

static void
test_build_query(void **state)
{
	static const uint8_t want[] = {
		0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1,
		3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e',
		4, 't', 'e', 's', 't', 0, 0, 15, 0, 1,
		0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0,
	};
	uint8_t	 q[DNS_MAX_QUERY], q2[DNS_MAX_QUERY];
	char	 name[300];
	int	 n;

	(void)state;
	n = dns_build_query(q, sizeof(q), 0x1234, "www.example.test",
	    DNS_T_MX);
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(q, want, sizeof(want));
	/* A final dot changes nothing. */
	assert_int_equal(dns_build_query(q2, sizeof(q2), 0x1234,
	    "www.example.test.", DNS_T_MX), n);
	assert_memory_equal(q, q2, (size_t)n);
	/* The root is one zero octet. */
	assert_int_equal(dns_build_query(q, sizeof(q), 1, ".", DNS_T_NS),
	    12 + 1 + 4 + 11);
	assert_int_equal(q[12], 0);

	assert_int_equal(dns_build_query(q, sizeof(q), 1, "a..b", DNS_T_A),
	    -1);
	assert_int_equal(dns_build_query(q, sizeof(q), 1, "", DNS_T_A), -1);
	assert_int_equal(dns_build_query(q, sizeof(q), 1, "a b", DNS_T_A),
	    -1);
	assert_int_equal(dns_build_query(q, sizeof(q), 1, "example.test",
	    0), -1);
	assert_int_equal(dns_build_query(q, 20, 1, "a", DNS_T_A), -1);
	memset(name, 'a', 64);
	name[64] = '\0';
	assert_int_equal(dns_build_query(q, sizeof(q), 1, name, DNS_T_A),
	    -1);
	name[63] = '\0';
	assert_true(dns_build_query(q, sizeof(q), 1, name, DNS_T_A) > 0);
	/* 254 characters of name: too long. */
	memset(name, 'a', 254);
	name[254] = '\0';
	for (n = 63; n < 254; n += 64)
		name[n] = '.';
	assert_int_equal(dns_build_query(q, sizeof(q), 1, name, DNS_T_A),
	    -1);
	name[253] = '\0';
	assert_true(dns_build_query(q, sizeof(q), 1, name, DNS_T_A) > 0);
}

static void
test_name_valid(void **state)
{
	(void)state;
	assert_true(dns_name_valid("_dmarc.example.test"));
	assert_true(dns_name_valid("a-b.c"));
	assert_true(dns_name_valid("."));
	assert_false(dns_name_valid(".a"));
	assert_false(dns_name_valid("a.."));
	assert_false(dns_name_valid("a/b"));
	assert_false(dns_name_valid(""));
}

static void
test_a_two_answers(void **state)
{
	struct dns_reply	 r;
	struct pkt		 p;
	char			 err[256];

	(void)state;
	head(&p, QID, 0x8580, 2, DNS_T_A);
	rr(&p, DNS_T_A, 4);
	putbytes(&p, "\x7f\x00\x00\x01", 4);
	rr(&p, DNS_T_A, 4);
	putbytes(&p, "\x7f\x00\x00\x02", 4);
	assert_int_equal(parse(&p, DNS_T_A, &r, err), DNS_PARSE_OK);
	assert_int_equal(r.rcode, 0);
	assert_int_equal(r.tc, 0);
	assert_int_equal(r.aa, 1);
	assert_int_equal(r.nanswers, 2);
	assert_string_equal(r.answers[0], "127.0.0.1");
	assert_string_equal(r.answers[1], "127.0.0.2");

	/* The question matches without case (DNS 0x20) or final dot. */
	assert_int_equal(dns_parse_reply(p.b, p.n, QID, "EXAMPLE.Test.",
	    DNS_T_A, &r, err, sizeof(err)), DNS_PARSE_OK);
}

static void
test_aaaa(void **state)
{
	struct dns_reply	 r;
	struct pkt		 p;
	char			 err[256];
	struct in6_addr		 a;

	(void)state;
	inet_pton(AF_INET6, "2001:db8::53", &a);
	head(&p, QID, 0x8180, 1, DNS_T_AAAA);
	rr(&p, DNS_T_AAAA, 16);
	putbytes(&p, &a, 16);
	assert_int_equal(parse(&p, DNS_T_AAAA, &r, err), DNS_PARSE_OK);
	assert_int_equal(r.nanswers, 1);
	assert_string_equal(r.answers[0], "2001:db8::53");
}

/* MX, NS, CNAME, PTR: names compressed against the question. */
static void
test_names_compressed(void **state)
{
	static const int	 types[] = { DNS_T_NS, DNS_T_CNAME, DNS_T_PTR };
	struct dns_reply	 r;
	struct pkt		 p;
	char			 err[256];
	size_t			 i;

	(void)state;
	head(&p, QID, 0x8180, 2, DNS_T_MX);
	rr(&p, DNS_T_MX, 2 + 5 + 2);
	put16(&p, 10);
	put8(&p, 4);			/* at offset 44 */
	putbytes(&p, "mail", 4);
	put16(&p, 0xc00c);
	/* The second points into the first answer's data. */
	rr(&p, DNS_T_MX, 2 + 2);
	put16(&p, 20);
	put16(&p, 0xc000 | 44);
	assert_int_equal(parse(&p, DNS_T_MX, &r, err), DNS_PARSE_OK);
	assert_int_equal(r.nanswers, 2);
	assert_string_equal(r.answers[0], "10 mail.example.test");
	assert_string_equal(r.answers[1], "20 mail.example.test");

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		head(&p, QID, 0x8180, 1, types[i]);
		rr(&p, types[i], 6);
		put8(&p, 3);
		putbytes(&p, "ns1", 3);
		put16(&p, 0xc00c);
		assert_int_equal(parse(&p, types[i], &r, err), DNS_PARSE_OK);
		assert_int_equal(r.nanswers, 1);
		assert_string_equal(r.answers[0], "ns1.example.test");
	}
}

/* A chain of pointers, each further back, to a suffix. */
static void
test_pointer_chain(void **state)
{
	struct dns_reply	 r;
	struct pkt		 p;
	char			 err[256];
	size_t			 first;

	(void)state;
	head(&p, QID, 0x8180, 2, DNS_T_CNAME);
	rr(&p, DNS_T_CNAME, 6);
	first = p.n;
	put8(&p, 3);
	putbytes(&p, "www", 3);
	put16(&p, 0xc00c);
	rr(&p, DNS_T_CNAME, 4);
	put8(&p, 1);
	putbytes(&p, "a", 1);
	put16(&p, 0xc000 | (unsigned)first);
	assert_int_equal(parse(&p, DNS_T_CNAME, &r, err), DNS_PARSE_OK);
	assert_string_equal(r.answers[1], "a.www.example.test");
}

static void
test_soa(void **state)
{
	struct dns_reply	 r;
	struct pkt		 p;
	char			 err[256];

	(void)state;
	head(&p, QID, 0x8180, 1, DNS_T_SOA);
	rr(&p, DNS_T_SOA, 6 + 8 + 20);
	put8(&p, 3);
	putbytes(&p, "ns1", 3);
	put16(&p, 0xc00c);
	put8(&p, 5);
	putbytes(&p, "admin", 5);
	put16(&p, 0xc00c);
	put32(&p, 2026112501);
	put32(&p, 3600);
	put32(&p, 600);
	put32(&p, 86400);
	put32(&p, 300);
	assert_int_equal(parse(&p, DNS_T_SOA, &r, err), DNS_PARSE_OK);
	assert_string_equal(r.answers[0], "ns1.example.test "
	    "admin.example.test 2026112501 3600 600 86400 300");

	/* Counters cut short: 4 octets less, in the rdlength too. */
	p.n -= 4;
	p.b[30 + 11] = 30;
	assert_int_equal(parse(&p, DNS_T_SOA, &r, err), DNS_PARSE_MALFORMED);
	assert_string_equal(err, "answer 1: SOA record: 16 octets of "
	    "counters, expected 20");
}

static void
test_txt(void **state)
{
	struct dns_reply	 r;
	struct pkt		 p;
	char			 err[256];

	(void)state;
	head(&p, QID, 0x8180, 1, DNS_T_TXT);
	rr(&p, DNS_T_TXT, 1 + 7 + 1 + 9);
	put8(&p, 7);
	putbytes(&p, "v=spf1 ", 7);
	put8(&p, 9);
	putbytes(&p, "a\"b\\c\x01\xff!z", 9);
	assert_int_equal(parse(&p, DNS_T_TXT, &r, err), DNS_PARSE_OK);
	assert_string_equal(r.answers[0],
	    "v=spf1 a\\\"b\\\\c\\001\\255!z");

	/* A string longer than what is left of the record. */
	head(&p, QID, 0x8180, 1, DNS_T_TXT);
	rr(&p, DNS_T_TXT, 3);
	put8(&p, 5);
	putbytes(&p, "ab", 2);
	assert_int_equal(parse(&p, DNS_T_TXT, &r, err), DNS_PARSE_MALFORMED);
	assert_string_equal(err, "answer 1: TXT string of 5 octets overruns "
	    "its record");
}

/* An A query answered with a CNAME and its A: only the A is ours. */
static void
test_cname_then_a(void **state)
{
	struct dns_reply	 r;
	struct pkt		 p;
	char			 err[256];

	(void)state;
	head(&p, QID, 0x8180, 2, DNS_T_A);
	rr(&p, DNS_T_CNAME, 5);
	put8(&p, 2);
	putbytes(&p, "lb", 2);
	put16(&p, 0xc00c);
	put16(&p, 0xc000 | 42);	/* "lb.example.test" */
	put16(&p, DNS_T_A);
	put16(&p, 1);
	put32(&p, 60);
	put16(&p, 4);
	putbytes(&p, "\x0a\x00\x00\x05", 4);
	assert_int_equal(parse(&p, DNS_T_A, &r, err), DNS_PARSE_OK);
	assert_int_equal(r.nanswers, 1);
	assert_string_equal(r.answers[0], "10.0.0.5");
}

static void
test_not_ours(void **state)
{
	struct dns_reply	 r;
	struct pkt		 p;
	char			 err[256];

	(void)state;
	head(&p, QID + 1, 0x8180, 0, DNS_T_A);
	assert_int_equal(parse(&p, DNS_T_A, &r, err), DNS_PARSE_NOT_OURS);
	head(&p, QID, 0x0100, 0, DNS_T_A);	/* a query, not a reply */
	assert_int_equal(parse(&p, DNS_T_A, &r, err), DNS_PARSE_NOT_OURS);
	head(&p, QID, 0x8180, 0, DNS_T_AAAA);	/* another type */
	assert_int_equal(parse(&p, DNS_T_A, &r, err), DNS_PARSE_NOT_OURS);
	head(&p, QID, 0x8180, 0, DNS_T_A);	/* another name */
	assert_int_equal(dns_parse_reply(p.b, p.n, QID, "other.test",
	    DNS_T_A, &r, err, sizeof(err)), DNS_PARSE_NOT_OURS);
	assert_int_equal(dns_parse_reply(p.b, p.n, QID, "www.example.test",
	    DNS_T_A, &r, err, sizeof(err)), DNS_PARSE_NOT_OURS);
}

static void
test_rcodes_and_tc(void **state)
{
	struct dns_reply	 r;
	struct pkt		 p;
	char			 err[256];

	(void)state;
	head(&p, QID, 0x8183, 0, DNS_T_A);
	assert_int_equal(parse(&p, DNS_T_A, &r, err), DNS_PARSE_OK);
	assert_int_equal(r.rcode, DNS_RCODE_NXDOMAIN);
	assert_int_equal(r.nanswers, 0);
	/* SERVFAIL without a question: still ours by its ID. */
	head(&p, QID, 0x8182, 0, DNS_T_A);
	p.b[5] = 0;
	p.n = 12;
	assert_int_equal(parse(&p, DNS_T_A, &r, err), DNS_PARSE_OK);
	assert_int_equal(r.rcode, DNS_RCODE_SERVFAIL);
	/* ... but NOERROR without a question is broken. */
	p.b[3] = 0x80;
	assert_int_equal(parse(&p, DNS_T_A, &r, err), DNS_PARSE_MALFORMED);
	assert_string_equal(err, "no question in a NOERROR reply");
	/* Truncated: answers cut off are not read. */
	head(&p, QID, 0x8380, 5, DNS_T_TXT);
	assert_int_equal(parse(&p, DNS_T_TXT, &r, err), DNS_PARSE_OK);
	assert_int_equal(r.tc, 1);
	assert_int_equal(r.nanswers, 0);

	assert_string_equal(dns_rcode_name(DNS_RCODE_REFUSED), "REFUSED");
	assert_null(dns_rcode_name(9));
}

static void
test_malformed(void **state)
{
	struct dns_reply	 r;
	struct pkt		 p;
	char			 err[256];
	size_t			 at;
	int			 i;

	(void)state;
	p.n = 5;
	memset(p.b, 0, 5);
	assert_int_equal(parse(&p, DNS_T_A, &r, err), DNS_PARSE_MALFORMED);
	assert_string_equal(err, "5 bytes, shorter than a DNS header");

	/* An owner name that points at itself. */
	head(&p, QID, 0x8180, 1, DNS_T_A);
	at = p.n;
	put16(&p, 0xc000 | (unsigned)at);
	assert_int_equal(parse(&p, DNS_T_A, &r, err), DNS_PARSE_MALFORMED);
	assert_non_null(strstr(err, "answer 1: compression pointer at "
	    "offset 30 to 30 does not point back"));

	/* Two names pointing at each other. */
	head(&p, QID, 0x8180, 1, DNS_T_CNAME);
	rr(&p, DNS_T_CNAME, 4);
	at = p.n;
	put8(&p, 1);
	putbytes(&p, "a", 1);
	put16(&p, 0xc000 | (unsigned)(at + 4));
	put16(&p, 0xc000 | (unsigned)at);
	assert_int_equal(parse(&p, DNS_T_CNAME, &r, err),
	    DNS_PARSE_MALFORMED);
	assert_non_null(strstr(err, "does not point back"));

	/* A pointer forward, into the answer. */
	head(&p, QID, 0x8180, 1, DNS_T_A);
	put16(&p, 0xc000 | 100);
	assert_int_equal(parse(&p, DNS_T_A, &r, err), DNS_PARSE_MALFORMED);

	/* Label types 01 and 10 are not ours to read. */
	head(&p, QID, 0x8180, 1, DNS_T_A);
	put8(&p, 0x41);
	assert_int_equal(parse(&p, DNS_T_A, &r, err), DNS_PARSE_MALFORMED);
	assert_string_equal(err, "answer 1: unknown label type 0x41 at "
	    "offset 30");

	/* A name of more than 255 octets, made of 5 labels of 63. */
	head(&p, QID, 0x8180, 1, DNS_T_A);
	for (i = 0; i < 5; i++) {
		put8(&p, 63);
		memset(p.b + p.n, 'a', 63);
		p.n += 63;
	}
	put8(&p, 0);
	assert_int_equal(parse(&p, DNS_T_A, &r, err), DNS_PARSE_MALFORMED);
	assert_string_equal(err, "answer 1: name longer than 255 octets");

	/* Record data beyond the datagram. */
	head(&p, QID, 0x8180, 1, DNS_T_A);
	rr(&p, DNS_T_A, 40);
	putbytes(&p, "\x7f\0\0\1", 4);
	assert_int_equal(parse(&p, DNS_T_A, &r, err), DNS_PARSE_MALFORMED);
	assert_string_equal(err, "answer 1: 40 octets of data, 4 left in the "
	    "reply");

	/* An A record of 5 octets. */
	head(&p, QID, 0x8180, 1, DNS_T_A);
	rr(&p, DNS_T_A, 5);
	putbytes(&p, "\x7f\0\0\1\1", 5);
	assert_int_equal(parse(&p, DNS_T_A, &r, err), DNS_PARSE_MALFORMED);
	assert_string_equal(err, "answer 1: A record of 5 octets");

	/* An NS name that runs past its record data. */
	head(&p, QID, 0x8180, 1, DNS_T_NS);
	rr(&p, DNS_T_NS, 2);
	put8(&p, 3);
	putbytes(&p, "ns1", 3);
	put16(&p, 0xc00c);
	assert_int_equal(parse(&p, DNS_T_NS, &r, err), DNS_PARSE_MALFORMED);
	assert_string_equal(err, "answer 1: name overruns its record data");

	/* ... or stops short of it. */
	head(&p, QID, 0x8180, 1, DNS_T_NS);
	rr(&p, DNS_T_NS, 4);
	put16(&p, 0xc00c);
	put16(&p, 0);
	assert_int_equal(parse(&p, DNS_T_NS, &r, err), DNS_PARSE_MALFORMED);
	assert_string_equal(err, "answer 1: NS record: 2 octets after the "
	    "name");

	/* Two questions. */
	head(&p, QID, 0x8180, 0, DNS_T_A);
	p.b[5] = 2;
	assert_int_equal(parse(&p, DNS_T_A, &r, err), DNS_PARSE_MALFORMED);
	assert_string_equal(err, "2 questions, expected 1");
}

/* Every prefix of a good reply: malformed, never a read past it. */
static void
test_truncated_everywhere(void **state)
{
	struct dns_reply	 r;
	struct pkt		 p;
	char			 err[256];
	uint8_t			*copy;
	size_t			 n;

	(void)state;
	head(&p, QID, 0x8180, 2, DNS_T_MX);
	rr(&p, DNS_T_MX, 2 + 6);
	put16(&p, 10);
	put8(&p, 3);
	putbytes(&p, "mx1", 3);
	put16(&p, 0xc00c);
	rr(&p, DNS_T_MX, 2 + 2);
	put16(&p, 20);
	put16(&p, 0xc00c);
	assert_int_equal(parse(&p, DNS_T_MX, &r, err), DNS_PARSE_OK);
	assert_int_equal(r.nanswers, 2);
	assert_string_equal(r.answers[1], "20 example.test");
	for (n = 0; n < p.n; n++) {
		/* Exactly N bytes on the heap, so ASan sees any overread. */
		copy = malloc(n > 0 ? n : 1);
		assert_non_null(copy);
		memcpy(copy, p.b, n);
		assert_int_equal(dns_parse_reply(copy, n, QID, QNAME,
		    DNS_T_MX, &r, err, sizeof(err)), DNS_PARSE_MALFORMED);
		free(copy);
	}
}

static void
test_many_answers(void **state)
{
	struct dns_reply	 r;
	struct pkt		 p;
	char			 err[256];
	int			 i;

	(void)state;
	head(&p, QID, 0x8180, DNS_MAX_ANSWERS + 4, DNS_T_A);
	for (i = 0; i < DNS_MAX_ANSWERS + 4; i++) {
		rr(&p, DNS_T_A, 4);
		put8(&p, 127);
		put8(&p, 0);
		put8(&p, 0);
		put8(&p, (unsigned)i + 1);
	}
	assert_int_equal(parse(&p, DNS_T_A, &r, err), DNS_PARSE_OK);
	assert_int_equal(r.nanswers, DNS_MAX_ANSWERS);
	assert_int_equal(r.nmore, 4);
	assert_string_equal(r.answers[DNS_MAX_ANSWERS - 1], "127.0.0.16");
}

static void
test_value_equal(void **state)
{
	(void)state;
	assert_true(dns_value_equal(DNS_T_A, "127.0.0.1", "127.0.0.1"));
	assert_false(dns_value_equal(DNS_T_A, "127.0.0.9", "127.0.0.1"));
	assert_true(dns_value_equal(DNS_T_AAAA, "::1", "0:0:0:0:0:0:0:1"));
	assert_true(dns_value_equal(DNS_T_CNAME, "lb.example.test",
	    "LB.Example.Test."));
	assert_false(dns_value_equal(DNS_T_NS, "ns1.example.test",
	    "ns2.example.test"));
	assert_true(dns_value_equal(DNS_T_MX, "10 mail.example.test",
	    "10 mail.example.test"));
	assert_true(dns_value_equal(DNS_T_MX, "10 mail.example.test",
	    "mail.example.test."));
	assert_false(dns_value_equal(DNS_T_MX, "10 mail.example.test",
	    "20 mail.example.test"));
	assert_true(dns_value_equal(DNS_T_SOA, "ns1.example.test a.b 1 2 3 4 "
	    "5", "ns1.example.test"));
	assert_true(dns_value_equal(DNS_T_TXT, "v=spf1 -all", "v=spf1 -all"));
	assert_false(dns_value_equal(DNS_T_TXT, "v=spf1 -all",
	    "V=SPF1 -ALL"));
}

static void
test_reverse_name(void **state)
{
	char	 buf[DNS_MAX_NAME_TEXT];

	(void)state;
	assert_int_equal(dns_reverse_name("192.0.2.1", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "1.2.0.192.in-addr.arpa");
	assert_int_equal(dns_reverse_name("2001:db8::1", buf, sizeof(buf)),
	    0);
	assert_string_equal(buf, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
	assert_int_equal(dns_reverse_name("mail.example", buf, sizeof(buf)),
	    -1);
	assert_int_equal(dns_reverse_name("192.0.2.1", buf, 10), -1);
}

static void
test_resolv_conf(void **state)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	socklen_t		 len;
	char			 a[INET6_ADDRSTRLEN];

	(void)state;
	assert_int_equal(dns_resolv_conf_nameserver(
	    "# generated\n; nameserver 10.0.0.1\nsearch example.test\n"
	    "nameservers 10.0.0.2\n  nameserver\t127.0.0.53 # stub\n"
	    "nameserver 10.0.0.3\n", &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_int_equal(ntohs(sin->sin_port), 53);
	inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a));
	assert_string_equal(a, "127.0.0.53");

	assert_int_equal(dns_resolv_conf_nameserver(
	    "nameserver bogus\nnameserver fe80::1%eth0\n", &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(dns_resolv_conf_nameserver("options ndots:2\n",
	    &ss, &len), -1);
	assert_int_equal(dns_resolv_conf_nameserver("nameserver", &ss, &len),
	    -1);
	assert_int_equal(dns_resolv_conf_nameserver("", &ss, &len), -1);
}

static void
test_types(void **state)
{
	(void)state;
	assert_int_equal(dns_type_from_name("mx"), DNS_T_MX);
	assert_int_equal(dns_type_from_name("AAAA"), DNS_T_AAAA);
	assert_int_equal(dns_type_from_name("SRV"), -1);
	assert_string_equal(dns_type_name(DNS_T_SOA), "SOA");
}

/* The check's options, through the rules parser. */
static struct check_conf *
parse_check(const char *check, struct conf **confp, struct conf_errors *e)
{
	char	 text[512];

	/* The policy goes last, so the lines above keep their numbers. */
	snprintf(text, sizeof(text), "system \"s\" {\n core yes\n rto 1m\n"
	    " %s\n}\npolicy { notify within 1h; restore within 72h; "
	    "retention 3 years; tell \"unit-head\" }\n", check);
	*confp = conf_parse_buffer("t.conf", text, strlen(text), e);
	if (*confp == NULL)
		return NULL;
	return TAILQ_FIRST(&TAILQ_FIRST(&(*confp)->systems)->checks);
}

static void
test_rules_good(void **state)
{
	static const struct {
		const char	*check;
		const char	*desc;
	} good[] = {
		{ "check dns www.example.test", "dns www.example.test A" },
		{ "check dns example.test server 127.0.0.1:5353 type mx "
		  "expect mail.example.test", "dns example.test MX server "
		  "127.0.0.1:5353" },
		{ "check dns 127.0.0.1 type PTR server 127.0.0.53",
		  "dns 127.0.0.1 PTR server 127.0.0.53" },
		{ "check dns _dmarc.example.test type TXT server [::1]:53 "
		  "expect \"v=DMARC1; p=none\"",
		  "dns _dmarc.example.test TXT server ::1" },
		{ "check dns example.test type AAAA expect ::1 every 1s "
		  "timeout 500ms", "dns example.test AAAA" },
	};
	struct conf_errors	 e = { NULL, 0 };
	struct check_conf	*cc;
	struct conf		*conf;
	char			 desc[256];
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		cc = parse_check(good[i].check, &conf, &e);
		if (e.count > 0)
			fail_msg("%s: %s", good[i].check, e.msg[0]);
		assert_non_null(cc);
		assert_ptr_equal(cc->ops, &probe_dns_ops);
		cc->ops->describe(cc, desc, sizeof(desc));
		assert_string_equal(desc, good[i].desc);
		conf_free(conf);
	}
}

static void
test_rules_errors(void **state)
{
	static const struct {
		const char	*check;
		const char	*error;
	} bad[] = {
		{ "check dns example.test type SRV", "t.conf:4: dns check: "
		  "unknown record type \"SRV\" (A, AAAA, MX, TXT, NS, CNAME, "
		  "SOA or PTR)" },
		{ "check dns example.test server ns.example.test",
		  "t.conf:4: dns check: server \"ns.example.test\" is not an "
		  "address or address:port" },
		{ "check dns example.test expect mail.example.test",
		  "t.conf:4: dns check of example.test: expect "
		  "\"mail.example.test\" is not an IPv4 address" },
		{ "check dns example.test type AAAA expect 127.0.0.1",
		  "t.conf:4: dns check of example.test: expect \"127.0.0.1\" "
		  "is not an IPv6 address" },
		{ "check dns exa/mple.test", "t.conf:4: dns check: "
		  "\"exa/mple.test\" is not a domain name" },
		{ "check dns example.test type A type MX",
		  "t.conf:4: dns check: type set twice" },
		{ "check dns example.test port 53",
		  "t.conf:4: unknown dns check option \"port\"" },
		{ "check dns example.test type", "t.conf:4: missing record "
		  "type" },
	};
	struct conf_errors	 e = { NULL, 0 };
	struct conf		*conf;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_null(parse_check(bad[i].check, &conf, &e));
		if (e.count == 0)
			fail_msg("%s: no error", bad[i].check);
		assert_string_equal(e.msg[0], bad[i].error);
		conf_errors_clear(&e);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_query),
		cmocka_unit_test(test_name_valid),
		cmocka_unit_test(test_a_two_answers),
		cmocka_unit_test(test_aaaa),
		cmocka_unit_test(test_names_compressed),
		cmocka_unit_test(test_pointer_chain),
		cmocka_unit_test(test_soa),
		cmocka_unit_test(test_txt),
		cmocka_unit_test(test_cname_then_a),
		cmocka_unit_test(test_not_ours),
		cmocka_unit_test(test_rcodes_and_tc),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_truncated_everywhere),
		cmocka_unit_test(test_many_answers),
		cmocka_unit_test(test_value_equal),
		cmocka_unit_test(test_reverse_name),
		cmocka_unit_test(test_resolv_conf),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_rules_good),
		cmocka_unit_test(test_rules_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
