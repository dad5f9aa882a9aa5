/*
 * cli.c: what every rtowatch command shares: the read-only database, the
 * options, times in --tz, and tables, JSON and CSV on stdout.
 *
 * The database is opened only ever read-only (a URI with mode=ro), so an
 * auditor can run any command against a live file or a copy without
 * changing a byte.  JSON and CSV carry the stored UTC times as they are;
 * tables and forms display them in --tz.
 */
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chain.h"
#include "cli.h"
#include "store.h"
#include "log.h"
#include "record.h"
#include "text.h"
#include "util.h"

#define CLI_DAY_MS	(86400 * (int64_t)1000)

struct cli_field cli_incident_fields[CLI_I_COUNT];
size_t cli_incident_members[CLI_I_COUNT];
size_t cli_incident_nmembers;

const struct cli_field cli_timeline_fields[CLI_T_COUNT] = {
	[CLI_T_ID] = { "id", "id", CLI_INT },
	[CLI_T_AT] = { "at", "at", CLI_TEXT },
	[CLI_T_EVENT] = { "event", "event", CLI_TEXT },
	[CLI_T_ACTOR] = { "actor", "actor", CLI_TEXT },
	[CLI_T_DETAIL] = { "detail", "detail", CLI_TEXT },
};

static const struct cli_format_name {
	const char	*name;
	enum cli_format	 fmt;
} cli_formats[] = {
	{ .name = "table", .fmt = CLI_FMT_TABLE },
	{ .name = "text", .fmt = CLI_FMT_TEXT },
	{ .name = "json", .fmt = CLI_FMT_JSON },
	{ .name = "csv", .fmt = CLI_FMT_CSV },
	{ .name = "md", .fmt = CLI_FMT_MD },
	{ .name = "html", .fmt = CLI_FMT_HTML },
};

static const struct option cli_longopts[] = {
	{ "format", required_argument, NULL, 256 + CLI_O_FORMAT },
	{ "from", required_argument, NULL, 256 + CLI_O_FROM },
	{ "to", required_argument, NULL, 256 + CLI_O_TO },
	{ "level", required_argument, NULL, 256 + CLI_O_LEVEL },
	{ "system", required_argument, NULL, 256 + CLI_O_SYSTEM },
	{ "status", required_argument, NULL, 256 + CLI_O_STATUS },
	{ "kind", required_argument, NULL, 256 + CLI_O_KIND },
	{ "major", no_argument, NULL, 256 + CLI_O_MAJOR },
	{ "overdue", no_argument, NULL, 256 + CLI_O_OVERDUE },
	{ "lang", required_argument, NULL, 256 + CLI_O_LANG },
	{ "month", required_argument, NULL, 256 + CLI_O_MONTH },
	{ "recur-count", required_argument, NULL, 256 + CLI_O_RECUR_COUNT },
	{ "recur-window", required_argument, NULL, 256 + CLI_O_RECUR_WINDOW },
	{ "recur-by", required_argument, NULL, 256 + CLI_O_RECUR_BY },
	{ "head", required_argument, NULL, 256 + CLI_O_HEAD },
	{ "include-drills", no_argument, NULL, 256 + CLI_O_INCLUDE_DRILLS },
	{ "check", required_argument, NULL, 256 + CLI_O_CHECK },
	{ "force", no_argument, NULL, 256 + CLI_O_FORCE },
	{ "all", no_argument, NULL, 256 + CLI_O_ALL },
	{ "bom", no_argument, NULL, 256 + CLI_O_BOM },
	{ "no-bom", no_argument, NULL, 256 + CLI_O_NO_BOM },
	{ "state", required_argument, NULL, 256 + CLI_O_STATE },
	{ "db", required_argument, NULL, 256 + CLI_O_DB },
	{ NULL, 0, NULL, 0 },
};

static const char *const cli_statuses[] = { "open", "restored", "closed" };
static const char *const cli_kinds[] = { "outage", "warning", "manual",
    "drill" };
/* An early warning's, as a person answered it (5.9). */
static const char *const cli_warning_states[] = { "open", "confirmed",
    "false-positive", "undetermined" };

static void __attribute__((format(printf, 1, 0)))
cli_vwarnx(const char *fmt, va_list ap)
{
	fprintf(stderr, "rtowatch: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
}

void
cli_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	cli_vwarnx(fmt, ap);
	va_end(ap);
}

int
cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	cli_vwarnx(fmt, ap);
	va_end(ap);
	cli_usage(stderr, cmd);
	return CLI_EXIT_USAGE;
}

/*
 * glibc shows an unknown zone as UTC under the zone's name, so the zone
 * must be UTC, name a tzdata file, or be a POSIX TZ string ("CST-8").
 */
int
cli_tz_set(struct cli_ctx *ctx)
{
	char		 path[PATH_MAX];
	const char	*zone = ctx->tz + (ctx->tz[0] == ':'), *dir;

	if ((dir = getenv("TZDIR")) == NULL || *dir == '\0')
		dir = "/usr/share/zoneinfo";
	snprintf(path, sizeof(path), "%s%s%s", *zone == '/' ? "" : dir,
	    *zone == '/' ? "" : "/", zone);
	if (*zone == '\0' || (strcmp(zone, "UTC") != 0 &&
	    access(path, R_OK) == -1 && (strchr(zone, '/') != NULL ||
	    strpbrk(zone, "0123456789") == NULL))) {
		cli_warnx("unknown time zone %s (is tzdata installed?)",
		    ctx->tz);
		return -1;
	}
	if (setenv("TZ", ctx->tz, 1) == -1)
		fatal("setenv");
	tzset();
	return 0;
}

const char *
cli_col_text(sqlite3_stmt *stmt, int col)
{
	return (const char *)sqlite3_column_text(stmt, col);
}

