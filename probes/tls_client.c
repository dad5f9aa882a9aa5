/*
 * tls_client.c: TLS for the http check's client on the loop, with
 * OpenSSL's libssl directly (include/tls_client.h).
 *
 * libcurl's https transfer costs about 130 kB while it runs and brings
 * libcurl's own dependencies into the daemon; at 10,000 https checks
 * that made the daemon twice monit's size (issue 20).  A connection here
 * is an SSL object over the probe's own socket: SSL_MODE_RELEASE_BUFFERS
 * gives its read and write buffers back whenever they are empty, and the
 * CA store, the costly part, is parsed once per CA file and shared by
 * every check naming it (a tls_ctx, held by the checks' rules).
 *
 * What is verified is what curl verifies: the chain against the CA file
 * (or the system's store), the dates, and the name of the URL's host
 * (SSL_set1_host, sent as SNI too) or its address
 * (X509_VERIFY_PARAM_set1_ip_asc).  TLS 1.2 at least.  No session is
 * kept or resumed: each probe sees what a new client would.
 *
 * Every OpenSSL function the daemon's https path calls is in this file,
 * so the list of them is here to read (daemon/lazylib.c forwards them
 * when libssl is loaded lazily).
 */
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tls_client.h"
#include "util.h"

/*
 * One CA store.  A file is known by its path and what stat says of it,
 * so a reload after the file changed reads the new one, while the checks
 * of the old rules keep theirs until they are freed.
 */
struct tls_ctx {
	struct tls_ctx	*next;
	SSL_CTX		*ctx;
	char		*path;		/* NULL: the system's store */
	dev_t		 dev;
	ino_t		 ino;
	off_t		 size;
	struct timespec	 mtime;
	int		 refs;
};

struct tls_conn {
	SSL		*ssl;
	const char	*peer;	/* the name or address verified */
};

static struct tls_ctx	*tls_ctxs;

/* The reason of OpenSSL's last error, or WHAT when it has none. */
static void
tls_err(char *buf, size_t len, const char *prefix, const char *what)
{
	unsigned long	 e = ERR_peek_last_error();
	const char	*r = e != 0 ? ERR_reason_error_string(e) : NULL;

	snprintf(buf, len, "%s%s", prefix, r != NULL ? r : what);
	ERR_clear_error();
}

