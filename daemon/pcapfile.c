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

/* A held record's header into H, at the time it is counted at. */
static inline void
pcapfile_hdr(const struct pcapfile_held *r, const uint8_t *p,
    const struct pcapfile_format *f, struct pcap_pkthdr *h)
{
	uint32_t	 frac;

	h->caplen = pcapfile_u32(p + 8, f->swapped);
	h->len = pcapfile_u32(p + 12, f->swapped);
	if (__builtin_expect(r->late, 0)) {
		h->ts.tv_sec = (time_t)(r->ms / 1000);
		h->ts.tv_usec = (suseconds_t)(r->ms % 1000 * 1000);
		return;
	}
	h->ts.tv_sec = pcapfile_u32(p, f->swapped);
	frac = pcapfile_u32(p + 4, f->swapped);
	h->ts.tv_usec = f->nsec ? frac / 1000 : frac;
}

/* The window's oldest record to CB; its time is the clock's now. */
static inline void
pcapfile_emit(struct pcapfile *pf, const struct pcapfile_format *f,
    pcapfile_cb cb, u_char *arg)
{
	const struct pcapfile_held	*r = &pf->held[pf->head];
	const uint8_t			*p = pf->map + r->off;
	struct pcap_pkthdr		 h;

	pcapfile_hdr(r, p, f, &h);
	pf->now = r->ms;
	pf->head = (pf->head + 1) & (PCAPFILE_REORDER - 1);
	pf->n--;
	cb(arg, &h, p + PCAPFILE_RECORD);
}

/*
 * Call CB for every record of the classic pcap file in PF, in time order
 * within a window of PCAPFILE_REORDER records: the records are only
 * indexed (offset and time) as they are read, and handed over when the
 * window is full, the earliest first.  A record earlier than one already
 * handed over goes at that one's time; pf->reordered and pf->late count
 * both kinds.  The pages handed back are those below the window.  0 at
 * the file's end; -1 with ERR for a record cut short or longer than any
 * capture makes, after the records before it.
 */
int
pcapfile_walk(struct pcapfile *pf, pcapfile_cb cb, u_char *arg, char *err,
    size_t errlen)
{
	struct pcapfile_format	 f;
	struct pcapfile_held	*r, t;
	const uint8_t		*buf = pf->map, *p;
	size_t			 len = pf->size, off = PCAPFILE_HEADER, left;
	size_t			 slot, prev, keep;
	uint64_t		 n = 0;	/* records so far */
	uint32_t		 caplen, frac;
	int64_t			 ms;
	int			 late, rc = 0;

	if (pcapfile_format(buf, len, &f) == -1) {
		snprintf(err, errlen, "not a classic pcap file");
		return -1;
	}
	pf->head = pf->n = 0;
	pf->now = pf->newest = INT64_MIN;
	while (off < len) {
		left = len - off;
		if (left < PCAPFILE_RECORD) {
			snprintf(err, errlen, "truncated file: %zu bytes "
			    "where a record header needs %d", left,
			    PCAPFILE_RECORD);
			rc = -1;
			break;
		}
		p = buf + off;
		caplen = pcapfile_u32(p + 8, f.swapped);
		if (caplen > PCAPFILE_MAX_CAPLEN) {
			snprintf(err, errlen, "record %llu: %u captured "
			    "bytes, more than the %d any capture keeps",
			    (unsigned long long)n + 1, caplen,
			    PCAPFILE_MAX_CAPLEN);
			rc = -1;
			break;
		}
		if (caplen > left - PCAPFILE_RECORD) {
			snprintf(err, errlen, "truncated file: record %llu "
			    "has %u captured bytes, %zu are left",
			    (unsigned long long)n + 1, caplen,
			    left - PCAPFILE_RECORD);
			rc = -1;
			break;
		}
		frac = pcapfile_u32(p + 4, f.swapped);
		ms = (int64_t)pcapfile_u32(p, f.swapped) * 1000 +
		    (f.nsec ? frac / 1000000 : frac / 1000);
		n++;
		if (pf->n == PCAPFILE_REORDER)
			pcapfile_emit(pf, &f, cb, arg);
		late = 0;
		if (__builtin_expect(ms < pf->now, 0)) {
			pf->late++;
			ms = pf->now;
			late = 1;
		}
		slot = (pf->head + pf->n++) & (PCAPFILE_REORDER - 1);
		r = &pf->held[slot];
		r->off = off;
		r->ms = ms;
		r->late = late;
		off += PCAPFILE_RECORD + caplen;
		if (__builtin_expect(ms >= pf->newest, 1))
			pf->newest = ms;
		else {
			/* Moved back to its place among the held. */
			pf->reordered += !late;
			while (slot != pf->head) {
				prev = (slot - 1) & (PCAPFILE_REORDER - 1);
				if (pf->held[prev].ms <= pf->held[slot].ms)
					break;
				t = pf->held[prev];
				pf->held[prev] = pf->held[slot];
				pf->held[slot] = t;
				slot = prev;
			}
		}
		if (off - pf->released >= 2 * PCAPFILE_RELEASE) {
			/* Not a page that a held record is on. */
			keep = off;
			for (slot = 0; slot < pf->n; slot++) {
				r = &pf->held[(pf->head + slot) &
				    (PCAPFILE_REORDER - 1)];
				if (r->off < keep)
					keep = r->off;
			}
			pcapfile_release(pf, keep);
		}
	}
	/* The records before an error are counted all the same. */
	while (pf->n > 0)
		pcapfile_emit(pf, &f, cb, arg);
	return rc;
}
