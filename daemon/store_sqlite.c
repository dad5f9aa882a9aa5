/*
 * store_sqlite.c: the store's SQLite backend, the default.
 *
 * One file, one writer (the daemon), WAL mode so readers never block it;
 * synchronous=FULL so that a committed outage survives a power cut.  The
 * schema's version is PRAGMA user_version.  The rest of the store is in
 * store.c, which reaches SQLite only through this file's table.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "log.h"
#include "rtowatch.h"
#include "store_int.h"
#include "util.h"

/* How long the check of the file at start may take, at most. */
#define STORE_SQLITE_CHECK_MS		10000
#define STORE_SQLITE_OPEN_BUSY_MS	5000	/* before the loop runs */

/*
 * Statements kept for reuse, by their SQL's hash, until the group of
 * changes they ran in ends (store_sqlite_release).  A burst of changes of
 * one kind (a mass failure's RTOs passing together, store_group_begin's
 * slices) runs the same twenty-odd statements for each; parsing them
 * again was a third of an escalation's CPU.  Let go at the group's end,
 * so that they cost no memory between bursts.
 */
#define STORE_SQLITE_KEEP	128	/* a power of two */
#define STORE_SQLITE_PROBE	4	/* slots looked at from the hash's */

struct store_sqlite_query;

struct store_sqlite {
	struct store_db			 base;
	sqlite3				*db;
	sqlite3				*moved;	/* the old file's, to close */
	struct store_sqlite_query	*keep[STORE_SQLITE_KEEP];
};

struct store_sqlite_query {
	struct store_query	 base;
	sqlite3_stmt		*stmt;
	unsigned		 hash;	/* its SQL's, for keep[] */
	unsigned		 slot;	/* keep[slot] is this one, if kept */
	int			 kept;
	int			 busy;	/* prepared and not finalized */
};

#define SDB(d)	((struct store_sqlite *)(void *)(d))

static void	store_sqlite_release(struct store_db *);
static struct store_query *store_sqlite_prepare(struct store_db *,
		    const char *);
static void	store_sqlite_finalize(struct store_query *);
#define SQ(q)	((struct store_sqlite_query *)(void *)(q))

/*
 * Is RC a refusal that passes by itself (a lock, a full disk, a file
 * system read-only or failing), so that the change is held and tried
 * again, rather than an error in the change itself?
 */
static int
store_sqlite_rc(struct store_db *d, int rc)
{
	if (rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE)
		return STORE_OK;
	snprintf(d->error, sizeof(d->error), "%s", sqlite3_errmsg(SDB(d)->db));
	d->rc = STORE_ERROR;
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_FULL:
	case SQLITE_READONLY:
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
	case SQLITE_PROTOCOL:
		d->rc = STORE_FAULT;
	}
	return d->rc;
}

/*
 * SQL, maybe several statements.  One statement (no ';': a savepoint, its
 * release, BEGIN, COMMIT, emptying the dirty list) runs as a kept
 * statement (store_sqlite_prepare), not parsed again at every change.
 */
static int
store_sqlite_exec(struct store_db *d, const char *sql)
{
	struct store_query	*q;
	char			*err = NULL;
	int			 rc;

	if (strchr(sql, ';') == NULL && (q = store_sqlite_prepare(d, sql)) !=
	    NULL && SQ(q)->stmt != NULL) {
		while ((rc = sqlite3_step(SQ(q)->stmt)) == SQLITE_ROW)
			;
		if (rc != SQLITE_DONE)
			rc = store_sqlite_rc(d, sqlite3_extended_errcode(
			    SDB(d)->db));
		else
			rc = STORE_OK;
		store_sqlite_finalize(q);
		return rc == STORE_OK ? STORE_OK : rc;
	}
	if (sqlite3_exec(SDB(d)->db, sql, NULL, NULL, &err) == SQLITE_OK)
		return STORE_OK;
	rc = store_sqlite_rc(d, sqlite3_extended_errcode(SDB(d)->db));
	if (err != NULL)
		snprintf(d->error, sizeof(d->error), "%s", err);
	sqlite3_free(err);
	return rc == STORE_OK ? STORE_ERROR : rc;
}

