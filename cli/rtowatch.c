/*
 * rtowatch.c: the operators' and auditors' tool.
 *
 * It reads the daemon's database directly and only ever read-only (a URI
 * with mode=ro), so an auditor can run it against a live file or a copy
 * without changing a byte.  JSON and CSV carry the stored UTC times as
 * they are; the table and the text of show display them in --tz.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "ctl.h"
#include "log.h"
#include "util.h"
#include "warnings.h"

#define CLI_VERSION	"0.1.0"
#define CLI_DB_DEFAULT	"/var/lib/rtowatch/rtowatch.db"
#define CLI_TZ_DEFAULT	"Asia/Taipei"

/*
 * The schema versions whose tables and columns this file reads.  Raise the
 * maximum only after checking the queries against the new migration.
 */
#define CLI_SCHEMA_MIN	1
#define CLI_SCHEMA_MAX	1

#define CLI_EXIT_OK	0
#define CLI_EXIT_ERR	1
#define CLI_EXIT_USAGE	2

#define CLI_NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

struct cli_ctx {
	const char		*db_path;
	const char		*tz;
	const struct cli_cmd	*cmd;
	sqlite3			*db;
	int			 utf8;	/* the locale's charset */
};

static int	cli_incidents(struct cli_ctx *, int, char **);
static int	cli_show(struct cli_ctx *, int, char **);

static const struct cli_cmd {
	const char	*name;
	const char	*usage;
	int		(*exec)(struct cli_ctx *, int, char **);
} cli_cmds[] = {
	{ .name = "incidents", .usage = "[--format table|json|csv]",
	  .exec = cli_incidents },
	{ .name = "show", .usage = "ID [--format text|json]",
	  .exec = cli_show },
};

enum cli_format {
	CLI_FMT_TABLE,
	CLI_FMT_TEXT,
	CLI_FMT_JSON,
	CLI_FMT_CSV,
};
#define CLI_FMT(f)	(1U << (f))

static const struct cli_format_name {
	const char	*name;
	enum cli_format	 fmt;
} cli_formats[] = {
	{ .name = "table", .fmt = CLI_FMT_TABLE },
	{ .name = "text", .fmt = CLI_FMT_TEXT },
	{ .name = "json", .fmt = CLI_FMT_JSON },
	{ .name = "csv", .fmt = CLI_FMT_CSV },
};

/* How a column goes to JSON and CSV; times are TEXT, passed through. */
enum cli_type {
	CLI_INT,
	CLI_BOOL,
	CLI_TEXT,
};

/* One table drives the SELECT, the JSON keys and the CSV header. */
struct cli_field {
	const char	*name;
	const char	*sql;
	enum cli_type	 type;
};

enum {
	CLI_I_ID, CLI_I_KIND, CLI_I_SYSTEM, CLI_I_OWNER, CLI_I_LEVEL,
	CLI_I_AVAILABILITY, CLI_I_MAJOR, CLI_I_STATUS, CLI_I_CORE,
	CLI_I_CRITICAL, CLI_I_RTO_SECONDS, CLI_I_RTO_MS, CLI_I_CAUSE,
	CLI_I_STARTED, CLI_I_OPENED, CLI_I_NOTIFY_DUE, CLI_I_RESTORE_DUE,
	CLI_I_RESTORED, CLI_I_WITHIN_RTO, CLI_I_CLOSED, CLI_I_COUNT
};

