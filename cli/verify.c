/*
 * verify.c: rtowatch verify, the timeline's hash chain walked from the
 * first row (chain.h): the first row changed, inserted or removed is
 * named, and the exit status is 1.  Then every row of the tables whose
 * records the forms print (chain.c's chain_tables) is compared with the
 * latest state of it that a timeline row bound: each table, row and
 * column that no longer matches is named, so an UPDATE made with the
 * sqlite3 tool (a level lowered, a report time moved) shows.
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
#include <stdarg.h>
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

/* A record line as the chain last bound it. */
struct verify_bound {
	char	*table;
	int64_t	 id;
	int64_t	 row;		/* the timeline row carrying it */
	char	*line;
	int	 seen;
};

struct verify_out {
	int			 quiet;
	int			 problems;
	char			 first[512];
	int64_t			 rows;
	int64_t			 records;
	char			 head[CHAIN_HEXLEN + 1];
	struct verify_bound	*bound;
	size_t			 nbound;
	size_t			 capbound;
};

#define VERIFY_MAX_PROBLEMS	50	/* named, then counted */

enum {
	V_ID, V_INCIDENT, V_WARNING, V_AT, V_EVENT, V_ACTOR, V_DETAIL, V_PREV,
	V_HASH, V_RECORDS
};

static void __attribute__((format(printf, 2, 3)))
verify_problem(struct verify_out *vo, const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (vo->problems++ == 0)
		snprintf(vo->first, sizeof(vo->first), "%s", msg);
	if (!vo->quiet && vo->problems <= VERIFY_MAX_PROBLEMS)
		cli_warnx("%s", msg);
}

static const char *
verify_text(sqlite3_stmt *s, int col)
{
	const char	*t = cli_col_text(s, col);

	return t != NULL ? t : "";
}

/* What broke at row id, whose stored previous hash is not p's hash. */
static void
verify_unlinked(struct verify_out *vo, int64_t id,
    const struct verify_link *p, const struct verify_link *pp,
    const char *prev, int self_ok)
{
	int64_t	 want = p->id + 1;

	if (id > want && want == id - 1)
		verify_problem(vo, "timeline row %lld was removed: row %lld "
		    "does not link to row %lld", (long long)want,
		    (long long)id, (long long)p->id);
	else if (id > want)
		verify_problem(vo, "timeline rows %lld to %lld were removed: "
		    "row %lld does not link to row %lld", (long long)want,
		    (long long)(id - 1), (long long)id, (long long)p->id);
	else if (pp->id != 0 && strcmp(prev, pp->hash) == 0)
		verify_problem(vo, "timeline row %lld was inserted: row %lld "
		    "links to row %lld, past it", (long long)p->id,
		    (long long)id, (long long)pp->id);
	else if (self_ok)
		verify_problem(vo, "timeline row %lld: a row before it was "
		    "removed or changed: it links to a hash no row %lld has",
		    (long long)id, (long long)p->id);
	else
		verify_problem(vo, "timeline row %lld was changed: its hash "
		    "does not match its contents, nor its link row %lld",
		    (long long)id, (long long)p->id);
}

