/*
 * store.c: the SQLite database.
 *
 * One writer (the daemon), WAL mode so readers never block it.  The schema
 * is an ordered list of migrations; PRAGMA user_version says how many have
 * run, and each one runs in its own transaction, so an interrupted upgrade
 * leaves the file at the last complete version.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "log.h"
#include "store.h"
#include "util.h"

struct store {
	sqlite3		*db;
	char		*path;
	int		 appended;	/* the timeline, in this transaction */
	void		 (*on_commit)(void *);
	void		*on_commit_arg;
};

static const char *const store_migrations[] = {
	/* 1: outages, incidents and their timeline. */
	"CREATE TABLE incidents ("
	"  id INTEGER PRIMARY KEY,"
	"  kind TEXT NOT NULL DEFAULT 'outage'"
	"    CHECK (kind IN ('outage', 'warning', 'manual', 'drill')),"
	"  system TEXT NOT NULL,"
	"  owner TEXT,"
	"  core INTEGER NOT NULL CHECK (core IN (0, 1)),"
	"  critical_infrastructure INTEGER NOT NULL"
	"    CHECK (critical_infrastructure IN (0, 1)),"
	"  rto_ms INTEGER NOT NULL,"
	"  level INTEGER NOT NULL CHECK (level BETWEEN 1 AND 4),"
	"  availability_level INTEGER NOT NULL"
	"    CHECK (availability_level BETWEEN 1 AND 4),"
	"  major INTEGER NOT NULL CHECK (major IN (0, 1)),"
	"  status TEXT NOT NULL CHECK (status IN ('open', 'restored', 'closed')),"
	"  cause TEXT,"
	"  started_at TEXT NOT NULL,"
	"  opened_at TEXT NOT NULL,"
	"  notify_due_at TEXT NOT NULL,"
	"  restore_due_at TEXT,"
	"  restored_at TEXT,"
	"  within_rto INTEGER CHECK (within_rto IN (0, 1)),"
	"  closed_at TEXT,"
	"  closed_by TEXT,"
	/* Set by a person, with a reason in the timeline (5.3.2). */
	"  confidentiality_level INTEGER"
	"    CHECK (confidentiality_level BETWEEN 1 AND 4),"
	"  integrity_level INTEGER CHECK (integrity_level BETWEEN 1 AND 4),"
	/* Form IMS-P-009-01 (5.2.4, 5.4.7.3.6), filled in by people. */
	"  category TEXT,"		/* policy.conf's categories: DOS-1 */
	"  description TEXT,"		/* 事件說明 */
	"  scope TEXT,"			/* B 影響範圍及損害評估 */
	"  loss TEXT,"			/* 損失評估 */
	"  support TEXT,"		/* 支援申請 */
	"  measures TEXT,"		/* 應變措施 */
	"  containment TEXT,"		/* C 損害控制及復原歷程 */
	"  investigation TEXT,"		/* D 調查及處理歷程 */
	"  root_cause TEXT,"		/* E 原因分析 */
	"  prevention TEXT,"		/* F 防範措施 */
	"  prevention_tracking TEXT,"	/* G 預計完成時間及成效追蹤 */
	/* The workflow's steps: who did them and when. */
	"  acknowledged_at TEXT,"
	"  acknowledged_by TEXT,"
	"  reported_at TEXT,"		/* on the national portal */
	"  ticket TEXT,"		/* the portal's ticket number */
	"  reported_by TEXT,"
	"  controlled_at TEXT,"		/* damage controlled (5.3.4) */
	"  controlled_by TEXT,"
	"  report_filed_at TEXT,"	/* investigation report (5.3.3) */
	"  report_filed_by TEXT,"
	"  warning_id INTEGER REFERENCES warnings(id)"
	");"
	/*
	 * 資安預警事件: early warnings, from the packet counters or from an
	 * outside ticket (N-ASOC, S-ASOC) entered by a person.  A person
	 * answers each: false positive, confirmed (opens an incident) or
	 * cannot be determined, with a reason.
	 */
	"CREATE TABLE warnings ("
	"  id INTEGER PRIMARY KEY,"
	"  source TEXT NOT NULL,"	/* anomaly NAME, N-ASOC, manual... */
	"  reference TEXT,"		/* the outside ticket's number */
	"  system TEXT,"		/* the watched system, if known */
	"  summary TEXT NOT NULL,"
	"  detail TEXT NOT NULL DEFAULT '',"
	"  opened_at TEXT NOT NULL,"
	"  opened_by TEXT NOT NULL,"
	"  ended_at TEXT,"		/* an anomaly episode's end */
	"  state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open',"
	"    'false-positive', 'confirmed', 'undetermined')),"
	"  answered_at TEXT,"
	"  answered_by TEXT,"
	"  reason TEXT,"
	"  incident_id INTEGER REFERENCES incidents(id)"
	");"
	/*
	 * What an anomaly episode saw, for sharing (5.9): its top sources,
	 * targets, ports and MAC addresses, with their packet counts.
	 */
	"CREATE TABLE warning_indicators ("
	"  id INTEGER PRIMARY KEY,"
	"  warning_id INTEGER NOT NULL REFERENCES warnings(id),"
	"  kind TEXT NOT NULL"
	"    CHECK (kind IN ('source', 'target', 'port', 'mac')),"
	"  value TEXT NOT NULL,"
	"  packets INTEGER NOT NULL DEFAULT 0,"
	"  UNIQUE (warning_id, kind, value)"
	");"
	/* Maintenance windows added by people, beside the rules' ones. */
	"CREATE TABLE maintenance ("
	"  id INTEGER PRIMARY KEY,"
	"  system TEXT NOT NULL,"
	"  starts_at TEXT NOT NULL,"
	"  ends_at TEXT NOT NULL,"
	"  reason TEXT NOT NULL DEFAULT '',"
	"  created_at TEXT NOT NULL,"
	"  created_by TEXT NOT NULL,"
	"  CHECK (ends_at > starts_at)"
	");"
	"CREATE TABLE outages ("
	"  id INTEGER PRIMARY KEY,"
	"  system TEXT NOT NULL,"
	"  incident_id INTEGER REFERENCES incidents(id),"
	"  started_at TEXT NOT NULL,"
	"  detected_at TEXT NOT NULL,"
	"  ended_at TEXT,"
	"  cause TEXT,"
	/* In a maintenance window: recorded, but no incident. */
	"  planned INTEGER NOT NULL DEFAULT 0 CHECK (planned IN (0, 1))"
	");"
	/* The database itself refuses a second open outage of one system. */
	"CREATE UNIQUE INDEX outages_one_open ON outages(system)"
	"  WHERE ended_at IS NULL;"
	/*
	 * Append-only and hash-chained: hash is SHA-256 over prev_hash and
	 * the row's fields (chain.h), so an edited, inserted or
	 * deleted row breaks the chain from there on.
	 */
	"CREATE TABLE timeline ("
	"  id INTEGER PRIMARY KEY,"
	"  incident_id INTEGER REFERENCES incidents(id),"
	"  warning_id INTEGER REFERENCES warnings(id),"
	"  at TEXT NOT NULL,"
	"  event TEXT NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  detail TEXT NOT NULL DEFAULT '',"
	"  prev_hash TEXT NOT NULL,"
	"  hash TEXT NOT NULL UNIQUE"
	");"
	"CREATE TRIGGER timeline_no_update BEFORE UPDATE ON timeline"
	"  BEGIN SELECT RAISE(ABORT, 'the timeline is append-only'); END;"
	"CREATE TRIGGER timeline_no_delete BEFORE DELETE ON timeline"
	"  BEGIN SELECT RAISE(ABORT, 'the timeline is append-only'); END;"
	"CREATE INDEX timeline_incident ON timeline(incident_id, id);"
	"CREATE INDEX timeline_warning ON timeline(warning_id, id);"
	/*
	 * The procedure's clocks, one row per obligation: a raised level
	 * adds a notify clock of its own (5.4.2).  A clock is open until
	 * stopped_at; reminders_done and breached_at make every reminder
	 * and the missed deadline fire once, across restarts.
	 */
	"CREATE TABLE clocks ("
	"  id INTEGER PRIMARY KEY,"
	"  incident_id INTEGER NOT NULL REFERENCES incidents(id),"
	"  kind TEXT NOT NULL CHECK (kind IN ('notify', 'restore', 'report')),"
	"  level INTEGER NOT NULL CHECK (level BETWEEN 1 AND 4),"
	"  started_at TEXT NOT NULL,"
	"  due_at TEXT NOT NULL,"
	"  reminders_done INTEGER NOT NULL DEFAULT 0,"
	"  breached_at TEXT,"
	"  stopped_at TEXT,"
	"  stopped_by TEXT,"
	"  UNIQUE (incident_id, kind, level)"
	");"
	/*
	 * 可能影響範圍: systems that failed while a system they depend on
	 * was down are listed on that system's incident, with their times,
	 * instead of opening incidents of their own.
	 */
	"CREATE TABLE incident_scope ("
	"  id INTEGER PRIMARY KEY,"
	"  incident_id INTEGER NOT NULL REFERENCES incidents(id),"
	"  system TEXT NOT NULL,"
	"  outage_id INTEGER NOT NULL REFERENCES outages(id),"
	"  started_at TEXT NOT NULL,"
	"  ended_at TEXT"
	");"
	/*
	 * What the engine decided to tell whom: the outbox.  The mailer
	 * (mailer.c) sends the queued rows, oldest first within each
	 * incident and recipient, and marks one sent only once the server
	 * accepted it.  address is where it went (the recipient's contact
	 * at the time); alerted_at marks a row that was overdue and raised
	 * the "mail failing" alert, so that the alert is given once per
	 * episode, across restarts too.
	 */
	"CREATE TABLE notifications ("
	"  id INTEGER PRIMARY KEY,"
	"  incident_id INTEGER NOT NULL REFERENCES incidents(id),"
	"  channel TEXT NOT NULL DEFAULT 'email' CHECK (channel IN ('email')),"
	"  recipient TEXT NOT NULL,"
	"  event TEXT NOT NULL,"
	"  subject TEXT NOT NULL,"
	"  body TEXT NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'queued'"
	"    CHECK (state IN ('queued', 'sent', 'failed')),"
	"  created_at TEXT NOT NULL,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_try_at TEXT,"
	"  last_error TEXT,"
	"  address TEXT,"
	"  alerted_at TEXT,"
	"  sent_at TEXT"
	");"
	"CREATE INDEX notifications_queue ON notifications(state,"
	"  incident_id, recipient, id);",
	/*
	 * 2: the forms' last fields and who was told how.  Levels 3-4 are
	 * incidents (事故) owing a corrective and preventive action form
	 * (矯正及預防措施處理單, 5.3.3); a person may declare an incident
	 * major, with a reason; the portal asks whether other connected
	 * units are affected (5.3.7.3.1) and is closed with a result
	 * (5.3.7.3.5, 5.3.7.3.10).  contacts are the calls, faxes and
	 * visits people make (5.3.8), the offline notification of
	 * 5.3.7.3.3 among them: at is when it was made, entered_at when it
	 * was recorded.
	 */
	"ALTER TABLE incidents ADD COLUMN corrective_action_ref TEXT;"
	"ALTER TABLE incidents ADD COLUMN other_units_affected TEXT;"
	"ALTER TABLE incidents ADD COLUMN major_reason TEXT;"
	"ALTER TABLE incidents ADD COLUMN portal_closed_at TEXT;"
	"ALTER TABLE incidents ADD COLUMN portal_closed_by TEXT;"
	"ALTER TABLE incidents ADD COLUMN portal_result TEXT;"
	"CREATE TABLE contacts ("
	"  id INTEGER PRIMARY KEY,"
	"  incident_id INTEGER NOT NULL REFERENCES incidents(id),"
	"  at TEXT NOT NULL,"
	"  entered_at TEXT NOT NULL,"
	"  recipient TEXT NOT NULL,"
	"  channel TEXT NOT NULL"
	"    CHECK (channel IN ('phone', 'fax', 'in-person', 'email')),"
	"  made_by TEXT NOT NULL,"
	"  note TEXT NOT NULL DEFAULT '',"
	"  offline INTEGER NOT NULL DEFAULT 0 CHECK (offline IN (0, 1))"
	");"
	"CREATE INDEX contacts_incident ON contacts(incident_id, at);",
	/*
	 * 3: the closure deadline (結案期限, 5.3.8) is a clock of its own,
	 * kind 'close', so the clocks table is made again with it allowed
	 * (SQLite cannot change a CHECK in place); its rows are kept as
	 * they are.  drill_factor is a drill's time compression (5.8.1): 1
	 * for real lengths, 60 makes an hour a minute; NULL for every
	 * incident that is not a drill.
	 */
	"CREATE TABLE clocks_new ("
	"  id INTEGER PRIMARY KEY,"
	"  incident_id INTEGER NOT NULL REFERENCES incidents(id),"
	"  kind TEXT NOT NULL"
	"    CHECK (kind IN ('notify', 'restore', 'report', 'close')),"
	"  level INTEGER NOT NULL CHECK (level BETWEEN 1 AND 4),"
	"  started_at TEXT NOT NULL,"
	"  due_at TEXT NOT NULL,"
	"  reminders_done INTEGER NOT NULL DEFAULT 0,"
	"  breached_at TEXT,"
	"  stopped_at TEXT,"
	"  stopped_by TEXT,"
	"  UNIQUE (incident_id, kind, level)"
	");"
	"INSERT INTO clocks_new SELECT * FROM clocks;"
	"DROP TABLE clocks;"
	"ALTER TABLE clocks_new RENAME TO clocks;"
	"ALTER TABLE incidents ADD COLUMN drill_factor INTEGER"
	"  CHECK (drill_factor BETWEEN 1 AND 3600);",
};

