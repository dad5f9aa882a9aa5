/*
 * http_resp.c: an HTTP/1.1 response read incrementally, for the plain
 * http:// probe on the loop (check_http.c).
 *
 * It takes what a server sends in any pieces: the status line, headers
 * (interim 1xx answers skipped), then the body framed by Content-Length,
 * chunked transfer coding, or the end of the connection, into a
 * check_http_body.  It keeps at most one header line, one cut between
 * reads, and counts the rest, so a hostile server costs at most
 * HTTP_RESP_LINE_MAX bytes; it
 * never trusts a length it did not check.  No I/O here: tests/fuzz/
 * fuzz_http_resp.c feeds it anything, in any cuts.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check_http.h"
#include "util.h"

#define HTTP_RESP_HEAD_MAX	((size_t)256 * 1024)	/* all header lines */

void
http_resp_init(struct http_resp *r, int head)
{
	memset(r, 0, sizeof(*r));
	r->state = HTTP_RESP_STATUS;
	r->head = head;
	r->code = -1;
}

void
http_resp_free(struct http_resp *r)
{
	free(r->line);
	r->line = NULL;
	r->linelen = r->linecap = 0;
}

/* Keep N more bytes of a line cut between reads (checked: at most MAX). */
static void
http_resp_keep(struct http_resp *r, const char *data, size_t n)
{
	size_t	 cap;

	if (r->linelen + n > r->linecap) {
		for (cap = r->linecap > 0 ? r->linecap : 256;
		    cap < r->linelen + n; cap *= 2)
			;
		if (cap > HTTP_RESP_LINE_MAX)
			cap = HTTP_RESP_LINE_MAX;
		r->line = xrealloc(r->line, cap);
		r->linecap = cap;
	}
	memcpy(r->line + r->linelen, data, n);
	r->linelen += n;
}

static int
http_resp_fail(struct http_resp *r, const char *why)
{
	r->state = HTTP_RESP_FAILED;
	r->error = why;
	return HTTP_RESP_ERROR;
}

