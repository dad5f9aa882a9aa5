/*
 * store.c: the database, through a backend (store_int.h): SQLite
 * (store_sqlite.c) by default, PostgreSQL (store_pg.c) for a register
 * several hosts share.
 *
 * One writer (the daemon).  The schema is an ordered list of migrations,
 * one list a backend with the same version numbers; the database says
 * how many have run, and each one runs in its own transaction, so an
 * interrupted upgrade leaves it at the last complete version.
 *
 * The store fails soft.  The database can refuse a write for reasons that
 * are not ours and pass by themselves: another process holds the write
 * lock (an admin's VACUUM, sqlite3 in a shell), the disk is full, the file
 * system went read-only or returned an I/O error.  The loop cannot wait
 * for any of those: a 5 s busy wait per write stalls every probe and
 * clock behind it, and giving up on the change loses an outage that began
 * and ended meanwhile.  So the loop waits at most STORE_BUSY_MS (enough
 * for another connection's short write or checkpoint to pass, too little
 * to delay a probe), and a transaction the database still refuses is
 * held in memory instead:
 *
 * - Every write statement of a transaction is recorded as it is run, as
 *   SQL text with its values in it (sqlite3_expanded_sql).  If BEGIN or a
 *   statement or COMMIT fails with one of the errors above, the real
 *   transaction is rolled back and the recorded one is appended to the
 *   held queue; the caller sees success, and its state in memory moves
 *   on as if the change were committed.
 * - While the queue is not empty, later transactions are not run at all
 *   but only recorded behind it, so that the order is kept.  A timer
 *   (every STORE_RETRY_MS, and at most every STORE_RETRY_MIN_MS on a new
 *   write) writes the queue back, oldest first, each held transaction in
 *   a transaction of its own, with the times it was decided at.
 * - For that to work nothing written may depend on a read of a row that
 *   is still held.  Row ids that later rows refer to are chosen here,
 *   from counters of MAX(id) (store_next_id), never from
 *   sqlite3_last_insert_rowid, and read again from the file by every
 *   BEGIN that gets the lock, so a replay (rtowatchd -p) writing to the
 *   same file is seen; while changes are held, nothing but this process
 *   may write there.  Timeline rows are inserted "pending": their links,
 *   hashes and the records they bind are computed just before the real
 *   commit, made now or written back (store_records_finalize), when the
 *   rows before them and the rows they bind are there.
 *   What must read the database to compose a write (a notification's
 *   body describes the incident) is held as a call, store_later(), made
 *   when its turn comes, when the rows it reads are there.  Person-made
 *   changes (the workflow) read the records before they change them, so
 *   control.c refuses them with 503 while changes are held; clocks.c
 *   arms and disarms the clocks a held change starts and stops, and reads
 *   them again once the queue is written; the mailer waits, since a mail
 *   sent could not be marked sent.
 * - The queue is bounded (STORE_HELD_MAX transactions, STORE_HELD_BYTES):
 *   at the bound new transactions are refused, which the callers already
 *   handle (the engine tries again at the next probe), and the log says
 *   so once.  Dropping held ones instead would break the hash chain.
 *
 * A group (store_group_begin/_commit) makes the changes of one turn of
 * the loop (the probe results that came in together) one real
 * transaction, with one sync, instead of one each: on a disk where a
 * sync takes 4-12 ms a mass failure's thousands of changes otherwise
 * stall every probe behind them.  Each change in it is still a
 * transaction of its own to its caller, a savepoint here, and is
 * recorded as today; the caller's memory moves on when its savepoint is
 * released.  If the group's COMMIT (or a statement after the first
 * change) is refused, its changes, in order, join the held queue exactly
 * as if each had been refused alone, so memory and store still agree
 * once they are written.
 *
 * What is held lives in this process only: killed with changes held, they
 * are lost.  On a clean stop (SIGTERM) store_close() tries for
 * STORE_FINAL_MS (longer while they are being written) to write them,
 * STORE_FINAL_GROUP to a transaction as a group's changes (store_flush),
 * and logs what it could not.
 */
#include <sys/queue.h>

#include <event2/event.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chain.h"
#include "log.h"
#include "store.h"
#include "store_int.h"
#include "util.h"

#define STORE_BUSY_MS		10	/* the longest the loop waits */
#define STORE_RETRY_MS		1000
#define STORE_RETRY_MIN_MS	200
#define STORE_HELD_MAX		10000
#define STORE_HELD_BYTES	((size_t)32 * 1024 * 1024)
#define STORE_FINAL_MS		3000	/* stopping, with nothing written */
#define STORE_FINAL_MAX_MS	10000	/* stopping, in all */
#define STORE_FINAL_GROUP	500	/* changes a transaction, stopping */
#define STORE_SLICE_MS		20	/* of writing back, per turn */
#define STORE_NEXT_SLICE_MS	5

static const char *const store_table_names[STORE_NTABLES] = {
	"incidents", "outages", "warnings", "clocks", "maintenance",
	"timeline"
};

/* One write of a held transaction: SQL with its values, or a call. */
struct store_op {
	STAILQ_ENTRY(store_op)	 entry;
	char			*sql;
	int			 (*fn)(struct store *, void *);
	void			 (*fn_free)(void *);
	void			*arg;
	const char		*what;	/* a call's, for the log */
};

struct store_tx {
	TAILQ_ENTRY(store_tx)	 entry;
	STAILQ_HEAD(, store_op)	 ops;
	int64_t			 at;		/* when it was decided */
	size_t			 bytes;
	int			 appended;	/* timeline rows in it */
	int64_t			 first_row;	/* of the timeline, or 0 */
	int64_t			 last_row;
	/*
	 * Held because its COMMIT's answer was lost, the server perhaps
	 * having committed it (db->uncertain): the transaction's id.
	 */
	char			 xid[32];
};

struct store {
	struct store_db	*db;
	const struct store_backend *be;
	char		*path;
	int		 appended;	/* the timeline, in this transaction */
	void		 (*on_commit)(void *);
	void		*on_commit_arg;
	void		 (*on_flush)(void *);
	void		*on_flush_arg;
	void		 (*on_alert)(const char *, void *);
	void		*on_alert_arg;

	/* The transaction being made, recorded; held if refused. */
	struct store_tx	*tx;
	int		 deferring;	/* tx is recorded, not run */
	int		 replaying;	/* writing the held queue back */
	int		 calling;	/* in store_call(): its writes are it */
	int		 last_deferred;	/* the last write was only recorded */
	int64_t		 next[STORE_NTABLES], saved_next[STORE_NTABLES];

	TAILQ_HEAD(, store_tx) held;
	/* A group: its real transaction is open; the changes made in it. */
	int		 group;
	int		 group_lazy;	/* opened by its first change */
	int		 group_open;
	int		 group_appended;
	int		 in_savepoint;
	TAILQ_HEAD(, store_tx) group_txs;
	size_t		 nheld;
	size_t		 held_bytes;
	size_t		 written;	/* held ones written in this episode */
	int		 full;		/* the bound was reached: said once */
	int		 standby;	/* not the leader: writes refused */
	int		 own;		/* but this node's own rows */
	int		 suspended;	/* the leader's session lost: hold */
	unsigned	 refused;	/* transactions refused at the bound */
	int64_t		 failing_since;	/* wall ms; 0: writes are accepted */
	int64_t		 failing_mono;
	/*
	 * The last refusal's reason, for the line that ends the episode: a
	 * held change dropped meanwhile leaves its own error in db->error.
	 */
	char		 failing_why[sizeof(((struct store_db *)0)->error)];
	int64_t		 last_try_mono;
	int64_t		 alert_after_ms;
	int		 alerted;
	struct event	*timer;
};

/*
 * Records bound to the chain (chain.h): each timeline row carries the
 * state of the rows its transaction wrote.  A row is inserted with the
 * placeholder hash "pending-ID" (the column is UNIQUE) and given its link,
 * records and hash just before the commit, so the append-only trigger
 * lets only that placeholder be replaced.
 * After this migration, as after any upgrade, store_migrate binds every
 * record already there in one "records baseline" row
 * (store_records_baseline).
 */
static int	store_records_baseline(struct store *, int, int);
static int	store_records_finalize(struct store *, const struct store_tx *);
/* Reads sent ahead together (store_prefetch) at most. */
#define STORE_READ_AHEAD	32
static int	store_records_dirty(struct store *);

static const char store_migration_records[] =
	"ALTER TABLE timeline ADD COLUMN records TEXT;"
	"DROP TRIGGER timeline_no_update;"
	"CREATE TRIGGER timeline_no_update BEFORE UPDATE ON timeline"
	"  WHEN OLD.hash NOT GLOB 'pending-*'"
	"  BEGIN SELECT RAISE(ABORT, 'the timeline is append-only'); END;";
static int	store_flush(struct store *, int64_t, int);
static void	store_arm(struct store *);
static void	store_group_fault(struct store *);
static void	store_group_open(struct store *);
static void	store_recovered(struct store *);

