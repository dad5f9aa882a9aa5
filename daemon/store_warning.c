/*
 * store_warning.c: early warnings, their indicators, and maintenance
 * windows.
 *
 * A warning is opened by a source (anomaly detection, a person), ended,
 * and answered; maintenance windows make outages planned.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store.h"
#include "store_int.h"
#include "util.h"

int
store_warning_open(struct store *st, const struct store_warning *w,
    int64_t at, const char *actor, int64_t *id)
{
	*id = store_next_id(st, STORE_WARNINGS);
	if (store_run(st, "INSERT INTO warnings (source, reference,"
	    " system, summary, detail, opened_at, opened_by, id)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", "tttttTtI", w->source,
	    w->reference[0] != '\0' ? w->reference : NULL,
	    w->system[0] != '\0' ? w->system : NULL, w->summary, w->detail,
	    at, actor, *id) == -1)
		return -1;
	return store_timeline_add(st, &(struct store_event){
	    .warning_id = *id, .at = at, .event = "warning opened",
	    .actor = actor, .detail = w->summary });
}

int
store_warning_get(struct store *st, int64_t id, struct store_warning *w)
{
	struct store_query	*stmt;
	const char	*v;
	int		 rc;

	memset(w, 0, sizeof(*w));
	stmt = store_stmt(st, "SELECT source, coalesce(reference, ''),"
	    " coalesce(system, ''), summary, detail, state"
	    " FROM warnings WHERE id = ?", "I", id);
	if (stmt == NULL)
		return -1;
	if ((rc = store_step(stmt)) == STORE_ROW) {
		w->id = id;
		v = (const char *)store_column_text(stmt, 0);
		snprintf(w->source, sizeof(w->source), "%s", v);
		v = (const char *)store_column_text(stmt, 1);
		snprintf(w->reference, sizeof(w->reference), "%s", v);
		v = (const char *)store_column_text(stmt, 2);
		snprintf(w->system, sizeof(w->system), "%s", v);
		v = (const char *)store_column_text(stmt, 3);
		snprintf(w->summary, sizeof(w->summary), "%s", v);
		v = (const char *)store_column_text(stmt, 4);
		snprintf(w->detail, sizeof(w->detail), "%s", v);
		v = (const char *)store_column_text(stmt, 5);
		snprintf(w->state, sizeof(w->state), "%s", v);
	}
	store_finalize(stmt);
	if (rc == STORE_ROW)
		return 1;
	return rc == STORE_DONE ? 0 : -1;
}

/* A person's answer to an open warning. */
int
store_warning_answer(struct store *st, const struct store_answer *a)
{
	if (store_run(st, "UPDATE warnings SET state = ?,"
	    " answered_at = ?, answered_by = ?, reason = ?, incident_id = ?"
	    " WHERE id = ? AND state = 'open'", "tTttJI", a->state, a->at,
	    a->actor, a->reason, a->incident_id, a->warning_id) == -1)
		return -1;
	return store_changed(st) == 1 ? 0 : -1;
}

int
store_maintenance_add(struct store *st, const struct store_maintenance *m,
    int64_t *id)
{
	*id = store_next_id(st, STORE_MAINTENANCE);
	return store_run(st, "INSERT INTO maintenance (system, starts_at,"
	    " ends_at, reason, created_at, created_by, id)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?)", "tTTtTtI", m->system,
	    m->starts_at, m->ends_at, m->reason, m->created_at, m->created_by,
	    *id);
}

/*
 * The window ID people added: its system (SYSLEN bytes), bounds and
 * whether it was cancelled.  1, 0 when there is none, -1 on an error.
 */
int
store_maintenance_get(struct store *st, int64_t id, char *system,
    size_t syslen, int64_t *start, int64_t *end, int *cancelled)
{
	struct store_query	*stmt;
	int		 rc;

	if ((stmt = store_stmt(st, "SELECT system, starts_at, ends_at,"
	    " cancelled_at IS NOT NULL FROM maintenance WHERE id = ?", "I",
	    id)) == NULL)
		return -1;
	if ((rc = store_step(stmt)) == STORE_ROW) {
		snprintf(system, syslen, "%s",
		    (const char *)store_column_text(stmt, 0));
		*start = store_column_time(stmt, 1);
		*end = store_column_time(stmt, 2);
		*cancelled = store_column_int(stmt, 3);
	}
	store_finalize(stmt);
	return rc == STORE_ROW ? 1 : rc == STORE_DONE ? 0 : -1;
}

int
store_maintenance_cancel(struct store *st, int64_t id, int64_t at,
    const char *actor)
{
	if (store_run(st, "UPDATE maintenance SET cancelled_at = ?,"
	    " cancelled_by = ? WHERE id = ? AND cancelled_at IS NULL", "TtI",
	    at, actor, id) == -1)
		return -1;
	return store_changed(st) == 1 ? 0 : -1;
}

