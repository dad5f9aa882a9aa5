/*
 * register.c: rtowatch register, form IMS-P-009-02 (資通安全事件報告彙總表),
 * and rtowatch digest, the monthly level 1-2 digest for the unit head
 * (5.5.5).
 *
 * The register is the school's incident register and learning mechanism
 * (5.5.3): one row per incident, with whether it recurred.  Its HTML and
 * CSV carry the timeline chain's head, so that a printed or exported copy
 * can later be checked against the database (rtowatch verify --head).
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chain.h"
#include "cli.h"
#include "doc.h"
#include "util.h"

#define REG_TIME_LEN	64

enum {
	REG_ID, REG_SYSTEM, REG_CATEGORY, REG_LEVEL, REG_MAJOR, REG_STARTED,
	REG_OPENED, REG_REPORTED, REG_TICKET, REG_RESTORED, REG_CLOSED,
	REG_WITHIN_RTO, REG_MET, REG_LATE, REG_OVERDUE, REG_OPEN, REG_STATUS,
	REG_KIND, REG_CAUSE, REG_DESCRIPTION, REG_MEASURES, REG_TERM,
	REG_COUNT
};

#define REG_CLOCKS(state)						\
	"(SELECT count(*) FROM clocks WHERE incident_id = incidents.id"	\
	" AND " QUERY_CLOCK_STATE_SQL " = '" state "')"

static const struct cli_field reg_fields[REG_COUNT] = {
	[REG_ID] = { "id", "id", CLI_INT },
	[REG_SYSTEM] = { "system", "system", CLI_TEXT },
	[REG_CATEGORY] = { "category", "category", CLI_TEXT },
	[REG_LEVEL] = { "level", "level", CLI_INT },
	[REG_MAJOR] = { "major", "major", CLI_BOOL },
	[REG_STARTED] = { "started_at", "started_at", CLI_TEXT },
	[REG_OPENED] = { "opened_at", "opened_at", CLI_TEXT },
	[REG_REPORTED] = { "reported_at", "reported_at", CLI_TEXT },
	[REG_TICKET] = { "ticket", "ticket", CLI_TEXT },
	[REG_RESTORED] = { "restored_at", "restored_at", CLI_TEXT },
	[REG_CLOSED] = { "closed_at", "closed_at", CLI_TEXT },
	[REG_WITHIN_RTO] = { "within_rto", "within_rto", CLI_BOOL },
	[REG_MET] = { "clocks_met", REG_CLOCKS("met"), CLI_INT },
	[REG_LATE] = { "clocks_late", REG_CLOCKS("late"), CLI_INT },
	[REG_OVERDUE] = { "clocks_overdue", REG_CLOCKS("overdue"), CLI_INT },
	[REG_OPEN] = { "clocks_open", REG_CLOCKS("open"), CLI_INT },
	[REG_STATUS] = { "status", "status", CLI_TEXT },
	[REG_KIND] = { "kind", "kind", CLI_TEXT },
	[REG_CAUSE] = { "cause", "cause", CLI_TEXT },
	[REG_DESCRIPTION] = { "description", "description", CLI_TEXT },
	[REG_MEASURES] = { "measures", "measures", CLI_TEXT },
	/* 5.3.3: levels 3-4 are security incidents, 1-2 events. */
	[REG_TERM] = { "event_or_incident", "CASE WHEN level >= 3"
	    " THEN '資安事故' ELSE '資安事件' END", CLI_TEXT },
};

/*
 * Landscape: the register's seventeen columns do not fit A4 upright.  The
 * last three are what people wrote (cause, description, measures): they
 * break anywhere, Chinese included, or the table would run off the page.
 */
static const char reg_landscape[] = "@page { size: A4 landscape; }\n"
    "@media screen { body { max-width: 277mm; } }\n"
    "table.grid td:nth-child(n+15) { word-break: normal;"
    " overflow-wrap: anywhere; }";

static const char *
reg_text(sqlite3_stmt *s, int col)
{
	return cli_col_text(s, col);
}