static const struct cli_field cli_incident_fields[CLI_I_COUNT] = {
	[CLI_I_ID] = { "id", "id", CLI_INT },
	[CLI_I_KIND] = { "kind", "kind", CLI_TEXT },
	[CLI_I_SYSTEM] = { "system", "system", CLI_TEXT },
	[CLI_I_OWNER] = { "owner", "owner", CLI_TEXT },
	[CLI_I_LEVEL] = { "level", "level", CLI_INT },
	[CLI_I_AVAILABILITY] = { "availability_level", "availability_level",
	    CLI_INT },
	[CLI_I_MAJOR] = { "major", "major", CLI_BOOL },
	[CLI_I_STATUS] = { "status", "status", CLI_TEXT },
	[CLI_I_CORE] = { "core", "core", CLI_BOOL },
	[CLI_I_CRITICAL] = { "critical_infrastructure",
	    "critical_infrastructure", CLI_BOOL },
	[CLI_I_RTO_SECONDS] = { "rto_seconds", "rto_ms / 1000", CLI_INT },
	[CLI_I_RTO_MS] = { "rto_ms", "rto_ms", CLI_INT },
	[CLI_I_CAUSE] = { "cause", "cause", CLI_TEXT },
	[CLI_I_STARTED] = { "started_at", "started_at", CLI_TEXT },
	[CLI_I_OPENED] = { "opened_at", "opened_at", CLI_TEXT },
	[CLI_I_NOTIFY_DUE] = { "notify_due_at", "notify_due_at", CLI_TEXT },
	[CLI_I_RESTORE_DUE] = { "restore_due_at", "restore_due_at",
	    CLI_TEXT },
	[CLI_I_RESTORED] = { "restored_at", "restored_at", CLI_TEXT },
	[CLI_I_WITHIN_RTO] = { "within_rto", "within_rto", CLI_BOOL },
	[CLI_I_CLOSED] = { "closed_at", "closed_at", CLI_TEXT },
};

enum {
	CLI_T_ID, CLI_T_AT, CLI_T_EVENT, CLI_T_ACTOR, CLI_T_DETAIL, CLI_T_COUNT
};

static const struct cli_field cli_timeline_fields[CLI_T_COUNT] = {
	[CLI_T_ID] = { "id", "id", CLI_INT },
	[CLI_T_AT] = { "at", "at", CLI_TEXT },
	[CLI_T_EVENT] = { "event", "event", CLI_TEXT },
	[CLI_T_ACTOR] = { "actor", "actor", CLI_TEXT },
	[CLI_T_DETAIL] = { "detail", "detail", CLI_TEXT },
};

/* How a column is shown to people; all are "-" when NULL. */
enum cli_show {
	CLI_SHOW_TEXT,
	CLI_SHOW_NUM,		/* right-aligned in a table */
	CLI_SHOW_TIME,		/* in the --tz zone, to the second */
	CLI_SHOW_YESNO,
	CLI_SHOW_CLASS,		/* general or major */
	CLI_SHOW_DURATION,
};

struct cli_column {
	const char	*title;
	int		 field;
	enum cli_show	 how;
};

static const struct cli_column cli_incident_cols[] = {
	{ "ID", CLI_I_ID, CLI_SHOW_NUM },
	{ "SYSTEM", CLI_I_SYSTEM, CLI_SHOW_TEXT },
	{ "LEVEL", CLI_I_LEVEL, CLI_SHOW_NUM },
	{ "CLASS", CLI_I_MAJOR, CLI_SHOW_CLASS },
	{ "STATUS", CLI_I_STATUS, CLI_SHOW_TEXT },
	{ "STARTED", CLI_I_STARTED, CLI_SHOW_TIME },
	{ "OPENED", CLI_I_OPENED, CLI_SHOW_TIME },
	{ "NOTIFY DUE", CLI_I_NOTIFY_DUE, CLI_SHOW_TIME },
	{ "RESTORED", CLI_I_RESTORED, CLI_SHOW_TIME },
};

