/*
 * backup.c: rtowatch backup FILE, a copy of the database for an auditor
 * or the archive, made while the daemon runs.
 *
 * cp of the file is not a copy: the daemon writes in WAL mode, so the
 * newest changes (at first, the whole schema) sit in the -wal file
 * beside it.  SQLite's online backup API copies the database as one
 * read transaction sees it, WAL included, without stopping the daemon
 * (a WAL reader does not block the writer).  The copy is then switched
 * to journal_mode DELETE, so that it is one self-contained file any
 * rtowatch can read from read-only media, and checked before it takes
 * FILE's name: integrity_check, the schema version this rtowatch reads,
 * and the timeline's chain (verify.c).  It is written beside FILE under
 * a temporary name, so FILE is either the old file or a verified copy.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "store.h"
#include "util.h"

/* Copy the open database into the empty file TMP; 0 or -1. */
static int
backup_copy(struct cli_ctx *ctx, const char *tmp)
{
	sqlite3_backup	*b;
	sqlite3		*dst = NULL;
	int		 rc;

	if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		cli_warnx("%s: %s", tmp, dst != NULL ? sqlite3_errmsg(dst) :
		    "out of memory");
		sqlite3_close(dst);
		return -1;
	}
	if ((b = sqlite3_backup_init(dst, "main", ctx->db, "main")) == NULL) {
		cli_warnx("%s: %s", tmp, sqlite3_errmsg(dst));
		sqlite3_close(dst);
		return -1;
	}
	/*
	 * All pages in one step: one read transaction, so the copy is the
	 * database at one moment even while the daemon writes.  BUSY means
	 * the daemon was checkpointing for a moment; try again.
	 */
	while ((rc = sqlite3_backup_step(b, -1)) == SQLITE_BUSY ||
	    rc == SQLITE_LOCKED)
		sqlite3_sleep(50);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		cli_warnx("%s: backup failed: %s", ctx->db_path,
		    sqlite3_errstr(rc));
		sqlite3_close(dst);
		return -1;
	}
	/* The pages came with the WAL flag; the copy stands alone. */
	if (sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL,
	    NULL) != SQLITE_OK) {
		cli_warnx("%s: %s", tmp, sqlite3_errmsg(dst));
		sqlite3_close(dst);
		return -1;
	}
	if (sqlite3_close(dst) != SQLITE_OK) {
		cli_warnx("%s: cannot close the copy", tmp);
		return -1;
	}
	return 0;
}

/*
 * Read the copy back as an auditor would; its figures into *N.  0, or 1
 * when the copy is sound but its chain does not verify (nor does the
 * database's, then: the copy is kept, as evidence), or -1.
 */
static int
backup_check(struct cli_ctx *ctx, const char *tmp, int64_t *incidents,
    char *msg, size_t len)
{
	struct cli_ctx	 c;
	sqlite3_stmt	*stmt;
	const char	*line;
	int		 rc, bad = 0, chain;

	memset(&c, 0, sizeof(c));
	c.db_path = tmp;
	c.tz = ctx->tz;
	c.cmd = ctx->cmd;
	if (cli_open(&c) == -1 || cli_begin(&c) == -1) {
		sqlite3_close(c.db);
		return -1;
	}
	if ((stmt = cli_prepare(&c, "PRAGMA integrity_check(20)")) == NULL)
		goto fail;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		line = cli_col_text(stmt, 0);
		if (strcmp(line, "ok") != 0 && bad++ == 0)
			cli_warnx("%s: the copy is damaged: %s", tmp, line);
	}
	sqlite3_finalize(stmt);
	if (cli_step_error(&c, rc) == -1 || bad > 0)
		goto fail;
	if ((stmt = cli_prepare(&c, "SELECT count(*) FROM incidents")) ==
	    NULL)
		goto fail;
	rc = sqlite3_step(stmt);
	*incidents = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : -1;
	sqlite3_finalize(stmt);
	if (*incidents < 0 || (chain = verify_summary(&c, 1, msg, len)) == -1)
		goto fail;
	cli_end(&c);
	sqlite3_close(c.db);
	return chain;
 fail:
	cli_end(&c);
	sqlite3_close(c.db);
	return -1;
}

/*
 * TMP takes FILE's name; without FORCE, never over a FILE made in the
 * meantime.  link() says so atomically, but a USB stick's FAT has no
 * links: there renameat2's RENAME_NOREPLACE, else a last look.
 */
static int
backup_place(const char *tmp, const char *file, int force)
{
	if (force)
		return rename(tmp, file);
	if (link(tmp, file) == 0) {
		unlink(tmp);
		return 0;
	}
	/* ENOTSUP is EOPNOTSUPP on Linux. */
	if (errno != EPERM && errno != EOPNOTSUPP)
		return -1;
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, file, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (access(file, F_OK) == 0) {
		errno = EEXIST;
		return -1;
	}
	return rename(tmp, file);
}

int
backup_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_opts	 o = { 0 };
	char		*tmp = NULL, msg[512];
	int64_t		 n = 0;
	int		 fd, rc, chain;

	if ((rc = cli_options(ctx, argc, argv, &o)) != 0)
		return rc;
	if (!o.force && access(o.file, F_OK) == 0) {
		cli_warnx("%s exists; rtowatch backup --force %s replaces it",
		    o.file, o.file);
		return CLI_EXIT_ERR;
	}
	if (cli_open(ctx) == -1)
		return CLI_EXIT_ERR;
	xasprintf(&tmp, "%s.tmp-XXXXXX", o.file);
	if ((fd = mkstemp(tmp)) == -1) {
		cli_warnx("%s: %s", o.file, strerror(errno));
		free(tmp);
		return CLI_EXIT_ERR;
	}
	close(fd);
	if (backup_copy(ctx, tmp) == -1 ||
	    (chain = backup_check(ctx, tmp, &n, msg, sizeof(msg))) == -1)
		goto fail;
	if (backup_place(tmp, o.file, o.force) == -1) {
		cli_warnx("%s: %s", o.file, strerror(errno));
		goto fail;
	}
	if (chain == 1) {
		/* A faithful copy of what is there: kept, and said. */
		cli_warnx("%s: a copy of %s, integrity ok, schema version %d, "
		    "%lld incident(s), but %s", o.file, ctx->db_path,
		    STORE_SCHEMA_VERSION, (long long)n, msg);
		free(tmp);
		return CLI_EXIT_ERR;
	}
	printf("%s: a copy of %s, verified: integrity ok, schema version "
	    "%d, %lld incident(s), %s\n", o.file, ctx->db_path,
	    STORE_SCHEMA_VERSION, (long long)n, msg);
	free(tmp);
	return CLI_EXIT_OK;
 fail:
	unlink(tmp);
	free(tmp);
	return CLI_EXIT_ERR;
}