const char *
cli_time_local_ms(int64_t v, char *buf, size_t len)
{
	struct tm	 tm;
	time_t		 sec;

	sec = (time_t)(v / 1000 - (v % 1000 < 0));
	if (localtime_r(&sec, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		return NULL;
	return buf;
}

/* A stored UTC time in --tz; what is stored if it does not parse. */
const char *
cli_time_local(const char *s, char *buf, size_t len)
{
	const char	*r;
	int64_t		 v;

	if (s == NULL)
		return NULL;
	if (time_parse(s, &v) == -1 ||
	    (r = cli_time_local_ms(v, buf, len)) == NULL)
		return s;
	return r;
}

/* As cli_time_local(), and "-" for none: a time in a reply or a table. */
const char *
cli_time_show(const char *s, char *buf, size_t len)
{
	return s == NULL ? "-" : cli_time_local(s, buf, len);
}

/* A column as people read it. */
const char *
cli_cell(sqlite3_stmt *stmt, const struct cli_column *col, char *buf,
    size_t len)
{
	const char	*s = cli_col_text(stmt, col->field);
	int64_t		 v = sqlite3_column_int64(stmt, col->field);

	if (s == NULL)
		return "-";
	switch (col->how) {
	case CLI_SHOW_YESNO:
		return v ? "yes" : "no";
	case CLI_SHOW_CLASS:
		return v ? "major" : "general";
	case CLI_SHOW_DURATION:
		return duration_fmt(v, buf, len);
	case CLI_SHOW_TIME:
		return cli_time_local(s, buf, len);
	case CLI_SHOW_KIND:
		return strcmp(s, "drill") == 0 ? "演練 drill" : s;
	case CLI_SHOW_SYSTEM:
		if (cli_col_text(stmt, RECORD_KIND) == NULL ||
		    strcmp(cli_col_text(stmt, RECORD_KIND), "drill") != 0)
			return s;
		snprintf(buf, len, "[演練 DRILL] %s", s);
		return buf;
	default:
		return s;
	}
}

/*
 * The path as a URI, so that it can say mode=ro: '?', '#' and '%' are
 * escaped, and "file://" keeps a path starting "//" from naming a host.
 */
char *
cli_uri(const char *path, int immutable)
{
	char	*uri, *p;

	uri = p = xmalloc(sizeof("file://") + 3 * strlen(path) +
	    sizeof("?mode=ro&immutable=1"));
	p = stpcpy(p, *path == '/' ? "file://" : "file:");
	for (; *path != '\0'; path++) {
		if (*path == '?' || *path == '#' || *path == '%')
			p += sprintf(p, "%%%02X", (unsigned char)*path);
		else
			*p++ = *path;
	}
	stpcpy(p, immutable ? "?mode=ro&immutable=1" : "?mode=ro");
	return uri;
}

static int
cli_query_int(struct cli_ctx *ctx, int immutable, const char *sql, int *v)
{
	sqlite3_stmt	*stmt;
	char		*uri;
	int		 rc;

	if (ctx->db == NULL) {
		uri = cli_uri(ctx->db_path, immutable);
		rc = sqlite3_open_v2(uri, &ctx->db, SQLITE_OPEN_READONLY |
		    SQLITE_OPEN_URI, NULL);
		free(uri);
		if (rc != SQLITE_OK)
			return -1;
		/* The daemon may hold the write lock for a moment. */
		sqlite3_busy_timeout(ctx->db, 5000);
	}
	if (sqlite3_prepare_v2(ctx->db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return -1;
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		*v = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW ? 0 : -1;
}

/*
 * SQLite opens a missing file lazily even with mode=ro, so look first.
 *
 * A reader of a WAL database needs its -shm file, which someone who may
 * not write the directory cannot create while the daemon is stopped.  No
 * -wal file means the database file holds everything, so it can be read
 * as immutable, without locks: a copy on read-only media, say.
 */
/*
 * cli_incident_fields from the record's table, in its order, its types
 * as the CLI reads them; rto_seconds is the one member no column holds
 * as it is, and stands before rto_ms among the members.
 */
void
cli_incident_init(void)
{
	enum record_id			 ids[RECORD_NFIELDS];
	const struct record_field	*rf;
	struct cli_field		*f;
	size_t				 i, n;

	if (cli_incident_fields[0].name != NULL)
		return;
	for (i = 0; i < RECORD_NFIELDS; i++) {
		rf = &record_fields[i];
		f = &cli_incident_fields[i];
		f->name = f->sql = rf->column;
		f->type = rf->type == RECORD_INT ? CLI_INT :
		    rf->type == RECORD_BOOL ? CLI_BOOL : CLI_TEXT;
	}
	cli_incident_fields[CLI_I_RTO_SECONDS] = (struct cli_field){
		"rto_seconds", "rto_ms / 1000", CLI_INT };
	n = record_view(RECORD_VIEW_CLI, ids);
	for (i = 0; i < n; i++) {
		if (ids[i] == RECORD_RTO_MS)
			cli_incident_members[cli_incident_nmembers++] =
			    CLI_I_RTO_SECONDS;
		cli_incident_members[cli_incident_nmembers++] = ids[i];
	}
}

int
cli_open(struct cli_ctx *ctx)
{
	struct stat	 sb;
	const char	*path = ctx->db_path;
	char		*wal;
	int		 rc, v = 0, tables = 0, nowal;

	if (ctx->db != NULL)
		return 0;
	/* A register in PostgreSQL: read into memory (pgsnap.c). */
	if (database_is_pg(path)) {
		if (pgsnap_open(path, &ctx->db) == -1)
			return -1;
	} else if (stat(path, &sb) == -1 || access(path, R_OK) == -1) {
		cli_warnx("%s: cannot open database: %s", path,
		    errno == ENOENT ? "no such file" : strerror(errno));
		return -1;
	} else if (S_ISDIR(sb.st_mode)) {
		cli_warnx("%s: cannot open database: is a directory", path);
		return -1;
	}
	rc = cli_query_int(ctx, 0, "PRAGMA user_version", &v);
	if (rc == -1 && ctx->db != NULL && (sqlite3_errcode(ctx->db) ==
	    SQLITE_READONLY || sqlite3_errcode(ctx->db) == SQLITE_CANTOPEN)) {
		xasprintf(&wal, "%s-wal", path);
		nowal = access(wal, F_OK) == -1 && errno == ENOENT;
		free(wal);
		if (nowal) {
			sqlite3_close(ctx->db);
			ctx->db = NULL;
			rc = cli_query_int(ctx, 1, "PRAGMA user_version", &v);
		}
	}
	if (rc == -1 || cli_query_int(ctx, 0, "SELECT count(*) FROM"
	    " sqlite_master WHERE type = 'table' AND"
	    " name IN ('incidents', 'timeline')", &tables) == -1) {
		cli_warnx("%s: cannot open database: %s", path,
		    ctx->db != NULL ? sqlite3_errmsg(ctx->db) :
		    "out of memory");
		return -1;
	}
	/*
	 * The forms read the columns the latest migrations added, so the
	 * file must be at the store's version; rtowatchd upgrades an older
	 * one when it opens it.
	 */
	if (v > STORE_SCHEMA_VERSION) {
		cli_warnx("%s: schema version %d is newer than this rtowatch "
		    "reads (%d to %d)", path, v, STORE_SCHEMA_VERSION,
		    STORE_SCHEMA_VERSION);
		return -1;
	}
	if (v >= 1 && v < STORE_SCHEMA_VERSION && tables == 2) {
		cli_warnx("%s: schema version %d is older than this rtowatch "
		    "reads (%d); start rtowatchd once to upgrade it", path, v,
		    STORE_SCHEMA_VERSION);
		return -1;
	}
	if (v < STORE_SCHEMA_VERSION || tables != 2) {
		cli_warnx("%s: not an rtowatch database (schema version %d%s)",
		    path, v, tables != 2 ? ", no incidents table" : "");
		return -1;
	}
	return 0;
}

/* One read transaction: everything a command prints agrees. */
int
cli_begin(struct cli_ctx *ctx)
{
	if (sqlite3_exec(ctx->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		cli_warnx("%s: %s", ctx->db_path, sqlite3_errmsg(ctx->db));
		return -1;
	}
	return 0;
}

void
cli_end(struct cli_ctx *ctx)
{
	if (ctx->db != NULL && !sqlite3_get_autocommit(ctx->db))
		sqlite3_exec(ctx->db, "COMMIT", NULL, NULL, NULL);
}

sqlite3_stmt *
cli_prepare(struct cli_ctx *ctx, const char *sql)
{
	sqlite3_stmt	*stmt;

	if (sqlite3_prepare_v2(ctx->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		cli_warnx("%s: %s", ctx->db_path, sqlite3_errmsg(ctx->db));
		return NULL;
	}
	return stmt;
}

/* "SELECT <each field's sql> FROM <table> <tail>". */
sqlite3_stmt *
cli_select(struct cli_ctx *ctx, const struct cli_field *f, size_t n,
    const char *table, const char *tail)
{
	sqlite3_stmt	*stmt;
	char		*sql, *s;
	size_t		 i;

	cli_incident_init();
	sql = xstrdup("SELECT");
	for (i = 0; i < n; i++) {
		xasprintf(&s, "%s%s %s", sql, i == 0 ? "" : ",", f[i].sql);
		free(sql);
		sql = s;
	}
	xasprintf(&s, "%s FROM %s %s", sql, table, tail);
	stmt = cli_prepare(ctx, s);
	free(sql);
	free(s);
	return stmt;
}

/* After the last step: SQLITE_DONE, or say what went wrong (busy...). */
int
cli_step_error(struct cli_ctx *ctx, int rc)
{
	if (rc == SQLITE_DONE)
		return 0;
	cli_warnx("%s: %s", ctx->db_path, sqlite3_errmsg(ctx->db));
	return -1;
}

/* The last row of the timeline: its count and hash, "" when empty. */
int
cli_chain_head(struct cli_ctx *ctx, int64_t *rows, char *head, size_t len)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	*rows = 0;
	snprintf(head, len, "%s", "");
	if ((stmt = cli_prepare(ctx, "SELECT (SELECT count(*) FROM"
	    " timeline), hash FROM timeline ORDER BY id DESC LIMIT 1")) ==
	    NULL)
		return -1;
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		*rows = sqlite3_column_int64(stmt, 0);
		snprintf(head, len, "%s", cli_col_text(stmt, 1));
		rc = SQLITE_DONE;
	}
	sqlite3_finalize(stmt);
	return cli_step_error(ctx, rc);
}

json_t *
cli_json_new(json_t *v)
{
	if (v == NULL)
		fatalx("jansson: out of memory");
	return v;
}

json_t *
cli_json_row(sqlite3_stmt *stmt, const struct cli_field *f, size_t n)
{
	return cli_json_pick(stmt, f, NULL, n);
}

/* The N columns PICK names (NULL: the first N), as members in its order. */
json_t *
cli_json_pick(sqlite3_stmt *stmt, const struct cli_field *f,
    const size_t *pick, size_t n)
{
	json_t	*obj, *v;
	char	*mended;
	size_t	 k, i;

	obj = cli_json_new(json_object());
	for (k = 0; k < n; k++) {
		i = pick != NULL ? pick[k] : k;
		if (sqlite3_column_type(stmt, (int)i) == SQLITE_NULL)
			v = json_null();
		else if (f[i].type == CLI_INT)
			v = json_integer(sqlite3_column_int64(stmt, (int)i));
		else if (f[i].type == CLI_BOOL)
			v = json_boolean(sqlite3_column_int64(stmt, (int)i));
		else if ((v = json_string(cli_col_text(stmt, (int)i))) ==
		    NULL) {
			/* jansson takes only valid UTF-8. */
			mended = text_mend(cli_col_text(stmt, (int)i), 0, 1);
			v = json_string(mended);
			free(mended);
		}
		if (json_object_set_new(obj, f[i].name, cli_json_new(v)) == -1)
			fatalx("jansson: out of memory");
	}
	return obj;
}

void
cli_json_print(json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	printf("\n");
}

/* RFC 4180 in UTF-8: invalid bytes become U+FFFD. */
void
cli_csv_field(const char *s, int first)
{
	char	*m, *q;

	if (!first)
		putchar(',');
	m = text_mend(s, 0, 1);
	q = text_csv(m);
	fputs(q, stdout);
	free(q);
	free(m);
}

/*
 * Is the reader's language Traditional Chinese?  The first of LC_ALL,
 * LC_MESSAGES and LANG that is set says, as for gettext.
 */
int
cli_lang_zh(void)
{
	static const char *const vars[] = { "LC_ALL", "LC_MESSAGES", "LANG" };
	const char	*v;
	size_t		 i;

	for (i = 0; i < CLI_NITEMS(vars); i++)
		if ((v = getenv(vars[i])) != NULL && *v != '\0')
			return strncmp(v, "zh_TW", 5) == 0 ||
			    strncmp(v, "zh-TW", 5) == 0;
	return 0;
}

/*
 * Before a CSV: the UTF-8 byte order mark that makes Excel read the file
 * as UTF-8 rather than the ANSI code page (Big5 garbles 圖書館系統).
 * --bom and --no-bom decide; by default it is there for a zh-TW reader:
 * the command's --lang, or the locale for a command without one.
 */
void
cli_csv_bom(const struct cli_ctx *ctx, const struct cli_opts *o)
{
	int	 on;

	if (o->bom != 0)
		on = o->bom > 0;
	else if (ctx->cmd->opts & CLI_O(CLI_O_LANG))
		on = !o->en;
	else
		on = cli_lang_zh();
	if (on)
		fputs("\xef\xbb\xbf", stdout);
}

void
cli_csv_row(sqlite3_stmt *stmt, const struct cli_field *f, size_t n)
{
	cli_csv_cells(stmt, f, n);
	printf("\r\n");
}

/* A record's fields from stmt, without its end: more may follow. */
void
cli_csv_cells(sqlite3_stmt *stmt, const struct cli_field *f, size_t n)
{
	cli_csv_pick(stmt, f, NULL, n);
}

/* The N columns PICK names (NULL: the first N), in its order. */
void
cli_csv_pick(sqlite3_stmt *stmt, const struct cli_field *f,
    const size_t *pick, size_t n)
{
	char	 num[24];
	size_t	 k, i;

	for (k = 0; k < n; k++) {
		i = pick != NULL ? pick[k] : k;
		if (sqlite3_column_type(stmt, (int)i) == SQLITE_NULL)
			cli_csv_field("", k == 0);
		else if (f[i].type == CLI_BOOL)
			cli_csv_field(sqlite3_column_int64(stmt, (int)i) ?
			    "1" : "0", k == 0);
		else if (f[i].type == CLI_INT) {
			snprintf(num, sizeof(num), "%lld",
			    (long long)sqlite3_column_int64(stmt, (int)i));
			cli_csv_field(num, k == 0);
		} else
			cli_csv_field(cli_col_text(stmt, (int)i), k == 0);
	}
}

/*
 * The one printer of the list commands: STMT's rows as a JSON array, as
 * CSV (its BOM as cli_csv_bom decides) or as the terminal's table, fitted
 * to its width.  SQLITE_DONE, or the step's error for cli_step_error.
 */
int
cli_list_print(struct cli_ctx *ctx, const struct cli_opts *o,
    sqlite3_stmt *stmt, const struct cli_list *l)
{
	struct cli_table	 t;
	json_t			*arr;
	char			 b[128];
	size_t			 i;
	int			 rc;

	switch (o->fmt) {
	case CLI_FMT_JSON:
		arr = cli_json_new(json_array());
		while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
			if (json_array_append_new(arr, cli_json_pick(stmt,
			    l->fields, l->members, l->nmembers)) == -1)
				fatalx("jansson: out of memory");
		if (rc == SQLITE_DONE)
			cli_json_print(arr);
		json_decref(arr);
		return rc;
	case CLI_FMT_CSV:
		cli_csv_bom(ctx, o);
		for (i = 0; i < l->nmembers; i++)
			cli_csv_field(l->fields[l->members != NULL ?
			    l->members[i] : i].name, i == 0);
		printf("\r\n");
		while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
			cli_csv_pick(stmt, l->fields, l->members, l->nmembers);
			printf("\r\n");
		}
		return rc;
	default:
		break;
	}
	cli_table_init(&t, l->cols, l->ncols, 1, ctx->utf8);
	t.paint = l->paint;
	t.colour = l->paint != NULL && cli_tty();
	t.maxwidth = cli_term_width();
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		for (i = 0; i < t.ncols; i++)
			cli_table_add(&t, l->cell != NULL ? l->cell(l->arg,
			    stmt, &t.cols[i], b, sizeof(b)) : cli_cell(stmt,
			    &t.cols[i], b, sizeof(b)));
	if (rc == SQLITE_DONE && t.ncells == t.ncols)
		printf("%s\n", l->empty);
	else if (rc == SQLITE_DONE) {
		if (l->heading != NULL)
			printf("%s\n", l->heading);
		else
			printf("times in %s\n", ctx->tz);
		cli_table_print(&t, 0);
	}
	cli_table_free(&t);
	return rc;
}

/* Colours and fitting to the width are for a person at a terminal. */
int
cli_tty(void)
{
	const char	*term = getenv("TERM");

	return isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL &&
	    (term == NULL || strcmp(term, "dumb") != 0);
}

/* The terminal's columns; 0 (no limit) when stdout is not one. */
size_t
cli_term_width(void)
{
	struct winsize	 ws;
	const char	*s;
	long		 n;

	if (!isatty(STDOUT_FILENO))
		return 0;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	if ((s = getenv("COLUMNS")) != NULL && (n = strtol(s, NULL, 10)) > 0)
		return (size_t)n;
	return 80;
}

void
cli_table_add(struct cli_table *t, const char *s)
{
	t->cells = xrealloc(t->cells, (t->ncells + 1) * sizeof(*t->cells));
	t->cells[t->ncells++] = text_mend(s, 1, t->utf8);
}

void
cli_table_init(struct cli_table *t, const struct cli_column *cols,
    size_t ncols, int header, int utf8)
{
	size_t	 c;

	memset(t, 0, sizeof(*t));
	t->cols = cols;
	t->ncols = ncols;
	t->utf8 = utf8;
	for (c = 0; header && c < ncols; c++)
		cli_table_add(t, cols[c].title);
}

/* Columns on screen, hidden ones (width 0, drop set) left out. */
static size_t
cli_table_total(const struct cli_table *t, const size_t *w,
    const int *hide, int indent)
{
	size_t	 total = (size_t)indent, c, shown = 0;

	for (c = 0; c < t->ncols; c++) {
		if (hide[c])
			continue;
		total += w[c];
		shown++;
	}
	return total + (shown > 0 ? 2 * (shown - 1) : 0);
}

/*
 * Too wide for the terminal: the widest text column gives up a column at
 * a time (down to 8), its cells cut with an ellipsis.  Numbers and times
 * are never cut.
 */
static void
cli_table_fit(const struct cli_table *t, size_t *w, const int *hide,
    int indent)
{
	size_t	 c, widest;

	while (cli_table_total(t, w, hide, indent) > t->maxwidth) {
		widest = t->ncols;
		for (c = 0; c < t->ncols; c++) {
			if (hide[c] || t->cols[c].how != CLI_SHOW_TEXT ||
			    w[c] <= 8)
				continue;
			if (widest == t->ncols || w[c] > w[widest])
				widest = c;
		}
		if (widest == t->ncols)
			return;
		w[widest]--;
	}
}

/*
 * Times lose their year and seconds ("11-26 09:26"), 8 columns each.
 */
static void
cli_table_short_times(const struct cli_table *t, size_t *w)
{
	size_t	 i, c;
	char	*s;

	for (i = t->ncols; i < t->ncells; i++) {
		c = i % t->ncols;
		s = t->cells[i];
		if (t->cols[c].how != CLI_SHOW_TIME || strlen(s) != 19 ||
		    s[4] != '-' || s[10] != ' ')
			continue;
		memmove(s, s + 5, 11);
		s[11] = '\0';
	}
	for (c = 0; c < t->ncols; c++) {
		if (t->cols[c].how != CLI_SHOW_TIME)
			continue;
		w[c] = 0;
		for (i = c; i < t->ncells; i += t->ncols)
			if (text_width(t->cells[i], t->utf8) > w[c])
				w[c] = text_width(t->cells[i], t->utf8);
	}
}

/* Last, the columns that may go (drop 1, 2... : the highest first). */
static void
cli_table_drop(const struct cli_table *t, size_t *w, int *hide, int indent)
{
	size_t	 c, worst;

	while (cli_table_total(t, w, hide, indent) > t->maxwidth) {
		worst = t->ncols;
		for (c = 0; c < t->ncols; c++) {
			if (hide[c] || t->cols[c].drop == 0)
				continue;
			if (worst == t->ncols ||
			    t->cols[c].drop > t->cols[worst].drop)
				worst = c;
		}
		if (worst == t->ncols)
			return;
		hide[worst] = 1;
		cli_table_fit(t, w, hide, indent);
	}
}

/*
 * After columns were dropped, the text columns cut before are given
 * their whole width back and cut again only as far as still needed.
 */
static void
cli_table_regrow(const struct cli_table *t, size_t *w, const int *hide,
    int indent)
{
	size_t	 i, c, cw;

	if (t->ncols == 0)
		return;
	for (c = 0; c < t->ncols; c++)
		if (!hide[c] && t->cols[c].how == CLI_SHOW_TEXT)
			w[c] = 0;
	for (i = 0; i < t->ncells; i++) {
		c = i % t->ncols;
		if (hide[c] || t->cols[c].how != CLI_SHOW_TEXT)
			continue;
		if ((cw = text_width(t->cells[i], t->utf8)) > w[c])
			w[c] = cw;
	}
	cli_table_fit(t, w, hide, indent);
}

/* Nothing shown after column c: no padding after it. */
static int
cli_table_last_shown(const struct cli_table *t, const int *hide, size_t c)
{
	for (c++; c < t->ncols; c++)
		if (!hide[c])
			return 0;
	return 1;
}

void
cli_table_print(const struct cli_table *t, int indent)
{
	const char	*sgr;
	char		*cut;
	size_t		*w, i, c, cw, pad;
	int		*hide, first;

	if (t->ncols == 0)
		return;
	w = xcalloc(t->ncols, sizeof(*w));
	hide = xcalloc(t->ncols, sizeof(*hide));
	for (i = 0; i < t->ncells; i++) {
		if ((cw = text_width(t->cells[i], t->utf8)) > w[i % t->ncols])
			w[i % t->ncols] = cw;
	}
	/*
	 * Too wide: times lose their year and seconds before any name is
	 * cut; then names are cut and columns dropped; then the names get
	 * back what the dropped columns left.
	 */
	if (t->maxwidth > 0 && cli_table_total(t, w, hide, indent) >
	    t->maxwidth) {
		cli_table_short_times(t, w);
		cli_table_fit(t, w, hide, indent);
		cli_table_drop(t, w, hide, indent);
		cli_table_regrow(t, w, hide, indent);
	}
	first = 1;
	for (i = 0; i < t->ncells; i++) {
		c = i % t->ncols;
		if (hide[c]) {
			if (c + 1 == t->ncols) {
				printf("\n");
				first = 1;
			}
			continue;
		}
		cut = text_truncate(t->cells[i], w[c], t->utf8);
		pad = w[c] - text_width(cut, t->utf8);
		sgr = t->colour && t->paint != NULL && i >= t->ncols ?
		    t->paint(c, t->cells[i]) : NULL;
		printf("%*s", first ? indent : 2, "");
		first = 0;
		if (t->cols[c].how == CLI_SHOW_NUM)
			printf("%*s", (int)pad, "");
		printf("%s%s%s", sgr != NULL ? sgr : "", cut,
		    sgr != NULL ? "\033[0m" : "");
		if (c + 1 == t->ncols) {
			printf("\n");
			first = 1;
		} else if (t->cols[c].how != CLI_SHOW_NUM &&
		    !cli_table_last_shown(t, hide, c))
			printf("%*s", (int)pad, "");
		free(cut);
	}
	free(hide);
	free(w);
}

void
cli_table_free(struct cli_table *t)
{
	size_t	 i;

	for (i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
}

/* getopt sets optopt for a short option, and for a long one leaves 0. */
static const char *
cli_optname(char **argv, char *buf, size_t len)
{
	if (optopt == 0)
		return argv[optind - 1];
	snprintf(buf, len, "-%c", optopt);
	return buf;
}

/* A real day of the calendar: 2026-02-31 is not one. */
static int
cli_valid_date(int y, int mo, int d)
{
	struct tm	 tm;
	time_t		 t;

	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31)
		return 0;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	t = timegm(&tm);
	return gmtime_r(&t, &tm) != NULL && tm.tm_mday == d &&
	    tm.tm_mon == mo - 1;
}

/*
 * A date or time in --tz: "YYYY-MM-DD" (its midnight, or the next one for
 * an end: --to is inclusive of its day), "YYYY-MM" (the month), or a full
 * ISO 8601 time, "Z" or "+08:00" for its zone, local without one.
 */
static int
cli_parse_when(const char *s, int end, int64_t *out)
{
	struct tm	 tm;
	time_t		 t;
	int		 n = 0, y, mo, d = 1, h = 0, mi = 0, sec = 0, oh, om;
	int		 date_only = 0, month_only = 0, ms = 0;
	char		 sign;
	int64_t		 off = 0, v;

	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) == 3 && s[n] == '\0')
		date_only = 1;
	else if (sscanf(s, "%4d-%2d%n", &y, &mo, &n) == 2 && s[n] == '\0')
		month_only = 1;
	else if (time_parse(s, &v) == 0) {
		*out = v;
		return 0;
	} else if (sscanf(s, "%4d-%2d-%2dT%2d:%2d%n", &y, &mo, &d, &h, &mi,
	    &n) == 5) {
		s += n;
		if (*s == ':' && sscanf(s, ":%2d%n", &sec, &n) == 1)
			s += n;
		if (*s == '.') {
			for (s++, n = 0; *s >= '0' && *s <= '9'; s++, n++)
				if (n < 3)
					ms = ms * 10 + *s - '0';
			for (; n < 3; n++)
				ms *= 10;
		}
		if (*s == 'Z' && s[1] == '\0') {
			sign = 'Z';
		} else if ((*s == '+' || *s == '-') && sscanf(s + 1,
		    "%2d:%2d%n", &oh, &om, &n) == 2 && s[1 + n] == '\0' &&
		    oh >= 0 && oh <= 23 && om >= 0 && om <= 59) {
			sign = *s;
			off = ((int64_t)oh * 60 + om) * 60000;
			if (sign == '+')
				off = -off;
		} else if (*s == '\0')
			sign = 0;
		else
			return -1;
		memset(&tm, 0, sizeof(tm));
		tm.tm_year = y - 1900;
		tm.tm_mon = mo - 1;
		tm.tm_mday = d;
		tm.tm_hour = h;
		tm.tm_min = mi;
		tm.tm_sec = sec;
		if (!cli_valid_date(y, mo, d) || h < 0 || h > 23 || mi < 0 ||
		    mi > 59 || sec < 0 || sec > 60)
			return -1;
		if (sign == 0) {
			tm.tm_isdst = -1;
			if ((t = mktime(&tm)) == (time_t)-1)
				return -1;
		} else
			t = timegm(&tm);
		*out = (int64_t)t * 1000 + ms + off;
		return 0;
	} else
		return -1;
	if (!cli_valid_date(y, mo, d))
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1 + (end && month_only);
	tm.tm_mday = d + (end && date_only);
	tm.tm_isdst = -1;
	if ((t = mktime(&tm)) == (time_t)-1)
		return -1;
	*out = (int64_t)t * 1000;
	return 0;
}

/*
 * A moment a person gives for a step (reported --at): a full time, read
 * as --from reads one ("Z", "+08:00" or local in --tz), never a bare
 * date, which would silently mean its midnight.
 */
int
cli_parse_time(const char *s, int64_t *out)
{
	if (strchr(s, 'T') == NULL)
		return -1;
	return cli_parse_when(s, 0, out);
}

/* "90d", "12h", "30m", "45s" or a number of days. */
static int
cli_parse_window(const char *s, int64_t *ms)
{
	static const struct {
		char	 unit;
		int64_t	 ms;
	} units[] = {
		{ 'd', CLI_DAY_MS }, { 'h', 3600000 }, { 'm', 60000 },
		{ 's', 1000 },
	};
	char		*end;
	long long	 n;
	size_t		 i;

	errno = 0;
	n = strtoll(s, &end, 10);
	if (end == s || n <= 0 || errno == ERANGE || n > 100000)
		return -1;
	if (*end == '\0') {
		*ms = n * CLI_DAY_MS;
		return 0;
	}
	for (i = 0; i < CLI_NITEMS(units); i++) {
		if (end[0] == units[i].unit && end[1] == '\0') {
			*ms = n * units[i].ms;
			return 0;
		}
	}
	return -1;
}

/*
 * ARG, the value of --OPT, is one of the N in SET; else a usage error
 * that lists them ("--kind is outage, warning, manual or drill, not x").
 */
static int
cli_one_of(const struct cli_ctx *ctx, const char *opt, const char *arg,
    const char *const *set, size_t n)
{
	char	 list[128] = "";
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(arg, set[i]) == 0)
			return 0;
	for (i = 0; i < n; i++) {
		if (i > 0)
			strncat(list, i + 1 == n ? " or " : ", ",
			    sizeof(list) - strlen(list) - 1);
		strncat(list, set[i], sizeof(list) - strlen(list) - 1);
	}
	return cli_usage_error(ctx->cmd, "%s: --%s is %s, not %s",
	    ctx->cmd->name, opt, list, arg);
}