const char *const *const store_sqlite_migrations[] = {
	/* 1: outages, incidents and their timeline. */
	STORE_MIGRATION(
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
	"CREATE INDEX timeline_warning ON timeline(warning_id, id);",
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
	"  incident_id, recipient, id);"),
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
	STORE_MIGRATION(
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
	"CREATE INDEX contacts_incident ON contacts(incident_id, at);"),
	/*
	 * 3: a closed record is final (5.4.7.3.6).  A failure after closing
	 * opens a new incident, which names the closed one it recurs; the
	 * database itself refuses to change a closed incident or to add an
	 * outage, a clock or an affected system to it.
	 */
	STORE_MIGRATION(
	"ALTER TABLE incidents ADD COLUMN recurrence_of INTEGER"
	"  REFERENCES incidents(id);"
	"CREATE TRIGGER incidents_closed_final BEFORE UPDATE ON incidents"
	"  WHEN OLD.status = 'closed'"
	"  BEGIN SELECT RAISE(ABORT, 'the incident is closed; its record is"
	"  final'); END;"
	"CREATE TRIGGER outages_closed_final BEFORE INSERT ON outages"
	"  WHEN (SELECT status FROM incidents WHERE id = NEW.incident_id) ="
	"  'closed'"
	"  BEGIN SELECT RAISE(ABORT, 'the incident is closed; its record is"
	"  final'); END;"
	"CREATE TRIGGER clocks_closed_final BEFORE INSERT ON clocks"
	"  WHEN (SELECT status FROM incidents WHERE id = NEW.incident_id) ="
	"  'closed'"
	"  BEGIN SELECT RAISE(ABORT, 'the incident is closed; its record is"
	"  final'); END;"
	"CREATE TRIGGER clocks_closed_restart BEFORE UPDATE OF stopped_at"
	"  ON clocks WHEN OLD.stopped_at IS NOT NULL AND"
	"  NEW.stopped_at IS NULL AND"
	"  (SELECT status FROM incidents WHERE id = NEW.incident_id) ="
	"  'closed'"
	"  BEGIN SELECT RAISE(ABORT, 'the incident is closed; its record is"
	"  final'); END;"
	"CREATE TRIGGER scope_closed_final BEFORE INSERT ON incident_scope"
	"  WHEN (SELECT status FROM incidents WHERE id = NEW.incident_id) ="
	"  'closed'"
	"  BEGIN SELECT RAISE(ABORT, 'the incident is closed; its record is"
	"  final'); END;"),
	/*
	 * 4: a report time a person gives (reported --at) is a claim; the
	 * record keeps beside it when it was entered, so that a report
	 * entered after the deadline shows as such on form 01.
	 */
	STORE_MIGRATION(
	"ALTER TABLE incidents ADD COLUMN reported_entered_at TEXT;"),
	/* 5: the records the forms print, bound to the chain. */
	STORE_MIGRATION(store_migration_records),
	/*
	 * 6: the closure deadline (結案期限, 5.3.8) is a clock of its own,
	 * kind 'close', so the clocks table is made again with it allowed
	 * (SQLite cannot change a CHECK in place); its rows are kept as
	 * they are.  drill_factor is a drill's time compression (5.8.1): 1
	 * for real lengths, 60 makes an hour a minute; NULL for every
	 * incident that is not a drill.  Dropping the old table drops its
	 * triggers: migration 3's, which keep a closed incident's clocks
	 * final, are made again.
	 */
	STORE_MIGRATION(
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
	"CREATE TRIGGER clocks_closed_final BEFORE INSERT ON clocks"
	"  WHEN (SELECT status FROM incidents WHERE id = NEW.incident_id) ="
	"  'closed'"
	"  BEGIN SELECT RAISE(ABORT, 'the incident is closed; its record is"
	"  final'); END;"
	"CREATE TRIGGER clocks_closed_restart BEFORE UPDATE OF stopped_at"
	"  ON clocks WHEN OLD.stopped_at IS NOT NULL AND"
	"  NEW.stopped_at IS NULL AND"
	"  (SELECT status FROM incidents WHERE id = NEW.incident_id) ="
	"  'closed'"
	"  BEGIN SELECT RAISE(ABORT, 'the incident is closed; its record is"
	"  final'); END;"
	"ALTER TABLE incidents ADD COLUMN drill_factor INTEGER"
	"  CHECK (drill_factor BETWEEN 1 AND 3600);"),
	/*
	 * 7: the response-time history (store_response.c): per check, a
	 * row a bucket (a minute, then an hour once rolled up) with the
	 * counts of its results and the round trips of the good ones.
	 * Not a record: no chain, no trigger, pruned by age.  Times are
	 * Unix seconds, not ISO text, and the table has no rowid: at a
	 * row a minute a check, each byte of a row is 0.5 MB a check a
	 * year (README, "Response-time history").
	 */
	STORE_MIGRATION(
	"CREATE TABLE response_checks ("
	"  id INTEGER PRIMARY KEY,"
	"  system TEXT NOT NULL,"
	"  name TEXT NOT NULL,"		/* tcp 192.0.2.25 port 25 */
	"  UNIQUE (system, name)"
	");"
	"CREATE TABLE response_history ("
	"  check_id INTEGER NOT NULL,"
	"  span INTEGER NOT NULL,"	/* the bucket's length, s */
	"  at INTEGER NOT NULL,"	/* its start, Unix s, UTC */
	"  ok INTEGER NOT NULL,"
	"  failed INTEGER NOT NULL,"
	"  rtt_min INTEGER,"		/* ms, of the good probes; */
	"  rtt_max INTEGER,"		/* NULL when none was */
	"  rtt_sum INTEGER,"
	"  cause TEXT,"			/* the last failure's result */
	"  PRIMARY KEY (check_id, span, at)"
	") WITHOUT ROWID;"),
	/*
	 * 8: webhooks beside mail (webhook.c).  Their rows are the same
	 * outbox, channel 'webhook', recipient the webhook's name, body the
	 * event as JSON; the table is made again to allow the channel
	 * (SQLite cannot change a CHECK in place), its rows kept as they
	 * are.  A row the receiver refused for good is 'failed'.
	 */
	STORE_MIGRATION(
	"CREATE TABLE notifications_new ("
	"  id INTEGER PRIMARY KEY,"
	"  incident_id INTEGER NOT NULL REFERENCES incidents(id),"
	"  channel TEXT NOT NULL DEFAULT 'email'"
	"    CHECK (channel IN ('email', 'webhook')),"
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
	"INSERT INTO notifications_new SELECT * FROM notifications;"
	"DROP TABLE notifications;"
	"ALTER TABLE notifications_new RENAME TO notifications;"
	"CREATE INDEX notifications_queue ON notifications(state,"
	"  incident_id, recipient, id);"),
	/*
	 * 9: a maintenance window people added may be cancelled before it
	 * ends (rtowatch maintenance cancel); the row stays, with who
	 * cancelled it and when, since the outages it made planned name it.
	 */
	STORE_MIGRATION(
	"ALTER TABLE maintenance ADD COLUMN cancelled_at TEXT;"
	"ALTER TABLE maintenance ADD COLUMN cancelled_by TEXT;"),
	/*
	 * 10: vantage points (issue 21).  Each node sharing the register
	 * writes its own observations: a check of a system going down or up
	 * in its view, at its own first failure or success, with the cause;
	 * "(monitoring host)" "network" is its own network lost or back.
	 * Append-only, without a chain: the leader's incidents, whose
	 * timeline is chained, quote the views that decided them.  One
	 * node alone on SQLite writes them too, so the format is one.
	 * Whether a node is alive is its row in nodes (11).
	 */
	STORE_MIGRATION(
	"CREATE TABLE observations ("
	"  id INTEGER PRIMARY KEY,"
	"  node TEXT NOT NULL,"
	"  system TEXT NOT NULL,"
	"  check_name TEXT NOT NULL,"	/* tcp 192.0.2.25 port 25 */
	"  state TEXT NOT NULL CHECK (state IN ('up', 'down')),"
	"  at TEXT NOT NULL,"
	"  written_at TEXT NOT NULL,"
	"  cause TEXT NOT NULL DEFAULT ''"
	");"
	"CREATE TRIGGER observations_no_update BEFORE UPDATE ON observations"
	"  BEGIN SELECT RAISE(ABORT, 'observations are append-only'); END;"
	STORE_OBSERVATIONS_NO_DELETE ";"),
	/* 11: the nodes sharing the register, and their roles (lead.c). */
	STORE_MIGRATION(STORE_NODES_TABLE),
	/*
	 * 12: each node's latest view of each check, for status (issue 21).
	 * The latest of the observations of a (node, system, check) is a
	 * scan of the whole append-only table in both engines (neither
	 * skips through an index per group), and status is read often, in
	 * the loop; so a trigger keeps it, one row a (node, system, check),
	 * as each observation is written: status reads only these rows.
	 */
	STORE_MIGRATION(
	"CREATE TABLE observations_latest ("
	"  node TEXT NOT NULL,"
	"  system TEXT NOT NULL,"
	"  check_name TEXT NOT NULL,"
	"  id INTEGER NOT NULL,"		/* the observation's */
	"  state TEXT NOT NULL,"
	"  at TEXT NOT NULL,"
	"  cause TEXT NOT NULL DEFAULT '',"
	"  PRIMARY KEY (node, system, check_name)"
	");"
	"INSERT INTO observations_latest SELECT node, system, check_name, id,"
	"  state, at, cause FROM observations WHERE id IN (SELECT max(id)"
	"  FROM observations GROUP BY node, system, check_name);"
	"CREATE TRIGGER observations_latest AFTER INSERT ON observations"
	"  BEGIN INSERT INTO observations_latest (node, system, check_name,"
	"  id, state, at, cause) VALUES (new.node, new.system,"
	"  new.check_name, new.id, new.state, new.at, new.cause)"
	"  ON CONFLICT (node, system, check_name) DO UPDATE SET"
	"  id = excluded.id, state = excluded.state, at = excluded.at,"
	"  cause = excluded.cause"
	"  WHERE excluded.id > observations_latest.id; END;"),
	/*
	 * 13: an attached outage's scope row by its outage.  Ending one
	 * (store_outage_detach, at each system's recovery) scanned the whole
	 * table: 0.31 ms at 10,000 rows, each, so a mass failure's recovery
	 * cost the loop 3 s of the 6.2-6.9 s it took (bench_mass.py).
	 */
	STORE_MIGRATION(STORE_SCOPE_OUTAGE_INDEX),
	/*
	 * 14: observations are pruned past `set observations-keep`
	 * (store_observations_prune), oldest first, a batch at a time: by
	 * their time.  The append-only trigger stays; the prune alone lifts
	 * it, within its own transaction (STORE_OBSERVATIONS_NO_DELETE).
	 */
	STORE_MIGRATION(
	"CREATE INDEX observations_at ON observations (at);"),
	/*
	 * 15: a system's incidents by their restoration.  The
	 * observations' prune keeps those within any incident's window,
	 * read in its statement rather than a list made beforehand, which
	 * gave up past 20,000 incidents in the retention: each old
	 * observation looks up its system's incidents restored after it.
	 */
	STORE_MIGRATION(STORE_INCIDENTS_SYSTEM_INDEX),
	/*
	 * 16: a system's incidents by their start.  The prune seeks the
	 * first within the retention: a view before its system's first
	 * window is in none.  Views older than 20,500 incidents of one
	 * system each looked at all of them: 5-15 s a batch of 500.
	 */
	STORE_MIGRATION(STORE_INCIDENTS_STARTED_INDEX),
};

