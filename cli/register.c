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
#define REG_CELL_LEN	512

/*
 * A column of the register by key: a record field's RECORD_ name, or one
 * of register.c's own below.
 */
enum {
	REG_MET = RECORD_NFIELDS, REG_LATE, REG_OVERDUE, REG_OPEN,
	REG_RECURRING, REG_TERM, REG_NKEYS
};

#define REG_CLOCKS(state)						\
	"(SELECT count(*) FROM clocks WHERE incident_id = incidents.id"	\
	" AND " QUERY_CLOCK_STATE_SQL " = '" state "')"

/*
 * The register's own columns, which no field of the record holds: they
 * stand between the record's (common/record.c, REG) by their places.
 * The clocks' outcomes are four columns of the CSV and one of the form,
 * under the first's titles; recurring is recur.c's, not selected: the
 * CSV has it after the selected columns.
 */
#define REG_OWN(key)	((key) - RECORD_NFIELDS)
static const struct reg_own {
	struct cli_field	 f;	/* f.sql NULL: not selected */
	const char		*zh, *en, *term;
	int			 at, drop;
} reg_own[REG_OWN(REG_NKEYS)] = {
	[REG_OWN(REG_MET)] = { { "clocks_met", REG_CLOCKS("met"), CLI_INT },
	    "時限達成", "clocks", "CLOCKS", 13, 3 },
	[REG_OWN(REG_LATE)] = { { "clocks_late", REG_CLOCKS("late"),
	    CLI_INT }, NULL, NULL, NULL, 14, 0 },
	[REG_OWN(REG_OVERDUE)] = { { "clocks_overdue", REG_CLOCKS("overdue"),
	    CLI_INT }, NULL, NULL, NULL, 15, 0 },
	[REG_OWN(REG_OPEN)] = { { "clocks_open", REG_CLOCKS("open"),
	    CLI_INT }, NULL, NULL, NULL, 16, 0 },
	[REG_OWN(REG_RECURRING)] = { { NULL, NULL, CLI_TEXT },
	    "重複發生", "recurring", "RECURRING", 18, 6 },
	/* 5.3.3: levels 3-4 are security incidents, 1-2 events. */
	[REG_OWN(REG_TERM)] = { { "event_or_incident", "CASE WHEN level >= 3"
	    " THEN '資安事故' ELSE '資安事件' END", CLI_TEXT },
	    NULL, NULL, NULL, 23, 0 },
};

/* A column of the form (a title), in place order. */
struct reg_col {
	const char	*zh, *en, *term;	/* term NULL: not on a terminal */
	int		 key, drop, digest;
	enum cli_show	 how;
};

static struct cli_field	 reg_fields[REG_NKEYS];	/* the SELECT's */
static size_t		 reg_nfields;
static int		 reg_sel[REG_NKEYS];	/* key: SELECT column, or -1 */
static struct reg_col	 reg_cols[REG_NKEYS];
static size_t		 reg_ncols;

static void
reg_add(int key, const struct cli_field *f, const struct reg_col *c)
{
	if (f->sql != NULL) {
		reg_sel[key] = (int)reg_nfields;
		reg_fields[reg_nfields++] = *f;
	}
	if (c->zh != NULL)
		reg_cols[reg_ncols++] = *c;
}

/*
 * The register's columns, once: the record's fields on form 02 and the
 * register's own, merged by place.
 */
static void
reg_init(void)
{
	enum record_id			 ids[RECORD_NFIELDS];
	const struct record_field	*rf;
	const struct reg_own		*ro;
	struct reg_col			 c;
	size_t				 i = 0, j = 0, n;

	if (reg_nfields > 0)
		return;
	for (i = 0; i < REG_NKEYS; i++)
		reg_sel[i] = -1;
	i = 0;
	cli_incident_init();
	n = record_view(RECORD_VIEW_REGISTER, ids);
	while (i < n || j < CLI_NITEMS(reg_own)) {
		if (j == CLI_NITEMS(reg_own) || (i < n &&
		    record_fields[ids[i]].reg_at < reg_own[j].at)) {
			rf = &record_fields[ids[i]];
			c = (struct reg_col){ rf->reg_zh, rf->reg_en,
			    rf->reg_term, ids[i], rf->reg_drop, rf->reg_digest,
			    ids[i] == RECORD_SYSTEM ? CLI_SHOW_SYSTEM :
			    rf->type == RECORD_INT ? CLI_SHOW_NUM :
			    rf->type == RECORD_TIME ? CLI_SHOW_TIME :
			    CLI_SHOW_TEXT };
			reg_add(ids[i++], &cli_incident_fields[c.key], &c);
		} else {
			ro = &reg_own[j];
			c = (struct reg_col){ ro->zh, ro->en, ro->term,
			    RECORD_NFIELDS + (int)j, ro->drop, 0,
			    CLI_SHOW_TEXT };
			reg_add(c.key, &ro->f, &c);
			j++;
		}
	}
}

/*
 * The printed form's titles, in DOC_L's shape, into BUF: the register's,
 * or the digest's (DIGEST).
 */
