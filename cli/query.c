/*
 * query.c: rtowatch incidents (the list, with its filters) and rtowatch
 * show (one whole record: fields, clocks, timeline, recurring).
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "text.h"
#include "util.h"

static const struct cli_column query_incident_cols[] = {
	CLI_COL("ID", RECORD_ID, CLI_SHOW_NUM),
	CLI_COL("SYSTEM", RECORD_SYSTEM, CLI_SHOW_SYSTEM),
	CLI_COL("LEVEL", RECORD_LEVEL, CLI_SHOW_NUM),
	CLI_COL("CLASS", RECORD_MAJOR, CLI_SHOW_CLASS),
	CLI_COL("STATUS", RECORD_STATUS, CLI_SHOW_TEXT),
	CLI_COL("STARTED", RECORD_STARTED_AT, CLI_SHOW_TIME),
	CLI_COL_DROP("OPENED", RECORD_OPENED_AT, CLI_SHOW_TIME, 2),
	CLI_COL_DROP("NOTIFY DUE", RECORD_NOTIFY_DUE_AT, CLI_SHOW_TIME, 1),
	CLI_COL("RESTORED", RECORD_RESTORED_AT, CLI_SHOW_TIME),
};

static const struct cli_column query_timeline_cols[] = {
	CLI_COL("AT", CLI_T_AT, CLI_SHOW_TIME),
	CLI_COL("EVENT", CLI_T_EVENT, CLI_SHOW_TEXT),
	CLI_COL("ACTOR", CLI_T_ACTOR, CLI_SHOW_TEXT),
	CLI_COL("DETAIL", CLI_T_DETAIL, CLI_SHOW_TEXT),
};

const struct cli_field query_clock_fields[QUERY_C_COUNT] = {
	[QUERY_C_KIND] = { "kind", "kind", CLI_TEXT },
	[QUERY_C_LEVEL] = { "level", "level", CLI_INT },
	[QUERY_C_STARTED] = { "started_at", "started_at", CLI_TEXT },
	[QUERY_C_DUE] = { "due_at", "due_at", CLI_TEXT },
	[QUERY_C_BREACHED] = { "breached_at", "breached_at", CLI_TEXT },
	[QUERY_C_STOPPED] = { "stopped_at", "stopped_at", CLI_TEXT },
	[QUERY_C_STOPPED_BY] = { "stopped_by", "stopped_by", CLI_TEXT },
	[QUERY_C_STATE] = { "state", QUERY_CLOCK_STATE_SQL, CLI_TEXT },
	/*
	 * The level of the same kind's clock a raised level started while
	 * this one still ran (5.4.2): that one's deadline is the one owed.
	 */
	[QUERY_C_SUPERSEDED] = { "superseded_by", "(SELECT max(n.level)"
	    " FROM clocks n WHERE n.incident_id = clocks.incident_id"
	    " AND n.kind = clocks.kind AND n.level > clocks.level"
	    " AND (clocks.stopped_at IS NULL OR"
	    "  clocks.stopped_at > n.started_at))", CLI_INT },
};

/*
 * The notify clock that matters now: the running one of the highest
 * level, else the last one; the incident's first deadline when it has
 * none (a record from before clocks were kept).
 */
#define QUERY_NOTIFY_DUE_SQL						\
	"SELECT coalesce((SELECT due_at FROM clocks WHERE incident_id = ?1"\
	" AND kind = 'notify' ORDER BY stopped_at IS NULL DESC, level DESC,"\
	" started_at DESC LIMIT 1), (SELECT notify_due_at FROM incidents"\
	" WHERE id = ?1))"

/* That clock's deadline in --tz, "-" for none. */
static const char *
query_notify_due(sqlite3_stmt *nd, int64_t id, char *buf, size_t len)
{
	const char	*r = "-";

	sqlite3_reset(nd);
	sqlite3_bind_int64(nd, 1, id);
	if (sqlite3_step(nd) == SQLITE_ROW)
		r = cli_time_show((const char *)sqlite3_column_text(nd, 0),
		    buf, len);
	return r;
}

