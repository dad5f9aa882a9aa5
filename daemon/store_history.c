/*
 * store_history.c: reads of what was recorded.
 *
 * The timeline's last row, and the read-only queries the control
 * socket turns into JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store.h"
#include "store_int.h"
#include "util.h"

int64_t
store_timeline_last(struct store *st)
{
	struct store_query	*stmt;
	int64_t		 id = 0;

	if ((stmt = store_prepare(st, "SELECT max(id) FROM timeline")) == NULL)
		return -1;
	if (store_step(stmt) == STORE_ROW)
		id = store_column_int64(stmt, 0);
	store_finalize(stmt);
	return id;
}

/*
 * Run a read-only query, handing each row to CB as column names, text
 * values (NULL for SQL NULL) and whether each is a number.  ARGS are
 * bound as text, in order; the control socket turns rows into JSON.
 */
int
store_select(struct store *st, const char *sql, int nargs,
    const char *const args[], int (*cb)(int, const char *const *,
    const char *const *, const int *, void *), void *arg)
{
	struct store_query	*stmt;
	const char	*names[64], *vals[64];
	int		 nums[64];
	int		 i, n, rc;

	if ((stmt = store_prepare(st, sql)) == NULL)
		return -1;
	for (i = 0; i < nargs; i++)
		store_bind_text(stmt, i + 1, args[i]);
	n = store_column_count(stmt);
	if (n > 64)
		n = 64;
	for (i = 0; i < n; i++)
		names[i] = store_column_name(stmt, i);
	while ((rc = store_step(stmt)) == STORE_ROW) {
		for (i = 0; i < n; i++) {
			vals[i] = (const char *)store_column_text(stmt, i);
			nums[i] = store_column_isint(stmt, i);
		}
		if (cb(n, names, vals, nums, arg) == -1)
			break;
	}
	store_finalize(stmt);
	if (rc != STORE_DONE && rc != STORE_ROW && store_read_held(st, rc))
		return 0;
	if (rc != STORE_DONE && rc != STORE_ROW) {
		log_warnx("%s: %s", store_path(st),
		    store_errmsg(st));
		return -1;
	}
	return 0;
}
