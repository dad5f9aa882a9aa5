/*
 * store_pg.c: the store's PostgreSQL backend, through libpq.
 *
 * `database "postgresql://user@host/db"` (or a conninfo string,
 * "host=a,b dbname=rtowatch target_session_attrs=read-write") makes the
 * register a PostgreSQL database that several hosts can share and that
 * auditors read directly with the role rtowatch_auditor (SELECT only).
 *
 * The store's SQL is written in SQLite's dialect; what differs is
 * rewritten here when a statement is prepared, and nowhere else:
 * - parameters: ? becomes $1, $2, ... in order, ?N becomes $N;
 * - INSERT OR IGNORE INTO ... becomes INSERT INTO ... ON CONFLICT DO
 *   NOTHING;
 * - json_each(?), over a JSON array, becomes json_array_elements(?),
 *   whose rows' column is value too.
 * SQLite's scalar max(a, b) and min(a, b) are functions of the schema.
 * Integers are bound as int8, text as text of unknown type, which the
 * server types from where it goes.  Times stay ISO text, as in SQLite,
 * so that the timeline's hashes are computed over the same bytes.
 *
 * Transactions serialise on one advisory lock (STORE_PG_LOCK), taken by
 * every BEGIN: it plays the part of SQLite's BEGIN IMMEDIATE, so that
 * the ids the store chooses (MAX(id) + 1, read after the lock) and the
 * timeline's chain (each row's link is the hash of the row before) are
 * never raced by a second writer.  A lost connection, a server shutting
 * down, a read-only standby after a failover or a lock not had within
 * the loop's wait are faults: store.c holds the change in memory, in
 * order, and the next try reconnects (libpq follows a multi-host
 * conninfo to the new primary).  Nothing of that blocks the loop: a
 * reconnection is made on its events (store_pg_reconnect), and a
 * statement waits for its answer STORE_PG_REPLY_MS at most, so that an
 * unreachable host (packets lost, not refused) costs one such wait and
 * no more.
 *
 * The records' dirty list (chain.h) is a TEMP table of the daemon's
 * session, as in SQLite; the triggers that fill it are the schema's,
 * and do nothing in a session without the table (an auditor's, psql).
 */
#include <event2/event.h>
#include <libpq-fe.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chain.h"
#include "log.h"
#include "rtowatch.h"
#include "store_int.h"
#include "util.h"

/* "rtowatch" in ASCII, the advisory lock every writer's BEGIN takes. */
#define STORE_PG_LOCK		"7526465302289283176"
#define STORE_PG_MAXPARAMS	64
#define STORE_PG_CONNECT_TIMEOUT "2"	/* s, unless the setting says */
#define STORE_PG_REPLY_MS	1000	/* the longest the loop waits */
#define STORE_PG_REVIVE_MS	500	/* for a read's new connection */
/*
 * A session the server has not heard from for this long within a
 * transaction is ended by the server: one whose client gave up on it
 * (no reply within STORE_PG_REPLY_MS) would otherwise keep the writers'
 * lock until the server's TCP keepalive noticed, hours later.
 */
#define STORE_PG_IDLE_TX_MS	10000
#define STORE_PG_INT8OID	20
#define STORE_PG_INT2OID	21
#define STORE_PG_INT4OID	23
#define STORE_PG_BOOLOID	16

struct store_pg {
	struct store_db	 base;
	PGconn		*conn;
	int		 changes;
	int		 tx;	/* a BEGIN not yet ended, on this session */
	int		 busy_ms;	/* lock_timeout, set on each session */
	char		 xid[32];	/* the writers' transaction's id */
	int		 reader;	/* reads only: store_pg_reader */
	/*
	 * Statements sent in pipeline mode whose results are not read yet
	 * (store_pg_pipe): a transaction's writes, whose answers nothing
	 * needs until a read, a COMMIT or a RELEASE.
	 */
	int		 piped;		/* the session is in pipeline mode */
	int		 queued;
	/*
	 * The pipeline's first error, until the transaction or the
	 * savepoint is rolled back: the server refuses every statement
	 * after it, and each says why as that one did (its class and
	 * text), not "current transaction is aborted".
	 */
	int		 aborted;
	char		 abort_msg[sizeof(((struct store_db *)0)->error)];
	/* The query each one answers (a read sent ahead), or NULL. */
	struct store_pg_query **pending;
	/*
	 * Each one's text: a write's error is read at a later statement,
	 * and the log and the store name the one refused (db->failed).
	 */
	char		**pending_sql;
	int		 npending;	/* allocated */
	/*
	 * Reconnecting without blocking the loop: NEXT is a connection
	 * being made (PQconnectStart), driven by EV on its socket, given up
	 * after CONNECT_MS (the connect_timeout in force); ATTEMPT rotates
	 * a multi-host list.
	 */
	struct event_base *evbase;
	PGconn		*next;
	struct event	*ev;
	int		 next_wait;	/* PGRES_POLLING_READING or _WRITING */
	int64_t		 next_start;	/* mono ms */
	int64_t		 connect_ms;	/* the connect_timeout in force */
	unsigned int	 attempt;
	int		 triggers;	/* the records' made: records_setup */
};

struct store_pg_query {
	struct store_query	 base;
	char			*sql;		/* rewritten */
	int			 nparams;
	char			*values[STORE_PG_MAXPARAMS];
	unsigned int		 types[STORE_PG_MAXPARAMS];
	PGresult		*res;
	int			 row;		/* the current one, -1 before */
	int			 deferred;	/* sent, its answer not read */
	int			 inflight;	/* sent ahead, answer to come */
};

#define PDB(d)	((struct store_pg *)(void *)(d))
#define PQY(q)	((struct store_pg_query *)(void *)(q))

/*
 * Version 9 is the first the PostgreSQL backend has: it makes the schema
 * as SQLite's migrations 1 to 9 leave it, column for column in the same
 * order, with PostgreSQL's types (bigint, identity ids) and its triggers
 * (functions).  Later versions append a migration to both lists.
 */
static const char store_pg_schema1[] =
	"CREATE TABLE warnings ("
	"  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  source text NOT NULL,"
	"  reference text,"
	"  system text,"
	"  summary text NOT NULL,"
	"  detail text NOT NULL DEFAULT '',"
	"  opened_at text NOT NULL,"
	"  opened_by text NOT NULL,"
	"  ended_at text,"
	"  state text NOT NULL DEFAULT 'open' CHECK (state IN ('open',"
	"    'false-positive', 'confirmed', 'undetermined')),"
	"  answered_at text,"
	"  answered_by text,"
	"  reason text,"
	"  incident_id bigint"
	");"
	"CREATE TABLE incidents ("
	"  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  kind text NOT NULL DEFAULT 'outage'"
	"    CHECK (kind IN ('outage', 'warning', 'manual', 'drill')),"
	"  system text NOT NULL,"
	"  owner text,"
	"  core bigint NOT NULL CHECK (core IN (0, 1)),"
	"  critical_infrastructure bigint NOT NULL"
	"    CHECK (critical_infrastructure IN (0, 1)),"
	"  rto_ms bigint NOT NULL,"
	"  level bigint NOT NULL CHECK (level BETWEEN 1 AND 4),"
	"  availability_level bigint NOT NULL"
	"    CHECK (availability_level BETWEEN 1 AND 4),"
	"  major bigint NOT NULL CHECK (major IN (0, 1)),"
	"  status text NOT NULL CHECK (status IN ('open', 'restored', 'closed')),"
	"  cause text,"
	"  started_at text NOT NULL,"
	"  opened_at text NOT NULL,"
	"  notify_due_at text NOT NULL,"
	"  restore_due_at text,"
	"  restored_at text,"
	"  within_rto bigint CHECK (within_rto IN (0, 1)),"
	"  closed_at text,"
	"  closed_by text,"
	"  confidentiality_level bigint"
	"    CHECK (confidentiality_level BETWEEN 1 AND 4),"
	"  integrity_level bigint CHECK (integrity_level BETWEEN 1 AND 4),"
	"  category text, description text, scope text, loss text,"
	"  support text, measures text, containment text, investigation text,"
	"  root_cause text, prevention text, prevention_tracking text,"
	"  acknowledged_at text, acknowledged_by text,"
	"  reported_at text, ticket text, reported_by text,"
	"  controlled_at text, controlled_by text,"
	"  report_filed_at text, report_filed_by text,"
	"  warning_id bigint REFERENCES warnings(id),"
	"  corrective_action_ref text, other_units_affected text,"
	"  major_reason text, portal_closed_at text, portal_closed_by text,"
	"  portal_result text,"
	"  recurrence_of bigint REFERENCES incidents(id),"
	"  reported_entered_at text,"
	"  drill_factor bigint CHECK (drill_factor BETWEEN 1 AND 3600)"
	");"
	"ALTER TABLE warnings ADD FOREIGN KEY (incident_id)"
	"  REFERENCES incidents(id);"
	"CREATE TABLE warning_indicators ("
	"  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  warning_id bigint NOT NULL REFERENCES warnings(id),"
	"  kind text NOT NULL"
	"    CHECK (kind IN ('source', 'target', 'port', 'mac')),"
	"  value text NOT NULL,"
	"  packets bigint NOT NULL DEFAULT 0,"
	"  UNIQUE (warning_id, kind, value)"
	");";

