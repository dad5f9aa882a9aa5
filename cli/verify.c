/*
 * verify.c: rtowatch verify, the timeline's hash chain walked from the
 * first row (chain.h): the first row changed, inserted or removed is
 * named, and the exit status is 1.
 *
 * The chain shows any edit made with the sqlite3 tool or any other writer
 * that does not recompute every later hash.  One who does recompute them
 * (or who removes the newest rows) leaves a valid chain with a different
 * head: that is what the head printed on the register is for, checked
 * with --head.
 *
 * First, PRAGMA quick_check reads every page of the file: damage from the
 * disk or from a copy cut short is named as SQLite finds it, with the way
 * to recover, and the exit status is 1 even when the chain still walks.
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chain.h"
#include "cli.h"
#include "util.h"

struct verify_link {
	int64_t	 id;
	char	 hash[CHAIN_HEXLEN + 1];
};

enum {
	V_ID, V_INCIDENT, V_WARNING, V_AT, V_EVENT, V_ACTOR, V_DETAIL, V_PREV,
	V_HASH
};

static const char *
verify_text(sqlite3_stmt *s, int col)
{
	const char	*t = cli_col_text(s, col);

	return t != NULL ? t : "";
}

/* What broke at row id, whose stored previous hash is not p's hash. */
static void
verify_unlinked(int64_t id, const struct verify_link *p,
    const struct verify_link *pp, const char *prev, int self_ok)
{
	int64_t	 want = p->id + 1;

	if (id > want && want == id - 1)
		cli_warnx("timeline row %lld was removed: row %lld does not "
		    "link to row %lld", (long long)want, (long long)id,
		    (long long)p->id);
	else if (id > want)
		cli_warnx("timeline rows %lld to %lld were removed: row %lld "
		    "does not link to row %lld", (long long)want,
		    (long long)(id - 1), (long long)id, (long long)p->id);
	else if (pp->id != 0 && strcmp(prev, pp->hash) == 0)
		cli_warnx("timeline row %lld was inserted: row %lld links to "
		    "row %lld, past it", (long long)p->id, (long long)id,
		    (long long)pp->id);
	else if (self_ok)
		cli_warnx("timeline row %lld: a row before it was removed or "
		    "changed: it links to a hash no row %lld has",
		    (long long)id, (long long)p->id);
	else
		cli_warnx("timeline row %lld was changed: its hash does not "
		    "match its contents, nor its link row %lld",
		    (long long)id, (long long)p->id);
}

/* The file's pages and indexes, as quick_check sees them. */
static int
verify_pages(struct cli_ctx *ctx)
{
	sqlite3_stmt	*stmt;
	const char	*line;
	size_t		 len;
	int		 rc, n = 0, v;

	if ((stmt = cli_prepare(ctx, "PRAGMA quick_check(20)")) == NULL)
		return -1;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		line = verify_text(stmt, 0);
		if (strcmp(line, "ok") == 0)
			continue;
		if (n++ == 0)
			cli_warnx("%s: the database file is damaged; PRAGMA "
			    "quick_check says:", ctx->db_path);
		/* One problem may span lines ("*** in database main ***"). */
		for (;;) {
			len = strcspn(line, "\n");
			cli_warnx("  %.*s", (int)len, line);
			if (line[len] == '\0')
				break;
			line += len + 1;
		}
	}
	if (rc != SQLITE_DONE && n > 0)
		cli_warnx("  (and then it stopped: %s)",
		    sqlite3_errmsg(ctx->db));
	else if (rc != SQLITE_DONE) {
		cli_warnx("%s: the database file is damaged; PRAGMA "
		    "quick_check fails: %s", ctx->db_path,
		    sqlite3_errmsg(ctx->db));
		n++;
	}
	sqlite3_finalize(stmt);
	if (n == 0)
		return 0;
	v = 1;		/* cli_open() has read it once already */
	if (sqlite3_prepare_v2(ctx->db, "PRAGMA user_version", -1, &stmt,
	    NULL) == SQLITE_OK) {
		if (sqlite3_step(stmt) == SQLITE_ROW)
			v = sqlite3_column_int(stmt, 0);
		sqlite3_finalize(stmt);
	}
	cli_warnx("to recover, keep a copy of the damaged file, then restore "
	    "the last good copy of it, or salvage what can be read into a new "
	    "file:");
	cli_warnx("  sqlite3 '%s' .dump | sed 's/^ROLLBACK; -- due to errors$/"
	    "COMMIT;/' | sqlite3 NEW.db && sqlite3 NEW.db "
	    "'PRAGMA user_version = %d'", ctx->db_path, v);
	cli_warnx("  then check it with rtowatch --db NEW.db verify");
	return -1;
}

