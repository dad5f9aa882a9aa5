/*
 * lazylib.c: rtowatchd's libcurl, libpq, OpenSSL, libpcap and libpam, by
 * dlopen when the rules need them (include/lazylib.h says when and why).
 *
 * The daemon is linked without either library, and this file defines the
 * functions of theirs it calls, under their own names and with their own
 * prototypes (from their headers, so the compiler checks each against the
 * library's declaration).  Each forwards to the library's function, found
 * by dlsym when the library is loaded.  The daemon's code calls libcurl
 * and libpq as if linked: one file knows they are not, the unit tests and
 * fuzzers link the libraries and leave this file out.
 *
 * Why not an explicit table of pointers at every call: 60 call sites in
 * five files would change, for nothing a reader of them needs to know.
 * Why not weak symbols or a link-time switch: the dynamic linker still
 * maps a DT_NEEDED library at start; only dlopen defers it.
 *
 * Every symbol is looked up at load, so a library too old for one fails
 * then, with the rules, not at its first call.  Loading happens in the
 * main thread while the rules are read, before the mailer's threads
 * exist; the pointers never change after, so the threads read them
 * without a lock.  A call before any load (a path the parser did not
 * foresee) loads there, and exits if it cannot: the caller has no way to
 * go on without the library.
 *
 * curl_easy_setopt, curl_multi_setopt and curl_easy_getinfo are variadic:
 * the one argument is read by the type curl gives the option's number
 * range (CURLOPTTYPE_*), as curl itself reads it; getinfo's is always a
 * pointer to the answer.
 */
#define CURL_DISABLE_TYPECHECK	/* its macros would hide our definitions */

#include <curl/curl.h>
#include <event2/bufferevent_ssl.h>
#include <libpq-fe.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pcap/pcap.h>
#include <security/pam_appl.h>

#include <sys/mman.h>

#include <dlfcn.h>
#include <link.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lazylib.h"
#include "log.h"

/* X(return type, name, (parameters), (arguments)); XV for void. */
#define LAZYLIB_CURL_FNS(X, XV)						\
	X(CURLcode, curl_global_init, (long flags), (flags))		\
	XV(curl_global_cleanup, (void), ())				\
	X(curl_version_info_data *, curl_version_info,			\
	    (CURLversion v), (v))					\
	X(CURL *, curl_easy_init, (void), ())				\
	XV(curl_easy_cleanup, (CURL *e), (e))				\
	X(CURLcode, curl_easy_perform, (CURL *e), (e))			\
	X(const char *, curl_easy_strerror, (CURLcode c), (c))		\
	X(CURLM *, curl_multi_init, (void), ())				\
	X(CURLMcode, curl_multi_cleanup, (CURLM *m), (m))		\
	X(CURLMcode, curl_multi_add_handle, (CURLM *m, CURL *e), (m, e)) \
	X(CURLMcode, curl_multi_remove_handle, (CURLM *m, CURL *e),	\
	    (m, e))							\
	X(CURLMcode, curl_multi_assign,					\
	    (CURLM *m, curl_socket_t fd, void *sp), (m, fd, sp))	\
	X(CURLMsg *, curl_multi_info_read, (CURLM *m, int *left),	\
	    (m, left))							\
	X(CURLMcode, curl_multi_socket_action,				\
	    (CURLM *m, curl_socket_t fd, int ev, int *running),	\
	    (m, fd, ev, running))					\
	X(const char *, curl_multi_strerror, (CURLMcode c), (c))	\
	X(struct curl_slist *, curl_slist_append,			\
	    (struct curl_slist *l, const char *s), (l, s))		\
	XV(curl_slist_free_all, (struct curl_slist *l), (l))		\
	XV(curl_free, (void *ptr), (ptr))				\
	X(CURLU *, curl_url, (void), ())				\
	XV(curl_url_cleanup, (CURLU *u), (u))				\
	X(CURLUcode, curl_url_get,					\
	    (CURLU *u, CURLUPart w, char **part, unsigned int fl),	\
	    (u, w, part, fl))						\
	X(CURLUcode, curl_url_set,					\
	    (CURLU *u, CURLUPart w, const char *part, unsigned int fl),	\
	    (u, w, part, fl))						\
	X(const char *, curl_url_strerror, (CURLUcode c), (c))		\
	LAZYLIB_VARIADIC(curl_easy_setopt)				\
	LAZYLIB_VARIADIC(curl_multi_setopt)				\
	LAZYLIB_VARIADIC(curl_easy_getinfo)