#define STORE_NMIGRATIONS \
	(int)(sizeof(store_sqlite_migrations) / \
	sizeof(store_sqlite_migrations[0]))

_Static_assert(STORE_NMIGRATIONS == STORE_SCHEMA_VERSION,
    "STORE_SCHEMA_VERSION must count the migrations");

static int
store_exec(struct store *st, const char *sql)
{
	if (st->be->exec(st->db, sql) != STORE_OK) {
		log_warnx("%s: %s", st->path, st->db->error);
		return -1;
	}
	return 0;
}

/* Each of the NULL-terminated SQL, in order, up to the first to fail. */
static int
store_exec_all(struct store *st, const char *const *sql)
{
	for (; *sql != NULL; sql++)
		if (store_exec(st, *sql) == -1)
			return -1;
	return 0;
}

/*
 * Is RC (of a backend's call) a refusal that passes by itself (a lock, a
 * full disk, a lost connection), so that the change is held and tried
 * again, rather than an error in the change itself?
 */
static int
store_fault(int rc)
{
	return rc == STORE_FAULT;
}

/* Run SQL quietly: STORE_OK or the error, the message in error. */
static int
store_exec_rc(struct store *st, const char *sql)
{
	return st->be->exec(st->db, sql);
}

/* Roll back the transaction the database has open, if it has one. */
static void
store_db_rollback(struct store *st)
{
	if (st->be->in_tx(st->db))
		(void)st->be->exec(st->db, "ROLLBACK");
}

/* The first column of SQL's one row: a count; -1 on error. */
static int64_t
store_scalar(struct store *st, const char *sql)
{
	struct store_query	*q;
	int64_t			 v = -1;

	if ((q = store_prepare(st, sql)) == NULL)
		return -1;
	if (store_step(q) == STORE_ROW)
		v = store_column_int64(q, 0);
	store_finalize(q);
	return v;
}

static int
store_migrate(struct store *st)
{
	char	*version;
	int	 v, from;

	if ((v = st->be->version(st->db)) < 0)
		return -1;
	from = v;
	if (v > STORE_NMIGRATIONS) {
		log_warnx("%s: schema version %d is newer than this "
		    "rtowatchd knows (%d)", st->path, v, STORE_NMIGRATIONS);
		return -1;
	}
	for (; v < STORE_NMIGRATIONS; v++) {
		if (store_exec(st, st->be->begin_sql) == -1)
			return -1;
		version = st->be->version_sql(v + 1);
		if (store_exec_all(st, st->be->migrations[v]) == -1 ||
		    store_exec(st, version) == -1) {
			free(version);
			store_exec(st, "ROLLBACK");
			return -1;
		}
		free(version);
		if (store_exec(st, "COMMIT") == -1)
			return -1;
		log_info("%s: schema migrated to version %d", st->path, v + 1);
	}
	if (st->be->records_setup(st->db) == -1) {
		log_warnx("%s: %s", st->path, st->db->error);
		return -1;
	}
	/*
	 * Records written before this binary (before records were bound, or
	 * before a migration added columns) are bound as they stand now, in
	 * one row, so that verify checks them from here on.  A new database
	 * has none.
	 */
	if (from > 0 && from < STORE_NMIGRATIONS &&
	    store_records_baseline(st, from, STORE_NMIGRATIONS) == -1)
		return -1;
	return 0;
}

/* Every bound row, in one timeline row: see store_migrate. */
static int
store_records_baseline(struct store *st, int from, int to)
{
	const struct chain_table	*t;
	char				*sql, detail[256];
	int64_t				 n = 0;

	if (store_begin(st) == -1)
		return -1;
	for (t = chain_tables; t->name != NULL; t++) {
		xasprintf(&sql, "INSERT OR IGNORE INTO record_dirty"
		    " SELECT '%s', id FROM %s", t->name, t->name);
		if (store_exec(st, sql) == -1) {
			free(sql);
			store_rollback(st);
			return -1;
		}
		free(sql);
	}
	if ((n = store_records_dirty(st)) == -1) {
		store_rollback(st);
		return -1;
	}
	if (n == 0) {
		store_rollback(st);
		return 0;
	}
	snprintf(detail, sizeof(detail), "schema upgraded from version %d to "
	    "%d: the %lld records written before it are bound to the chain "
	    "as they stand", from, to, (long long)n);
	if (store_timeline_add(st, &(struct store_event){ .at = wall_ms(),
	    .event = "records baseline", .actor = "rtowatchd",
	    .detail = detail }) == -1 || store_commit(st) == -1) {
		store_rollback(st);
		return -1;
	}
	log_info("%s: %s", st->path, detail);
	return 0;
}

/* ROW's record line (chain.c), appended to *BUF. */
static int
store_records_line(const struct chain_table *t, struct store_query *row,
    char **buf, size_t *len, size_t *cap)
{
	const char	*v;
	int64_t		 id = store_column_int64(row, 0);
	int		 i, n = store_column_count(row);

	if (chain_record_head(t, id, buf, len, cap) == -1)
		return -1;
	for (i = 1; i < n; i++) {
		v = store_column_text(row, i);
		if (chain_record_column(t, id, store_column_name(row, i), v,
		    v == NULL ? 0 : row->db->be->column_bytes(row, i), buf, len,
		    cap) == -1)
			return -1;
	}
	return 0;
}

/*
 * The record lines of the rows written since the last call, sorted, in
 * *OUT (NULL when none); the dirty list is emptied.  Every bound table's
 * key is its id (in SQLite, the rowid).  DIRTY is the list's query, made
 * by the caller (store_records_finalize sends it ahead with its own).
 * The rows are read STORE_READ_AHEAD at a time, each batch sent ahead
 * (store_prefetch): on PostgreSQL one round trip instead of one each.
 */
static int
store_records_collect(struct store *st, struct store_query *dirty, char **out)
{
	const struct chain_table	*t[STORE_READ_AHEAD];
	struct store_query		*row[STORE_READ_AHEAD];
	int64_t				 id[STORE_READ_AHEAD];
	char				*sql, *buf = NULL, gone[96];
	size_t				 len = 0, cap = 0;
	int				 rc, list = STORE_ROW, i, n;

	*out = NULL;
	/* LIST: the dirty list's own step, which its rows' must not hide. */
	while (list == STORE_ROW) {
		for (n = 0; n < STORE_READ_AHEAD &&
		    (list = store_step(dirty)) == STORE_ROW; ) {
			if ((t[n] = chain_table(store_column_text(dirty, 0))) ==
			    NULL)
				continue;
			id[n] = store_column_int64(dirty, 1);
			xasprintf(&sql, "SELECT id, * FROM %s WHERE id = ?",
			    t[n]->name);
			row[n] = store_stmt(st, sql, "I", id[n]);
			free(sql);
			store_prefetch(row[n++]);
		}
		rc = STORE_ROW;
		for (i = 0; i < n; i++) {
			if (rc == -1 || row[i] == NULL)
				rc = -1;
			else if ((rc = store_step(row[i])) == STORE_ROW)
				rc = store_records_line(t[i], row[i], &buf,
				    &len, &cap) == -1 ? -1 : STORE_ROW;
			else if (rc == STORE_DONE) {
				snprintf(gone, sizeof(gone), "%s%s %lld -",
				    len > 0 ? "\n" : "", t[i]->name,
				    (long long)id[i]);
				rc = chain_append(&buf, &len, &cap, gone) == -1 ?
				    -1 : STORE_ROW;
			} else
				rc = -1;
			store_finalize(row[i]);
		}
		if (rc == -1)
			goto fail;
		/* The list's end (DONE) or its error ends the loop. */
	}
	if (list != STORE_DONE || store_exec(st, "DELETE FROM record_dirty") ==
	    -1) {
		free(buf);
		return -1;
	}
	*out = buf;
	return 0;
 fail:
	free(buf);
	log_warnx("%s: cannot read the records to bind: %s", st->path,
	    st->db->error);
	return -1;
}

/*
 * A read the chain needs failed: a fault (the connection lost, the
 * server refusing) holds the change as a write's fault does, anything
 * else is an error in it.
 */
static int
store_failed(struct store *st)
{
	return st->db->rc == STORE_FAULT ? STORE_FAULT : STORE_ERROR;
}

