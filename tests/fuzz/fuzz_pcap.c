/*
 * fuzz_pcap.c: libFuzzer harness for the packet decoder.
 *
 * A capture sees every frame on the wire, forged or cut short by the snap
 * length: the decoder must take any bytes without reading past them.  The
 * first byte chooses the link type (Ethernet, Linux cooked v1 and v2, raw
 * IP, BSD loopback); the rest is the frame, copied to a buffer of its exact size so
 * that ASan sees any overread.  What it decoded is then checked for the
 * invariants the counters rely on.
 */
#include <pcap/dlt.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "packet.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int	 dlts[] = { DLT_EN10MB, DLT_LINUX_SLL,
	    DLT_LINUX_SLL2, DLT_RAW, DLT_IPV4, DLT_IPV6, DLT_NULL, DLT_LOOP };
	static struct packet_frags fr;	/* fragments of earlier inputs */
	struct packet		 pk;
	char			 buf[64];
	uint8_t			*frame;
	int			 rc;

	if (size < 1)
		return 0;
	size--;
	if ((frame = malloc(size > 0 ? size : 1)) == NULL)
		return 0;
	memcpy(frame, data + 1, size);
	rc = packet_decode(dlts[data[0] % (sizeof(dlts) / sizeof(dlts[0]))],
	    frame, size, &pk);
	free(frame);
	if (rc == -1 && pk.kind != PACKET_OTHER)
		abort();
	if (pk.frag != PACKET_FRAG_NONE)
		packet_frag_join(&fr, data[0], &pk);
	if (pk.kind == PACKET_IP) {
		if (pk.family != 4 && pk.family != 6)
			abort();
		packet_addr_fmt(pk.family, pk.src, buf, sizeof(buf));
		packet_addr_fmt(pk.family, pk.dst, buf, sizeof(buf));
	}
	if (pk.kind != PACKET_IP && (pk.has_ports || pk.has_icmp))
		abort();
	return 0;
}
