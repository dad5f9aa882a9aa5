/*
 * dns_wire.h: DNS messages on the wire (RFC 1035), for the dns probe.
 *
 * Kept apart from probes/check_dns.c so that the parser of replies, which
 * reads whatever a server (or anyone spoofing one) sends, is tested and
 * fuzzed on its own, with no socket and no event loop.
 */
#ifndef RTOWATCH_DNS_WIRE_H
#define RTOWATCH_DNS_WIRE_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#define DNS_T_A		1
#define DNS_T_NS	2
#define DNS_T_CNAME	5
#define DNS_T_SOA	6
#define DNS_T_PTR	12
#define DNS_T_MX	15
#define DNS_T_TXT	16
#define DNS_T_AAAA	28

#define DNS_RCODE_NOERROR	0
#define DNS_RCODE_FORMERR	1
#define DNS_RCODE_SERVFAIL	2
#define DNS_RCODE_NXDOMAIN	3
#define DNS_RCODE_NOTIMP	4
#define DNS_RCODE_REFUSED	5

#define DNS_HEADER_LEN		12
#define DNS_MAX_NAME		255	/* on the wire, RFC 1035 3.1 */
#define DNS_MAX_NAME_TEXT	1024	/* escaped: \DDD per octet */
#define DNS_MAX_QUERY		(DNS_HEADER_LEN + DNS_MAX_NAME + 4 + 11)
#define DNS_EDNS_UDP_SIZE	1232	/* the DNS flag day 2020 value */
#define DNS_MAX_ANSWERS		16	/* rendered; more are counted */
#define DNS_MAX_VALUE_TEXT	512	/* one rendered record, cut */

/* What dns_parse_reply() made of a datagram. */
enum dns_parse {
	DNS_PARSE_OK = 0,	/* our reply: look at rcode, tc, answers */
	DNS_PARSE_NOT_OURS,	/* another ID or question: ignore it */
	DNS_PARSE_MALFORMED	/* ours (or unreadable), but broken */
};

struct dns_reply {
	int	 rcode;
	int	 tc;		/* truncated: the answer did not fit */
	int	 aa;
	int	 nanswers;	/* of the asked type, rendered below */
	int	 nmore;		/* of the asked type, not rendered */
	char	 answers[DNS_MAX_ANSWERS][DNS_MAX_VALUE_TEXT];
};

int		 dns_type_from_name(const char *);
const char	*dns_type_name(int);
const char	*dns_rcode_name(int);
int		 dns_name_valid(const char *);
int		 dns_reverse_name(const char *, char *, size_t);
int		 dns_build_query(uint8_t *, size_t, uint16_t, const char *,
		    int);
enum dns_parse	 dns_parse_reply(const uint8_t *, size_t, uint16_t,
		    const char *, int, struct dns_reply *, char *, size_t);
int		 dns_value_equal(int, const char *, const char *);
int		 dns_resolv_conf_nameserver(const char *,
		    struct sockaddr_storage *, socklen_t *);

#endif