/* The windows people added that have not ended by NOW. */
int
store_maintenance_windows(struct store *st, int64_t now,
    int (*cb)(const char *, int64_t, int64_t, void *), void *arg)
{
	struct store_query	*stmt;
	int		 rc;

	/* NOW is never 0, which would bind NULL. */
	stmt = store_stmt(st, "SELECT system, starts_at, ends_at"
	    " FROM maintenance WHERE ends_at > ? AND cancelled_at IS NULL"
	    " ORDER BY id", "T", now);
	if (stmt == NULL)
		return -1;
	while ((rc = store_step(stmt)) == STORE_ROW)
		if (cb((const char *)store_column_text(stmt, 0),
		    store_column_time(stmt, 1), store_column_time(stmt, 2),
		    arg) == -1)
			break;
	store_finalize(stmt);
	return rc == STORE_DONE || rc == STORE_ROW ? 0 : -1;
}

/* An anomaly episode is over; its warning stays open for an answer. */
int
store_warning_end(struct store *st, const struct store_warning_ending *w)
{
	if (store_run(st, "UPDATE warnings SET ended_at = ?"
	    " WHERE id = ? AND ended_at IS NULL", "TI", w->at,
	    w->warning_id) == -1 || store_changed(st) != 1)
		return -1;
	return store_timeline_add(st, &(struct store_event){
	    .warning_id = w->warning_id, .at = w->at,
	    .event = "warning ended", .actor = w->actor,
	    .detail = w->detail });
}

/*
 * An open anomaly warning's detail, as its episode grows (a scan's
 * ports and packets so far); an ended one's stays as it ended.
 */
int
store_warning_detail(struct store *st, int64_t id, const char *detail)
{
	return store_run(st, "UPDATE warnings SET detail = ?"
	    " WHERE id = ? AND ended_at IS NULL", "tI", detail, id);
}

/*
 * The anomaly warnings a run that did not stop cleanly (killed, crashed)
 * left open: each is ended at the time of its last timeline row, the last
 * moment it was known to go on, and the row saying so is recorded at AT.
 * In the caller's transaction.  How many were ended, or -1.
 */
int
store_warning_end_orphans(struct store *st, int64_t at, const char *actor,
    const char *why)
{
	struct store_query	*stmt;
	int64_t		*ids = NULL, *last = NULL;
	char		 t[TIME_STRLEN], *detail;
	size_t		 n = 0, size = 0, i;
	int		 rc;

	stmt = store_prepare(st, "SELECT w.id, coalesce((SELECT max(t.at)"
	    " FROM timeline t WHERE t.warning_id = w.id), w.opened_at)"
	    " FROM warnings w WHERE w.ended_at IS NULL"
	    " AND w.source LIKE 'anomaly %' ORDER BY w.id");
	if (stmt == NULL)
		return -1;
	while ((rc = store_step(stmt)) == STORE_ROW) {
		if (n == size) {
			size = size == 0 ? 16 : size * 2;
			ids = xreallocarray(ids, size, sizeof(*ids));
			last = xreallocarray(last, size, sizeof(*last));
		}
		ids[n] = store_column_int64(stmt, 0);
		last[n++] = store_column_time(stmt, 1);
	}
	store_finalize(stmt);
	rc = rc == STORE_DONE ? 0 : -1;
	for (i = 0; i < n && rc == 0; i++) {
		xasprintf(&detail, "%s; last recorded at %s, its real end is "
		    "unknown", why, time_fmt(last[i], t, sizeof(t)));
		if (store_run(st, "UPDATE warnings SET ended_at = ?"
		    " WHERE id = ? AND ended_at IS NULL", "TI", last[i],
		    ids[i]) == -1 ||
		    store_timeline_add(st, &(struct store_event){
		    .warning_id = ids[i], .at = at, .event = "warning ended",
		    .actor = actor, .detail = detail }) == -1)
			rc = -1;
		free(detail);
	}
	free(ids);
	free(last);
	return rc == -1 ? -1 : (int)n;
}

/* One indicator of a warning; seen again, its count is the larger. */
int
store_warning_indicator(struct store *st, const struct store_indicator *in)
{
	return store_run(st, "INSERT INTO warning_indicators (warning_id,"
	    " kind, value, packets) VALUES (?, ?, ?, ?)"
	    " ON CONFLICT (warning_id, kind, value) DO UPDATE"
	    " SET packets = max(warning_indicators.packets, excluded.packets)",
	    "IttI", in->warning_id, in->kind, in->value, in->packets);
}
