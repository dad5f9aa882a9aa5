/*
 * sha256.h: SHA-256 (FIPS 180-4) for the timeline's hash chain.
 *
 * OpenSSL 3's EVP interface loads its providers at the first digest, and
 * those pages stay: 2.2 MB of rtowatchd's 10 MB with rules that need no
 * TLS (issue 20).  The chain hashes a few short strings per bound column
 * of each change, which this implementation does as well: on the CPU's SHA
 * instructions (SHA-NI) when it has them, plain C otherwise.  tests/unit/test_sha256.c holds
 * it to OpenSSL's answers.
 */
#ifndef RTOWATCH_SHA256_H
#define RTOWATCH_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN	32

struct sha256 {
	uint32_t	 h[8];
	uint64_t	 bytes;		/* hashed so far */
	unsigned char	 block[64];
	size_t		 fill;		/* bytes in block */
};

void	sha256_init(struct sha256 *);
void	sha256_update(struct sha256 *, const void *, size_t);
void	sha256_final(struct sha256 *, unsigned char[SHA256_LEN]);

/*
 * HMAC-SHA256 (RFC 2104) of a message under a key: the webhooks'
 * signature, without mapping libcrypto for it.
 */
void	hmac_sha256(const void *, size_t, const void *, size_t,
	    unsigned char[SHA256_LEN]);

#endif