#define STORE_NMIGRATIONS \
	(int)(sizeof(store_migrations) / sizeof(store_migrations[0]))

_Static_assert(STORE_NMIGRATIONS == STORE_SCHEMA_VERSION,
    "STORE_SCHEMA_VERSION must count the migrations");

static int
store_exec(struct store *st, const char *sql)
{
	char	*err = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		log_warnx("%s: %s", st->path, err ? err : "unknown error");
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

static int
store_user_version(struct store *st)
{
	sqlite3_stmt	*stmt;
	int		 v = -1;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &stmt,
	    NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(stmt) == SQLITE_ROW)
		v = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	return v;
}

static int
store_migrate(struct store *st)
{
	char	 pragma[64];
	int	 v;

	if ((v = store_user_version(st)) < 0)
		return -1;
	if (v > STORE_NMIGRATIONS) {
		log_warnx("%s: schema version %d is newer than this "
		    "rtowatchd knows (%d)", st->path, v, STORE_NMIGRATIONS);
		return -1;
	}
	for (; v < STORE_NMIGRATIONS; v++) {
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d;",
		    v + 1);
		if (store_exec(st, "BEGIN IMMEDIATE") == -1)
			return -1;
		if (store_exec(st, store_migrations[v]) == -1 ||
		    store_exec(st, pragma) == -1) {
			store_exec(st, "ROLLBACK");
			return -1;
		}
		if (store_exec(st, "COMMIT") == -1)
			return -1;
		log_info("%s: schema migrated to version %d", st->path, v + 1);
	}
	return 0;
}