static const char store_pg_schema2[] =
	"CREATE TABLE maintenance ("
	"  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  system text NOT NULL,"
	"  starts_at text NOT NULL,"
	"  ends_at text NOT NULL,"
	"  reason text NOT NULL DEFAULT '',"
	"  created_at text NOT NULL,"
	"  created_by text NOT NULL,"
	"  cancelled_at text,"
	"  cancelled_by text,"
	"  CHECK (ends_at > starts_at)"
	");"
	"CREATE TABLE outages ("
	"  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  system text NOT NULL,"
	"  incident_id bigint REFERENCES incidents(id),"
	"  started_at text NOT NULL,"
	"  detected_at text NOT NULL,"
	"  ended_at text,"
	"  cause text,"
	"  planned bigint NOT NULL DEFAULT 0 CHECK (planned IN (0, 1))"
	");"
	"CREATE UNIQUE INDEX outages_one_open ON outages(system)"
	"  WHERE ended_at IS NULL;"
	"CREATE TABLE timeline ("
	"  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  incident_id bigint REFERENCES incidents(id),"
	"  warning_id bigint REFERENCES warnings(id),"
	"  at text NOT NULL,"
	"  event text NOT NULL,"
	"  actor text NOT NULL,"
	"  detail text NOT NULL DEFAULT '',"
	"  prev_hash text NOT NULL,"
	"  hash text NOT NULL UNIQUE,"
	"  records text"
	");"
	"CREATE INDEX timeline_incident ON timeline(incident_id, id);"
	"CREATE INDEX timeline_warning ON timeline(warning_id, id);"
	"CREATE TABLE clocks ("
	"  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  incident_id bigint NOT NULL REFERENCES incidents(id),"
	"  kind text NOT NULL"
	"    CHECK (kind IN ('notify', 'restore', 'report', 'close')),"
	"  level bigint NOT NULL CHECK (level BETWEEN 1 AND 4),"
	"  started_at text NOT NULL,"
	"  due_at text NOT NULL,"
	"  reminders_done bigint NOT NULL DEFAULT 0,"
	"  breached_at text,"
	"  stopped_at text,"
	"  stopped_by text,"
	"  UNIQUE (incident_id, kind, level)"
	");"
	"CREATE TABLE incident_scope ("
	"  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  incident_id bigint NOT NULL REFERENCES incidents(id),"
	"  system text NOT NULL,"
	"  outage_id bigint NOT NULL REFERENCES outages(id),"
	"  started_at text NOT NULL,"
	"  ended_at text"
	");"
	"CREATE TABLE notifications ("
	"  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  incident_id bigint NOT NULL REFERENCES incidents(id),"
	"  channel text NOT NULL DEFAULT 'email'"
	"    CHECK (channel IN ('email', 'webhook')),"
	"  recipient text NOT NULL,"
	"  event text NOT NULL,"
	"  subject text NOT NULL,"
	"  body text NOT NULL,"
	"  state text NOT NULL DEFAULT 'queued'"
	"    CHECK (state IN ('queued', 'sent', 'failed')),"
	"  created_at text NOT NULL,"
	"  attempts bigint NOT NULL DEFAULT 0,"
	"  next_try_at text,"
	"  last_error text,"
	"  address text,"
	"  alerted_at text,"
	"  sent_at text"
	");"
	"CREATE INDEX notifications_queue ON notifications(state,"
	"  incident_id, recipient, id);"
	"CREATE TABLE contacts ("
	"  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  incident_id bigint NOT NULL REFERENCES incidents(id),"
	"  at text NOT NULL,"
	"  entered_at text NOT NULL,"
	"  recipient text NOT NULL,"
	"  channel text NOT NULL"
	"    CHECK (channel IN ('phone', 'fax', 'in-person', 'email')),"
	"  made_by text NOT NULL,"
	"  note text NOT NULL DEFAULT '',"
	"  offline bigint NOT NULL DEFAULT 0 CHECK (offline IN (0, 1))"
	");";

static const char store_pg_schema3[] =
	"CREATE INDEX contacts_incident ON contacts(incident_id, at);"
	"CREATE TABLE response_checks ("
	"  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  system text NOT NULL,"
	"  name text NOT NULL,"
	"  UNIQUE (system, name)"
	");"
	"CREATE TABLE response_history ("
	"  check_id bigint NOT NULL,"
	"  span bigint NOT NULL,"
	"  at bigint NOT NULL,"
	"  ok bigint NOT NULL,"
	"  failed bigint NOT NULL,"
	"  rtt_min bigint,"
	"  rtt_max bigint,"
	"  rtt_sum bigint,"
	"  cause text,"
	"  PRIMARY KEY (check_id, span, at)"
	");"
	/*
	 * Append-only: a row changes once, from its placeholder hash to its
	 * link and hash (store.c); never deleted, never truncated.
	 */
	"CREATE FUNCTION rtowatch_append_only() RETURNS trigger"
	"  LANGUAGE plpgsql AS $$ BEGIN"
	"  IF TG_OP = 'UPDATE' AND OLD.hash LIKE 'pending-%' THEN"
	"    RETURN NEW; END IF;"
	"  RAISE EXCEPTION 'the timeline is append-only';"
	"  END $$;"
	"CREATE TRIGGER timeline_no_update BEFORE UPDATE OR DELETE ON timeline"
	"  FOR EACH ROW EXECUTE FUNCTION rtowatch_append_only();"
	"CREATE TRIGGER timeline_no_truncate BEFORE TRUNCATE ON timeline"
	"  FOR EACH STATEMENT EXECUTE FUNCTION rtowatch_append_only();"
	/* A closed record is final (5.4.7.3.6): migration 3's triggers. */
	"CREATE FUNCTION rtowatch_closed_final() RETURNS trigger"
	"  LANGUAGE plpgsql AS $$ BEGIN"
	"  RAISE EXCEPTION 'the incident is closed; its record is final';"
	"  END $$;"
	"CREATE FUNCTION rtowatch_closed_parent() RETURNS trigger"
	"  LANGUAGE plpgsql AS $$ BEGIN"
	"  IF (SELECT status FROM incidents WHERE id = NEW.incident_id) ="
	"    'closed' THEN RAISE EXCEPTION"
	"    'the incident is closed; its record is final'; END IF;"
	"  RETURN NEW; END $$;"
	"CREATE TRIGGER incidents_closed_final BEFORE UPDATE ON incidents"
	"  FOR EACH ROW WHEN (OLD.status = 'closed')"
	"  EXECUTE FUNCTION rtowatch_closed_final();"
	"CREATE TRIGGER outages_closed_final BEFORE INSERT ON outages"
	"  FOR EACH ROW EXECUTE FUNCTION rtowatch_closed_parent();"
	"CREATE TRIGGER clocks_closed_final BEFORE INSERT ON clocks"
	"  FOR EACH ROW EXECUTE FUNCTION rtowatch_closed_parent();"
	"CREATE TRIGGER clocks_closed_restart BEFORE UPDATE OF stopped_at"
	"  ON clocks FOR EACH ROW"
	"  WHEN (OLD.stopped_at IS NOT NULL AND NEW.stopped_at IS NULL)"
	"  EXECUTE FUNCTION rtowatch_closed_parent();"
	"CREATE TRIGGER scope_closed_final BEFORE INSERT ON incident_scope"
	"  FOR EACH ROW EXECUTE FUNCTION rtowatch_closed_parent();"
	/*
	 * SQLite's scalar max(a, b) and min(a, b), which the store's SQL
	 * uses (a level only rises): NULL when either is, as in SQLite.
	 */
	"CREATE FUNCTION max(a bigint, b bigint) RETURNS bigint"
	"  LANGUAGE sql IMMUTABLE AS"
	"  'SELECT CASE WHEN a IS NULL OR b IS NULL THEN NULL"
	"   ELSE greatest(a, b) END';"
	"CREATE FUNCTION min(a bigint, b bigint) RETURNS bigint"
	"  LANGUAGE sql IMMUTABLE AS"
	"  'SELECT CASE WHEN a IS NULL OR b IS NULL THEN NULL"
	"   ELSE least(a, b) END';"
	/* The records' dirty list: see the header comment. */
	"CREATE FUNCTION rtowatch_record_dirty() RETURNS trigger"
	"  LANGUAGE plpgsql AS $$ BEGIN"
	"  IF to_regclass('pg_temp.record_dirty') IS NULL THEN"
	"    RETURN NULL; END IF;"
	"  IF TG_OP = 'DELETE' THEN"
	"    INSERT INTO pg_temp.record_dirty VALUES (TG_TABLE_NAME, OLD.id)"
	"      ON CONFLICT DO NOTHING;"
	"  ELSE"
	"    INSERT INTO pg_temp.record_dirty VALUES (TG_TABLE_NAME, NEW.id)"
	"      ON CONFLICT DO NOTHING;"
	"  END IF;"
	"  RETURN NULL; END $$;";

static const char store_pg_schema4[] =
	/*
	 * Auditors read the register directly: a role that can SELECT and
	 * nothing else (GRANT rtowatch_auditor TO alice).  Tables later
	 * migrations make are readable too (default privileges).
	 */
	"DO $$ BEGIN"
	"  IF NOT EXISTS (SELECT 1 FROM pg_roles"
	"    WHERE rolname = 'rtowatch_auditor') THEN"
	"    CREATE ROLE rtowatch_auditor NOLOGIN; END IF;"
	"  END $$;"
	"GRANT USAGE ON SCHEMA public TO rtowatch_auditor;"
	"GRANT SELECT ON ALL TABLES IN SCHEMA public TO rtowatch_auditor;"
	"ALTER DEFAULT PRIVILEGES IN SCHEMA public"
	"  GRANT SELECT ON TABLES TO rtowatch_auditor;";

/* 10: vantage points, as SQLite's 10 (store.c). */
static const char store_pg_observations[] =
	"CREATE TABLE observations ("
	"  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  node text NOT NULL,"
	"  system text NOT NULL,"
	"  check_name text NOT NULL,"
	"  state text NOT NULL CHECK (state IN ('up', 'down')),"
	"  at text NOT NULL,"
	"  written_at text NOT NULL,"
	"  cause text NOT NULL DEFAULT ''"
	");"
	"CREATE FUNCTION rtowatch_observations_append_only() RETURNS trigger"
	"  LANGUAGE plpgsql AS $$ BEGIN"
	"  RAISE EXCEPTION 'observations are append-only';"
	"  END $$;"
	"CREATE TRIGGER observations_no_update BEFORE UPDATE OR DELETE"
	"  ON observations FOR EACH ROW"
	"  EXECUTE FUNCTION rtowatch_observations_append_only();"
	"CREATE TRIGGER observations_no_truncate BEFORE TRUNCATE"
	"  ON observations FOR EACH STATEMENT"
	"  EXECUTE FUNCTION rtowatch_observations_append_only();";

