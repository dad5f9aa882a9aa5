/*
 * check_http.h: the pure parsing helpers of the HTTP(S) check, exposed
 * for the fuzzer (tests/fuzz/fuzz_http.c).  They see what a server or a
 * rules file sends us: a status range, a status line, a body, the date a
 * certificate expires.
 */
#ifndef RTOWATCH_CHECK_HTTP_H
#define RTOWATCH_CHECK_HTTP_H

#include <stddef.h>
#include <stdint.h>

#define CHECK_HTTP_BODY_MAX	((size_t)1024 * 1024) /* read for "contains" */
#define CHECK_HTTP_REASON_MAX	64

/* What is kept of a body: at most limit bytes, searched at the end. */
struct check_http_body {
	char	*buf;		/* NULL when nothing is kept */
	size_t	 len;
	size_t	 size;
	size_t	 limit;
	size_t	 seen;		/* bytes received, up to limit */
	int	 keep;		/* 1: store the bytes, 0: count them */
	int	 capped;	/* the limit was reached */
};

/* An HTTP/1.1 response read in pieces (probes/http_resp.c). */
#define HTTP_RESP_LINE_MAX	8192

enum http_resp_state {
	HTTP_RESP_STATUS,
	HTTP_RESP_HEADER,
	HTTP_RESP_BODY,		/* Content-Length bytes */
	HTTP_RESP_CHUNK_SIZE,
	HTTP_RESP_CHUNK_DATA,
	HTTP_RESP_CHUNK_END,
	HTTP_RESP_TRAILER,
	HTTP_RESP_UNTIL_EOF,	/* no length: the body ends with the stream */
	HTTP_RESP_COMPLETE,
	HTTP_RESP_FAILED
};

#define HTTP_RESP_ERROR	(-1)
#define HTTP_RESP_MORE	0
#define HTTP_RESP_DONE	1

struct http_resp {
	enum http_resp_state	 state;
	int			 head;		/* answers a HEAD: no body */
	int			 code;		/* -1 until the status line */
	int			 chunked;
	int			 has_length;
	int			 got_any;	/* a byte was received */
	uint64_t		 left;		/* of the body or the chunk */
	size_t			 head_bytes;
	const char		*error;		/* why, once FAILED */
	char			 reason[CHECK_HTTP_REASON_MAX];
	/*
	 * A line cut between two reads, kept until its end comes; NULL
	 * while none was.  Lines that arrive whole are read where they
	 * are: a fixed 8 kB buffer a probe was 80 MB when 10,000 probes
	 * waited behind a burst of commits.
	 */
	char			*line;
	size_t			 linelen;
	size_t			 linecap;
};

void	http_resp_init(struct http_resp *, int);
void	http_resp_free(struct http_resp *);
int	http_resp_feed(struct http_resp *, const char *, size_t,
	    struct check_http_body *);
int	http_resp_eof(struct http_resp *);

int	check_http_parse_status(const char *, int *, int *);
int	check_http_status_line(const char *, size_t, int *, char *, size_t);
size_t	check_http_body_add(struct check_http_body *, const char *, size_t);
int	check_http_body_contains(const struct check_http_body *,
	    const char *);
void	check_http_body_free(struct check_http_body *);
/* An http[s]:// URL in the parts a request needs (probes/check_http.c). */
struct check_http_url {
	char	*host;		/* as in the URL: "[::1]" with its brackets */
	char	*port;		/* NULL: none given, or 80 */
	char	*path;		/* "/" at least */
	char	*query;		/* without its '?'; NULL: none */
	int	 portnum;	/* 80 (https: 443) when none given */
};
int	check_http_plain_url(const char *, struct check_http_url *);
void	check_http_url_free(struct check_http_url *);

int	check_http_parse_date(const char *, int64_t *);
char	*check_http_date_fmt(int64_t, char *, size_t);

#endif