struct store *
store_open(const char *path)
{
	struct store	*st;

	st = xcalloc(1, sizeof(*st));
	st->path = xstrdup(path);
	if (sqlite3_open_v2(path, &st->db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		log_warnx("%s: %s", path, st->db ?
		    sqlite3_errmsg(st->db) : "cannot open");
		store_close(st);
		return NULL;
	}
	sqlite3_busy_timeout(st->db, 5000);
	/*
	 * synchronous=FULL: a committed outage or incident must survive a
	 * power cut, not only a crash of the daemon.
	 */
	if (store_exec(st, "PRAGMA journal_mode = WAL;") == -1 ||
	    store_exec(st, "PRAGMA synchronous = FULL;") == -1 ||
	    store_exec(st, "PRAGMA foreign_keys = ON;") == -1 ||
	    store_migrate(st) == -1) {
		store_close(st);
		return NULL;
	}
	return st;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	if (st->db != NULL)
		sqlite3_close(st->db);
	free(st->path);
	free(st);
}

const char *
store_path(const struct store *st)
{
	return st->path;
}

static sqlite3_stmt *
store_prepare(struct store *st, const char *sql)
{
	sqlite3_stmt	*stmt;

	if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		log_warnx("%s: %s", st->path, sqlite3_errmsg(st->db));
		return NULL;
	}
	return stmt;
}

static void
store_bind_time(sqlite3_stmt *stmt, int col, int64_t t)
{
	char	 buf[TIME_STRLEN];

	if (t == 0)
		sqlite3_bind_null(stmt, col);
	else
		sqlite3_bind_text(stmt, col, time_fmt(t, buf, sizeof(buf)), -1,
		    SQLITE_TRANSIENT);
}

static int64_t
store_column_time(sqlite3_stmt *stmt, int col)
{
	const unsigned char	*s;
	int64_t			 t;

	if ((s = sqlite3_column_text(stmt, col)) == NULL ||
	    time_parse((const char *)s, &t) == -1)
		return 0;
	return t;
}

