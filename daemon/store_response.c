/*
 * store_response.c: the response-time history, written and rolled up.
 *
 * history.c adds up the probes' results in memory and hands over one
 * bucket a check at a time, all of them in one transaction of the
 * caller's; the roll-up turns the short buckets older than what is kept
 * of them into long ones (a minute's into an hour's) and prunes the long
 * ones past their age, a few checks a call, so that no call holds the
 * loop long.  Both go through store_run, the store's write path: they
 * are recorded, and held if the database refuses them (store.c).
 *
 * A bucket refers to its check by a subquery on (system, name), never by
 * an id read back: a held transaction is replayed as SQL text, and the
 * check's row it inserts first is there by then.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store.h"
#include "store_int.h"
#include "util.h"

/*
 * One bucket, merged with one already there (a reload or a restart
 * within the same minute hands the same bucket over twice).  SQLite's
 * two-argument min() is NULL when either is, hence the coalesce.  The
 * row already there is named by its table (h), which PostgreSQL needs
 * beside excluded.
 */
#define STORE_RESPONSE_MERGE \
	" ON CONFLICT (check_id, span, at) DO UPDATE SET" \
	" ok = h.ok + excluded.ok, failed = h.failed + excluded.failed," \
	" rtt_min = min(coalesce(h.rtt_min, excluded.rtt_min)," \
	"  coalesce(excluded.rtt_min, h.rtt_min))," \
	" rtt_max = max(coalesce(h.rtt_max, excluded.rtt_max)," \
	"  coalesce(excluded.rtt_max, h.rtt_max))," \
	" rtt_sum = coalesce(h.rtt_sum, 0) + coalesce(excluded.rtt_sum, 0)," \
	" cause = coalesce(excluded.cause, h.cause)"

/*
 * One bucket as a JSON array, appended to the text at *TEXT (*LEN
 * characters, room for *CAP): 0, or -1 if it cannot be encoded (a name
 * that is not UTF-8).
 */
static int
store_response_append(char **text, size_t *len, size_t *cap,
    const struct store_response *r)
{
	json_t	*row;
	char	*one;
	size_t	 n;

	row = json_pack("[s s I I I I o o o o]", r->system, r->check,
	    (json_int_t)r->span, (json_int_t)r->at, (json_int_t)r->ok,
	    (json_int_t)r->failed,
	    r->ok > 0 ? json_integer(r->rtt_min) : json_null(),
	    r->ok > 0 ? json_integer(r->rtt_max) : json_null(),
	    r->ok > 0 ? json_integer(r->rtt_sum) : json_null(),
	    r->cause != NULL ? json_string(r->cause) : json_null());
	one = row != NULL ? json_dumps(row, JSON_COMPACT) : NULL;
	json_decref(row);
	if (one == NULL)
		return -1;
	n = strlen(one);
	/* The comma or bracket before it, and the closing bracket. */
	while (*len + n + 3 > *cap) {
		*cap = *cap == 0 ? 4096 : *cap * 2;
		*text = xrealloc(*text, *cap);
	}
	(*text)[*len] = *len == 0 ? '[' : ',';
	(*len)++;
	memcpy(*text + *len, one, n);
	*len += n;
	free(one);
	return 0;
}

/* Buckets to write: their text, and whether their checks may be new. */
struct store_response_rows {
	char	*text;
	int	 new;
};

static int
store_response_write(struct store *st, void *arg)
{
	const struct store_response_rows	*rows = arg;
	int					 rc = 0;

	if (rows->new)
		rc = store_run(st, "INSERT OR IGNORE INTO response_checks"
		    " (system, name) SELECT value ->> 0, value ->> 1"
		    " FROM json_each(?)", "t", rows->text);
	if (rc == 0)
		rc = store_run(st, "INSERT INTO response_history AS h"
		    " (check_id, span, at, ok, failed, rtt_min, rtt_max,"
		    " rtt_sum, cause)"
		    " SELECT c.id, CAST(j.value ->> 2 AS BIGINT),"
		    " CAST(j.value ->> 3 AS BIGINT),"
		    " CAST(j.value ->> 4 AS BIGINT),"
		    " CAST(j.value ->> 5 AS BIGINT),"
		    " CAST(j.value ->> 6 AS BIGINT),"
		    " CAST(j.value ->> 7 AS BIGINT),"
		    " CAST(j.value ->> 8 AS BIGINT), j.value ->> 9"
		    " FROM json_each(?) j JOIN response_checks c"
		    " ON c.system = j.value ->> 0 AND c.name = j.value ->> 1"
		    " WHERE true" STORE_RESPONSE_MERGE, "t", rows->text);
	return rc;
}

static void
store_response_rows_free(void *arg)
{
	struct store_response_rows	*rows = arg;

	free(rows->text);
	free(rows);
}

