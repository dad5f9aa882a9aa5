/*
 * store_vantage.c: vantage points' observations (issue 21).
 *
 * Several nodes share one register; each writes only its own
 * observations, a row a transition of a check (down or up, at its own
 * first failure or success), standby or not: they are its own view, not
 * the records, which only the leader writes.  The leader reads the
 * others' rows after the last it read: every transaction takes the
 * writers' lock (store_pg.c), so ids are given in commit order and none
 * is committed behind one already read.  The writes go through
 * store_run, the store's write path: held in order while the database
 * refuses them, never blocking the loop beyond STORE_BUSY_MS.
 */
#include <event2/event.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store.h"
#include "store_int.h"
#include "util.h"

/* The longest a read off the loop is awaited before its session goes. */
#define STORE_VANTAGE_READ_MS	1000

/*
 * The leader's reads of the others' observations on PostgreSQL, off the
 * loop: a connection of their own (store_pg_reader), each statement sent
 * without waiting and its answer read when the socket is readable.  One
 * read (the nodes' last contacts, then the observations after the last
 * read) is in flight at a time.
 */
struct store_vantage_reader {
	struct event_base	*base;
	struct store_db		*db;
	struct event		*ev;
	struct store_query	*q;
	int			 stage;	/* 0 idle, 1 the nodes, 2 observations */
	int64_t			 after;
	char			*self;
	int64_t			 sent;	/* mono ms, of the read */
	int			 (*seen)(const char *, const char *, void *);
	int			 (*observed)(const struct store_observation *,
				    void *);
	void			 (*done)(int, void *);
	void			*arg;
};

static int	store_vantage_rows(struct store_query *,
		    int (*)(const struct store_observation *, void *), void *);

/*
 * N observations, in one transaction and one statement: their values go
 * in as one JSON array bound to one parameter (as store_response.c's
 * buckets), so that a mass failure's thousands of transitions cost the
 * loop one commit, not one each.
 */
int
store_observations_add(struct store *st, const struct store_observation *o,
    size_t n)
{
	json_t	*rows;
	char	*text, at[TIME_STRLEN], now[TIME_STRLEN];
	size_t	 i;
	int	 rc = 0;

	if (n == 0)
		return 0;
	if ((rows = json_array()) == NULL)
		return -1;
	time_fmt(wall_ms(), now, sizeof(now));
	for (i = 0; i < n && rc == 0; i++)
		rc = json_array_append_new(rows, json_pack("[s s s s s s s]",
		    o[i].node, o[i].system, o[i].check, o[i].down ? "down" :
		    "up", time_fmt(o[i].at, at, sizeof(at)), now,
		    o[i].cause != NULL ? o[i].cause : ""));
	text = rc == 0 ? json_dumps(rows, JSON_COMPACT) : NULL;
	json_decref(rows);
	if (text == NULL)
		return -1;
	if (store_begin_own(st) == -1 ||
	    store_run(st, "INSERT INTO observations (node, system,"
	    " check_name, state, at, written_at, cause)"
	    " SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3,"
	    " value ->> 4, value ->> 5, value ->> 6 FROM json_each(?)",
	    "t", text) == -1 ||
	    store_commit(st) == -1) {
		store_rollback(st);
		rc = -1;
	}
	free(text);
	return rc;
}

/*
 * Q's rows (id, node, system, check_name, state, at, cause), each an
 * observation to CB, then Q finalised.
 */
static int
store_vantage_rows(struct store_query *q,
    int (*cb)(const struct store_observation *, void *), void *arg)
{
	struct store_observation	 o;
	int				 rc;

	if (q == NULL)
		return -1;
	while ((rc = store_step(q)) == STORE_ROW) {
		memset(&o, 0, sizeof(o));
		o.id = store_column_int64(q, 0);
		o.node = store_column_text(q, 1);
		o.system = store_column_text(q, 2);
		o.check = store_column_text(q, 3);
		o.down = strcmp(store_column_text(q, 4), "down") == 0;
		o.at = store_column_time(q, 5);
		o.cause = store_column_text(q, 6);
		if (cb(&o, arg) == -1)
			break;
	}
	store_finalize(q);
	return rc == STORE_DONE || rc == STORE_ROW ? 0 : -1;
}