/* Step a statement that returns no rows, then finalize it. */
static int
store_done(struct store *st, sqlite3_stmt *stmt)
{
	int	 rc;

	rc = sqlite3_step(stmt);
	if (rc != SQLITE_DONE)
		log_warnx("%s: %s", st->path, sqlite3_errmsg(st->db));
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
store_open_outages(struct store *st,
    int (*cb)(const struct store_open_outage *, void *), void *arg)
{
	struct store_open_outage	 o;
	sqlite3_stmt			*stmt;
	int				 rc;

	stmt = store_prepare(st, "SELECT o.id, o.incident_id, o.system,"
	    " o.started_at, o.detected_at, i.level, i.major, i.opened_at,"
	    " i.system"
	    " FROM outages o LEFT JOIN incidents i ON i.id = o.incident_id"
	    " WHERE o.ended_at IS NULL ORDER BY o.id");
	if (stmt == NULL)
		return -1;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		memset(&o, 0, sizeof(o));
		o.outage_id = sqlite3_column_int64(stmt, 0);
		o.incident_id = sqlite3_column_int64(stmt, 1);
		snprintf(o.system, sizeof(o.system), "%s",
		    (const char *)sqlite3_column_text(stmt, 2));
		o.started_at = store_column_time(stmt, 3);
		o.detected_at = store_column_time(stmt, 4);
		o.level = sqlite3_column_int(stmt, 5);
		o.major = sqlite3_column_int(stmt, 6);
		o.opened_at = store_column_time(stmt, 7);
		if (sqlite3_column_type(stmt, 8) != SQLITE_NULL)
			snprintf(o.incident_system, sizeof(o.incident_system),
			    "%s", (const char *)sqlite3_column_text(stmt, 8));
		if (cb(&o, arg) == -1)
			break;
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * New timeline rows are committed: tell the one who waits for them (the
 * control socket's event stream), never before they are durable.
 */
static void
store_committed(struct store *st)
{
	if (!st->appended)
		return;
	st->appended = 0;
	if (st->on_commit != NULL)
		st->on_commit(st->on_commit_arg);
}

void
store_on_commit(struct store *st, void (*cb)(void *), void *arg)
{
	st->on_commit = cb;
	st->on_commit_arg = arg;
}

/*
 * Append one event about an incident, an early warning or neither (a
 * maintenance window); an absent id is 0.  The caller holds the write
 * transaction.
 */
static int
store_timeline_append(struct store *st, int64_t incident, int64_t warning,
    int64_t at, const char *event, const char *actor, const char *detail)
{
	sqlite3_stmt	*stmt;
	char		 prev[CHAIN_HEXLEN + 1], hash[CHAIN_HEXLEN + 1];
	char		 when[TIME_STRLEN];
	int64_t		 id = 1;

	memset(prev, '0', CHAIN_HEXLEN);
	prev[CHAIN_HEXLEN] = '\0';
	stmt = store_prepare(st, "SELECT id, hash FROM timeline"
	    " ORDER BY id DESC LIMIT 1");
	if (stmt == NULL)
		return -1;
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		id = sqlite3_column_int64(stmt, 0) + 1;
		snprintf(prev, sizeof(prev), "%s",
		    (const char *)sqlite3_column_text(stmt, 1));
	}
	sqlite3_finalize(stmt);

	if (detail == NULL)
		detail = "";
	time_fmt(at, when, sizeof(when));
	chain_hash(prev, id, incident, warning, when, event, actor, detail,
	    hash);
	stmt = store_prepare(st, "INSERT INTO timeline (id, incident_id,"
	    " warning_id, at, event, actor, detail, prev_hash, hash)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	if (incident != 0)
		sqlite3_bind_int64(stmt, 2, incident);
	if (warning != 0)
		sqlite3_bind_int64(stmt, 3, warning);
	sqlite3_bind_text(stmt, 4, when, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 5, event, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 6, actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 7, detail, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 8, prev, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 9, hash, -1, SQLITE_STATIC);
	if (store_done(st, stmt) == -1)
		return -1;
	st->appended = 1;
	if (sqlite3_get_autocommit(st->db))
		store_committed(st);
	return 0;
}

int
store_timeline_add(struct store *st, int64_t incident, int64_t at,
    const char *event, const char *actor, const char *detail)
{
	return store_timeline_append(st, incident, 0, at, event, actor,
	    detail);
}

int
store_warning_timeline_add(struct store *st, int64_t warning, int64_t at,
    const char *event, const char *actor, const char *detail)
{
	return store_timeline_append(st, 0, warning, at, event, actor,
	    detail);
}

/*
 * Transactions belong to the caller: the engine writes a state change
 * and everything it entails (timeline, clocks, notifications) at once.
 */
int
store_begin(struct store *st)
{
	return store_exec(st, "BEGIN IMMEDIATE");
}

int
store_commit(struct store *st)
{
	if (store_exec(st, "COMMIT") == -1) {
		store_rollback(st);
		return -1;
	}
	store_committed(st);
	return 0;
}

void
store_rollback(struct store *st)
{
	st->appended = 0;
	if (!sqlite3_get_autocommit(st->db))
		store_exec(st, "ROLLBACK");
}

/*
 * One outage of SYSTEM: on INCIDENT (its own, or the one it is affected
 * scope of), or on none when planned.
 */
static int
store_outage_insert(struct store *st, const char *system, int64_t incident,
    int64_t started_at, int64_t detected_at, const char *cause, int planned,
    int64_t *outage_id)
{
	sqlite3_stmt	*stmt;

	stmt = store_prepare(st, "INSERT INTO outages (system, incident_id,"
	    " started_at, detected_at, cause, planned)"
	    " VALUES (?, ?, ?, ?, ?, ?)");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, system, -1, SQLITE_STATIC);
	if (incident == 0)
		sqlite3_bind_null(stmt, 2);
	else
		sqlite3_bind_int64(stmt, 2, incident);
	store_bind_time(stmt, 3, started_at);
	store_bind_time(stmt, 4, detected_at);
	sqlite3_bind_text(stmt, 5, cause, -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 6, planned);
	if (store_done(st, stmt) == -1)
		return -1;
	*outage_id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

/* A new outage, its incident and the incident's first timeline event. */
int
store_outage_open(struct store *st, const struct store_new_incident *ni,
    int64_t *outage_id, int64_t *incident_id)
{
	char		 detail[512], since[TIME_STRLEN];

	if (store_incident_insert(st, "outage", ni, 0, incident_id) == -1)
		return -1;

	if (store_outage_insert(st, ni->system, *incident_id, ni->started_at,
	    ni->detected_at, ni->cause, 0, outage_id) == -1)
		return -1;

	snprintf(detail, sizeof(detail), "%s down since %s: %s",
	    ni->system, time_fmt(ni->started_at, since, sizeof(since)),
	    ni->cause);
	if (store_timeline_add(st, *incident_id, ni->opened_at, "opened",
	    "rtowatchd", detail) == -1)
		return -1;
	return 0;
}

/*
 * End an outage: record the restore time on it and on its incident, the
 * classification as it stands now that the duration is known, and a
 * timeline event.
 */
int
store_outage_end(struct store *st, int64_t outage_id, int64_t incident_id,
    int64_t restored_at, int within_rto, int availability, int level,
    int major, const char *detail)
{
	sqlite3_stmt	*stmt;

	if (store_outage_close(st, outage_id, restored_at) == -1)
		return -1;

	stmt = store_prepare(st, "UPDATE incidents SET restored_at = ?,"
	    " within_rto = ?, status = 'restored',"
	    " availability_level = max(availability_level, ?),"
	    " level = max(level, ?), major = max(major, ?)"
	    " WHERE id = ? AND status = 'open'");
	if (stmt == NULL)
		return -1;
	store_bind_time(stmt, 1, restored_at);
	sqlite3_bind_int(stmt, 2, within_rto);
	sqlite3_bind_int(stmt, 3, availability);
	sqlite3_bind_int(stmt, 4, level);
	sqlite3_bind_int(stmt, 5, major);
	sqlite3_bind_int64(stmt, 6, incident_id);
	if (store_done(st, stmt) == -1)
		return -1;

	/* The event is dated when recorded; the detail names the restore time. */
	if (store_timeline_add(st, incident_id, wall_ms(), "restored",
	    "rtowatchd", detail) == -1)
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
	sqlite3_stmt	*stmt;

	stmt = store_prepare(st, "UPDATE incidents SET major = 1,"
	    " availability_level = max(availability_level, ?),"
	    " level = max(level, ?) WHERE id = ?");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int(stmt, 1, level);
	sqlite3_bind_int(stmt, 2, level);
	sqlite3_bind_int64(stmt, 3, incident_id);
	if (store_done(st, stmt) == -1)
		return -1;
	if (store_timeline_add(st, incident_id, at, "reclassified",
	    "rtowatchd", detail) == -1)
		return -1;
	return 0;
}

int
store_clock_open(struct store *st, int64_t incident, const char *kind,
    int level, int64_t start, int64_t due, int64_t *id)
{
	sqlite3_stmt	*stmt;

	/* Once per obligation: a reopened incident keeps its clocks. */
	stmt = store_prepare(st, "INSERT OR IGNORE INTO clocks (incident_id,"
	    " kind, level, started_at, due_at) VALUES (?, ?, ?, ?, ?)");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, incident);
	sqlite3_bind_text(stmt, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 3, level);
	store_bind_time(stmt, 4, start);
	store_bind_time(stmt, 5, due);
	if (store_done(st, stmt) == -1)
		return -1;
	*id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

/* A raised level shortens the restore clock; incidents shows it too. */
int
store_clock_set_due(struct store *st, int64_t clock, int64_t incident,
    int64_t due)
{
	sqlite3_stmt	*stmt;

	stmt = store_prepare(st, "UPDATE clocks SET due_at = ? WHERE id = ?");
	if (stmt == NULL)
		return -1;
	store_bind_time(stmt, 1, due);
	sqlite3_bind_int64(stmt, 2, clock);
	if (store_done(st, stmt) == -1)
		return -1;
	stmt = store_prepare(st, "UPDATE incidents SET restore_due_at = ?"
	    " WHERE id = ?");
	if (stmt == NULL)
		return -1;
	store_bind_time(stmt, 1, due);
	sqlite3_bind_int64(stmt, 2, incident);
	return store_done(st, stmt);
}

/* A clock other than restore takes a new deadline (a raised level). */
int
store_clock_move(struct store *st, int64_t clock, int64_t due)
{
	sqlite3_stmt	*stmt;

	stmt = store_prepare(st, "UPDATE clocks SET due_at = ? WHERE id = ?");
	if (stmt == NULL)
		return -1;
	store_bind_time(stmt, 1, due);
	sqlite3_bind_int64(stmt, 2, clock);
	return store_done(st, stmt);
}

/* Reminders done so far, or (breached_at != 0) the deadline missed. */
int
store_clock_progress(struct store *st, int64_t clock, int reminders_done,
    int64_t breached_at)
{
	sqlite3_stmt	*stmt;

	stmt = store_prepare(st, "UPDATE clocks SET reminders_done = ?,"
	    " breached_at = coalesce(breached_at, ?) WHERE id = ?");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int(stmt, 1, reminders_done);
	store_bind_time(stmt, 2, breached_at);
	sqlite3_bind_int64(stmt, 3, clock);
	return store_done(st, stmt);
}

/* The step is done: every open clock of that kind on the incident stops. */
int
store_clock_stop(struct store *st, int64_t incident, const char *kind,
    int64_t at, const char *by)
{
	sqlite3_stmt	*stmt;

	stmt = store_prepare(st, "UPDATE clocks SET stopped_at = ?,"
	    " stopped_by = ? WHERE incident_id = ? AND kind = ?"
	    " AND stopped_at IS NULL");
	if (stmt == NULL)
		return -1;
	store_bind_time(stmt, 1, at);
	sqlite3_bind_text(stmt, 2, by, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, incident);
	sqlite3_bind_text(stmt, 4, kind, -1, SQLITE_STATIC);
	return store_done(st, stmt);
}

/* The open clocks of one incident, or of all (INCIDENT 0). */
int
store_open_clocks(struct store *st, int64_t incident,
    int (*cb)(const struct store_open_clock *, void *), void *arg)
{
	struct store_open_clock	 c;
	sqlite3_stmt		*stmt;
	int			 rc;

	stmt = store_prepare(st, "SELECT c.id, c.incident_id, c.kind,"
	    " c.level, c.due_at, c.reminders_done, c.breached_at, i.system,"
	    " c.started_at, coalesce(i.drill_factor, 1)"
	    " FROM clocks c JOIN incidents i ON i.id = c.incident_id"
	    " WHERE c.stopped_at IS NULL AND (?1 = 0 OR c.incident_id = ?1)"
	    " ORDER BY c.id");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, incident);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		memset(&c, 0, sizeof(c));
		c.id = sqlite3_column_int64(stmt, 0);
		c.incident_id = sqlite3_column_int64(stmt, 1);
		snprintf(c.kind, sizeof(c.kind), "%s",
		    (const char *)sqlite3_column_text(stmt, 2));
		c.level = sqlite3_column_int(stmt, 3);
		c.due_at = store_column_time(stmt, 4);
		c.reminders_done = sqlite3_column_int(stmt, 5);
		c.breached_at = store_column_time(stmt, 6);
		snprintf(c.system, sizeof(c.system), "%s",
		    (const char *)sqlite3_column_text(stmt, 7));
		c.started_at = store_column_time(stmt, 8);
		c.factor = sqlite3_column_int(stmt, 9);
		if (cb(&c, arg) == -1)
			break;
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

int
store_notification_queue(struct store *st, int64_t incident, int64_t at,
    const char *recipient, const char *event, const char *subject,
    const char *body)
{
	sqlite3_stmt	*stmt;

	stmt = store_prepare(st, "INSERT INTO notifications (incident_id,"
	    " recipient, event, subject, body, created_at, next_try_at)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?)");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, incident);
	sqlite3_bind_text(stmt, 2, recipient, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, event, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 5, body, -1, SQLITE_STATIC);
	store_bind_time(stmt, 6, at);
	store_bind_time(stmt, 7, at);
	return store_done(st, stmt);
}

/*
 * An outage of SYSTEM while a system it depends on is down: recorded,
 * and listed in the parent's incident as affected scope.
 */
int
store_outage_attach(struct store *st, const char *system, int64_t incident,
    int64_t started_at, int64_t detected_at, const char *cause,
    const char *detail, int64_t *outage_id)
{
	sqlite3_stmt	*stmt;

	if (store_outage_insert(st, system, incident, started_at, detected_at,
	    cause, 0, outage_id) == -1)
		return -1;

	stmt = store_prepare(st, "INSERT INTO incident_scope (incident_id,"
	    " system, outage_id, started_at) VALUES (?, ?, ?, ?)");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, incident);
	sqlite3_bind_text(stmt, 2, system, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, *outage_id);
	store_bind_time(stmt, 4, started_at);
	if (store_done(st, stmt) == -1)
		return -1;
	return store_timeline_add(st, incident, detected_at,
	    "affected system down", "rtowatchd", detail);
}

/* The end of an attached outage, on the outage and the parent's scope. */
int
store_outage_detach(struct store *st, int64_t outage_id, int64_t incident,
    int64_t ended_at, const char *detail)
{
	sqlite3_stmt	*stmt;

	if (store_outage_close(st, outage_id, ended_at) == -1)
		return -1;
	stmt = store_prepare(st, "UPDATE incident_scope SET ended_at = ?"
	    " WHERE outage_id = ?");
	if (stmt == NULL)
		return -1;
	store_bind_time(stmt, 1, ended_at);
	sqlite3_bind_int64(stmt, 2, outage_id);
	if (store_done(st, stmt) == -1)
		return -1;
	return store_timeline_add(st, incident, wall_ms(),
	    "affected system ended", "rtowatchd", detail);
}

/*
 * The system failed again soon after its incident was restored: a new
 * outage on the same incident, which is open again, with its restore
 * clock running again from where it was.
 */
int
store_incident_reopen(struct store *st, int64_t incident, const char *system,
    int64_t started_at, int64_t now, const char *cause, const char *detail,
    int64_t *outage_id)
{
	sqlite3_stmt	*stmt;

	if (store_outage_insert(st, system, incident, started_at, now, cause,
	    0, outage_id) == -1)
		return -1;
	stmt = store_prepare(st, "UPDATE incidents SET status = 'open',"
	    " restored_at = NULL, within_rto = NULL"
	    " WHERE id = ? AND status = 'restored'");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, incident);
	if (store_done(st, stmt) == -1)
		return -1;
	stmt = store_prepare(st, "UPDATE clocks SET stopped_at = NULL,"
	    " stopped_by = NULL WHERE incident_id = ? AND kind = 'restore'");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, incident);
	if (store_done(st, stmt) == -1)
		return -1;
	return store_timeline_add(st, incident, now, "failed again",
	    "rtowatchd", detail);
}

