/*
 * lazylib_linked.c: include/lazylib.h for what links libcurl and libpq
 * as usual (the unit tests, the fuzzers): they are in place from the
 * start, and nothing is loaded.  rtowatchd has daemon/lazylib.c instead.
 */
#include <stddef.h>

#include "lazylib.h"

const char *
lazylib_load(enum lazylib which)
{
	(void)which;
	return NULL;
}

const char *
lazylib_name(enum lazylib which)
{
	switch (which) {
	case LAZYLIB_CURL:
		return "libcurl";
	case LAZYLIB_PQ:
		return "libpq";
	case LAZYLIB_TLS:
		return "OpenSSL";
	case LAZYLIB_PCAP:
		return "libpcap";
	case LAZYLIB_PAM:
		return "libpam";
	}
	return "?";
}
