/*
 * chain.h: the timeline's hash chain, shared by the daemon (which links
 * each new row to the last) and rtowatch verify (which walks it).
 *
 * A row's hash covers the previous hash, its id, its incident and
 * warning ids (0 for none), its time as stored, event, actor and detail.
 * The first row's previous hash is 64 zeros.
 */
#ifndef RTOWATCH_CHAIN_H
#define RTOWATCH_CHAIN_H

#include <stdint.h>

#define CHAIN_HEXLEN	64	/* SHA-256 in hex */

void	chain_hash(const char *, int64_t, int64_t, int64_t, const char *,
	    const char *, const char *, const char *, char [CHAIN_HEXLEN + 1]);

#endif