/* A decimal Content-Length, nothing else but spaces around it. */
static int
http_resp_length(const char *s, size_t n, uint64_t *out)
{
	uint64_t	 v = 0;
	size_t		 i = 0;
	int		 digits = 0;

	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	for (; i < n && isdigit((unsigned char)s[i]); i++, digits++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (digits == 0 || i != n)
		return -1;
	*out = v;
	return 0;
}

/* The header's name is NAME (case aside); VALUE is what follows ':'. */
static int
http_resp_header_is(const char *line, size_t n, const char *name,
    const char **value, size_t *vlen)
{
	size_t	 k = strlen(name);

	if (n <= k || line[k] != ':' || strncasecmp(line, name, k) != 0)
		return 0;
	*value = line + k + 1;
	*vlen = n - k - 1;
	return 1;
}

/* The blank line after the headers: what frames the body. */
static int
http_resp_headers_end(struct http_resp *r)
{
	if (r->code >= 100 && r->code < 200) {
		/* An interim answer (100 Continue): the real one follows. */
		r->state = HTTP_RESP_STATUS;
		r->chunked = r->has_length = 0;
		r->code = -1;
		return HTTP_RESP_MORE;
	}
	if (r->head || r->code == 204 || r->code == 304) {
		r->state = HTTP_RESP_COMPLETE;
		return HTTP_RESP_DONE;
	}
	if (r->chunked)
		r->state = HTTP_RESP_CHUNK_SIZE;
	else if (r->has_length) {
		r->state = r->left == 0 ? HTTP_RESP_COMPLETE : HTTP_RESP_BODY;
		if (r->left == 0)
			return HTTP_RESP_DONE;
	} else
		r->state = HTTP_RESP_UNTIL_EOF;
	return HTTP_RESP_MORE;
}

static int
http_resp_header(struct http_resp *r, const char *line, size_t n)
{
	const char	*v;
	size_t		 vlen;
	uint64_t	 len;

	if (n == 0)
		return http_resp_headers_end(r);
	if (line[0] == ' ' || line[0] == '\t')
		return HTTP_RESP_MORE;	/* obsolete folding: nothing we use */
	if (http_resp_header_is(line, n, "Content-Length", &v, &vlen)) {
		if (http_resp_length(v, vlen, &len) == -1)
			return http_resp_fail(r, "bad Content-Length header");
		if (r->has_length && len != r->left)
			return http_resp_fail(r, "conflicting Content-Length "
			    "headers");
		r->has_length = 1;
		r->left = len;
	} else if (http_resp_header_is(line, n, "Transfer-Encoding", &v,
	    &vlen)) {
		/* chunked is last when present (RFC 9112, 6.1). */
		while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
			vlen--;
		r->chunked = vlen >= 7 &&
		    strncasecmp(v + vlen - 7, "chunked", 7) == 0;
	}
	return HTTP_RESP_MORE;
}

/* A chunk's size line: hex digits, then maybe ";extensions". */
static int
http_resp_chunk_size(struct http_resp *r, const char *line, size_t n)
{
	uint64_t	 v = 0;
	size_t		 i;
	int		 d;

	for (i = 0; i < n && isxdigit((unsigned char)line[i]); i++) {
		if (v > (UINT64_MAX >> 4))
			return http_resp_fail(r, "chunk size too large");
		d = isdigit((unsigned char)line[i]) ? line[i] - '0' :
		    (tolower((unsigned char)line[i]) - 'a' + 10);
		v = (v << 4) | (uint64_t)d;
	}
	if (i == 0 || (i < n && line[i] != ';' && line[i] != ' ' &&
	    line[i] != '\t'))
		return http_resp_fail(r, "bad chunk size");
	r->left = v;
	r->state = v == 0 ? HTTP_RESP_TRAILER : HTTP_RESP_CHUNK_DATA;
	return HTTP_RESP_MORE;
}

/* One complete line, CR and LF gone, in the state that wants lines. */
static int
http_resp_line(struct http_resp *r, const char *line, size_t n)
{
	switch (r->state) {
	case HTTP_RESP_STATUS:
		if (check_http_status_line(line, n, &r->code, r->reason,
		    sizeof(r->reason)) == -1 || r->code < 100)
			return http_resp_fail(r, "not an HTTP response");
		r->state = HTTP_RESP_HEADER;
		return HTTP_RESP_MORE;
	case HTTP_RESP_HEADER:
		return http_resp_header(r, line, n);
	case HTTP_RESP_CHUNK_SIZE:
		return http_resp_chunk_size(r, line, n);
	case HTTP_RESP_CHUNK_END:
		if (n != 0)
			return http_resp_fail(r, "no CRLF after a chunk");
		r->state = HTTP_RESP_CHUNK_SIZE;
		return HTTP_RESP_MORE;
	case HTTP_RESP_TRAILER:
		if (n != 0)
			return HTTP_RESP_MORE;
		r->state = HTTP_RESP_COMPLETE;
		return HTTP_RESP_DONE;
	default:
		return http_resp_fail(r, "a line where none was due");
	}
}

/* Body bytes; DONE when the body is complete or the cap reached. */
static int
http_resp_body(struct http_resp *r, const char *data, size_t n,
    struct check_http_body *body, size_t *used)
{
	size_t	 take = n;

	if (r->state != HTTP_RESP_UNTIL_EOF && take > r->left)
		take = (size_t)r->left;
	*used = take;
	if (check_http_body_add(body, data, take) < take || body->capped) {
		r->state = HTTP_RESP_COMPLETE;	/* read what counts */
		return HTTP_RESP_DONE;
	}
	if (r->state == HTTP_RESP_UNTIL_EOF)
		return HTTP_RESP_MORE;
	r->left -= take;
	if (r->left > 0)
		return HTTP_RESP_MORE;
	if (r->state == HTTP_RESP_CHUNK_DATA) {
		r->state = HTTP_RESP_CHUNK_END;
		return HTTP_RESP_MORE;
	}
	r->state = HTTP_RESP_COMPLETE;
	return HTTP_RESP_DONE;
}

int
http_resp_feed(struct http_resp *r, const char *data, size_t n,
    struct check_http_body *body)
{
	const char	*nl, *line;
	size_t		 used, len;
	int		 rc;

	while (n > 0) {
		if (r->state == HTTP_RESP_COMPLETE)
			return HTTP_RESP_DONE;
		if (r->state == HTTP_RESP_FAILED)
			return HTTP_RESP_ERROR;
		r->got_any = 1;
		if (r->state == HTTP_RESP_BODY ||
		    r->state == HTTP_RESP_CHUNK_DATA ||
		    r->state == HTTP_RESP_UNTIL_EOF) {
			rc = http_resp_body(r, data, n, body, &used);
			data += used;
			n -= used;
			if (rc != HTTP_RESP_MORE)
				return rc;
			continue;
		}
		/*
		 * A line: up to its LF.  Read where it is when it came
		 * whole, else kept until complete.
		 */
		nl = memchr(data, '\n', n);
		len = nl != NULL ? (size_t)(nl - data) : n;
		if (len > HTTP_RESP_LINE_MAX - r->linelen)
			return http_resp_fail(r, "a header line too long");
		r->head_bytes += len + (nl != NULL);
		if (r->head_bytes > HTTP_RESP_HEAD_MAX)
			return http_resp_fail(r, "headers too long");
		if (nl == NULL || r->linelen > 0)
			http_resp_keep(r, data, len);
		if (nl == NULL)
			return HTTP_RESP_MORE;
		line = data;
		data += len + 1;
		n -= len + 1;
		if (r->linelen > 0) {
			line = r->line;
			len = r->linelen;
			r->linelen = 0;
		}
		if (len > 0 && line[len - 1] == '\r')
			len--;
		if ((rc = http_resp_line(r, line, len)) != HTTP_RESP_MORE)
			return rc;
	}
	return r->state == HTTP_RESP_COMPLETE ? HTTP_RESP_DONE :
	    HTTP_RESP_MORE;
}

/* The server closed the connection: complete, or cut short. */
int
http_resp_eof(struct http_resp *r)
{
	switch (r->state) {
	case HTTP_RESP_COMPLETE:
	case HTTP_RESP_UNTIL_EOF:
		r->state = HTTP_RESP_COMPLETE;
		return HTTP_RESP_DONE;
	case HTTP_RESP_FAILED:
		return HTTP_RESP_ERROR;
	case HTTP_RESP_STATUS:
		if (!r->got_any)
			return http_resp_fail(r, "Empty reply from server");
		/* FALLTHROUGH */
	default:
		return http_resp_fail(r, "the server closed the connection "
		    "before the response ended");
	}
}