static const struct cli_column query_clock_cols[] = {
	CLI_COL("CLOCK", QUERY_C_KIND, CLI_SHOW_TEXT),
	CLI_COL("LEVEL", QUERY_C_LEVEL, CLI_SHOW_NUM),
	CLI_COL("DUE", QUERY_C_DUE, CLI_SHOW_TIME),
	CLI_COL("STOPPED", QUERY_C_STOPPED, CLI_SHOW_TIME),
	CLI_COL("STATE", QUERY_C_STATE, CLI_SHOW_TEXT),
};

/* Major in red, an open incident in yellow: what needs a person. */
static const char *
query_paint(size_t col, const char *cell)
{
	if (query_incident_cols[col].field == RECORD_MAJOR &&
	    strcmp(cell, "major") == 0)
		return "\033[1;31m";
	if (query_incident_cols[col].field == RECORD_STATUS &&
	    strcmp(cell, "open") == 0)
		return "\033[33m";
	return NULL;
}

/*
 * The filters as a WHERE clause on incidents (with a leading " WHERE",
 * or empty), bound by query_filter_bind() from parameter 1 on.
 */
char *
query_filter_sql(const struct cli_opts *o)
{
	char		*sql, *s;
	const char	*and = " WHERE";

	sql = xstrdup("");
#define QUERY_ADD(cond, text) do {					\
	if (cond) {							\
		xasprintf(&s, "%s%s %s", sql, and, text);		\
		free(sql);						\
		sql = s;						\
		and = " AND";						\
	}								\
} while (0)
	QUERY_ADD(o->from != 0, "started_at >= :from");
	QUERY_ADD(o->to != 0, "started_at < :to");
	QUERY_ADD(o->level != 0, "level = :level");
	QUERY_ADD(o->system != NULL, "system = :system");
	QUERY_ADD(o->status != NULL, "status = :status");
	QUERY_ADD(o->kind != NULL, "kind = :kind");
	QUERY_ADD(o->major, "major = 1");
	QUERY_ADD(o->overdue, "EXISTS (SELECT 1 FROM clocks c"
	    " WHERE c.incident_id = incidents.id AND c.stopped_at IS NULL"
	    " AND (c.breached_at IS NOT NULL OR c.due_at <"
	    " strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))");
#undef QUERY_ADD
	return sql;
}

void
query_filter_bind(sqlite3_stmt *stmt, const struct cli_opts *o)
{
	char	 from[TIME_STRLEN], to[TIME_STRLEN];
	int	 i;

	if ((i = sqlite3_bind_parameter_index(stmt, ":from")) > 0)
		sqlite3_bind_text(stmt, i, time_fmt(o->from, from,
		    sizeof(from)), -1, SQLITE_TRANSIENT);
	if ((i = sqlite3_bind_parameter_index(stmt, ":to")) > 0)
		sqlite3_bind_text(stmt, i, time_fmt(o->to, to, sizeof(to)), -1,
		    SQLITE_TRANSIENT);
	if ((i = sqlite3_bind_parameter_index(stmt, ":level")) > 0)
		sqlite3_bind_int(stmt, i, o->level);
	if ((i = sqlite3_bind_parameter_index(stmt, ":system")) > 0)
		sqlite3_bind_text(stmt, i, o->system, -1, SQLITE_STATIC);
	if ((i = sqlite3_bind_parameter_index(stmt, ":status")) > 0)
		sqlite3_bind_text(stmt, i, o->status, -1, SQLITE_STATIC);
	if ((i = sqlite3_bind_parameter_index(stmt, ":kind")) > 0)
		sqlite3_bind_text(stmt, i, o->kind, -1, SQLITE_STATIC);
}

