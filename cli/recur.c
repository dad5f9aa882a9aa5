/*
 * recur.c: recurring events (IMS-P-009 purpose 1.1: "identify recurring
 * security or failure events").
 *
 * An incident is recurring when its system had at least count - 1 other
 * incidents that started within the window before it (of the same
 * category, with --recur-by category).  Drills are not events and count
 * for nothing.  The answer is the earlier incidents' ids, oldest first,
 * so that show, report and register can point at them.
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util.h"

int
recur_find(struct cli_ctx *ctx, const struct cli_recur *r, int64_t id,
    int64_t **ids, size_t *n)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	*ids = NULL;
	*n = 0;
	stmt = cli_prepare(ctx, "SELECT p.id FROM incidents i, incidents p"
	    " WHERE i.id = ?1 AND i.kind != 'drill' AND p.kind != 'drill'"
	    "  AND p.system = i.system AND p.id != i.id"
	    "  AND (p.started_at < i.started_at OR"
	    "   (p.started_at = i.started_at AND p.id < i.id))"
	    "  AND julianday(p.started_at) >="
	    "   julianday(i.started_at) - ?2 / 86400000.0"
	    "  AND (?3 = 0 OR p.category IS i.category)"
	    " ORDER BY p.started_at, p.id");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_int64(stmt, 2, r->window_ms);
	sqlite3_bind_int(stmt, 3, r->same_category);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		*ids = xrealloc(*ids, (*n + 1) * sizeof(**ids));
		(*ids)[(*n)++] = sqlite3_column_int64(stmt, 0);
	}
	sqlite3_finalize(stmt);
	if (cli_step_error(ctx, rc) == -1) {
		free(*ids);
		*ids = NULL;
		*n = 0;
		return -1;
	}
	if (*n + 1 < (size_t)r->count) {
		free(*ids);
		*ids = NULL;
		*n = 0;
	}
	return 0;
}

/* "#3, #5": the earlier incidents as people cite them. */
char *
recur_list(const int64_t *ids, size_t n)
{
	char	*s, *t;
	size_t	 i;

	s = xstrdup("");
	for (i = 0; i < n; i++) {
		xasprintf(&t, "%s%s#%lld", s, i == 0 ? "" : ", ",
		    (long long)ids[i]);
		free(s);
		s = t;
	}
	return s;
}