/*
 * Write N buckets in two statements, in the caller's transaction: their
 * values go in as one JSON array bound to one parameter, so that the
 * statement is prepared once for all of them instead of once a bucket,
 * which costs the loop 50 us a row.  NEW: the checks may have no row yet
 * (the first buckets of this process).  The transaction keeps the text,
 * to write it again if it is held (store_call), not the statements
 * expanded with it.
 *
 * The text is encoded a bucket at a time: a tree of all of them (a
 * dozen small blocks a row, about 0.85 kB) was 0.4 MB of the heap for
 * each of the minute's twenty transactions at 10,000 checks, the
 * history's flush a peak of the daemon's RSS (tests/bench/bench_rss.py
 * --early); the text is a tenth of that.
 */
int
store_response_add_many(struct store *st, const struct store_response *r,
    size_t n, int new)
{
	struct store_response_rows	*rows;
	char				*text = NULL;
	size_t				 i, len = 0, cap = 0;
	int				 rc = 0;

	if (n == 0)
		return 0;
	for (i = 0; i < n && rc == 0; i++)
		rc = store_response_append(&text, &len, &cap, &r[i]);
	if (rc == -1) {
		free(text);
		return -1;
	}
	text[len++] = ']';
	text[len] = '\0';
	rows = xmalloc(sizeof(*rows));
	rows->text = text;
	rows->new = new;
	return store_call(st, store_response_write, store_response_rows_free,
	    rows, cap, "the response-time history's buckets");
}

/* Write one bucket, in the caller's transaction. */
int
store_response_add(struct store *st, const struct store_response *r,
    int new)
{
	return store_response_add_many(st, r, 1, new);
}

/* One check's buckets rolled up and pruned, as of NOW (Unix s). */
static int
store_response_roll_check(struct store *st, int64_t id, int64_t now,
    const struct store_response_keep *k)
{
	int64_t	 cut;

	/* Whole long buckets only: one row an hour, not two halves. */
	cut = (now - k->short_keep) / k->long_span * k->long_span;
	/* ?1 thrice: PostgreSQL groups by the select's very expression. */
	if (store_run(st, "INSERT INTO response_history AS h"
	    " (check_id, span, at, ok, failed, rtt_min, rtt_max, rtt_sum,"
	    " cause)"
	    " SELECT check_id, ?1, at - at % ?1, sum(ok), sum(failed),"
	    " min(rtt_min), max(rtt_max), sum(rtt_sum), max(cause)"
	    " FROM response_history"
	    " WHERE check_id = ?2 AND span = ?3 AND at < ?4"
	    " GROUP BY check_id, at - at % ?1" STORE_RESPONSE_MERGE, "IIII",
	    k->long_span, id, k->short_span, cut) == -1 ||
	    store_run(st, "DELETE FROM response_history"
	    " WHERE check_id = ? AND span = ? AND at < ?", "III", id,
	    k->short_span, cut) == -1 ||
	    store_run(st, "DELETE FROM response_history"
	    " WHERE check_id = ? AND span = ? AND at < ?", "III", id,
	    k->long_span, now - k->long_keep) == -1)
		return -1;
	return 0;
}

/*
 * Roll up and prune the history of up to BATCH checks after *CURSOR (a
 * check's id; 0 starts over), as of NOW (Unix s; a test passes a time
 * of its own), in one transaction.  *CURSOR moves past them, and back to
 * 0 after the last check: then 1 is returned (a pass is over), else 0,
 * or -1 on error.
 */
int
store_response_rollup(struct store *st, int64_t now,
    const struct store_response_keep *k, int batch, int64_t *cursor)
{
	struct store_query	*stmt;
	int64_t		*ids;
	int		 n = 0, i, rc;

	if (batch < 1 || k->short_span < 1 || k->long_span < k->short_span)
		return -1;
	ids = xcalloc((size_t)batch, sizeof(*ids));
	if ((stmt = store_stmt(st, "SELECT id FROM response_checks"
	    " WHERE id > ? ORDER BY id LIMIT ?", "Ii", *cursor,
	    batch)) == NULL) {
		free(ids);
		return -1;
	}
	while ((rc = store_step(stmt)) == STORE_ROW && n < batch)
		ids[n++] = store_column_int64(stmt, 0);
	store_finalize(stmt);
	if (rc != STORE_DONE && rc != STORE_ROW) {
		free(ids);
		return -1;
	}
	if (n > 0) {
		if (store_begin(st) == -1) {
			free(ids);
			return -1;
		}
		for (i = 0; i < n; i++)
			if (store_response_roll_check(st, ids[i], now,
			    k) == -1)
				break;
		if (i < n || store_commit(st) == -1) {
			if (i < n)
				store_rollback(st);
			free(ids);
			return -1;
		}
	}
	*cursor = n < batch ? 0 : ids[n - 1];
	free(ids);
	return n < batch ? 1 : 0;
}