static void
reg_titles(const struct doc *d, int digest, const char *titles[REG_NKEYS],
    char buf[REG_NKEYS][REG_CELL_LEN], size_t *n)
{
	size_t	 i;

	for (i = *n = 0; i < reg_ncols; i++) {
		if (digest && !reg_cols[i].digest)
			continue;
		if (d->en)
			snprintf(buf[*n], REG_CELL_LEN, "%s (%s)",
			    reg_cols[i].en, reg_cols[i].zh);
		else
			snprintf(buf[*n], REG_CELL_LEN, "%s", reg_cols[i].zh);
		titles[*n] = buf[*n];
		(*n)++;
	}
}

/* Column KEY (a RECORD_ name or the register's own) of the row. */
static const char *
reg_text(sqlite3_stmt *s, int key)
{
	return cli_col_text(s, reg_sel[key]);
}

static int
reg_int(sqlite3_stmt *s, int key)
{
	return sqlite3_column_int(s, reg_sel[key]);
}

static const char *
reg_time(sqlite3_stmt *s, int key, char *buf, size_t len)
{
	const char	*t = reg_text(s, key);

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
		if ((n = reg_int(s, states[i].col)) == 0)
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

	reg_init();
	where = query_filter_sql(o);
	xasprintf(&tail, "%s%s%s ORDER BY started_at, id", where,
	    *extra == '\0' ? "" : *where == '\0' ? " WHERE " : " AND ", extra);
	stmt = cli_select(ctx, reg_fields, reg_nfields, "incidents", tail);
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
	for (i = 0; i < reg_nfields; i++)
		cli_csv_field(reg_fields[i].name, i == 0);
	for (i = 0; i < CLI_NITEMS(extra); i++)
		cli_csv_field(extra[i], 0);
	printf("\r\n");
	snprintf(num, sizeof(num), "%lld", (long long)rows);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (recur_find(ctx, &o->recur, sqlite3_column_int64(stmt,
		    reg_sel[RECORD_ID]), &ids, &n) == -1)
			return SQLITE_ERROR;
		cli_csv_cells(stmt, reg_fields, reg_nfields);
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
 * description, measures), which the CSV and HTML carry, under the
 * terminal's titles or the form's Chinese ones (--lang zh-TW).  On a
 * narrow one the system stays whole: times lose year and seconds first,
 * then the columns the form has anyway go, the highest drop first.
 */
static void
reg_table_init(struct cli_table *t, struct cli_column cols[REG_NKEYS],
    int en, int utf8)
{
	size_t	 i, n = 0;

	for (i = 0; i < reg_ncols; i++)
		if (reg_cols[i].term != NULL)
			cols[n] = (struct cli_column)CLI_COL_DROP(en ?
			    reg_cols[i].term : reg_cols[i].zh, (int)n,
			    reg_cols[i].how, reg_cols[i].drop), n++;
	cli_table_init(t, cols, n, 1, utf8);
}

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
	const char	*st = reg_text(s, RECORD_STATUS);
	size_t		 i;

	for (i = 0; zh && st != NULL && i < CLI_NITEMS(names); i++)
		if (strcmp(st, names[i].key) == 0)
			return names[i].zh;
	return st;
}

static const char *
reg_yesno(sqlite3_stmt *s, int key, int zh)
{
	if (sqlite3_column_type(s, reg_sel[key]) == SQLITE_NULL)
		return "-";
	if (!zh)
		return reg_int(s, key) ? "yes" : "no";
	return reg_int(s, key) ? "是" : "否";
}

/*
 * Column KEY's cell, in BUF where it is made: in the form's language
 * (ZH), the level with its term on the printed register (TERM, EN its
 * English), RECURRING recur.c's.
 */
static const char *
reg_cell(sqlite3_stmt *s, int key, int zh, int term, int en,
    const char *recurring, char *buf, size_t len)
{
	const char	*v = key < REG_MET ? reg_text(s, key) : NULL;

	switch (key) {
	case RECORD_SYSTEM:
		/* 5.8.1: a drill is marked wherever it is listed. */
		if (reg_text(s, RECORD_KIND) == NULL ||
		    strcmp(reg_text(s, RECORD_KIND), "drill") != 0)
			return v;
		snprintf(buf, len, "[演練 DRILL] %s", v != NULL ? v : "");
		return buf;
	case RECORD_LEVEL:
		/* On the printed form: 事件 (1-2) or 事故 (3-4), 5.3.3. */
		if (term && en)
			snprintf(buf, len, "%s (%s, %s)", v, reg_int(s,
			    RECORD_LEVEL) >= 3 ? "incident" : "event",
			    reg_text(s, REG_TERM));
		else if (term)
			snprintf(buf, len, "%s（%s）", v, reg_text(s, REG_TERM));
		return term ? buf : v;
	case RECORD_MAJOR:
		return reg_int(s, RECORD_MAJOR) ? (zh ? "重大" : "major") :
		    (zh ? "一般" : "general");
	case RECORD_STATUS:
		return reg_status(s, zh);
	case REG_MET:
		reg_clocks(s, !zh, buf, len);
		return buf;
	case REG_RECURRING:
		return recurring;
	}
	if (key >= RECORD_NFIELDS)	/* one of the clocks' CSV columns */
		return NULL;
	switch (record_fields[key].type) {
	case RECORD_TIME:
		return reg_time(s, key, buf, len);
	case RECORD_BOOL:
		return reg_yesno(s, key, zh);
	case RECORD_TEXT:
		return v != NULL ? v : "-";
	default:
		return v;
	}
}