/* Each system's latest restored incident, for the flapping window. */
int
store_last_restored(struct store *st,
    int (*cb)(const char *, int64_t, int64_t, int, int, void *), void *arg)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	stmt = store_prepare(st, "SELECT system, id, restored_at, level, major"
	    " FROM incidents WHERE kind = 'outage' AND status = 'restored'"
	    " AND id IN (SELECT max(id) FROM incidents WHERE kind = 'outage'"
	    " GROUP BY system)");
	if (stmt == NULL)
		return -1;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		if (cb((const char *)sqlite3_column_text(stmt, 0),
		    sqlite3_column_int64(stmt, 1), store_column_time(stmt, 2),
		    sqlite3_column_int(stmt, 3), sqlite3_column_int(stmt, 4),
		    arg) == -1)
			break;
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

/* An outage inside a maintenance window: planned, no incident. */
int
store_outage_planned(struct store *st, const char *system,
    int64_t started_at, int64_t detected_at, const char *cause,
    int64_t *outage_id)
{
	return store_outage_insert(st, system, 0, started_at, detected_at,
	    cause, 1, outage_id);
}

int
store_outage_close(struct store *st, int64_t outage_id, int64_t ended_at)
{
	sqlite3_stmt	*stmt;

	stmt = store_prepare(st, "UPDATE outages SET ended_at = ?"
	    " WHERE id = ? AND ended_at IS NULL");
	if (stmt == NULL)
		return -1;
	store_bind_time(stmt, 1, ended_at);
	sqlite3_bind_int64(stmt, 2, outage_id);
	return store_done(st, stmt);
}

/* ------------------------------------------------------------------ */
/* The workflow: what people record, through the control socket.      */

