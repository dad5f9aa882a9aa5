/*
 * store_incident.c: incidents, their outages, affected scope, form fields
 * and contacts.
 *
 * An outage opens an incident (or is planned, or attached to another
 * incident as its affected scope); the incident is restored, reopened,
 * escalated, and filled in by people through the workflow.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "record.h"
#include "store.h"
#include "store_int.h"
#include "util.h"

int
store_open_outages(struct store *st,
    int (*cb)(const struct store_open_outage *, void *), void *arg)
{
	struct store_open_outage	 o;
	struct store_query			*stmt;
	int				 rc;

	stmt = store_prepare(st, "SELECT o.id, o.incident_id, o.system,"
	    " o.started_at, o.detected_at, i.level, i.major, i.opened_at,"
	    " i.system"
	    " FROM outages o LEFT JOIN incidents i ON i.id = o.incident_id"
	    " WHERE o.ended_at IS NULL ORDER BY o.id");
	if (stmt == NULL)
		return -1;
	while ((rc = store_step(stmt)) == STORE_ROW) {
		memset(&o, 0, sizeof(o));
		o.outage_id = store_column_int64(stmt, 0);
		o.incident_id = store_column_int64(stmt, 1);
		snprintf(o.system, sizeof(o.system), "%s",
		    (const char *)store_column_text(stmt, 2));
		o.started_at = store_column_time(stmt, 3);
		o.detected_at = store_column_time(stmt, 4);
		o.level = store_column_int(stmt, 5);
		o.major = store_column_int(stmt, 6);
		o.opened_at = store_column_time(stmt, 7);
		if (!store_column_null(stmt, 8))
			snprintf(o.incident_system, sizeof(o.incident_system),
			    "%s", (const char *)store_column_text(stmt, 8));
		if (cb(&o, arg) == -1)
			break;
	}
	store_finalize(stmt);
	return rc == STORE_DONE ? 0 : -1;
}

/*
 * One outage of o->system: on its incident (its own, or the one it is
 * affected scope of), or on none when PLANNED.
 */
static int
store_outage_insert(struct store *st, const struct store_outage *o,
    int planned, int64_t *outage_id)
{
	*outage_id = store_next_id(st, STORE_OUTAGES);
	return store_run(st, "INSERT INTO outages (system, incident_id,"
	    " started_at, detected_at, cause, planned, id)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?)", "tJTTtiI", o->system,
	    planned ? 0 : o->incident_id, o->started_at, o->detected_at,
	    o->cause, planned, *outage_id);
}

/*
 * An outage attached to another incident (as its affected scope) goes on
 * on INCIDENT, its own: its part of the other incident ends at AT.
 */
static int
store_outage_move(struct store *st, int64_t outage_id, int64_t incident,
    const char *system, int64_t at)
{
	struct store_query	*stmt;
	int64_t		 from = 0;
	char		 detail[512], t[TIME_STRLEN];
	int		 rc;

	if ((stmt = store_stmt(st, "SELECT incident_id FROM outages"
	    " WHERE id = ?", "I", outage_id)) == NULL)
		return -1;
	if ((rc = store_step(stmt)) == STORE_ROW)
		from = store_column_int64(stmt, 0);
	store_finalize(stmt);
	if (rc != STORE_ROW)
		return -1;
	if (store_run(st, "UPDATE incident_scope SET ended_at = ?"
	    " WHERE outage_id = ? AND ended_at IS NULL", "TI", at,
	    outage_id) == -1)
		return -1;
	if (store_run(st, "UPDATE outages SET incident_id = ?"
	    " WHERE id = ?", "II", incident, outage_id) == -1)
		return -1;
	snprintf(detail, sizeof(detail), "%s: still down after the system it "
	    "was attached to recovered, at %s; its outage goes on in incident "
	    "%lld", system, time_fmt(at, t, sizeof(t)), (long long)incident);
	return store_timeline_add(st, &(struct store_event){
	    .incident_id = from, .at = at, .event = "affected system ended",
	    .actor = "rtowatchd", .detail = detail });
}

/*
 * A new outage (or an attached one that goes on, ni->outage_id), its
 * incident and the incident's first timeline event.
 */