/* The observations after row AFTER of nodes other than SELF, in order. */
int
store_observations_after(struct store *st, int64_t after, const char *self,
    int (*cb)(const struct store_observation *, void *), void *arg)
{
	struct store_query	*q;

	q = store_stmt(st, "SELECT id, node, system, check_name, state, at,"
	    " cause FROM observations WHERE id > ? AND node <> ?"
	    " ORDER BY id LIMIT 1000", "It", after, self);
	return store_vantage_rows(q, cb, arg);
}

/*
 * Every node's last contact, as its lead connection wrote it (lead.c,
 * once a second on PostgreSQL).
 */
int
store_vantage_points(struct store *st,
    int (*cb)(const char *, const char *, void *), void *arg)
{
	struct store_query	*q;
	int			 rc;

	if ((q = store_prepare(st, "SELECT name, last_contact FROM nodes"
	    " ORDER BY name")) == NULL)
		return -1;
	while ((rc = store_step(q)) == STORE_ROW)
		if (cb(store_column_text(q, 0), store_column_text(q, 1),
		    arg) == -1)
			break;
	store_finalize(q);
	return rc == STORE_DONE || rc == STORE_ROW ? 0 : -1;
}

/*
 * Each node's latest view of each check: the rows the trigger of
 * migration 12 keeps, one a (node, system, check), not a scan of the
 * observations.  A check a node never saw fail has none: up from its
 * start.
 */
int
store_observations_latest(struct store *st,
    int (*cb)(const struct store_observation *, void *), void *arg)
{
	return store_vantage_rows(store_stmt(st, "SELECT id, node, system,"
	    " check_name, state, at, cause FROM observations_latest"
	    " ORDER BY node, system, check_name", ""), cb, arg);
}

/*
 * Observations O past their keeping that nothing needs (see below), in
 * SQL; START is the backend's expression of an incident I's start less
 * KEEP, SHIFTED of O's time plus KEEP, as the times are written
 * (time_fmt).  Its parameters: the views read this time, after the
 * first time and up to the second, which is before KEEP ago
 * (store_observations_prune; one bound above, not two, or SQLite's
 * plan took the other and read on to KEEP ago); then, for each look at
 * the incidents, KEEP as START or SHIFTED takes it and the retention's
 * start (incidents opened since).
 *
 * Whether O is in an incident's window is answered by seeks, not by
 * looking at each of its system's incidents, which took 7-15 s a batch
 * of 500 behind 20,500 incidents of one system, on the loop:
 * - O before its system's first window (the earliest start, less KEEP,
 *   of an incident within the retention) is in none: one seek on the
 *   index on (system, started_at) (migration 16), past the incidents
 *   opened before the retention, which come first;
 * - otherwise the incidents restored after O are looked at when they
 *   are few (under 64, counted through the index on (system,
 *   restored_at), migration 15): the usual case, the oldest going a
 *   minute after their keeping; when they are many (a backlog before a
 *   burst of incidents), those that started before O plus KEEP instead
 *   (through migration 16's index), fewer then;
 * - and those not restored, which last until now, few.
 * Either look gives the same answer; only its cost differs.  (A view
 * between windows with many incidents both before and after it still
 * looks at each that started before it: history.c's bound on a batch's
 * time keeps that off the probes' way.)  Each is in
 * its index's order (ORDER BY ... LIMIT), which keeps PostgreSQL's
 * planner on the index when one system has most incidents: it read the
 * whole table for each view instead, 35 ms each (EXPLAIN ANALYZE).
 */
#define STORE_VANTAGE_PRUNABLE(start, shifted) \
	" WHERE o.at > ? AND o.at <= ?" \
	"  AND NOT EXISTS (SELECT 1 FROM observations_latest l" \
	"   WHERE l.node = o.node AND l.system = o.system" \
	"   AND l.check_name = o.check_name AND l.id = o.id)" \
	"  AND NOT EXISTS (SELECT 1 FROM outages u" \
	"   WHERE u.system = o.system AND u.ended_at IS NULL)" \
	"  AND (coalesce((SELECT " start " FROM incidents i" \
	"   WHERE i.system = o.system AND i.opened_at >= ?" \
	"   ORDER BY i.started_at LIMIT 1) > o.at, true)" \
	"  OR (CASE WHEN (SELECT count(*) FROM (SELECT 1 FROM incidents i" \
	"   WHERE i.system = o.system AND i.restored_at >= o.at" \
	"   ORDER BY i.restored_at LIMIT 64) a) < 64" \
	"  THEN (SELECT 1 FROM incidents i" \
	"   WHERE i.system = o.system AND i.restored_at >= o.at" \
	"   AND i.opened_at >= ? AND o.at >= " start \
	"   ORDER BY i.restored_at LIMIT 1) IS NULL" \
	"  ELSE (SELECT 1 FROM incidents i" \
	"   WHERE i.system = o.system AND i.started_at <= " shifted \
	"   AND i.opened_at >= ? AND coalesce(i.restored_at, '') >= o.at" \
	"   ORDER BY i.started_at DESC LIMIT 1) IS NULL" \
	"  END" \
	"  AND NOT EXISTS (SELECT 1 FROM incidents i" \
	"   WHERE i.system = o.system AND i.restored_at IS NULL" \
	"   AND i.opened_at >= ? AND o.at >= " start ")))"