static const char *
reg_time(sqlite3_stmt *s, int col, char *buf, size_t len)
{
	const char	*t = reg_text(s, col);

	return t == NULL ? "-" : cli_time_local(t, buf, len);
}

/* "met 2, late 1": the clocks' outcomes, those there are. */
static void
reg_clocks(sqlite3_stmt *s, int en, char *buf, size_t len)
{
	static const struct {
		int		 col;
		const char	*zh, *en;
	} states[] = {
		{ REG_MET, "達成", "met" }, { REG_LATE, "逾時", "late" },
		{ REG_OVERDUE, "已逾期", "overdue" },
		{ REG_OPEN, "進行中", "open" },
	};
	size_t	 i, off = 0;
	int	 n;

	buf[0] = '\0';
	for (i = 0; i < CLI_NITEMS(states) && off < len; i++) {
		if ((n = sqlite3_column_int(s, states[i].col)) == 0)
			continue;
		off += (size_t)snprintf(buf + off, len - off, "%s%s %d",
		    off > 0 ? (en ? ", " : "，") : "",
		    en ? states[i].en : states[i].zh, n);
	}
	if (off == 0)
		snprintf(buf, len, "-");
}

static sqlite3_stmt *
reg_query(struct cli_ctx *ctx, const struct cli_opts *o, const char *extra)
{
	sqlite3_stmt	*stmt;
	char		*where, *tail;

	where = query_filter_sql(o);
	xasprintf(&tail, "%s%s%s ORDER BY started_at, id", where,
	    *extra == '\0' ? "" : *where == '\0' ? " WHERE " : " AND ", extra);
	stmt = cli_select(ctx, reg_fields, REG_COUNT, "incidents", tail);
	free(tail);
	free(where);
	if (stmt != NULL)
		query_filter_bind(stmt, o);
	return stmt;
}

/* "2026-11-01 – 2026-11-30 (Asia/Taipei)", or every record. */
static void
reg_period(struct cli_ctx *ctx, const struct cli_opts *o, int en, char *buf,
    size_t len)
{
	snprintf(buf, len, "%s%s – %s (%s)", en ? "period: " : "期間：",
	    o->from_arg != NULL ? o->from_arg : (en ? "the first record" :
	    "最早紀錄"), o->to_arg != NULL ? o->to_arg : (en ? "now" :
	    "目前"), ctx->tz);
}

static int
reg_csv(struct cli_ctx *ctx, sqlite3_stmt *stmt, const struct cli_opts *o,
    int64_t rows, const char *head)
{
	static const char *const extra[] = { "recurring", "recurring_with",
	    "chain_rows", "chain_head" };
	int64_t	*ids;
	size_t	 i, n;
	char	 num[24], *list;
	int	 rc;

	cli_csv_bom(ctx, o);
	for (i = 0; i < REG_COUNT; i++)
		cli_csv_field(reg_fields[i].name, i == 0);
	for (i = 0; i < CLI_NITEMS(extra); i++)
		cli_csv_field(extra[i], 0);
	printf("\r\n");
	snprintf(num, sizeof(num), "%lld", (long long)rows);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (recur_find(ctx, &o->recur, sqlite3_column_int64(stmt,
		    REG_ID), &ids, &n) == -1)
			return SQLITE_ERROR;
		cli_csv_cells(stmt, reg_fields, REG_COUNT);
		list = recur_list(ids, n);
		cli_csv_field(n > 0 ? "1" : "0", 0);
		cli_csv_field(list, 0);
		cli_csv_field(num, 0);
		cli_csv_field(head, 0);
		printf("\r\n");
		free(list);
		free(ids);
	}
	return rc;
}

/*
 * On a terminal the form's columns but the long texts (cause,
 * description, measures), which the CSV and HTML carry.  On a narrow one
 * the system stays whole: times lose year and seconds first, then the
 * columns the form has anyway go, the highest drop first.
 */