int
store_outage_open(struct store *st, const struct store_new_incident *ni,
    int64_t *outage_id, int64_t *incident_id)
{
	char		 detail[512], since[TIME_STRLEN];

	if (store_incident_insert(st, "outage", ni, 0, incident_id) == -1)
		return -1;

	if (ni->outage_id != 0) {
		if (store_outage_move(st, ni->outage_id, *incident_id,
		    ni->system, ni->opened_at) == -1)
			return -1;
		*outage_id = ni->outage_id;
	} else if (store_outage_insert(st, &(struct store_outage){
	    .system = ni->system, .incident_id = *incident_id,
	    .started_at = ni->started_at, .detected_at = ni->detected_at,
	    .cause = ni->cause }, 0, outage_id) == -1)
		return -1;

	snprintf(detail, sizeof(detail), "%s down since %s: %s",
	    ni->system, time_fmt(ni->started_at, since, sizeof(since)),
	    ni->cause);
	if (ni->recurrence_of != 0)
		snprintf(detail + strlen(detail), sizeof(detail) -
		    strlen(detail), "; a recurrence of incident %lld, which "
		    "was closed", (long long)ni->recurrence_of);
	if (store_timeline_add(st, &(struct store_event){
	    .incident_id = *incident_id, .at = ni->opened_at, .event = "opened",
	    .actor = "rtowatchd", .detail = detail }) == -1)
		return -1;
	return 0;
}

/*
 * End an outage: record the restore time on it and on its incident, the
 * classification as it stands now that the duration is known, and a
 * timeline event.
 */
int
store_outage_end(struct store *st, const struct store_restore *r)
{
	if (store_outage_close(st, r->outage_id, r->restored_at) == -1)
		return -1;

	/* Restored within the RTO only if every part of it was. */
	if (store_run(st, "UPDATE incidents SET restored_at = ?,"
	    " within_rto = CASE WHEN within_rto = 0 THEN 0 ELSE ? END,"
	    " status = 'restored',"
	    " availability_level = max(availability_level, ?),"
	    " level = max(level, ?), major = max(major, ?)"
	    " WHERE id = ? AND status = 'open'", "TiiiiI", r->restored_at,
	    r->within_rto, r->availability, r->level, r->major,
	    r->incident_id) == -1)
		return -1;

	/* The event is dated when recorded; the detail names the restore time. */
	if (store_timeline_add(st, &(struct store_event){
	    .incident_id = r->incident_id, .at = wall_ms(), .event = "restored",
	    .actor = "rtowatchd", .detail = r->detail }) == -1)
		return -1;
	return 0;
}

/*
 * The outage has outlasted the RTO while still going on: the incident is
 * major from now on and its level rises (5.2.3, 5.3.2, 5.4.2).
 */
int
store_incident_escalate(struct store *st, int64_t incident_id, int level,
    int64_t at, const char *detail)
{
	if (store_run(st, "UPDATE incidents SET major = 1,"
	    " availability_level = max(availability_level, ?),"
	    " level = max(level, ?) WHERE id = ?", "iiI", level, level,
	    incident_id) == -1)
		return -1;
	if (store_timeline_add(st, &(struct store_event){
	    .incident_id = incident_id, .at = at, .event = "reclassified",
	    .actor = "rtowatchd", .detail = detail }) == -1)
		return -1;
	return 0;
}

/*
 * An outage of o->system while a system it depends on is down: recorded,
 * and listed in the parent's incident (o->incident_id) as affected scope.
 */
int
store_outage_attach(struct store *st, const struct store_outage *o,
    int64_t *outage_id)
{
	if (store_outage_insert(st, o, 0, outage_id) == -1)
		return -1;

	if (store_run(st, "INSERT INTO incident_scope (incident_id,"
	    " system, outage_id, started_at) VALUES (?, ?, ?, ?)", "ItIT",
	    o->incident_id, o->system, *outage_id, o->started_at) == -1)
		return -1;
	return store_timeline_add(st, &(struct store_event){
	    .incident_id = o->incident_id, .at = o->detected_at,
	    .event = "affected system down", .actor = "rtowatchd",
	    .detail = o->detail });
}

/*
 * A system of INCIDENT's affected scope still down, in SYSTEM: 1, or 0
 * when every one has ended.
 */
int
store_incident_scope_down(struct store *st, int64_t incident, char *system,
    size_t len)
{
	struct store_query	*stmt;
	int		 rc;

	if ((stmt = store_stmt(st, "SELECT system FROM incident_scope"
	    " WHERE incident_id = ? AND ended_at IS NULL ORDER BY id"
	    " LIMIT 1", "I", incident)) == NULL)
		return -1;
	if ((rc = store_step(stmt)) == STORE_ROW)
		snprintf(system, len, "%s",
		    (const char *)store_column_text(stmt, 0));
	store_finalize(stmt);
	if (rc == STORE_ROW)
		return 1;
	return rc == STORE_DONE ? 0 : -1;
}