/* The incidents table's NOTIFY DUE: the clock owed now (ARG: its query). */
static const char *
query_incident_cell(void *arg, sqlite3_stmt *stmt,
    const struct cli_column *col, char *buf, size_t len)
{
	if (col->field == RECORD_NOTIFY_DUE_AT)
		return query_notify_due(arg, sqlite3_column_int64(stmt,
		    RECORD_ID), buf, len);
	return cli_cell(stmt, col, buf, len);
}

int
query_incidents(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_opts		 o = { 0 };
	struct cli_list		 l = {
		.fields = cli_incident_fields,
		.members = cli_incident_members,
		.cols = query_incident_cols,
		.ncols = CLI_NITEMS(query_incident_cols),
		.paint = query_paint,
		.cell = query_incident_cell,
		.empty = "no incidents",
	};
	sqlite3_stmt		*stmt, *nd;
	char			*where, *tail;
	int			 rc;

	if ((rc = cli_options(ctx, argc, argv, &o)) != 0)
		return rc;
	if (cli_open(ctx) == -1)
		return CLI_EXIT_ERR;
	if ((nd = cli_prepare(ctx, QUERY_NOTIFY_DUE_SQL)) == NULL)
		return CLI_EXIT_ERR;
	l.arg = nd;
	where = query_filter_sql(&o);
	xasprintf(&tail, "%s ORDER BY id", where);
	stmt = cli_select(ctx, cli_incident_fields, CLI_I_COUNT, "incidents",
	    tail);
	free(tail);
	free(where);
	if (stmt == NULL) {
		sqlite3_finalize(nd);
		return CLI_EXIT_ERR;
	}
	query_filter_bind(stmt, &o);
	/* Known once cli_select read the record's table. */
	l.nmembers = cli_incident_nmembers;
	rc = cli_list_print(ctx, &o, stmt, &l);
	sqlite3_finalize(nd);
	sqlite3_finalize(stmt);
	return cli_step_error(ctx, rc) == -1 ? CLI_EXIT_ERR : CLI_EXIT_OK;
}

static void
query_show_line(const char *label, const char *value, int utf8)
{
	char	*mended;

	mended = text_mend(value, 1, utf8);
	printf("%-25s%s\n", label, mended);
	free(mended);
}

/* Rows of stmt as a table under a title, indented. */
static int
query_show_table(struct cli_ctx *ctx, const char *title, sqlite3_stmt *stmt,
    const struct cli_column *cols, size_t ncols, const char *none)
{
	struct cli_table	 t;
	char			 b[64], *local;
	size_t			 i;
	int			 rc;

	cli_table_init(&t, cols, ncols, 0, ctx->utf8);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		for (i = 0; i < t.ncols; i++) {
			/* A detail's own UTC times in --tz, as the rest. */
			if (cols == query_timeline_cols &&
			    cols[i].field == CLI_T_DETAIL &&
			    cli_col_text(stmt, CLI_T_DETAIL) != NULL) {
				local = time_text_local(cli_col_text(stmt,
				    CLI_T_DETAIL), 0);
				cli_table_add(&t, local);
				free(local);
			} else
				cli_table_add(&t, cli_cell(stmt, &t.cols[i], b,
				    sizeof(b)));
		}
	}
	printf("%s\n", title);
	if (t.ncells == 0)
		printf("  %s\n", none);
	cli_table_print(&t, 2);
	cli_table_free(&t);
	return rc;
}

/*
 * How `show` writes a field: by its type, but the few the record's table
 * reads as a plain number or flag that people read otherwise.
 */
static enum cli_show
query_show_how(enum record_id id)
{
	switch (id) {
	case RECORD_KIND:
		return CLI_SHOW_KIND;
	case RECORD_MAJOR:
		return CLI_SHOW_CLASS;
	case RECORD_RTO_MS:
		return CLI_SHOW_DURATION;
	default:
		break;
	}
	switch (record_fields[id].type) {
	case RECORD_BOOL:
		return CLI_SHOW_YESNO;
	case RECORD_TIME:
		return CLI_SHOW_TIME;
	default:
		return CLI_SHOW_TEXT;
	}
}

