/*
 * pcapfile.h: the records of a classic pcap capture file, read where they
 * lie (a mapped file) rather than copied out one by one through libpcap.
 * For rtowatchd --pcap-file; see pcapfile.c.
 */
#ifndef RTOWATCH_PCAPFILE_H
#define RTOWATCH_PCAPFILE_H

#include <pcap/pcap.h>

#include <stddef.h>
#include <stdint.h>

/* The largest record libpcap itself accepts (its MAXIMUM_SNAPLEN). */
#define PCAPFILE_MAX_CAPLEN	262144
#define PCAPFILE_HEADER		24
#define PCAPFILE_RECORD		16

typedef void	(*pcapfile_cb)(u_char *, const struct pcap_pkthdr *,
		    const u_char *);

/*
 * Records a capture holds out of time order are put back in order within
 * this many (a power of 2): a trace merged from two taps, or edited.
 */
#define PCAPFILE_REORDER	512

struct pcapfile_held {
	size_t		 off;		/* of its record header */
	int64_t		 ms;		/* the time it is counted at */
	int		 late;		/* beyond the window: not its own */
};

struct pcapfile {
	const uint8_t	*map;
	uint8_t		*base;		/* the same, for munmap and madvise */
	size_t		 size;
	int		 mapped;	/* by pcapfile_map, not a buffer */
	size_t		 released;	/* pages up to here handed back */
	/* The reorder window of pcapfile_walk(), a ring sorted by time. */
	struct pcapfile_held held[PCAPFILE_REORDER];
	size_t		 head, n;
	int64_t		 now;		/* of the last record handed over */
	int64_t		 newest;	/* of the last record held */
	uint64_t	 reordered;	/* put back in order */
	uint64_t	 late;		/* beyond the window */
};

int	pcapfile_map(const char *, struct pcapfile *, char *, size_t);
void	pcapfile_unmap(struct pcapfile *);
int	pcapfile_walk(struct pcapfile *, pcapfile_cb, u_char *, char *,
	    size_t);

#endif