/*
 * Just before the commit of TX, made now or written back from the held
 * queue: its timeline rows, inserted as "pending", get their links and
 * hashes in order, and the last of them the records written since the
 * last row was hashed (store_records_collect).  Done here rather than at
 * the insert, since a held transaction's rows, and so its records and
 * the hash of the row before, exist only once it is written.  The
 * updates are not recorded: a replay hashes again.  The reads it needs
 * (the link before, its rows, the dirty list) are sent ahead together.
 * STORE_OK or the backend's error.
 */
static int
store_records_finalize(struct store *st, const struct store_tx *tx)
{
	struct store_query	*stmt, *prevq = NULL, *dirty = NULL;
	struct store_query	*rowq[STORE_READ_AHEAD];
	char			 hash[CHAIN_HEXLEN + 1], prev[CHAIN_HEXLEN + 1];
	char			*records = NULL;
	int64_t			 id, k, nrows;
	int			 rc = STORE_OK;

	if (tx->first_row == 0)
		return STORE_OK;
	memset(prev, '0', CHAIN_HEXLEN);
	prev[CHAIN_HEXLEN] = '\0';
	if (tx->first_row > 1) {
		if ((prevq = store_stmt(st, "SELECT hash FROM timeline"
		    " WHERE id = ?", "I", tx->first_row - 1)) == NULL)
			return STORE_ERROR;
		store_prefetch(prevq);
	}
	nrows = tx->last_row - tx->first_row + 1;
	if (nrows > STORE_READ_AHEAD)
		nrows = STORE_READ_AHEAD;
	for (k = 0; k < nrows; k++) {
		rowq[k] = store_stmt(st, "SELECT coalesce(incident_id, 0),"
		    " coalesce(warning_id, 0), at, event, actor, detail"
		    " FROM timeline WHERE id = ? AND hash LIKE 'pending-%'",
		    "I", tx->first_row + k);
		store_prefetch(rowq[k]);
	}
	if ((dirty = store_prepare(st, "SELECT tbl, id FROM record_dirty"
	    " ORDER BY tbl, id")) != NULL)
		store_prefetch(dirty);
	if (prevq != NULL) {
		if ((rc = store_step(prevq)) == STORE_ROW)
			snprintf(prev, sizeof(prev), "%s",
			    store_column_text(prevq, 0));
		rc = rc == STORE_ROW || rc == STORE_DONE ? STORE_OK : rc;
		store_finalize(prevq);
	}
	for (id = tx->first_row, k = 0; id <= tx->last_row; id++, k++) {
		if (rc == STORE_OK && id == tx->last_row && (dirty == NULL ||
		    store_records_collect(st, dirty, &records) == -1))
			rc = store_failed(st);
		stmt = k < nrows ? rowq[k] : rc != STORE_OK ? NULL :
		    store_stmt(st, "SELECT coalesce(incident_id, 0),"
		    " coalesce(warning_id, 0), at, event, actor, detail"
		    " FROM timeline WHERE id = ? AND hash LIKE 'pending-%'",
		    "I", id);
		if (rc != STORE_OK || stmt == NULL) {
			if (rc == STORE_OK)
				rc = store_failed(st);
			store_finalize(stmt);
			continue;	/* the rest read ahead is finalized */
		}
		if ((rc = store_step(stmt)) != STORE_ROW) {
			if (rc == STORE_DONE) {
				log_warnx("%s: timeline row %lld is not there "
				    "to hash", st->path, (long long)id);
				rc = STORE_ERROR;
			}
			store_finalize(stmt);
			continue;
		}
		chain_hash(prev, id, store_column_int64(stmt, 0),
		    store_column_int64(stmt, 1), store_column_text(stmt, 2),
		    store_column_text(stmt, 3), store_column_text(stmt, 4),
		    store_column_text(stmt, 5), records, hash);
		store_finalize(stmt);
		if ((stmt = store_stmt(st, "UPDATE timeline SET prev_hash = ?,"
		    " records = ?, hash = ? WHERE id = ?", "tttI", prev,
		    records, hash, id)) == NULL) {
			rc = STORE_ERROR;
			continue;
		}
		rc = store_step(stmt);
		rc = rc == STORE_DONE ? STORE_OK : rc;
		store_finalize(stmt);
		memcpy(prev, hash, sizeof(prev));
	}
	store_finalize(dirty);
	free(records);
	return rc;
}

/* Bound rows written with no timeline row in the transaction. */
static int
store_records_dirty(struct store *st)
{
	return (int)store_scalar(st, "SELECT count(*) FROM record_dirty");
}

/*
 * The next id of each table, in one statement: it runs at every BEGIN,
 * and on PostgreSQL each statement is a round trip.
 */
static int
store_load_ids(struct store *st)
{
	struct store_query	*q;
	char			*sql = NULL, *part;
	int			 t, rc = -1;

	for (t = 0; t < STORE_NTABLES; t++) {
		part = sql;
		xasprintf(&sql, "%s%s(SELECT coalesce(max(id), 0) + 1 FROM %s)",
		    part != NULL ? part : "SELECT ", t > 0 ? ", " : "",
		    store_table_names[t]);
		free(part);
	}
	q = store_prepare(st, sql);
	free(sql);
	if (q == NULL)
		return -1;
	if (store_step(q) == STORE_ROW) {
		for (t = 0, rc = 0; t < STORE_NTABLES; t++)
			if ((st->next[t] = store_column_int64(q, t)) < 1)
				rc = -1;
	}
	store_finalize(q);
	return rc;
}

/* An id for a new row of table T, which the caller inserts. */
int64_t
store_next_id(struct store *st, enum store_table t)
{
	return st->next[t]++;
}

/*
 * PATH is a file for SQLite, or a PostgreSQL URI or conninfo
 * ("postgresql://...", "host=... dbname=...").
 */
struct store *
store_open(const char *path)
{
	struct store	*st;

	st = xcalloc(1, sizeof(*st));
	st->path = xstrdup(path);
	st->db = database_is_pg(path) ? store_pg_db(path) :
	    store_sqlite_db(path);
	st->be = st->db->be;
	TAILQ_INIT(&st->held);
	TAILQ_INIT(&st->group_txs);
	if (st->be->connect(st->db) == -1 || st->be->check(st->db) == -1 ||
	    store_migrate(st) == -1 || store_load_ids(st) == -1) {
		store_close(st);
		return NULL;
	}
	st->be->busy(st->db, STORE_BUSY_MS);
	return st;
}

/*
 * The same path, a new connection: storewatch.c has just put a copy of
 * the database there.
 */
int
store_reopen(struct store *st)
{
	st->be->disconnect(st->db, 1);
	/* The records' TEMP triggers belong to the connection: anew. */
	if (st->be->connect(st->db) == -1 ||
	    st->be->records_setup(st->db) == -1)
		return -1;
	st->be->busy(st->db, STORE_BUSY_MS);
	return 0;
}

/* After store_reopen(): the old file's connection is closed now. */
void
store_close_moved(struct store *st)
{
	store_sqlite_close_moved(st->db);
}

struct sqlite3 *
store_sqlite(struct store *st)
{
	return store_sqlite_handle(st->db);
}

static void
store_tx_free(struct store_tx *tx)
{
	struct store_op	*op;

	if (tx == NULL)
		return;
	while ((op = STAILQ_FIRST(&tx->ops)) != NULL) {
		STAILQ_REMOVE_HEAD(&tx->ops, entry);
		free(op->sql);
		if (op->fn_free != NULL)
			op->fn_free(op->arg);
		free(op);
	}
	free(tx);
}

/*
 * The statement a refusal was for: SQL, the one just run, unless the
 * backend learnt of the refusal at a later statement and says which
 * (db->failed: PostgreSQL's pipeline).
 */
static const char *
store_refused_sql(struct store *st, const char *sql)
{
	return st->db->failed[0] != '\0' ? st->db->failed : sql;
}

/* What a held transaction is about, for the log: its first statement. */
static const char *
store_tx_what(const struct store_tx *tx)
{
	const struct store_op	*op;

	STAILQ_FOREACH(op, &tx->ops, entry)
		if (op->sql != NULL)
			return op->sql;
		else if (op->what != NULL)
			return op->what;
	return "(notifications)";
}

/*
 * Stopping with changes held: the loop is over, so waiting is harmless
 * now, but bounded: STORE_FINAL_MS for a database that refuses, as long
 * again from each group written while they are being written (a loaded
 * machine writes the bound's 10,000 slower than 3 s), STORE_FINAL_MAX_MS
 * in all, well within a service manager's stop timeout.  What still
 * cannot be written is said, change by change, since nothing else will
 * ever know of it.
 */
static void
store_final(struct store *st)
{
	struct timespec	 pause = { 0, 50L * 1000 * 1000 };
	struct store_tx	*tx;
	char		 t[TIME_STRLEN];
	int64_t		 start = mono_ms(), end = start + STORE_FINAL_MS;
	size_t		 n = 0, before = st->nheld, left;

	log_warnx("store: stopping with %zu changes held in memory; trying "
	    "for %d s (%d s while they are being written) to write them to "
	    "%s", st->nheld, STORE_FINAL_MS / 1000, STORE_FINAL_MAX_MS / 1000,
	    st->path);
	st->be->busy(st->db, 100);
	while (mono_ms() < end) {
		left = st->nheld;
		if (store_flush(st, end - mono_ms(), STORE_FINAL_GROUP) == 0)
			break;
		if (st->nheld >= left)
			nanosleep(&pause, NULL);
		else if ((end = mono_ms() + STORE_FINAL_MS) >
		    start + STORE_FINAL_MAX_MS)
			end = start + STORE_FINAL_MAX_MS;
	}
	log_info("store: %zu of the %zu changes held written (or dropped, "
	    "as said above) in %lld ms", before - st->nheld, before,
	    (long long)(mono_ms() - start));
	if (TAILQ_EMPTY(&st->held))
		return;
	TAILQ_FOREACH(tx, &st->held, entry)
		if (n++ < 20)
			log_warnx("store: lost, decided at %s: %.300s",
			    time_fmt(tx->at, t, sizeof(t)), store_tx_what(tx));
	log_warnx("store: %zu changes held in memory could not be written "
	    "to %s (%s) and are lost: the records miss what they say",
	    st->nheld, st->path, st->db->error);
}

