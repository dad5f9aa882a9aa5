/*
 * fuzz_http.c: libFuzzer harness for what the HTTP check parses.
 *
 * A server sends status lines, bodies and certificates; a rules file sends
 * status ranges.  The first byte picks the parser, the rest is its input.
 * Besides not crashing, each parser keeps its promise: a status range
 * lies within 100-599, a reason phrase is printable, a body read in any
 * chunks holds the same bytes as read at once, a parsed expiry date
 * prints as a date, and a plain http:// URL split without libcurl has the
 * parts curl's parser gives it.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "check_http.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_status(const char *s)
{
	int	 lo, hi;

	if (check_http_parse_status(s, &lo, &hi) == 0 &&
	    (lo < 100 || hi > 599 || lo > hi))
		abort();
}

static void
fuzz_status_line(const char *s, size_t n)
{
	char	 reason[CHECK_HTTP_REASON_MAX];
	size_t	 i;
	int	 code;

	if (check_http_status_line(s, n, &code, reason, sizeof(reason)) != 0)
		return;
	if (code < 0 || code > 999 || strlen(reason) >= sizeof(reason))
		abort();
	for (i = 0; reason[i] != '\0'; i++)
		if (!isprint((unsigned char)reason[i]))
			abort();
}

/* The needle is the text up to the first NUL, the body what follows. */
static void
fuzz_body(const char *s, size_t n)
{
	struct check_http_body	 b, whole;
	const char		*needle = s, *body;
	size_t			 nlen = strnlen(s, n), blen, off, step;
	int			 found, expect;

	if (nlen == n)
		return;
	body = s + nlen + 1;
	blen = n - nlen - 1;
	memset(&b, 0, sizeof(b));
	memset(&whole, 0, sizeof(whole));
	b.keep = whole.keep = 1;
	b.limit = whole.limit = 64;	/* small, so the cap is reached */

	/* In chunks whose sizes come from the body itself. */
	for (off = 0; off < blen; off += step) {
		step = 1 + (unsigned char)body[off] % 7;
		if (step > blen - off)
			step = blen - off;
		if (check_http_body_add(&b, body + off, step) < step)
			break;
	}
	if (check_http_body_add(&whole, body, blen) != (blen < 64 ? blen : 64))
		abort();
	if (b.len != whole.len || memcmp(b.buf, whole.buf, b.len) != 0 ||
	    b.capped != whole.capped || b.len > 64)
		abort();
	found = check_http_body_contains(&b, needle);
	expect = nlen == 0 || (b.len >= nlen &&
	    memmem(b.buf, b.len, needle, nlen) != NULL);
	if (found != expect)
		abort();
	check_http_body_free(&b);
	check_http_body_free(&whole);
}

static void
fuzz_date(const char *s)
{
	char	 buf[64];
	int64_t	 t;

	if (check_http_parse_date(s, &t) != 0)
		return;
	/* Years 0000-9999 only. */
	if (t < -62167219200LL || t > 253402300799LL)
		abort();
	check_http_date_fmt(t, buf, sizeof(buf));
	if (buf[0] == '\0')
		abort();
}

/* Whether curl's PART of U is WANT (NULL: none). */
static int
fuzz_url_part(CURLU *u, CURLUPart what, unsigned int flags, const char *want)
{
	char	*part = NULL;
	int	 same;

	if (curl_url_get(u, what, &part, flags) != CURLUE_OK)
		return want == NULL;
	same = want != NULL && strcmp(part, want) == 0;
	curl_free(part);
	return same;
}

static void
fuzz_url(const char *s)
{
	struct check_http_url	 u;
	CURLU			*cu;
	char			 port[8];

	if (check_http_plain_url(s, &u) != 0)
		return;
	if ((cu = curl_url()) == NULL)
		abort();
	snprintf(port, sizeof(port), "%d", u.portnum);
	if (curl_url_set(cu, CURLUPART_URL, s, 0) != CURLUE_OK ||
	    !fuzz_url_part(cu, CURLUPART_HOST, 0, u.host) ||
	    !fuzz_url_part(cu, CURLUPART_PORT, CURLU_NO_DEFAULT_PORT,
	    u.port) ||
	    !fuzz_url_part(cu, CURLUPART_PORT, CURLU_DEFAULT_PORT, port) ||
	    !fuzz_url_part(cu, CURLUPART_PATH, 0, u.path) ||
	    !fuzz_url_part(cu, CURLUPART_QUERY, 0, u.query))
		abort();
	curl_url_cleanup(cu);
	check_http_url_free(&u);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*text;
	size_t	 n;

	if (size < 1)
		return 0;
	n = size - 1;
	if ((text = malloc(n + 1)) == NULL)
		return 0;
	memcpy(text, data + 1, n);
	text[n] = '\0';
	switch (data[0] % 5) {
	case 0:
		fuzz_status(text);
		break;
	case 1:
		fuzz_status_line(text, n);
		break;
	case 2:
		fuzz_body(text, n);
		break;
	case 4:
		fuzz_url(text);
		break;
	default:
		fuzz_date(text);
		break;
	}
	free(text);
	return 0;
}
