/*
 * test_base64.c: the mailer's base64 (common/base64.c) gives RFC 4648's
 * answers and OpenSSL's EVP_EncodeBlock's, which it replaced.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "base64.h"

/* RFC 4648, section 10. */
static void
test_vectors(void **state)
{
	static const char *const v[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" },
		{ "foo", "Zm9v" }, { "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	char	 out[16];
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(base64_encode(out, v[i][0], strlen(v[i][0])),
		    strlen(v[i][1]));
		assert_string_equal(out, v[i][1]);
	}
}

/* Every length to 300, every byte value, the last two of the alphabet. */
static void
test_as_openssl(void **state)
{
	unsigned char	 buf[300];
	char		 ours[BASE64_LEN(sizeof(buf)) + 1];
	unsigned char	 theirs[sizeof(ours)];
	unsigned int	 seed = 4648;
	size_t		 n;

	(void)state;
	for (n = 0; n < sizeof(buf); n++)
		buf[n] = n < 256 ? (unsigned char)(255 - n) :
		    (unsigned char)rand_r(&seed);
	for (n = 0; n <= sizeof(buf); n++) {
		memset(ours, 'x', sizeof(ours));
		assert_int_equal(base64_encode(ours, buf, n), BASE64_LEN(n));
		assert_int_equal(EVP_EncodeBlock(theirs, buf, (int)n),
		    (int)BASE64_LEN(n));
		assert_string_equal(ours, (char *)theirs);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_as_openssl),
	};

	return cmocka_run_group_tests_name("base64", tests, NULL, NULL);
}
