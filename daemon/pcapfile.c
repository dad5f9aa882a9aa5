/*
 * pcapfile.c: the records of a classic pcap file, read in place.
 *
 * A replay (rtowatchd --pcap-file) reads a whole capture as fast as it
 * can.  libpcap hands over each record by copying it out of a stdio
 * buffer with two freads, header then data: on a multi-million packet
 * file that costs about as much as every traffic counter together.  For
 * the classic format, the one tcpdump -w writes, the file is mapped and
 * its records are walked where they lie.
 *
 * libpcap still opens the file first (capture.c): it checks the header,
 * names the link type and compiles the filters.  A file this code does not
 * take (pcapng, a modified or unknown variant, not a regular file) goes
 * through libpcap as before.  The walk trusts nothing in the file: every
 * length is checked against what is left before a byte is read.  The
 * pages already read are handed back as it goes, so the daemon's memory
 * stays that of its counters, not of the file.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pcapfile.h"

#define PCAPFILE_MAGIC_US	0xa1b2c3d4U
#define PCAPFILE_RELEASE	((size_t)1024 * 1024)
#define PCAPFILE_MAGIC_NS	0xa1b23c4dU

struct pcapfile_format {
	int	 swapped;	/* written on a host of the other byte order */
	int	 nsec;		/* fractions of a second in nanoseconds */
};

static uint32_t
pcapfile_u32(const uint8_t *p, int swapped)
{
	uint32_t	 v;

	memcpy(&v, p, sizeof(v));
	return swapped ? __builtin_bswap32(v) : v;
}

/* The format of the file at BUF, or -1 when it is not classic pcap. */
static int
pcapfile_format(const uint8_t *buf, size_t len, struct pcapfile_format *f)
{
	uint32_t	 magic;

	if (len < PCAPFILE_HEADER)
		return -1;
	memcpy(&magic, buf, sizeof(magic));
	f->swapped = magic == __builtin_bswap32(PCAPFILE_MAGIC_US) ||
	    magic == __builtin_bswap32(PCAPFILE_MAGIC_NS);
	if (f->swapped)
		magic = __builtin_bswap32(magic);
	if (magic != PCAPFILE_MAGIC_US && magic != PCAPFILE_MAGIC_NS)
		return -1;
	f->nsec = magic == PCAPFILE_MAGIC_NS;
	return 0;
}

/*
 * Map PATH: 1 when it is a classic pcap file, now in PF; 0 when it is
 * something else (read it with libpcap); -1 with ERR when it cannot be
 * read at all.
 */
int
pcapfile_map(const char *path, struct pcapfile *pf, char *err, size_t len)
{
	struct pcapfile_format	 f;
	struct stat		 st;
	void			*map;
	int			 fd;

	memset(pf, 0, sizeof(*pf));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, len, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, len, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < PCAPFILE_HEADER) {
		close(fd);
		return 0;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return 0;	/* libpcap reads it another way */
	if (pcapfile_format(map, (size_t)st.st_size, &f) == -1) {
		munmap(map, (size_t)st.st_size);
		return 0;
	}
	(void)madvise(map, (size_t)st.st_size, MADV_SEQUENTIAL);
	pf->map = pf->base = map;
	pf->size = (size_t)st.st_size;
	pf->mapped = 1;
	return 1;
}

void
pcapfile_unmap(struct pcapfile *pf)
{
	if (pf->mapped)
		munmap(pf->base, pf->size);
	memset(pf, 0, sizeof(*pf));
}

/* Done with the mapped file below OFF: its pages leave our memory. */
static void
pcapfile_release(struct pcapfile *pf, size_t off)
{
	size_t	 upto = off / PCAPFILE_RELEASE * PCAPFILE_RELEASE;

	if (!pf->mapped || upto <= pf->released)
		return;
	(void)madvise(pf->base + pf->released, upto - pf->released,
	    MADV_DONTNEED);
	pf->released = upto;
}