/* 12: each node's latest view of each check, as SQLite's 12 (store.c). */
static const char store_pg_observations_latest[] =
	"CREATE TABLE observations_latest ("
	"  node text NOT NULL,"
	"  system text NOT NULL,"
	"  check_name text NOT NULL,"
	"  id bigint NOT NULL,"
	"  state text NOT NULL,"
	"  at text NOT NULL,"
	"  cause text NOT NULL DEFAULT '',"
	"  PRIMARY KEY (node, system, check_name)"
	");"
	"INSERT INTO observations_latest SELECT DISTINCT ON (node, system,"
	"  check_name) node, system, check_name, id, state, at, cause"
	"  FROM observations ORDER BY node, system, check_name, id DESC;"
	"CREATE FUNCTION rtowatch_observations_latest() RETURNS trigger"
	"  LANGUAGE plpgsql AS $$ BEGIN"
	"  INSERT INTO observations_latest (node, system, check_name, id,"
	"    state, at, cause) VALUES (NEW.node, NEW.system, NEW.check_name,"
	"    NEW.id, NEW.state, NEW.at, NEW.cause)"
	"    ON CONFLICT (node, system, check_name) DO UPDATE SET"
	"    id = excluded.id, state = excluded.state, at = excluded.at,"
	"    cause = excluded.cause"
	"    WHERE excluded.id > observations_latest.id;"
	"  RETURN NULL; END $$;"
	"CREATE TRIGGER observations_latest AFTER INSERT ON observations"
	"  FOR EACH ROW EXECUTE FUNCTION rtowatch_observations_latest();";

/*
 * 13: observations are pruned past `set observations-keep`, by their
 * time, as SQLite's 13; and the append-only trigger lets a DELETE
 * through only in a transaction that set rtowatch.prune (SET LOCAL, by
 * store_observations_prune).  An auditor's role cannot delete at all:
 * it has SELECT only.  TRUNCATE and UPDATE stay refused.
 */
static const char store_pg_observations_prune[] =
	"CREATE INDEX observations_at ON observations (at);"
	"CREATE OR REPLACE FUNCTION rtowatch_observations_append_only()"
	"  RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
	"  IF TG_OP = 'DELETE' AND"
	"    current_setting('rtowatch.prune', true) = 'on' THEN"
	"    RETURN OLD;"
	"  END IF;"
	"  RAISE EXCEPTION 'observations are append-only';"
	"  END $$;";

/* Versions 1-8 are SQLite's history only. */
#define STORE_PG_NONE	STORE_MIGRATION("SELECT 1")

const char *const *const store_pg_migrations[] = {
	STORE_PG_NONE, STORE_PG_NONE, STORE_PG_NONE, STORE_PG_NONE,
	STORE_PG_NONE, STORE_PG_NONE, STORE_PG_NONE, STORE_PG_NONE,
	/* 9: the schema as SQLite's 1-9 leave it (above), in parts. */
	STORE_MIGRATION(store_pg_schema1, store_pg_schema2, store_pg_schema3, store_pg_schema4),
	/* 10: vantage points' observations (store_vantage.c). */
	STORE_MIGRATION(store_pg_observations),
	/* 11: the nodes sharing the register (lead.c). */
	STORE_MIGRATION(STORE_NODES_TABLE),
	/* 12: each node's latest view of each check (status). */
	STORE_MIGRATION(store_pg_observations_latest),
	/* 13: an attached outage's scope row by its outage. */
	STORE_MIGRATION(STORE_SCOPE_OUTAGE_INDEX),
	/* 14: observations pruned (store_observations_prune). */
	STORE_MIGRATION(store_pg_observations_prune),
	/* 15: a system's incidents by their restoration (the prune). */
	STORE_MIGRATION(STORE_INCIDENTS_SYSTEM_INDEX),
	/* 16: a system's incidents by their start (the prune). */
	STORE_MIGRATION(STORE_INCIDENTS_STARTED_INDEX),
};

_Static_assert(sizeof(store_pg_migrations) / sizeof(store_pg_migrations[0])
    == STORE_SCHEMA_VERSION, "every schema version has its PostgreSQL "
    "migration");

/*
 * A result's error: its message in the db, and whether it passes by
 * itself (STORE_FAULT) or is wrong in itself (STORE_ERROR).
 */
static int
store_pg_fail(struct store_db *d, const PGresult *res)
{
	PGconn		*conn = PDB(d)->conn;
	const char	*msg, *state;
	char		*e;
	size_t		 n;

	d->failed[0] = '\0';
	msg = res != NULL ? PQresultErrorMessage(res) : "";
	if (msg == NULL || *msg == '\0')
		msg = conn != NULL ? PQerrorMessage(conn) : "not connected";
	snprintf(d->error, sizeof(d->error), "%s", msg);
	/* libpq's messages end in a newline: not in the log's line. */
	n = strlen(d->error);
	while (n > 0 && (d->error[n - 1] == '\n' || d->error[n - 1] == ' '))
		d->error[--n] = '\0';
	/*
	 * Nor within it: a field of its own (CONTEXT, a trigger's RAISE)
	 * follows after "; ", a sentence continued on an indented line
	 * after a space, so that the line says it all.
	 */
	for (n = 0; (e = strchr(d->error + n, '\n')) != NULL; ) {
		n = (size_t)(e - d->error);
		if (e[1] == '\t') {
			*e = ' ';
			memmove(e + 1, e + 2, strlen(e + 2) + 1);
		} else if (strlen(d->error) + 1 < sizeof(d->error)) {
			memmove(e + 2, e + 1, strlen(e + 1) + 1);
			e[0] = ';';
			e[1] = ' ';
		} else
			*e = ' ';
	}
	state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	snprintf(d->state, sizeof(d->state), "%s", state != NULL ? state : "");
	d->rc = STORE_ERROR;
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK || state == NULL)
		d->rc = STORE_FAULT;
	else if (strncmp(state, "08", 2) == 0 ||	/* connection */
	    strncmp(state, "53", 2) == 0 ||		/* resources */
	    strncmp(state, "57P", 3) == 0 ||		/* shutdown */
	    strcmp(state, "40001") == 0 ||		/* serialization */
	    strcmp(state, "40P01") == 0 ||		/* deadlock */
	    strcmp(state, "55P03") == 0 ||		/* lock not had */
	    strcmp(state, "25006") == 0)		/* read-only standby */
		d->rc = STORE_FAULT;
	return d->rc;
}

/*
 * LIST, a comma-separated list of N items, rotated: the items from
 * ATTEMPT mod N on, then those before, into OUT (as long as LIST).
 */
static void
store_pg_rotate(const char *list, unsigned int attempt, char *out)
{
	const char	*p;
	size_t		 n, first, i, len = strlen(list);

	for (n = 1, p = list; (p = strchr(p, ',')) != NULL; p++)
		n++;
	for (i = 0, p = list; i < attempt % n; i++)
		p = strchr(p, ',') + 1;
	first = (size_t)(p - list);
	if (first == 0) {
		memcpy(out, list, len + 1);
		return;
	}
	/* "c,d" then "," then "a,b" (less its trailing comma). */
	memcpy(out, p, len - first);
	out[len - first] = ',';
	memcpy(out + len - first + 1, list, first - 1);
	out[len] = '\0';
}

/*
 * The connection's parameters: the setting, expanded as a URI or
 * conninfo, after our connect_timeout (a connect_timeout of its own
 * wins).  With several hosts the lists are rotated by ATTEMPT: an
 * asynchronous connection is given up after that timeout (libpq leaves
 * it to its caller, store_pg_next_step), and the next must not wait on
 * the same unreachable first host again.  The strings in TOFREE are the
 * caller's.
 */
static void
store_pg_params(struct store_db *d, unsigned int attempt,
    const char **keys, const char **values, char **tofree)
{
	PQconninfoOption	*opts, *o;
	char			*out;
	int			 np = 0, nf = 0;

	keys[np] = "connect_timeout";
	values[np++] = STORE_PG_CONNECT_TIMEOUT;
	keys[np] = "dbname";
	values[np++] = d->path;
	if (attempt > 0 && (opts = PQconninfoParse(d->path, NULL)) != NULL) {
		for (o = opts; o->keyword != NULL && nf < 3; o++) {
			if ((strcmp(o->keyword, "host") != 0 &&
			    strcmp(o->keyword, "hostaddr") != 0 &&
			    strcmp(o->keyword, "port") != 0) ||
			    o->val == NULL || strchr(o->val, ',') == NULL)
				continue;
			out = xcalloc(1, strlen(o->val) + 1);
			store_pg_rotate(o->val, attempt, out);
			/* After dbname: these win over the setting's. */
			keys[np] = o->keyword[0] == 'p' ? "port" :
			    o->keyword[4] == 'a' ? "hostaddr" : "host";
			values[np++] = out;
			tofree[nf++] = out;
		}
		PQconninfoFree(opts);
	}
	keys[np] = NULL;
	values[np] = NULL;
	tofree[nf] = NULL;
}

static int	store_pg_exec(struct store_db *, const char *);
static void	store_pg_unqueue(struct store_pg *);

/*
 * A session's settings, on a new connection: notices quiet (CREATE ...
 * IF NOT EXISTS), the loop's wait for a lock, and the end of a session
 * left in a transaction (STORE_PG_IDLE_TX_MS).  Non-blocking: the
 * statements wait on poll(2) (store_pg_wait), so that a server that
 * stops answering holds the loop for STORE_PG_REPLY_MS at most.
 */
static int
store_pg_session(struct store_db *d)
{
	char	 sql[192];

	if (PQsetnonblocking(PDB(d)->conn, 1) == -1)
		return store_pg_fail(d, NULL);
	snprintf(sql, sizeof(sql), "SET client_min_messages = warning;"
	    "SET standard_conforming_strings = on; SET lock_timeout = %d;"
	    "SET idle_in_transaction_session_timeout = %d", PDB(d)->busy_ms,
	    STORE_PG_IDLE_TX_MS);
	return store_pg_exec(d, sql);
}