static const struct cli_column reg_table_cols[] = {
	CLI_COL("ID", 0, CLI_SHOW_NUM),
	CLI_COL("SYSTEM", 1, CLI_SHOW_SYSTEM),		/* never cut */
	CLI_COL_DROP("CATEGORY", 2, CLI_SHOW_TEXT, 5),
	CLI_COL("LEVEL", 3, CLI_SHOW_NUM),
	CLI_COL("CLASS", 4, CLI_SHOW_TEXT),
	CLI_COL("STARTED", 5, CLI_SHOW_TIME),
	CLI_COL_DROP("KNOWN", 6, CLI_SHOW_TIME, 8),	/* 知悉時間 */
	CLI_COL_DROP("TICKET", 7, CLI_SHOW_TEXT, 2),	/* 通報單號 */
	CLI_COL_DROP("RESTORED", 8, CLI_SHOW_TIME, 1),
	CLI_COL_DROP("CLOSED", 9, CLI_SHOW_TIME, 4),	/* 結案時間 */
	CLI_COL_DROP("IN RTO", 10, CLI_SHOW_TEXT, 7),
	CLI_COL_DROP("CLOCKS", 11, CLI_SHOW_TEXT, 3),
	CLI_COL("STATUS", 12, CLI_SHOW_TEXT),
	CLI_COL_DROP("RECURRING", 13, CLI_SHOW_TEXT, 6),
};

/* The same columns under the form's Chinese titles (--lang zh-TW). */
static const struct cli_column reg_table_cols_zh[] = {
	CLI_COL("編號", 0, CLI_SHOW_NUM),
	CLI_COL("系統", 1, CLI_SHOW_SYSTEM),
	CLI_COL_DROP("類別", 2, CLI_SHOW_TEXT, 5),
	CLI_COL("等級", 3, CLI_SHOW_NUM),
	CLI_COL("一般／重大", 4, CLI_SHOW_TEXT),
	CLI_COL("發生時間", 5, CLI_SHOW_TIME),
	CLI_COL_DROP("知悉時間", 6, CLI_SHOW_TIME, 8),
	CLI_COL_DROP("通報單號", 7, CLI_SHOW_TEXT, 2),
	CLI_COL_DROP("復原時間", 8, CLI_SHOW_TIME, 1),
	CLI_COL_DROP("結案時間", 9, CLI_SHOW_TIME, 4),
	CLI_COL_DROP("RTO內恢復", 10, CLI_SHOW_TEXT, 7),
	CLI_COL_DROP("時限達成", 11, CLI_SHOW_TEXT, 3),
	CLI_COL("狀態", 12, CLI_SHOW_TEXT),
	CLI_COL_DROP("重複發生", 13, CLI_SHOW_TEXT, 6),
};

/* The status in the form's language: Chinese on the printed forms. */
static const char *
reg_status(sqlite3_stmt *s, int zh)
{
	static const struct {
		const char	*key, *zh;
	} names[] = {
		{ "open", "處理中" }, { "restored", "已恢復" },
		{ "closed", "已結案" },
	};
	const char	*st = reg_text(s, REG_STATUS);
	size_t		 i;

	for (i = 0; zh && st != NULL && i < CLI_NITEMS(names); i++)
		if (strcmp(st, names[i].key) == 0)
			return names[i].zh;
	return st;
}

static const char *
reg_yesno(sqlite3_stmt *s, int col, int zh)
{
	if (sqlite3_column_type(s, col) == SQLITE_NULL)
		return "-";
	if (!zh)
		return sqlite3_column_int(s, col) ? "yes" : "no";
	return sqlite3_column_int(s, col) ? "是" : "否";
}

