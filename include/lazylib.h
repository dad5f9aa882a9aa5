/*
 * lazylib.h: libcurl, libpq, OpenSSL, libpcap and libpam, loaded by
 * rtowatchd only when its rules need them (issue 20, memory per check).
 *
 * Most installs watch tcp, icmp, dns and plain http:// on SQLite and
 * never call these libraries, yet linking them maps them and what they
 * pull in (GnuTLS, LDAP, Kerberos, SSH...): 4-6 MB of the daemon's RSS
 * before its first check.  The rules parser asks for a library when it
 * reads what needs it (an https:// or unusual URL, "set smtp", a webhook,
 * "set database postgresql://...", "set web tls", an anomaly block), so
 * a rules file that cannot be served is refused like any other error, at
 * start or at a reload, and the library is in place before any thread
 * (the mailer's) starts.
 *
 * Two implementations of these functions: daemon/lazylib.c loads by
 * dlopen and forwards the libraries' functions (rtowatchd alone); in the
 * unit tests and fuzzers, which link the libraries as usual,
 * daemon/lazylib_linked.c has nothing to load.
 */
#ifndef RTOWATCH_LAZYLIB_H
#define RTOWATCH_LAZYLIB_H

enum lazylib {
	LAZYLIB_CURL,		/* libcurl.so.4 */
	LAZYLIB_PQ,		/* libpq.so.5 */
	/*
	 * libssl.so.3, libcrypto.so.3, libevent_openssl-2.1.so.7: 1.7 MB
	 * resident.  Asked for by "set web tls"; a check that speaks TLS
	 * itself asks with conf_need_lib(p, LAZYLIB_TLS, "...") in its
	 * parser.  libcurl maps OpenSSL on its own, but the daemon's own
	 * calls go through this group's table all the same.
	 */
	LAZYLIB_TLS,
	/* libpcap.so.0.8 (and libdbus, libsystemd): anomaly blocks. */
	LAZYLIB_PCAP,
	/* libpam.so.0 (and libaudit, libcap-ng): the web page's sign-in. */
	LAZYLIB_PAM,
};

/*
 * Loads LIB if not yet, and sets libcurl up (curl_global_init) on its
 * first load.  NULL when it is in place, else why not (dlerror's text,
 * which names the library).  The main thread only.
 */
const char	*lazylib_load(enum lazylib);
/* Gives back the pages of OpenSSL's code only its setup ran. */
void		 lazylib_trim(void);

#endif