/* The first column of SQL's one row: a count, a pragma; -1 on error. */
static int64_t
store_sqlite_scalar(sqlite3 *db, const char *sql)
{
	sqlite3_stmt	*stmt;
	int64_t		 v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(stmt) == SQLITE_ROW)
		v = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return v;
}

static int
store_sqlite_version(struct store_db *d)
{
	int64_t	 v;

	if ((v = store_sqlite_scalar(SDB(d)->db, "PRAGMA user_version")) < 0)
		log_warnx("%s: %s", d->path, sqlite3_errmsg(SDB(d)->db));
	return (int)v;
}

static char *
store_sqlite_version_sql(int v)
{
	char	*sql;

	xasprintf(&sql, "PRAGMA user_version = %d;", v);
	return sql;
}

/*
 * A connection to the path with the daemon's settings.  It runs at start
 * and again when storewatch.c has written the database back to its path.
 */
/*
 * SQLite's page cache, in kB (negative: a size, not pages).  Its default,
 * 2 MB, filled up at 10,000 systems and stayed resident: an eighth of the
 * daemon's heap.  The clean pages it no longer keeps are read again from
 * the kernel's cache.  A transaction's changed pages still spill to the
 * file only past 512 pages (2 MB), as with the default, so that a big one
 * (a mass failure's turn, the held changes at stop) is written as before;
 * its pages go back to the 256 kB once it is committed.  A mass failure
 * at 10,000 writes as fast (tests/bench/bench_mass.py).
 */
#define STORE_SQLITE_CACHE_KB	"-256"
#define STORE_SQLITE_SPILL	"512"

static int
store_sqlite_connect(struct store_db *d)
{
	struct store_sqlite	*s = SDB(d);

	if (sqlite3_open_v2(d->path, &s->db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		log_warnx("%s: %s", d->path, s->db ?
		    sqlite3_errmsg(s->db) : "cannot open");
		return -1;
	}
	/* At start nothing else runs yet: waiting for a lock is harmless. */
	sqlite3_busy_timeout(s->db, STORE_SQLITE_OPEN_BUSY_MS);
	/*
	 * synchronous=FULL: a committed outage or incident must survive a
	 * power cut, not only a crash of the daemon.
	 */
	if (store_sqlite_exec(d, "PRAGMA journal_mode = WAL;") != STORE_OK ||
	    store_sqlite_exec(d, "PRAGMA synchronous = FULL;") != STORE_OK ||
	    store_sqlite_exec(d, "PRAGMA foreign_keys = ON;") != STORE_OK ||
	    store_sqlite_exec(d, "PRAGMA cache_size = "
	    STORE_SQLITE_CACHE_KB ";") != STORE_OK ||
	    store_sqlite_exec(d, "PRAGMA cache_spill = "
	    STORE_SQLITE_SPILL ";") != STORE_OK) {
		log_warnx("%s: %s", d->path, d->error);
		return -1;
	}
	return 0;
}

/*
 * The old file (deleted or moved away, storewatch.c) is closed without
 * letting SQLite delete its -wal file by name, which by now may be
 * another file's.  Not at once: a deleted file's blocks are freed when
 * its last descriptor closes, 28 ms at 64 MB here, and storewatch.c
 * closes it in a turn of the loop of its own (store_sqlite_close_moved).
 */
static void
store_sqlite_disconnect(struct store_db *d, int moved)
{
	struct store_sqlite	*s = SDB(d);
	int			 persist = 1;

	store_sqlite_close_moved(d);
	if (s->db == NULL)
		return;
	/* A statement not finalized would keep the connection open. */
	store_sqlite_release(d);
	if (!moved) {
		sqlite3_close(s->db);
		s->db = NULL;
		return;
	}
	sqlite3_file_control(s->db, "main", SQLITE_FCNTL_PERSIST_WAL,
	    &persist);
	s->moved = s->db;
	s->db = NULL;
}

void
store_sqlite_close_moved(struct store_db *d)
{
	struct store_sqlite	*s = SDB(d);

	if (d->be != &store_sqlite_backend || s->moved == NULL)
		return;
	sqlite3_close_v2(s->moved);
	s->moved = NULL;
}

static int
store_sqlite_check_progress(void *arg)
{
	return mono_ms() > *(int64_t *)arg;
}

/*
 * PRAGMA quick_check, stopped after ms milliseconds: what it found, the
 * problems joined by "; " ("ok" when none), and in *rcp how it ended:
 * SQLITE_DONE, SQLITE_INTERRUPT when out of time, or the error that
 * stopped it.  rtowatch verify (cli/verify.c) runs the same pragma,
 * unbounded.
 */
static char *
store_sqlite_quick_check(sqlite3 *db, int ms, int *rcp)
{
	sqlite3_stmt	*stmt;
	char		*out = NULL, *line;
	int64_t		 deadline = mono_ms() + ms;
	int		 rc;

	sqlite3_progress_handler(db, 1000, store_sqlite_check_progress,
	    &deadline);
	if ((rc = sqlite3_prepare_v2(db, "PRAGMA quick_check(20)", -1, &stmt,
	    NULL)) == SQLITE_OK) {
		while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
			line = out;
			xasprintf(&out, "%s%s%s", line ? line : "",
			    line ? "; " : "",
			    (const char *)sqlite3_column_text(stmt, 0));
			free(line);
		}
		sqlite3_finalize(stmt);
	}
	sqlite3_progress_handler(db, 0, NULL, NULL);
	*rcp = rc;
	if (rc != SQLITE_DONE && rc != SQLITE_INTERRUPT) {
		/* It may stop at the damage, or fail before the first row. */
		line = out;
		xasprintf(&out, "%s%s%s", line ? line : "", line ? "; " : "",
		    sqlite3_errmsg(db));
		free(line);
	}
	/* One problem may span lines ("*** in database main ***"). */
	if (out != NULL)
		for (line = out; (line = strchr(line, '\n')) != NULL; )
			*line = ' ';
	return out;
}