/* The end of an attached outage, on the outage and the parent's scope. */
int
store_outage_detach(struct store *st, const struct store_restore *r)
{
	if (store_outage_close(st, r->outage_id, r->restored_at) == -1)
		return -1;
	if (store_run(st, "UPDATE incident_scope SET ended_at = ?"
	    " WHERE outage_id = ?", "TI", r->restored_at, r->outage_id) == -1)
		return -1;
	return store_timeline_add(st, &(struct store_event){
	    .incident_id = r->incident_id, .at = wall_ms(),
	    .event = "affected system ended", .actor = "rtowatchd",
	    .detail = r->detail });
}

#define STORE_CAUSE_SEP	"; before that: "
#define STORE_CAUSE_MAX	1024

/*
 * An incident's cause after one more outage: CAUSE first, then OLD's
 * causes less any equal to it, so that a system flapping for one reason
 * names it once.  Whole causes that do not fit in LEN become "...".
 */
static void
store_cause_prepend(const char *cause, const char *old, char *buf,
    size_t len)
{
	const char	*p, *end;
	size_t		 n, used, clen = strlen(cause);
	size_t		 seplen = strlen(STORE_CAUSE_SEP);

	if (clen == 0) {
		snprintf(buf, len, "%s", old);
		return;
	}
	snprintf(buf, len, "%s", cause);
	used = strlen(buf);
	for (p = old; p != NULL && *p != '\0'; p = end ? end + seplen : NULL) {
		end = strstr(p, STORE_CAUSE_SEP);
		n = end != NULL ? (size_t)(end - p) : strlen(p);
		if (n == 0 || (n == clen && strncmp(p, cause, n) == 0))
			continue;
		if (used + seplen + n + sizeof(" ...") > len) {
			if (used + sizeof(" ...") <= len)
				memcpy(buf + used, " ...", sizeof(" ..."));
			break;
		}
		memcpy(buf + used, STORE_CAUSE_SEP, seplen);
		memcpy(buf + used + seplen, p, n);
		used += seplen + n;
		buf[used] = '\0';
	}
}

/*
 * The system failed again soon after its incident was restored: a new
 * outage on the same incident, which is open again, with its restore
 * clock running again from where it was.  Its summary goes on describing
 * the whole incident: the new cause first, and not within the RTO if an
 * earlier part was not.
 */
int
store_incident_reopen(struct store *st, const struct store_outage *o,
    int64_t *outage_id)
{
	struct store_query	*stmt;
	char		 causes[STORE_CAUSE_MAX];
	int64_t		 incident = o->incident_id;
	int		 rc;

	if (store_outage_insert(st, o, 0, outage_id) == -1)
		return -1;
	if ((stmt = store_stmt(st, "SELECT coalesce(cause, '') FROM"
	    " incidents WHERE id = ?", "I", incident)) == NULL)
		return -1;
	if ((rc = store_step(stmt)) == STORE_ROW)
		store_cause_prepend(o->cause, (const char *)store_column_text(
		    stmt, 0), causes, sizeof(causes));
	store_finalize(stmt);
	if (rc != STORE_ROW) {
		log_warnx("%s: incident %lld: cannot read its cause",
		    store_path(st), (long long)incident);
		return -1;
	}
	if (store_run(st, "UPDATE incidents SET status = 'open',"
	    " restored_at = NULL,"
	    " within_rto = CASE WHEN within_rto = 0 THEN 0 END, cause = ?"
	    " WHERE id = ? AND status = 'restored'", "tI", causes,
	    incident) == -1)
		return -1;
	if (store_run(st, "UPDATE clocks SET stopped_at = NULL,"
	    " stopped_by = NULL WHERE incident_id = ? AND kind = 'restore'",
	    "I", incident) == -1)
		return -1;
	return store_timeline_add(st, &(struct store_event){
	    .incident_id = incident, .at = o->detected_at,
	    .event = "failed again", .actor = "rtowatchd",
	    .detail = o->detail });
}

/*
 * Each system's latest restored incident, for the flapping window; a
 * closed one too, which a relapse names as the incident it recurs.
 */
int
store_last_restored(struct store *st,
    int (*cb)(const char *, int64_t, int64_t, int, int, void *), void *arg)
{
	struct store_query	*stmt;
	int		 rc;

	stmt = store_prepare(st, "SELECT system, id, restored_at, level, major"
	    " FROM incidents WHERE kind = 'outage'"
	    " AND status IN ('restored', 'closed')"
	    " AND id IN (SELECT max(id) FROM incidents WHERE kind = 'outage'"
	    " GROUP BY system)");
	if (stmt == NULL)
		return -1;
	while ((rc = store_step(stmt)) == STORE_ROW)
		if (cb((const char *)store_column_text(stmt, 0),
		    store_column_int64(stmt, 1), store_column_time(stmt, 2),
		    store_column_int(stmt, 3), store_column_int(stmt, 4),
		    arg) == -1)
			break;
	store_finalize(stmt);
	return rc == STORE_DONE || rc == STORE_ROW ? 0 : -1;
}