/* Every column of an incident, for show. */
static const struct cli_column cli_show_lines[] = {
	{ "id:", CLI_I_ID, CLI_SHOW_TEXT },
	{ "system:", CLI_I_SYSTEM, CLI_SHOW_TEXT },
	{ "kind:", CLI_I_KIND, CLI_SHOW_TEXT },
	{ "level:", CLI_I_LEVEL, CLI_SHOW_TEXT },
	{ "availability level:", CLI_I_AVAILABILITY, CLI_SHOW_TEXT },
	{ "class:", CLI_I_MAJOR, CLI_SHOW_CLASS },
	{ "status:", CLI_I_STATUS, CLI_SHOW_TEXT },
	{ "owner:", CLI_I_OWNER, CLI_SHOW_TEXT },
	{ "core:", CLI_I_CORE, CLI_SHOW_YESNO },
	{ "critical infrastructure:", CLI_I_CRITICAL, CLI_SHOW_YESNO },
	{ "rto:", CLI_I_RTO_MS, CLI_SHOW_DURATION },
	{ "cause:", CLI_I_CAUSE, CLI_SHOW_TEXT },
	{ "started:", CLI_I_STARTED, CLI_SHOW_TIME },
	{ "opened:", CLI_I_OPENED, CLI_SHOW_TIME },
	{ "notify due:", CLI_I_NOTIFY_DUE, CLI_SHOW_TIME },
	{ "restore due:", CLI_I_RESTORE_DUE, CLI_SHOW_TIME },
	{ "restored:", CLI_I_RESTORED, CLI_SHOW_TIME },
	{ "within rto:", CLI_I_WITHIN_RTO, CLI_SHOW_YESNO },
	{ "closed:", CLI_I_CLOSED, CLI_SHOW_TIME },
};

static const struct cli_column cli_timeline_cols[] = {
	{ "AT", CLI_T_AT, CLI_SHOW_TIME },
	{ "EVENT", CLI_T_EVENT, CLI_SHOW_TEXT },
	{ "ACTOR", CLI_T_ACTOR, CLI_SHOW_TEXT },
	{ "DETAIL", CLI_T_DETAIL, CLI_SHOW_TEXT },
};

/* Cells are collected first: a column's width is known only at the end. */
struct cli_table {
	const struct cli_column	*cols;
	size_t			 ncols;
	char			**cells;	/* row after row, mended */
	size_t			 ncells;
	int			 utf8;
};

static void __attribute__((format(printf, 1, 0)))
cli_vwarnx(const char *fmt, va_list ap)
{
	fprintf(stderr, "rtowatch: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
}

static void __attribute__((format(printf, 1, 2)))
cli_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	cli_vwarnx(fmt, ap);
	va_end(ap);
}

/* Every command's usage line, or only one command's. */
static void
cli_usage(FILE *f, const struct cli_cmd *only)
{
	const char	*lead = "usage:";
	size_t		 i;

	for (i = 0; i < CLI_NITEMS(cli_cmds); i++) {
		if (only != NULL && only != &cli_cmds[i])
			continue;
		fprintf(f, "%s rtowatch [--db FILE] [--tz ZONE] %s %s\n", lead,
		    cli_cmds[i].name, cli_cmds[i].usage);
		lead = "      ";
	}
	if (only == NULL) {
		ctl_usage(f);
		fprintf(f, "       rtowatch --help | --version\n");
	}
}

static int __attribute__((format(printf, 2, 3)))
cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	cli_vwarnx(fmt, ap);
	va_end(ap);
	cli_usage(stderr, cmd);
	return CLI_EXIT_USAGE;
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

/* Length of the valid UTF-8 sequence at s (RFC 3629), or 0. */
static size_t
cli_utf8_seq(const unsigned char *s, uint32_t *cp)
{
	static const uint32_t	 min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t			 i, n;

	n = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 ? 2 :
	    (s[0] & 0xf0) == 0xe0 ? 3 : (s[0] & 0xf8) == 0xf0 ? 4 : 0;
	if (n == 0)
		return 0;
	*cp = n == 1 ? s[0] : s[0] & (0x7fU >> n);
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (s[i] & 0x3f);
	}
	if (*cp < min[n] || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return n;
}

/*
 * Text as it can be printed.  For a terminal (term) control characters
 * (C0, DEL, C1) are escaped, never sent: a cause can hold a remote
 * server's words.  Invalid UTF-8 becomes U+FFFD for JSON, \xNN on a UTF-8
 * terminal, and stays as it is for any other charset.
 */