int
store_incident_get(struct store *st, int64_t id, struct store_incident *inc)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	memset(inc, 0, sizeof(*inc));
	stmt = store_prepare(st, "SELECT system, status, kind, level,"
	    " availability_level, coalesce(confidentiality_level, 0),"
	    " coalesce(integrity_level, 0), major, restored_at, owner,"
	    " core, critical_infrastructure, rto_ms, started_at"
	    " FROM incidents WHERE id = ?");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		inc->id = id;
		snprintf(inc->system, sizeof(inc->system), "%s",
		    (const char *)sqlite3_column_text(stmt, 0));
		snprintf(inc->status, sizeof(inc->status), "%s",
		    (const char *)sqlite3_column_text(stmt, 1));
		snprintf(inc->kind, sizeof(inc->kind), "%s",
		    (const char *)sqlite3_column_text(stmt, 2));
		inc->level = sqlite3_column_int(stmt, 3);
		inc->availability_level = sqlite3_column_int(stmt, 4);
		inc->confidentiality_level = sqlite3_column_int(stmt, 5);
		inc->integrity_level = sqlite3_column_int(stmt, 6);
		inc->major = sqlite3_column_int(stmt, 7);
		inc->restored_at = store_column_time(stmt, 8);
		snprintf(inc->owner, sizeof(inc->owner), "%s",
		    sqlite3_column_type(stmt, 9) == SQLITE_NULL ? "" :
		    (const char *)sqlite3_column_text(stmt, 9));
		inc->core = sqlite3_column_int(stmt, 10);
		inc->critical_infrastructure = sqlite3_column_int(stmt, 11);
		inc->rto_ms = sqlite3_column_int64(stmt, 12);
		inc->started_at = store_column_time(stmt, 13);
	}
	sqlite3_finalize(stmt);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : -1;
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
	sqlite3_stmt	*stmt;
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
			sqlite3_bind_text(stmt, i + 1, vals[i], -1,
			    SQLITE_STATIC);
	sqlite3_bind_int64(stmt, n + 1, id);
	return store_done(st, stmt);
}

/* Which of COLS of incident ID are empty: bit i for cols[i]. */
int
store_incident_empty(struct store *st, int64_t id, int n,
    const char *const cols[], unsigned *empty)
{
	sqlite3_stmt	*stmt;
	char		 sql[256];
	const char	*v;
	int		 i, rc;

	*empty = 0;
	for (i = 0; i < n && i < 32; i++) {
		if (!store_valid_column(cols[i]))
			fatalx("store: bad column \"%s\"", cols[i]);
		snprintf(sql, sizeof(sql), "SELECT trim(coalesce(%s, ''))"
		    " FROM incidents WHERE id = ?", cols[i]);
		if ((stmt = store_prepare(st, sql)) == NULL)
			return -1;
		sqlite3_bind_int64(stmt, 1, id);
		if ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
			v = (const char *)sqlite3_column_text(stmt, 0);
			if (v == NULL || *v == '\0')
				*empty |= 1U << i;
		}
		sqlite3_finalize(stmt);
		if (rc != SQLITE_ROW)
			return -1;
	}
	return 0;
}

/* An incident that no outage opened: a confirmed warning, a drill. */
int
store_incident_insert(struct store *st, const char *kind,
    const struct store_new_incident *ni, int64_t warning, int64_t *id)
{
	sqlite3_stmt	*stmt;

	stmt = store_prepare(st, "INSERT INTO incidents (kind, system, owner,"
	    " core, critical_infrastructure, rto_ms, level, availability_level,"
	    " major, status, cause, started_at, opened_at, notify_due_at,"
	    " restore_due_at, warning_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?,"
	    " 'open', ?, ?, ?, ?, ?, ?)");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, ni->system, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, ni->owner, -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 4, ni->core);
	sqlite3_bind_int(stmt, 5, ni->critical_infrastructure);
	sqlite3_bind_int64(stmt, 6, ni->rto_ms);
	sqlite3_bind_int(stmt, 7, ni->level);
	sqlite3_bind_int(stmt, 8, ni->level);
	sqlite3_bind_int(stmt, 9, ni->major);
	sqlite3_bind_text(stmt, 10, ni->cause, -1, SQLITE_STATIC);
	store_bind_time(stmt, 11, ni->started_at);
	store_bind_time(stmt, 12, ni->opened_at);
	store_bind_time(stmt, 13, ni->notify_due_at);
	store_bind_time(stmt, 14, ni->restore_due_at);
	if (warning != 0)
		sqlite3_bind_int64(stmt, 15, warning);
	if (store_done(st, stmt) == -1)
		return -1;
	*id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

int
store_warning_open(struct store *st, const struct store_warning *w,
    int64_t at, const char *actor, int64_t *id)
{
	sqlite3_stmt	*stmt;

	stmt = store_prepare(st, "INSERT INTO warnings (source, reference,"
	    " system, summary, detail, opened_at, opened_by)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?)");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, w->source, -1, SQLITE_STATIC);
	if (w->reference[0] != '\0')
		sqlite3_bind_text(stmt, 2, w->reference, -1, SQLITE_STATIC);
	if (w->system[0] != '\0')
		sqlite3_bind_text(stmt, 3, w->system, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, w->summary, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 5, w->detail, -1, SQLITE_STATIC);
	store_bind_time(stmt, 6, at);
	sqlite3_bind_text(stmt, 7, actor, -1, SQLITE_STATIC);
	if (store_done(st, stmt) == -1)
		return -1;
	*id = sqlite3_last_insert_rowid(st->db);
	return store_warning_timeline_add(st, *id, at, "warning opened", actor,
	    w->summary);
}

int
store_warning_get(struct store *st, int64_t id, struct store_warning *w)
{
	sqlite3_stmt	*stmt;
	const char	*v;
	int		 rc;

	memset(w, 0, sizeof(*w));
	stmt = store_prepare(st, "SELECT source, coalesce(reference, ''),"
	    " coalesce(system, ''), summary, detail, state"
	    " FROM warnings WHERE id = ?");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		w->id = id;
		v = (const char *)sqlite3_column_text(stmt, 0);
		snprintf(w->source, sizeof(w->source), "%s", v);
		v = (const char *)sqlite3_column_text(stmt, 1);
		snprintf(w->reference, sizeof(w->reference), "%s", v);
		v = (const char *)sqlite3_column_text(stmt, 2);
		snprintf(w->system, sizeof(w->system), "%s", v);
		v = (const char *)sqlite3_column_text(stmt, 3);
		snprintf(w->summary, sizeof(w->summary), "%s", v);
		v = (const char *)sqlite3_column_text(stmt, 4);
		snprintf(w->detail, sizeof(w->detail), "%s", v);
		v = (const char *)sqlite3_column_text(stmt, 5);
		snprintf(w->state, sizeof(w->state), "%s", v);
	}
	sqlite3_finalize(stmt);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : -1;
}

/* A person's answer to an open warning; INCIDENT is 0 unless confirmed. */
int
store_warning_answer(struct store *st, int64_t id, const char *state,
    int64_t at, const char *actor, const char *reason, int64_t incident)
{
	sqlite3_stmt	*stmt;

	stmt = store_prepare(st, "UPDATE warnings SET state = ?,"
	    " answered_at = ?, answered_by = ?, reason = ?, incident_id = ?"
	    " WHERE id = ? AND state = 'open'");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, state, -1, SQLITE_STATIC);
	store_bind_time(stmt, 2, at);
	sqlite3_bind_text(stmt, 3, actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, reason, -1, SQLITE_STATIC);
	if (incident != 0)
		sqlite3_bind_int64(stmt, 5, incident);
	sqlite3_bind_int64(stmt, 6, id);
	if (store_done(st, stmt) == -1)
		return -1;
	return sqlite3_changes(st->db) == 1 ? 0 : -1;
}