static void	store_pg_next_arm(struct store_db *);

/* The connection being made is done with: given up, failed or made. */
static void
store_pg_next_end(struct store_pg *p)
{
	if (p->ev != NULL)
		event_free(p->ev);
	p->ev = NULL;
	if (p->next != NULL)
		PQfinish(p->next);
	p->next = NULL;
}

/*
 * One step of the connection being made, its socket being READY for
 * what it waits for, or its time up: made, it replaces the lost one,
 * with its session set.  PQconnectPoll is called on a ready socket only:
 * on one still connecting it takes the connection as made and waits to
 * send on it, for as long as TCP tries.
 */
static void
store_pg_next_step(struct store_db *d, int ready)
{
	struct store_pg			*p = PDB(d);
	PostgresPollingStatusType	 r;

	if (!ready) {
		if (mono_ms() - p->next_start < p->connect_ms) {
			store_pg_next_arm(d);
			return;
		}
		snprintf(d->error, sizeof(d->error), "no connection to the "
		    "server within %lld ms", (long long)p->connect_ms);
		store_pg_next_end(p);
		p->attempt++;
		return;
	}
	r = PQconnectPoll(p->next);
	if (r == PGRES_POLLING_READING || r == PGRES_POLLING_WRITING) {
		p->next_wait = (int)r;
		store_pg_next_arm(d);
		return;
	}
	if (r != PGRES_POLLING_OK) {
		snprintf(d->error, sizeof(d->error), "%s",
		    PQerrorMessage(p->next));
		d->error[strcspn(d->error, "\n")] = '\0';
		store_pg_next_end(p);
		return;
	}
	if (p->conn != NULL)
		PQfinish(p->conn);
	p->conn = p->next;
	p->next = NULL;
	store_pg_unqueue(p);
	p->aborted = 0;
	store_pg_next_end(p);
	if (p->reader)
		log_debug("%s: reads: connected to %s:%s", d->path,
		    PQhost(p->conn), PQport(p->conn));
	else
		log_info("%s: connected again to %s:%s", d->path,
		    PQhost(p->conn), PQport(p->conn));
	/*
	 * The session's settings and TEMP table went with the session.  A
	 * reader's writes nothing: it makes no triggers (which would wait
	 * on the writers' locks of the tables).
	 */
	if (store_pg_session(d) != STORE_OK ||
	    (!p->reader && d->be->records_setup(d) == -1)) {
		log_warnx("%s: %s", d->path, d->error);
		PQfinish(p->conn);
		p->conn = NULL;
	}
}

static void
store_pg_next_cb(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	store_pg_next_step(arg, (events & (EV_READ | EV_WRITE)) != 0);
}

/* Wait on the loop for what the connection being made waits for. */
static void
store_pg_next_arm(struct store_db *d)
{
	struct store_pg	*p = PDB(d);
	struct timeval	 tv;
	int64_t		 left;

	if (p->ev != NULL)
		event_free(p->ev);
	p->ev = NULL;
	if (p->evbase == NULL)
		return;
	/* The socket may change (another host, another address). */
	p->ev = event_new(p->evbase, PQsocket(p->next),
	    p->next_wait == PGRES_POLLING_READING ? EV_READ : EV_WRITE,
	    store_pg_next_cb, d);
	if (p->ev == NULL)
		fatalx("store: event_new failed");
	left = p->connect_ms - (mono_ms() - p->next_start);
	if (left < 0)
		left = 0;
	tv.tv_sec = (time_t)(left / 1000);
	tv.tv_usec = (suseconds_t)(left % 1000) * 1000;
	event_add(p->ev, &tv);
}

/*
 * A lost connection is made again, without blocking: PQconnectStart,
 * then each step when the socket is ready, on the loop's events.  Before
 * the loop runs (and after it stopped, at the last flush) nothing else
 * waits: the steps are taken here, as the socket is ready now (poll(2)
 * with no wait).  Host names are resolved by PQconnectStart itself, in
 * the loop: give addresses (hostaddr) where DNS may be slow.
 */
static void
store_pg_reconnect(struct store_db *d)
{
	struct store_pg	*p = PDB(d);
	const char	*keys[8], *values[8];
	char		*tofree[4];
	struct pollfd	 pfd;
	int		 i, ready;

	if (p->next == NULL) {
		store_pg_params(d, p->attempt, keys, values, tofree);
		p->next = PQconnectStartParams(keys, values, 1);
		for (i = 0; tofree[i] != NULL; i++)
			free(tofree[i]);
		/* Its sends must not wait either (libpq's own poll). */
		if (p->next == NULL || PQstatus(p->next) == CONNECTION_BAD ||
		    PQsetnonblocking(p->next, 1) == -1) {
			snprintf(d->error, sizeof(d->error), "%s", p->next ==
			    NULL ? "out of memory" : PQerrorMessage(p->next));
			d->error[strcspn(d->error, "\n")] = '\0';
			store_pg_next_end(p);
			return;
		}
		p->next_start = mono_ms();
		p->next_wait = PGRES_POLLING_WRITING;
		store_pg_next_arm(d);
	}
	for (i = 0; i < 8 && p->next != NULL; i++) {
		pfd.fd = PQsocket(p->next);
		pfd.events = p->next_wait == PGRES_POLLING_READING ? POLLIN :
		    POLLOUT;
		ready = poll(&pfd, 1, 0) == 1;
		store_pg_next_step(d, ready);
		if (!ready)
			break;
	}
}

/*
 * Before a statement: a connection that was lost is made again, without
 * blocking (store_pg_reconnect); meanwhile the statement is refused as a
 * fault, so the store holds the change, in order, and tries again.
 */
static int
store_pg_alive(struct store_db *d)
{
	struct store_pg	*p = PDB(d);

	if (p->conn != NULL && PQstatus(p->conn) == CONNECTION_OK)
		return 0;
	/*
	 * Never within a transaction: its earlier statements went with the
	 * old session, and the rest would commit alone, one by one, on the
	 * new one.  The store rolls back and holds it; the next BEGIN
	 * reconnects.
	 */
	if (p->tx) {
		store_pg_fail(d, NULL);
		return -1;
	}
	if (p->conn != NULL) {
		log_warnx("%s: the connection to %s:%s was lost; connecting "
		    "again", d->path, PQhost(p->conn), PQport(p->conn));
		PQfinish(p->conn);
		p->conn = NULL;
		store_pg_unqueue(p);
		p->aborted = 0;
	}
	store_pg_reconnect(d);
	if (p->conn != NULL && PQstatus(p->conn) == CONNECTION_OK)
		return 0;
	if (p->next != NULL)
		snprintf(d->error, sizeof(d->error), "connecting to the "
		    "server again");
	d->rc = STORE_FAULT;
	return -1;
}

/*
 * The result of the statement just sent (PQsendQuery...), as PQexec
 * gives it (the first error, else the last result), waiting on poll(2)
 * for STORE_PG_REPLY_MS at most while the loop runs: a server that
 * stopped answering (its host unreachable, packets dropped) would
 * otherwise hold the loop until TCP gives up, many minutes later.  No
 * answer in time: the session is dropped (the server ends its
 * transaction, STORE_PG_IDLE_TX_MS) and NULL is returned, a fault.
 */
static PGresult *
store_pg_wait(struct store_db *d)
{
	struct store_pg	*p = PDB(d);
	PGresult	*res, *keep = NULL;
	struct pollfd	 pfd;
	int64_t		 end = mono_ms() + STORE_PG_REPLY_MS, left;
	int		 f;

	for (;;) {
		if ((f = PQflush(p->conn)) == -1 ||
		    PQconsumeInput(p->conn) == 0)
			break;
		while (f == 0 && !PQisBusy(p->conn)) {
			if ((res = PQgetResult(p->conn)) == NULL)
				return keep;
			/* An error is kept: later results are PQexec's too. */
			if (keep != NULL &&
			    PQresultStatus(keep) == PGRES_FATAL_ERROR)
				PQclear(res);
			else {
				PQclear(keep);
				keep = res;
			}
		}
		left = p->evbase != NULL ? end - mono_ms() : -1;
		if (p->evbase != NULL && left <= 0) {
			PQclear(keep);
			snprintf(d->error, sizeof(d->error), "no answer from "
			    "%s:%s within %d ms; the session is dropped and "
			    "made again", PQhost(p->conn), PQport(p->conn),
			    STORE_PG_REPLY_MS);
			log_warnx("%s: %s", d->path, d->error);
			PQfinish(p->conn);
			p->conn = NULL;
			store_pg_unqueue(p);
			p->aborted = 0;
			d->rc = STORE_FAULT;
			return NULL;
		}
		pfd.fd = PQsocket(p->conn);
		pfd.events = POLLIN | (f == 1 ? POLLOUT : 0);
		if (poll(&pfd, 1, (int)left) == -1 && errno != EINTR)
			break;
	}
	PQclear(keep);
	store_pg_fail(d, NULL);
	return NULL;
}

/*
 * Pipelining (libpq's pipeline mode, PostgreSQL 14).  Within a
 * transaction, a statement whose answer nothing needs at once (a write:
 * SAVEPOINT, or INSERT, UPDATE or DELETE without RETURNING) is sent
 * without waiting for its answer; the next statement that needs its own
 * (a read, RELEASE, COMMIT, or the count of rows changed) follows it in
 * the same pipeline, and one sync reads every answer at once.  Opening
 * an outage in a mass failure's group was 27 statements, each a wait
 * of the loop for its round trip; the writes among them now wait for
 * nothing.  A write's error is reported by that later statement, still
 * within the same change, before its RELEASE or COMMIT is known, so
 * before the caller's memory moves.  A ROLLBACK is never piped: after an
 * error the server skips the rest of the pipeline, so it is read to its
 * end first.
 */
