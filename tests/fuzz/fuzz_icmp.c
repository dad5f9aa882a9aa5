/*
 * fuzz_icmp.c: libFuzzer harness for the ICMP reply parser.
 *
 * Raw ICMP sockets read every ICMP packet that reaches the host, from
 * anyone: the parser must take any bytes without reading past them.  The
 * first byte chooses the socket it came from (IPv4 raw, IPv4 datagram,
 * IPv6), the rest is the packet, copied to a buffer of its exact size so
 * that ASan sees any overread.
 */
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "icmp_wire.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct {
		int	 family, iphdr;
	} modes[] = {
		{ AF_INET, 1 }, { AF_INET, 0 }, { AF_INET6, 0 },
	};
	struct icmp_wire_msg	 m;
	uint8_t			*pkt;
	size_t			 mode;
	int			 rc;

	if (size < 1)
		return 0;
	mode = data[0] % (sizeof(modes) / sizeof(modes[0]));
	size--;
	if ((pkt = malloc(size > 0 ? size : 1)) == NULL)
		return 0;
	memcpy(pkt, data + 1, size);
	rc = icmp_wire_parse(modes[mode].family, modes[mode].iphdr, pkt, size,
	    &m);
	if (rc == 0) {
		if (m.kind == ICMP_WIRE_OTHER)
			abort();	/* accepted, yet nothing */
		if (icmp_wire_error_str(m.family, m.type, m.code) == NULL)
			abort();
	} else if (m.kind != ICMP_WIRE_OTHER)
		abort();		/* refused, yet half filled in */
	free(pkt);
	return 0;
}