/* KEEP as a modifier, "-86400.000 seconds" (SHIFTED's "+"); %f SS.SSS. */
#define STORE_VANTAGE_START_SQLITE \
	"strftime('%Y-%m-%dT%H:%M:%fZ', i.started_at, ?)"
#define STORE_VANTAGE_SHIFTED_SQLITE \
	"strftime('%Y-%m-%dT%H:%M:%fZ', o.at, ?)"
/* KEEP as an interval, "86400000 milliseconds". */
#define STORE_VANTAGE_START_PG \
	"to_char((i.started_at::timestamptz - ?::interval)" \
	" AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
#define STORE_VANTAGE_SHIFTED_PG \
	"to_char((o.at::timestamptz + ?::interval)" \
	" AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
#define STORE_VANTAGE_PRUNABLE_PG \
	STORE_VANTAGE_PRUNABLE(STORE_VANTAGE_START_PG, STORE_VANTAGE_SHIFTED_PG)
#define STORE_VANTAGE_PRUNABLE_SQLITE \
	STORE_VANTAGE_PRUNABLE(STORE_VANTAGE_START_SQLITE, \
	STORE_VANTAGE_SHIFTED_SQLITE)

static const char store_vantage_probe[] =
	"SELECT 1 FROM observations o" STORE_VANTAGE_PRUNABLE_SQLITE " LIMIT 1";
/*
 * PostgreSQL's prune is cancelled by the server past this (ms): the loop
 * waits for a statement up to a second, then drops the session, whose
 * query goes on in the server, holding the rows it deleted, while the
 * next session's prune waits on them; with a plan made before the
 * incidents' statistics (20,500 just added) a batch took 2 s and each
 * session after it was dropped in turn.
 */
#define STORE_VANTAGE_PG_MS	"250"
/*
 * The views a prune reads at most, as a multiple of its batch: those it
 * keeps cost it as much as those it deletes (3-4 us each on PostgreSQL,
 * 6-15 us on SQLite), so a batch's time bounds its reading only if its
 * reading is bounded too.  Read every time from the oldest, 80,000 kept
 * views (a long incident's) took PostgreSQL past STORE_VANTAGE_PG_MS:
 * each prune was cancelled, and nothing newer was pruned again.
 */
#define STORE_VANTAGE_READS	8
static const char store_vantage_chunk[] =
	"SELECT at FROM observations WHERE at > ? AND at < ?"
	" ORDER BY at LIMIT 1 OFFSET ?";
static const char *const store_vantage_delete[2] = {
	"DELETE FROM observations WHERE id IN (SELECT o.id FROM observations o"
	STORE_VANTAGE_PRUNABLE_PG "  ORDER BY o.at LIMIT ?)",
	"DELETE FROM observations WHERE id IN (SELECT o.id FROM observations o"
	STORE_VANTAGE_PRUNABLE_SQLITE "  ORDER BY o.at LIMIT ?)"
};

/* The views up to END judged, the LAST read if it is the keeping. */
static void
store_vantage_swept(struct store_prune_at *at, const char *end, int last)
{
	snprintf(at->from, sizeof(at->from), "%s", end);
	at->end = last;
}