static char *
cli_mend(const char *s, int term, int utf8)
{
	const unsigned char	*p = (const unsigned char *)s;
	char			*out, *o;
	uint32_t		 c;
	size_t			 n;

	o = out = xmalloc(4 * strlen(s) + 1);
	for (; *p != '\0'; p += n) {
		if ((n = cli_utf8_seq(p, &c)) == 0) {
			n = 1;
			if (!term)
				o = stpcpy(o, "\xef\xbf\xbd");
			else if (utf8)
				o += sprintf(o, "\\x%02x", *p);
			else
				*o++ = (char)*p;
		} else if (term && (c < 0x20 || c == 0x7f ||
		    (c >= 0x80 && c < 0xa0))) {
			if (c == '\n' || c == '\t')
				o += sprintf(o, "\\%c", c == '\n' ? 'n' : 't');
			else
				o += sprintf(o, "\\x%02x", (unsigned int)c);
		} else {
			memcpy(o, p, n);
			o += n;
		}
	}
	*o = '\0';
	return out;
}

/* Columns on screen; bytes when the locale cannot tell. */
static size_t
cli_width(const char *s, int utf8)
{
	wchar_t	*ws;
	size_t	 n, i, w = 0;
	int	 cw;

	if (!utf8 || (n = mbstowcs(NULL, s, 0)) == (size_t)-1)
		return strlen(s);
	ws = xcalloc(n + 1, sizeof(*ws));
	mbstowcs(ws, s, n + 1);
	for (i = 0; i < n; i++)
		w += (cw = wcwidth(ws[i])) < 0 ? 1 : (size_t)cw;
	free(ws);
	return w;
}

static void
cli_table_add(struct cli_table *t, const char *s)
{
	t->cells = xrealloc(t->cells, (t->ncells + 1) * sizeof(*t->cells));
	t->cells[t->ncells++] = cli_mend(s, 1, t->utf8);
}

static void
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

static void
cli_table_print(const struct cli_table *t, int indent)
{
	size_t	*w, i, c, cw, pad;

	if (t->ncols == 0)
		return;
	w = xcalloc(t->ncols, sizeof(*w));
	for (i = 0; i < t->ncells; i++) {
		if ((cw = cli_width(t->cells[i], t->utf8)) > w[i % t->ncols])
			w[i % t->ncols] = cw;
	}
	for (i = 0; i < t->ncells; i++) {
		c = i % t->ncols;
		pad = w[c] - cli_width(t->cells[i], t->utf8);
		printf("%*s", c == 0 ? indent : 2, "");
		if (t->cols[c].how == CLI_SHOW_NUM)
			printf("%*s", (int)pad, "");
		printf("%s", t->cells[i]);
		if (c + 1 == t->ncols)
			printf("\n");
		else if (t->cols[c].how != CLI_SHOW_NUM)
			printf("%*s", (int)pad, "");
	}
	free(w);
}

