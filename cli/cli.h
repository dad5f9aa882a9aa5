/*
 * cli.h: what the rtowatch commands share.
 *
 * rtowatch.c holds main() and the table of the read commands; each group
 * of them lives in its own file (query.c: incidents and show, report.c:
 * form IMS-P-009-01, register.c: form IMS-P-009-02 and the monthly
 * digest, avail.c: availability, verify.c: the timeline chain) and reaches
 * the database, the options and the output through cli.c, doc.c and the
 * pure text helpers of text.c.  The workflow verbs, which go through the
 * daemon's control socket instead, are ctl.c's (ctl.h).
 */
#ifndef RTOWATCH_CLI_H
#define RTOWATCH_CLI_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "record.h"

#define CLI_TZ_DEFAULT	"Asia/Taipei"

#define CLI_EXIT_OK	0
#define CLI_EXIT_ERR	1
#define CLI_EXIT_USAGE	2

#define CLI_NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

struct cli_cmd;

struct cli_ctx {
	const char		*db_path;
	const char		*socket;	/* the daemon's control socket */
	const char		*tz;
	const struct cli_cmd	*cmd;
	sqlite3			*db;
	int			 utf8;	/* the locale's charset */
};

/*
 * What a command reads: the database file, read-only, or the daemon's
 * control socket, through which alone the workflow writes.
 */
enum cli_side {
	CLI_DB,
	CLI_SOCKET,
};

/* A database command's operands, checked with its options. */
enum cli_args {
	CLI_ARGS_NONE,
	CLI_ARGS_ID,		/* one incident ID */
	CLI_ARGS_SYSTEM,	/* one system's name */
	CLI_ARGS_FILE,		/* one file name */
};

/*
 * One command of rtowatch.c's table; a tab in usage starts a new line.
 * A database command's options, formats and operands are parsed from
 * here by cli_options(); a socket verb parses its own (ctl.c).
 */
struct cli_cmd {
	const char	*name;
	const char	*usage;
	enum cli_side	 side;
	int		(*exec)(struct cli_ctx *, int, char **);
	unsigned int	 opts;		/* CLI_O() of the options taken */
	unsigned int	 formats;	/* CLI_FMT() of --format's values;
					   the first in cli.c's list is the
					   default */
	enum cli_args	 args;
};

enum cli_format {
	CLI_FMT_TABLE,
	CLI_FMT_TEXT,
	CLI_FMT_JSON,
	CLI_FMT_CSV,
	CLI_FMT_MD,
	CLI_FMT_HTML,
};
#define CLI_FMT(f)	(1U << (f))

/* The options of every command; each command says which it takes. */
enum cli_opt {
	CLI_O_FORMAT,
	CLI_O_FROM,
	CLI_O_TO,
	CLI_O_LEVEL,
	CLI_O_SYSTEM,
	CLI_O_STATUS,
	CLI_O_KIND,
	CLI_O_MAJOR,
	CLI_O_OVERDUE,
	CLI_O_LANG,
	CLI_O_MONTH,
	CLI_O_RECUR_COUNT,
	CLI_O_RECUR_WINDOW,
	CLI_O_RECUR_BY,
	CLI_O_HEAD,
	CLI_O_INCLUDE_DRILLS,
	CLI_O_CHECK,
	CLI_O_FORCE,
	CLI_O_ALL,
	CLI_O_BOM,
	CLI_O_NO_BOM,
	CLI_O_STATE,		/* a warning's */
	CLI_O_DB,		/* the database, after the command too */
};
#define CLI_O_BOMS	(CLI_O(CLI_O_BOM) | CLI_O(CLI_O_NO_BOM))
#define CLI_O(o)	(1U << (o))
#define CLI_O_RECUR	(CLI_O(CLI_O_RECUR_COUNT) | \
			    CLI_O(CLI_O_RECUR_WINDOW) | CLI_O(CLI_O_RECUR_BY))

/* What "recurring" means (purpose 1.1): N incidents within a window. */
struct cli_recur {
	int		 count;		/* this one and count-1 earlier */
	int64_t		 window_ms;
	int		 same_category;
};

