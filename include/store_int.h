/*
 * store_int.h: what the store's files share, and nothing outside them.
 *
 * store.c is the core: the schema, the connection and its checks, the
 * transactions, the held queue and the records bound to the chain.  The
 * records themselves are written and read in one file each
 * (store_incident.c, store_clock.c, store_mail.c, store_warning.c,
 * store_history.c), through the core's statements, so that every write
 * goes through store_write and is recorded, and held when the database
 * refuses it (see store.c's header comment).
 */
#ifndef RTOWATCH_STORE_INT_H
#define RTOWATCH_STORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/*
 * The backend seam.  The core (store.c) and the record files speak to
 * the database through one connection object and one statement object,
 * whose calls a backend implements: SQLite (store_sqlite.c), the default
 * for one host, and PostgreSQL (store_pg.c), for a register several
 * hosts share.  SQL is written once, in SQLite's dialect with ? and ?N
 * parameters; a backend that speaks another dialect rewrites it when it
 * prepares it (store_pg.c says what it rewrites).
 */
#define STORE_OK	0
#define STORE_ERROR	1	/* the change itself is wrong */
#define STORE_FAULT	2	/* a refusal that passes by itself: hold */
#define STORE_ROW	100	/* store_step: a row is there */
#define STORE_DONE	101	/* store_step: no more rows */

struct store_backend;
struct event_base;

/* One connection; a backend's own struct begins with it. */
struct store_db {
	const struct store_backend	*be;
	char				*path;	/* as configured */
	char				 error[256];	/* the last refusal */
	char				 state[6];	/* its SQLSTATE, or "" */
	int				 rc;	/* and its STORE_ code */
	/*
	 * A COMMIT sent whose answer was lost (no answer in time, the
	 * connection gone): its transaction's id, to ask later whether it
	 * committed (committed); "" when the last COMMIT was answered.
	 */
	char				 uncertain[32];
	/*
	 * The statement the last refusal was for, when the backend learnt
	 * of it at a later one (PostgreSQL's pipeline: a write's error
	 * comes with the next read, RELEASE or COMMIT); "" otherwise, the
	 * refused statement being the one just run.
	 */
	char				 failed[320];
};

/* One statement, prepared and bound; a backend's begins with it. */
struct store_query {
	struct store_db			*db;
};

struct store_backend {
	const char	*name;
	/* The schema, one migration a version (STORE_SCHEMA_VERSION). */
	const char *const *const *migrations;
	/* Open the connection with the daemon's settings; -1, logged. */
	int		 (*connect)(struct store_db *);
	/* MOVED: the file was replaced under it (storewatch.c). */
	void		 (*disconnect)(struct store_db *, int);
	/*
	 * The loop is there (NULL: a backend that never waits on it): what
	 * the backend does without blocking it, such as reconnecting, runs
	 * on its events.
	 */
	void		 (*start)(struct store_db *, struct event_base *);
	/* At start: damage found refuses the start (-1). */
	int		 (*check)(struct store_db *);
	/* The schema version the database says it is at; -1 on error. */
	int		 (*version)(struct store_db *);
	/* SQL that records version N, run in its migration's transaction. */
	char		*(*version_sql)(int);
	/* The statement that takes the write lock and begins. */
	const char	*begin_sql;
	/* How long a statement of the loop may wait for a lock. */
	void		 (*busy)(struct store_db *, int);
	/* SQL, maybe several statements: STORE_OK, _ERROR or _FAULT. */
	int		 (*exec)(struct store_db *, const char *);
	/*
	 * Which bound rows this connection writes (record_dirty, chain.h),
	 * after the migrations and at every new connection.
	 */
	int		 (*records_setup)(struct store_db *);
	/* In a transaction? */
	int		 (*in_tx)(struct store_db *);
	/* Rows the last write changed. */
	int		 (*changes)(struct store_db *);
	struct store_query *(*prepare)(struct store_db *, const char *);
	int		 (*nparams)(struct store_query *);
	/* Bind parameter COL (1-based): NULL, an integer or text. */
	void		 (*bind_null)(struct store_query *, int);
	void		 (*bind_int64)(struct store_query *, int, int64_t);
	void		 (*bind_text)(struct store_query *, int, const char *);
	/* STORE_ROW, STORE_DONE, or STORE_ERROR/_FAULT (db->error). */
	int		 (*step)(struct store_query *);
	/*
	 * Optional: send a bound read now, its answer read by its first
	 * step, so that several reads cost one wait (PostgreSQL's
	 * pipeline).  Without it, step runs the statement.
	 */
	void		 (*prefetch)(struct store_query *);
	int		 (*column_count)(struct store_query *);
	const char	*(*column_name)(struct store_query *, int);
	int		 (*column_null)(struct store_query *, int);
	int		 (*column_isint)(struct store_query *, int);
	int64_t		 (*column_int64)(struct store_query *, int);
	const char	*(*column_text)(struct store_query *, int);
	size_t		 (*column_bytes)(struct store_query *, int);
	/*
	 * Whether the transaction of that id (db->uncertain) committed:
	 * STORE_ROW it did, STORE_DONE it did not (or it is too old to
	 * tell), STORE_FAULT not known yet.  NULL: a backend whose COMMIT
	 * always answers (SQLite).
	 */
	int		 (*committed)(struct store_db *, const char *);
	/* The statement with its values in it, to record (xmalloc'd). */
	char		*(*expanded)(struct store_query *);
	const char	*(*sql)(struct store_query *);
	void		 (*finalize)(struct store_query *);
	/*
	 * Optional: statements the backend kept to reuse (finalize) are let
	 * go; called at the end of each group of changes
	 * (store_group_commit) and before the connection closes.
	 */
	void		 (*release)(struct store_db *);
};