static void
cli_table_free(struct cli_table *t)
{
	size_t	 i;

	for (i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
}

/*
 * glibc shows an unknown zone as UTC under the zone's name, so the zone
 * must be UTC, name a tzdata file, or be a POSIX TZ string ("CST-8").
 */
static int
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

static const char *
cli_col_text(sqlite3_stmt *stmt, int col)
{
	return (const char *)sqlite3_column_text(stmt, col);
}

/* A column as people read it. */
static const char *
cli_cell(sqlite3_stmt *stmt, const struct cli_column *col, char *buf,
    size_t len)
{
	const char	*s = cli_col_text(stmt, col->field);
	int64_t		 v = sqlite3_column_int64(stmt, col->field);
	struct tm	 tm;
	time_t		 sec;

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
		/* What is stored, rather than nothing, if it does not parse. */
		if (time_parse(s, &v) == -1)
			return s;
		sec = (time_t)(v / 1000 - (v % 1000 < 0));
		if (localtime_r(&sec, &tm) == NULL ||
		    strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
			return s;
		return buf;
	default:
		return s;
	}
}

/*
 * The path as a URI, so that it can say mode=ro: '?', '#' and '%' are
 * escaped, and "file://" keeps a path starting "//" from naming a host.
 */
static char *
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
static int
cli_open(struct cli_ctx *ctx)
{
	struct stat	 sb;
	const char	*path = ctx->db_path;
	char		*wal;
	int		 rc, v = 0, tables = 0, nowal;

	if (stat(path, &sb) == -1 || access(path, R_OK) == -1) {
		cli_warnx("%s: cannot open database: %s", path,
		    errno == ENOENT ? "no such file" : strerror(errno));
		return -1;
	}
	if (S_ISDIR(sb.st_mode)) {
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
	if (v > CLI_SCHEMA_MAX) {
		cli_warnx("%s: schema version %d is newer than this rtowatch "
		    "reads (%d to %d)", path, v, CLI_SCHEMA_MIN,
		    CLI_SCHEMA_MAX);
		return -1;
	}
	if (v < CLI_SCHEMA_MIN || tables != 2) {
		cli_warnx("%s: not an rtowatch database (schema version %d%s)",
		    path, v, tables != 2 ? ", no incidents table" : "");
		return -1;
	}
	return 0;
}

/* "SELECT <each field's sql> FROM <table> <tail>". */
static sqlite3_stmt *
cli_select(struct cli_ctx *ctx, const struct cli_field *f, size_t n,
    const char *table, const char *tail)
{
	sqlite3_stmt	*stmt;
	char		*sql, *s;
	size_t		 i;

	sql = xstrdup("SELECT");
	for (i = 0; i < n; i++) {
		xasprintf(&s, "%s%s %s", sql, i == 0 ? "" : ",", f[i].sql);
		free(sql);
		sql = s;
	}
	xasprintf(&s, "%s FROM %s %s", sql, table, tail);
	if (sqlite3_prepare_v2(ctx->db, s, -1, &stmt, NULL) != SQLITE_OK) {
		cli_warnx("%s: %s", ctx->db_path, sqlite3_errmsg(ctx->db));
		stmt = NULL;
	}
	free(sql);
	free(s);
	return stmt;
}

/* After the last step: SQLITE_DONE, or say what went wrong (busy...). */
static int
cli_step_error(struct cli_ctx *ctx, int rc)
{
	if (rc == SQLITE_DONE)
		return 0;
	cli_warnx("%s: %s", ctx->db_path, sqlite3_errmsg(ctx->db));
	return -1;
}

static json_t *
cli_json_new(json_t *v)
{
	if (v == NULL)
		fatalx("jansson: out of memory");
	return v;
}

static json_t *
cli_json_row(sqlite3_stmt *stmt, const struct cli_field *f, size_t n)
{
	json_t	*obj, *v;
	char	*mended;
	size_t	 i;

	obj = cli_json_new(json_object());
	for (i = 0; i < n; i++) {
		if (sqlite3_column_type(stmt, (int)i) == SQLITE_NULL)
			v = json_null();
		else if (f[i].type == CLI_INT)
			v = json_integer(sqlite3_column_int64(stmt, (int)i));
		else if (f[i].type == CLI_BOOL)
			v = json_boolean(sqlite3_column_int64(stmt, (int)i));
		else if ((v = json_string(cli_col_text(stmt, (int)i))) ==
		    NULL) {
			/* jansson takes only valid UTF-8. */
			mended = cli_mend(cli_col_text(stmt, (int)i), 0, 1);
			v = json_string(mended);
			free(mended);
		}
		if (json_object_set_new(obj, f[i].name, cli_json_new(v)) == -1)
			fatalx("jansson: out of memory");
	}
	return obj;
}

static void
cli_json_print(json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	printf("\n");
}

/* RFC 4180: quoted only when it must be, quotes doubled. */
static void
cli_csv_field(const char *s, int first)
{
	if (!first)
		putchar(',');
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	for (; *s != '\0'; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}

static void
cli_csv_row(sqlite3_stmt *stmt, const struct cli_field *f, size_t n)
{
	char	 num[24];
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (sqlite3_column_type(stmt, (int)i) == SQLITE_NULL)
			cli_csv_field("", i == 0);
		else if (f[i].type == CLI_BOOL)
			cli_csv_field(sqlite3_column_int64(stmt, (int)i) ?
			    "1" : "0", i == 0);
		else if (f[i].type == CLI_INT) {
			snprintf(num, sizeof(num), "%lld",
			    (long long)sqlite3_column_int64(stmt, (int)i));
			cli_csv_field(num, i == 0);
		} else
			cli_csv_field(cli_col_text(stmt, (int)i), i == 0);
	}
	printf("\r\n");
}

/* The one option commands take so far: --format, one of formats. */
static int
cli_cmd_options(struct cli_ctx *ctx, int argc, char **argv,
    unsigned int formats, enum cli_format *fmt)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const char	*name = ctx->cmd->name;
	char		 buf[8];
	size_t		 i;
	int		 ch;

	optind = 0;	/* glibc: start again, at argv[1] */
	while ((ch = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			for (i = 0; i < CLI_NITEMS(cli_formats); i++) {
				if ((formats & CLI_FMT(cli_formats[i].fmt)) &&
				    strcmp(optarg, cli_formats[i].name) == 0)
					break;
			}
			if (i == CLI_NITEMS(cli_formats))
				return cli_usage_error(ctx->cmd, "%s: unknown "
				    "format %s", name, optarg);
			*fmt = cli_formats[i].fmt;
			break;
		case ':':
			return cli_usage_error(ctx->cmd, "%s: option %s needs "
			    "an argument", name, argv[optind - 1]);
		default:
			return cli_usage_error(ctx->cmd, "%s: unknown option "
			    "%s", name, cli_optname(argv, buf, sizeof(buf)));
		}
	}
	return CLI_EXIT_OK;
}

static int
cli_incidents(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_table	 t;
	enum cli_format		 fmt = CLI_FMT_TABLE;
	sqlite3_stmt		*stmt;
	json_t			*arr;
	char			 b[64];
	size_t			 i;
	int			 rc;

	if ((rc = cli_cmd_options(ctx, argc, argv, CLI_FMT(CLI_FMT_TABLE) |
	    CLI_FMT(CLI_FMT_JSON) | CLI_FMT(CLI_FMT_CSV), &fmt)) != 0)
		return rc;
	if (optind < argc)
		return cli_usage_error(ctx->cmd, "incidents: unexpected "
		    "argument %s", argv[optind]);
	if (fmt == CLI_FMT_TABLE && cli_tz_set(ctx) == -1)
		return CLI_EXIT_USAGE;
	if (cli_open(ctx) == -1 || (stmt = cli_select(ctx,
	    cli_incident_fields, CLI_I_COUNT, "incidents", "ORDER BY id")) ==
	    NULL)
		return CLI_EXIT_ERR;

	switch (fmt) {
	case CLI_FMT_JSON:
		arr = cli_json_new(json_array());
		while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
			if (json_array_append_new(arr, cli_json_row(stmt,
			    cli_incident_fields, CLI_I_COUNT)) == -1)
				fatalx("jansson: out of memory");
		}
		if (rc == SQLITE_DONE)
			cli_json_print(arr);
		json_decref(arr);
		break;
	case CLI_FMT_CSV:
		for (i = 0; i < CLI_I_COUNT; i++)
			cli_csv_field(cli_incident_fields[i].name, i == 0);
		printf("\r\n");
		while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
			cli_csv_row(stmt, cli_incident_fields, CLI_I_COUNT);
		break;
	default:
		cli_table_init(&t, cli_incident_cols,
		    CLI_NITEMS(cli_incident_cols), 1, ctx->utf8);
		while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
			for (i = 0; i < t.ncols; i++)
				cli_table_add(&t, cli_cell(stmt, &t.cols[i], b,
				    sizeof(b)));
		}
		if (rc == SQLITE_DONE && t.ncells == t.ncols)
			printf("no incidents\n");
		else if (rc == SQLITE_DONE) {
			printf("times in %s\n", ctx->tz);
			cli_table_print(&t, 0);
		}
		cli_table_free(&t);
		break;
	}
	sqlite3_finalize(stmt);
	return cli_step_error(ctx, rc) == -1 ? CLI_EXIT_ERR : CLI_EXIT_OK;
}

