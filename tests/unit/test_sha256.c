/*
 * test_sha256.c: the timeline chain's own SHA-256 (common/sha256.c) gives
 * FIPS 180-4's answers and OpenSSL's, for every length across the block
 * boundaries and fed in any pieces; and its HMAC (the webhooks'
 * signature) gives RFC 4231's answers and OpenSSL's HMAC's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sha256.h"

static void
hex(const unsigned char *md, char out[2 * SHA256_LEN + 1])
{
	static const char	 digits[] = "0123456789abcdef";
	size_t			 i;

	for (i = 0; i < SHA256_LEN; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 15];
	}
	out[2 * SHA256_LEN] = '\0';
}

static void
test_vectors(void **state)
{
	static const struct {
		const char	*in, *md;
	} v[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b"
		    "7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff"
		    "61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd4"
		    "19db06c1" },
	};
	struct sha256	 c;
	unsigned char	 md[SHA256_LEN];
	char		 out[2 * SHA256_LEN + 1];
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		sha256_init(&c);
		sha256_update(&c, v[i].in, strlen(v[i].in));
		sha256_final(&c, md);
		hex(md, out);
		assert_string_equal(out, v[i].md);
	}
}

static void
test_as_openssl(void **state)
{
	unsigned char	 buf[1100], ours[SHA256_LEN], theirs[SHA256_LEN];
	struct sha256	 c;
	size_t		 n, off, step;
	unsigned int	 seed = 20;

	(void)state;
	for (n = 0; n < sizeof(buf); n++)
		buf[n] = (unsigned char)rand_r(&seed);
	for (n = 0; n <= sizeof(buf); n++) {
		sha256_init(&c);
		/* In pieces of 1 to 70 bytes, from the data itself. */
		for (off = 0; off < n; off += step) {
			step = 1 + buf[off] % 70;
			if (step > n - off)
				step = n - off;
			sha256_update(&c, buf + off, step);
		}
		sha256_final(&c, ours);
		assert_int_equal(EVP_Digest(buf, n, theirs, NULL,
		    EVP_sha256(), NULL), 1);
		if (memcmp(ours, theirs, SHA256_LEN) != 0)
			fail_msg("%zu bytes: not OpenSSL's SHA-256", n);
	}
}

/* RFC 4231, section 4: test cases 1-7 (5's MAC is cut to 128 bits). */
static void
test_hmac_rfc4231(void **state)
{
	static const struct {
		unsigned char	 key_byte;	/* 0: 0x01, 0x02... */
		size_t		 keylen;
		const char	*key;		/* instead, if set */
		unsigned char	 data_byte;
		size_t		 datalen;
		const char	*data;		/* instead, if set */
		const char	*mac;
	} v[] = {
		{ 0x0b, 20, NULL, 0, 0, "Hi There",
		    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c"
		    "2e32cff7" },
		{ 0, 0, "Jefe", 0, 0, "what do ya want for nothing?",
		    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b9"
		    "64ec3843" },
		{ 0xaa, 20, NULL, 0xdd, 50, NULL,
		    "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514"
		    "ced565fe" },
		{ 0, 25, NULL, 0xcd, 50, NULL,
		    "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff4"
		    "6729665b" },
		{ 0x0c, 20, NULL, 0, 0, "Test With Truncation",
		    "a3b6167473100ee06e0c796c2955552b" },
		{ 0xaa, 131, NULL, 0, 0, "Test Using Larger Than Block-Size "
		    "Key - Hash Key First",
		    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f"
		    "0ee37f54" },
		{ 0xaa, 131, NULL, 0, 0, "This is a test using a larger than "
		    "block-size key and a larger than block-size data. The "
		    "key needs to be hashed before being used by the HMAC "
		    "algorithm.",
		    "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f5153"
		    "5c3a35e2" },
	};
	unsigned char	 key[131], data[50], mac[SHA256_LEN];
	char		 out[2 * SHA256_LEN + 1];
	const void	*k, *d;
	size_t		 i, j, kl, dl;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		for (j = 0; j < v[i].keylen; j++)
			key[j] = v[i].key_byte != 0 ? v[i].key_byte :
			    (unsigned char)(j + 1);
		k = v[i].key != NULL ? (const void *)v[i].key : key;
		kl = v[i].key != NULL ? strlen(v[i].key) : v[i].keylen;
		memset(data, v[i].data_byte, sizeof(data));
		d = v[i].data != NULL ? (const void *)v[i].data : data;
		dl = v[i].data != NULL ? strlen(v[i].data) : v[i].datalen;
		hmac_sha256(k, kl, d, dl, mac);
		hex(mac, out);
		out[strlen(v[i].mac)] = '\0';
		assert_string_equal(out, v[i].mac);
	}
}

/* Keys of 0 to 200 bytes (either side of the block), messages 0-300. */
static void
test_hmac_as_openssl(void **state)
{
	unsigned char	 buf[300], ours[SHA256_LEN], theirs[EVP_MAX_MD_SIZE];
	unsigned int	 len, seed = 4231;
	size_t		 kl, n;

	(void)state;
	for (n = 0; n < sizeof(buf); n++)
		buf[n] = (unsigned char)rand_r(&seed);
	for (kl = 0; kl <= 200; kl++)
		for (n = 0; n <= sizeof(buf); n += 1 + kl % 7) {
			hmac_sha256(buf + 50, kl, buf, n,
			    ours);
			len = 0;
			assert_non_null(HMAC(EVP_sha256(), buf + 50, (int)kl,
			    buf, n, theirs, &len));
			assert_int_equal(len, SHA256_LEN);
			if (memcmp(ours, theirs, SHA256_LEN) != 0)
				fail_msg("key %zu, message %zu bytes: not "
				    "OpenSSL's HMAC", kl, n);
		}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_as_openssl),
		cmocka_unit_test(test_hmac_rfc4231),
		cmocka_unit_test(test_hmac_as_openssl),
	};

	return cmocka_run_group_tests_name("sha256", tests, NULL, NULL);
}