void
store_close(struct store *st)
{
	struct store_tx	*tx;

	if (st == NULL)
		return;
	if (st->timer != NULL)
		event_free(st->timer);
	st->timer = NULL;
	/* Those who listen may be gone already. */
	st->on_commit = NULL;
	st->on_flush = NULL;
	st->on_alert = NULL;
	if (st->tx != NULL)
		store_rollback(st);
	if (st->db != NULL && !TAILQ_EMPTY(&st->held))
		store_final(st);
	while ((tx = TAILQ_FIRST(&st->held)) != NULL) {
		TAILQ_REMOVE(&st->held, tx, entry);
		store_tx_free(tx);
	}
	if (st->db != NULL) {
		st->be->disconnect(st->db, 0);
		free(st->db->path);
		free(st->db);
	}
	free(st->path);
	free(st);
}

const char *
store_path(const struct store *st)
{
	return st->path;
}

struct store_query *
store_prepare(struct store *st, const char *sql)
{
	struct store_query	*q;

	if ((q = st->be->prepare(st->db, sql)) == NULL)
		log_warnx("%s: %s", st->path, st->db->error);
	return q;
}

/* The statement's calls, through its backend. */
int
store_step(struct store_query *q)
{
	return q->db->be->step(q);
}

void
store_prefetch(struct store_query *q)
{
	if (q != NULL && q->db->be->prefetch != NULL)
		q->db->be->prefetch(q);
}

void
store_finalize(struct store_query *q)
{
	if (q != NULL)
		q->db->be->finalize(q);
}

int
store_column_null(struct store_query *q, int col)
{
	return q->db->be->column_null(q, col);
}

int
store_column_isint(struct store_query *q, int col)
{
	return q->db->be->column_isint(q, col);
}

int
store_column_int(struct store_query *q, int col)
{
	return (int)q->db->be->column_int64(q, col);
}

int64_t
store_column_int64(struct store_query *q, int col)
{
	return q->db->be->column_int64(q, col);
}

const char *
store_column_text(struct store_query *q, int col)
{
	return q->db->be->column_text(q, col);
}

const char *
store_column_name(struct store_query *q, int col)
{
	return q->db->be->column_name(q, col);
}

int
store_column_count(struct store_query *q)
{
	return q->db->be->column_count(q);
}

void
store_bind_text(struct store_query *q, int col, const char *s)
{
	if (s == NULL)
		q->db->be->bind_null(q, col);
	else
		q->db->be->bind_text(q, col, s);
}

void
store_bind_int64(struct store_query *q, int col, int64_t v)
{
	q->db->be->bind_int64(q, col, v);
}

/*
 * A read refused (RC) while the transaction is only recorded: with
 * SQLite the file still reads, but a PostgreSQL server that is down
 * reads nothing.  What a held transaction reads (the clocks of the
 * incident it opens, its kind) is in the held queue, not in the database,
 * either way: it reads as none, as it would from SQLite.
 */
int
store_read_held(struct store *st, int rc)
{
	return rc == STORE_FAULT && st->tx != NULL && st->deferring;
}

const char *
store_errmsg(struct store *st)
{
	return st->db->error;
}

/*
 * Why the last refused statement was refused, when the register was at
 * fault (not reachable, restarting, busy) rather than the statement:
 * what a reader tells its caller, who may try again.  NULL otherwise.
 */
const char *
store_read_fault(const struct store *st)
{
	if (st->db == NULL || st->db->rc != STORE_FAULT)
		return NULL;
	return st->db->error[0] != '\0' ? st->db->error : "refused";
}

static void
store_bind_time(struct store_query *q, int col, int64_t t)
{
	char	 buf[TIME_STRLEN];

	store_bind_text(q, col, t == 0 ? NULL :
	    time_fmt(t, buf, sizeof(buf)));
}

int64_t
store_column_time(struct store_query *q, int col)
{
	const char	*s;
	int64_t		 t;

	if ((s = store_column_text(q, col)) == NULL || time_parse(s, &t) == -1)
		return 0;
	return t;
}

/* Bind AP to STMT's parameters as TYPES says (store_int.h). */
static void
store_bindv(struct store_query *stmt, const char *types, va_list ap)
{
	const struct store_backend	*be = stmt->db->be;
	int64_t				 v;
	int				 col;

	/* A letter missing or one too many binds the rest to the wrong ?s. */
	if (strlen(types) != (size_t)be->nparams(stmt))
		fatalx("store: %zu values for %d parameters: %s",
		    strlen(types), be->nparams(stmt), be->sql(stmt));
	for (col = 1; *types != '\0'; types++, col++) {
		switch (*types) {
		case 'i':
			be->bind_int64(stmt, col, va_arg(ap, int));
			break;
		case 'I':
			be->bind_int64(stmt, col, va_arg(ap, int64_t));
			break;
		case 'J':
			if ((v = va_arg(ap, int64_t)) == 0)
				be->bind_null(stmt, col);
			else
				be->bind_int64(stmt, col, v);
			break;
		case 't':
			store_bind_text(stmt, col, va_arg(ap, const char *));
			break;
		case 'T':
			store_bind_time(stmt, col, va_arg(ap, int64_t));
			break;
		default:
			fatalx("store: no binding type '%c'", *types);
		}
	}
}

/* A statement prepared and bound, for a read or store_write_row. */
struct store_query *
store_stmt(struct store *st, const char *sql, const char *types, ...)
{
	struct store_query	*stmt;
	va_list		 ap;

	if ((stmt = store_prepare(st, sql)) == NULL)
		return NULL;
	va_start(ap, types);
	store_bindv(stmt, types, ap);
	va_end(ap);
	return stmt;
}

/* One write, prepared, bound and written (recorded, maybe held). */
int
store_run(struct store *st, const char *sql, const char *types, ...)
{
	struct store_query	*stmt;
	va_list		 ap;

	if ((stmt = store_prepare(st, sql)) == NULL)
		return -1;
	va_start(ap, types);
	store_bindv(stmt, types, ap);
	va_end(ap);
	return store_write(st, stmt);
}

/* The database refuses writes: say so once, and retry on a timer. */
static void
store_refused(struct store *st)
{
	if (st->failing_since == 0) {
		st->failing_since = wall_ms();
		st->failing_mono = mono_ms();
		st->written = 0;
		st->alerted = 0;
		log_warnx("store: %s refuses writes (%s): changes are held in "
		    "memory, in order, and written with their original times "
		    "once it accepts them", st->path, st->db->error);
	}
	memcpy(st->failing_why, st->db->error, sizeof(st->failing_why));
	store_arm(st);
}

/*
 * Record one write of the transaction being made: SQL, if not NULL, is
 * the op's from now on (copied, a 500-row statement of the history was in
 * the heap three times at once: the rows' text, the SQL and its copy);
 * else the call FN(ARG), ARG of BYTES (0: a notification's, about 512).
 */
static void
store_record(struct store *st, char *sql, int (*fn)(struct store *,
    void *), void (*fn_free)(void *), void *arg, size_t bytes,
    const char *what)
{
	struct store_op	*op;

	op = xcalloc(1, sizeof(*op));
	if (sql != NULL) {
		op->sql = sql;
		st->tx->bytes += strlen(sql) + sizeof(*op);
	} else
		st->tx->bytes += sizeof(*op) + (bytes != 0 ? bytes : 512);
	op->fn = fn;
	op->fn_free = fn_free;
	op->arg = arg;
	op->what = what;
	STAILQ_INSERT_TAIL(&st->tx->ops, op, entry);
}

/*
 * Run a write statement, or only record it while the transaction is held,
 * and finalize it.  VAL, if not NULL, gets the first column of the first
 * row it returns (0 when only recorded).  Outside a transaction the write
 * is one of its own.
 */
int
store_write_row(struct store *st, struct store_query *stmt, int *val)
{
	char	*sql;
	int	 rc = STORE_DONE, implicit = 0;

	st->last_deferred = 0;
	if (val != NULL)
		*val = 0;
	if (st->tx == NULL && !st->replaying) {
		if (store_begin(st) == -1) {
			store_finalize(stmt);
			return -1;
		}
		implicit = 1;
	}
	/* In a call, the call is recorded (store_call), not this. */
	sql = st->replaying || st->calling ? NULL : st->be->expanded(stmt);
	if (sql == NULL && !st->replaying && !st->calling)
		fatalx("store: cannot record a statement");
	if (st->replaying || !st->deferring) {
		if ((rc = store_step(stmt)) == STORE_ROW && val != NULL)
			*val = store_column_int(stmt, 0);
		while (rc == STORE_ROW)
			rc = store_step(stmt);
	}
	if (st->replaying) {
		store_finalize(stmt);
		return rc == STORE_DONE ? 0 : -1;
	}
	if (rc != STORE_DONE && !store_fault(rc)) {
		log_warnx("%s: %s; the statement refused: %.300s", st->path,
		    st->db->error, store_refused_sql(st, sql != NULL ? sql :
		    st->be->sql(stmt)));
		store_finalize(stmt);
		free(sql);
		if (implicit)
			store_rollback(st);
		return -1;
	}
	store_finalize(stmt);
	if (rc != STORE_DONE) {
		/* From here on the transaction is recorded, not run. */
		store_group_fault(st);
		store_db_rollback(st);
		st->deferring = 1;
		store_refused(st);
	}
	st->last_deferred = st->deferring;
	if (sql != NULL)
		store_record(st, sql, NULL, NULL, NULL, 0, NULL);
	if (implicit)
		return store_commit(st);
	return 0;
}