#define LAZYLIB_PQ_FNS(X, XV)						\
	X(PGconn *, PQconnectdbParams, (const char *const *k,		\
	    const char *const *v, int expand), (k, v, expand))		\
	X(PGconn *, PQconnectStartParams, (const char *const *k,	\
	    const char *const *v, int expand), (k, v, expand))		\
	X(PostgresPollingStatusType, PQconnectPoll, (PGconn *c), (c))	\
	XV(PQfinish, (PGconn *c), (c))					\
	X(ConnStatusType, PQstatus, (const PGconn *c), (c))		\
	X(PGTransactionStatusType, PQtransactionStatus,		\
	    (const PGconn *c), (c))					\
	X(char *, PQerrorMessage, (const PGconn *c), (c))		\
	X(char *, PQhost, (const PGconn *c), (c))			\
	X(char *, PQport, (const PGconn *c), (c))			\
	X(int, PQsocket, (const PGconn *c), (c))			\
	X(int, PQserverVersion, (const PGconn *c), (c))		\
	X(PQconninfoOption *, PQconninfo, (PGconn *c), (c))		\
	X(PQconninfoOption *, PQconninfoParse,				\
	    (const char *s, char **err), (s, err))			\
	XV(PQconninfoFree, (PQconninfoOption *o), (o))			\
	X(int, PQsetnonblocking, (PGconn *c, int arg), (c, arg))	\
	X(int, PQflush, (PGconn *c), (c))				\
	X(int, PQconsumeInput, (PGconn *c), (c))			\
	X(int, PQisBusy, (PGconn *c), (c))				\
	X(int, PQenterPipelineMode, (PGconn *c), (c))		\
	X(int, PQexitPipelineMode, (PGconn *c), (c))		\
	X(int, PQpipelineSync, (PGconn *c), (c))			\
	X(PGresult *, PQexec, (PGconn *c, const char *q), (c, q))	\
	X(int, PQsendQuery, (PGconn *c, const char *q), (c, q))	\
	X(int, PQsendQueryParams, (PGconn *c, const char *q, int n,	\
	    const Oid *types, const char *const *values,		\
	    const int *lengths, const int *formats, int rformat),	\
	    (c, q, n, types, values, lengths, formats, rformat))	\
	X(PGresult *, PQgetResult, (PGconn *c), (c))			\
	XV(PQclear, (PGresult *r), (r))				\
	X(ExecStatusType, PQresultStatus, (const PGresult *r), (r))	\
	X(char *, PQresultErrorMessage, (const PGresult *r), (r))	\
	X(char *, PQresultErrorField, (const PGresult *r, int f),	\
	    (r, f))							\
	X(char *, PQcmdTuples, (PGresult *r), (r))			\
	X(int, PQntuples, (const PGresult *r), (r))			\
	X(int, PQnfields, (const PGresult *r), (r))			\
	X(char *, PQfname, (const PGresult *r, int f), (r, f))		\
	X(Oid, PQftype, (const PGresult *r, int f), (r, f))		\
	X(char *, PQgetvalue, (const PGresult *r, int t, int f),	\
	    (r, t, f))							\
	X(int, PQgetlength, (const PGresult *r, int t, int f),		\
	    (r, t, f))							\
	X(int, PQgetisnull, (const PGresult *r, int t, int f),		\
	    (r, t, f))							\
	X(char *, PQescapeLiteral, (PGconn *c, const char *s,		\
	    size_t n), (c, s, n))					\
	XV(PQfreemem, (void *ptr), (ptr))

/*
 * OpenSSL's libssl and libcrypto, and libevent's bufferevents over them:
 * the web page's HTTPS (daemon/web.c) and the https checks' client
 * (probes/tls_client.c).  One group, loaded together: a
 * user of one wants the others, and libevent_openssl needs both anyway.
 * An OpenSSL function new to the daemon is one line here (its prototype
 * from its header; SSL_CTX_set_* and the like are macros over SSL_CTX_ctrl
 * or SSL_ctrl: forward those).  Symbols are looked up through
 * libevent_openssl's handle, which sees libssl and libcrypto behind it.
 */
