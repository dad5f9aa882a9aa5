/*
 * check_tcp.h: the pure helpers of the TCP check, exposed for the fuzzer
 * (tests/fuzz/fuzz_tcp.c).  They see what a server sends after the
 * handshake: bytes in any chunks, searched for the expected text, and the
 * first of them quoted in a result.
 */
#ifndef RTOWATCH_CHECK_TCP_H
#define RTOWATCH_CHECK_TCP_H

#include <stddef.h>

#define CHECK_TCP_READ_MAX	4096	/* read at most, looking for expect */
#define CHECK_TCP_EXCERPT_MAX	64	/* quoted of it in a result */

/* What a server has sent so far: the first CHECK_TCP_READ_MAX bytes. */
struct check_tcp_reply {
	size_t	 len;
	char	 buf[CHECK_TCP_READ_MAX];
};

int	check_tcp_reply_add(struct check_tcp_reply *, size_t, const char *,
	    size_t);
void	check_tcp_excerpt(const struct check_tcp_reply *, char *, size_t);

#endif