int
store_write(struct store *st, struct store_query *stmt)
{
	return store_write_row(st, stmt, NULL);
}

/* Rows the last write changed; a write only recorded is taken as 1. */
int
store_changed(struct store *st)
{
	return st->last_deferred ? 1 : st->be->changes(st->db);
}

/*
 * FN composes writes from what the database holds (a notification's body
 * describes its incident).  While the transaction is held, FN is held in
 * it and called when its turn to be written comes, when the rows it reads
 * are there; otherwise now.  FN_FREE frees ARG either way.
 */
int
store_later(struct store *st, int (*fn)(struct store *, void *),
    void (*fn_free)(void *), void *arg)
{
	int		 rc;

	if (st->tx != NULL && st->deferring && !st->replaying) {
		store_record(st, NULL, fn, fn_free, arg, 0, NULL);
		return 0;
	}
	rc = fn(st, arg);
	if (fn_free != NULL)
		fn_free(arg);
	return rc;
}

/*
 * FN writes rows given in ARG (a text of many rows, which its statements
 * bind), now, in the caller's transaction; the transaction records the
 * call, not FN's statements expanded with their values: a 500-row
 * statement of the history, expanded, was 50-100 kB more at every flush,
 * built by doubling, most of the heap's growth each minute.  Held, the
 * call is made again when its turn comes, as store_later's are.  BYTES:
 * ARG's size, for the held queue's bound; WHAT names the rows for the
 * log.  FN_FREE frees ARG in every case.
 */