static int
store_pg_deferrable(const char *sql)
{
	return (strncmp(sql, "INSERT ", 7) == 0 ||
	    strncmp(sql, "UPDATE ", 7) == 0 ||
	    strncmp(sql, "DELETE ", 7) == 0 ||
	    strncmp(sql, "SAVEPOINT ", 10) == 0) &&
	    strchr(sql, ';') == NULL && strstr(sql, "RETURNING") == NULL;
}

/* The pipeline's first error again (see aborted). */
static int
store_pg_still_aborted(struct store_db *d)
{
	memcpy(d->error, PDB(d)->abort_msg, sizeof(d->error));
	return d->rc = PDB(d)->aborted;
}

/*
 * Send SQL with its N parameters into the session's pipeline; Q, if not
 * NULL, gets its answer at the sync (store_pg_drain).
 */
static int
store_pg_pipe(struct store_db *d, struct store_pg_query *q, const char *sql,
    int n, const unsigned int *types, const char *const *values)
{
	struct store_pg	*p = PDB(d);
	size_t		 size;

	if (p->aborted)
		return store_pg_still_aborted(d);
	if (p->queued == p->npending) {
		p->npending = p->npending == 0 ? 64 : p->npending * 2;
		/* NOLINTNEXTLINE(bugprone-sizeof-expression): pointers */
		size = sizeof(*p->pending);
		p->pending = xreallocarray(p->pending, (size_t)p->npending,
		    size);
		size = sizeof(*p->pending_sql);
		p->pending_sql = xreallocarray(p->pending_sql,
		    (size_t)p->npending, size);
	}
	if (!p->piped) {
		if (PQenterPipelineMode(p->conn) != 1)
			return store_pg_fail(d, NULL);
		p->piped = 1;
	}
	if (!PQsendQueryParams(p->conn, sql, n, types, values, NULL, NULL, 0))
		return store_pg_fail(d, NULL);
	p->pending_sql[p->queued] = xstrdup(sql);
	p->pending[p->queued++] = q;
	if (q != NULL)
		q->inflight = 1;
	/* On its way while the loop goes on; what is left, at the sync. */
	if (PQflush(p->conn) == -1)
		return store_pg_fail(d, NULL);
	return STORE_OK;
}

/* The pipeline is read, or lost: nothing is in it any more. */
static void
store_pg_unqueue(struct store_pg *p)
{
	int	 i;

	for (i = 0; i < p->queued; i++)
		free(p->pending_sql[i]);
	p->piped = p->queued = 0;
}

/* A session whose pipeline cannot be read to its end is dropped. */
static int
store_pg_pipe_lost(struct store_db *d)
{
	struct store_pg	*p = PDB(d);

	int		 i;

	if (p->conn != NULL) {
		PQfinish(p->conn);
		p->conn = NULL;
	}
	for (i = 0; i < p->queued; i++)
		if (p->pending[i] != NULL)
			p->pending[i]->inflight = 0;
	store_pg_unqueue(p);
	p->aborted = 0;
	d->rc = STORE_FAULT;
	return STORE_FAULT;
}

/*
 * The pipeline's statement I was refused: which one it was is known only
 * here, and the error is reported by a later statement (a read, RELEASE
 * or COMMIT), whose caller would name that one.  So it is kept for the
 * store (db->failed), and a write's refusal, which no caller sees as
 * its own, is said here with its statement.
 */
static void
store_pg_refused(struct store_db *d, int i)
{
	struct store_pg	*p = PDB(d);

	if (i >= p->queued)
		return;
	snprintf(d->failed, sizeof(d->failed), "%s", p->pending_sql[i]);
	/*
	 * Cancelled (57014): by the statement_timeout of a statement that
	 * set one (store_observations_prune), whose caller says so when it
	 * lasts; an administrator's cancel is in the server's log.
	 */
	if (d->rc != STORE_FAULT && p->pending[i] == NULL &&
	    strcmp(d->state, "57014") == 0)
		log_debug("%s: %s; the statement refused: %.300s", d->path,
		    d->error, d->failed);
	else if (d->rc != STORE_FAULT && p->pending[i] == NULL)
		log_warnx("%s: %s; the statement refused: %.300s", d->path,
		    d->error, d->failed);
}

/*
 * Sync the pipeline and read every answer in it, waiting on poll(2) as
 * store_pg_wait does, STORE_PG_REPLY_MS at most.  The first error is the
 * result (the server skipped what followed it); each read sent ahead
 * gets its answer, those after an error none (they are sent again when
 * stepped, and refused by the aborted transaction).
 */
static int
store_pg_drain(struct store_db *d)
{
	struct store_pg_query *q;
	struct store_pg	*p = PDB(d);
	PGresult	*res;
	ExecStatusType	 status;
	struct pollfd	 pfd;
	int64_t		 end = mono_ms() + STORE_PG_REPLY_MS, left;
	int		 f, rc = STORE_OK, i = 0;

	if (!p->piped)
		return STORE_OK;
	if (p->conn == NULL || PQpipelineSync(p->conn) != 1) {
		store_pg_fail(d, NULL);
		return store_pg_pipe_lost(d);
	}
	for (;;) {
		if ((f = PQflush(p->conn)) == -1 ||
		    PQconsumeInput(p->conn) == 0)
			break;
		while (f == 0 && !PQisBusy(p->conn)) {
			if ((res = PQgetResult(p->conn)) == NULL) {
				if (i < p->queued && p->pending[i] != NULL)
					p->pending[i]->inflight = 0;
				i++;		/* the next statement's */
				continue;
			}
			status = PQresultStatus(res);
			if (status == PGRES_PIPELINE_SYNC) {
				PQclear(res);
				store_pg_unqueue(p);
				if (PQexitPipelineMode(p->conn) != 1) {
					store_pg_fail(d, NULL);
					break;
				}
				return rc;
			}
			if (status == PGRES_COMMAND_OK ||
			    status == PGRES_TUPLES_OK)
				p->changes = atoi(PQcmdTuples(res));
			else if (status != PGRES_PIPELINE_ABORTED &&
			    rc == STORE_OK) {
				rc = p->aborted = store_pg_fail(d, res);
				memcpy(p->abort_msg, d->error,
				    sizeof(p->abort_msg));
				store_pg_refused(d, i);
			}
			q = i < p->queued ? p->pending[i] : NULL;
			if (q != NULL && q->res == NULL &&
			    (status == PGRES_COMMAND_OK ||
			    status == PGRES_TUPLES_OK)) {
				q->res = res;
				continue;
			}
			PQclear(res);
		}
		if (f != 0 || PQisBusy(p->conn)) {
			left = end - mono_ms();
			if (left <= 0) {
				snprintf(d->error, sizeof(d->error), "no answer "
				    "from %s:%s within %d ms; the session is "
				    "dropped and made again", PQhost(p->conn),
				    PQport(p->conn), STORE_PG_REPLY_MS);
				log_warnx("%s: %s", d->path, d->error);
				return store_pg_pipe_lost(d);
			}
			pfd.fd = PQsocket(p->conn);
			pfd.events = POLLIN | (f == 1 ? POLLOUT : 0);
			if (poll(&pfd, 1, (int)left) == -1 && errno != EINTR)
				break;
		}
	}
	if (rc == STORE_OK)
		store_pg_fail(d, NULL);
	return store_pg_pipe_lost(d);
}

/*
 * SQL, a COMMIT, was not answered as done: if the connection is gone
 * with its answer (no answer in time, the server's end closed), the
 * server may have committed it all the same.  Its transaction's id is
 * kept (db->uncertain), so that its held copy is not written a second
 * time, nor reported lost when the copy is refused as a duplicate: the
 * store asks the server what became of it (store_pg_committed).
 */
static void
store_pg_uncertain(struct store_db *d, const char *sql)
{
	struct store_pg	*p = PDB(d);

	if (strcmp(sql, "COMMIT") != 0 || p->xid[0] == '\0' ||
	    (p->conn != NULL && PQstatus(p->conn) == CONNECTION_OK))
		return;
	snprintf(d->uncertain, sizeof(d->uncertain), "%s", p->xid);
	log_warnx("%s: the answer to the COMMIT of transaction %s was lost; "
	    "whether it committed is asked of the server before its changes "
	    "are written again", d->path, p->xid);
}

static int
store_pg_exec(struct store_db *d, const char *sql)
{
	struct store_pg	*p = PDB(d);
	PGresult	*res;
	int		 rc = STORE_OK, end, pipe;

	/* COMMIT or ROLLBACK ends the transaction, done or not. */
	end = strcmp(sql, "COMMIT") == 0 || strcmp(sql, "ROLLBACK") == 0;
	/*
	 * Neither ROLLBACK nor COMMIT: a COMMIT whose answer is lost is told
	 * apart below (store_pg_uncertain), the pipeline read before it.
	 */
	pipe = p->tx && !end && strchr(sql, ';') == NULL &&
	    strncmp(sql, "ROLLBACK", 8) != 0 &&
	    (p->piped || store_pg_deferrable(sql));
	if (p->piped && !pipe) {
		/* Its answers first; a ROLLBACK goes on whatever they say. */
		rc = store_pg_drain(d);
		if (rc != STORE_OK && strncmp(sql, "ROLLBACK", 8) != 0) {
			if (end)
				p->tx = 0;
			return rc;
		}
		rc = STORE_OK;
	}
	if (strncmp(sql, "ROLLBACK", 8) == 0 || strncmp(sql, "BEGIN", 5) == 0)
		p->aborted = 0;
	else if (p->aborted && p->tx && !p->piped) {
		if (end)
			p->tx = 0;
		return store_pg_still_aborted(d);
	}
	if (end && p->tx && (p->conn == NULL ||
	    PQstatus(p->conn) != CONNECTION_OK)) {
		p->tx = 0;
		/* Nothing to roll back: it went with the session. */
		return sql[0] == 'R' ? STORE_OK : store_pg_fail(d, NULL);
	}
	if (end)
		p->tx = 0;
	if (store_pg_alive(d) == -1)
		return d->rc;
	if (strncmp(sql, "BEGIN", 5) == 0) {
		p->xid[0] = '\0';
		d->uncertain[0] = '\0';
	}
	if (pipe) {
		if ((rc = store_pg_pipe(d, NULL, sql, 0, NULL, NULL)) !=
		    STORE_OK || store_pg_deferrable(sql))
			return rc;
		return store_pg_drain(d);
	}
	if (!PQsendQuery(p->conn, sql)) {
		store_pg_uncertain(d, sql);
		return store_pg_fail(d, NULL);
	}
	if ((res = store_pg_wait(d)) == NULL) {
		store_pg_uncertain(d, sql);
		if (end || strncmp(sql, "BEGIN", 5) == 0)
			p->tx = 0;
		return d->rc;
	}
	if (strncmp(sql, "BEGIN", 5) == 0 && (PQresultStatus(res) ==
	    PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK))
		p->tx = 1;
	/* The writers' BEGIN ends by naming its transaction (begin_sql). */
	if (strncmp(sql, "BEGIN", 5) == 0 &&
	    PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
	    PQnfields(res) == 1)
		snprintf(p->xid, sizeof(p->xid), "%s", PQgetvalue(res, 0, 0));
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		store_pg_uncertain(d, sql);
	switch (PQresultStatus(res)) {
	case PGRES_COMMAND_OK:
	case PGRES_TUPLES_OK:
	case PGRES_EMPTY_QUERY:
		break;
	default:
		rc = store_pg_fail(d, res);
	}
	PQclear(res);
	/*
	 * A BEGIN whose lock was not had (lock_timeout) leaves the
	 * transaction open and aborted; SQLite's leaves none, which is what
	 * the store expects of a failed BEGIN.
	 */
	if (rc != STORE_OK && strncmp(sql, "BEGIN", 5) == 0 &&
	    PQstatus(p->conn) == CONNECTION_OK &&
	    PQtransactionStatus(p->conn) != PQTRANS_IDLE &&
	    PQsendQuery(p->conn, "ROLLBACK"))
		PQclear(store_pg_wait(d));
	return rc;
}