int
store_maintenance_add(struct store *st, const char *system, int64_t start,
    int64_t end, const char *reason, int64_t at, const char *actor,
    int64_t *id)
{
	sqlite3_stmt	*stmt;

	stmt = store_prepare(st, "INSERT INTO maintenance (system, starts_at,"
	    " ends_at, reason, created_at, created_by)"
	    " VALUES (?, ?, ?, ?, ?, ?)");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, system, -1, SQLITE_STATIC);
	store_bind_time(stmt, 2, start);
	store_bind_time(stmt, 3, end);
	sqlite3_bind_text(stmt, 4, reason, -1, SQLITE_STATIC);
	store_bind_time(stmt, 5, at);
	sqlite3_bind_text(stmt, 6, actor, -1, SQLITE_STATIC);
	if (store_done(st, stmt) == -1)
		return -1;
	*id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

/* The windows people added that have not ended by NOW. */
int
store_maintenance_windows(struct store *st, int64_t now,
    int (*cb)(const char *, int64_t, int64_t, void *), void *arg)
{
	sqlite3_stmt	*stmt;
	char		 when[TIME_STRLEN];
	int		 rc;

	stmt = store_prepare(st, "SELECT system, starts_at, ends_at"
	    " FROM maintenance WHERE ends_at > ? ORDER BY id");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, time_fmt(now, when, sizeof(when)), -1,
	    SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		if (cb((const char *)sqlite3_column_text(stmt, 0),
		    store_column_time(stmt, 1), store_column_time(stmt, 2),
		    arg) == -1)
			break;
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

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
		log_warnx("%s: %s", st->path, sqlite3_errmsg(st->db));
		return -1;
	}
	return 0;
}

/* The incident as the notifications describe it; free with _info_clear. */
int
store_incident_info(struct store *st, int64_t id,
    struct store_incident_info *inc)
{
	sqlite3_stmt	*stmt;
	char		**text[] = { &inc->system, &inc->owner, &inc->status,
			    &inc->cause, &inc->category, &inc->description,
			    &inc->measures, &inc->support, &inc->ticket };
	size_t		 i;

	memset(inc, 0, sizeof(*inc));
	stmt = store_prepare(st, "SELECT system, owner, status, cause,"
	    " category, description, measures, support, ticket, level,"
	    " major, core, critical_infrastructure, rto_ms,"
	    " availability_level, coalesce(confidentiality_level, 0),"
	    " coalesce(integrity_level, 0), started_at, opened_at,"
	    " restored_at, reported_at, other_units_affected"
	    " FROM incidents WHERE id = ?");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	if (sqlite3_step(stmt) != SQLITE_ROW) {
		sqlite3_finalize(stmt);
		return -1;
	}
	inc->id = id;
	for (i = 0; i < sizeof(text) / sizeof(text[0]); i++)
		if (sqlite3_column_type(stmt, (int)i) != SQLITE_NULL)
			*text[i] = xstrdup((const char *)
			    sqlite3_column_text(stmt, (int)i));
	inc->level = sqlite3_column_int(stmt, 9);
	inc->major = sqlite3_column_int(stmt, 10);
	inc->core = sqlite3_column_int(stmt, 11);
	inc->critical_infrastructure = sqlite3_column_int(stmt, 12);
	inc->rto_ms = sqlite3_column_int64(stmt, 13);
	inc->availability_level = sqlite3_column_int(stmt, 14);
	inc->confidentiality_level = sqlite3_column_int(stmt, 15);
	inc->integrity_level = sqlite3_column_int(stmt, 16);
	inc->started_at = store_column_time(stmt, 17);
	inc->opened_at = store_column_time(stmt, 18);
	inc->restored_at = store_column_time(stmt, 19);
	inc->reported_at = store_column_time(stmt, 20);
	if (sqlite3_column_type(stmt, 21) != SQLITE_NULL)
		inc->other_units = xstrdup((const char *)
		    sqlite3_column_text(stmt, 21));
	sqlite3_finalize(stmt);
	return 0;
}

void
store_incident_info_clear(struct store_incident_info *inc)
{
	free(inc->system);
	free(inc->owner);
	free(inc->status);
	free(inc->cause);
	free(inc->category);
	free(inc->description);
	free(inc->measures);
	free(inc->support);
	free(inc->ticket);
	free(inc->other_units);
	memset(inc, 0, sizeof(*inc));
}

/*
 * The queued mail that may go now or next: of each incident and
 * recipient, only the oldest queued row, so that a later message never
 * overtakes an earlier one.
 */
int
store_mail_heads(struct store *st,
    int (*cb)(const struct store_mail *, void *), void *arg)
{
	struct store_mail	 m;
	sqlite3_stmt		*stmt;
	int			 rc;

	stmt = store_prepare(st, "SELECT n.id, n.incident_id, n.recipient,"
	    " n.subject, n.body, n.attempts, n.created_at, n.next_try_at"
	    " FROM notifications n"
	    " WHERE n.state = 'queued' AND n.channel = 'email'"
	    " AND NOT EXISTS (SELECT 1 FROM notifications e"
	    "  WHERE e.state = 'queued' AND e.channel = 'email'"
	    "  AND e.incident_id = n.incident_id"
	    "  AND e.recipient = n.recipient AND e.id < n.id)"
	    " ORDER BY n.id");
	if (stmt == NULL)
		return -1;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		memset(&m, 0, sizeof(m));
		m.id = sqlite3_column_int64(stmt, 0);
		m.incident_id = sqlite3_column_int64(stmt, 1);
		m.recipient = (const char *)sqlite3_column_text(stmt, 2);
		m.subject = (const char *)sqlite3_column_text(stmt, 3);
		m.body = (const char *)sqlite3_column_text(stmt, 4);
		m.attempts = sqlite3_column_int(stmt, 5);
		m.created_at = store_column_time(stmt, 6);
		m.next_try_at = store_column_time(stmt, 7);
		if (cb(&m, arg) == -1)
			break;
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

/*
 * The server accepted the message (250 after DATA).  *ALERTED says
 * whether the row had raised the "mail failing" alert.
 */
int
store_mail_sent(struct store *st, int64_t id, const char *address,
    int64_t at, int *alerted)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	*alerted = 0;
	stmt = store_prepare(st, "UPDATE notifications SET state = 'sent',"
	    " sent_at = ?, address = ?, attempts = attempts + 1,"
	    " next_try_at = NULL WHERE id = ? AND state = 'queued'"
	    " RETURNING alerted_at IS NOT NULL");
	if (stmt == NULL)
		return -1;
	store_bind_time(stmt, 1, at);
	sqlite3_bind_text(stmt, 2, address, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, id);
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		*alerted = sqlite3_column_int(stmt, 0);
		rc = sqlite3_step(stmt);
	}
	if (rc != SQLITE_DONE)
		log_warnx("%s: %s", st->path, sqlite3_errmsg(st->db));
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* One more failed attempt: why, and when to try again. */
int
store_mail_failed(struct store *st, int64_t id, const char *address,
    const char *error, int64_t next_try)
{
	sqlite3_stmt	*stmt;

	stmt = store_prepare(st, "UPDATE notifications SET"
	    " attempts = attempts + 1, last_error = ?, address = ?,"
	    " next_try_at = ? WHERE id = ? AND state = 'queued'");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, error, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, address, -1, SQLITE_STATIC);
	store_bind_time(stmt, 3, next_try);
	sqlite3_bind_int64(stmt, 4, id);
	return store_done(st, stmt);
}