/* The table and the HTML form: the same cells, two ways. */
static int
reg_rows(struct cli_ctx *ctx, sqlite3_stmt *stmt, const struct cli_opts *o,
    struct doc *d, struct cli_table *t)
{
	const char	*cells[20];
	char		 a[REG_TIME_LEN], b[REG_TIME_LEN], c[REG_TIME_LEN];
	char		 e[REG_TIME_LEN], clocks[96], *list, *recurring;
	char		 level[64], sys[512];
	int64_t		*ids;
	size_t		 i, n, k;
	int		 rc, html = d != NULL, en = o->en;
	/* The form and the terminal table speak --lang; the CSV is data. */
	int		 zh = !en && (html || t != NULL);

	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (recur_find(ctx, &o->recur, sqlite3_column_int64(stmt,
		    REG_ID), &ids, &n) == -1)
			return SQLITE_ERROR;
		list = recur_list(ids, n);
		if (n == 0)
			recurring = xstrdup(zh ? "否" : "no");
		else
			xasprintf(&recurring, "%s%s", zh ? "是，" : "yes, ",
			    list);
		reg_clocks(stmt, !zh, clocks, sizeof(clocks));
		k = 0;
		cells[k++] = reg_text(stmt, REG_ID);
		cells[k++] = reg_text(stmt, REG_SYSTEM);
		/* 5.8.1: a drill is marked wherever it is listed. */
		if (reg_text(stmt, REG_KIND) != NULL &&
		    strcmp(reg_text(stmt, REG_KIND), "drill") == 0) {
			snprintf(sys, sizeof(sys), "[演練 DRILL] %s",
			    cells[k - 1] != NULL ? cells[k - 1] : "");
			cells[k - 1] = sys;
		}
		cells[k++] = reg_text(stmt, REG_CATEGORY) != NULL ?
		    reg_text(stmt, REG_CATEGORY) : "-";
		/* On the printed form: 事件 (1-2) or 事故 (3-4), 5.3.3. */
		if (html && en)
			snprintf(level, sizeof(level), "%s (%s, %s)",
			    reg_text(stmt, REG_LEVEL), sqlite3_column_int(stmt,
			    REG_LEVEL) >= 3 ? "incident" : "event",
			    reg_text(stmt, REG_TERM));
		else if (html)
			snprintf(level, sizeof(level), "%s（%s）",
			    reg_text(stmt, REG_LEVEL), reg_text(stmt, REG_TERM));
		cells[k++] = html ? level : reg_text(stmt, REG_LEVEL);
		cells[k++] = sqlite3_column_int(stmt, REG_MAJOR) ?
		    (zh ? "重大" : "major") : (zh ? "一般" : "general");
		cells[k++] = reg_time(stmt, REG_STARTED, a, sizeof(a));
		cells[k++] = reg_time(stmt, REG_OPENED, b, sizeof(b));
		cells[k++] = reg_text(stmt, REG_TICKET) != NULL ?
		    reg_text(stmt, REG_TICKET) : "-";
		cells[k++] = reg_time(stmt, REG_RESTORED, c, sizeof(c));
		cells[k++] = reg_time(stmt, REG_CLOSED, e, sizeof(e));
		cells[k++] = reg_yesno(stmt, REG_WITHIN_RTO, zh);
		cells[k++] = clocks;
		cells[k++] = reg_status(stmt, zh);
		cells[k++] = recurring;
		if (html) {
			cells[k++] = reg_text(stmt, REG_CAUSE) != NULL ?
			    reg_text(stmt, REG_CAUSE) : "-";
			cells[k++] = reg_text(stmt, REG_DESCRIPTION) != NULL ?
			    reg_text(stmt, REG_DESCRIPTION) : "-";
			cells[k++] = reg_text(stmt, REG_MEASURES) != NULL ?
			    reg_text(stmt, REG_MEASURES) : "-";
		}
		if (d != NULL)
			doc_table_row(d, cells);
		else if (t != NULL)
			for (i = 0; i < k; i++)
				cli_table_add(t, cells[i]);
		free(recurring);
		free(list);
		free(ids);
	}
	return rc;
}