static int
tls_same_file(const struct tls_ctx *t, const char *path,
    const struct stat *st)
{
	if (t->path == NULL || path == NULL)
		return t->path == NULL && path == NULL;
	return strcmp(t->path, path) == 0 && t->dev == st->st_dev &&
	    t->ino == st->st_ino && t->size == st->st_size &&
	    t->mtime.tv_sec == st->st_mtim.tv_sec &&
	    t->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

/*
 * The store of CA_FILE (NULL: the system's), shared: parsed now if no
 * check holds it yet.  NULL with why in ERR when it cannot be read.
 */
struct tls_ctx *
tls_ctx_get(const char *ca_file, char *err, size_t errlen)
{
	struct tls_ctx	*t;
	struct stat	 st;
	SSL_CTX		*ctx;
	int		 ok;

	memset(&st, 0, sizeof(st));
	if (ca_file != NULL && stat(ca_file, &st) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	for (t = tls_ctxs; t != NULL; t = t->next)
		if (tls_same_file(t, ca_file, &st)) {
			t->refs++;
			return t;
		}

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		tls_err(err, errlen, "", "SSL_CTX_new failed");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* Buffers only while they hold something: most of a probe waits. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	/*
	 * Servers often close without close_notify once their answer is
	 * sent; a body read until the end would otherwise fail.  A body of
	 * a known length is complete before that.
	 */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (ca_file != NULL)
		ok = SSL_CTX_load_verify_locations(ctx, ca_file, NULL);
	else
		ok = SSL_CTX_set_default_verify_paths(ctx);
	if (ok != 1) {
		tls_err(err, errlen, "", "no certificate in it");
		SSL_CTX_free(ctx);
		return NULL;
	}
	t = xcalloc(1, sizeof(*t));
	t->ctx = ctx;
	t->refs = 1;
	if (ca_file != NULL) {
		t->path = xstrdup(ca_file);
		t->dev = st.st_dev;
		t->ino = st.st_ino;
		t->size = st.st_size;
		t->mtime = st.st_mtim;
	}
	t->next = tls_ctxs;
	tls_ctxs = t;
	return t;
}

/* A check gives its store back; the last one frees it. */
void
tls_ctx_put(struct tls_ctx *t)
{
	struct tls_ctx	**pp;

	if (t == NULL || --t->refs > 0)
		return;
	for (pp = &tls_ctxs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	SSL_CTX_free(t->ctx);
	free(t->path);
	free(t);
}

/*
 * A client over FD (connected, non-blocking), for the host NAME (SNI and
 * the name verified) or, when NAME is NULL, the address IP.  Both belong
 * to the check's rules, which outlive its probes.
 */
struct tls_conn *
tls_conn_new(struct tls_ctx *t, int fd, const char *name, const char *ip)
{
	struct tls_conn	*c;
	SSL		*ssl;
	int		 ok;

	ERR_clear_error();
	if ((ssl = SSL_new(t->ctx)) == NULL)
		return NULL;
	if (name != NULL)
		ok = SSL_set_tlsext_host_name(ssl, name) == 1 &&
		    SSL_set1_host(ssl, name) == 1;
	else
		ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
		    ip) == 1;
	if (!ok || SSL_set_fd(ssl, fd) != 1) {
		ERR_clear_error();
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_connect_state(ssl);
	c = xcalloc(1, sizeof(*c));
	c->ssl = ssl;
	c->peer = name != NULL ? name : ip;
	return c;
}

/*
 * What went wrong with the last call, RC its return: TLS_WANT while the
 * socket has to be waited for, else TLS_FAIL with the text in ERR.
 */
static int
tls_why(struct tls_conn *c, int rc, const char *step, char *err,
    size_t errlen)
{
	char	 prefix[48];
	int	 e = SSL_get_error(c->ssl, rc);

	switch (e) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return TLS_WANT;
	case SSL_ERROR_ZERO_RETURN:
		snprintf(err, errlen, "%s: the server closed the connection",
		    step);
		return TLS_EOF;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_last_error() == 0) {
			snprintf(err, errlen, "%s: %s", step, errno != 0 ?
			    strerror(errno) : "the server closed the "
			    "connection");
			return TLS_FAIL;
		}
		break;
	default:
		break;
	}
	snprintf(prefix, sizeof(prefix), "%s: ", step);
	tls_err(err, errlen, prefix, "TLS error");
	return TLS_FAIL;
}

/*
 * Go on with the handshake: TLS_DONE when it ended with the certificate
 * verified, TLS_WANT, or TLS_FAIL / TLS_EXPIRED with why in ERR.
 */
int
tls_conn_handshake(struct tls_conn *c, char *err, size_t errlen)
{
	long	 v;
	int	 rc;

	ERR_clear_error();
	errno = 0;
	if ((rc = SSL_do_handshake(c->ssl)) == 1)
		return TLS_DONE;
	v = SSL_get_verify_result(c->ssl);
	if (v == X509_V_ERR_CERT_HAS_EXPIRED) {
		ERR_clear_error();
		snprintf(err, errlen, "certificate verify failed: %s",
		    X509_verify_cert_error_string(v));
		return TLS_EXPIRED;
	}
	if (v == X509_V_ERR_HOSTNAME_MISMATCH ||
	    v == X509_V_ERR_IP_ADDRESS_MISMATCH) {
		ERR_clear_error();
		snprintf(err, errlen, "certificate verify failed: %s: the "
		    "certificate is not for %s",
		    X509_verify_cert_error_string(v), c->peer);
		return TLS_FAIL;
	}
	if (v != X509_V_OK) {
		ERR_clear_error();
		snprintf(err, errlen, "certificate verify failed: %s",
		    X509_verify_cert_error_string(v));
		return TLS_FAIL;
	}
	rc = tls_why(c, rc, "TLS handshake failed", err, errlen);
	return rc == TLS_EOF ? TLS_FAIL : rc;
}

/* Send what the connection takes of BUF; *DONE grows by it. */
int
tls_conn_write(struct tls_conn *c, const char *buf, size_t len,
    size_t *done, char *err, size_t errlen)
{
	size_t	 n;
	int	 rc;

	while (*done < len) {
		ERR_clear_error();
		errno = 0;
		rc = SSL_write_ex(c->ssl, buf + *done, len - *done, &n);
		if (rc != 1) {
			rc = tls_why(c, rc, "Send failure", err, errlen);
			return rc == TLS_EOF ? TLS_FAIL : rc;
		}
		*done += n;
	}
	return TLS_DONE;
}

/* Read up to LEN bytes: TLS_DONE with *GOT > 0, TLS_WANT, TLS_EOF. */
int
tls_conn_read(struct tls_conn *c, char *buf, size_t len, size_t *got,
    char *err, size_t errlen)
{
	int	 rc;

	ERR_clear_error();
	errno = 0;
	*got = 0;
	if ((rc = SSL_read_ex(c->ssl, buf, len, got)) == 1)
		return TLS_DONE;
	return tls_why(c, rc, "Recv failure", err, errlen);
}

/*
 * The server's certificate's notAfter, as epoch seconds.  Its chain is
 * kept even when verification failed, so an expired one can be dated.
 */
int
tls_conn_not_after(struct tls_conn *c, int64_t *when)
{
	STACK_OF(X509)	*chain = SSL_get_peer_cert_chain(c->ssl);
	X509		*leaf = SSL_get0_peer_certificate(c->ssl);
	struct tm	 tm;

	if (leaf == NULL && chain != NULL && sk_X509_num(chain) > 0)
		leaf = sk_X509_value(chain, 0);
	if (leaf == NULL)
		return -1;
	memset(&tm, 0, sizeof(tm));
	if (ASN1_TIME_to_tm(X509_get0_notAfter(leaf), &tm) != 1)
		return -1;
	*when = (int64_t)timegm(&tm);
	return 0;
}

/* Without a shutdown: the probe hangs up as it does over plain TCP. */
void
tls_conn_free(struct tls_conn *c)
{
	if (c == NULL)
		return;
	SSL_free(c->ssl);
	free(c);
}