/*
 * The command's options and operands, as its entry of the table says.
 * Dates need the zone, so --tz is applied first; the defaults are the
 * first format allowed, Traditional Chinese, and recurring as 3
 * incidents of a system within 90 days, any category.
 */
int
cli_options(struct cli_ctx *ctx, int argc, char **argv, struct cli_opts *o)
{
	const char	*name = ctx->cmd->name;
	unsigned int	 mask = ctx->cmd->opts, formats = ctx->cmd->formats;
	char		 buf[8], *end;
	size_t		 i;
	long		 n;
	int		 ch, opt;

	o->fmt = CLI_FMT_TABLE;
	for (i = 0; i < CLI_NITEMS(cli_formats); i++) {
		if (formats & CLI_FMT(cli_formats[i].fmt)) {
			o->fmt = cli_formats[i].fmt;
			break;
		}
	}
	o->recur.count = 3;
	o->recur.window_ms = 90 * CLI_DAY_MS;
	if (cli_tz_set(ctx) == -1)
		return CLI_EXIT_USAGE;

	optind = 0;	/* glibc: start again, at argv[1] */
	while ((ch = getopt_long(argc, argv, ":", cli_longopts, NULL)) != -1) {
		if (ch == ':')
			return cli_usage_error(ctx->cmd, "%s: option %s needs "
			    "an argument", name, argv[optind - 1]);
		opt = ch - 256;
		if (ch < 256 || !(mask & CLI_O(opt)))
			return cli_usage_error(ctx->cmd, "%s: unknown option "
			    "%s", name, ch < 256 ? cli_optname(argv, buf,
			    sizeof(buf)) : argv[optind - 1]);
		switch (opt) {
		case CLI_O_FORMAT:
			for (i = 0; i < CLI_NITEMS(cli_formats); i++) {
				if ((formats & CLI_FMT(cli_formats[i].fmt)) &&
				    strcmp(optarg, cli_formats[i].name) == 0)
					break;
			}
			if (i == CLI_NITEMS(cli_formats))
				return cli_usage_error(ctx->cmd, "%s: unknown "
				    "format %s", name, optarg);
			o->fmt = cli_formats[i].fmt;
			break;
		case CLI_O_FROM:
		case CLI_O_TO:
		case CLI_O_MONTH:
			if ((opt == CLI_O_MONTH && strlen(optarg) != 7) ||
			    cli_parse_when(optarg, 0, opt == CLI_O_TO ?
			    &o->to : &o->from) == -1 || (opt != CLI_O_FROM &&
			    cli_parse_when(optarg, 1, &o->to) == -1))
				return cli_usage_error(ctx->cmd, "%s: bad --%s "
				    "%s (%s)", name, cli_longopts[opt].name,
				    optarg, opt == CLI_O_MONTH ? "YYYY-MM" :
				    "YYYY-MM-DD, or an ISO 8601 time");
			if (opt == CLI_O_TO)
				o->to_arg = optarg;
			else
				o->from_arg = optarg;
			break;
		case CLI_O_LEVEL:
			n = strtol(optarg, &end, 10);
			if (*end != '\0' || n < 1 || n > 4)
				return cli_usage_error(ctx->cmd, "%s: --level "
				    "is 1 to 4, not %s", name, optarg);
			o->level = (int)n;
			break;
		case CLI_O_SYSTEM:
			o->system = optarg;
			break;
		case CLI_O_STATUS:
			if (cli_one_of(ctx, "status", optarg, cli_statuses,
			    CLI_NITEMS(cli_statuses)) != 0)
				return CLI_EXIT_USAGE;
			o->status = optarg;
			break;
		case CLI_O_KIND:
			if (cli_one_of(ctx, "kind", optarg, cli_kinds,
			    CLI_NITEMS(cli_kinds)) != 0)
				return CLI_EXIT_USAGE;
			o->kind = optarg;
			break;
		case CLI_O_MAJOR:
			o->major = 1;
			break;
		case CLI_O_OVERDUE:
			o->overdue = 1;
			break;
		case CLI_O_LANG:
			if (strcmp(optarg, "zh-TW") != 0 &&
			    strcmp(optarg, "en") != 0)
				return cli_usage_error(ctx->cmd, "%s: --lang "
				    "is zh-TW or en, not %s", name, optarg);
			o->en = strcmp(optarg, "en") == 0;
			break;
		case CLI_O_RECUR_COUNT:
			n = strtol(optarg, &end, 10);
			if (*end != '\0' || n < 2 || n > 1000)
				return cli_usage_error(ctx->cmd, "%s: "
				    "--recur-count is 2 to 1000, not %s",
				    name, optarg);
			o->recur.count = (int)n;
			break;
		case CLI_O_RECUR_WINDOW:
			if (cli_parse_window(optarg, &o->recur.window_ms) ==
			    -1)
				return cli_usage_error(ctx->cmd, "%s: bad "
				    "--recur-window %s (90d, 12h...)", name,
				    optarg);
			break;
		case CLI_O_RECUR_BY:
			if (strcmp(optarg, "category") != 0 &&
			    strcmp(optarg, "any") != 0)
				return cli_usage_error(ctx->cmd, "%s: "
				    "--recur-by is category or any, not %s",
				    name, optarg);
			o->recur.same_category = strcmp(optarg,
			    "category") == 0;
			break;
		case CLI_O_HEAD:
			if (strlen(optarg) != CHAIN_HEXLEN ||
			    strspn(optarg, "0123456789abcdef") !=
			    CHAIN_HEXLEN)
				return cli_usage_error(ctx->cmd, "%s: --head "
				    "is a chain head, 64 hex digits", name);
			o->head = optarg;
			break;
		case CLI_O_INCLUDE_DRILLS:
			o->include_drills = 1;
			break;
		case CLI_O_CHECK:
			o->check = optarg;
			break;
		case CLI_O_FORCE:
			o->force = 1;
			break;
		case CLI_O_ALL:
			o->all = 1;
			break;
		case CLI_O_BOM:
		case CLI_O_NO_BOM:
			o->bom = opt == CLI_O_BOM ? 1 : -1;
			break;
		case CLI_O_STATE:
			if (cli_one_of(ctx, "state", optarg,
			    cli_warning_states,
			    CLI_NITEMS(cli_warning_states)) != 0)
				return CLI_EXIT_USAGE;
			o->state = optarg;
			break;
		case CLI_O_DB:
			ctx->db_path = optarg;
			break;
		default:
			fatalx("%s: option %d", __func__, opt);
		}
	}
	if (o->from != 0 && o->to != 0 && o->to <= o->from)
		return cli_usage_error(ctx->cmd, "%s: --to is not after "
		    "--from", name);
	switch (ctx->cmd->args) {
	case CLI_ARGS_NONE:
		if (optind < argc)
			return cli_usage_error(ctx->cmd, "%s: unexpected "
			    "argument %s", name, argv[optind]);
		break;
	case CLI_ARGS_ID:
		if (optind == argc)
			return cli_usage_error(ctx->cmd, "%s: missing incident "
			    "ID", name);
		if (optind + 1 < argc)
			return cli_usage_error(ctx->cmd, "%s: unexpected "
			    "argument %s", name, argv[optind + 1]);
		return cli_parse_id(ctx, argv[optind], &o->id);
	case CLI_ARGS_SYSTEM:
		if (optind == argc)
			return cli_usage_error(ctx->cmd, "%s: missing system",
			    name);
		if (optind + 1 < argc)
			return cli_usage_error(ctx->cmd, "%s: unexpected "
			    "argument %s", name, argv[optind + 1]);
		o->operand = argv[optind];
		break;
	case CLI_ARGS_FILE:
		if (optind == argc || *argv[optind] == '\0')
			return cli_usage_error(ctx->cmd, "%s: missing file "
			    "name", name);
		if (optind + 1 < argc)
			return cli_usage_error(ctx->cmd, "%s: unexpected "
			    "argument %s", name, argv[optind + 1]);
		o->file = argv[optind];
		break;
	}
	return CLI_EXIT_OK;
}