struct cli_opts {
	enum cli_format	 fmt;
	int64_t		 from, to;	/* UTC ms, [from, to); 0: none */
	const char	*from_arg, *to_arg;
	int		 level;		/* 0: any */
	const char	*system, *status, *kind;
	int		 major, overdue;
	int		 en;		/* --lang en */
	struct cli_recur recur;
	const char	*head;
	int		 include_drills;	/* 5.8.1: out unless asked */
	int		 bom;		/* CSV: 1 --bom, -1 --no-bom, 0 default */
	const char	*state;		/* a warning's; NULL: any */
	int64_t		 id;		/* CLI_ARGS_ID */
	const char	*operand;	/* CLI_ARGS_SYSTEM */
	const char	*check;
	const char	*file;		/* CLI_ARGS_FILE */
	int		 force;
	int		 all;
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

/* How a column is shown to people; all are "-" when NULL. */
enum cli_show {
	CLI_SHOW_TEXT,
	CLI_SHOW_NUM,		/* right-aligned in a table */
	CLI_SHOW_TIME,		/* in the --tz zone, to the second */
	CLI_SHOW_YESNO,
	CLI_SHOW_CLASS,		/* general or major */
	CLI_SHOW_DURATION,
	CLI_SHOW_KIND,		/* a drill says 演練 drill (5.8.1) */
	CLI_SHOW_SYSTEM,	/* the system, a drill's marked (needs kind) */
};

struct cli_column {
	const char	*title;
	int		 field;
	enum cli_show	 how;
	int		 drop;	/* on a narrow terminal: 0 never, else the
				   highest goes first */
};

#define CLI_COL(t, f, h)	{ .title = (t), .field = (f), .how = (h) }
#define CLI_COL_DROP(t, f, h, d) \
	{ .title = (t), .field = (f), .how = (h), .drop = (d) }

/* Cells are collected first: a column's width is known only at the end. */
struct cli_table {
	const struct cli_column	*cols;
	size_t			 ncols;
	char			**cells;	/* row after row, mended */
	size_t			 ncells;
	int			 utf8;
	int			 colour;	/* SGR codes: a terminal */
	size_t			 maxwidth;	/* 0: no limit */
	/* An SGR code for a cell, or NULL: status and class stand out. */
	const char		*(*paint)(size_t, const char *);
};

/*
 * The incident members every command reads (query.c): a statement from
 * cli_select(cli_incident_fields) has the record's columns in its table's
 * order, so RECORD_<COLUMN> (include/record.h) is a column's index, and
 * rto_seconds, derived from rto_ms, after them.  The CLI's JSON and CSV
 * name them in cli_incident_members' order (record_view's for the CLI,
 * which is not the API's).
 */
enum {
	CLI_I_RTO_SECONDS = RECORD_NFIELDS,
	CLI_I_COUNT
};
/* Filled from the record's table by cli_select(), which reads them. */
extern struct cli_field cli_incident_fields[CLI_I_COUNT];
extern size_t cli_incident_members[CLI_I_COUNT];
extern size_t cli_incident_nmembers;

enum {
	CLI_T_ID, CLI_T_AT, CLI_T_EVENT, CLI_T_ACTOR, CLI_T_DETAIL, CLI_T_COUNT
};
extern const struct cli_field cli_timeline_fields[CLI_T_COUNT];

/* A clock's columns (query.c); its state is met, late, overdue or open. */
enum {
	QUERY_C_KIND, QUERY_C_LEVEL, QUERY_C_STARTED, QUERY_C_DUE,
	QUERY_C_BREACHED, QUERY_C_STOPPED, QUERY_C_STOPPED_BY, QUERY_C_STATE,
	QUERY_C_SUPERSEDED, QUERY_C_COUNT
};
#define QUERY_CLOCK_STATE_SQL						\
	"CASE WHEN stopped_at IS NOT NULL THEN"				\
	"  CASE WHEN breached_at IS NULL AND stopped_at <= due_at"	\
	"  THEN 'met' ELSE 'late' END"					\
	" WHEN breached_at IS NOT NULL OR"				\
	"  due_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now') THEN 'overdue'" \
	" ELSE 'open' END"
extern const struct cli_field query_clock_fields[QUERY_C_COUNT];

/* cli.c */
void		 cli_incident_init(void);
void		 cli_warnx(const char *, ...)
		    __attribute__((format(printf, 1, 2)));
void		 cli_usage(FILE *, const struct cli_cmd *);
int		 cli_usage_error(const struct cli_cmd *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
int		 cli_tz_set(struct cli_ctx *);
char		*cli_uri(const char *, int);
int		 cli_open(struct cli_ctx *);
int		 pgsnap_open(const char *, sqlite3 **);
int		 cli_options(struct cli_ctx *, int, char **, struct cli_opts *);
int		 cli_parse_id(struct cli_ctx *, const char *, int64_t *);
sqlite3_stmt	*cli_prepare(struct cli_ctx *, const char *);
sqlite3_stmt	*cli_select(struct cli_ctx *, const struct cli_field *,
		    size_t, const char *, const char *);
int		 cli_step_error(struct cli_ctx *, int);
int		 cli_begin(struct cli_ctx *);
void		 cli_end(struct cli_ctx *);
const char	*cli_col_text(sqlite3_stmt *, int);
const char	*cli_cell(sqlite3_stmt *, const struct cli_column *, char *,
		    size_t);
int		 cli_parse_time(const char *, int64_t *);
const char	*cli_time_local(const char *, char *, size_t);
const char	*cli_time_show(const char *, char *, size_t);
const char	*cli_time_local_ms(int64_t, char *, size_t);
json_t		*cli_json_new(json_t *);
json_t		*cli_json_row(sqlite3_stmt *, const struct cli_field *,
		    size_t);
json_t		*cli_json_pick(sqlite3_stmt *, const struct cli_field *,
		    const size_t *, size_t);
void		 cli_json_print(json_t *);
void		 cli_csv_field(const char *, int);
int		 cli_lang_zh(void);
void		 cli_csv_bom(const struct cli_ctx *, const struct cli_opts *);
int		 cli_last_month(char *, size_t, int64_t *, int64_t *);
void		 cli_csv_row(sqlite3_stmt *, const struct cli_field *, size_t);
void		 cli_csv_cells(sqlite3_stmt *, const struct cli_field *,
		    size_t);
void		 cli_csv_pick(sqlite3_stmt *, const struct cli_field *,
		    const size_t *, size_t);
void		 cli_table_init(struct cli_table *, const struct cli_column *,
		    size_t, int, int);
void		 cli_table_add(struct cli_table *, const char *);
void		 cli_table_print(const struct cli_table *, int);
void		 cli_table_free(struct cli_table *);

/*
 * What a list command prints (cli_list_print): every list is a JSON
 * array, a CSV table or the terminal's table, from one statement.
 */
struct cli_list {
	const struct cli_field	*fields;	/* JSON members, CSV columns */
	const size_t		*members;	/* their order; NULL: fields' */
	size_t			 nmembers;
	const struct cli_column	*cols;		/* the terminal's table */
	size_t			 ncols;
	const char		*(*paint)(size_t, const char *);
	/* A cell the row does not hold as it is; NULL: cli_cell. */
	const char		*(*cell)(void *, sqlite3_stmt *,
				    const struct cli_column *, char *, size_t);
	void			*arg;
	const char		*heading;	/* NULL: "times in ZONE" */
	const char		*empty;		/* said for no row at all */
};
int		 cli_list_print(struct cli_ctx *, const struct cli_opts *,
		    sqlite3_stmt *, const struct cli_list *);
int		 cli_tty(void);
size_t		 cli_term_width(void);
int		 cli_chain_head(struct cli_ctx *, int64_t *, char *, size_t);

/* recur.c: which earlier incidents make this one recurring. */
int		 recur_find(struct cli_ctx *, const struct cli_recur *,
		    int64_t, int64_t **, size_t *);
char		*recur_list(const int64_t *, size_t);

/* query.c */
char		*query_filter_sql(const struct cli_opts *);
void		 query_filter_bind(sqlite3_stmt *, const struct cli_opts *);
int		 query_record(struct cli_ctx *, int64_t, sqlite3_stmt **,
		    sqlite3_stmt **, sqlite3_stmt **);
void		 query_record_free(sqlite3_stmt *, sqlite3_stmt *,
		    sqlite3_stmt *);

/* The commands. */
int		 query_incidents(struct cli_ctx *, int, char **);
int		 query_show(struct cli_ctx *, int, char **);
int		 report_exec(struct cli_ctx *, int, char **);
int		 register_exec(struct cli_ctx *, int, char **);
int		 register_digest(struct cli_ctx *, int, char **);
int		 avail_exec(struct cli_ctx *, int, char **);
int		 history_exec(struct cli_ctx *, int, char **);
int		 verify_exec(struct cli_ctx *, int, char **);
int		 verify_summary(struct cli_ctx *, int, char *, size_t);
int		 warnings_exec(struct cli_ctx *, int, char **);
int		 backup_exec(struct cli_ctx *, int, char **);
int		 mail_draft(struct cli_ctx *, int, char **);
int		 mail_outbox(struct cli_ctx *, int, char **);

#endif