/*
 * Damaged pages are found before anything is written on top of them: a
 * daemon that went on would record incidents into a file that may lose
 * them, and nobody would know until verify or a restore.
 */
static int
store_sqlite_check(struct store_db *d)
{
	const char	*path = d->path;
	char		*found;
	int		 rc, v;

	found = store_sqlite_quick_check(SDB(d)->db, STORE_SQLITE_CHECK_MS,
	    &rc);
	if (rc == SQLITE_INTERRUPT) {
		log_warnx("%s: PRAGMA quick_check did not finish within %d s; "
		    "started without it (run rtowatch --db %s verify)",
		    path, STORE_SQLITE_CHECK_MS / 1000, path);
		free(found);
		return 0;
	}
	/* A lock or a full memory says nothing about the pages. */
	if (rc != SQLITE_DONE && (rc & 0xff) != SQLITE_CORRUPT &&
	    (rc & 0xff) != SQLITE_NOTADB) {
		log_warnx("%s: PRAGMA quick_check could not run (%s); started "
		    "without it", path, found ? found : "?");
		free(found);
		return 0;
	}
	if (rc == SQLITE_DONE && found != NULL && strcmp(found, "ok") == 0) {
		free(found);
		return 0;
	}
	if ((v = store_sqlite_version(d)) <= 0)
		v = STORE_SCHEMA_VERSION;
	log_warnx("%s: the database is damaged; PRAGMA quick_check says: %s",
	    path, found ? found : "nothing");
	log_warnx("%s: not started, so that nothing is written on top of the "
	    "damage.  To recover, keep a copy of the damaged file, then "
	    "restore the last good copy of it, or salvage what can be read "
	    "into a new file:", path);
	log_warnx("  sqlite3 '%s' .dump | sed 's/^ROLLBACK; -- due to errors$/"
	    "COMMIT;/' | sqlite3 NEW.db && sqlite3 NEW.db "
	    "'PRAGMA user_version = %d'", path, v);
	log_warnx("  then check it with `rtowatch --db NEW.db verify` and "
	    "move it to %s", path);
	free(found);
	return -1;
}