/*
 * Up to BATCH observations older than KEEP (before NOW) deleted, oldest
 * first after AT's time ("" from the oldest): the number deleted, -1 if
 * none could be.
 *
 * A prune reads STORE_VANTAGE_READS times BATCH views at most, those
 * after AT's, and AT moves past those it judged (all of them unless it
 * deleted a full batch), with AT's end set once it read up to KEEP ago:
 * the next prune reads the next ones, not again the kept ones before
 * them.  A view kept when it was read but not now (its incident
 * restored or gone from the retention, a later view of its check
 * written), or one written late with an old time, is pruned when the
 * caller starts from the oldest again (history.c).  Kept however old:
 * - the latest of each node's views of each check (observations_latest):
 *   what the leader reads at its start as the node's view now;
 * - a system's while it has an open outage: the views it stands on;
 * - a system's around each incident still within the records'
 *   retention (opened less than RETENTION ago): from KEEP before it
 *   started until it was restored, though the incident's opened row
 *   quotes every view already.
 * The append-only trigger is lifted for this transaction only: a
 * setting local to it on PostgreSQL (migration 13), the trigger dropped
 * and made again within it on SQLite, which has no roles to check.
 */
int
store_observations_prune(struct store *st, int64_t now, int64_t keep,
    int64_t retention, int batch, struct store_prune_at *at)
{
	struct store_query	*q;
	char			 span[64], later[64], end[TIME_STRLEN];
	int			 n, sqlite = store_sqlite(st) != NULL, rc, last;

	if (batch < 1 || keep <= 0)
		return -1;
	/* The reads' end: the last of them, else all up to KEEP ago. */
	if ((q = store_stmt(st, store_vantage_chunk, "tTi", at->from,
	    now - keep, batch * STORE_VANTAGE_READS - 1)) == NULL)
		return -1;
	if ((rc = store_step(q)) == STORE_ROW)
		snprintf(end, sizeof(end), "%s", store_column_text(q, 0));
	store_finalize(q);
	if (rc != STORE_ROW && rc != STORE_DONE)
		return -1;
	/* Before KEEP ago: up to its last millisecond, as times are written. */
	last = rc == STORE_DONE;
	if (last)
		time_fmt(now - keep - 1, end, sizeof(end));
	if (sqlite) {
		snprintf(span, sizeof(span), "-%lld.%03lld seconds",
		    (long long)(keep / 1000), (long long)(keep % 1000));
		snprintf(later, sizeof(later), "+%s", span + 1);
	} else {
		snprintf(span, sizeof(span), "%lld milliseconds",
		    (long long)keep);
		snprintf(later, sizeof(later), "%s", span);
	}
	/*
	 * None to prune, the usual case: a read, and no commit.  (On
	 * PostgreSQL a transaction that changed nothing commits nothing,
	 * and its statement is bounded only within one.)
	 */
	if (sqlite) {
		if ((q = store_stmt(st, store_vantage_probe, "tttTTttTTt",
		    at->from, end, span, now - retention,
		    now - retention, span, later, now - retention,
		    now - retention, span)) == NULL)
			return -1;
		rc = store_step(q);
		store_finalize(q);
		if (rc == STORE_DONE)
			store_vantage_swept(at, end, last);
		if (rc != STORE_ROW)
			return rc == STORE_DONE ? 0 : -1;
	}
	if (store_begin(st) == -1)
		return -1;
	rc = store_run(st, sqlite ? "DROP TRIGGER observations_no_delete" :
	    "SELECT set_config('rtowatch.prune', 'on', true),"
	    " set_config('statement_timeout', '" STORE_VANTAGE_PG_MS "', true)",
	    "");
	if (rc == 0)
		rc = store_run(st, store_vantage_delete[sqlite],
		    "tttTTttTTti", at->from, end, span,
		    now - retention, now - retention, span, later,
		    now - retention, now - retention, span, batch);
	n = rc == 0 ? store_changed(st) : -1;
	/* Not beyond the prune: its transaction may be a loop turn's. */
	if (rc == 0)
		rc = store_run(st, sqlite ? STORE_OBSERVATIONS_NO_DELETE :
		    "SELECT set_config('rtowatch.prune', '', true),"
		    " set_config('statement_timeout', '0', true)", "");
	if (rc == -1 || store_commit(st) == -1) {
		store_rollback(st);
		return -1;
	}
	/* A full batch may have stopped before the reads' end. */
	if (n < batch)
		store_vantage_swept(at, end, last);
	return n;
}

struct store_vantage_reader *
store_vantage_reader_new(struct event_base *base, const char *conninfo)
{
	struct store_vantage_reader	*r;

	r = xcalloc(1, sizeof(*r));
	r->base = base;
	r->db = store_pg_reader(conninfo, base);
	return r;
}

