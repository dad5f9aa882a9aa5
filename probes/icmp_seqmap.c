/*
 * icmp_seqmap.c: the sequence map of the ping probes.
 *
 * After fping's seqmap.c: a table indexed by the 16-bit sequence number,
 * handed out in turn so that a number is reused as late as possible.
 * Unlike fping's, an entry does not expire by age: it lives exactly as
 * long as its echo request is awaited and is cleared by the probe (on a
 * reply, or when the probe ends or is cancelled).  A slot still in use is
 * skipped, so a slow reply can never be taken for a newer request; only
 * 65536 requests awaited at once would fill the map.
 */
#include <stdlib.h>

#include "icmp_seqmap.h"
#include "util.h"

struct icmp_seqmap {
	struct icmp_seqmap_entry	 e[ICMP_SEQMAP_SIZE];
	uint32_t			 next;
	uint32_t			 used;
};

struct icmp_seqmap *
icmp_seqmap_new(void)
{
	return xcalloc(1, sizeof(struct icmp_seqmap));
}

void
icmp_seqmap_free(struct icmp_seqmap *map)
{
	free(map);
}

/* A free sequence number for PROBE_ID's ATTEMPT into *SEQ; -1 if full. */
int
icmp_seqmap_add(struct icmp_seqmap *map, uint32_t probe_id,
    uint16_t attempt, int64_t sent_ns, uint16_t *seq)
{
	struct icmp_seqmap_entry	*e;
	uint32_t			 i;

	if (probe_id == 0 || map->used >= ICMP_SEQMAP_SIZE)
		return -1;
	for (i = 0; i < ICMP_SEQMAP_SIZE; i++) {
		e = &map->e[(map->next + i) % ICMP_SEQMAP_SIZE];
		if (e->probe_id == 0)
			break;
	}
	*seq = (uint16_t)((map->next + i) % ICMP_SEQMAP_SIZE);
	map->next = (uint32_t)(*seq + 1) % ICMP_SEQMAP_SIZE;
	e->probe_id = probe_id;
	e->attempt = attempt;
	e->sent_ns = sent_ns;
	map->used++;
	return 0;
}

/* The request awaited under SEQ, or NULL. */
const struct icmp_seqmap_entry *
icmp_seqmap_find(const struct icmp_seqmap *map, uint16_t seq)
{
	const struct icmp_seqmap_entry	*e = &map->e[seq];

	return e->probe_id != 0 ? e : NULL;
}

void
icmp_seqmap_clear(struct icmp_seqmap *map, uint16_t seq)
{
	struct icmp_seqmap_entry	*e = &map->e[seq];

	if (e->probe_id == 0)
		return;
	e->probe_id = 0;
	e->attempt = 0;
	e->sent_ns = 0;
	map->used--;
}

unsigned int
icmp_seqmap_used(const struct icmp_seqmap *map)
{
	return map->used;
}