static int
reg_html_write(struct cli_ctx *ctx, struct doc *d, sqlite3_stmt *stmt,
    const struct cli_opts *o, int64_t rows, const char *head)
{
	const char	*titles[] = {
		DOC_L(d, "編號", "no."), DOC_L(d, "系統", "system"),
		DOC_L(d, "類別", "category"), DOC_L(d, "等級", "level"),
		DOC_L(d, "一般／重大", "general / major"),
		DOC_L(d, "發生時間", "happened"),
		DOC_L(d, "知悉時間", "known"),
		DOC_L(d, "通報單號", "ticket"),
		DOC_L(d, "復原時間", "restored"),
		DOC_L(d, "結案時間", "closed"),
		DOC_L(d, "RTO內恢復", "within RTO"),
		DOC_L(d, "時限達成", "clocks"),
		DOC_L(d, "狀態", "status"),
		DOC_L(d, "重複發生", "recurring"),
		DOC_L(d, "原因", "cause"),
		DOC_L(d, "事件說明", "description"),
		DOC_L(d, "應變措施", "measures"),
	};
	char		 period[160], foot[1200], printed[REG_TIME_LEN];
	char		 check[768];
	size_t		 len;
	int		 rc;

	reg_period(ctx, o, d->en, period, sizeof(period));
	doc_begin(d, d->en ? "Information Security Incident Register "
	    "(資通安全事件報告彙總表)" : "資通安全事件報告彙總表",
	    "IMS-P-009-02", period);
	doc_table_begin(d, titles, CLI_NITEMS(titles), "grid");
	/*
	 * All but the times, which break between date and time, and the
	 * texts people wrote.
	 */
	d->nowrap = ~(1U << 5 | 1U << 6 | 1U << 8 | 1U << 9 | 1U << 14 |
	    1U << 15 | 1U << 16);
	if ((rc = reg_rows(ctx, stmt, o, d, NULL)) != SQLITE_DONE)
		return rc;
	doc_table_end(d, d->en ? "no incidents in the period (無)" :
	    "本期間無資通安全事件");
	cli_time_local_ms(wall_ms(), printed, sizeof(printed));
	snprintf(foot, sizeof(foot), d->en ? "IMS-P-009-02, kept at least 3 "
	    "years (5.10). Printed %s. Timeline chain: %lld rows, head %s; "
	    "check a copy with: rtowatch verify --head HEAD" :
	    "IMS-P-009-02，保存期限至少3年 (5.10)。列印時間 %s。時間軸雜湊鏈 "
	    "%lld 筆，鏈首 %s；核對：rtowatch verify --head 鏈首", printed,
	    (long long)rows, *head ? head : "-");
	if ((rc = verify_summary(ctx, d->en, check, sizeof(check))) == -1)
		return SQLITE_ERROR;
	if (rc == 1)
		cli_warnx("%s", check);
	len = strlen(foot);
	snprintf(foot + len, sizeof(foot) - len, ". %s", check);
	doc_end(d, foot);
	return SQLITE_DONE;
}

static int
reg_html(struct cli_ctx *ctx, sqlite3_stmt *stmt, const struct cli_opts *o,
    int64_t rows, const char *head)
{
	struct doc	 d;

	memset(&d, 0, sizeof(d));
	d.fmt = CLI_FMT_HTML;
	d.utf8 = 1;
	d.en = o->en;
	d.extra_css = reg_landscape;
	return reg_html_write(ctx, &d, stmt, o, rows, head);
}

