/*
 * store_commit: what one transaction of the store costs, on the backend
 * a path or PostgreSQL URI names, through the daemon's own store code:
 * N transactions of one timeline row each (begin, append, commit with
 * its hash and records), timed one by one.
 *
 *	bin/test/bench_store_commit DB [N]
 *
 * prints the median, p99 and worst commit, and commits per second.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store.h"
#include "util.h"

static int
store_commit_cmp(const void *a, const void *b)
{
	int64_t	 x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char *argv[])
{
	struct store	*st;
	int64_t		*us, start, t0;
	struct timespec	 ts;
	long		 n = 200, i;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: bench_store_commit DB [N]\n");
		return 2;
	}
	if (argc == 3 && ((n = strtol(argv[2], NULL, 10)) < 1 || n > 100000)) {
		fprintf(stderr, "N: 1 to 100000\n");
		return 2;
	}
	log_init("bench_store_commit", 0, 0);
	if ((st = store_open(argv[1])) == NULL)
		return 1;
	us = xcalloc((size_t)n, sizeof(*us));
	clock_gettime(CLOCK_MONOTONIC, &ts);
	start = ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
	for (i = 0; i < n; i++) {
		struct store_event ev = { .event = "bench",
		    .actor = "bench_store_commit", .detail = "one row" };

		clock_gettime(CLOCK_MONOTONIC, &ts);
		t0 = ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
		ev.at = wall_ms();
		if (store_begin(st) == -1 || store_timeline_add(st, &ev) ==
		    -1 || store_commit(st) == -1) {
			fprintf(stderr, "transaction %ld failed\n", i);
			return 1;
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		us[i] = ts.tv_sec * 1000000LL + ts.tv_nsec / 1000 - t0;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = ts.tv_sec * 1000000LL + ts.tv_nsec / 1000 - start;
	qsort(us, (size_t)n, sizeof(*us), store_commit_cmp);
	printf("%s: %ld transactions: median %lld us, p99 %lld us, worst "
	    "%lld us, %.0f commits/s\n", argv[1], n, (long long)us[n / 2],
	    (long long)us[n * 99 / 100], (long long)us[n - 1],
	    (double)n * 1e6 / (double)(t0 > 0 ? t0 : 1));
	free(us);
	store_close(st);
	return 0;
}
