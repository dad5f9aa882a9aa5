/*
 * tls_client.h: TLS for the http check's client on the loop
 * (probes/tls_client.c), with OpenSSL's libssl directly.  Every OpenSSL
 * call of the https path is in that one file.
 *
 * A tls_ctx is one CA store (a ca-file, or the system's when NULL),
 * parsed once and shared by every check that names it; the checks' rules
 * hold it and give it back when they are freed (a reload).  A tls_conn is
 * one non-blocking client connection over a socket the caller connected
 * and watches: each call goes as far as the socket allows and says
 * TLS_WANT when it must wait for the socket's next event.
 */
#ifndef RTOWATCH_TLS_CLIENT_H
#define RTOWATCH_TLS_CLIENT_H

#include <stddef.h>
#include <stdint.h>

struct tls_ctx;
struct tls_conn;

#define TLS_DONE	0	/* the step ended */
#define TLS_WANT	1	/* wait for the socket, then call again */
#define TLS_EOF		2	/* read: the server closed the stream */
#define TLS_FAIL	(-1)	/* see the text */
#define TLS_EXPIRED	(-2)	/* handshake: the certificate has expired */

#define TLS_ERR_MAX	160

struct tls_ctx	*tls_ctx_get(const char *, char *, size_t);
void		 tls_ctx_put(struct tls_ctx *);

struct tls_conn	*tls_conn_new(struct tls_ctx *, int, const char *,
		    const char *);
int		 tls_conn_handshake(struct tls_conn *, char *, size_t);
int		 tls_conn_write(struct tls_conn *, const char *, size_t,
		    size_t *, char *, size_t);
int		 tls_conn_read(struct tls_conn *, char *, size_t, size_t *,
		    char *, size_t);
int		 tls_conn_not_after(struct tls_conn *, int64_t *);
void		 tls_conn_free(struct tls_conn *);

#endif