/*
 * Which bound rows this connection wrote since the last timeline row was
 * hashed: TEMP triggers, so that they belong to the daemon's connection
 * only and the file's schema stays as the migrations made it.  An UPDATE
 * fires only when it sets a bound column (the mailer's delivery state is
 * not bound, chain.c).
 */
static int
store_sqlite_records_setup(struct store_db *d)
{
	const struct chain_table	*t;
	sqlite3_stmt			*stmt;
	char				*sql = NULL, *cols = NULL;
	size_t				 clen, ccap;
	const char			*name;
	int				 rc;

	if ((rc = store_sqlite_exec(d, "CREATE TEMP TABLE IF NOT EXISTS"
	    " record_dirty (tbl TEXT NOT NULL, id INTEGER NOT NULL,"
	    " PRIMARY KEY (tbl, id))")) != STORE_OK)
		return -1;
	for (t = chain_tables; t->name != NULL && rc == STORE_OK; t++) {
		clen = ccap = 0;
		free(cols);
		cols = NULL;
		xasprintf(&sql, "SELECT name FROM pragma_table_info('%s')",
		    t->name);
		rc = sqlite3_prepare_v2(SDB(d)->db, sql, -1, &stmt, NULL);
		free(sql);
		sql = NULL;
		if (rc != SQLITE_OK) {
			snprintf(d->error, sizeof(d->error), "%s",
			    sqlite3_errmsg(SDB(d)->db));
			return -1;
		}
		while (sqlite3_step(stmt) == SQLITE_ROW) {
			name = (const char *)sqlite3_column_text(stmt, 0);
			if (!chain_column_bound(t, name))
				continue;
			if ((clen > 0 && chain_append(&cols, &clen, &ccap,
			    ", ") == -1) ||
			    chain_append(&cols, &clen, &ccap, name) == -1)
				fatalx("out of memory");
		}
		sqlite3_finalize(stmt);
		rc = STORE_OK;
		if (cols == NULL)
			continue;	/* no such table in this schema */
		/*
		 * Not INSERT OR IGNORE: the statement that fires a trigger
		 * overrides its conflict clause, so an upsert (ON CONFLICT DO
		 * UPDATE) touching a row twice in one transaction would fail
		 * on record_dirty's key.
		 */
		xasprintf(&sql,
		    "CREATE TEMP TRIGGER IF NOT EXISTS record_%s_i AFTER INSERT"
		    " ON main.%s BEGIN INSERT INTO record_dirty SELECT '%s',"
		    " NEW.rowid WHERE NOT EXISTS (SELECT 1 FROM record_dirty"
		    " WHERE tbl = '%s' AND id = NEW.rowid); END;"
		    "CREATE TEMP TRIGGER IF NOT EXISTS record_%s_u AFTER UPDATE"
		    " OF %s ON main.%s BEGIN INSERT INTO record_dirty SELECT"
		    " '%s', NEW.rowid WHERE NOT EXISTS (SELECT 1 FROM"
		    " record_dirty WHERE tbl = '%s' AND id = NEW.rowid); END;"
		    "CREATE TEMP TRIGGER IF NOT EXISTS record_%s_d AFTER DELETE"
		    " ON main.%s BEGIN INSERT INTO record_dirty SELECT '%s',"
		    " OLD.rowid WHERE NOT EXISTS (SELECT 1 FROM record_dirty"
		    " WHERE tbl = '%s' AND id = OLD.rowid); END;",
		    t->name, t->name, t->name, t->name,
		    t->name, cols, t->name, t->name, t->name,
		    t->name, t->name, t->name, t->name);
		rc = store_sqlite_exec(d, sql);
		free(sql);
		sql = NULL;
	}
	free(cols);
	return rc == STORE_OK ? 0 : -1;
}

static void
store_sqlite_busy(struct store_db *d, int ms)
{
	sqlite3_busy_timeout(SDB(d)->db, ms);
}

static int
store_sqlite_in_tx(struct store_db *d)
{
	return SDB(d)->db != NULL && !sqlite3_get_autocommit(SDB(d)->db);
}