/* The table and the HTML form: the same cells, two ways. */
static int
reg_rows(struct cli_ctx *ctx, sqlite3_stmt *stmt, const struct cli_opts *o,
    struct doc *d, struct cli_table *t)
{
	const char	*cells[REG_NKEYS];
	char		 buf[REG_NKEYS][REG_CELL_LEN], *list, *recurring;
	int64_t		*ids;
	size_t		 i, n, k;
	int		 rc, html = d != NULL, en = o->en;
	/* The form and the terminal table speak --lang; the CSV is data. */
	int		 zh = !en && (html || t != NULL);

	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (recur_find(ctx, &o->recur, sqlite3_column_int64(stmt,
		    reg_sel[RECORD_ID]), &ids, &n) == -1)
			return SQLITE_ERROR;
		list = recur_list(ids, n);
		if (n == 0)
			recurring = xstrdup(zh ? "否" : "no");
		else
			xasprintf(&recurring, "%s%s", zh ? "是，" : "yes, ",
			    list);
		for (i = k = 0; i < reg_ncols; i++)
			if (html || reg_cols[i].term != NULL) {
				cells[k] = reg_cell(stmt, reg_cols[i].key, zh,
				    html, en, recurring, buf[k], sizeof(buf[k]));
				k++;
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
	const char	*titles[REG_NKEYS];
	char		 buf[REG_NKEYS][REG_CELL_LEN];
	char		 period[160], foot[1200], printed[REG_TIME_LEN];
	char		 check[768];
	size_t		 len, n, i;
	unsigned	 wrap = 0;
	int		 rc;

	reg_period(ctx, o, d->en, period, sizeof(period));
	doc_begin(d, d->en ? "Information Security Incident Register "
	    "(資通安全事件報告彙總表)" : "資通安全事件報告彙總表",
	    "IMS-P-009-02", period);
	reg_titles(d, 0, titles, buf, &n);
	doc_table_begin(d, titles, n, "grid");
	/*
	 * All but the times, which break between date and time, and the
	 * texts people wrote (those too long for a terminal).
	 */
	for (i = 0; i < reg_ncols; i++)
		if (reg_cols[i].how == CLI_SHOW_TIME ||
		    reg_cols[i].term == NULL)
			wrap |= 1U << i;
	d->nowrap = ~wrap;
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

/*
 * Landscape: the register's seventeen columns do not fit A4 upright.  The
 * last ones are what people wrote (cause, description, measures): they
 * break anywhere, Chinese included, or the table would run off the page.
 */
static int
reg_html(struct cli_ctx *ctx, sqlite3_stmt *stmt, const struct cli_opts *o,
    int64_t rows, const char *head)
{
	struct doc	 d;
	char		 css[256];
	size_t		 i;

	for (i = 0; i < reg_ncols && reg_cols[i].term != NULL; i++)
		;
	snprintf(css, sizeof(css), "@page { size: A4 landscape; }\n"
	    "@media screen { body { max-width: 277mm; } }\n"
	    "table.grid td:nth-child(n+%zu) { word-break: normal;"
	    " overflow-wrap: anywhere; }", i + 1);
	memset(&d, 0, sizeof(d));
	d.fmt = CLI_FMT_HTML;
	d.utf8 = 1;
	d.en = o->en;
	d.extra_css = css;
	return reg_html_write(ctx, &d, stmt, o, rows, head);
}

int
register_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_opts		 o = { 0 };
	struct cli_table	 t;
	struct cli_column	 cols[REG_NKEYS];
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
		reg_table_init(&t, cols, o.en, ctx->utf8);
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
	const char	*titles[REG_NKEYS], *cells[REG_NKEYS];
	const char	*sign[] = {
		DOC_L(d, "單位主管", "unit head"),
		DOC_L(d, "簽名", "signature"), DOC_L(d, "日期", "date"),
	};
	char		 sub[160], buf[REG_NKEYS][REG_CELL_LEN];
	size_t		 i, k, n;
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
	reg_titles(d, 1, titles, buf, &n);
	doc_table_begin(d, titles, n, "grid");
	/* All but the times; a drill only with --include-drills (5.8.1). */
	d->nowrap = 0;
	for (i = k = 0; i < reg_ncols; i++)
		if (reg_cols[i].digest && reg_cols[i].how != CLI_SHOW_TIME)
			d->nowrap |= 1U << k++;
		else if (reg_cols[i].digest)
			k++;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		for (i = k = 0; i < reg_ncols; i++)
			if (reg_cols[i].digest) {
				cells[k] = reg_cell(stmt, reg_cols[i].key,
				    !d->en, 0, d->en, NULL, buf[k],
				    sizeof(buf[k]));
				k++;
			}
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