/*
 * Incidents with queued mail created at or before BEFORE that has not
 * raised the alert yet: how many such rows, the oldest one's time and
 * last error, and whether the incident is already in an alerted episode.
 */
int
store_mail_overdue(struct store *st, int64_t before,
    int (*cb)(int64_t, int, int64_t, const char *, int, void *), void *arg)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	stmt = store_prepare(st, "SELECT n.incident_id, count(*),"
	    " min(n.created_at), (SELECT o.last_error FROM notifications o"
	    "  WHERE o.incident_id = n.incident_id AND o.state = 'queued'"
	    "  ORDER BY o.id LIMIT 1),"
	    " EXISTS (SELECT 1 FROM notifications a"
	    "  WHERE a.incident_id = n.incident_id AND a.state = 'queued'"
	    "  AND a.alerted_at IS NOT NULL)"
	    " FROM notifications n WHERE n.state = 'queued'"
	    " AND n.channel = 'email' AND n.alerted_at IS NULL"
	    " AND n.created_at <= ? GROUP BY n.incident_id"
	    " ORDER BY n.incident_id");
	if (stmt == NULL)
		return -1;
	store_bind_time(stmt, 1, before);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		if (cb(sqlite3_column_int64(stmt, 0),
		    sqlite3_column_int(stmt, 1), store_column_time(stmt, 2),
		    (const char *)sqlite3_column_text(stmt, 3),
		    sqlite3_column_int(stmt, 4), arg) == -1)
			break;
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

/* Mark INCIDENT's queued rows created at or before BEFORE as alerted. */
int
store_mail_alerted(struct store *st, int64_t incident, int64_t before,
    int64_t at)
{
	sqlite3_stmt	*stmt;

	stmt = store_prepare(st, "UPDATE notifications SET alerted_at = ?"
	    " WHERE incident_id = ? AND state = 'queued'"
	    " AND alerted_at IS NULL AND created_at <= ?");
	if (stmt == NULL)
		return -1;
	store_bind_time(stmt, 1, at);
	sqlite3_bind_int64(stmt, 2, incident);
	store_bind_time(stmt, 3, before);
	return store_done(st, stmt);
}

/* An anomaly episode is over; its warning stays open for an answer. */
int
store_warning_end(struct store *st, int64_t id, int64_t at,
    const char *actor, const char *detail)
{
	sqlite3_stmt	*stmt;

	stmt = store_prepare(st, "UPDATE warnings SET ended_at = ?"
	    " WHERE id = ? AND ended_at IS NULL");
	if (stmt == NULL)
		return -1;
	store_bind_time(stmt, 1, at);
	sqlite3_bind_int64(stmt, 2, id);
	if (store_done(st, stmt) == -1 || sqlite3_changes(st->db) != 1)
		return -1;
	return store_warning_timeline_add(st, id, at, "warning ended", actor,
	    detail);
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
	sqlite3_stmt	*stmt;
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
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (n == size) {
			size = size == 0 ? 16 : size * 2;
			ids = xrealloc(ids, size * sizeof(*ids));
			last = xrealloc(last, size * sizeof(*last));
		}
		ids[n] = sqlite3_column_int64(stmt, 0);
		last[n++] = store_column_time(stmt, 1);
	}
	sqlite3_finalize(stmt);
	rc = rc == SQLITE_DONE ? 0 : -1;
	for (i = 0; i < n && rc == 0; i++) {
		stmt = store_prepare(st, "UPDATE warnings SET ended_at = ?"
		    " WHERE id = ? AND ended_at IS NULL");
		if (stmt == NULL) {
			rc = -1;
			break;
		}
		store_bind_time(stmt, 1, last[i]);
		sqlite3_bind_int64(stmt, 2, ids[i]);
		xasprintf(&detail, "%s; last recorded at %s, its real end is "
		    "unknown", why, time_fmt(last[i], t, sizeof(t)));
		if (store_done(st, stmt) == -1 ||
		    store_warning_timeline_add(st, ids[i], at, "warning ended",
		    actor, detail) == -1)
			rc = -1;
		free(detail);
	}
	free(ids);
	free(last);
	return rc == -1 ? -1 : (int)n;
}

/* One indicator of a warning; seen again, its count is the larger. */
int
store_warning_indicator(struct store *st, int64_t id, const char *kind,
    const char *value, int64_t packets)
{
	sqlite3_stmt	*stmt;

	stmt = store_prepare(st, "INSERT INTO warning_indicators (warning_id,"
	    " kind, value, packets) VALUES (?, ?, ?, ?)"
	    " ON CONFLICT (warning_id, kind, value) DO UPDATE"
	    " SET packets = max(packets, excluded.packets)");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_text(stmt, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, value, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 4, packets);
	return store_done(st, stmt);
}

/*
 * How many of INCIDENT's queued rows are in an alerted episode (-1 on
 * error); and the oldest created_at of the queued rows that are not
 * (0: none), for the next alert's timer.
 */
int
store_mail_pending(struct store *st, int64_t incident, int64_t *oldest)
{
	sqlite3_stmt	*stmt;
	int		 n = -1;

	stmt = store_prepare(st, "SELECT (SELECT count(*) FROM notifications"
	    "  WHERE incident_id = ? AND state = 'queued'"
	    "  AND alerted_at IS NOT NULL),"
	    " (SELECT min(created_at) FROM notifications"
	    "  WHERE state = 'queued' AND channel = 'email'"
	    "  AND alerted_at IS NULL)");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, incident);
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		n = sqlite3_column_int(stmt, 0);
		*oldest = store_column_time(stmt, 1);
	}
	sqlite3_finalize(stmt);
	return n;
}

/*
 * The outbox at a glance (GET /v1/status): rows queued, those of them in
 * a "mail failing" episode, and the oldest queued row's creation (0:
 * none).
 */
int
store_outbox_stats(struct store *st, int *queued, int *failing,
    int64_t *oldest)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	stmt = store_prepare(st, "SELECT count(*), count(alerted_at),"
	    " min(created_at) FROM notifications WHERE state = 'queued'");
	if (stmt == NULL)
		return -1;
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		*queued = sqlite3_column_int(stmt, 0);
		*failing = sqlite3_column_int(stmt, 1);
		*oldest = store_column_time(stmt, 2);
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW ? 0 : -1;
}

/*
 * An early warning related to an incident (its traffic aimed at the
 * system that is down): one timeline event that names both.
 */
int
store_warning_relate(struct store *st, int64_t warning, int64_t incident,
    int64_t at, const char *actor, const char *detail)
{
	return store_timeline_append(st, incident, warning, at,
	    "related warning", actor, detail);
}

/* A contact a person made (5.3.8): whom, how, when, by whom. */
int
store_contact_add(struct store *st, int64_t incident, int64_t at,
    int64_t entered, const char *recipient, const char *channel,
    const char *by, const char *note, int offline)
{
	sqlite3_stmt	*stmt;

	stmt = store_prepare(st, "INSERT INTO contacts (incident_id, at,"
	    " entered_at, recipient, channel, made_by, note, offline)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, incident);
	store_bind_time(stmt, 2, at);
	store_bind_time(stmt, 3, entered);
	sqlite3_bind_text(stmt, 4, recipient, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 5, channel, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 6, by, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 7, note, -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 8, offline != 0);
	return store_done(st, stmt);
}