/* A record's time, seconds above fractions, in milliseconds. */
static uint64_t
pcapfile_ms(uint64_t t, int nsec)
{
	return (t >> 32) * 1000 + (t & 0xffffffff) / (nsec ? 1000000 : 1000);
}

/*
 * Are the records of PF in time order?  Only their headers are read, as
 * far as they are whole (pcapfile_walk() says what is wrong with the
 * rest), and their pages handed back as for the walk: a replay in order,
 * the usual case, then needs no reorder window.  1 yes, 0 no.
 */
int
pcapfile_in_order(struct pcapfile *pf)
{
	struct pcapfile_format	 f;
	const uint8_t		*buf = pf->map, *p;
	size_t			 len = pf->size, off = PCAPFILE_HEADER;
	uint64_t		 t, last = 0;
	uint32_t		 caplen;
	int			 rc = 1;

	if (pcapfile_format(buf, len, &f) == -1)
		return 0;
	while (len - off >= PCAPFILE_RECORD) {
		p = buf + off;
		t = (uint64_t)pcapfile_u32(p, f.swapped) << 32 |
		    pcapfile_u32(p + 4, f.swapped);
		/* Out of order within a millisecond, the counters' clock, is
		 * in order for them. */
		if (t >= last)
			last = t;
		else if (pcapfile_ms(t, f.nsec) < pcapfile_ms(last, f.nsec)) {
			rc = 0;
			break;
		}
		caplen = pcapfile_u32(p + 8, f.swapped);
		if (caplen > len - off - PCAPFILE_RECORD)
			break;
		off += PCAPFILE_RECORD + caplen;
		if (off - pf->released >= 2 * PCAPFILE_RELEASE)
			pcapfile_release(pf, off);
	}
	/* The walk starts again from the beginning. */
	pf->released = 0;
	return rc;
}

/*
 * Call CB for every record of the classic pcap file in PF, in order.  0 at
 * the file's end; -1 with ERR for a record cut short or longer than any
 * capture makes, after the records before it.
 */
int
pcapfile_walk(struct pcapfile *pf, pcapfile_cb cb, u_char *arg, char *err,
    size_t errlen)
{
	struct pcapfile_format	 f;
	struct pcap_pkthdr	 h;
	const uint8_t		*buf = pf->map, *p;
	size_t			 len = pf->size, off = PCAPFILE_HEADER, left;
	uint64_t		 n = 0;	/* records so far */
	uint32_t		 frac;

	if (pcapfile_format(buf, len, &f) == -1) {
		snprintf(err, errlen, "not a classic pcap file");
		return -1;
	}
	while (off < len) {
		left = len - off;
		if (left < PCAPFILE_RECORD) {
			snprintf(err, errlen, "truncated file: %zu bytes "
			    "where a record header needs %d", left,
			    PCAPFILE_RECORD);
			return -1;
		}
		p = buf + off;
		h.caplen = pcapfile_u32(p + 8, f.swapped);
		h.len = pcapfile_u32(p + 12, f.swapped);
		if (h.caplen > PCAPFILE_MAX_CAPLEN) {
			snprintf(err, errlen, "record %llu: %u captured "
			    "bytes, more than the %d any capture keeps",
			    (unsigned long long)n + 1, h.caplen,
			    PCAPFILE_MAX_CAPLEN);
			return -1;
		}
		if (h.caplen > left - PCAPFILE_RECORD) {
			snprintf(err, errlen, "truncated file: record %llu "
			    "has %u captured bytes, %zu are left",
			    (unsigned long long)n + 1, h.caplen,
			    left - PCAPFILE_RECORD);
			return -1;
		}
		h.ts.tv_sec = pcapfile_u32(p, f.swapped);
		frac = pcapfile_u32(p + 4, f.swapped);
		h.ts.tv_usec = f.nsec ? frac / 1000 : frac;
		n++;
		cb(arg, &h, p + PCAPFILE_RECORD);
		off += PCAPFILE_RECORD + h.caplen;
		if (off - pf->released >= 2 * PCAPFILE_RELEASE)
			pcapfile_release(pf, off);
	}
	return 0;
}
