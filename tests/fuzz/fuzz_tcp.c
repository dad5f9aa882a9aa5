/*
 * fuzz_tcp.c: libFuzzer harness for what the TCP check makes of a
 * server's words.
 *
 * The input is the expected text up to the first NUL, then what the server
 * sends.  The reply is fed in chunks whose sizes come from the input, as
 * recv() might cut it.  Besides not crashing: the text is found exactly
 * when it lies in the first CHECK_TCP_READ_MAX bytes read at once, the
 * reply never holds more than that, and its quoted excerpt is printable,
 * bounded, without a double quote or a line end.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check_tcp.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct check_tcp_reply	 r;
	const char			*expect = (const char *)data, *reply;
	char				 out[CHECK_TCP_EXCERPT_MAX];
	size_t				 elen, rlen, off, step, whole, i;
	int				 found = 0, want;

	elen = strnlen(expect, size);
	if (elen == size || elen == 0)
		return 0;
	reply = expect + elen + 1;
	rlen = size - elen - 1;

	r.len = 0;
	for (off = 0; off < rlen && !found; off += step) {
		step = 1 + (unsigned char)reply[off] % 13;
		if (step > rlen - off)
			step = rlen - off;
		if (step > sizeof(r.buf) - r.len)
			step = sizeof(r.buf) - r.len;
		if (step == 0)
			break;
		memcpy(r.buf + r.len, reply + off, step);
		found = check_tcp_reply_add(&r, step, expect, elen);
	}
	if (r.len > sizeof(r.buf))
		abort();
	whole = rlen < sizeof(r.buf) ? rlen : sizeof(r.buf);
	want = whole >= elen && memmem(reply, whole, expect, elen) != NULL;
	if (found != want)
		abort();

	check_tcp_excerpt(&r, out, sizeof(out));
	if (strlen(out) >= sizeof(out))
		abort();
	for (i = 0; out[i] != '\0'; i++)
		if (out[i] < ' ' || out[i] > '~' || out[i] == '"')
			abort();
	return 0;
}
