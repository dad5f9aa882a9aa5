/*
 * storefix.h: what the unit tests on a real store share: a database
 * file on tmpfs when there is one (thousands of commits, each synced),
 * the store open on it, and another connection that stands for an
 * admin's shell holding BEGIN EXCLUSIVE.  Included by one test file
 * each, so its functions are static.
 */
#ifndef STOREFIX_H
#define STOREFIX_H

struct storefix {
	char		 path[64];
	struct store	*st;
	sqlite3		*other;	/* the admin's connection */
};

static int
storefix_open(struct storefix *db, const char *name)
{
	int	 fd;

	snprintf(db->path, sizeof(db->path), "%s/rtowatch-%s-XXXXXX",
	    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", name);
	if ((fd = mkstemp(db->path)) == -1)
		return -1;
	close(fd);
	if ((db->st = store_open(db->path)) == NULL ||
	    sqlite3_open(db->path, &db->other) != SQLITE_OK)
		return -1;
	return 0;
}

static void
storefix_close(struct storefix *db)
{
	char	 p[80];

	sqlite3_close(db->other);
	store_close(db->st);
	unlink(db->path);
	snprintf(p, sizeof(p), "%s-wal", db->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", db->path);
	unlink(p);
}

static void
storefix_lock(struct storefix *db)
{
	assert_int_equal(sqlite3_exec(db->other, "BEGIN EXCLUSIVE", NULL,
	    NULL, NULL), SQLITE_OK);
}

static void
storefix_unlock(struct storefix *db)
{
	assert_int_equal(sqlite3_exec(db->other, "COMMIT", NULL, NULL, NULL),
	    SQLITE_OK);
}

/* Past the store's least time between two tries on a new write. */
static void
storefix_later(void)
{
	struct timespec	 ts = { 0, 250 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

/* The first column of SQL's first row, read by the other connection. */
static int64_t
storefix_count(struct storefix *db, const char *sql)
{
	sqlite3_stmt	*stmt;
	int64_t		 n = -1;

	assert_int_equal(sqlite3_prepare_v2(db->other, sql, -1, &stmt, NULL),
	    SQLITE_OK);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		n = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return n;
}

#endif /* STOREFIX_H */