/*
 * The clocks, a notify clock a raised level superseded marked so: its
 * state stays what it was (a missed deadline stays missed), and the one
 * owed now is the raised level's.
 */
static int
query_show_clocks(struct cli_ctx *ctx, sqlite3_stmt *cl)
{
	struct cli_table	 t;
	char			 b[64], *state;
	size_t			 i;
	int			 rc;

	cli_table_init(&t, query_clock_cols, CLI_NITEMS(query_clock_cols), 0,
	    ctx->utf8);
	while ((rc = sqlite3_step(cl)) == SQLITE_ROW) {
		for (i = 0; i < t.ncols; i++) {
			if (t.cols[i].field != QUERY_C_STATE ||
			    sqlite3_column_type(cl, QUERY_C_SUPERSEDED) ==
			    SQLITE_NULL) {
				cli_table_add(&t, cli_cell(cl, &t.cols[i], b,
				    sizeof(b)));
				continue;
			}
			xasprintf(&state, "%s, superseded by level %lld",
			    cli_cell(cl, &t.cols[i], b, sizeof(b)), (long long)
			    sqlite3_column_int64(cl, QUERY_C_SUPERSEDED));
			cli_table_add(&t, state);
			free(state);
		}
	}
	printf("clocks:\n");
	if (t.ncells == 0)
		printf("  (none)\n");
	cli_table_print(&t, 2);
	cli_table_free(&t);
	return rc;
}

static int
query_show_text(struct cli_ctx *ctx, sqlite3_stmt *inc, sqlite3_stmt *cl,
    sqlite3_stmt *tl, const char *recurring)
{
	enum record_id		 ids[RECORD_NFIELDS];
	struct cli_column	 col = { 0 };
	sqlite3_stmt		*nd;
	char			 b[64], label[64];
	size_t			 i, n;
	int			 rc;

	if ((nd = cli_prepare(ctx, QUERY_NOTIFY_DUE_SQL)) == NULL)
		return SQLITE_ERROR;
	printf("times in %s\n", ctx->tz);
	n = record_view(RECORD_VIEW_SHOW, ids);
	for (i = 0; i < n; i++) {
		col.field = (int)ids[i];
		col.how = query_show_how(ids[i]);
		snprintf(label, sizeof(label), "%s:",
		    record_fields[ids[i]].show);
		/* The notify clock owed now, not the record's first. */
		query_show_line(label, ids[i] == RECORD_NOTIFY_DUE_AT ?
		    query_notify_due(nd, sqlite3_column_int64(inc, RECORD_ID),
		    b, sizeof(b)) : cli_cell(inc, &col, b, sizeof(b)),
		    ctx->utf8);
	}
	sqlite3_finalize(nd);
	query_show_line("recurring:", recurring, ctx->utf8);
	if ((rc = query_show_clocks(ctx, cl)) != SQLITE_DONE)
		return rc;
	return query_show_table(ctx, "timeline:", tl, query_timeline_cols,
	    CLI_NITEMS(query_timeline_cols), "(no events)");
}

static int
query_json_rows(json_t *obj, const char *key, sqlite3_stmt *stmt,
    const struct cli_field *f, size_t n)
{
	json_t	*arr;
	int	 rc;

	arr = cli_json_new(json_array());
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (json_array_append_new(arr, cli_json_row(stmt, f, n)) == -1)
			fatalx("jansson: out of memory");
	}
	if (json_object_set_new(obj, key, arr) == -1)
		fatalx("jansson: out of memory");
	return rc;
}

