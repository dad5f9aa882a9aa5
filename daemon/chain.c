/*
 * chain.c: the timeline's hash chain.
 *
 * Each row's hash is SHA-256 over the previous row's hash and the row's
 * fields, each as a netstring ("LEN:BYTES,"), so no choice of contents
 * makes two different rows hash alike.  The daemon links rows with it and
 * rtowatch verify recomputes it; both must agree byte for byte.
 */
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

#include "chain.h"
#include "log.h"

void
chain_hash(const char *prev, int64_t id, int64_t incident, int64_t warning,
    const char *at, const char *event, const char *actor, const char *detail,
    char out[CHAIN_HEXLEN + 1])
{
	const char	*fields[7];
	char		 num[3][24];
	unsigned char	 md[SHA256_DIGEST_LENGTH];
	char		 len[24];
	EVP_MD_CTX	*ctx;
	size_t		 i;

	snprintf(num[0], sizeof(num[0]), "%lld", (long long)id);
	snprintf(num[1], sizeof(num[1]), "%lld", (long long)incident);
	snprintf(num[2], sizeof(num[2]), "%lld", (long long)warning);
	fields[0] = num[0];
	fields[1] = num[1];
	fields[2] = num[2];
	fields[3] = at;
	fields[4] = event;
	fields[5] = actor;
	fields[6] = detail;
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		fatalx("chain: SHA-256 unavailable");
	EVP_DigestUpdate(ctx, prev, strlen(prev));
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		snprintf(len, sizeof(len), "%zu:", strlen(fields[i]));
		EVP_DigestUpdate(ctx, len, strlen(len));
		EVP_DigestUpdate(ctx, fields[i], strlen(fields[i]));
		EVP_DigestUpdate(ctx, ",", 1);
	}
	EVP_DigestFinal_ex(ctx, md, NULL);
	EVP_MD_CTX_free(ctx);
	for (i = 0; i < sizeof(md); i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}