/*
 * An outage inside a maintenance window: planned, no incident (its
 * incident_id and detail are not read).
 */
int
store_outage_planned(struct store *st, const struct store_outage *o,
    int64_t *outage_id)
{
	return store_outage_insert(st, o, 1, outage_id);
}

int
store_outage_close(struct store *st, int64_t outage_id, int64_t ended_at)
{
	return store_run(st, "UPDATE outages SET ended_at = ?"
	    " WHERE id = ? AND ended_at IS NULL", "TI", ended_at, outage_id);
}

/* ------------------------------------------------------------------ */
/* The workflow: what people record, through the control socket.      */

/*
 * Every column of the record's table, of incident ID; free with
 * _info_clear.  1: read, 0: no such incident.
 */
static int
store_incident_read(struct store *st, int64_t id,
    struct store_incident_info *inc)
{
	struct store_query *stmt;
	char		*sql;
	size_t		 i;
	int		 col, rc;

	memset(inc, 0, sizeof(*inc));
	xasprintf(&sql, "SELECT %s FROM incidents WHERE id = ?",
	    record_columns());
	stmt = store_stmt(st, sql, "I", id);
	free(sql);
	if (stmt == NULL)
		return -1;
	if ((rc = store_step(stmt)) != STORE_ROW) {
		store_finalize(stmt);
		return rc == STORE_DONE ? 0 : -1;
	}
	inc->id = id;
	for (i = 0; i < RECORD_NFIELDS; i++) {
		col = (int)i;
		if (store_column_null(stmt, col))
			continue;
		if (record_fields[i].type == RECORD_TIME)
			inc->num[i] = store_column_time(stmt, col);
		else if (record_fields[i].type != RECORD_TEXT) {
			inc->num[i] = store_column_int64(stmt, col);
			continue;
		}
		inc->text[i] = xstrdup((const char *)store_column_text(stmt,
		    col));
	}
	store_finalize(stmt);
	return 1;
}

/* Field ID of INC into BUF, "" when unset. */
static void
store_incident_text(char *buf, size_t size,
    const struct store_incident_info *inc, enum record_id id)
{
	snprintf(buf, size, "%s", inc->text[id] != NULL ? inc->text[id] : "");
}

/*
 * The workflow's named state (store.h) out of the record's table: read
 * as the notices read it, copied by the fields' RECORD_ names, so that
 * no column list nor column number is written here.  1: found, 0: no
 * such incident.
 */
int
store_incident_get(struct store *st, int64_t id, struct store_incident *inc)
{
	struct store_incident_info	 i;
	int				 rc;

	memset(inc, 0, sizeof(*inc));
	if ((rc = store_incident_read(st, id, &i)) != 1)
		return rc;
	inc->id = id;
	store_incident_text(inc->system, sizeof(inc->system), &i,
	    RECORD_SYSTEM);
	store_incident_text(inc->status, sizeof(inc->status), &i,
	    RECORD_STATUS);
	store_incident_text(inc->kind, sizeof(inc->kind), &i, RECORD_KIND);
	store_incident_text(inc->owner, sizeof(inc->owner), &i,
	    RECORD_OWNER);
	store_incident_text(inc->ticket, sizeof(inc->ticket), &i,
	    RECORD_TICKET);
	/* Levels are 0-4, flags 0-1: an int holds them. */
	inc->level = (int)i.num[RECORD_LEVEL];
	inc->availability_level = (int)i.num[RECORD_AVAILABILITY_LEVEL];
	inc->confidentiality_level = (int)i.num[RECORD_CONFIDENTIALITY_LEVEL];
	inc->integrity_level = (int)i.num[RECORD_INTEGRITY_LEVEL];
	inc->major = (int)i.num[RECORD_MAJOR];
	inc->core = (int)i.num[RECORD_CORE];
	inc->critical_infrastructure =
	    (int)i.num[RECORD_CRITICAL_INFRASTRUCTURE];
	inc->rto_ms = i.num[RECORD_RTO_MS];
	inc->restored_at = i.num[RECORD_RESTORED_AT];
	inc->started_at = i.num[RECORD_STARTED_AT];
	inc->opened_at = i.num[RECORD_OPENED_AT];
	inc->reported_at = i.num[RECORD_REPORTED_AT];
	store_incident_info_clear(&i);
	return 1;
}