static int
query_show_json(sqlite3_stmt *inc, sqlite3_stmt *cl, sqlite3_stmt *tl,
    const int64_t *ids, size_t n)
{
	json_t	*obj, *arr;
	size_t	 i;
	int	 rc;

	obj = cli_json_pick(inc, cli_incident_fields, cli_incident_members,
	    cli_incident_nmembers);
	arr = cli_json_new(json_array());
	for (i = 0; i < n; i++)
		json_array_append_new(arr, cli_json_new(json_integer(ids[i])));
	if (json_object_set_new(obj, "recurring", json_boolean(n > 0)) ==
	    -1 || json_object_set_new(obj, "recurring_with", arr) == -1)
		fatalx("jansson: out of memory");
	if ((rc = query_json_rows(obj, "clocks", cl, query_clock_fields,
	    QUERY_C_COUNT)) == SQLITE_DONE &&
	    (rc = query_json_rows(obj, "timeline", tl, cli_timeline_fields,
	    CLI_T_COUNT)) == SQLITE_DONE)
		cli_json_print(obj);
	json_decref(obj);
	return rc;
}

/*
 * The incident, its clocks and its timeline, in one read transaction so
 * that they agree; NULL statements and a message when there is none.
 */
int
query_record(struct cli_ctx *ctx, int64_t id, sqlite3_stmt **inc,
    sqlite3_stmt **cl, sqlite3_stmt **tl)
{
	int	 rc;

	*inc = *cl = *tl = NULL;
	if (cli_begin(ctx) == -1)
		return -1;
	if ((*inc = cli_select(ctx, cli_incident_fields, CLI_I_COUNT,
	    "incidents", "WHERE id = ?")) == NULL ||
	    (*cl = cli_select(ctx, query_clock_fields, QUERY_C_COUNT,
	    "clocks", "WHERE incident_id = ? ORDER BY started_at, id")) ==
	    NULL ||
	    (*tl = cli_select(ctx, cli_timeline_fields, CLI_T_COUNT,
	    "timeline", "WHERE incident_id = ? ORDER BY id")) == NULL)
		goto fail;
	sqlite3_bind_int64(*inc, 1, id);
	sqlite3_bind_int64(*cl, 1, id);
	sqlite3_bind_int64(*tl, 1, id);
	if ((rc = sqlite3_step(*inc)) != SQLITE_ROW) {
		if (cli_step_error(ctx, rc) == 0)
			cli_warnx("no incident %lld", (long long)id);
		goto fail;
	}
	return 0;
 fail:
	query_record_free(*inc, *cl, *tl);
	*inc = *cl = *tl = NULL;
	return -1;
}

void
query_record_free(sqlite3_stmt *inc, sqlite3_stmt *cl, sqlite3_stmt *tl)
{
	sqlite3_finalize(tl);
	sqlite3_finalize(cl);
	sqlite3_finalize(inc);
}

int
query_show(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_opts	 o = { 0 };
	sqlite3_stmt	*inc, *cl, *tl;
	int64_t		 id, *ids = NULL;
	size_t		 n = 0;
	char		*list, *recurring;
	int		 rc, status = CLI_EXIT_ERR;

	if ((rc = cli_options(ctx, argc, argv, &o)) != 0)
		return rc;
	id = o.id;
	if (cli_open(ctx) == -1 || query_record(ctx, id, &inc, &cl, &tl) == -1)
		return CLI_EXIT_ERR;
	if (recur_find(ctx, &o.recur, id, &ids, &n) == 0) {
		if (o.fmt == CLI_FMT_JSON)
			rc = query_show_json(inc, cl, tl, ids, n);
		else {
			list = recur_list(ids, n);
			if (n > 0)
				xasprintf(&recurring, "yes, after %s", list);
			else
				recurring = xstrdup("no");
			rc = query_show_text(ctx, inc, cl, tl, recurring);
			free(recurring);
			free(list);
		}
		if (cli_step_error(ctx, rc) == 0)
			status = CLI_EXIT_OK;
	}
	free(ids);
	query_record_free(inc, cl, tl);
	return status;
}