int
store_call(struct store *st, int (*fn)(struct store *, void *),
    void (*fn_free)(void *), void *arg, size_t bytes, const char *what)
{
	int	 rc = 0, implicit = 0;

	if (st->replaying || st->calling) {
		rc = fn(st, arg);
		fn_free(arg);
		return rc;
	}
	if (st->tx == NULL) {
		if (store_begin(st) == -1) {
			fn_free(arg);
			return -1;
		}
		implicit = 1;
	}
	/* A fault in FN makes the transaction recorded from there on. */
	if (!st->deferring) {
		st->calling = 1;
		rc = fn(st, arg);
		st->calling = 0;
	}
	if (rc == -1) {
		fn_free(arg);
		if (implicit)
			store_rollback(st);
		return -1;
	}
	st->last_deferred = st->deferring;
	store_record(st, NULL, fn, fn_free, arg, bytes, what);
	if (implicit)
		return store_commit(st);
	return 0;
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
 * Append one event about an incident, an early warning, both or neither
 * (struct store_event).  In the caller's transaction the row is hashed
 * at the commit, with the records the transaction wrote
 * (store_records_finalize); outside one it is a transaction of its own.
 */
static int
store_timeline_insert(struct store *st, const struct store_event *ev)
{
	char		 when[TIME_STRLEN];
	const char	*detail = ev->detail != NULL ? ev->detail : "";
	int64_t		 id;

	/* The chain's links and hashes come at the commit (finalize). */
	if (st->replaying)
		fatalx("store: a timeline row composed while writing back");
	id = store_next_id(st, STORE_TIMELINE);

	time_fmt(ev->at, when, sizeof(when));
	if (store_run(st, "INSERT INTO timeline (id, incident_id,"
	    " warning_id, at, event, actor, detail, prev_hash, hash)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 'pending-' || ?1)",
	    "IJJtttt", id, ev->incident_id, ev->warning_id, when, ev->event,
	    ev->actor, detail) == -1)
		return -1;
	if (st->tx != NULL) {
		if (st->tx->first_row == 0)
			st->tx->first_row = id;
		st->tx->last_row = id;
	}
	st->appended = 1;
	return 0;
}

int
store_timeline_add(struct store *st, const struct store_event *ev)
{
	if (st->tx != NULL)
		return store_timeline_insert(st, ev);
	if (store_begin(st) == -1)
		return -1;
	if (store_timeline_insert(st, ev) == -1) {
		store_rollback(st);
		return -1;
	}
	return store_commit(st);
}

/*
 * Transactions belong to the caller: the engine writes a state change
 * and everything it entails (timeline, clocks, notifications) at once.
 */
/*
 * A transaction of this node's own rows (its observations), which a
 * standby or an observer writes too: they are its view, not the records.
 */
int
store_begin_own(struct store *st)
{
	int	 rc;

	st->own = 1;
	rc = store_begin(st);
	st->own = 0;
	return rc;
}

int
store_begin(struct store *st)
{
	char	 t[TIME_STRLEN];
	int	 rc;

	if (st->tx != NULL || st->replaying)
		fatalx("store: nested transaction");
	/* Only the leader writes the records (lead.c). */
	if (st->standby && !st->own) {
		st->refused++;
		return -1;
	}
	if (st->group_lazy) {
		st->group_lazy = 0;
		store_group_open(st);
	}
	if (st->group_open) {
		/* One change of the group's transaction: a savepoint. */
		st->tx = xcalloc(1, sizeof(*st->tx));
		STAILQ_INIT(&st->tx->ops);
		st->tx->at = wall_ms();
		st->appended = 0;
		st->deferring = 0;
		memcpy(st->saved_next, st->next, sizeof(st->next));
		rc = store_exec_rc(st, "SAVEPOINT store_change");
		if (rc == STORE_OK) {
			st->in_savepoint = 1;
			return 0;
		}
		if (!store_fault(rc)) {
			log_warnx("%s: %s", st->path, st->db->error);
			store_tx_free(st->tx);
			st->tx = NULL;
			return -1;
		}
		/* Held behind the group's changes, held too. */
		store_group_fault(st);
		st->deferring = 1;
		return 0;
	}
	if (!TAILQ_EMPTY(&st->held) &&
	    mono_ms() - st->last_try_mono >= STORE_RETRY_MIN_MS)
		store_flush(st, STORE_SLICE_MS, 1);
	if (st->nheld >= STORE_HELD_MAX || st->held_bytes >= STORE_HELD_BYTES) {
		st->refused++;
		if (!st->full)
			log_warnx("store: %zu changes (%zu bytes) are held in "
			    "memory, the most it holds: new changes are "
			    "refused and not recorded until %s accepts writes "
			    "(the oldest held is from %s)", st->nheld,
			    st->held_bytes, st->path, time_fmt(
			    TAILQ_FIRST(&st->held)->at, t, sizeof(t)));
		st->full = 1;
		return -1;
	}
	st->tx = xcalloc(1, sizeof(*st->tx));
	STAILQ_INIT(&st->tx->ops);
	st->tx->at = wall_ms();
	st->appended = 0;
	/* Behind the held ones, in order; all of it while suspended. */
	st->deferring = !TAILQ_EMPTY(&st->held) || st->suspended;
	if (st->suspended && st->failing_since == 0) {
		snprintf(st->db->error, sizeof(st->db->error), "this node "
		    "lost its session with the leader's lock");
		store_refused(st);
	}
	if (!st->deferring) {
		rc = store_exec_rc(st, st->be->begin_sql);
		/*
		 * Holding the lock, the ids and the chain are read again: a
		 * replay (rtowatchd -p) may have written to the same file.
		 */
		if (rc == STORE_OK && store_load_ids(st) == -1)
			rc = STORE_ERROR;
		if (rc != STORE_OK && !store_fault(rc)) {
			log_warnx("%s: %s", st->path, st->db->error);
			store_tx_free(st->tx);
			st->tx = NULL;
			store_db_rollback(st);
			return -1;
		}
		if (rc != STORE_OK) {
			st->deferring = 1;
			store_refused(st);
		}
	}
	memcpy(st->saved_next, st->next, sizeof(st->next));
	return 0;
}

int
store_commit(struct store *st)
{
	struct store_tx	*tx = st->tx;
	int		 rc, n;

	if (tx == NULL) {
		log_warnx("%s: commit outside a transaction", st->path);
		return -1;
	}
	/*
	 * Bound rows written and no timeline row to carry them: a row of
	 * its own, so that none is left out of the chain.  (A transaction
	 * only recorded cannot tell: its rows are bound at the next row
	 * written back after it, store_recovered's at the latest.)
	 */
	if (!st->deferring && tx->first_row == 0 &&
	    (n = store_records_dirty(st)) > 0) {
		log_debug("%s: %d records written with no event; sealed",
		    st->path, n);
		if (store_timeline_add(st, &(struct store_event){
		    .at = wall_ms(), .event = "records sealed",
		    .actor = "rtowatchd", .detail = "records written with no "
		    "event of their own (a planned outage, say)" }) == -1) {
			store_rollback(st);
			return -1;
		}
	}
	if (!st->deferring) {
		if ((rc = store_records_finalize(st, tx)) == STORE_OK)
			rc = store_exec_rc(st, st->group_open ?
			    "RELEASE store_change" : "COMMIT");
		if (rc == STORE_OK && st->group_open) {
			/* Kept until the group commits, to be held if not. */
			st->tx = NULL;
			st->in_savepoint = 0;
			tx->appended = st->appended;
			st->group_appended |= st->appended;
			st->appended = 0;
			if (STAILQ_EMPTY(&tx->ops))
				store_tx_free(tx);
			else
				TAILQ_INSERT_TAIL(&st->group_txs, tx, entry);
			return 0;
		}
		if (rc == STORE_OK) {
			st->tx = NULL;
			store_tx_free(tx);
			store_committed(st);
			/* A refusal that held nothing is over too. */
			if (st->failing_since != 0 && TAILQ_EMPTY(&st->held))
				store_recovered(st);
			return 0;
		}
		if (!store_fault(rc)) {
			log_warnx("%s: %s", st->path, st->db->error);
			store_rollback(st);
			return -1;
		}
		memcpy(tx->xid, st->db->uncertain, sizeof(tx->xid));
		store_group_fault(st);
		store_db_rollback(st);
		store_refused(st);
	}
	/* Held, behind the others; its timeline rows are not durable yet. */
	st->tx = NULL;
	st->deferring = 0;
	tx->appended = st->appended;
	st->appended = 0;
	if (STAILQ_EMPTY(&tx->ops)) {
		store_tx_free(tx);
		return 0;
	}
	TAILQ_INSERT_TAIL(&st->held, tx, entry);
	st->nheld++;
	st->held_bytes += tx->bytes;
	store_arm(st);
	return 0;
}

void
store_rollback(struct store *st)
{
	st->appended = 0;
	if (st->tx != NULL) {
		/* The ids and the chain link it took are free again. */
		memcpy(st->next, st->saved_next, sizeof(st->next));
		store_tx_free(st->tx);
		st->tx = NULL;
		st->deferring = 0;
	}
	if (st->group_open) {
		/* This change only: the group's others stand. */
		if (st->in_savepoint) {
			st->in_savepoint = 0;
			if (store_exec_rc(st, "ROLLBACK TO store_change; "
			    "RELEASE store_change") != STORE_OK)
				store_group_fault(st);
		}
		return;
	}
	if (st->be->in_tx(st->db))
		store_exec(st, "ROLLBACK");
}

/*
 * The group's real transaction is refused (a statement, a savepoint or
 * its COMMIT): it is rolled back, and the changes made in it join the
 * held queue, in order, as if each had been refused on its own.  The
 * callers' memory already moved on with them, as it does for a change
 * held; they are written with their times once the database accepts.
 */
static void
store_group_fault(struct store *st)
{
	struct store_tx	*tx;

	if (!st->group_open)
		return;
	st->group_open = 0;
	st->in_savepoint = 0;
	store_db_rollback(st);
	while ((tx = TAILQ_FIRST(&st->group_txs)) != NULL) {
		TAILQ_REMOVE(&st->group_txs, tx, entry);
		TAILQ_INSERT_TAIL(&st->held, tx, entry);
		st->nheld++;
		st->held_bytes += tx->bytes;
	}
	st->group_appended = 0;
	store_refused(st);
}

/*
 * The changes made until store_group_commit() are one transaction: one
 * sync for all of them.  Behind changes held, or when the database
 * refuses to begin, each change goes on its own as without a group.
 */
void
store_group_begin(struct store *st)
{
	if (st->tx != NULL || st->group || st->replaying)
		fatalx("store: nested group");
	st->group = 1;
	if (!TAILQ_EMPTY(&st->held) &&
	    mono_ms() - st->last_try_mono >= STORE_RETRY_MIN_MS)
		store_flush(st, STORE_SLICE_MS, 1);
	/*
	 * Begun by its first change (store_begin): a turn whose results
	 * change nothing costs the database nothing.
	 */
	st->group_lazy = TAILQ_EMPTY(&st->held);
}

static void
store_group_open(struct store *st)
{
	int	 rc;

	rc = store_exec_rc(st, st->be->begin_sql);
	if (rc == STORE_OK && store_load_ids(st) == -1)
		rc = STORE_ERROR;
	if (rc != STORE_OK) {
		store_db_rollback(st);
		return;
	}
	st->group_open = 1;
	st->group_appended = 0;
}

/*
 * The group's changes are durable, or held (store_group_fault): either
 * way what their callers did about them stands.
 */
void
store_group_commit(struct store *st)
{
	struct store_tx	*tx;
	int		 rc;

	if (st->tx != NULL)
		fatalx("store: a group ends inside a change");
	st->group = 0;
	st->group_lazy = 0;
	if (st->db->be->release != NULL)
		st->db->be->release(st->db);
	if (!st->group_open)
		return;
	if ((rc = store_exec_rc(st, "COMMIT")) != STORE_OK) {
		if (!store_fault(rc))
			log_warnx("%s: %s", st->path, st->db->error);
		TAILQ_FOREACH(tx, &st->group_txs, entry)
			memcpy(tx->xid, st->db->uncertain, sizeof(tx->xid));
		store_group_fault(st);
		return;
	}
	st->group_open = 0;
	while ((tx = TAILQ_FIRST(&st->group_txs)) != NULL) {
		TAILQ_REMOVE(&st->group_txs, tx, entry);
		store_tx_free(tx);
	}
	if (st->group_appended) {
		st->group_appended = 0;
		st->appended = 1;
		store_committed(st);
	}
	if (st->failing_since != 0 && TAILQ_EMPTY(&st->held))
		store_recovered(st);
}

/* The database accepts writes again, and everything held is written. */
static void
store_recovered(struct store *st)
{
	char	 detail[768], t[TIME_STRLEN], d[32];
	size_t	 len;

	len = (size_t)snprintf(detail, sizeof(detail), "the database refused "
	    "writes from %s for %s (%s); the %zu changes held in memory "
	    "meanwhile were written with their original times",
	    time_fmt(st->failing_since, t, sizeof(t)),
	    duration_fmt(mono_ms() - st->failing_mono, d, sizeof(d)),
	    st->failing_why, st->written);
	if (st->refused > 0 && len < sizeof(detail))
		snprintf(detail + len, sizeof(detail) - len, "; %u changes "
		    "beyond the %d held were refused and are not recorded",
		    st->refused, STORE_HELD_MAX);
	if (st->alerted)
		log_warnx("store: %s accepts writes again: %s", st->path,
		    detail);
	else
		log_info("store: %s accepts writes again: %s", st->path,
		    detail);
	st->failing_since = 0;
	st->full = 0;
	st->refused = 0;
	st->written = 0;
	st->alerted = 0;
	if (st->on_flush != NULL)
		st->on_flush(st->on_flush_arg);
	/* The record says it too: the gap in writing was covered. */
	if (store_begin(st) == 0 && store_timeline_add(st,
	    &(struct store_event){ .at = wall_ms(),
	    .event = "store recovered", .actor = "rtowatchd",
	    .detail = detail }) == 0)
		store_commit(st);
	else
		store_rollback(st);
}

/* TX leaves the held queue: written, or dropped. */
static void
store_held_remove(struct store *st, struct store_tx *tx)
{
	TAILQ_REMOVE(&st->held, tx, entry);
	st->nheld--;
	st->held_bytes -= tx->bytes;
	store_tx_free(tx);
}

/* TX is in the register now; whether it appended to the timeline. */
static int
store_held_written(struct store *st, struct store_tx *tx)
{
	int	 appended = tx->appended;

	st->written++;
	store_held_remove(st, tx);
	return appended;
}

/*
 * TX was held because its COMMIT's answer was lost: did the server commit
 * it after all?  STORE_ROW yes (its rows are in the register: writing it
 * again would be refused as a duplicate, and reported lost), STORE_DONE
 * no (it is written again), STORE_FAULT not known yet.  KNOWN is the last
 * transaction found committed, its first byte 'c', of this flush: a
 * group's changes share their transaction, and the log says it once.
 */
static int
store_uncertain(struct store *st, struct store_tx *tx, char *known)
{
	char	 t[TIME_STRLEN];
	int	 rc;

	if (known[0] == 'c' && strcmp(known + 1, tx->xid) == 0)
		return STORE_ROW;
	if (st->be->committed == NULL)
		rc = STORE_DONE;
	else
		rc = st->be->committed(st->db, tx->xid);
	if (rc == STORE_ROW) {
		log_warnx("store: already written: the earlier commit's answer "
		    "was lost, but transaction %s, decided at %s, did commit; "
		    "its changes held meanwhile are not written again "
		    "(nothing is lost)", tx->xid, time_fmt(tx->at, t,
		    sizeof(t)));
		known[0] = 'c';
		snprintf(known + 1, sizeof(tx->xid), "%s", tx->xid);
	} else if (rc == STORE_DONE)
		tx->xid[0] = '\0';
	return rc;
}

/*
 * Write one held transaction's statements and calls, and hash its
 * timeline rows, in the transaction open; in a savepoint of its own if
 * SAVEPOINT (a group's).  *WHAT is the statement refused, if one was.
 * STORE_OK or the backend's error.
 */
static int
store_flush_tx(struct store *st, struct store_tx *tx, int savepoint,
    const char **what)
{
	struct store_op	*op;
	int		 rc = STORE_OK;

	*what = NULL;
	if (savepoint &&
	    (rc = store_exec_rc(st, "SAVEPOINT store_change")) != STORE_OK)
		return rc;
	st->replaying = 1;
	STAILQ_FOREACH(op, &tx->ops, entry) {
		if (op->sql != NULL)
			rc = store_exec_rc(st, op->sql);
		else if (op->fn(st, op->arg) == -1)
			rc = st->db->rc != STORE_OK ? st->db->rc :
			    STORE_ERROR;
		if (rc != STORE_OK) {
			*what = op->sql;
			break;
		}
	}
	st->replaying = 0;
	if (rc == STORE_OK)
		rc = store_records_finalize(st, tx);
	if (rc == STORE_OK && savepoint)
		rc = store_exec_rc(st, "RELEASE store_change");
	return rc;
}

/* TX cannot be written, ever: said, and dropped from the queue. */
static void
store_flush_drop(struct store *st, struct store_tx *tx, const char *what)
{
	char	 t[TIME_STRLEN];

	log_warnx("store: a change decided at %s cannot be written and is "
	    "dropped (%s): %.300s", time_fmt(tx->at, t, sizeof(t)),
	    st->db->error, store_refused_sql(st, what != NULL ? what :
	    store_tx_what(tx)));
	store_held_remove(st, tx);
}

/*
 * Write the held transactions back, oldest first, PER of them in one
 * transaction.  The loop writes each in a transaction of its own (PER
 * 1): each commit is synced, so thousands of them take seconds, and the
 * loop gives it SLICE ms at a time, the timer coming back for the rest
 * at once.  Stopping (store_final), nothing waits on the loop any more
 * but the time is bounded, so the changes go in groups as a loop turn's
 * do: one sync for PER changes, each in a savepoint, a change wrong in
 * itself rolled back to its savepoint and dropped as it would be alone.
 * A change leaves the queue only once its transaction has committed, so
 * a group refused is written again, whole, later: in order, each once.
 * 0 when none is left, -1 while some are.
 */
static int
store_flush(struct store *st, int64_t slice, int per)
{
	struct store_tx	*tx, *cur, *next, *last;
	struct timeval	 soon = { 0, STORE_NEXT_SLICE_MS * 1000L };
	const char	*what;
	int64_t		 start = mono_ms();
	int		 rc = STORE_OK, any = 0, n, gone;
	char		 known[33] = "";

	st->last_try_mono = start;
	/* Written only once this node is sure it still leads (lead.c). */
	if (st->suspended)
		return -1;
	if (TAILQ_EMPTY(&st->held) && st->failing_since != 0) {
		/* Nothing held: is the lock free again? */
		if ((rc = store_exec_rc(st, st->be->begin_sql)) != STORE_OK)
			return -1;
		store_db_rollback(st);
	}
	while ((tx = TAILQ_FIRST(&st->held)) != NULL) {
		if (slice > 0 && mono_ms() - start >= slice) {
			if (st->timer != NULL)
				evtimer_add(st->timer, &soon);
			break;
		}
		if (tx->xid[0] != '\0' &&
		    (rc = store_uncertain(st, tx, known)) != STORE_DONE) {
			if (rc != STORE_ROW)
				break;
			/* Already in the register: not written again. */
			rc = STORE_OK;
			any |= store_held_written(st, tx);
			continue;
		}
		if ((rc = store_exec_rc(st, st->be->begin_sql)) != STORE_OK)
			break;
		last = NULL;
		gone = 0;
		for (cur = tx, n = 0; cur != NULL && n < per; cur = next, n++) {
			next = TAILQ_NEXT(cur, entry);
			/*
			 * One whose commit's answer was lost is asked about
			 * first, heading a transaction of its own.
			 */
			if (n > 0 && (cur->xid[0] != '\0' || (slice > 0 &&
			    mono_ms() - start >= slice)))
				break;
			if ((rc = store_flush_tx(st, cur, per > 1,
			    &what)) == STORE_OK) {
				last = cur;
				continue;
			}
			if (store_fault(rc))
				break;
			/* Wrong in itself: trying again cannot help. */
			if (per > 1 && (rc = store_exec_rc(st, "ROLLBACK TO "
			    "store_change; RELEASE store_change")) != STORE_OK)
				break;
			if (per == 1) {
				store_db_rollback(st);
				gone = 1;
			}
			store_flush_drop(st, cur, what);
			rc = STORE_OK;
		}
		if (rc != STORE_OK) {
			/* The group's changes stay held, all of them. */
			store_db_rollback(st);
			break;
		}
		if (gone)
			continue;
		if ((rc = store_exec_rc(st, "COMMIT")) != STORE_OK) {
			/*
			 * Its copy's COMMIT may be the one whose answer was
			 * lost (the server committed it): ask, as for the
			 * first, before it is written a third time.
			 */
			for (cur = TAILQ_FIRST(&st->held); last != NULL &&
			    cur != NULL; cur = TAILQ_NEXT(cur, entry)) {
				memcpy(cur->xid, st->db->uncertain,
				    sizeof(cur->xid));
				if (cur == last)
					break;
			}
			store_db_rollback(st);
			if (store_fault(rc))
				break;
			rc = STORE_OK;
			/* Which of them is wrong?  Each alone says. */
			if (per > 1) {
				per = 1;
				continue;
			}
			store_flush_drop(st, tx, NULL);
			continue;
		}
		for (cur = last != NULL ? TAILQ_FIRST(&st->held) : NULL;
		    cur != NULL; cur = next) {
			next = cur == last ? NULL : TAILQ_NEXT(cur, entry);
			any |= store_held_written(st, cur);
		}
	}
	if (any) {
		st->appended = 1;
		store_committed(st);
	}
	if (rc != STORE_OK) {
		if (store_fault(rc))
			store_refused(st);
		return -1;
	}
	if (!TAILQ_EMPTY(&st->held))
		return -1;	/* the slice is over */
	if (st->failing_since != 0)
		store_recovered(st);
	return 0;
}

static void
store_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct store	*st = arg;
	char		 t[TIME_STRLEN], d[32], *msg;

	(void)fd;
	(void)events;
	if (st->tx != NULL || store_flush(st, STORE_SLICE_MS, 1) == 0)
		return;
	if (!st->alerted && st->alert_after_ms > 0 &&
	    mono_ms() - st->failing_mono >= st->alert_after_ms) {
		st->alerted = 1;
		xasprintf(&msg, "the database %s has refused writes for %s, "
		    "since %s (%s); %zu changes are held in memory, in order, "
		    "and will be written with their original times once it "
		    "accepts writes, mail queued meanwhile goes out then; "
		    "free disk space or end what holds the lock (a VACUUM, "
		    "an open sqlite3 shell). A restart now would lose them",
		    st->path, duration_fmt(mono_ms() - st->failing_mono, d,
		    sizeof(d)), time_fmt(st->failing_since, t, sizeof(t)),
		    st->db->error, st->nheld);
		log_warnx("store failing (資料庫寫入失敗): %s", msg);
		if (st->on_alert != NULL)
			st->on_alert(msg, st->on_alert_arg);
		free(msg);
	}
	store_arm(st);
}