/*
 * A migration: its statements, run in one transaction.  It is written in
 * parts where one string would pass the 4095 characters C99 promises a
 * literal.
 */
#define STORE_MIGRATION(...)	((const char *const []){ __VA_ARGS__, NULL })

/* Migration 13, the same on both backends (store.c says why). */
#define STORE_SCOPE_OUTAGE_INDEX \
	"CREATE INDEX incident_scope_outage ON incident_scope(outage_id)"

/*
 * Migration 15, the same on both backends: a system's incidents by their
 * restoration, which the observations' prune reads for each old
 * observation (store_observations_prune: the windows the retention
 * keeps), those restored after it or not at all.
 */
#define STORE_INCIDENTS_SYSTEM_INDEX \
	"CREATE INDEX incidents_system ON incidents(system, restored_at)"

/*
 * Migration 16, the same on both backends: a system's incidents by their
 * start, whose first within the retention the observations' prune seeks
 * (store_observations_prune): a view older than its system's first
 * window is in none, however many incidents follow it.
 */
#define STORE_INCIDENTS_STARTED_INDEX \
	"CREATE INDEX incidents_started ON incidents(system, started_at)"

/*
 * Migration 10, the same on both backends: each node's row, upserted by
 * its heartbeat (lead.c); the leaders' count (lead_term, one row: each
 * new leader adds one); and an outbox row's claim by the node sending it
 * (store_mail_claim).  Times are ISO text, as everywhere.
 */
#define STORE_NODES_TABLE \
	"CREATE TABLE nodes (" \
	"  name text PRIMARY KEY," \
	"  role text NOT NULL" \
	"    CHECK (role IN ('leader', 'standby', 'observer'))," \
	"  started text NOT NULL," \
	"  last_contact text NOT NULL," \
	"  version text NOT NULL" \
	");" \
	"ALTER TABLE notifications ADD COLUMN claimed_by text;" \
	"ALTER TABLE notifications ADD COLUMN claimed_until text;" \
	"CREATE TABLE lead_term (term bigint NOT NULL, node text NOT NULL);" \
	"INSERT INTO lead_term VALUES (0, '');"

/*
 * SQLite's refusal of a DELETE of observations (migration 10): the prune
 * (store_observations_prune) drops it and makes it again, word for word,
 * within its own transaction, so that no other session ever sees the
 * table without it.
 */
#define STORE_OBSERVATIONS_NO_DELETE \
	"CREATE TRIGGER observations_no_delete BEFORE DELETE ON observations" \
	"  BEGIN SELECT RAISE(ABORT, 'observations are append-only'); END"

extern const char *const *const store_sqlite_migrations[];
extern const char *const *const store_pg_migrations[];
extern const struct store_backend store_sqlite_backend;
struct sqlite3	*store_sqlite_handle(struct store_db *);
void		 store_sqlite_close_moved(struct store_db *);
extern const struct store_backend store_pg_backend;

struct store_db	*store_sqlite_db(const char *);
struct store_db	*store_pg_db(const char *);
/* PostgreSQL's reads off the loop (store_vantage.c). */
struct store_db	*store_pg_reader(const char *, struct event_base *);
void		 store_pg_reader_free(struct store_db *);
int		 store_pg_send(struct store_query *);
int		 store_pg_poll(struct store_query *);
int		 store_pg_fd(struct store_db *);
void		 store_pg_abandon(struct store_db *);

/* The statement's calls, for the record files. */
int		 store_step(struct store_query *);
void		 store_prefetch(struct store_query *);
void		 store_finalize(struct store_query *);
int		 store_column_null(struct store_query *, int);
int		 store_column_isint(struct store_query *, int);
int		 store_column_int(struct store_query *, int);
int64_t		 store_column_int64(struct store_query *, int);
const char	*store_column_text(struct store_query *, int);
const char	*store_column_name(struct store_query *, int);
int		 store_column_count(struct store_query *);
void		 store_bind_text(struct store_query *, int, const char *);
void		 store_bind_int64(struct store_query *, int, int64_t);
const char	*store_errmsg(struct store *);
int		 store_read_held(struct store *, int);

/* The tables whose ids later rows refer to: the store chooses them. */
enum store_table {
	STORE_INCIDENTS,
	STORE_OUTAGES,
	STORE_WARNINGS,
	STORE_CLOCKS,
	STORE_MAINTENANCE,
	STORE_TIMELINE,
	STORE_NTABLES
};

/*
 * The binder.  TYPES has one letter a value, bound to the parameters 1,
 * 2, ... in order:
 *	i	int
 *	I	int64_t
 *	J	int64_t, a row's id: 0 binds NULL (none)
 *	t	const char *, text: NULL binds NULL
 *	T	int64_t, a time in wall ms: 0 binds NULL, else its text
 * A value of another type than its letter says is undefined behaviour
 * (varargs): an int64_t letter wants an int64_t, never a literal 0.
 *
 * store_stmt prepares and binds, for a read or for store_write_row;
 * store_run prepares, binds and writes (store_write).  The SQL is kept
 * as it is: a write is recorded as its expanded SQL, replayed later.
 */
struct store_query *store_stmt(struct store *, const char *, const char *,
		    ...);
int		 store_run(struct store *, const char *, const char *, ...);

struct store_query *store_prepare(struct store *, const char *);
int		 store_write(struct store *, struct store_query *);
int		 store_write_row(struct store *, struct store_query *, int *);
int		 store_changed(struct store *);
int64_t		 store_next_id(struct store *, enum store_table);
int64_t		 store_column_time(struct store_query *, int);

#endif /* RTOWATCH_STORE_INT_H */
