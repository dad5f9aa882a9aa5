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

void
lazylib_trim(void)
{
}
