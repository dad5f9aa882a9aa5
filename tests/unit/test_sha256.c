/*
 * test_sha256.c: the timeline chain's own SHA-256 (common/sha256.c) gives
 * FIPS 180-4's answers and OpenSSL's, for every length across the block
 * boundaries and fed in any pieces.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_as_openssl),
	};

	return cmocka_run_group_tests_name("sha256", tests, NULL, NULL);
}