#define LAZYLIB_TLS_FNS(X, XV)						\
	X(const SSL_METHOD *, TLS_server_method, (void), ())		\
	X(SSL_CTX *, SSL_CTX_new, (const SSL_METHOD *m), (m))		\
	XV(SSL_CTX_free, (SSL_CTX *c), (c))				\
	X(long, SSL_CTX_ctrl, (SSL_CTX *c, int cmd, long larg,		\
	    void *parg), (c, cmd, larg, parg))				\
	X(int, SSL_CTX_use_certificate_chain_file, (SSL_CTX *c,	\
	    const char *file), (c, file))				\
	X(int, SSL_CTX_use_PrivateKey_file, (SSL_CTX *c,		\
	    const char *file, int type), (c, file, type))		\
	X(int, SSL_CTX_check_private_key, (const SSL_CTX *c), (c))	\
	X(SSL *, SSL_new, (SSL_CTX *c), (c))				\
	X(unsigned long, ERR_get_error, (void), ())			\
	X(const char *, ERR_reason_error_string, (unsigned long e), (e)) \
	X(struct bufferevent *, bufferevent_openssl_socket_new,	\
	    (struct event_base *base, evutil_socket_t fd, SSL *ssl,	\
	    enum bufferevent_ssl_state state, int options),		\
	    (base, fd, ssl, state, options))				\
	LAZYLIB_TLS_CLIENT_FNS(X, XV)

/* The https checks' client on the loop (probes/tls_client.c). */
#define LAZYLIB_TLS_CLIENT_FNS(X, XV)					\
	X(const SSL_METHOD *, TLS_client_method, (void), ())		\
	X(uint64_t, SSL_CTX_set_options, (SSL_CTX *c, uint64_t op),	\
	    (c, op))							\
	XV(SSL_CTX_set_verify, (SSL_CTX *c, int mode,			\
	    SSL_verify_cb cb), (c, mode, cb))				\
	X(int, SSL_CTX_load_verify_locations, (SSL_CTX *c,		\
	    const char *file, const char *path), (c, file, path))	\
	X(int, SSL_CTX_set_default_verify_paths, (SSL_CTX *c), (c))	\
	XV(SSL_free, (SSL *s), (s))					\
	X(long, SSL_ctrl, (SSL *s, int cmd, long larg, void *parg),	\
	    (s, cmd, larg, parg))					\
	X(int, SSL_set1_host, (SSL *s, const char *host), (s, host))	\
	X(X509_VERIFY_PARAM *, SSL_get0_param, (SSL *s), (s))		\
	X(int, SSL_set_fd, (SSL *s, int fd), (s, fd))			\
	XV(SSL_set_connect_state, (SSL *s), (s))			\
	X(int, SSL_do_handshake, (SSL *s), (s))				\
	X(int, SSL_get_error, (const SSL *s, int rc), (s, rc))		\
	X(long, SSL_get_verify_result, (const SSL *s), (s))		\
	X(int, SSL_write_ex, (SSL *s, const void *buf, size_t n,	\
	    size_t *done), (s, buf, n, done))				\
	X(int, SSL_read_ex, (SSL *s, void *buf, size_t n,		\
	    size_t *done), (s, buf, n, done))				\
	X(STACK_OF(X509) *, SSL_get_peer_cert_chain, (const SSL *s),	\
	    (s))							\
	X(X509 *, SSL_get0_peer_certificate, (const SSL *s), (s))	\
	XV(ERR_clear_error, (void), ())					\
	X(unsigned long, ERR_peek_last_error, (void), ())		\
	X(int, X509_VERIFY_PARAM_set1_ip_asc, (X509_VERIFY_PARAM *vp,	\
	    const char *ip), (vp, ip))					\
	X(const char *, X509_verify_cert_error_string, (long n), (n))	\
	X(const ASN1_TIME *, X509_get0_notAfter, (const X509 *x), (x))	\
	X(int, ASN1_TIME_to_tm, (const ASN1_TIME *t, struct tm *tm),	\
	    (t, tm))							\
	X(int, OPENSSL_sk_num, (const OPENSSL_STACK *st), (st))	\
	X(void *, OPENSSL_sk_value, (const OPENSSL_STACK *st, int i),	\
	    (st, i))

/*
 * libpcap (and the libdbus it links, and libsystemd behind that): the
 * anomaly blocks' capture (daemon/capture.c, daemon/conf_anomaly.c).
 */
