/*
 * test_tls_client.c: the https client's CA stores (probes/tls_client.c).
 * One store per CA file, parsed once and shared by every check naming
 * it; a file changed since is parsed again (a reload after the operator
 * replaced it), while the old store lives on until its last check lets
 * it go.  A file that cannot be read, or holds no certificate, says why.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tls_client.h"

/* Two self-signed CA certificates (EC P-256, valid 100 years). */
static const char ca_a[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBkjCCATegAwIBAgIUMUiQyuKifwSj2eejHhmCTGM4Vt4wCgYIKoZIzj0EAwIw\n"
	"HTEbMBkGA1UEAwwScnRvd2F0Y2ggdW5pdCBDQSBhMCAXDTI2MTIwMzE4NDEzMloY\n"
	"DzIxMjYxMTA5MTg0MTMyWjAdMRswGQYDVQQDDBJydG93YXRjaCB1bml0IENBIGEw\n"
	"WTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQhy19IOeN9U1m+Tat/gCTkiK696wNE\n"
	"H40j/FcgaBJDhaEAJIUnSDmuMkPVN+oQjokfdku43fFBkD7thGI2/x7eo1MwUTAd\n"
	"BgNVHQ4EFgQUlTrK20FZhwVAGiyI31SUaXKxkb8wHwYDVR0jBBgwFoAUlTrK20FZ\n"
	"hwVAGiyI31SUaXKxkb8wDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNJADBG\n"
	"AiEAqiJSPAlFAr6AE9j8o5vjF1z0Xo2890mNBnEwjEaRYpQCIQDUqMVx/3m0lw5T\n"
	"jVI62VEg+gbqwfvCOmzycrUHyPJQAA==\n"
	"-----END CERTIFICATE-----\n";
static const char ca_b[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBkTCCATegAwIBAgIUdgj+b0ryQMXIvvvQyRsVAIz3A4owCgYIKoZIzj0EAwIw\n"
	"HTEbMBkGA1UEAwwScnRvd2F0Y2ggdW5pdCBDQSBiMCAXDTI2MTIwMzE4NDEzMloY\n"
	"DzIxMjYxMTA5MTg0MTMyWjAdMRswGQYDVQQDDBJydG93YXRjaCB1bml0IENBIGIw\n"
	"WTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASzPGdYzvS6JyYvA17LvSiuHN73rr7h\n"
	"ENNowAqXEFJ0gaiGasH989jPrHURNYRyKpftHp4YuD+BToeQPE+hg4+Uo1MwUTAd\n"
	"BgNVHQ4EFgQU3z4iP0gZetHFlSJwwAMKfvu0HV8wHwYDVR0jBBgwFoAU3z4iP0gZ\n"
	"etHFlSJwwAMKfvu0HV8wDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBF\n"
	"AiB98asLadVsyJZpp2ay0FTkg9E70N4Zt3I4zb6emA2iKgIhALRyDHhCWLYy88un\n"
	"nc1VmwGUko82kh3EReDbRNXqMFQZ\n"
	"-----END CERTIFICATE-----\n";

static void
write_file(const char *path, const char *text)
{
	FILE	*f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void
test_shared_then_reread(void **state)
{
	char		 dir[] = "/tmp/test_tls_client.XXXXXX", path[64], err[160];
	struct tls_ctx	*t1, *t2, *t3;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ca.pem", dir);
	write_file(path, ca_a);

	assert_non_null(t1 = tls_ctx_get(path, err, sizeof(err)));
	assert_ptr_equal(t2 = tls_ctx_get(path, err, sizeof(err)), t1);

	/* The operator replaces the file: the next rules get a new store. */
	write_file(path, ca_b);
	assert_non_null(t3 = tls_ctx_get(path, err, sizeof(err)));
	assert_ptr_not_equal(t3, t1);

	tls_ctx_put(t1);
	tls_ctx_put(t2);	/* the old store is freed here */
	tls_ctx_put(t3);
	unlink(path);
	rmdir(dir);
}

static void
test_unreadable(void **state)
{
	char	 dir[] = "/tmp/test_tls_client.XXXXXX", path[64], err[160];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/missing.pem", dir);
	assert_null(tls_ctx_get(path, err, sizeof(err)));
	assert_string_equal(err, "No such file or directory");

	write_file(path, "not a certificate\n");
	err[0] = '\0';
	assert_null(tls_ctx_get(path, err, sizeof(err)));
	assert_true(err[0] != '\0');
	unlink(path);
	rmdir(dir);
}

static void
test_system_store(void **state)
{
	char		 err[160];
	struct tls_ctx	*t1, *t2;

	(void)state;
	assert_non_null(t1 = tls_ctx_get(NULL, err, sizeof(err)));
	assert_ptr_equal(t2 = tls_ctx_get(NULL, err, sizeof(err)), t1);
	tls_ctx_put(t2);
	tls_ctx_put(t1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared_then_reread),
		cmocka_unit_test(test_unreadable),
		cmocka_unit_test(test_system_store),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
