/*
 * store_node.c: the nodes sharing the register (lead.c).
 *
 * Each node's row says who it is, what it does (leader, standby or
 * observer), since when it runs and when it last said so.  On
 * PostgreSQL lead.c upserts it on its own connection, with the lock
 * that decides the role; on SQLite, one node, through here.
 */
#include <stdint.h>

#include "rtowatch.h"
#include "store.h"
#include "store_int.h"

/* The upsert both backends run: lead.c's is this SQL in PostgreSQL's. */
int
store_node_beat(struct store *st, const char *name, const char *role,
    int64_t started, int64_t now)
{
	return store_run(st, "INSERT INTO nodes (name, role, started,"
	    " last_contact, version) VALUES (?, ?, ?, ?, ?)"
	    " ON CONFLICT (name) DO UPDATE SET role = excluded.role,"
	    " started = excluded.started,"
	    " last_contact = excluded.last_contact,"
	    " version = excluded.version", "ttTTt", name, role, started, now,
	    RTOWATCH_VERSION);
}

int
store_nodes(struct store *st, int (*cb)(const char *, const char *,
    int64_t, int64_t, const char *, void *), void *arg)
{
	struct store_query	*q;
	int			 rc;

	if ((q = store_stmt(st, "SELECT name, role, started, last_contact,"
	    " version FROM nodes ORDER BY name", "")) == NULL)
		return -1;
	while ((rc = store_step(q)) == STORE_ROW)
		if (cb(store_column_text(q, 0), store_column_text(q, 1),
		    store_column_time(q, 2), store_column_time(q, 3),
		    store_column_text(q, 4), arg) == -1)
			break;
	store_finalize(q);
	return rc == STORE_DONE || rc == STORE_ROW ? 0 : -1;
}