static char *
verify_strndup(const char *s, size_t n)
{
	char	*p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* Keep the record lines timeline row ROW carries. */
static int
verify_collect(struct verify_out *vo, int64_t row, const char *records)
{
	const char		*line, *end;
	struct verify_bound	*b;
	char			*p;
	long long		 id;
	size_t			 len, tlen;

	for (line = records; *line != '\0'; line = *end ? end + 1 : end) {
		len = strcspn(line, "\n");
		end = line + len;
		/* "TABLE ID": the table's name ends at the line's first space. */
		tlen = strcspn(line, " \n");
		if (line[tlen] != ' ' ||
		    (id = strtoll(line + tlen + 1, &p, 10)) <= 0 ||
		    (*p != ' ' && p != end) || p > end) {
			verify_problem(vo, "timeline row %lld: its records are "
			    "not record lines", (long long)row);
			return -1;
		}
		if (vo->nbound == vo->capbound) {
			vo->capbound = vo->capbound ? vo->capbound * 2 : 64;
			vo->bound = xreallocarray(vo->bound, vo->capbound,
			    sizeof(*vo->bound));
		}
		b = &vo->bound[vo->nbound++];
		b->table = verify_strndup(line, tlen);
		b->id = id;
		b->row = row;
		b->line = verify_strndup(line, len);
		b->seen = 0;
	}
	return 0;
}

static int
verify_bound_cmp(const void *a, const void *b)
{
	const struct verify_bound	*x = a, *y = b;
	int				 c;

	if ((c = strcmp(x->table, y->table)) != 0)
		return c;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->row < y->row ? -1 : x->row > y->row;
}

/* The latest line bound for TABLE ID, or NULL. */
static struct verify_bound *
verify_latest(struct verify_out *vo, const char *table, int64_t id)
{
	size_t	 lo = 0, hi = vo->nbound, mid;
	int	 c;

	/* The last of the entries equal in (table, id): rows ascend. */
	while (lo < hi) {
		mid = (lo + hi) / 2;
		if ((c = strcmp(vo->bound[mid].table, table)) == 0)
			c = vo->bound[mid].id < id ? -1 :
			    vo->bound[mid].id > id;
		if (c <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || strcmp(vo->bound[lo - 1].table, table) != 0 ||
	    vo->bound[lo - 1].id != id)
		return NULL;
	return &vo->bound[lo - 1];
}

/* The value of " COL=" in LINE, as a pointer to its hash, or NULL. */
static const char *
verify_column(const char *line, const char *col)
{
	const char	*p = line;
	size_t		 n = strlen(col);

	while ((p = strchr(p, ' ')) != NULL) {
		p++;
		if (strncmp(p, col, n) == 0 && p[n] == '=')
			return p + n + 1;
	}
	return NULL;
}

/* Name each column of NOW (this row's line) that BOUND does not hold. */
static void
verify_columns(struct verify_out *vo, const struct verify_bound *b,
    const char *now)
{
	const char	*p, *eq, *h, *end;
	char		 col[128];
	int		 named = 0;

	for (p = strchr(now, ' '); p != NULL; p = strchr(p + 1, ' ')) {
		if ((eq = strchr(p + 1, '=')) == NULL)
			break;
		if ((end = strchr(p + 1, ' ')) != NULL && end < eq)
			continue;	/* the row id */
		snprintf(col, sizeof(col), "%.*s", (int)(eq - p - 1), p + 1);
		if ((h = verify_column(b->line, col)) == NULL) {
			verify_problem(vo, "%s row %lld, column %s: not in "
			    "the chain (bound by timeline row %lld)", b->table,
			    (long long)b->id, col, (long long)b->row);
			named++;
		} else if (strncmp(h, eq + 1, CHAIN_COLHEXLEN) != 0) {
			verify_problem(vo, "%s row %lld, column %s: does not "
			    "match the chain (bound by timeline row %lld)",
			    b->table, (long long)b->id, col,
			    (long long)b->row);
			named++;
		}
	}
	for (p = strchr(b->line, ' '); p != NULL; p = strchr(p + 1, ' ')) {
		if ((eq = strchr(p + 1, '=')) == NULL)
			break;
		if ((end = strchr(p + 1, ' ')) != NULL && end < eq)
			continue;
		snprintf(col, sizeof(col), "%.*s", (int)(eq - p - 1), p + 1);
		if (verify_column(now, col) == NULL) {
			verify_problem(vo, "%s row %lld, column %s: removed "
			    "(bound by timeline row %lld)", b->table,
			    (long long)b->id, col, (long long)b->row);
			named++;
		}
	}
	if (named == 0)
		verify_problem(vo, "%s row %lld does not match the chain "
		    "(bound by timeline row %lld)", b->table, (long long)b->id,
		    (long long)b->row);
}

/* Every row of every bound table against its latest line in the chain. */
static int
verify_records(struct cli_ctx *ctx, struct verify_out *vo)
{
	const struct chain_table	*t;
	struct verify_bound		*b;
	sqlite3_stmt			*stmt;
	char				*sql, *buf = NULL;
	size_t				 len, cap = 0, i;
	int64_t				 id;
	int				 rc, exists;

	if (vo->nbound > 0)
		qsort(vo->bound, vo->nbound, sizeof(*vo->bound),
		    verify_bound_cmp);
	for (t = chain_tables; t->name != NULL; t++) {
		if ((stmt = cli_prepare(ctx, "SELECT count(*) FROM"
		    " sqlite_master WHERE type = 'table' AND name = ?")) ==
		    NULL)
			return -1;
		sqlite3_bind_text(stmt, 1, t->name, -1, SQLITE_STATIC);
		exists = sqlite3_step(stmt) == SQLITE_ROW &&
		    sqlite3_column_int(stmt, 0) > 0;
		sqlite3_finalize(stmt);
		if (!exists)
			continue;
		xasprintf(&sql, "SELECT rowid, * FROM %s ORDER BY rowid",
		    t->name);
		stmt = cli_prepare(ctx, sql);
		free(sql);
		if (stmt == NULL)
			return -1;
		while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
			id = sqlite3_column_int64(stmt, 0);
			len = 0;
			if (chain_record_line(t, stmt, &buf, &len,
			    &cap) == -1) {
				cli_warnx("out of memory");
				sqlite3_finalize(stmt);
				free(buf);
				return -1;
			}
			vo->records++;
			if ((b = verify_latest(vo, t->name, id)) == NULL) {
				verify_problem(vo, "%s row %lld is not in the "
				    "chain: written outside rtowatchd",
				    t->name, (long long)id);
				continue;
			}
			b->seen = 1;
			if (strlen(b->line) > 2 && strcmp(b->line +
			    strlen(b->line) - 2, " -") == 0)
				verify_problem(vo, "%s row %lld is present, "
				    "but the chain says it was deleted "
				    "(timeline row %lld)", t->name,
				    (long long)id, (long long)b->row);
			else if (strcmp(b->line, buf) != 0)
				verify_columns(vo, b, buf);
		}
		sqlite3_finalize(stmt);
		if (cli_step_error(ctx, rc) == -1) {
			free(buf);
			return -1;
		}
	}
	free(buf);
	for (i = 0; i < vo->nbound; i++) {
		b = &vo->bound[i];
		if (i + 1 < vo->nbound &&
		    strcmp(b->table, vo->bound[i + 1].table) == 0 &&
		    b->id == vo->bound[i + 1].id)
			continue;	/* not the latest */
		len = strlen(b->line);
		if (b->seen || (len >= 2 && strcmp(b->line + len - 2,
		    " -") == 0))
			continue;	/* present, or deleted and absent */
		if (chain_table(b->table) == NULL)
			continue;
		verify_problem(vo, "%s row %lld was removed (bound by timeline "
		    "row %lld)", b->table, (long long)b->id,
		    (long long)b->row);
	}
	return 0;
}

static void
verify_out_free(struct verify_out *vo)
{
	size_t	 i;

	for (i = 0; i < vo->nbound; i++) {
		free(vo->bound[i].table);
		free(vo->bound[i].line);
	}
	free(vo->bound);
	vo->bound = NULL;
	vo->nbound = vo->capbound = 0;
}

/*
 * The chain walked from the first row, then every bound record compared
 * with the chain's latest line for it.  0: all match; 1: something does
 * not (vo->first, and each on stderr unless quiet); -1: cannot read.
 * HEAD (when not NULL) is looked for: *HEAD_AT its row, 0 if absent.
 */
static int
verify_run(struct cli_ctx *ctx, struct verify_out *vo, const char *head,
    int64_t *head_at, int64_t *last_id)
{
	struct verify_link	 p, pp;
	sqlite3_stmt		*stmt;
	char			 hash[CHAIN_HEXLEN + 1], self[CHAIN_HEXLEN + 1];
	const char		*prev, *records;
	int64_t			 id;
	int			 rc, broken = 0;

	if ((stmt = cli_prepare(ctx, "SELECT id, coalesce(incident_id, 0),"
	    " coalesce(warning_id, 0), at, event, actor, detail, prev_hash,"
	    " hash, records FROM timeline ORDER BY id")) == NULL)
		return -1;
	memset(&p, 0, sizeof(p));
	memset(&pp, 0, sizeof(pp));
	memset(p.hash, '0', CHAIN_HEXLEN);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		id = sqlite3_column_int64(stmt, V_ID);
		prev = verify_text(stmt, V_PREV);
		records = verify_text(stmt, V_RECORDS);
		chain_hash(p.hash, id, sqlite3_column_int64(stmt, V_INCIDENT),
		    sqlite3_column_int64(stmt, V_WARNING),
		    verify_text(stmt, V_AT), verify_text(stmt, V_EVENT),
		    verify_text(stmt, V_ACTOR), verify_text(stmt, V_DETAIL),
		    records, hash);
		if (strcmp(prev, p.hash) != 0 || id != p.id + 1) {
			chain_hash(prev, id, sqlite3_column_int64(stmt,
			    V_INCIDENT), sqlite3_column_int64(stmt, V_WARNING),
			    verify_text(stmt, V_AT), verify_text(stmt,
			    V_EVENT), verify_text(stmt, V_ACTOR),
			    verify_text(stmt, V_DETAIL), records, self);
			verify_unlinked(vo, id, &p, &pp, prev, strcmp(self,
			    verify_text(stmt, V_HASH)) == 0);
			broken = 1;
			break;
		}
		if (strcmp(hash, verify_text(stmt, V_HASH)) != 0) {
			verify_problem(vo, "timeline row %lld was changed: its "
			    "contents do not match its hash", (long long)id);
			broken = 1;
			break;
		}
		if (*records != '\0' && verify_collect(vo, id, records) == -1) {
			broken = 1;
			break;
		}
		pp = p;
		p.id = id;
		snprintf(p.hash, sizeof(p.hash), "%s", hash);
		vo->rows++;
		if (head != NULL && strcmp(head, hash) == 0)
			*head_at = id;
	}
	sqlite3_finalize(stmt);
	if (broken) {
		verify_problem(vo, "the timeline chain is broken: %lld rows "
		    "verified before it", (long long)vo->rows);
		return 1;
	}
	if (cli_step_error(ctx, rc) == -1)
		return -1;
	snprintf(vo->head, sizeof(vo->head), "%s", vo->rows > 0 ? p.hash :
	    "-");
	*last_id = p.id;
	if (verify_records(ctx, vo) == -1)
		return -1;
	return vo->problems > 0;
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

/*
 * For the forms: what they print was checked against the chain head
 * HEAD, or the first thing that does not match, in BUF.
 */
int
verify_summary(struct cli_ctx *ctx, int en, char *buf, size_t len)
{
	struct verify_out	 vo;
	int64_t			 at = 0, last = 0;
	int			 rc;

	memset(&vo, 0, sizeof(vo));
	vo.quiet = 1;
	rc = verify_run(ctx, &vo, NULL, &at, &last);
	if (rc == 0)
		snprintf(buf, len, en ? "records verified against the chain "
		    "head %s (%lld rows, %lld records)" : "已依雜湊鏈首 %s "
		    "驗證紀錄（%lld 列、%lld 筆紀錄）", vo.head,
		    (long long)vo.rows, (long long)vo.records);
	else if (rc == 1)
		snprintf(buf, len, en ? "NOT VERIFIED: %s; %d problem(s), "
		    "see rtowatch verify" : "未通過驗證：%s；共 %d 項，請執行 "
		    "rtowatch verify", vo.first, vo.problems);
	verify_out_free(&vo);
	return rc;
}

int
verify_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_opts		 o = { 0 };
	struct verify_out	 vo;
	int64_t			 head_at = 0, last = 0;
	int			 rc, intact, damaged;

	if ((rc = cli_options(ctx, argc, argv, &o)) != 0)
		return rc;
	if (cli_open(ctx) == -1 || cli_begin(ctx) == -1)
		return CLI_EXIT_ERR;
	damaged = verify_pages(ctx) == -1;
	memset(&vo, 0, sizeof(vo));
	rc = verify_run(ctx, &vo, o.head, &head_at, &last);
	if (rc == -1) {
		verify_out_free(&vo);
		return CLI_EXIT_ERR;
	}
	if (vo.problems > VERIFY_MAX_PROBLEMS)
		cli_warnx("... and %d more", vo.problems - VERIFY_MAX_PROBLEMS);
	intact = rc == 0 || strncmp(vo.first, "timeline", 8) != 0;
	verify_out_free(&vo);
	if (rc == 1 && intact)
		cli_warnx("the timeline chain is intact (%lld rows, head %s) "
		    "but %d record(s) do not match it", (long long)vo.rows,
		    vo.head, vo.problems);
	if (rc == 0 && damaged)
		return CLI_EXIT_ERR;
	if (rc == 0) {
		printf("timeline chain OK: %lld rows, head %s\n",
		    (long long)vo.rows, vo.head);
		printf("records OK: %lld rows of incidents, outages, clocks, "
		    "scope, notifications, warnings, maintenance and contacts "
		    "match "
		    "it\n", (long long)vo.records);
	}
	if (o.head == NULL || !intact)
		return rc == 0 ? CLI_EXIT_OK : CLI_EXIT_ERR;
	if (head_at == 0) {
		cli_warnx("head %s is not in the chain: the copy it was "
		    "printed on does not match this database", o.head);
		return CLI_EXIT_ERR;
	}
	printf("head %s is row %lld; %lld rows were added after it\n",
	    o.head, (long long)head_at, (long long)(last - head_at));
	return rc == 0 ? CLI_EXIT_OK : CLI_EXIT_ERR;
}
