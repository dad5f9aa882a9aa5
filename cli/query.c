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
	CLI_COL("ID", CLI_I_ID, CLI_SHOW_NUM),
	CLI_COL("SYSTEM", CLI_I_SYSTEM, CLI_SHOW_SYSTEM),
	CLI_COL("LEVEL", CLI_I_LEVEL, CLI_SHOW_NUM),
	CLI_COL("CLASS", CLI_I_MAJOR, CLI_SHOW_CLASS),
	CLI_COL("STATUS", CLI_I_STATUS, CLI_SHOW_TEXT),
	CLI_COL("STARTED", CLI_I_STARTED, CLI_SHOW_TIME),
	CLI_COL_DROP("OPENED", CLI_I_OPENED, CLI_SHOW_TIME, 2),
	CLI_COL_DROP("NOTIFY DUE", CLI_I_NOTIFY_DUE, CLI_SHOW_TIME, 1),
	CLI_COL("RESTORED", CLI_I_RESTORED, CLI_SHOW_TIME),
};

/* Every column of an incident, for show. */
static const struct cli_column query_show_lines[] = {
	CLI_COL("id:", CLI_I_ID, CLI_SHOW_TEXT),
	CLI_COL("system:", CLI_I_SYSTEM, CLI_SHOW_TEXT),
	CLI_COL("kind:", CLI_I_KIND, CLI_SHOW_KIND),
	CLI_COL("level:", CLI_I_LEVEL, CLI_SHOW_TEXT),
	CLI_COL("availability level:", CLI_I_AVAILABILITY, CLI_SHOW_TEXT),
	CLI_COL("confidentiality level:", CLI_I_CONFIDENTIALITY, CLI_SHOW_TEXT),
	CLI_COL("integrity level:", CLI_I_INTEGRITY, CLI_SHOW_TEXT),
	CLI_COL("class:", CLI_I_MAJOR, CLI_SHOW_CLASS),
	CLI_COL("declared major because:", CLI_I_MAJOR_REASON, CLI_SHOW_TEXT),
	CLI_COL("status:", CLI_I_STATUS, CLI_SHOW_TEXT),
	CLI_COL("recurrence of incident:", CLI_I_RECURRENCE_OF,
	    CLI_SHOW_TEXT),
	CLI_COL("owner:", CLI_I_OWNER, CLI_SHOW_TEXT),
	CLI_COL("core:", CLI_I_CORE, CLI_SHOW_YESNO),
	CLI_COL("critical infrastructure:", CLI_I_CRITICAL, CLI_SHOW_YESNO),
	CLI_COL("rto:", CLI_I_RTO_MS, CLI_SHOW_DURATION),
	CLI_COL("category:", CLI_I_CATEGORY, CLI_SHOW_TEXT),
	CLI_COL("cause:", CLI_I_CAUSE, CLI_SHOW_TEXT),
	CLI_COL("description:", CLI_I_DESCRIPTION, CLI_SHOW_TEXT),
	CLI_COL("started:", CLI_I_STARTED, CLI_SHOW_TIME),
	CLI_COL("opened:", CLI_I_OPENED, CLI_SHOW_TIME),
	CLI_COL("notify due:", CLI_I_NOTIFY_DUE, CLI_SHOW_TIME),
	CLI_COL("acknowledged:", CLI_I_ACKED, CLI_SHOW_TIME),
	CLI_COL("reported:", CLI_I_REPORTED, CLI_SHOW_TIME),
	CLI_COL("report entered:", CLI_I_REPORTED_ENTERED, CLI_SHOW_TIME),
	CLI_COL("ticket:", CLI_I_TICKET, CLI_SHOW_TEXT),
	CLI_COL("other units affected:", CLI_I_OTHER_UNITS, CLI_SHOW_TEXT),
	CLI_COL("restore due:", CLI_I_RESTORE_DUE, CLI_SHOW_TIME),
	CLI_COL("controlled:", CLI_I_CONTROLLED, CLI_SHOW_TIME),
	CLI_COL("restored:", CLI_I_RESTORED, CLI_SHOW_TIME),
	CLI_COL("within rto:", CLI_I_WITHIN_RTO, CLI_SHOW_YESNO),
	CLI_COL("scope:", CLI_I_SCOPE, CLI_SHOW_TEXT),
	CLI_COL("loss:", CLI_I_LOSS, CLI_SHOW_TEXT),
	CLI_COL("support:", CLI_I_SUPPORT, CLI_SHOW_TEXT),
	CLI_COL("measures:", CLI_I_MEASURES, CLI_SHOW_TEXT),
	CLI_COL("containment:", CLI_I_CONTAINMENT, CLI_SHOW_TEXT),
	CLI_COL("investigation:", CLI_I_INVESTIGATION, CLI_SHOW_TEXT),
	CLI_COL("root cause:", CLI_I_ROOT_CAUSE, CLI_SHOW_TEXT),
	CLI_COL("prevention:", CLI_I_PREVENTION, CLI_SHOW_TEXT),
	CLI_COL("prevention tracking:", CLI_I_PREVENTION_TRACKING,
	    CLI_SHOW_TEXT),
	CLI_COL("report filed:", CLI_I_REPORT_FILED, CLI_SHOW_TIME),
	CLI_COL("corrective action form:", CLI_I_CORRECTIVE, CLI_SHOW_TEXT),
	CLI_COL("closed on the portal:", CLI_I_PORTAL_CLOSED, CLI_SHOW_TIME),
	CLI_COL("portal result:", CLI_I_PORTAL_RESULT, CLI_SHOW_TEXT),
	CLI_COL("closed:", CLI_I_CLOSED, CLI_SHOW_TIME),
	CLI_COL("closed by:", CLI_I_CLOSED_BY, CLI_SHOW_TEXT),
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
	if (query_incident_cols[col].field == CLI_I_MAJOR &&
	    strcmp(cell, "major") == 0)
		return "\033[1;31m";
	if (query_incident_cols[col].field == CLI_I_STATUS &&
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

int
query_incidents(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_opts		 o = { 0 };
	struct cli_table	 t;
	sqlite3_stmt		*stmt, *nd;
	json_t			*arr;
	char			 b[64], *where, *tail;
	size_t			 i;
	int			 rc;

	if ((rc = cli_options(ctx, argc, argv, &o)) != 0)
		return rc;
	if (cli_open(ctx) == -1)
		return CLI_EXIT_ERR;
	where = query_filter_sql(&o);
	xasprintf(&tail, "%s ORDER BY id", where);
	stmt = cli_select(ctx, cli_incident_fields, CLI_I_COUNT, "incidents",
	    tail);
	free(tail);
	free(where);
	if (stmt == NULL)
		return CLI_EXIT_ERR;
	query_filter_bind(stmt, &o);

	switch (o.fmt) {
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
		cli_csv_bom(ctx, &o);
		for (i = 0; i < CLI_I_COUNT; i++)
			cli_csv_field(cli_incident_fields[i].name, i == 0);
		printf("\r\n");
		while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
			cli_csv_row(stmt, cli_incident_fields, CLI_I_COUNT);
		break;
	default:
		cli_table_init(&t, query_incident_cols,
		    CLI_NITEMS(query_incident_cols), 1, ctx->utf8);
		t.colour = cli_tty();
		t.maxwidth = cli_term_width();
		t.paint = query_paint;
		if ((nd = cli_prepare(ctx, QUERY_NOTIFY_DUE_SQL)) == NULL) {
			cli_table_free(&t);
			sqlite3_finalize(stmt);
			return CLI_EXIT_ERR;
		}
		while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
			for (i = 0; i < t.ncols; i++)
				cli_table_add(&t, t.cols[i].field ==
				    CLI_I_NOTIFY_DUE ? query_notify_due(nd,
				    sqlite3_column_int64(stmt, CLI_I_ID), b,
				    sizeof(b)) : cli_cell(stmt, &t.cols[i], b,
				    sizeof(b)));
		}
		sqlite3_finalize(nd);
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
	sqlite3_stmt	*nd;
	char		 b[64];
	size_t		 i;
	int		 rc;

	if ((nd = cli_prepare(ctx, QUERY_NOTIFY_DUE_SQL)) == NULL)
		return SQLITE_ERROR;
	printf("times in %s\n", ctx->tz);
	for (i = 0; i < CLI_NITEMS(query_show_lines); i++)
		query_show_line(query_show_lines[i].title,
		    query_show_lines[i].field == CLI_I_NOTIFY_DUE ?
		    query_notify_due(nd, sqlite3_column_int64(inc, CLI_I_ID), b,
		    sizeof(b)) : cli_cell(inc, &query_show_lines[i], b,
		    sizeof(b)), ctx->utf8);
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

	obj = cli_json_row(inc, cli_incident_fields, CLI_I_COUNT);
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