int
verify_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_opts		 o = { .formats = 0 };
	struct verify_link	 p, pp;
	sqlite3_stmt		*stmt;
	char			 hash[CHAIN_HEXLEN + 1], self[CHAIN_HEXLEN + 1];
	const char		*prev;
	int64_t			 id, n = 0, head_at = 0;
	int			 rc, bad = 0, damaged;

	if ((rc = cli_options(ctx, argc, argv, CLI_O(CLI_O_HEAD), &o)) != 0)
		return rc;
	if (optind < argc)
		return cli_usage_error(ctx->cmd, "verify: unexpected argument "
		    "%s", argv[optind]);
	if (cli_open(ctx) == -1 || cli_begin(ctx) == -1)
		return CLI_EXIT_ERR;
	damaged = verify_pages(ctx) == -1;
	if ((stmt = cli_prepare(ctx, "SELECT id, coalesce(incident_id, 0),"
	    " coalesce(warning_id, 0), at, event, actor, detail, prev_hash,"
	    " hash FROM timeline ORDER BY id")) == NULL)
		return CLI_EXIT_ERR;
	memset(&p, 0, sizeof(p));
	memset(&pp, 0, sizeof(pp));
	memset(p.hash, '0', CHAIN_HEXLEN);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		id = sqlite3_column_int64(stmt, V_ID);
		prev = verify_text(stmt, V_PREV);
		chain_hash(p.hash, id, sqlite3_column_int64(stmt, V_INCIDENT),
		    sqlite3_column_int64(stmt, V_WARNING),
		    verify_text(stmt, V_AT), verify_text(stmt, V_EVENT),
		    verify_text(stmt, V_ACTOR), verify_text(stmt, V_DETAIL),
		    hash);
		if (strcmp(prev, p.hash) != 0 || id != p.id + 1) {
			chain_hash(prev, id, sqlite3_column_int64(stmt,
			    V_INCIDENT), sqlite3_column_int64(stmt, V_WARNING),
			    verify_text(stmt, V_AT), verify_text(stmt,
			    V_EVENT), verify_text(stmt, V_ACTOR),
			    verify_text(stmt, V_DETAIL), self);
			verify_unlinked(id, &p, &pp, prev, strcmp(self,
			    verify_text(stmt, V_HASH)) == 0);
			bad = 1;
			break;
		}
		if (strcmp(hash, verify_text(stmt, V_HASH)) != 0) {
			cli_warnx("timeline row %lld was changed: its contents "
			    "do not match its hash", (long long)id);
			bad = 1;
			break;
		}
		pp = p;
		p.id = id;
		snprintf(p.hash, sizeof(p.hash), "%s", hash);
		n++;
		if (o.head != NULL && strcmp(o.head, hash) == 0)
			head_at = id;
	}
	sqlite3_finalize(stmt);
	if (bad) {
		cli_warnx("the timeline chain is broken: %lld rows verified "
		    "before it", (long long)n);
		return CLI_EXIT_ERR;
	}
	if (cli_step_error(ctx, rc) == -1 || damaged)
		return CLI_EXIT_ERR;
	printf("timeline chain OK: %lld rows, head %s\n", (long long)n,
	    n > 0 ? p.hash : "-");
	if (o.head == NULL)
		return CLI_EXIT_OK;
	if (head_at == 0) {
		cli_warnx("head %s is not in the chain: the copy it was "
		    "printed on does not match this database", o.head);
		return CLI_EXIT_ERR;
	}
	printf("head %s is row %lld; %lld rows were added after it\n",
	    o.head, (long long)head_at, (long long)(p.id - head_at));
	return CLI_EXIT_OK;
}
