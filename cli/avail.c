/*
 * avail.c: rtowatch availability, uptime per system over a period, from
 * the recorded outages.
 *
 * Only the part of each outage inside the period counts.  Planned
 * outages (in a maintenance window) are shown apart and taken out of the
 * period, as a service level counts them; an outage still going on counts
 * until now.  "Over RTO" is the time past each outage's RTO (the
 * system's, from its latest incident) that falls inside the period.
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "doc.h"
#include "util.h"

struct avail_sum {
	int64_t	 down, longest, over, planned;
	int	 count, nplanned;
	int64_t	 rto;		/* -1: unknown */
};

static const struct cli_column avail_cols[] = {
	CLI_COL("SYSTEM", 0, CLI_SHOW_TEXT),
	CLI_COL("UPTIME %", 1, CLI_SHOW_NUM),
	CLI_COL("OUTAGES", 2, CLI_SHOW_NUM),
	CLI_COL("DOWN MIN", 3, CLI_SHOW_NUM),
	CLI_COL("LONGEST", 4, CLI_SHOW_TEXT),
	CLI_COL("RTO", 5, CLI_SHOW_TEXT),
	CLI_COL("OVER RTO MIN", 6, CLI_SHOW_NUM),
	CLI_COL("PLANNED", 7, CLI_SHOW_NUM),
	CLI_COL("PLANNED MIN", 8, CLI_SHOW_NUM),
};

static const char *const avail_csv[] = {
	"system", "uptime_percent", "outages", "down_minutes",
	"longest_minutes", "rto_minutes", "over_rto_minutes",
	"planned_outages", "planned_minutes",
};