#define LAZYLIB_PCAP_FNS(X, XV)						\
	X(pcap_t *, pcap_create, (const char *dev, char *err), (dev, err)) \
	X(int, pcap_set_snaplen, (pcap_t *p, int v), (p, v))		\
	X(int, pcap_set_promisc, (pcap_t *p, int v), (p, v))		\
	X(int, pcap_set_timeout, (pcap_t *p, int v), (p, v))		\
	X(int, pcap_set_buffer_size, (pcap_t *p, int v), (p, v))	\
	X(int, pcap_activate, (pcap_t *p), (p))				\
	X(pcap_t *, pcap_open_dead, (int dlt, int snaplen),		\
	    (dlt, snaplen))						\
	X(pcap_t *, pcap_open_offline_with_tstamp_precision,		\
	    (const char *path, u_int prec, char *err), (path, prec, err)) \
	XV(pcap_close, (pcap_t *p), (p))				\
	X(int, pcap_dispatch, (pcap_t *p, int cnt, pcap_handler cb,	\
	    u_char *arg), (p, cnt, cb, arg))				\
	XV(pcap_breakloop, (pcap_t *p), (p))				\
	X(int, pcap_stats, (pcap_t *p, struct pcap_stat *ps), (p, ps))	\
	X(int, pcap_setfilter, (pcap_t *p, struct bpf_program *f),	\
	    (p, f))							\
	X(int, pcap_setnonblock, (pcap_t *p, int nb, char *err),	\
	    (p, nb, err))						\
	X(int, pcap_get_selectable_fd, (pcap_t *p), (p))		\
	X(char *, pcap_geterr, (pcap_t *p), (p))			\
	X(int, pcap_compile, (pcap_t *p, struct bpf_program *f,		\
	    const char *s, int opt, bpf_u_int32 mask),			\
	    (p, f, s, opt, mask))					\
	XV(pcap_freecode, (struct bpf_program *f), (f))			\
	X(int, pcap_offline_filter, (const struct bpf_program *f,	\
	    const struct pcap_pkthdr *h, const u_char *pkt), (f, h, pkt)) \
	X(int, pcap_datalink, (pcap_t *p), (p))				\
	X(int, pcap_list_datalinks, (pcap_t *p, int **dlts), (p, dlts))	\
	X(int, pcap_set_datalink, (pcap_t *p, int dlt), (p, dlt))	\
	XV(pcap_free_datalinks, (int *dlts), (dlts))			\
	X(const char *, pcap_datalink_val_to_name, (int dlt), (dlt))

/*
 * libpam (and libaudit, libcap-ng): the web page's sign-in, which is
 * offered over TLS only (daemon/web.c).
 */
#define LAZYLIB_PAM_FNS(X, XV)						\
	X(int, pam_start, (const char *service, const char *user,	\
	    const struct pam_conv *conv, pam_handle_t **ph),		\
	    (service, user, conv, ph))					\
	X(int, pam_authenticate, (pam_handle_t *ph, int flags),		\
	    (ph, flags))						\
	X(int, pam_acct_mgmt, (pam_handle_t *ph, int flags), (ph, flags)) \
	X(int, pam_end, (pam_handle_t *ph, int status), (ph, status))

/* Each function's index in its library's table, and its name. */
#define LAZYLIB_INDEX(t, name, params, args)	LAZYLIB_I_##name,
#define LAZYLIB_INDEXV(name, params, args)	LAZYLIB_I_##name,
#define LAZYLIB_VARIADIC(name)			LAZYLIB_I_##name,
enum { LAZYLIB_CURL_FNS(LAZYLIB_INDEX, LAZYLIB_INDEXV) LAZYLIB_NCURL };
enum { LAZYLIB_PQ_FNS(LAZYLIB_INDEX, LAZYLIB_INDEXV) LAZYLIB_NPQ };
enum { LAZYLIB_TLS_FNS(LAZYLIB_INDEX, LAZYLIB_INDEXV) LAZYLIB_NTLS };
enum { LAZYLIB_PCAP_FNS(LAZYLIB_INDEX, LAZYLIB_INDEXV) LAZYLIB_NPCAP };
enum { LAZYLIB_PAM_FNS(LAZYLIB_INDEX, LAZYLIB_INDEXV) LAZYLIB_NPAM };
#undef LAZYLIB_VARIADIC