/* The first column of SQL's one row, -1 on error or when none. */
static int64_t
store_pg_scalar(struct store_db *d, const char *sql)
{
	PGresult	*res;
	int64_t		 v = -1;

	res = PQexec(PDB(d)->conn, sql);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0 &&
	    !PQgetisnull(res, 0, 0))
		v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	else if (PQresultStatus(res) != PGRES_TUPLES_OK)
		store_pg_fail(d, res);
	PQclear(res);
	return v;
}

static int
store_pg_version(struct store_db *d)
{
	int64_t	 v;

	if ((v = store_pg_scalar(d, "SELECT to_regclass('rtowatch_schema')"
	    " IS NOT NULL::int")) == -1) {
		log_warnx("%s: %s", d->path, d->error);
		return -1;
	}
	if (v == 0)
		return 0;
	if ((v = store_pg_scalar(d, "SELECT max(version) FROM"
	    " rtowatch_schema")) < 0)
		return 0;
	return (int)v;
}

static char *
store_pg_version_sql(int v)
{
	char	*sql;

	xasprintf(&sql, "CREATE TABLE IF NOT EXISTS rtowatch_schema"
	    " (version integer NOT NULL);"
	    "GRANT SELECT ON rtowatch_schema TO PUBLIC;"
	    "DELETE FROM rtowatch_schema;"
	    "INSERT INTO rtowatch_schema VALUES (%d);", v);
	return sql;
}

/*
 * The setting is expanded as a URI or conninfo; a connect_timeout of its
 * own wins over ours, which bounds how long a reconnection may hold the
 * loop when the server is unreachable (store_pg_alive).
 */
static int
store_pg_connect(struct store_db *d)
{
	struct store_pg		*p = PDB(d);
	const char		*keys[8], *values[8];
	char			*tofree[4];
	PQconninfoOption	*opts, *o;

	store_pg_params(d, 0, keys, values, tofree);
	if ((p->conn = PQconnectdbParams(keys, values, 1)) == NULL ||
	    PQstatus(p->conn) != CONNECTION_OK) {
		store_pg_fail(d, NULL);
		log_warnx("%s: %s", d->path, d->error);
		return -1;
	}
	if (p->busy_ms == 0)
		p->busy_ms = 5000;
	/* The connect_timeout in force bounds each reconnection too. */
	if ((opts = PQconninfo(p->conn)) != NULL) {
		for (o = opts; o->keyword != NULL; o++)
			if (strcmp(o->keyword, "connect_timeout") == 0 &&
			    o->val != NULL)
				p->connect_ms = 1000 *
				    strtoll(o->val, NULL, 10);
		PQconninfoFree(opts);
	}
	if (p->connect_ms <= 0)		/* 0: none, which the loop cannot */
		p->connect_ms = 1000 * strtoll(STORE_PG_CONNECT_TIMEOUT,
		    NULL, 10);
	if (store_pg_session(d) != STORE_OK) {
		log_warnx("%s: %s", d->path, d->error);
		return -1;
	}
	log_info("%s: PostgreSQL %d on %s:%s", d->path,
	    PQserverVersion(p->conn), PQhost(p->conn), PQport(p->conn));
	return 0;
}

static void
store_pg_disconnect(struct store_db *d, int moved)
{
	(void)moved;
	store_pg_next_end(PDB(d));
	if (PDB(d)->conn != NULL)
		PQfinish(PDB(d)->conn);
	PDB(d)->conn = NULL;
	store_pg_unqueue(PDB(d));
	PDB(d)->aborted = 0;
	free(PDB(d)->pending);
	free(PDB(d)->pending_sql);
	PDB(d)->pending = NULL;
	PDB(d)->pending_sql = NULL;
	PDB(d)->npending = 0;
}

/* The loop is there: reconnections wait on it (store_pg_reconnect). */
static void
store_pg_start(struct store_db *d, struct event_base *base)
{
	PDB(d)->evbase = base;
}

/*
 * PostgreSQL checks its own pages (data checksums, amcheck).  14 for
 * CREATE OR REPLACE TRIGGER (store_pg_records_setup).
 */
static int
store_pg_check(struct store_db *d)
{
	if (PQserverVersion(PDB(d)->conn) < 140000) {
		log_warnx("%s: PostgreSQL 14 or later is needed", d->path);
		return -1;
	}
	return 0;
}

/*
 * The dirty list of this session (chain.h), and the triggers that fill
 * it: after an UPDATE only of bound columns, as in SQLite.  The list
 * goes with the session, and is made at each connection.  The triggers
 * are the schema's and outlive it (a failover's next host has them by
 * replication): made again (CREATE OR REPLACE) at this process's first
 * connection, since the bound columns are this binary's, and not at a
 * reconnection, where they cost 60 ms of the loop's time (an
 * information_schema query and DDL for each table).
 */
static int
store_pg_records_setup(struct store_db *d)
{
	const struct chain_table	*t;
	PGresult			*res;
	char				*sql, *cols = NULL;
	size_t				 clen, ccap;
	int				 i, rc = STORE_OK;

	if (store_pg_exec(d, "CREATE TEMP TABLE IF NOT EXISTS record_dirty ("
	    " tbl text NOT NULL, id bigint NOT NULL, PRIMARY KEY (tbl, id))")
	    != STORE_OK)
		return -1;
	if (PDB(d)->triggers)
		return 0;
	for (t = chain_tables; t->name != NULL && rc == STORE_OK; t++) {
		xasprintf(&sql, "SELECT column_name FROM"
		    " information_schema.columns WHERE table_schema ="
		    " current_schema() AND table_name = '%s'"
		    " ORDER BY ordinal_position", t->name);
		res = PQexec(PDB(d)->conn, sql);
		free(sql);
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			rc = store_pg_fail(d, res);
			PQclear(res);
			break;
		}
		free(cols);
		cols = NULL;
		clen = ccap = 0;
		for (i = 0; i < PQntuples(res); i++) {
			if (!chain_column_bound(t, PQgetvalue(res, i, 0)))
				continue;
			if ((clen > 0 && chain_append(&cols, &clen, &ccap,
			    ", ") == -1) || chain_append(&cols, &clen, &ccap,
			    PQgetvalue(res, i, 0)) == -1)
				fatalx("out of memory");
		}
		PQclear(res);
		if (cols == NULL)
			continue;
		xasprintf(&sql, "CREATE OR REPLACE TRIGGER record_%s_i"
		    " AFTER INSERT OR DELETE ON %s FOR EACH ROW"
		    " EXECUTE FUNCTION rtowatch_record_dirty();"
		    "CREATE OR REPLACE TRIGGER record_%s_u"
		    " AFTER UPDATE OF %s ON %s FOR EACH ROW"
		    " EXECUTE FUNCTION rtowatch_record_dirty();",
		    t->name, t->name, t->name, cols, t->name);
		rc = store_pg_exec(d, sql);
		free(sql);
	}
	free(cols);
	if (rc != STORE_OK)
		return -1;
	PDB(d)->triggers = 1;
	return 0;
}

/* The loop waits for the writers' lock at most MS. */
static void
store_pg_busy(struct store_db *d, int ms)
{
	char	 sql[64];

	/* Set again on each new session (store_pg_session). */
	PDB(d)->busy_ms = ms;
	snprintf(sql, sizeof(sql), "SET lock_timeout = %d", ms);
	(void)store_pg_exec(d, sql);
}

static int
store_pg_in_tx(struct store_db *d)
{
	PGTransactionStatusType	 s;

	if (PDB(d)->tx)
		return 1;
	if (PDB(d)->conn == NULL)
		return 0;
	s = PQtransactionStatus(PDB(d)->conn);
	return s == PQTRANS_INTRANS || s == PQTRANS_INERROR;
}

static int
store_pg_changes(struct store_db *d)
{
	/*
	 * The count is in the answer: the pipeline is read first.  An
	 * error in it left the transaction aborted, so the next statement
	 * is refused and the change rolled back all the same.
	 */
	if (PDB(d)->piped)
		(void)store_pg_drain(d);
	return PDB(d)->changes;
}

/*
 * SQLite's dialect to PostgreSQL's (see the header comment), outside
 * quoted strings.  *NPARAMS gets the highest parameter number.
 */