int
register_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_opts		 o = { 0 };
	struct cli_table	 t;
	sqlite3_stmt		*stmt;
	char			 head[CHAIN_HEXLEN + 1], period[160];
	char			 check[768];
	int64_t			 rows;
	int			 rc;

	if ((rc = cli_options(ctx, argc, argv, &o)) != 0)
		return rc;
	if (cli_open(ctx) == -1 || cli_begin(ctx) == -1)
		return CLI_EXIT_ERR;
	if (cli_chain_head(ctx, &rows, head, sizeof(head)) == -1 ||
	    (stmt = reg_query(ctx, &o, "")) == NULL)
		return CLI_EXIT_ERR;
	switch (o.fmt) {
	case CLI_FMT_CSV:
		rc = reg_csv(ctx, stmt, &o, rows, head);
		break;
	case CLI_FMT_HTML:
		rc = reg_html(ctx, stmt, &o, rows, head);
		break;
	default:
		if (o.en)
			cli_table_init(&t, reg_table_cols,
			    CLI_NITEMS(reg_table_cols), 1, ctx->utf8);
		else
			cli_table_init(&t, reg_table_cols_zh,
			    CLI_NITEMS(reg_table_cols_zh), 1, ctx->utf8);
		t.maxwidth = cli_term_width();
		if ((rc = reg_rows(ctx, stmt, &o, NULL, &t)) == SQLITE_DONE) {
			reg_period(ctx, &o, o.en, period, sizeof(period));
			printf(o.en ? "IMS-P-009-02 register, %s\n" :
			    "IMS-P-009-02 資通安全事件報告彙總表，%s\n", period);
			if (t.ncells == t.ncols)
				printf("%s\n", o.en ? "no incidents" :
				    "本期間無資通安全事件");
			else
				cli_table_print(&t, 0);
			printf(o.en ? "timeline chain: %lld rows, head %s\n" :
			    "時間軸雜湊鏈 %lld 筆，鏈首 %s\n",
			    (long long)rows, *head ? head : "-");
			if (verify_summary(ctx, o.en, check,
			    sizeof(check)) == -1)
				rc = SQLITE_ERROR;
			else {
				printf("%s\n", check);
				rc = SQLITE_DONE;
			}
		}
		cli_table_free(&t);
		break;
	}
	sqlite3_finalize(stmt);
	return cli_step_error(ctx, rc) == -1 ? CLI_EXIT_ERR : CLI_EXIT_OK;
}

static int
reg_digest_write(struct cli_ctx *ctx, struct doc *d, sqlite3_stmt *stmt,
    char num[6][24], const char *month)
{
	const char	*titles[] = {
		DOC_L(d, "編號", "no."), DOC_L(d, "系統", "system"),
		DOC_L(d, "類別", "category"), DOC_L(d, "等級", "level"),
		DOC_L(d, "發生時間", "happened"),
		DOC_L(d, "通報單號", "ticket"),
		DOC_L(d, "復原時間", "restored"),
		DOC_L(d, "RTO內恢復", "within RTO"),
		DOC_L(d, "狀態", "status"),
	};
	const char	*sign[] = {
		DOC_L(d, "單位主管", "unit head"),
		DOC_L(d, "簽名", "signature"), DOC_L(d, "日期", "date"),
	};
	const char	*cells[CLI_NITEMS(titles)];
	char		 sub[160], a[REG_TIME_LEN], b[REG_TIME_LEN];
	char		 sys[512];
	int		 rc;

	snprintf(sub, sizeof(sub), d->en ? "month %s, times in %s "
	    "(5.5.5)" : "月份 %s，時間以 %s 表示 (5.5.5)", month, ctx->tz);
	doc_begin(d, d->en ? "Monthly digest of level 1-2 incidents "
	    "(第1、2級資通安全事件月報)" : "第1、2級資通安全事件月報",
	    "IMS-P-009", sub);
	doc_heading(d, DOC_L(d, "摘要", "Summary"));
	doc_field(d, DOC_L(d, "事件數", "incidents"), num[0]);
	doc_field(d, DOC_L(d, "第1級", "level 1"), num[1]);
	doc_field(d, DOC_L(d, "第2級", "level 2"), num[2]);
	doc_field(d, DOC_L(d, "於RTO內恢復", "restored within RTO"), num[3]);
	doc_field(d, DOC_L(d, "已至通報應變網站通報",
	    "reported on the portal"), num[4]);
	doc_field(d, DOC_L(d, "尚未結案", "not closed"), num[5]);
	doc_heading(d, DOC_L(d, "事件清單", "Incidents"));
	doc_table_begin(d, titles, CLI_NITEMS(titles), "grid");
	d->nowrap = 0xf | 1U << 5 | 1U << 7 | 1U << 8;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		cells[0] = reg_text(stmt, REG_ID);
		cells[1] = reg_text(stmt, REG_SYSTEM);
		/* Only with --include-drills; even then marked (5.8.1). */
		if (reg_text(stmt, REG_KIND) != NULL &&
		    strcmp(reg_text(stmt, REG_KIND), "drill") == 0) {
			snprintf(sys, sizeof(sys), "[演練 DRILL] %s",
			    cells[1] != NULL ? cells[1] : "");
			cells[1] = sys;
		}
		cells[2] = reg_text(stmt, REG_CATEGORY) != NULL ?
		    reg_text(stmt, REG_CATEGORY) : "-";
		cells[3] = reg_text(stmt, REG_LEVEL);
		cells[4] = reg_time(stmt, REG_STARTED, a, sizeof(a));
		cells[5] = reg_text(stmt, REG_TICKET) != NULL ?
		    reg_text(stmt, REG_TICKET) : "-";
		cells[6] = reg_time(stmt, REG_RESTORED, b, sizeof(b));
		cells[7] = reg_yesno(stmt, REG_WITHIN_RTO, !d->en);
		cells[8] = reg_status(stmt, !d->en);
		doc_table_row(d, cells);
	}
	if (rc != SQLITE_DONE)
		return rc;
	doc_table_end(d, d->en ? "no level 1-2 incidents this month (無)" :
	    "本月無第1、2級事件");
	doc_heading(d, DOC_L(d, "單位主管核閱", "Seen by the unit head"));
	doc_sign(d, sign, CLI_NITEMS(sign), 1);
	doc_end(d, d->en ? "Level 1-2 incidents, compiled monthly for the "
	    "unit head (IMS-P-009 5.5.5)." :
	    "第1、2級資安事件通報應變完成後，每月彙整送呈單位主管 "
	    "(IMS-P-009 5.5.5)。");
	return SQLITE_DONE;
}