static int
store_sqlite_changes(struct store_db *d)
{
	return sqlite3_changes(SDB(d)->db);
}

/*
 * SQL's statement: the one kept from an earlier use when it is free (its
 * bindings cleared and reset, the same as a new one), else a new one.
 */
static struct store_query *
store_sqlite_prepare(struct store_db *d, const char *sql)
{
	struct store_sqlite		*s = SDB(d);
	struct store_sqlite_query	*q;
	sqlite3_stmt			*stmt;
	unsigned			 hash, i;

	hash = str_hash(sql);
	for (i = 0; i < STORE_SQLITE_PROBE; i++) {
		q = s->keep[(hash + i) & (STORE_SQLITE_KEEP - 1)];
		if (q != NULL && !q->busy && q->hash == hash &&
		    strcmp(sqlite3_sql(q->stmt), sql) == 0) {
			q->busy = 1;
			return &q->base;
		}
	}
	if (sqlite3_prepare_v2(s->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		snprintf(d->error, sizeof(d->error), "%s",
		    sqlite3_errmsg(s->db));
		return NULL;
	}
	q = xcalloc(1, sizeof(*q));
	q->base.db = d;
	q->stmt = stmt;
	q->hash = hash;
	q->busy = 1;
	return &q->base;
}

static int
store_sqlite_nparams(struct store_query *q)
{
	return sqlite3_bind_parameter_count(SQ(q)->stmt);
}

static void
store_sqlite_bind_null(struct store_query *q, int col)
{
	sqlite3_bind_null(SQ(q)->stmt, col);
}

static void
store_sqlite_bind_int64(struct store_query *q, int col, int64_t v)
{
	sqlite3_bind_int64(SQ(q)->stmt, col, v);
}

static void
store_sqlite_bind_text(struct store_query *q, int col, const char *s)
{
	sqlite3_bind_text(SQ(q)->stmt, col, s, -1, SQLITE_TRANSIENT);
}

static int
store_sqlite_step(struct store_query *q)
{
	int	 rc;

	if ((rc = sqlite3_step(SQ(q)->stmt)) == SQLITE_ROW)
		return STORE_ROW;
	if (rc == SQLITE_DONE)
		return STORE_DONE;
	rc = store_sqlite_rc(q->db, sqlite3_extended_errcode(SDB(q->db)->db));
	return rc == STORE_OK ? STORE_ERROR : rc;
}

static int
store_sqlite_column_count(struct store_query *q)
{
	return sqlite3_column_count(SQ(q)->stmt);
}

static const char *
store_sqlite_column_name(struct store_query *q, int col)
{
	return sqlite3_column_name(SQ(q)->stmt, col);
}

static int
store_sqlite_column_null(struct store_query *q, int col)
{
	return sqlite3_column_type(SQ(q)->stmt, col) == SQLITE_NULL;
}

static int
store_sqlite_column_isint(struct store_query *q, int col)
{
	return sqlite3_column_type(SQ(q)->stmt, col) == SQLITE_INTEGER;
}

static int64_t
store_sqlite_column_int64(struct store_query *q, int col)
{
	return sqlite3_column_int64(SQ(q)->stmt, col);
}

static const char *
store_sqlite_column_text(struct store_query *q, int col)
{
	return (const char *)sqlite3_column_text(SQ(q)->stmt, col);
}

static size_t
store_sqlite_column_bytes(struct store_query *q, int col)
{
	return (size_t)sqlite3_column_bytes(SQ(q)->stmt, col);
}

static char *
store_sqlite_expanded(struct store_query *q)
{
	char	*s, *out;

	if ((s = sqlite3_expanded_sql(SQ(q)->stmt)) == NULL)
		return NULL;
	out = xstrdup(s);
	sqlite3_free(s);
	return out;
}

static const char *
store_sqlite_sql(struct store_query *q)
{
	return sqlite3_sql(SQ(q)->stmt);
}

static void
store_sqlite_drop(struct store_sqlite_query *q)
{
	sqlite3_finalize(q->stmt);
	free(q);
}

/*
 * Done with Q: reset and kept in its slot for the next use, in place of
 * a free one of other SQL there, unless the slot's is in use.  A reset
 * statement holds no lock and no read of the database, as a finalized
 * one.  A statement without SQL (only blanks) is not kept.
 */
static void
store_sqlite_finalize(struct store_query *base)
{
	struct store_sqlite_query	*q = SQ(base), *old;
	struct store_sqlite		*s = SDB(base->db);
	unsigned			 i, j, slot;

	if (q == NULL)
		return;
	/* Only a statement of the connection open now is kept. */
	if (q->stmt == NULL || s->db == NULL ||
	    sqlite3_db_handle(q->stmt) != s->db) {
		store_sqlite_drop(q);
		return;
	}
	sqlite3_reset(q->stmt);
	sqlite3_clear_bindings(q->stmt);
	q->busy = 0;
	if (q->kept)
		return;
	/* An empty slot near its hash, else one whose statement is free. */
	for (i = 0, slot = STORE_SQLITE_KEEP; i < STORE_SQLITE_PROBE; i++) {
		j = (q->hash + i) & (STORE_SQLITE_KEEP - 1);
		if ((old = s->keep[j]) == NULL) {
			slot = j;
			break;
		}
		if (!old->busy && slot == STORE_SQLITE_KEEP)
			slot = j;
	}
	if (slot == STORE_SQLITE_KEEP) {
		store_sqlite_drop(q);
		return;
	}
	if (s->keep[slot] != NULL)
		store_sqlite_drop(s->keep[slot]);
	s->keep[slot] = q;
	q->slot = slot;
	q->kept = 1;
}

/* The group of changes ended: the statements kept are let go. */
static void
store_sqlite_release(struct store_db *d)
{
	struct store_sqlite		*s = SDB(d);
	struct store_sqlite_query	*q;
	unsigned			 i;

	for (i = 0; i < STORE_SQLITE_KEEP; i++) {
		if ((q = s->keep[i]) == NULL)
			continue;
		if (q->busy) {
			q->kept = 0;	/* finalized as any other */
			s->keep[i] = NULL;
			continue;
		}
		s->keep[i] = NULL;
		store_sqlite_drop(q);
	}
}

const struct store_backend store_sqlite_backend = {
	.name = "sqlite",
	.migrations = store_sqlite_migrations,
	.connect = store_sqlite_connect,
	.disconnect = store_sqlite_disconnect,
	.check = store_sqlite_check,
	.version = store_sqlite_version,
	.version_sql = store_sqlite_version_sql,
	.begin_sql = "BEGIN IMMEDIATE",
	.busy = store_sqlite_busy,
	.exec = store_sqlite_exec,
	.records_setup = store_sqlite_records_setup,
	.in_tx = store_sqlite_in_tx,
	.changes = store_sqlite_changes,
	.prepare = store_sqlite_prepare,
	.nparams = store_sqlite_nparams,
	.bind_null = store_sqlite_bind_null,
	.bind_int64 = store_sqlite_bind_int64,
	.bind_text = store_sqlite_bind_text,
	.step = store_sqlite_step,
	.column_count = store_sqlite_column_count,
	.column_name = store_sqlite_column_name,
	.column_null = store_sqlite_column_null,
	.column_isint = store_sqlite_column_isint,
	.column_int64 = store_sqlite_column_int64,
	.column_text = store_sqlite_column_text,
	.column_bytes = store_sqlite_column_bytes,
	.expanded = store_sqlite_expanded,
	.sql = store_sqlite_sql,
	.finalize = store_sqlite_finalize,
	.release = store_sqlite_release,
};

struct store_db *
store_sqlite_db(const char *path)
{
	struct store_sqlite	*s;

	s = xcalloc(1, sizeof(*s));
	s->base.be = &store_sqlite_backend;
	s->base.path = xstrdup(path);
	return &s->base;
}

/* For storewatch.c, which copies the file with SQLite's backup API. */
struct sqlite3 *
store_sqlite_handle(struct store_db *d)
{
	return d->be == &store_sqlite_backend ? SDB(d)->db : NULL;
}