/* The read is over: RC 0 read, -1 not (the views stand as last read). */
static void
store_vantage_read_end(struct store_vantage_reader *r, int rc)
{
	if (r->ev != NULL)
		event_free(r->ev);
	r->ev = NULL;
	store_finalize(r->q);
	r->q = NULL;
	if (rc == -1 && r->db->error[0] != '\0')
		log_debug("vantage points: not read: %s", r->db->error);
	r->stage = 0;
	free(r->self);
	r->self = NULL;
	r->done(rc, r->arg);
}

static void	store_vantage_read_cb(evutil_socket_t, short, void *);

/* Send the stage's statement and wait for its answer on the loop. */
static int
store_vantage_read_send(struct store_vantage_reader *r)
{
	struct timeval	 tv;
	int64_t		 left;

	if (r->stage == 1)
		r->q = r->db->be->prepare(r->db, "SELECT name, last_contact"
		    " FROM nodes ORDER BY name");
	else {
		r->q = r->db->be->prepare(r->db, "SELECT id, node, system,"
		    " check_name, state, at, cause FROM observations"
		    " WHERE id > ? AND node <> ? ORDER BY id LIMIT 1000");
		if (r->q != NULL) {
			r->db->be->bind_int64(r->q, 1, r->after);
			r->db->be->bind_text(r->q, 2, r->self);
		}
	}
	if (r->q == NULL || store_pg_send(r->q) != STORE_OK)
		return -1;
	if ((r->ev = event_new(r->base, store_pg_fd(r->db), EV_READ |
	    EV_PERSIST, store_vantage_read_cb, r)) == NULL)
		fatalx("store_vantage: event_new failed");
	left = STORE_VANTAGE_READ_MS - (mono_ms() - r->sent);
	tv.tv_sec = (time_t)(left > 0 ? left / 1000 : 0);
	tv.tv_usec = (suseconds_t)(left > 0 ? left % 1000 * 1000 : 0);
	event_add(r->ev, &tv);
	return 0;
}

static void
store_vantage_read_cb(evutil_socket_t fd, short events, void *arg)
{
	struct store_vantage_reader	*r = arg;
	int				 rc;

	(void)fd;
	if (events & EV_TIMEOUT) {
		snprintf(r->db->error, sizeof(r->db->error), "no answer within "
		    "%d ms; its session is made again", STORE_VANTAGE_READ_MS);
		store_pg_abandon(r->db);
		store_vantage_read_end(r, -1);
		return;
	}
	if ((rc = store_pg_poll(r->q)) == STORE_ROW)
		return;		/* more to come */
	if (rc != STORE_DONE) {
		store_vantage_read_end(r, -1);
		return;
	}
	event_free(r->ev);
	r->ev = NULL;
	if (r->stage == 1) {
		while (store_step(r->q) == STORE_ROW)
			if (r->seen(store_column_text(r->q, 0),
			    store_column_text(r->q, 1), r->arg) == -1)
				break;
		store_finalize(r->q);
		r->q = NULL;
		r->stage = 2;
		if (store_vantage_read_send(r) == -1)
			store_vantage_read_end(r, -1);
		return;
	}
	rc = store_vantage_rows(r->q, r->observed, r->arg);
	r->q = NULL;
	store_vantage_read_end(r, rc);
}

/*
 * As store_vantage_points, then store_observations_after, each row to
 * its callback, but without holding the loop: DONE is called once both
 * are read (0) or not (-1), later, or at once if the read cannot be sent.
 * 1: a read is in flight still, and this one is not made.
 */
int
store_vantage_read(struct store_vantage_reader *r, int64_t after,
    const char *self, int (*seen)(const char *, const char *, void *),
    int (*observed)(const struct store_observation *, void *),
    void (*done)(int, void *), void *arg)
{
	if (r->stage != 0)
		return 1;
	r->after = after;
	r->self = xstrdup(self);
	r->seen = seen;
	r->observed = observed;
	r->done = done;
	r->arg = arg;
	r->stage = 1;
	r->sent = mono_ms();
	if (store_vantage_read_send(r) == -1)
		store_vantage_read_end(r, -1);
	return 0;
}

void
store_vantage_reader_free(struct store_vantage_reader *r)
{
	if (r == NULL)
		return;
	if (r->ev != NULL)
		event_free(r->ev);
	store_finalize(r->q);
	free(r->self);
	store_pg_reader_free(r->db);
	free(r);
}