#define LAZYLIB_NAME(t, name, params, args)	#name,
#define LAZYLIB_NAMEV(name, params, args)	#name,
#define LAZYLIB_VARIADIC(name)			#name,
static const char *const lazylib_curl_names[] = {
	LAZYLIB_CURL_FNS(LAZYLIB_NAME, LAZYLIB_NAMEV)
};
static const char *const lazylib_pq_names[] = {
	LAZYLIB_PQ_FNS(LAZYLIB_NAME, LAZYLIB_NAMEV)
};
static const char *const lazylib_tls_names[] = {
	LAZYLIB_TLS_FNS(LAZYLIB_NAME, LAZYLIB_NAMEV)
};
static const char *const lazylib_pcap_names[] = {
	LAZYLIB_PCAP_FNS(LAZYLIB_NAME, LAZYLIB_NAMEV)
};
static const char *const lazylib_pam_names[] = {
	LAZYLIB_PAM_FNS(LAZYLIB_NAME, LAZYLIB_NAMEV)
};
#undef LAZYLIB_VARIADIC

static void	*lazylib_curl_fn[LAZYLIB_NCURL];
static void	*lazylib_pq_fn[LAZYLIB_NPQ];
static void	*lazylib_tls_fn[LAZYLIB_NTLS];
static void	*lazylib_pcap_fn[LAZYLIB_NPCAP];
static void	*lazylib_pam_fn[LAZYLIB_NPAM];

/*
 * SONAME is opened after the libraries of PRE, if any, so that an error
 * names the first one missing; the functions are looked up in SONAME's
 * handle, which sees its dependencies too.
 */
static struct lazylib_lib {
	const char		*soname;
	const char		*pre;
	const char *const	*names;
	void			**fn;
	size_t			 n;
	void			*handle;	/* NULL: not loaded */
} lazylib_libs[] = {
	[LAZYLIB_CURL] = { "libcurl.so.4", NULL, lazylib_curl_names,
	    lazylib_curl_fn, LAZYLIB_NCURL, NULL },
	[LAZYLIB_PQ] = { "libpq.so.5", NULL, lazylib_pq_names,
	    lazylib_pq_fn, LAZYLIB_NPQ, NULL },
	[LAZYLIB_TLS] = { "libevent_openssl-2.1.so.7", "libssl.so.3",
	    lazylib_tls_names, lazylib_tls_fn, LAZYLIB_NTLS, NULL },
	[LAZYLIB_PCAP] = { "libpcap.so.0.8", NULL, lazylib_pcap_names,
	    lazylib_pcap_fn, LAZYLIB_NPCAP, NULL },
	[LAZYLIB_PAM] = { "libpam.so.0", NULL, lazylib_pam_names,
	    lazylib_pam_fn, LAZYLIB_NPAM, NULL },
};

