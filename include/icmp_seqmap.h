/*
 * icmp_seqmap.h: which echo request a 16-bit ICMP sequence number stands
 * for.
 *
 * All ping probes share one socket per address family, so the sequence
 * number is what tells their replies apart (with datagram ICMP sockets the
 * kernel even chooses the identifier).  An entry names its probe by id,
 * never by pointer, and is cleared when the probe ends: a reply that
 * arrives later finds nothing.
 */
#ifndef RTOWATCH_ICMP_SEQMAP_H
#define RTOWATCH_ICMP_SEQMAP_H

#include <stdint.h>

#define ICMP_SEQMAP_SIZE	65536

struct icmp_seqmap_entry {
	uint32_t	 probe_id;	/* 0: free */
	uint16_t	 attempt;
	int64_t		 sent_ns;	/* CLOCK_REALTIME, as kernel stamps */
};

struct icmp_seqmap;

struct icmp_seqmap	*icmp_seqmap_new(void);
void			 icmp_seqmap_free(struct icmp_seqmap *);
int			 icmp_seqmap_add(struct icmp_seqmap *, uint32_t,
			    uint16_t, int64_t, uint16_t *);
const struct icmp_seqmap_entry *icmp_seqmap_find(const struct icmp_seqmap *,
			    uint16_t);
void			 icmp_seqmap_clear(struct icmp_seqmap *, uint16_t);
unsigned int		 icmp_seqmap_used(const struct icmp_seqmap *);

#endif
