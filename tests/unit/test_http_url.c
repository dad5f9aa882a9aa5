/*
 * test_http_url.c: the http:// and https:// URL split without libcurl
 * (check_http_plain_url, so that rules of plain checks never load it)
 * gives the parts curl's own parser gives, for every URL it accepts; and
 * it leaves to curl what curl would rewrite.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "check_http.h"

/* PART of URL as curl gives it, or NULL. */
static char *
curl_part(CURLU *u, CURLUPart what, unsigned int flags)
{
	char	*part = NULL, *copy;

	if (curl_url_get(u, what, &part, flags) != CURLUE_OK)
		return NULL;
	copy = strdup(part);
	curl_free(part);
	return copy;
}

static void
assert_same(const char *what, const char *url, const char *ours,
    const char *curls)
{
	if (ours == NULL && curls == NULL)
		return;
	if (ours == NULL || curls == NULL || strcmp(ours, curls) != 0)
		fail_msg("%s: %s: ours \"%s\", curl's \"%s\"", url, what,
		    ours != NULL ? ours : "(none)",
		    curls != NULL ? curls : "(none)");
}

static void
test_same_as_curl(void **state)
{
	static const char *const urls[] = {
		"http://127.0.0.1/",
		"http://127.0.0.1",
		"http://127.0.0.1:8080/a/b?x=1&y=2",
		"http://127.0.0.1:80/login",
		"HTTP://Example.ORG/Path",
		"http://www.example.org:65535",
		"http://example.org?q",
		"http://example.org/?a=b/c?d",
		"http://[::1]:18080/t/1",
		"http://[2001:db8::1]/",
		"http://host-1.example.org/~user/a;b,c=d!e$f'g(h)*+@:",
		"http://a.b.c/x//y/",
		"http://localhost:1/",
		"http://192.0.2.10/f/99",
		"http://example.org/.well-known/x",
		"http://example.org/a..b/c.d",
		"https://127.0.0.1/",
		"https://127.0.0.1:443/login",
		"https://127.0.0.1:18443/t/1",
		"HTTPS://portal.example.edu:8443/a?b=c",
		"https://[::1]/",
		"https://example.org:80/",
	};
	struct check_http_url	 ours;
	CURLU			*u;
	char			*host, *port, *path, *query, *portnum;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		if (check_http_plain_url(urls[i], &ours) != 0)
			fail_msg("%s: not split without curl", urls[i]);
		assert_non_null(u = curl_url());
		assert_int_equal(curl_url_set(u, CURLUPART_URL, urls[i], 0),
		    CURLUE_OK);
		host = curl_part(u, CURLUPART_HOST, 0);
		port = curl_part(u, CURLUPART_PORT, CURLU_NO_DEFAULT_PORT);
		portnum = curl_part(u, CURLUPART_PORT, CURLU_DEFAULT_PORT);
		path = curl_part(u, CURLUPART_PATH, 0);
		query = curl_part(u, CURLUPART_QUERY, 0);
		assert_same("host", urls[i], ours.host, host);
		assert_same("port", urls[i], ours.port, port);
		assert_non_null(portnum);
		assert_int_equal(ours.portnum, atoi(portnum));
		assert_same("path", urls[i], ours.path, path);
		assert_same("query", urls[i], ours.query, query);
		free(host);
		free(port);
		free(portnum);
		free(path);
		free(query);
		curl_url_cleanup(u);
		check_http_url_free(&ours);
	}
}

/* What curl rewrites, or reads in ways of its own: left to curl. */
static void
test_left_to_curl(void **state)
{
	static const char *const urls[] = {
		"ftp://127.0.0.1/",
		"https:///x",
		"https://user@example.org/",
		"http://",
		"http:///x",
		"http://127.1/",
		"http://0x7f.0.0.1/",
		"http://2130706433/",
		"http://127.000.0.1/",
		"http://[0:0::1]/",
		"http://[fe80::1%25eth0]/",
		"http://[::1/",
		"http://example.org./",
		"http://exa_mple.org/",
		"http://ex..ample.org/",
		"http://user:pw@example.org/",
		"http://example.org/a#frag",
		"http://example.org/%7euser",
		"http://example.org/a/../b",
		"http://example.org/a/./b",
		"http://example.org/..",
		"http://example.org/a b",
		"http://example.org/?",
		"http://example.org:0/",
		"http://example.org:08080/",
		"http://example.org:65536/",
		"http://example.org:99999999999999999999/",
		"http://example.org:/",
		"http://example.org:80x/",
		"http://bücher.example/",
	};
	struct check_http_url	 ours;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++)
		if (check_http_plain_url(urls[i], &ours) != -1)
			fail_msg("%s: split without curl, as host \"%s\" "
			    "path \"%s\"", urls[i], ours.host, ours.path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_as_curl),
		cmocka_unit_test(test_left_to_curl),
	};

	return cmocka_run_group_tests_name("http_url", tests, NULL, NULL);
}
