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

int	check_http_parse_status(const char *, int *, int *);
int	check_http_status_line(const char *, size_t, int *, char *, size_t);
size_t	check_http_body_add(struct check_http_body *, const char *, size_t);
int	check_http_body_contains(const struct check_http_body *,
	    const char *);
void	check_http_body_free(struct check_http_body *);
int	check_http_parse_date(const char *, int64_t *);
char	*check_http_date_fmt(int64_t, char *, size_t);

#endif
