/*
 * sha256.c: SHA-256 as FIPS 180-4 gives it (include/sha256.h says why
 * not OpenSSL's).
 */
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SHA256_NI	1
#include <cpuid.h>
#include <immintrin.h>
#endif

#include "sha256.h"

static const uint32_t sha256_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b,
	0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
	0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7,
	0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
	0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152,
	0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
	0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
	0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f,
	0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROTR(x, n)	(((x) >> (n)) | ((x) << (32 - (n))))

/*
 * The eight working variables stay in registers, renamed by the round
 * macro rather than shifted along an array: the chain hashes every bound
 * column of each change (chain_column_hash), and the array's memmove
 * each round was most of an escalation's hashing.
 */
#define SHA256_ROUND(a, b, c, d, e, f, g, h, i) do {			\
	t1 = (h) + (ROTR(e, 6) ^ ROTR(e, 11) ^ ROTR(e, 25)) +		\
	    (((e) & (f)) ^ (~(e) & (g))) + sha256_k[i] + w[i];		\
	t2 = (ROTR(a, 2) ^ ROTR(a, 13) ^ ROTR(a, 22)) +			\
	    (((a) & (b)) ^ ((a) & (c)) ^ ((b) & (c)));			\
	(d) += t1;							\
	(h) = t1 + t2;							\
} while (0)

static void
sha256_block(struct sha256 *ctx, const unsigned char *p)
{
	uint32_t	 w[64], a, b, c, d, e, f, g, h, t1, t2;
	size_t		 i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		    (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
	for (i = 16; i < 64; i++)
		w[i] = (ROTR(w[i - 2], 17) ^ ROTR(w[i - 2], 19) ^
		    (w[i - 2] >> 10)) + w[i - 7] + (ROTR(w[i - 15], 7) ^
		    ROTR(w[i - 15], 18) ^ (w[i - 15] >> 3)) + w[i - 16];
	a = ctx->h[0];
	b = ctx->h[1];
	c = ctx->h[2];
	d = ctx->h[3];
	e = ctx->h[4];
	f = ctx->h[5];
	g = ctx->h[6];
	h = ctx->h[7];
	for (i = 0; i < 64; i += 8) {
		SHA256_ROUND(a, b, c, d, e, f, g, h, i);
		SHA256_ROUND(h, a, b, c, d, e, f, g, i + 1);
		SHA256_ROUND(g, h, a, b, c, d, e, f, i + 2);
		SHA256_ROUND(f, g, h, a, b, c, d, e, i + 3);
		SHA256_ROUND(e, f, g, h, a, b, c, d, i + 4);
		SHA256_ROUND(d, e, f, g, h, a, b, c, i + 5);
		SHA256_ROUND(c, d, e, f, g, h, a, b, i + 6);
		SHA256_ROUND(b, c, d, e, f, g, h, a, i + 7);
	}
	ctx->h[0] += a;
	ctx->h[1] += b;
	ctx->h[2] += c;
	ctx->h[3] += d;
	ctx->h[4] += e;
	ctx->h[5] += f;
	ctx->h[6] += g;
	ctx->h[7] += h;
}

#ifdef SHA256_NI
/*
 * The same block with the CPU's SHA extensions (Intel SHA-NI, AMD since
 * Zen), when it has them: about five times faster, and the chain hashes
 * every bound column of every change.  The usual form (Intel's paper,
 * "Intel SHA Extensions", 2013): four rounds a step, the message schedule
 * kept in M's four registers.
 */
__attribute__((target("sha,sse4.1,ssse3")))
static void
sha256_block_ni(struct sha256 *ctx, const unsigned char *p)
{
	const __m128i	 mask = _mm_set_epi64x(0x0c0d0e0f08090a0bULL,
			    0x0405060700010203ULL);
	__m128i		 s0, s1, save0, save1, msg, tmp, m[4], cur;
	size_t		 i;

	tmp = _mm_loadu_si128((const __m128i *)(const void *)&ctx->h[0]);
	s1 = _mm_loadu_si128((const __m128i *)(const void *)&ctx->h[4]);
	tmp = _mm_shuffle_epi32(tmp, 0xB1);		/* CDAB */
	s1 = _mm_shuffle_epi32(s1, 0x1B);		/* EFGH */
	s0 = _mm_alignr_epi8(tmp, s1, 8);		/* ABEF */
	s1 = _mm_blend_epi16(s1, tmp, 0xF0);		/* CDGH */
	save0 = s0;
	save1 = s1;
	for (i = 0; i < 4; i++)
		m[i] = _mm_shuffle_epi8(_mm_loadu_si128(
		    (const __m128i *)(const void *)(p + 16 * i)), mask);
	for (i = 0; i < 16; i++) {
		cur = m[i & 3];
		msg = _mm_add_epi32(cur, _mm_loadu_si128(
		    (const __m128i *)(const void *)&sha256_k[4 * i]));
		s1 = _mm_sha256rnds2_epu32(s1, s0, msg);
		if (i >= 3 && i < 15) {
			tmp = _mm_alignr_epi8(cur, m[(i - 1) & 3], 4);
			m[(i + 1) & 3] = _mm_sha256msg2_epu32(_mm_add_epi32(
			    m[(i + 1) & 3], tmp), cur);
		}
		msg = _mm_shuffle_epi32(msg, 0x0E);
		s0 = _mm_sha256rnds2_epu32(s0, s1, msg);
		if (i >= 1 && i < 13)
			m[(i - 1) & 3] = _mm_sha256msg1_epu32(m[(i - 1) & 3],
			    cur);
	}
	s0 = _mm_add_epi32(s0, save0);
	s1 = _mm_add_epi32(s1, save1);
	tmp = _mm_shuffle_epi32(s0, 0x1B);		/* FEBA */
	s1 = _mm_shuffle_epi32(s1, 0xB1);		/* DCHG */
	s0 = _mm_blend_epi16(tmp, s1, 0xF0);		/* DCBA */
	s1 = _mm_alignr_epi8(s1, tmp, 8);		/* HGFE */
	_mm_storeu_si128((__m128i *)(void *)&ctx->h[0], s0);
	_mm_storeu_si128((__m128i *)(void *)&ctx->h[4], s1);
}

/* 1: the CPU has SHA-NI and SSE4.1 (asked once); 0: it has not. */
static int
sha256_has_ni(void)
{
	static int	 has = -1;
	unsigned	 a, b, c, d;

	if (has != -1)
		return has;
	has = 0;
	if (__get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSE4_1) &&
	    (c & bit_SSSE3) && __get_cpuid_count(7, 0, &a, &b, &c, &d) &&
	    (b & bit_SHA))
		has = 1;
	return has;
}
#endif

