/*
 * dns_wire.c: DNS queries built and replies read, RFC 1035.
 *
 * The reply parser reads outside input: every read is bounds-checked
 * against the datagram, names are decoded with a limit on their length
 * (255 octets on the wire) and compression pointers must each point
 * before the previous one, so a pointer loop cannot run forever.  It
 * allocates nothing: the caller's struct dns_reply holds the result.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns_wire.h"

#define DNS_CLASS_IN	1
#define DNS_T_OPT	41
#define DNS_FLAG_QR	0x8000
#define DNS_FLAG_AA	0x0400
#define DNS_FLAG_TC	0x0200
#define DNS_FLAG_RD	0x0100

static const struct {
	const char	*name;
	int		 type;
} dns_types[] = {
	{ "A", DNS_T_A },
	{ "AAAA", DNS_T_AAAA },
	{ "MX", DNS_T_MX },
	{ "TXT", DNS_T_TXT },
	{ "NS", DNS_T_NS },
	{ "CNAME", DNS_T_CNAME },
	{ "SOA", DNS_T_SOA },
	{ "PTR", DNS_T_PTR },
};

static const char *const dns_rcodes[] = {
	[DNS_RCODE_NOERROR] = "NOERROR",
	[DNS_RCODE_FORMERR] = "FORMERR",
	[DNS_RCODE_SERVFAIL] = "SERVFAIL",
	[DNS_RCODE_NXDOMAIN] = "NXDOMAIN",
	[DNS_RCODE_NOTIMP] = "NOTIMP",
	[DNS_RCODE_REFUSED] = "REFUSED",
};

/* A growing string in a fixed buffer: what does not fit is cut. */
struct dns_text {
	char	*buf;
	size_t	 size;
	size_t	 len;
};

static void
dns_text_init(struct dns_text *t, char *buf, size_t size)
{
	t->buf = buf;
	t->size = size;
	t->len = 0;
	if (size > 0)
		buf[0] = '\0';
}