/* A column name from the caller's own table, never from outside. */
static int
store_valid_column(const char *col)
{
	const char	*s;

	for (s = col; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || *s == '_'))
			return 0;
	return s != col && s - col < 64;
}

/*
 * Set N columns of incident ID; VALS are text (NULL for NULL), which the
 * columns' affinity turns into numbers where they hold numbers.
 */
int
store_incident_update(struct store *st, int64_t id, int n,
    const char *const cols[], const char *const vals[])
{
	struct store_query	*stmt;
	char		 sql[1024];
	size_t		 len;
	int		 i;

	len = (size_t)snprintf(sql, sizeof(sql), "UPDATE incidents SET ");
	for (i = 0; i < n; i++) {
		if (!store_valid_column(cols[i]))
			fatalx("store: bad column \"%s\"", cols[i]);
		len += (size_t)snprintf(sql + len, sizeof(sql) - len,
		    "%s%s = ?", i > 0 ? ", " : "", cols[i]);
		if (len >= sizeof(sql))
			fatalx("store: update too long");
	}
	if ((size_t)snprintf(sql + len, sizeof(sql) - len, " WHERE id = ?") >=
	    sizeof(sql) - len)
		fatalx("store: update too long");
	if ((stmt = store_prepare(st, sql)) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (vals[i] != NULL)
			store_bind_text(stmt, i + 1, vals[i]);
	store_bind_int64(stmt, n + 1, id);
	return store_write(st, stmt);
}

/* Which of COLS of incident ID are empty: bit i for cols[i]. */
int
store_incident_empty(struct store *st, int64_t id, int n,
    const char *const cols[], unsigned *empty)
{
	struct store_query	*stmt;
	char		 sql[256];
	const char	*v;
	int		 i, rc;

	*empty = 0;
	for (i = 0; i < n && i < 32; i++) {
		if (!store_valid_column(cols[i]))
			fatalx("store: bad column \"%s\"", cols[i]);
		snprintf(sql, sizeof(sql), "SELECT trim(coalesce(%s, ''))"
		    " FROM incidents WHERE id = ?", cols[i]);
		if ((stmt = store_stmt(st, sql, "I", id)) == NULL)
			return -1;
		if ((rc = store_step(stmt)) == STORE_ROW) {
			v = (const char *)store_column_text(stmt, 0);
			if (v == NULL || *v == '\0')
				*empty |= 1U << i;
		}
		store_finalize(stmt);
		if (rc != STORE_ROW)
			return -1;
	}
	return 0;
}

/* An incident that no outage opened: a confirmed warning, a drill. */
int
store_incident_insert(struct store *st, const char *kind,
    const struct store_new_incident *ni, int64_t warning, int64_t *id)
{
	*id = store_next_id(st, STORE_INCIDENTS);
	return store_run(st, "INSERT INTO incidents (kind, system, owner,"
	    " core, critical_infrastructure, rto_ms, level, availability_level,"
	    " major, status, cause, started_at, opened_at, notify_due_at,"
	    " restore_due_at, warning_id, recurrence_of, id) VALUES (?, ?, ?,"
	    " ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?, ?)",
	    "tttiiIiiitTTTTJJI", kind, ni->system, ni->owner, ni->core,
	    ni->critical_infrastructure, ni->rto_ms, ni->level, ni->level,
	    ni->major, ni->cause, ni->started_at, ni->opened_at,
	    ni->notify_due_at, ni->restore_due_at, warning, ni->recurrence_of,
	    *id);
}

/* The incident as the notifications describe it. */
int
store_incident_info(struct store *st, int64_t id,
    struct store_incident_info *inc)
{
	return store_incident_read(st, id, inc) == 1 ? 0 : -1;
}

void
store_incident_info_clear(struct store_incident_info *inc)
{
	size_t	 i;

	for (i = 0; i < RECORD_NFIELDS; i++)
		free(inc->text[i]);
	memset(inc, 0, sizeof(*inc));
}

/* A contact a person made (5.3.8): whom, how, when, by whom. */
int
store_contact_add(struct store *st, const struct store_contact *c)
{
	return store_run(st, "INSERT INTO contacts (incident_id, at,"
	    " entered_at, recipient, channel, made_by, note, offline)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", "ITTtttti", c->incident_id,
	    c->at, c->entered_at, c->recipient, c->channel, c->made_by,
	    c->note, c->offline != 0);
}
