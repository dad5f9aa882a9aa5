/*
 * fuzz_dns.c: libFuzzer harness for the dns probe's reply parser.
 *
 * A reply is whatever arrives on the probe's socket from the server (or
 * from someone spoofing it): any bytes must give "ours", "not ours" or
 * "malformed" with a reason, never a crash, an overread or a hang.  The
 * first byte picks the question's type and the reply's own ID is taken
 * as expected, so that the fuzzer gets past the header; the question
 * name is fixed (the seeds carry it).  The same bytes also go through
 * the resolv.conf reader and, as a name, the query builder.
 */
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns_wire.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const int fuzz_types[] = {
	DNS_T_A, DNS_T_AAAA, DNS_T_MX, DNS_T_TXT, DNS_T_NS, DNS_T_CNAME,
	DNS_T_SOA, DNS_T_PTR,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dns_reply	 r;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	uint8_t			*pkt, q[DNS_MAX_QUERY];
	char			 err[256], *text;
	enum dns_parse		 rc;
	uint16_t		 id;
	int			 type, i;

	if (size < 1)
		return 0;
	type = fuzz_types[data[0] % (sizeof(fuzz_types) /
	    sizeof(fuzz_types[0]))];
	/* An exact copy, so that ASan sees a read past the datagram. */
	size--;
	pkt = malloc(size > 0 ? size : 1);
	if (pkt == NULL)
		return 0;
	memcpy(pkt, data + 1, size);
	id = size >= 2 ? (uint16_t)(pkt[0] << 8 | pkt[1]) : 0;
	rc = dns_parse_reply(pkt, size, id, "example.test", type, &r, err,
	    sizeof(err));
	if (rc == DNS_PARSE_MALFORMED && err[0] == '\0')
		abort();	/* a rejected reply must say why */
	if (rc == DNS_PARSE_OK) {
		if (r.nanswers < 0 || r.nanswers > DNS_MAX_ANSWERS)
			abort();
		for (i = 0; i < r.nanswers; i++)
			if (strlen(r.answers[i]) >= DNS_MAX_VALUE_TEXT)
				abort();
	}
	free(pkt);

	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data + 1, size);
	text[size] = '\0';
	(void)dns_resolv_conf_nameserver(text, &ss, &sslen);
	if (dns_build_query(q, sizeof(q), 1, text, type) > (int)sizeof(q))
		abort();
	free(text);
	return 0;
}