/* dlopen's error for SONAME, into WHY. */
static void *
lazylib_open(const char *soname, char *why, size_t len)
{
	const char	*err;
	void		*h;

	/* Not RTLD_GLOBAL: nothing loaded later resolves against it. */
	if ((h = dlopen(soname, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		err = dlerror();
		snprintf(why, len, "%s", err != NULL ? err : soname);
	}
	return h;
}

const char *
lazylib_load(enum lazylib which)
{
	static char		 why[512];
	struct lazylib_lib	*l = &lazylib_libs[which];
	const char		*err;
	void			*h, *pre = NULL;
	size_t			 i;

	if (l->handle != NULL)
		return NULL;
	if (l->pre != NULL &&
	    (pre = lazylib_open(l->pre, why, sizeof(why))) == NULL)
		return why;
	h = lazylib_open(l->soname, why, sizeof(why));
	/* SONAME holds its own reference to PRE. */
	if (pre != NULL)
		dlclose(pre);
	if (h == NULL)
		return why;
	for (i = 0; i < l->n; i++) {
		(void)dlerror();
		if ((l->fn[i] = dlsym(h, l->names[i])) == NULL) {
			err = dlerror();
			snprintf(why, sizeof(why), "%s: no %s%s%s", l->soname,
			    l->names[i], err != NULL ? ": " : "",
			    err != NULL ? err : "");
			dlclose(h);
			return why;
		}
	}
	l->handle = h;
	log_debug("loaded %s", l->soname);
	/*
	 * Once for the process, and here: before any thread, as curl asks.
	 * The users (curlev, the mailer) take their own references after.
	 */
	if (which == LAZYLIB_CURL &&
	    curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return "curl_global_init failed";
	return NULL;
}

/*
 * The read-only segments (code, constants) of one loaded object named
 * like OpenSSL's two libraries: their pages leave the process's mapping
 * (madvise MADV_DONTNEED), and those it runs again come back from the
 * page cache at their next use.  Never a writable segment: its pages
 * hold the relocations, which dropping would lose.
 */
static int
lazylib_trim_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	const ElfW(Phdr)	*ph;
	uintptr_t		 page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t		 start, end;
	size_t			*trimmed = arg;
	int			 i;

	(void)size;
	if (info->dlpi_name == NULL ||
	    (strstr(info->dlpi_name, "/libcrypto.so.") == NULL &&
	    strstr(info->dlpi_name, "/libssl.so.") == NULL))
		return 0;
	for (i = 0; i < info->dlpi_phnum; i++) {
		ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || (ph->p_flags & PF_W))
			continue;
		/* Inward to whole pages: never a neighbour's page. */
		start = (info->dlpi_addr + ph->p_vaddr + page - 1) & ~(page - 1);
		end = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz) &
		    ~(page - 1);
		/* NOLINTNEXTLINE(performance-no-int-to-ptr): ld.so's address */
		if (end > start && madvise((void *)start, end - start,
		    MADV_DONTNEED) == 0)
			*trimmed += end - start;
	}
	return 0;
}

/*
 * OpenSSL runs much of its code once: the library's setup, its providers'
 * tables, reading the configuration and each CA file.  Those pages stay
 * in the daemon's RSS though nothing runs them again until the next
 * reload: with 2 https checks libcrypto was 4.1 MB resident (of 4.7 MB),
 * the daemon 10.4 MB against 5.3 MB with plain http, of which the heap
 * only 0.26 MB.  Called once the rules are applied: the pages the
 * handshakes run come back with the first probes (the kernel maps 64 kB
 * around each fault, so 3.1 MB of libcrypto), the rest stay out: 1 MB
 * less, at 2 checks as at 10,000.  They are the page cache's, shared and
 * clean: nothing is lost, and nothing is read from the disk again.
 */
void
lazylib_trim(void)
{
	size_t	 trimmed = 0;

	if (lazylib_libs[LAZYLIB_TLS].handle == NULL)
		return;
	dl_iterate_phdr(lazylib_trim_cb, &trimmed);
	log_debug("OpenSSL: %zu kB of code and constants left to the page "
	    "cache", trimmed / 1024);
}

/* FN of library WHICH, loading it if no one asked for it yet. */
static void *
lazylib_fn(enum lazylib which, size_t i)
{
	const char	*err;

	if (lazylib_libs[which].handle == NULL &&
	    (err = lazylib_load(which)) != NULL)
		fatalx("%s is needed here (%s): %s",
		    lazylib_libs[which].soname, lazylib_libs[which].names[i],
		    err);
	return lazylib_libs[which].fn[i];
}

/*
 * The forwarders, with the libraries' own names and prototypes.  ARGS is
 * the parenthesised list of arguments: it cannot take more parentheses.
 */
