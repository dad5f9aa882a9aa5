/*
 * fuzz_http_resp.c: libFuzzer harness for the plain HTTP probe's response
 * reader (probes/http_resp.c), which reads whatever a server sends.
 *
 * The first byte picks HEAD or GET and the size of the pieces; the rest is
 * the server's bytes, then the end of the connection.  Besides not
 * crashing: read in pieces, the response ends the same way, with the same
 * status, reason and body as read at once; a finished response has a
 * status within 100-999 and a printable reason, a failed one says why, and
 * the body never passes its limit.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check_http.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Read DATA in pieces of STEP (all at once for 0): the outcome. */
static int
fuzz_read(struct http_resp *r, struct check_http_body *b, int head,
    const char *data, size_t n, size_t step)
{
	size_t	 off = 0, k;
	int	 rc = HTTP_RESP_MORE;

	memset(b, 0, sizeof(*b));
	b->limit = 4096;	/* small, to reach the cap */
	b->keep = 1;
	http_resp_init(r, head);
	while (off < n && rc == HTTP_RESP_MORE) {
		k = step == 0 || n - off < step ? n - off : step;
		rc = http_resp_feed(r, data + off, k, b);
		off += k;
	}
	if (rc == HTTP_RESP_MORE)
		rc = http_resp_eof(r);
	return rc;
}

static void
fuzz_check(const struct http_resp *r, const struct check_http_body *b,
    int rc)
{
	size_t	 i;

	if (rc != HTTP_RESP_DONE && rc != HTTP_RESP_ERROR)
		abort();
	if (rc == HTTP_RESP_ERROR && (r->error == NULL || *r->error == '\0'))
		abort();
	if (rc == HTTP_RESP_DONE && (r->code < 100 || r->code > 999))
		abort();
	if (b->len > b->limit || b->seen > b->limit || b->len > b->seen)
		abort();
	for (i = 0; r->reason[i] != '\0'; i++)
		if (!isprint((unsigned char)r->reason[i]))
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http_resp	 whole, cut;
	struct check_http_body	 bw, bc;
	const char		*s = (const char *)data + 1;
	size_t			 n, step;
	int			 head, rw, rc;

	if (size < 1)
		return 0;
	head = data[0] & 1;
	step = (size_t)(data[0] >> 1) + 1;
	n = size - 1;
	rw = fuzz_read(&whole, &bw, head, s, n, 0);
	rc = fuzz_read(&cut, &bc, head, s, n, step);
	fuzz_check(&whole, &bw, rw);
	fuzz_check(&cut, &bc, rc);
	if (rw != rc || whole.code != cut.code ||
	    strcmp(whole.reason, cut.reason) != 0 || bw.len != bc.len ||
	    (bw.len > 0 && memcmp(bw.buf, bc.buf, bw.len) != 0))
		abort();
	check_http_body_free(&bw);
	check_http_body_free(&bc);
	http_resp_free(&whole);
	http_resp_free(&cut);
	return 0;
}
