/*
 * history.c: rtowatch history, a system's response times as the daemon
 * kept them (daemon/history.c): per check, a row a minute for the last
 * days and a row an hour before that, with the least, mean and greatest
 * round trip of the good probes and the count of good and failed ones.
 *
 * JSON and CSV give each bucket's start as UTC text and its length in
 * seconds; the text table shows the start in --tz.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util.h"

static const struct cli_field history_fields[] = {
	{ "system", "c.system", CLI_TEXT },
	{ "check", "c.name", CLI_TEXT },
	{ "at", "strftime('%Y-%m-%dT%H:%M:%SZ', h.at, 'unixepoch')",
	  CLI_TEXT },
	{ "span_seconds", "h.span", CLI_INT },
	{ "ok", "h.ok", CLI_INT },
	{ "failed", "h.failed", CLI_INT },
	{ "rtt_min_ms", "h.rtt_min", CLI_INT },
	{ "rtt_avg_ms", "CASE WHEN h.ok > 0 THEN"
	  " CAST(round(1.0 * h.rtt_sum / h.ok) AS INTEGER) END", CLI_INT },
	{ "rtt_max_ms", "h.rtt_max", CLI_INT },
	{ "cause", "h.cause", CLI_TEXT },
};

static const struct cli_column history_cols[] = {
	CLI_COL("CHECK", 1, CLI_SHOW_TEXT),
	CLI_COL("FROM", 2, CLI_SHOW_TIME),
	CLI_COL("SPAN", 3, CLI_SHOW_NUM),
	CLI_COL("OK", 4, CLI_SHOW_NUM),
	CLI_COL("FAILED", 5, CLI_SHOW_NUM),
	CLI_COL("MIN MS", 6, CLI_SHOW_NUM),
	CLI_COL("AVG MS", 7, CLI_SHOW_NUM),
	CLI_COL("MAX MS", 8, CLI_SHOW_NUM),
	CLI_COL_DROP("LAST FAILURE", 9, CLI_SHOW_TEXT, 1),
};

/* Does the history know SYSTEM (and CHECK, when given)? */
static int
history_known(struct cli_ctx *ctx, const struct cli_opts *o, int *known)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	if ((stmt = cli_prepare(ctx, "SELECT count(*) FROM response_checks"
	    " WHERE system = ?1 AND (?2 IS NULL OR name = ?2)")) == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, o->operand, -1, SQLITE_STATIC);
	if (o->check != NULL)
		sqlite3_bind_text(stmt, 2, o->check, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		*known = sqlite3_column_int(stmt, 0) > 0;
		rc = SQLITE_DONE;
	}
	sqlite3_finalize(stmt);
	return cli_step_error(ctx, rc);
}

int
history_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_opts		 o = { 0 };
	sqlite3_stmt		*stmt;
	char			*heading, *empty;
	int			 rc, known = 0;

	if ((rc = cli_options(ctx, argc, argv, &o)) != 0)
		return rc;
	if (cli_open(ctx) == -1 || cli_begin(ctx) == -1 ||
	    history_known(ctx, &o, &known) == -1)
		return CLI_EXIT_ERR;
	if (!known) {
		cli_warnx("history: no response times of %s%s%s%s", o.operand,
		    o.check != NULL ? " check \"" : "",
		    o.check != NULL ? o.check : "", o.check != NULL ? "\"" :
		    "");
		return CLI_EXIT_ERR;
	}
	/* A bucket is in the period when it starts within it. */
	if ((stmt = cli_select(ctx, history_fields,
	    CLI_NITEMS(history_fields), "response_history h JOIN"
	    " response_checks c ON c.id = h.check_id", "WHERE c.system = ?1"
	    " AND (?2 IS NULL OR c.name = ?2)"
	    " AND (?3 IS NULL OR h.at >= ?3) AND (?4 IS NULL OR h.at < ?4)"
	    " ORDER BY c.name, h.at, h.span")) == NULL)
		return CLI_EXIT_ERR;
	sqlite3_bind_text(stmt, 1, o.operand, -1, SQLITE_STATIC);
	if (o.check != NULL)
		sqlite3_bind_text(stmt, 2, o.check, -1, SQLITE_STATIC);
	if (o.from != 0)
		sqlite3_bind_int64(stmt, 3, o.from / 1000);
	if (o.to != 0)
		sqlite3_bind_int64(stmt, 4, (o.to + 999) / 1000);

	xasprintf(&heading, "response times of %s (%s), a row a bucket (SPAN "
	    "seconds); round trips of the good probes", o.operand, ctx->tz);
	xasprintf(&empty, "%s\nnone in this period", heading);
	rc = cli_list_print(ctx, &o, stmt, &(struct cli_list){
	    .fields = history_fields, .nmembers = CLI_NITEMS(history_fields),
	    .cols = history_cols, .ncols = CLI_NITEMS(history_cols),
	    .heading = heading, .empty = empty });
	free(empty);
	free(heading);
	sqlite3_finalize(stmt);
	return cli_step_error(ctx, rc) == -1 ? CLI_EXIT_ERR : CLI_EXIT_OK;
}