/*
 * 5.5.5: level 1-2 incidents of the month, printed and handed to the unit
 * head.  Drills are left out: they are not events of the month.
 */
int
register_digest(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_opts	 o = { 0 };
	struct doc	 d;
	sqlite3_stmt	*stmt, *sum;
	char		 num[6][24], month[8];
	int		 rc, i;

	if ((rc = cli_options(ctx, argc, argv, &o)) != 0)
		return rc;
	/* 5.5.5 is monthly: without --month, the month that just ended. */
	if (o.from_arg == NULL) {
		if (cli_last_month(month, sizeof(month), &o.from, &o.to) == -1)
			return CLI_EXIT_ERR;
	} else
		snprintf(month, sizeof(month), "%s", o.from_arg);
	if (cli_open(ctx) == -1 || cli_begin(ctx) == -1)
		return CLI_EXIT_ERR;
	if ((sum = cli_prepare(ctx, "SELECT count(*),"
	    " coalesce(sum(level = 1), 0), coalesce(sum(level = 2), 0),"
	    " coalesce(sum(within_rto = 1), 0),"
	    " coalesce(sum(reported_at IS NOT NULL), 0),"
	    " coalesce(sum(status != 'closed'), 0) FROM incidents"
	    " WHERE level <= 2 AND (kind != 'drill' OR :drills)"
	    " AND started_at >= :from AND started_at < :to")) == NULL)
		return CLI_EXIT_ERR;
	query_filter_bind(sum, &o);
	/* Drills (演練, 5.8.1) are not the month's incidents, unless asked. */
	sqlite3_bind_int(sum, sqlite3_bind_parameter_index(sum, ":drills"),
	    o.include_drills);
	if ((rc = sqlite3_step(sum)) != SQLITE_ROW) {
		sqlite3_finalize(sum);
		cli_step_error(ctx, rc);
		return CLI_EXIT_ERR;
	}
	for (i = 0; i < 6; i++)
		snprintf(num[i], sizeof(num[i]), "%d",
		    sqlite3_column_int(sum, i));
	sqlite3_finalize(sum);
	if ((stmt = reg_query(ctx, &o, o.include_drills ? "level <= 2" :
	    "level <= 2 AND kind != 'drill'")) == NULL)
		return CLI_EXIT_ERR;
	memset(&d, 0, sizeof(d));
	d.fmt = o.fmt;
	d.utf8 = ctx->utf8;
	d.en = o.en;
	rc = reg_digest_write(ctx, &d, stmt, num, month);
	sqlite3_finalize(stmt);
	return cli_step_error(ctx, rc) == -1 ? CLI_EXIT_ERR : CLI_EXIT_OK;
}