/* One 64-byte block into the state, the CPU's way if it has one. */
static void
sha256_compress(struct sha256 *ctx, const unsigned char *p)
{
#ifdef SHA256_NI
	if (sha256_has_ni()) {
		sha256_block_ni(ctx, p);
		return;
	}
#endif
	sha256_block(ctx, p);
}

void
sha256_init(struct sha256 *c)
{
	static const uint32_t	 h0[8] = { 0x6a09e667, 0xbb67ae85,
	    0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
	    0x5be0cd19 };

	memcpy(c->h, h0, sizeof(h0));
	c->bytes = 0;
	c->fill = 0;
}

void
sha256_update(struct sha256 *c, const void *data, size_t n)
{
	const unsigned char	*p = data;
	size_t			 take;

	c->bytes += n;
	while (n > 0) {
		take = sizeof(c->block) - c->fill;
		if (take > n)
			take = n;
		memcpy(c->block + c->fill, p, take);
		c->fill += take;
		p += take;
		n -= take;
		if (c->fill == sizeof(c->block)) {
			sha256_compress(c, c->block);
			c->fill = 0;
		}
	}
}

void
sha256_final(struct sha256 *c, unsigned char md[SHA256_LEN])
{
	uint64_t	 bits = c->bytes * 8;
	int		 i;

	c->block[c->fill++] = 0x80;
	if (c->fill > sizeof(c->block) - 8) {
		memset(c->block + c->fill, 0, sizeof(c->block) - c->fill);
		sha256_compress(c, c->block);
		c->fill = 0;
	}
	memset(c->block + c->fill, 0, sizeof(c->block) - 8 - c->fill);
	for (i = 0; i < 8; i++)
		c->block[56 + i] = (unsigned char)(bits >> (56 - 8 * i));
	sha256_compress(c, c->block);
	for (i = 0; i < 32; i++)
		md[i] = (unsigned char)(c->h[i / 4] >> (24 - 8 * (i % 4)));
}

/*
 * RFC 2104 over SHA-256: H((K ^ opad) || H((K ^ ipad) || MSG)), a key
 * longer than the block hashed first.
 */
void
hmac_sha256(const void *key, size_t keylen, const void *msg, size_t n,
    unsigned char mac[SHA256_LEN])
{
	struct sha256	 c;
	unsigned char	 k[64], pad[64], inner[SHA256_LEN];
	size_t		 i;

	memset(k, 0, sizeof(k));
	if (keylen > sizeof(k)) {
		sha256_init(&c);
		sha256_update(&c, key, keylen);
		sha256_final(&c, k);
	} else if (keylen > 0)
		memcpy(k, key, keylen);
	for (i = 0; i < sizeof(pad); i++)
		pad[i] = k[i] ^ 0x36;
	sha256_init(&c);
	sha256_update(&c, pad, sizeof(pad));
	sha256_update(&c, msg, n);
	sha256_final(&c, inner);
	for (i = 0; i < sizeof(pad); i++)
		pad[i] = k[i] ^ 0x5c;
	sha256_init(&c);
	sha256_update(&c, pad, sizeof(pad));
	sha256_update(&c, inner, sizeof(inner));
	sha256_final(&c, mac);
	/* The key's pads and state are secret too. */
	explicit_bzero(k, sizeof(k));
	explicit_bzero(pad, sizeof(pad));
	explicit_bzero(inner, sizeof(inner));
	explicit_bzero(&c, sizeof(c));
}