static void
store_arm(struct store *st)
{
	struct timeval	 tv = { STORE_RETRY_MS / 1000,
			    (STORE_RETRY_MS % 1000) * 1000L };

	if (st->timer != NULL && !evtimer_pending(st->timer, NULL))
		evtimer_add(st->timer, &tv);
}

/* The loop is there: held changes are retried on its timer. */
void
store_start(struct store *st, struct event_base *base)
{
	if ((st->timer = evtimer_new(base, store_timer_cb, st)) == NULL)
		fatalx("store: evtimer_new failed");
	if (st->be->start != NULL)
		st->be->start(st->db, base);
}

void
store_set_alert(struct store *st, int64_t ms)
{
	st->alert_after_ms = ms;
}

void
store_on_flush(struct store *st, void (*cb)(void *), void *arg)
{
	st->on_flush = cb;
	st->on_flush_arg = arg;
}

void
store_on_alert(struct store *st, void (*cb)(const char *, void *), void *arg)
{
	st->on_alert = cb;
	st->on_alert_arg = arg;
}

/* Changes are held in memory, or the last write was refused. */
int
store_failing(const struct store *st)
{
	return st->failing_since != 0 || !TAILQ_EMPTY(&st->held) ||
	    st->suspended;
}

/*
 * A node that is not the leader writes nothing; one that has just lost
 * the lead drops what it held, which the new leader never saw decided:
 * as after kill -9, the new leader decides again from the register, and
 * a replay here later would write on top of its rows.
 */
void
store_set_leading(struct store *st, int leading)
{
	struct store_tx	*tx;
	size_t		 n = st->nheld;

	st->standby = !leading;
	st->suspended = 0;
	if (leading)
		return;
	while ((tx = TAILQ_FIRST(&st->held)) != NULL) {
		TAILQ_REMOVE(&st->held, tx, entry);
		store_tx_free(tx);
	}
	st->nheld = 0;
	st->held_bytes = 0;
	st->failing_since = 0;
	if (st->timer != NULL)
		evtimer_del(st->timer);
	if (n > 0)
		log_warnx("store: not the leader: %zu changes held in memory "
		    "are dropped; the leader decides them again from the "
		    "register", n);
}

int
store_leading(const struct store *st)
{
	return !st->standby;
}

/*
 * The leader lost the session that holds its lock, and may or may not
 * lead still (lead.c): until it knows, every change is held in memory,
 * in order, as when the database refuses writes, and nothing is sent.
 * Back as the leader, with no other leader between, it writes them;
 * otherwise store_set_leading(st, 0) drops them.
 */
void
store_suspend(struct store *st, int on)
{
	st->suspended = on;
	if (!on && st->timer != NULL && (!TAILQ_EMPTY(&st->held) ||
	    st->failing_since != 0))
		event_active(st->timer, EV_TIMEOUT, 1);
}

/* Is the transaction being made only recorded (and held)? */
int
store_holding(const struct store *st)
{
	return st->tx != NULL ? st->deferring : !TAILQ_EMPTY(&st->held);
}

void
store_health(const struct store *st, struct store_health *h)
{
	memset(h, 0, sizeof(*h));
	h->failing = store_failing(st);
	h->since = st->failing_since;
	if (st->failing_since != 0)
		h->for_ms = mono_ms() - st->failing_mono;
	h->held = st->nheld;
	h->held_bytes = st->held_bytes;
	h->refused = st->refused;
	h->alerted = st->alerted;
	h->error = st->db->error;
	if (!TAILQ_EMPTY(&st->held))
		h->oldest_at = TAILQ_FIRST(&st->held)->at;
}
