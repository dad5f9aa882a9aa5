/*
 * store_history.c: reads of what was recorded.
 *
 * The timeline's last row, and the read-only queries the control
 * socket turns into JSON.
 */
#include <sqlite3.h>
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
	sqlite3_stmt	*stmt;
	int64_t		 id = 0;

	if ((stmt = store_prepare(st, "SELECT max(id) FROM timeline")) == NULL)
		return -1;
	if (sqlite3_step(stmt) == SQLITE_ROW)
		id = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
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
	sqlite3_stmt	*stmt;
	const char	*names[64], *vals[64];
	int		 nums[64];
	int		 i, n, rc;

	if ((stmt = store_prepare(st, sql)) == NULL)
		return -1;
	for (i = 0; i < nargs; i++)
		sqlite3_bind_text(stmt, i + 1, args[i], -1, SQLITE_STATIC);
	n = sqlite3_column_count(stmt);
	if (n > 64)
		n = 64;
	for (i = 0; i < n; i++)
		names[i] = sqlite3_column_name(stmt, i);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		for (i = 0; i < n; i++) {
			vals[i] = (const char *)sqlite3_column_text(stmt, i);
			nums[i] = sqlite3_column_type(stmt, i) ==
			    SQLITE_INTEGER;
		}
		if (cb(n, names, vals, nums, arg) == -1)
			break;
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		log_warnx("%s: %s", store_path(st),
		    sqlite3_errmsg(store_sqlite(st)));
		return -1;
	}
	return 0;
}