static void
dns_text_add(struct dns_text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
dns_text_add(struct dns_text *t, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (t->len + 1 >= t->size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->len, t->size - t->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	t->len += (size_t)n;
	if (t->len >= t->size)
		t->len = t->size - 1;
}

/*
 * One octet of a name or a TXT string, escaped as in zone files: the
 * unprintable ones as \DDD (a space too when SPECIAL has it), the SPECIAL
 * ones with a backslash.
 */
static void
dns_text_octet(struct dns_text *t, uint8_t c, const char *special)
{
	if (c < ' ' || c >= 0x7f || (c == ' ' && strchr(special, c) != NULL))
		dns_text_add(t, "\\%03u", c);
	else if (strchr(special, c) != NULL)
		dns_text_add(t, "\\%c", c);
	else
		dns_text_add(t, "%c", c);
}

static void
dns_error(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
dns_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int
dns_type_from_name(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof(dns_types) / sizeof(dns_types[0]); i++)
		if (strcasecmp(dns_types[i].name, name) == 0)
			return dns_types[i].type;
	return -1;
}

const char *
dns_type_name(int type)
{
	size_t	 i;

	for (i = 0; i < sizeof(dns_types) / sizeof(dns_types[0]); i++)
		if (dns_types[i].type == type)
			return dns_types[i].name;
	return "?";
}

const char *
dns_rcode_name(int rcode)
{
	if (rcode < 0 || (size_t)rcode >= sizeof(dns_rcodes) /
	    sizeof(dns_rcodes[0]))
		return NULL;
	return dns_rcodes[rcode];
}

/*
 * A name we may ask for: "." (the root) or labels of letters, digits,
 * '-' and '_' (for _dmarc and the like), 1-63 each, 253 in all, with an
 * optional final dot.
 */
int
dns_name_valid(const char *name)
{
	size_t	 len, label = 0;
	const char *s;

	if (strcmp(name, ".") == 0)
		return 1;
	len = strlen(name);
	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return 0;
	for (s = name; s < name + len; s++) {
		if (*s == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0;
}

/* "192.0.2.1" to "1.2.0.192.in-addr.arpa", the IPv6 one to ip6.arpa. */
int
dns_reverse_name(const char *addr, char *out, size_t len)
{
	struct in6_addr	 a6;
	struct in_addr	 a4;
	struct dns_text	 t;
	const uint8_t	*b;
	int		 i;

	dns_text_init(&t, out, len);
	if (inet_pton(AF_INET, addr, &a4) == 1) {
		b = (const uint8_t *)&a4;
		dns_text_add(&t, "%u.%u.%u.%u.in-addr.arpa", b[3], b[2], b[1],
		    b[0]);
	} else if (inet_pton(AF_INET6, addr, &a6) == 1) {
		b = (const uint8_t *)&a6;
		for (i = 15; i >= 0; i--)
			dns_text_add(&t, "%x.%x.", b[i] & 0xf, b[i] >> 4);
		dns_text_add(&t, "ip6.arpa");
	} else
		return -1;
	return t.len + 1 < len ? 0 : -1;
}

static void
dns_put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static unsigned
dns_get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static uint32_t
dns_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/*
 * A recursive query for NAME (checked by dns_name_valid()) with an EDNS0
 * OPT record offering 1232-byte replies, so that a TXT or MX set larger
 * than 512 bytes still comes back whole over UDP.  Returns its length.
 */
int
dns_build_query(uint8_t *buf, size_t size, uint16_t id, const char *name,
    int type)
{
	size_t		 pos = DNS_HEADER_LEN, n;
	const char	*s, *dot;

	if (!dns_name_valid(name) || type <= 0 || type > 0xffff ||
	    size < DNS_MAX_QUERY)
		return -1;
	memset(buf, 0, DNS_HEADER_LEN);
	dns_put16(buf, id);
	dns_put16(buf + 2, DNS_FLAG_RD);
	dns_put16(buf + 4, 1);		/* QDCOUNT */
	dns_put16(buf + 10, 1);		/* ARCOUNT: the OPT record */
	for (s = name; *s != '\0'; s = *dot == '.' ? dot + 1 : dot) {
		if ((dot = strchr(s, '.')) == NULL)
			dot = s + strlen(s);
		n = (size_t)(dot - s);
		if (n == 0)
			break;		/* the root, or the final dot */
		buf[pos++] = (uint8_t)n;
		memcpy(buf + pos, s, n);
		pos += n;
	}
	buf[pos++] = 0;
	dns_put16(buf + pos, (unsigned)type);
	dns_put16(buf + pos + 2, DNS_CLASS_IN);
	pos += 4;
	/* OPT: root owner, type 41, class = UDP size, TTL 0, no data. */
	buf[pos++] = 0;
	dns_put16(buf + pos, DNS_T_OPT);
	dns_put16(buf + pos + 2, DNS_EDNS_UDP_SIZE);
	memset(buf + pos + 4, 0, 6);
	pos += 10;
	return (int)pos;
}

/*
 * Decode the name at *pos into OUT, as text ("mail.example.test", "."
 * for the root).  *pos moves past the name where it is stored (past the
 * first pointer when compressed).  Each pointer must point before the
 * previous one's target (the first before the name itself), so
 * following them ends; the name may not exceed 255 octets.
 */
static int
dns_read_name(const uint8_t *pkt, size_t len, size_t *pos, char *out,
    size_t outlen, char *err, size_t errlen)
{
	struct dns_text	 t;
	size_t		 cur, limit, wire = 0, ptr;
	unsigned	 c;
	int		 jumped = 0;

	dns_text_init(&t, out, outlen);
	limit = cur = *pos;
	for (;;) {
		if (cur >= len) {
			dns_error(err, errlen, "name runs past the end of "
			    "the reply");
			return -1;
		}
		c = pkt[cur];
		if ((c & 0xc0) == 0xc0) {
			if (cur + 1 >= len) {
				dns_error(err, errlen, "compression pointer "
				    "cut short");
				return -1;
			}
			ptr = (c & 0x3f) << 8 | pkt[cur + 1];
			if (ptr >= limit) {
				dns_error(err, errlen, "compression pointer "
				    "at offset %zu to %zu does not point "
				    "back (a loop?)", cur, ptr);
				return -1;
			}
			if (!jumped)
				*pos = cur + 2;
			jumped = 1;
			limit = cur = ptr;
			continue;
		}
		if ((c & 0xc0) != 0) {
			dns_error(err, errlen, "unknown label type 0x%02x "
			    "at offset %zu", c, cur);
			return -1;
		}
		wire += 1 + c;
		if (wire > DNS_MAX_NAME) {
			dns_error(err, errlen, "name longer than %d octets",
			    DNS_MAX_NAME);
			return -1;
		}
		if (c == 0)
			break;
		if (cur + 1 + c > len) {
			dns_error(err, errlen, "label runs past the end of "
			    "the reply");
			return -1;
		}
		if (t.len > 0)
			dns_text_add(&t, ".");
		for (cur++; c > 0; c--, cur++)
			dns_text_octet(&t, pkt[cur], " .\\\"();@$");
	}
	if (!jumped)
		*pos = cur + 1;
	if (t.len == 0)
		dns_text_add(&t, ".");
	return 0;
}

/* A name inside record data: it may not run past END. */
static int
dns_read_rdata_name(const uint8_t *pkt, size_t len, size_t *pos, size_t end,
    char *out, size_t outlen, char *err, size_t errlen)
{
	size_t	 p = *pos;

	/* Pointers may reach anywhere before, so read on the whole. */
	if (dns_read_name(pkt, len, &p, out, outlen, err, errlen) == -1)
		return -1;
	if (p > end) {
		dns_error(err, errlen, "name overruns its record data");
		return -1;
	}
	*pos = p;
	return 0;
}

/* The record's data at POS (RDLEN octets) as text, by type. */
static int
dns_render(const uint8_t *pkt, size_t len, size_t pos, size_t rdlen,
    int type, char *out, size_t outlen, char *err, size_t errlen)
{
	char		 n1[DNS_MAX_NAME_TEXT], n2[DNS_MAX_NAME_TEXT];
	char		 addr[INET6_ADDRSTRLEN];
	struct dns_text	 t;
	size_t		 end = pos + rdlen, slen;
	unsigned	 pref;

	dns_text_init(&t, out, outlen);
	switch (type) {
	case DNS_T_A:
	case DNS_T_AAAA:
		if (rdlen != (type == DNS_T_A ? 4U : 16U)) {
			dns_error(err, errlen, "%s record of %zu octets",
			    dns_type_name(type), rdlen);
			return -1;
		}
		inet_ntop(type == DNS_T_A ? AF_INET : AF_INET6, pkt + pos,
		    addr, sizeof(addr));
		dns_text_add(&t, "%s", addr);
		return 0;
	case DNS_T_NS:
	case DNS_T_CNAME:
	case DNS_T_PTR:
		if (dns_read_rdata_name(pkt, len, &pos, end, n1, sizeof(n1),
		    err, errlen) == -1)
			return -1;
		dns_text_add(&t, "%s", n1);
		break;
	case DNS_T_MX:
		if (rdlen < 3) {
			dns_error(err, errlen, "MX record of %zu octets",
			    rdlen);
			return -1;
		}
		pref = dns_get16(pkt + pos);
		pos += 2;
		if (dns_read_rdata_name(pkt, len, &pos, end, n1, sizeof(n1),
		    err, errlen) == -1)
			return -1;
		dns_text_add(&t, "%u %s", pref, n1);
		break;
	case DNS_T_SOA:
		if (dns_read_rdata_name(pkt, len, &pos, end, n1, sizeof(n1),
		    err, errlen) == -1 ||
		    dns_read_rdata_name(pkt, len, &pos, end, n2, sizeof(n2),
		    err, errlen) == -1)
			return -1;
		if (end - pos != 20) {
			dns_error(err, errlen, "SOA record: %zu octets of "
			    "counters, expected 20", end - pos);
			return -1;
		}
		dns_text_add(&t, "%s %s %u %u %u %u %u", n1, n2,
		    dns_get32(pkt + pos), dns_get32(pkt + pos + 4),
		    dns_get32(pkt + pos + 8), dns_get32(pkt + pos + 12),
		    dns_get32(pkt + pos + 16));
		return 0;
	case DNS_T_TXT:
		/* Its strings, joined as SPF and DKIM read them. */
		while (pos < end) {
			slen = pkt[pos++];
			if (slen > end - pos) {
				dns_error(err, errlen, "TXT string of %zu "
				    "octets overruns its record", slen);
				return -1;
			}
			for (; slen > 0; slen--)
				dns_text_octet(&t, pkt[pos++], "\"\\");
		}
		return 0;
	default:
		dns_error(err, errlen, "cannot read type %d", type);
		return -1;
	}
	if (pos != end) {
		dns_error(err, errlen, "%s record: %zu octets after the name",
		    dns_type_name(type), end - pos);
		return -1;
	}
	return 0;
}

/* Names compare without case and without a final dot. */
static int
dns_name_equal(const char *a, const char *b)
{
	size_t	 la = strlen(a), lb = strlen(b);

	if (la > 1 && a[la - 1] == '.')
		la--;
	if (lb > 1 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

/*
 * Read the datagram PKT as the reply to query ID for (QNAME, QTYPE, IN).
 * Another ID or question is DNS_PARSE_NOT_OURS (a late reply to an
 * earlier probe, or a spoofing attempt): ignore it.  On
 * DNS_PARSE_MALFORMED, ERR says what is wrong.  On DNS_PARSE_OK, R has
 * the RCODE, the TC bit and the answers of type QTYPE as text; the
 * records of a truncated or failed reply are not read.
 */
enum dns_parse
dns_parse_reply(const uint8_t *pkt, size_t len, uint16_t id,
    const char *qname, int qtype, struct dns_reply *r, char *err,
    size_t errlen)
{
	char		 name[DNS_MAX_NAME_TEXT], scratch[DNS_MAX_VALUE_TEXT];
	char		 why[192];
	char		*out;
	size_t		 pos = DNS_HEADER_LEN, rdlen;
	unsigned	 flags, qd, an, i, type, class;

	r->rcode = r->tc = r->aa = r->nanswers = r->nmore = 0;
	dns_error(err, errlen, "no error");
	if (len < DNS_HEADER_LEN) {
		dns_error(err, errlen, "%zu bytes, shorter than a DNS header",
		    len);
		return DNS_PARSE_MALFORMED;
	}
	flags = dns_get16(pkt + 2);
	if (dns_get16(pkt) != id || (flags & DNS_FLAG_QR) == 0 ||
	    (flags >> 11 & 0xf) != 0)
		return DNS_PARSE_NOT_OURS;
	r->rcode = (int)(flags & 0xf);
	r->tc = (flags & DNS_FLAG_TC) != 0;
	r->aa = (flags & DNS_FLAG_AA) != 0;
	qd = dns_get16(pkt + 4);
	an = dns_get16(pkt + 6);

	if (qd == 0) {
		/* Some servers leave the question out of an error. */
		if (r->rcode != DNS_RCODE_NOERROR || r->tc)
			return DNS_PARSE_OK;
		dns_error(err, errlen, "no question in a NOERROR reply");
		return DNS_PARSE_MALFORMED;
	}
	if (qd != 1) {
		dns_error(err, errlen, "%u questions, expected 1", qd);
		return DNS_PARSE_MALFORMED;
	}
	if (dns_read_name(pkt, len, &pos, name, sizeof(name), why,
	    sizeof(why)) == -1) {
		dns_error(err, errlen, "question: %s", why);
		return DNS_PARSE_MALFORMED;
	}
	if (len - pos < 4) {
		dns_error(err, errlen, "question cut short");
		return DNS_PARSE_MALFORMED;
	}
	type = dns_get16(pkt + pos);
	class = dns_get16(pkt + pos + 2);
	pos += 4;
	if (!dns_name_equal(name, qname) || type != (unsigned)qtype ||
	    class != DNS_CLASS_IN)
		return DNS_PARSE_NOT_OURS;
	if (r->tc || r->rcode != DNS_RCODE_NOERROR)
		return DNS_PARSE_OK;

	for (i = 0; i < an; i++) {
		if (dns_read_name(pkt, len, &pos, name, sizeof(name), why,
		    sizeof(why)) == -1) {
			dns_error(err, errlen, "answer %u: %s", i + 1, why);
			return DNS_PARSE_MALFORMED;
		}
		if (len - pos < 10) {
			dns_error(err, errlen, "answer %u: record header cut "
			    "short", i + 1);
			return DNS_PARSE_MALFORMED;
		}
		type = dns_get16(pkt + pos);
		class = dns_get16(pkt + pos + 2);
		rdlen = dns_get16(pkt + pos + 8);
		pos += 10;
		if (rdlen > len - pos) {
			dns_error(err, errlen, "answer %u: %zu octets of data, "
			    "%zu left in the reply", i + 1, rdlen, len - pos);
			return DNS_PARSE_MALFORMED;
		}
		if (type == (unsigned)qtype && class == DNS_CLASS_IN) {
			/* Beyond the ones kept, still check they read. */
			if (r->nanswers < DNS_MAX_ANSWERS)
				out = r->answers[r->nanswers];
			else
				out = scratch;
			if (dns_render(pkt, len, pos, rdlen, (int)type, out,
			    DNS_MAX_VALUE_TEXT, why, sizeof(why)) == -1) {
				dns_error(err, errlen, "answer %u: %s", i + 1,
				    why);
				return DNS_PARSE_MALFORMED;
			}
			if (r->nanswers < DNS_MAX_ANSWERS)
				r->nanswers++;
			else
				r->nmore++;
		}
		pos += rdlen;
	}
	return DNS_PARSE_OK;
}

/*
 * Whether an answer GOT (as rendered) is the expected WANT: addresses
 * by value, names without case or final dot, an MX or SOA also by its
 * host name alone, TXT exactly.
 */
int
dns_value_equal(int type, const char *got, const char *want)
{
	struct in6_addr	 a, b;
	const char	*sp;
	char		 first[DNS_MAX_VALUE_TEXT];
	int		 af;

	switch (type) {
	case DNS_T_A:
	case DNS_T_AAAA:
		af = type == DNS_T_A ? AF_INET : AF_INET6;
		if (inet_pton(af, got, &a) != 1 || inet_pton(af, want, &b) != 1)
			return strcmp(got, want) == 0;
		return memcmp(&a, &b, af == AF_INET ? 4 : 16) == 0;
	case DNS_T_NS:
	case DNS_T_CNAME:
	case DNS_T_PTR:
		return dns_name_equal(got, want);
	case DNS_T_MX:
		if (strcasecmp(got, want) == 0)
			return 1;
		sp = strchr(got, ' ');
		return sp != NULL && dns_name_equal(sp + 1, want);
	case DNS_T_SOA:
		if (strcasecmp(got, want) == 0)
			return 1;
		snprintf(first, sizeof(first), "%s", got);
		first[strcspn(first, " ")] = '\0';
		return dns_name_equal(first, want);
	default:
		return strcmp(got, want) == 0;
	}
}

/*
 * The first "nameserver ADDRESS" of resolv.conf's TEXT, port 53, as the
 * C library would use it.  Returns -1 when there is none.
 */
int
dns_resolv_conf_nameserver(const char *text, struct sockaddr_storage *ss,
    socklen_t *sslen)
{
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	const char		*line, *s, *e;
	char			 addr[INET6_ADDRSTRLEN + 1];
	size_t			 n;

	for (line = text; *line != '\0'; line = *e == '\0' ? e : e + 1) {
		e = line + strcspn(line, "\n");
		for (s = line; s < e && (*s == ' ' || *s == '\t'); s++)
			;
		if ((size_t)(e - s) < 11 || strncmp(s, "nameserver", 10) != 0 ||
		    (s[10] != ' ' && s[10] != '\t'))
			continue;
		for (s += 10; s < e && (*s == ' ' || *s == '\t'); s++)
			;
		n = strcspn(s, " \t\r\n%#;");
		if (n == 0 || n >= sizeof(addr) || s + n > e)
			continue;
		memcpy(addr, s, n);
		addr[n] = '\0';
		memset(ss, 0, sizeof(*ss));
		if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
			sin->sin_family = AF_INET;
			sin->sin_port = htons(53);
			*sslen = sizeof(*sin);
			return 0;
		}
		if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons(53);
			*sslen = sizeof(*sin6);
			return 0;
		}
	}
	return -1;
}