/*
 * The month before this one in --tz (TZ is set): "YYYY-MM" into BUF and
 * its bounds, for a monthly form asked for without --month.
 */
int
cli_last_month(char *buf, size_t len, int64_t *from, int64_t *to)
{
	struct tm	 tm;
	time_t		 now = time(NULL);
	int		 y, m;

	if (localtime_r(&now, &tm) == NULL)
		return -1;
	y = tm.tm_year + 1900;
	m = tm.tm_mon;			/* last month, 1-12; 0 is December */
	if (m == 0) {
		m = 12;
		y--;
	}
	snprintf(buf, len, "%04d-%02d", y, m);
	if (cli_parse_when(buf, 0, from) == -1 ||
	    cli_parse_when(buf, 1, to) == -1)
		return -1;
	return 0;
}

int
cli_parse_id(struct cli_ctx *ctx, const char *arg, int64_t *id)
{
	long long	 v;

	errno = 0;
	if (*arg == '\0' || strspn(arg, "0123456789") != strlen(arg) ||
	    ((v = strtoll(arg, NULL, 10)) == LLONG_MAX && errno == ERANGE))
		return cli_usage_error(ctx->cmd, "%s: bad incident ID %s",
		    ctx->cmd->name, arg);
	*id = v;
	return 0;
}