static const struct {
	const char	*sqlite, *pg;
} store_pg_words[] = {
	{ "INSERT OR IGNORE INTO", "INSERT INTO" },
	{ "json_each(", "json_array_elements(" },
};

/* Append S to the growing *BUF. */
static void
store_pg_append(char **buf, size_t *len, size_t *cap, const char *s)
{
	if (chain_append(buf, len, cap, s) == -1)
		fatalx("out of memory");
}

static char *
store_pg_rewrite(const char *in, int *nparams)
{
	char		*out = NULL, *end, num[24], c[2] = { 0, 0 };
	const char	*s;
	size_t		 i, len = 0, cap = 0, n_words = sizeof(store_pg_words) /
			    sizeof(store_pg_words[0]);
	int		 n = 0, max = 0, quoted = 0, orignore = 0;
	long		 v;

	for (s = in; *s != '\0'; s++) {
		if (*s == '\'')
			quoted = !quoted;
		for (i = 0; !quoted && i < n_words; i++)
			if (strncmp(s, store_pg_words[i].sqlite,
			    strlen(store_pg_words[i].sqlite)) == 0)
				break;
		if (!quoted && i < n_words) {
			store_pg_append(&out, &len, &cap, store_pg_words[i].pg);
			s += strlen(store_pg_words[i].sqlite) - 1;
			orignore |= i == 0;
			continue;
		}
		if (quoted || *s != '?') {
			c[0] = *s;
			store_pg_append(&out, &len, &cap, c);
			continue;
		}
		/* ?N keeps its number; a bare ? takes the next one. */
		v = strtol(s + 1, &end, 10);
		if (end != s + 1)
			s = end - 1;
		else
			v = ++n;
		if (v > max)
			max = (int)v;
		snprintf(num, sizeof(num), "$%ld", v);
		store_pg_append(&out, &len, &cap, num);
	}
	if (orignore && strstr(in, "ON CONFLICT") == NULL)
		store_pg_append(&out, &len, &cap, " ON CONFLICT DO NOTHING");
	*nparams = max;
	return out != NULL ? out : xstrdup("");
}

static struct store_query *
store_pg_prepare(struct store_db *d, const char *sql)
{
	struct store_pg_query	*q;

	q = xcalloc(1, sizeof(*q));
	q->base.db = d;
	q->sql = store_pg_rewrite(sql, &q->nparams);
	q->row = -1;
	if (q->nparams > STORE_PG_MAXPARAMS)
		fatalx("store: %d parameters: %s", q->nparams, sql);
	return &q->base;
}

static int
store_pg_nparams(struct store_query *q)
{
	return PQY(q)->nparams;
}

static void
store_pg_bind(struct store_query *q, int col, char *v, unsigned int type)
{
	struct store_pg_query	*p = PQY(q);

	if (col < 1 || col > p->nparams)
		fatalx("store: parameter %d of %d: %s", col, p->nparams,
		    p->sql);
	free(p->values[col - 1]);
	p->values[col - 1] = v;
	p->types[col - 1] = type;
}

static void
store_pg_bind_null(struct store_query *q, int col)
{
	store_pg_bind(q, col, NULL, 0);
}

static void
store_pg_bind_int64(struct store_query *q, int col, int64_t v)
{
	char	*s;

	xasprintf(&s, "%lld", (long long)v);
	store_pg_bind(q, col, s, STORE_PG_INT8OID);
}

static void
store_pg_bind_text(struct store_query *q, int col, const char *s)
{
	store_pg_bind(q, col, xstrdup(s), 0);
}

/*
 * A read that found its connection lost (the server restarted, or closed
 * it) outside a transaction may be sent once more on a fresh one: a
 * SELECT changes nothing, so sending it twice is harmless.  A node that
 * only reads (a standby, an observer) finds out about a restart only
 * this way, and its first status after one would fail otherwise.  A
 * connection given up for its silence (store_pg_wait: the host is
 * unreachable) is not lost in this sense, and is not waited for again.
 */
static int
store_pg_lost_read(struct store_query *q)
{
	struct store_pg	*d = PDB(q->db);
	const char	*s = PQY(q)->sql;

	s += strspn(s, " \t\n(");
	return !d->tx && d->conn != NULL &&
	    PQstatus(d->conn) == CONNECTION_BAD &&
	    strncasecmp(s, "SELECT", 6) == 0;
}

/*
 * The lost connection made again for a read (store_pg_lost_read): as
 * store_pg_reconnect does, but waiting on poll(2) for it, here, up to
 * STORE_PG_REVIVE_MS; a server that comes back answers in a few
 * milliseconds.  Not made in that time, the connection goes on being
 * made on the loop's events and the read is refused as a fault: -1.
 */
static int
store_pg_revive(struct store_db *d)
{
	struct store_pg	*p = PDB(d);
	struct pollfd	 pfd;
	int64_t		 end = mono_ms() + STORE_PG_REVIVE_MS, left;
	int		 ready;

	log_warnx("%s: the connection to %s:%s was lost; connecting again "
	    "to read", d->path, PQhost(p->conn), PQport(p->conn));
	PQfinish(p->conn);
	p->conn = NULL;
	store_pg_reconnect(d);
	while (p->conn == NULL && p->next != NULL &&
	    (left = end - mono_ms()) > 0) {
		pfd.fd = PQsocket(p->next);
		pfd.events = p->next_wait == PGRES_POLLING_READING ? POLLIN :
		    POLLOUT;
		if ((ready = poll(&pfd, 1, (int)left)) == -1 &&
		    errno != EINTR)
			break;
		store_pg_next_step(d, ready == 1);
	}
	if (p->conn != NULL && PQstatus(p->conn) == CONNECTION_OK)
		return 0;
	if (p->next != NULL)
		snprintf(d->error, sizeof(d->error), "the connection was lost, "
		    "and is not made again yet");
	d->rc = STORE_FAULT;
	return -1;
}

static int
store_pg_step(struct store_query *q)
{
	struct store_pg_query	*p = PQY(q);
	struct store_pg		*d = PDB(q->db);
	ExecStatusType		 status;
	int			 again = 1, rc;

	if (p->deferred)
		return STORE_DONE;
	if (p->inflight && (rc = store_pg_drain(q->db)) != STORE_OK)
		return rc;
	if (p->res == NULL && d->aborted && d->tx)
		return store_pg_still_aborted(q->db);
	while (p->res == NULL) {
		if (store_pg_lost_read(q) && store_pg_revive(q->db) == -1)
			return q->db->rc;
		if (store_pg_alive(q->db) == -1)
			return q->db->rc;
		if (d->tx && (d->piped || store_pg_deferrable(p->sql))) {
			/* A write's answer is for nobody: its error, if any. */
			if ((rc = store_pg_pipe(q->db,
			    store_pg_deferrable(p->sql) ? NULL : p, p->sql,
			    p->nparams, p->types,
			    (const char *const *)p->values)) != STORE_OK)
				return rc;
			if (store_pg_deferrable(p->sql)) {
				p->deferred = 1;
				return STORE_DONE;
			}
			if ((rc = store_pg_drain(q->db)) != STORE_OK)
				return rc;
			if (p->res == NULL)
				return store_pg_fail(q->db, NULL);
			d->changes = atoi(PQcmdTuples(p->res));
			break;
		}
		if (!PQsendQueryParams(d->conn, p->sql, p->nparams, p->types,
		    (const char *const *)p->values, NULL, NULL, 0)) {
			if (again-- && store_pg_lost_read(q))
				continue;
			return store_pg_fail(q->db, NULL);
		}
		if ((p->res = store_pg_wait(q->db)) == NULL) {
			if (again-- && store_pg_lost_read(q))
				continue;
			return q->db->rc;
		}
		status = PQresultStatus(p->res);
		if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
			if (again-- && store_pg_lost_read(q)) {
				PQclear(p->res);
				p->res = NULL;
				continue;
			}
			return store_pg_fail(q->db, p->res);
		}
		d->changes = atoi(PQcmdTuples(p->res));
	}
	if (PQresultStatus(p->res) != PGRES_TUPLES_OK)
		return STORE_DONE;
	if (++p->row < PQntuples(p->res))
		return STORE_ROW;
	return STORE_DONE;
}

/*
 * A read whose answer is needed soon, in a transaction: sent now, into
 * the pipeline, so that several go in one round trip; its step reads
 * them all.  Outside a transaction its step runs it as usual.
 */
static void
store_pg_prefetch(struct store_query *q)
{
	struct store_pg_query	*p = PQY(q);
	struct store_pg		*d = PDB(q->db);

	if (!d->tx || p->res != NULL || p->inflight || p->deferred ||
	    d->conn == NULL || PQstatus(d->conn) != CONNECTION_OK ||
	    strncmp(p->sql, "SELECT ", 7) != 0)
		return;
	if (store_pg_pipe(q->db, p, p->sql, p->nparams, p->types,
	    (const char *const *)p->values) != STORE_OK)
		p->inflight = 0;	/* its step reports it */
}

static int
store_pg_column_count(struct store_query *q)
{
	/* Asked before the first row (store_select): run it now. */
	if (PQY(q)->res == NULL && store_pg_step(q) == STORE_ROW)
		PQY(q)->row = -1;
	return PQY(q)->res != NULL ? PQnfields(PQY(q)->res) : 0;
}

static const char *
store_pg_column_name(struct store_query *q, int col)
{
	return PQfname(PQY(q)->res, col);
}

static int
store_pg_column_null(struct store_query *q, int col)
{
	struct store_pg_query	*p = PQY(q);

	return p->row < 0 || PQgetisnull(p->res, p->row, col);
}

static int
store_pg_column_isint(struct store_query *q, int col)
{
	unsigned int	 t = PQftype(PQY(q)->res, col);

	return !store_pg_column_null(q, col) && (t == STORE_PG_INT8OID ||
	    t == STORE_PG_INT4OID || t == STORE_PG_INT2OID);
}