static void
cli_show_line(const char *label, const char *value, int utf8)
{
	char	*mended;

	mended = cli_mend(value, 1, utf8);
	printf("%-25s%s\n", label, mended);
	free(mended);
}

static int
cli_show_text(struct cli_ctx *ctx, sqlite3_stmt *inc, sqlite3_stmt *tl)
{
	struct cli_table	 t;
	char			 b[64];
	size_t			 i;
	int			 rc;

	printf("times in %s\n", ctx->tz);
	for (i = 0; i < CLI_NITEMS(cli_show_lines); i++)
		cli_show_line(cli_show_lines[i].title, cli_cell(inc,
		    &cli_show_lines[i], b, sizeof(b)), ctx->utf8);

	cli_table_init(&t, cli_timeline_cols, CLI_NITEMS(cli_timeline_cols),
	    0, ctx->utf8);
	while ((rc = sqlite3_step(tl)) == SQLITE_ROW) {
		for (i = 0; i < t.ncols; i++)
			cli_table_add(&t, cli_cell(tl, &t.cols[i], b,
			    sizeof(b)));
	}
	printf("timeline:\n");
	if (t.ncells == 0)
		printf("  (no events)\n");
	cli_table_print(&t, 2);
	cli_table_free(&t);
	return rc;
}