static int64_t
avail_max(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

static int64_t
avail_min(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static int
avail_system(struct cli_ctx *ctx, const char *system, int64_t from,
    int64_t to, int64_t now, struct avail_sum *s)
{
	sqlite3_stmt	*stmt;
	char		 f[TIME_STRLEN], t[TIME_STRLEN];
	int64_t		 st, en, len;
	int		 rc;

	memset(s, 0, sizeof(*s));
	s->rto = -1;
	/* A drill (5.8.1) is no outage and says nothing of the RTO. */
	if ((stmt = cli_prepare(ctx, "SELECT rto_ms FROM incidents"
	    " WHERE system = ? AND kind != 'drill'"
	    " ORDER BY id DESC LIMIT 1")) == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, system, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		s->rto = sqlite3_column_int64(stmt, 0);
		rc = SQLITE_DONE;
	}
	sqlite3_finalize(stmt);
	if (cli_step_error(ctx, rc) == -1)
		return -1;

	if ((stmt = cli_prepare(ctx, "SELECT started_at, ended_at, planned"
	    " FROM outages WHERE system = ?1 AND started_at < ?3"
	    " AND (ended_at IS NULL OR ended_at > ?2) ORDER BY id")) == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, system, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, time_fmt(from, f, sizeof(f)), -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, time_fmt(to, t, sizeof(t)), -1,
	    SQLITE_STATIC);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (time_parse(cli_col_text(stmt, 0), &st) == -1)
			continue;
		if (cli_col_text(stmt, 1) == NULL ||
		    time_parse(cli_col_text(stmt, 1), &en) == -1)
			en = now;
		len = avail_min(en, to) - avail_max(st, from);
		if (len <= 0)
			continue;
		if (sqlite3_column_int(stmt, 2)) {
			s->planned += len;
			s->nplanned++;
			continue;
		}
		s->down += len;
		s->count++;
		s->longest = avail_max(s->longest, len);
		if (s->rto >= 0)
			s->over += avail_max(0, avail_min(en, to) -
			    avail_max(st + s->rto, from));
	}
	sqlite3_finalize(stmt);
	return cli_step_error(ctx, rc);
}

/* Minutes: to a tenth for people, to the millisecond in CSV. */
static void
avail_minutes(int64_t ms, int csv, char *buf, size_t len)
{
	snprintf(buf, len, csv ? "%.5f" : "%.1f", (double)ms / 60000.0);
}

/* The form's column titles, in its language (HTML). */
static void
avail_titles(const struct doc *d, const char *titles[9])
{
	titles[0] = DOC_L(d, "系統", "system");
	titles[1] = DOC_L(d, "可用率 %", "uptime %");
	titles[2] = DOC_L(d, "中斷次數", "outages");
	titles[3] = DOC_L(d, "中斷分鐘", "down min");
	titles[4] = DOC_L(d, "最長中斷", "longest");
	titles[5] = "RTO";
	titles[6] = DOC_L(d, "超過 RTO 分鐘", "over RTO min");
	titles[7] = DOC_L(d, "計畫停機次數", "planned");
	titles[8] = DOC_L(d, "計畫停機分鐘", "planned min");
}

/*
 * --to is optional (up to now); the period as given, or "now" for the
 * end, for the heading of the table and the form.
 */
int
avail_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_opts		 o = { 0 };
	struct cli_table	 t;
	struct avail_sum	 s;
	struct doc		 d;
	sqlite3_stmt		*stmt;
	char			 v[9][64], until[64], period[256], foot[160];
	const char		*system, *titles[9], *cells[9];
	int64_t			 now, to, span;
	size_t			 i;
	int			 rc, csv, html;

	if ((rc = cli_options(ctx, argc, argv, &o)) != 0)
		return rc;
	csv = o.fmt == CLI_FMT_CSV;
	html = o.fmt == CLI_FMT_HTML;
	if (o.from_arg == NULL)
		return cli_usage_error(ctx->cmd, "availability: --from is "
		    "required");
	now = wall_ms();
	if (o.from >= now)
		return cli_usage_error(ctx->cmd, "availability: the period "
		    "starts in the future");
	/* Up to now: the future has no uptime yet. */
	to = o.to_arg != NULL ? avail_min(o.to, now) : now;
	if (o.to_arg != NULL)
		snprintf(until, sizeof(until), "%s", o.to_arg);
	else if (cli_time_local_ms(now, until, sizeof(until)) == NULL)
		snprintf(until, sizeof(until), "now");
	if (cli_open(ctx) == -1 || cli_begin(ctx) == -1 ||
	    (stmt = cli_prepare(ctx, "SELECT system FROM outages UNION"
	    " SELECT system FROM incidents WHERE kind = 'outage'"
	    " ORDER BY 1")) == NULL)
		return CLI_EXIT_ERR;

	memset(&d, 0, sizeof(d));
	if (csv) {
		cli_csv_bom(ctx, &o);
		for (i = 0; i < CLI_NITEMS(avail_csv); i++)
			cli_csv_field(avail_csv[i], i == 0);
		printf("\r\n");
	} else if (html) {
		d.fmt = CLI_FMT_HTML;
		d.utf8 = 1;
		d.en = o.en;
		snprintf(period, sizeof(period), d.en ? "period: %s – %s "
		    "(%s), planned outages apart" : "期間：%s – %s（%s），"
		    "計畫停機另計", o.from_arg, until, ctx->tz);
		doc_begin(&d, DOC_L(&d, "系統可用性報表",
		    "System availability"), "rtowatch availability", period);
		avail_titles(&d, titles);
		doc_table_begin(&d, titles, CLI_NITEMS(titles), "grid");
		d.nowrap = ~0U;
	} else {
		cli_table_init(&t, avail_cols, CLI_NITEMS(avail_cols), 1,
		    ctx->utf8);
		t.maxwidth = cli_term_width();
	}
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		system = cli_col_text(stmt, 0);
		if (o.system != NULL && strcmp(o.system, system) != 0)
			continue;
		if (avail_system(ctx, system, o.from, to, now, &s) == -1) {
			rc = SQLITE_ERROR;
			break;
		}
		span = to - o.from - s.planned;
		snprintf(v[0], sizeof(v[0]), "%s", system);
		snprintf(v[1], sizeof(v[1]), csv ? "%.6f" : "%.3f",
		    span <= 0 ? 100.0 :
		    100.0 * (double)(span - s.down) / (double)span);
		snprintf(v[2], sizeof(v[2]), "%d", s.count);
		avail_minutes(s.down, csv, v[3], sizeof(v[3]));
		if (csv)
			avail_minutes(s.longest, csv, v[4], sizeof(v[4]));
		else
			duration_fmt(s.longest, v[4], sizeof(v[4]));
		if (s.rto < 0)
			snprintf(v[5], sizeof(v[5]), "%s", csv ? "" : "-");
		else if (csv)
			avail_minutes(s.rto, csv, v[5], sizeof(v[5]));
		else
			duration_fmt(s.rto, v[5], sizeof(v[5]));
		avail_minutes(s.over, csv, v[6], sizeof(v[6]));
		snprintf(v[7], sizeof(v[7]), "%d", s.nplanned);
		avail_minutes(s.planned, csv, v[8], sizeof(v[8]));
		for (i = 0; i < CLI_NITEMS(v); i++) {
			cells[i] = v[i];
			if (csv)
				cli_csv_field(v[i], i == 0);
			else if (!html)
				cli_table_add(&t, v[i]);
		}
		if (csv)
			printf("\r\n");
		else if (html)
			doc_table_row(&d, cells);
	}
	sqlite3_finalize(stmt);
	if (html && rc == SQLITE_DONE) {
		doc_table_end(&d, d.en ? "no systems with outages (無)" :
		    "本期間無中斷紀錄");
		if (cli_time_local_ms(now, v[0], sizeof(v[0])) == NULL)
			snprintf(v[0], sizeof(v[0]), "-");
		snprintf(foot, sizeof(foot), d.en ? "Printed %s (%s)." :
		    "列印時間 %s（%s）。", v[0], ctx->tz);
		doc_end(&d, foot);
	} else if (!csv && !html) {
		if (rc == SQLITE_DONE) {
			printf("availability %s – %s (%s), planned outages "
			    "apart\n", o.from_arg, until, ctx->tz);
			if (t.ncells == t.ncols)
				printf("no systems with outages\n");
			else
				cli_table_print(&t, 0);
		}
		cli_table_free(&t);
	}
	return cli_step_error(ctx, rc) == -1 ? CLI_EXIT_ERR : CLI_EXIT_OK;
}
