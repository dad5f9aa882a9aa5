/*
 * store_clock.c: the clocks of each incident's obligations.
 *
 * One row per obligation (report, restore, close...), started once and
 * stopped by the step that answers it; clocks.c arms the timers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store.h"
#include "store_int.h"
#include "util.h"

int
store_clock_open(struct store *st, const struct store_clock *c, int64_t *id)
{
	/* Ignored (the clock exists), the id is simply not used. */
	*id = store_next_id(st, STORE_CLOCKS);
	/* Once per obligation: a reopened incident keeps its clocks. */
	return store_run(st, "INSERT OR IGNORE INTO clocks (incident_id,"
	    " kind, level, started_at, due_at, id) VALUES (?, ?, ?, ?, ?, ?)",
	    "ItiTTI", c->incident_id, c->kind, c->level, c->started_at,
	    c->due_at, *id);
}

/* A raised level shortens the restore clock; incidents shows it too. */
int
store_clock_set_due(struct store *st, const struct store_clock_due *d)
{
	if (store_clock_move(st, d->clock_id, d->level, d->due_at) == -1)
		return -1;
	return store_run(st, "UPDATE incidents SET restore_due_at = ?"
	    " WHERE id = ?", "TI", d->due_at, d->incident_id);
}

/*
 * A clock other than restore takes a new level's deadline (a raised
 * level), and that level: `show` names the deadline it runs to.
 */
int
store_clock_move(struct store *st, int64_t clock, int level, int64_t due)
{
	return store_run(st, "UPDATE clocks SET level = ?, due_at = ?"
	    " WHERE id = ?", "iTI", level, due, clock);
}

/* Reminders done so far, or (breached_at != 0) the deadline missed. */
int
store_clock_progress(struct store *st, int64_t clock, int reminders_done,
    int64_t breached_at)
{
	return store_run(st, "UPDATE clocks SET reminders_done = ?,"
	    " breached_at = coalesce(breached_at, ?) WHERE id = ?",
	    "iTI", reminders_done, breached_at, clock);
}

/*
 * The step is done at AT: every open clock of that kind on the incident
 * that had started by then stops.  One started later (a raised level's)
 * runs on: a step cannot answer an obligation that did not yet exist.
 */
int
store_clock_stop(struct store *st, int64_t incident, const char *kind,
    int64_t at, const char *by)
{
	return store_run(st, "UPDATE clocks SET stopped_at = ?1,"
	    " stopped_by = ?2 WHERE incident_id = ?3 AND kind = ?4"
	    " AND stopped_at IS NULL AND started_at <= ?1",
	    "TtIt", at, by, incident, kind);
}

/*
 * A corrected step time: the clocks of r->kind the step stopped at r->was
 * take the corrected time r->at.
 */
int
store_clock_restop(struct store *st, const struct store_restop *r)
{
	return store_run(st, "UPDATE clocks SET stopped_at = ?,"
	    " stopped_by = ? WHERE incident_id = ? AND kind = ?"
	    " AND stopped_at = ?", "TtItT", r->at, r->by, r->incident_id,
	    r->kind, r->was);
}

/* The open clocks of one incident, or of all (INCIDENT 0). */
int
store_open_clocks(struct store *st, int64_t incident,
    int (*cb)(const struct store_open_clock *, void *), void *arg)
{
	struct store_open_clock	 c;
	struct store_query		*stmt;
	int			 rc;

	/*
	 * Two statements, not "?1 = 0 OR incident_id = ?1": SQLite plans
	 * that as a scan of every clock, and one incident's are read after
	 * each of its changes, so many incidents changing at once cost the
	 * square of their number.  incident_id leads a unique index.
	 */
#define STORE_OPEN_CLOCKS_SQL(where)					\
	"SELECT c.id, c.incident_id, c.kind,"				\
	" c.level, c.due_at, c.reminders_done, c.breached_at, i.system,"\
	" c.started_at, coalesce(i.drill_factor, 1)"			\
	" FROM clocks c JOIN incidents i ON i.id = c.incident_id"	\
	" WHERE c.stopped_at IS NULL" where " ORDER BY c.id"
	if (incident == 0)
		stmt = store_stmt(st, STORE_OPEN_CLOCKS_SQL(""), "");
	else
		stmt = store_stmt(st, STORE_OPEN_CLOCKS_SQL(
		    " AND c.incident_id = ?1"), "I", incident);
#undef STORE_OPEN_CLOCKS_SQL
	if (stmt == NULL)
		return -1;
	while ((rc = store_step(stmt)) == STORE_ROW) {
		memset(&c, 0, sizeof(c));
		c.id = store_column_int64(stmt, 0);
		c.incident_id = store_column_int64(stmt, 1);
		snprintf(c.kind, sizeof(c.kind), "%s",
		    (const char *)store_column_text(stmt, 2));
		c.level = store_column_int(stmt, 3);
		c.due_at = store_column_time(stmt, 4);
		c.reminders_done = store_column_int(stmt, 5);
		c.breached_at = store_column_time(stmt, 6);
		snprintf(c.system, sizeof(c.system), "%s",
		    (const char *)store_column_text(stmt, 7));
		c.started_at = store_column_time(stmt, 8);
		c.factor = store_column_int(stmt, 9);
		if (cb(&c, arg) == -1)
			break;
	}
	store_finalize(stmt);
	return rc == STORE_DONE || rc == STORE_ROW ? 0 : -1;
}
