/*
 * fuzz_pcapfile.c: libFuzzer harness for the capture file walker.
 *
 * A replayed file comes from anywhere: cut short, its lengths forged.
 * The input is the whole file, copied to a buffer of its exact size so
 * that ASan sees any read past it; the callback reads every byte of each
 * record it is handed and checks the lengths against the buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pcapfile.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct fuzz_file {
	const uint8_t	*start, *end;
	unsigned	 sum;
};

static void
fuzz_record(u_char *arg, const struct pcap_pkthdr *h, const u_char *data)
{
	struct fuzz_file	*f = (struct fuzz_file *)arg;
	uint32_t		 i;

	if (data < f->start || h->caplen > PCAPFILE_MAX_CAPLEN ||
	    (size_t)(f->end - data) < h->caplen)
		abort();
	for (i = 0; i < h->caplen; i++)
		f->sum += data[i];
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pcapfile		 pf;
	struct fuzz_file	 f;
	uint8_t			*buf;
	char			 err[256];

	if ((buf = malloc(size > 0 ? size : 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	memset(&pf, 0, sizeof(pf));
	pf.map = buf;
	pf.size = size;
	f.start = buf;
	f.end = buf + size;
	f.sum = 0;
	err[0] = '\0';
	if (pcapfile_walk(&pf, fuzz_record, (u_char *)&f, err,
	    sizeof(err)) == -1 && err[0] == '\0')
		abort();
	free(buf);
	return 0;
}