static int64_t
store_pg_column_int64(struct store_query *q, int col)
{
	struct store_pg_query	*p = PQY(q);
	const char		*s;

	if (store_pg_column_null(q, col))
		return 0;
	s = PQgetvalue(p->res, p->row, col);
	/* SQLite's booleans are integers; PostgreSQL's are t and f. */
	if (PQftype(p->res, col) == STORE_PG_BOOLOID)
		return *s == 't';
	return strtoll(s, NULL, 10);
}

static const char *
store_pg_column_text(struct store_query *q, int col)
{
	struct store_pg_query	*p = PQY(q);

	if (store_pg_column_null(q, col))
		return NULL;
	/* As SQLite gives a boolean: 1 or 0. */
	if (PQftype(p->res, col) == STORE_PG_BOOLOID)
		return *PQgetvalue(p->res, p->row, col) == 't' ? "1" : "0";
	return PQgetvalue(p->res, p->row, col);
}

static size_t
store_pg_column_bytes(struct store_query *q, int col)
{
	struct store_pg_query	*p = PQY(q);

	if (store_pg_column_null(q, col))
		return 0;
	return (size_t)PQgetlength(p->res, p->row, col);
}

/*
 * TEXT as a literal without a connection to ask (one lost, being made
 * again): quotes doubled, which is all a literal needs with
 * standard_conforming_strings on, as every session of ours sets it.
 */
static char *
store_pg_quote(const char *text)
{
	char	*lit, *o;

	lit = o = xmalloc(2 * strlen(text) + 3);
	*o++ = '\'';
	for (; *text != '\0'; text++) {
		if (*text == '\'')
			*o++ = '\'';
		*o++ = *text;
	}
	*o++ = '\'';
	*o = '\0';
	return lit;
}

/* The statement with its values as literals, to record and replay. */
static char *
store_pg_expanded(struct store_query *q)
{
	struct store_pg_query	*p = PQY(q);
	PGconn			*conn = PDB(q->db)->conn;
	char			*out = NULL, *lit, *end;
	size_t			 len = 0, cap = 0;
	const char		*s;
	char			 c[2] = { 0, 0 };
	long			 v;
	int			 quoted = 0;

	for (s = p->sql; *s != '\0'; s++) {
		if (*s == '\'')
			quoted = !quoted;
		if (quoted || *s != '$' || (v = strtol(s + 1, &end, 10)) < 1 ||
		    v > p->nparams) {
			c[0] = *s;
			store_pg_append(&out, &len, &cap, c);
			continue;
		}
		s = end - 1;
		if (p->values[v - 1] == NULL)
			lit = xstrdup("NULL");
		else if (p->types[v - 1] == STORE_PG_INT8OID)
			xasprintf(&lit, "%s::int8", p->values[v - 1]);
		else if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
			lit = store_pg_quote(p->values[v - 1]);
		else if ((end = PQescapeLiteral(conn, p->values[v - 1],
		    strlen(p->values[v - 1]))) == NULL) {
			free(out);
			return NULL;
		} else {
			lit = xstrdup(end);
			PQfreemem(end);
		}
		store_pg_append(&out, &len, &cap, lit);
		free(lit);
	}
	return out;
}

static const char *
store_pg_sql(struct store_query *q)
{
	return PQY(q)->sql;
}

static void
store_pg_finalize(struct store_query *q)
{
	struct store_pg_query	*p = PQY(q);
	struct store_pg		*d = PDB(q->db);
	int			 i;

	/* Its answer, still to come, is read and dropped at the sync. */
	for (i = 0; p->inflight && i < d->queued; i++)
		if (d->pending[i] == p)
			d->pending[i] = NULL;
	for (i = 0; i < p->nparams; i++)
		free(p->values[i]);
	PQclear(p->res);
	free(p->sql);
	free(p);
}

/*
 * Whether transaction XID, whose COMMIT was not answered, committed:
 * pg_xact_status, which the server answers from its commit log for as
 * long as the transaction is not older than its oldest kept (far longer
 * than the store holds changes).  Still in progress (the server has yet
 * to finish the COMMIT, or to end the session) is asked again later.
 */
static int
store_pg_committed(struct store_db *d, const char *xid)
{
	struct store_query	*q;
	const char		*st;
	int			 rc;

	if ((q = store_pg_prepare(d, "SELECT pg_xact_status(?::xid8)")) ==
	    NULL)
		return STORE_FAULT;
	store_pg_bind_text(q, 1, xid);
	if ((rc = store_pg_step(q)) == STORE_ROW) {
		st = store_pg_column_null(q, 0) ? "" :
		    store_pg_column_text(q, 0);
		if (strcmp(st, "committed") == 0)
			rc = STORE_ROW;
		else if (strcmp(st, "in progress") == 0) {
			snprintf(d->error, sizeof(d->error), "transaction %s, "
			    "whose COMMIT was not answered, is still in "
			    "progress", xid);
			rc = d->rc = STORE_FAULT;
		} else
			rc = STORE_DONE;	/* aborted, or too old */
	} else if (rc == STORE_ERROR)
		rc = STORE_DONE;		/* cannot tell: write it */
	store_pg_finalize(q);
	return rc;
}

const struct store_backend store_pg_backend = {
	.name = "postgresql",
	.migrations = store_pg_migrations,
	.connect = store_pg_connect,
	.disconnect = store_pg_disconnect,
	.start = store_pg_start,
	.check = store_pg_check,
	.version = store_pg_version,
	.version_sql = store_pg_version_sql,
	/* Its transaction's id: for a COMMIT whose answer is lost. */
	.begin_sql = "BEGIN; SELECT pg_advisory_xact_lock(" STORE_PG_LOCK ");"
	    " SELECT pg_current_xact_id()",
	.busy = store_pg_busy,
	.exec = store_pg_exec,
	.records_setup = store_pg_records_setup,
	.in_tx = store_pg_in_tx,
	.changes = store_pg_changes,
	.prepare = store_pg_prepare,
	.nparams = store_pg_nparams,
	.bind_null = store_pg_bind_null,
	.bind_int64 = store_pg_bind_int64,
	.bind_text = store_pg_bind_text,
	.step = store_pg_step,
	.prefetch = store_pg_prefetch,
	.column_count = store_pg_column_count,
	.column_name = store_pg_column_name,
	.column_null = store_pg_column_null,
	.column_isint = store_pg_column_isint,
	.column_int64 = store_pg_column_int64,
	.column_text = store_pg_column_text,
	.column_bytes = store_pg_column_bytes,
	.committed = store_pg_committed,
	.expanded = store_pg_expanded,
	.sql = store_pg_sql,
	.finalize = store_pg_finalize,
};

/*
 * A connection of its own for reads that must not hold the loop at all
 * (store_vantage.c: the leader's reads of the other nodes' observations,
 * every second): made, and made again, on the loop's events
 * (store_pg_reconnect, at its first statement), and its statements sent
 * without waiting (store_pg_send), their answers read when the socket is
 * readable (store_pg_poll).
 */
struct store_db *
store_pg_reader(const char *conninfo, struct event_base *base)
{
	struct store_db	*d = store_pg_db(conninfo);

	PDB(d)->evbase = base;
	PDB(d)->reader = 1;
	PDB(d)->busy_ms = 1000;
	PDB(d)->connect_ms = 1000 * strtoll(STORE_PG_CONNECT_TIMEOUT, NULL,
	    10);
	return d;
}

void
store_pg_reader_free(struct store_db *d)
{
	if (d == NULL)
		return;
	store_pg_disconnect(d, 0);
	free(d->path);
	free(d);
}

/* Q sent, its answer not waited for: STORE_OK, or a fault (db->error). */
int
store_pg_send(struct store_query *q)
{
	struct store_pg_query	*p = PQY(q);
	struct store_pg		*d = PDB(q->db);

	if (store_pg_alive(q->db) == -1)
		return q->db->rc;
	if (!PQsendQueryParams(d->conn, p->sql, p->nparams, p->types,
	    (const char *const *)p->values, NULL, NULL, 0) ||
	    PQflush(d->conn) == -1)
		return store_pg_fail(q->db, NULL);
	return STORE_OK;
}

/*
 * Q's answer, as far as it came: STORE_ROW while it is still awaited,
 * STORE_DONE once whole (its rows are then stepped through as any
 * statement's), or the error.
 */
int
store_pg_poll(struct store_query *q)
{
	struct store_pg_query	*p = PQY(q);
	struct store_pg		*d = PDB(q->db);
	PGresult		*res;

	if (d->conn == NULL || PQflush(d->conn) == -1 ||
	    PQconsumeInput(d->conn) == 0)
		return store_pg_fail(q->db, NULL);
	while (!PQisBusy(d->conn)) {
		if ((res = PQgetResult(d->conn)) == NULL) {
			if (p->res == NULL)
				return store_pg_fail(q->db, NULL);
			if (PQresultStatus(p->res) != PGRES_TUPLES_OK &&
			    PQresultStatus(p->res) != PGRES_COMMAND_OK)
				return store_pg_fail(q->db, p->res);
			p->row = -1;
			return STORE_DONE;
		}
		/* The first error, else the last result, as PQexec's. */
		if (p->res != NULL &&
		    PQresultStatus(p->res) == PGRES_FATAL_ERROR)
			PQclear(res);
		else {
			PQclear(p->res);
			p->res = res;
		}
	}
	return STORE_ROW;
}

/* The socket whose readiness store_pg_poll waits for; -1: none. */
int
store_pg_fd(struct store_db *d)
{
	return PDB(d)->conn != NULL ? PQsocket(PDB(d)->conn) : -1;
}

/* A read not answered in time: the session goes, and is made again. */
void
store_pg_abandon(struct store_db *d)
{
	if (PDB(d)->conn != NULL)
		PQfinish(PDB(d)->conn);
	PDB(d)->conn = NULL;
}

struct store_db *
store_pg_db(const char *conninfo)
{
	struct store_pg	*p;

	p = xcalloc(1, sizeof(*p));
	p->base.be = &store_pg_backend;
	p->base.path = xstrdup(conninfo);
	return &p->base;
}