/* NOLINTBEGIN(bugprone-macro-parentheses) */
#define LAZYLIB_FWD(lib, t, name, params, args)				\
t name params								\
{									\
	return ((__typeof__(name) *)lazylib_fn(lib,			\
	    LAZYLIB_I_##name)) args;					\
}
#define LAZYLIB_FWDV(lib, name, params, args)				\
void name params							\
{									\
	((__typeof__(name) *)lazylib_fn(lib, LAZYLIB_I_##name)) args;	\
}
#define LAZYLIB_CURL_FWD(t, name, params, args)				\
	LAZYLIB_FWD(LAZYLIB_CURL, t, name, params, args)
#define LAZYLIB_CURL_FWDV(name, params, args)				\
	LAZYLIB_FWDV(LAZYLIB_CURL, name, params, args)
#define LAZYLIB_PQ_FWD(t, name, params, args)				\
	LAZYLIB_FWD(LAZYLIB_PQ, t, name, params, args)
#define LAZYLIB_PQ_FWDV(name, params, args)				\
	LAZYLIB_FWDV(LAZYLIB_PQ, name, params, args)
#define LAZYLIB_TLS_FWD(t, name, params, args)				\
	LAZYLIB_FWD(LAZYLIB_TLS, t, name, params, args)
#define LAZYLIB_TLS_FWDV(name, params, args)				\
	LAZYLIB_FWDV(LAZYLIB_TLS, name, params, args)
#define LAZYLIB_PCAP_FWD(t, name, params, args)				\
	LAZYLIB_FWD(LAZYLIB_PCAP, t, name, params, args)
#define LAZYLIB_PCAP_FWDV(name, params, args)				\
	LAZYLIB_FWDV(LAZYLIB_PCAP, name, params, args)
#define LAZYLIB_PAM_FWD(t, name, params, args)				\
	LAZYLIB_FWD(LAZYLIB_PAM, t, name, params, args)
#define LAZYLIB_PAM_FWDV(name, params, args)				\
	LAZYLIB_FWDV(LAZYLIB_PAM, name, params, args)
#define LAZYLIB_VARIADIC(name)		/* below, by hand */
LAZYLIB_CURL_FNS(LAZYLIB_CURL_FWD, LAZYLIB_CURL_FWDV)
LAZYLIB_PQ_FNS(LAZYLIB_PQ_FWD, LAZYLIB_PQ_FWDV)
LAZYLIB_TLS_FNS(LAZYLIB_TLS_FWD, LAZYLIB_TLS_FWDV)
LAZYLIB_PCAP_FNS(LAZYLIB_PCAP_FWD, LAZYLIB_PCAP_FWDV)
LAZYLIB_PAM_FNS(LAZYLIB_PAM_FWD, LAZYLIB_PAM_FWDV)
#undef LAZYLIB_VARIADIC
/* NOLINTEND(bugprone-macro-parentheses) */

/* curl's options: long, object pointer, function pointer, off_t, blob. */
#define LAZYLIB_SETOPT(fn, handle, opt, ap, rc) do {			\
	if ((opt) < CURLOPTTYPE_OBJECTPOINT)				\
		(rc) = (fn)(handle, opt, va_arg(ap, long));		\
	else if ((opt) < CURLOPTTYPE_FUNCTIONPOINT)			\
		(rc) = (fn)(handle, opt, va_arg(ap, void *));		\
	else if ((opt) < CURLOPTTYPE_OFF_T)				\
		(rc) = (fn)(handle, opt, va_arg(ap, void (*)(void)));	\
	else if ((opt) < CURLOPTTYPE_BLOB)				\
		(rc) = (fn)(handle, opt, va_arg(ap, curl_off_t));	\
	else								\
		(rc) = (fn)(handle, opt, va_arg(ap, struct curl_blob *)); \
} while (0)

CURLcode
curl_easy_setopt(CURL *e, CURLoption opt, ...)
{
	__typeof__(curl_easy_setopt)	*fn;
	CURLcode			 rc;
	va_list				 ap;

	fn = (__typeof__(curl_easy_setopt) *)lazylib_fn(LAZYLIB_CURL,
	    LAZYLIB_I_curl_easy_setopt);
	va_start(ap, opt);
	LAZYLIB_SETOPT(fn, e, opt, ap, rc);
	va_end(ap);
	return rc;
}

CURLMcode
curl_multi_setopt(CURLM *m, CURLMoption opt, ...)
{
	__typeof__(curl_multi_setopt)	*fn;
	CURLMcode			 rc;
	va_list				 ap;

	fn = (__typeof__(curl_multi_setopt) *)lazylib_fn(LAZYLIB_CURL,
	    LAZYLIB_I_curl_multi_setopt);
	va_start(ap, opt);
	LAZYLIB_SETOPT(fn, m, opt, ap, rc);
	va_end(ap);
	return rc;
}

CURLcode
curl_easy_getinfo(CURL *e, CURLINFO info, ...)
{
	__typeof__(curl_easy_getinfo)	*fn;
	CURLcode			 rc;
	va_list				 ap;

	fn = (__typeof__(curl_easy_getinfo) *)lazylib_fn(LAZYLIB_CURL,
	    LAZYLIB_I_curl_easy_getinfo);
	va_start(ap, info);
	rc = fn(e, info, va_arg(ap, void *));
	va_end(ap);
	return rc;
}