static int
cli_show_json(sqlite3_stmt *inc, sqlite3_stmt *tl)
{
	json_t	*obj, *arr;
	int	 rc;

	obj = cli_json_row(inc, cli_incident_fields, CLI_I_COUNT);
	arr = cli_json_new(json_array());
	while ((rc = sqlite3_step(tl)) == SQLITE_ROW) {
		if (json_array_append_new(arr, cli_json_row(tl,
		    cli_timeline_fields, CLI_T_COUNT)) == -1)
			fatalx("jansson: out of memory");
	}
	if (json_object_set_new(obj, "timeline", arr) == -1)
		fatalx("jansson: out of memory");
	if (rc == SQLITE_DONE)
		cli_json_print(obj);
	json_decref(obj);
	return rc;
}

static int
cli_show(struct cli_ctx *ctx, int argc, char **argv)
{
	enum cli_format	 fmt = CLI_FMT_TEXT;
	sqlite3_stmt	*inc = NULL, *tl = NULL;
	const char	*arg;
	long long	 id;
	int		 rc, status = CLI_EXIT_ERR;

	if ((rc = cli_cmd_options(ctx, argc, argv, CLI_FMT(CLI_FMT_TEXT) |
	    CLI_FMT(CLI_FMT_JSON), &fmt)) != 0)
		return rc;
	if (optind == argc)
		return cli_usage_error(ctx->cmd, "show: missing incident ID");
	if (optind + 1 < argc)
		return cli_usage_error(ctx->cmd, "show: unexpected argument %s",
		    argv[optind + 1]);
	arg = argv[optind];
	errno = 0;
	if (*arg == '\0' || strspn(arg, "0123456789") != strlen(arg) ||
	    ((id = strtoll(arg, NULL, 10)) == LLONG_MAX && errno == ERANGE))
		return cli_usage_error(ctx->cmd, "show: bad incident ID %s",
		    arg);
	if (fmt == CLI_FMT_TEXT && cli_tz_set(ctx) == -1)
		return CLI_EXIT_USAGE;
	if (cli_open(ctx) == -1)
		return CLI_EXIT_ERR;

	/* One read transaction: the incident and its timeline agree. */
	if (sqlite3_exec(ctx->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		cli_warnx("%s: %s", ctx->db_path, sqlite3_errmsg(ctx->db));
		return CLI_EXIT_ERR;
	}
	if ((inc = cli_select(ctx, cli_incident_fields, CLI_I_COUNT,
	    "incidents", "WHERE id = ?")) == NULL ||
	    (tl = cli_select(ctx, cli_timeline_fields, CLI_T_COUNT,
	    "timeline", "WHERE incident_id = ? ORDER BY id")) == NULL)
		goto done;
	sqlite3_bind_int64(inc, 1, id);
	sqlite3_bind_int64(tl, 1, id);
	if ((rc = sqlite3_step(inc)) != SQLITE_ROW) {
		if (cli_step_error(ctx, rc) == 0)
			cli_warnx("no incident %lld", id);
		goto done;
	}
	if (fmt == CLI_FMT_JSON)
		rc = cli_show_json(inc, tl);
	else
		rc = cli_show_text(ctx, inc, tl);
	if (cli_step_error(ctx, rc) == 0)
		status = CLI_EXIT_OK;
 done:
	sqlite3_finalize(tl);
	sqlite3_finalize(inc);
	sqlite3_exec(ctx->db, "COMMIT", NULL, NULL, NULL);
	return status;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "tz", required_argument, NULL, 'z' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_ctx	 ctx;
	const char	*s, *socket_path;
	char		 buf[8];
	size_t		 i;
	int		 ch, rc;

	setlocale(LC_CTYPE, "");
	memset(&ctx, 0, sizeof(ctx));
	ctx.utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	s = getenv("RTOWATCH_DB");
	ctx.db_path = s != NULL && *s != '\0' ? s : CLI_DB_DEFAULT;
	s = getenv("RTOWATCH_TZ");
	ctx.tz = s != NULL && *s != '\0' ? s : CLI_TZ_DEFAULT;
	s = getenv("RTOWATCH_SOCKET");
	socket_path = s != NULL && *s != '\0' ? s : CTL_SOCKET_DEFAULT;

	/* Ours to report; '+' stops at the command, whose options follow. */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			ctx.db_path = optarg;
			break;
		case 'z':
			ctx.tz = optarg;
			break;
		case 's':
			socket_path = optarg;
			break;
		case 'h':
			cli_usage(stdout, NULL);
			printf("\n--socket defaults to $RTOWATCH_SOCKET, "
			    "else %s\n", CTL_SOCKET_DEFAULT);
			printf("--db defaults to $RTOWATCH_DB, else %s\n"
			    "--tz defaults to $RTOWATCH_TZ, else %s; JSON and "
			    "CSV times are UTC\n", CLI_DB_DEFAULT,
			    CLI_TZ_DEFAULT);
			return CLI_EXIT_OK;
		case 'V':
			printf("rtowatch %s\n", CLI_VERSION);
			return CLI_EXIT_OK;
		case ':':
			return cli_usage_error(NULL, "option %s needs an "
			    "argument", argv[optind - 1]);
		default:
			return cli_usage_error(NULL, "unknown option %s",
			    cli_optname(argv, buf, sizeof(buf)));
		}
	}
	if (optind == argc)
		return cli_usage_error(NULL, "no command");
	if (strcmp(argv[optind], "warnings") == 0)
		return warnings_main(ctx.db_path, ctx.tz, argc - optind,
		    argv + optind);
	/* The workflow goes through the daemon, the only writer. */
	if (ctl_is_verb(argv[optind]))
		return ctl_main(socket_path, ctx.tz, argc - optind,
		    argv + optind);
	for (i = 0; i < CLI_NITEMS(cli_cmds); i++) {
		if (strcmp(argv[optind], cli_cmds[i].name) == 0)
			break;
	}
	if (i == CLI_NITEMS(cli_cmds))
		return cli_usage_error(NULL, "unknown command %s",
		    argv[optind]);
	ctx.cmd = &cli_cmds[i];

	rc = ctx.cmd->exec(&ctx, argc - optind, argv + optind);
	sqlite3_close(ctx.db);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		cli_warnx("stdout: %s", strerror(errno));
		return CLI_EXIT_ERR;
	}
	return rc;
}
