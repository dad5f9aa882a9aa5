/*
 * report.c: rtowatch report ID, form IMS-P-009-01 (資通安全事件報告單).
 *
 * Every field of procedure 5.2.4 (cause, level, possible scope, loss,
 * support, response measures), items A-G of the investigation report
 * (5.4.7.3.6), the clocks with what became of them, the recurring check
 * (purpose 1.1), the timeline, and the sign-off boxes of 5.5.1 and
 * 5.5.2.  An empty field is printed as such, never left out: the person
 * who signs must see what is missing.
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "doc.h"
#include "log.h"
#include "record.h"
#include "util.h"

#define REPORT_TIME_LEN	64

struct report_name {
	const char	*key, *zh, *en;
};

static const struct report_name report_kinds[] = {
	{ "outage", "服務中斷（系統偵測）", "outage, detected by rtowatchd" },
	{ "warning", "資安預警事件經確認", "confirmed early warning" },
	{ "manual", "人工登錄", "entered by a person" },
	{ "drill", "演練", "drill" },
};

static const struct report_name report_levels[] = {
	{ "1", "第1級（輕微）", "level 1 (minor, 輕微)" },
	{ "2", "第2級（注意）", "level 2 (attention, 注意)" },
	{ "3", "第3級（重大）", "level 3 (major, 重大)" },
	{ "4", "第4級（嚴重）", "level 4 (severe, 嚴重)" },
};

static const struct report_name report_statuses[] = {
	{ "open", "處理中", "open" },
	{ "restored", "已恢復正常運作", "restored" },
	{ "closed", "已結案", "closed" },
};

static const struct report_name report_clocks[] = {
	{ "notify", "通報（1小時內）", "notification (within 1 hour)" },
	{ "restore", "復原或損害管制", "restore or damage control" },
	{ "report", "調查、處理及改善報告", "investigation report" },
	{ "close", "結案（5.3.8 結案期限）", "closure (5.3.8 deadline)" },
};

static const struct report_name report_channels[] = {
	{ "phone", "電話", "phone (電話)" },
	{ "fax", "傳真", "fax (傳真)" },
	{ "in-person", "當面", "in person (當面)" },
	{ "email", "電子郵件", "email (電子郵件)" },
};

static const struct report_name report_mail_states[] = {
	{ "sent", "已寄達", "delivered" },
	{ "queued", "待寄送", "queued" },
	{ "failed", "寄送失敗", "failed" },
};

static const struct report_name report_states[] = {
	{ "met", "如期完成", "met" },
	{ "late", "逾時完成", "late" },
	{ "overdue", "已逾期", "overdue" },
	{ "open", "進行中", "open" },
};

/*
 * The timeline's events (the daemon's and the workflow's) in the form's
 * language: Chinese on the zh-TW form, the stored name on the English.
 */
static const struct report_name report_events[] = {
	{ "opened", "開立事件", "opened" },
	{ "restored", "服務已恢復", "restored" },
	{ "reclassified", "超過 RTO，改列重大事件", "reclassified" },
	{ "failed again", "恢復後再次中斷", "failed again" },
	{ "affected system down", "受影響系統中斷", "affected system down" },
	{ "affected system ended", "受影響系統恢復",
	    "affected system ended" },
	{ "acknowledged", "已知悉", "acknowledged" },
	{ "reported", "已通報", "reported" },
	{ "report corrected", "通報時間更正", "report corrected" },
	{ "damage controlled", "完成損害控制", "damage controlled" },
	{ "report filed", "已提交調查、處理及改善報告", "report filed" },
	{ "field set", "填寫欄位", "field set" },
	{ "level set", "設定影響等級", "level set" },
	{ "level raised", "影響等級提高", "level raised" },
	{ "declared major", "認定為重大事件", "declared major" },
	{ "contact", "聯繫紀錄", "contact" },
	{ "offline notification", "離線通報", "offline notification" },
	{ "closed", "結案", "closed" },
	{ "portal closed", "通報平台結案", "portal closed" },
	{ "notify reminder", "通報期限提醒", "notify reminder" },
	{ "notify deadline missed", "已逾通報期限",
	    "notify deadline missed" },
	{ "restore reminder", "損害控制或復原期限提醒",
	    "restore reminder" },
	{ "restore deadline missed", "已逾損害控制或復原期限",
	    "restore deadline missed" },
	{ "report reminder", "調查、處理及改善報告期限提醒",
	    "report reminder" },
	{ "report deadline missed", "已逾調查、處理及改善報告期限",
	    "report deadline missed" },
	{ "close reminder", "結案期限提醒", "close reminder" },
	{ "close deadline missed", "已逾結案期限", "close deadline missed" },
	{ "mail delivered", "通知郵件已寄達", "mail delivered" },
	{ "mail failing", "通知郵件寄送失敗", "mail failing" },
	{ "clock jump", "系統時鐘跳動", "clock jump" },
};

/* A stored key in the form's language, or the key itself. */
static const char *
report_name(const struct doc *d, const struct report_name *t, size_t n,
    const char *key)
{
	size_t	 i;

	if (key == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (strcmp(t[i].key, key) == 0)
			return d->en ? t[i].en : t[i].zh;
	return key;
}

static const char *
report_yesno(const struct doc *d, sqlite3_stmt *s, int col)
{
	if (sqlite3_column_type(s, col) == SQLITE_NULL)
		return NULL;
	if (sqlite3_column_int(s, col))
		return d->en ? "yes (是)" : "是";
	return d->en ? "no (否)" : "否";
}

static const char *
report_text(sqlite3_stmt *s, int col)
{
	return cli_col_text(s, col);
}

/*
 * A field's label on form 01 in the record's table (include/record.h),
 * "English (中文)" with --lang en as DOC_L writes it.
 */
static char *
report_label(const struct doc *d, enum record_id id)
{
	const struct record_field	*rf = &record_fields[id];
	char				*label;

	if (rf->form_zh == NULL)
		fatalx("%s: %s has no label on form 01", __func__, rf->column);
	if (d->en)
		xasprintf(&label, "%s (%s)", rf->form_en, rf->form_zh);
	else
		label = xstrdup(rf->form_zh);
	return label;
}

/* VALUE, as the form writes field ID, under the field's label. */
static void
report_put(struct doc *d, enum record_id id, const char *value)
{
	char	*label = report_label(d, id);

	doc_field(d, label, value);
	free(label);
}

/* A text member, as it is. */
static void
report_field(struct doc *d, sqlite3_stmt *inc, enum record_id id)
{
	report_put(d, id, report_text(inc, (int)id));
}

/* A time in --tz, "by WHOM" after it when known. */
static const char *
report_when(sqlite3_stmt *s, int col, int bycol, char *buf, size_t len)
{
	const char	*t = report_text(s, col), *by;
	char		 local[REPORT_TIME_LEN];

	if (t == NULL)
		return NULL;
	t = cli_time_local(t, local, sizeof(local));
	if (bycol >= 0 && (by = report_text(s, bycol)) != NULL)
		snprintf(buf, len, "%s (%s)", t, by);
	else
		snprintf(buf, len, "%s", t);
	return buf;
}

/* A time in --tz under field ID's label, "by WHOM" (column BY) after it. */
static void
report_put_when(struct doc *d, sqlite3_stmt *inc, enum record_id id, int by)
{
	char	 buf[REPORT_TIME_LEN];

	report_put(d, id, report_when(inc, (int)id, by, buf, sizeof(buf)));
}

/*
 * The portal report's time as claimed and, beside it, when it was
 * entered: a report entered after its deadline shows as such even when
 * the time claimed is within it.
 */
static char *
report_reported(struct doc *d, sqlite3_stmt *inc)
{
	const char	*entered = report_text(inc, RECORD_REPORTED_ENTERED_AT);
	char		 at[REPORT_TIME_LEN * 2], e[REPORT_TIME_LEN];
	char		*out;

	if (report_when(inc, RECORD_REPORTED_AT, RECORD_REPORTED_BY, at,
	    sizeof(at)) == NULL)
		return NULL;
	if (entered == NULL)
		return xstrdup(at);
	xasprintf(&out, d->en ? "reported at %s, entered at %s" :
	    "通報於 %s，登錄於 %s", at,
	    cli_time_local(entered, e, sizeof(e)));
	return out;
}

/*
 * Who discovered it (發現人員, 4.2): the early warning it was confirmed
 * from (its source, the outside ticket, its summary), or whoever wrote
 * the incident's first event, rtowatchd for an outage.
 */
static char *
report_discoverer(struct cli_ctx *ctx, int64_t id, sqlite3_stmt *inc)
{
	sqlite3_stmt	*stmt;
	char		*out = NULL;
	int		 warning;

	warning = sqlite3_column_type(inc, RECORD_WARNING_ID) != SQLITE_NULL;
	stmt = cli_prepare(ctx, warning ? "SELECT source || coalesce(' ' ||"
	    " reference, '') || ': ' || summary || ' (#' || id || ')'"
	    " FROM warnings WHERE id = ?" : "SELECT actor FROM timeline"
	    " WHERE incident_id = ? ORDER BY id LIMIT 1");
	if (stmt == NULL)
		return NULL;
	sqlite3_bind_int64(stmt, 1, warning ? sqlite3_column_int64(inc,
	    RECORD_WARNING_ID) : id);
	if (sqlite3_step(stmt) == SQLITE_ROW && report_text(stmt, 0) != NULL)
		out = xstrdup(report_text(stmt, 0));
	sqlite3_finalize(stmt);
	return out;
}

/* Affected systems recorded on this incident (incident_scope). */
static char *
report_scope(struct cli_ctx *ctx, const struct doc *d, int64_t id,
    const char *scope)
{
	sqlite3_stmt	*stmt;
	char		*out, *t, a[REPORT_TIME_LEN], b[REPORT_TIME_LEN];
	const char	*end;
	int		 rc;

	out = xstrdup(scope != NULL ? scope : "");
	if ((stmt = cli_prepare(ctx, "SELECT system, started_at, ended_at"
	    " FROM incident_scope WHERE incident_id = ? ORDER BY id")) == NULL)
		return out;
	sqlite3_bind_int64(stmt, 1, id);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		end = report_text(stmt, 2) != NULL ? cli_time_local(
		    report_text(stmt, 2), b, sizeof(b)) : "-";
		xasprintf(&t, "%s%s%s %s: %s – %s", out, *out ? "\n" : "",
		    d->en ? "affected system (受影響系統)" : "受影響系統",
		    report_text(stmt, 0), cli_time_local(report_text(stmt, 1),
		    a, sizeof(a)), end);
		free(out);
		out = t;
	}
	sqlite3_finalize(stmt);
	cli_step_error(ctx, rc);	/* said; the form shows what it has */
	return out;
}

/* "第2級（注意）; 機密性 -, 完整性 -, 可用性 2". */
static char *
report_level(const struct doc *d, sqlite3_stmt *inc)
{
	static const enum record_id	 cia[] = { RECORD_CONFIDENTIALITY_LEVEL,
	    RECORD_INTEGRITY_LEVEL, RECORD_AVAILABILITY_LEVEL };
	const char			*v;
	char				*s, *t, *label;
	size_t				 i;

	s = xstrdup(report_name(d, report_levels, CLI_NITEMS(report_levels),
	    report_text(inc, RECORD_LEVEL)));
	for (i = 0; i < CLI_NITEMS(cia); i++) {
		label = report_label(d, cia[i]);
		v = report_text(inc, (int)cia[i]);
		xasprintf(&t, "%s%s %s %s", s, i == 0 ? ";" : ",", label,
		    v != NULL ? v : "-");
		free(label);
		free(s);
		s = t;
	}
	return s;
}

static int
report_clocks_table(struct doc *d, sqlite3_stmt *cl)
{
	const char	*titles[] = {
		DOC_L(d, "時限", "clock"), DOC_L(d, "等級", "level"),
		DOC_L(d, "起算", "started"), DOC_L(d, "期限", "due"),
		DOC_L(d, "完成", "done"), DOC_L(d, "結果", "result"),
	};
	const char	*cells[CLI_NITEMS(titles)];
	char		 a[REPORT_TIME_LEN], b[REPORT_TIME_LEN];
	char		 c[REPORT_TIME_LEN];
	int		 rc;

	doc_table_begin(d, titles, CLI_NITEMS(titles), "grid");
	while ((rc = sqlite3_step(cl)) == SQLITE_ROW) {
		cells[0] = report_name(d, report_clocks,
		    CLI_NITEMS(report_clocks), report_text(cl, QUERY_C_KIND));
		cells[1] = report_text(cl, QUERY_C_LEVEL);
		cells[2] = cli_time_local(report_text(cl, QUERY_C_STARTED), a,
		    sizeof(a));
		cells[3] = cli_time_local(report_text(cl, QUERY_C_DUE), b,
		    sizeof(b));
		cells[4] = report_when(cl, QUERY_C_STOPPED, QUERY_C_STOPPED_BY,
		    c, sizeof(c));
		cells[5] = report_name(d, report_states,
		    CLI_NITEMS(report_states), report_text(cl, QUERY_C_STATE));
		doc_table_row(d, cells);
	}
	doc_table_end(d, d->en ? "no clocks (無)" : "無");
	return rc;
}

static int
report_timeline(struct doc *d, sqlite3_stmt *tl, char *last, size_t len)
{
	const char	*titles[] = {
		"#", DOC_L(d, "時間", "time"), DOC_L(d, "事件", "event"),
		DOC_L(d, "人員", "actor"), DOC_L(d, "說明", "detail"),
	};
	const char	*cells[CLI_NITEMS(titles)];
	char		 a[REPORT_TIME_LEN], *detail;
	int		 rc;

	snprintf(last, len, "%s", "");
	doc_table_begin(d, titles, CLI_NITEMS(titles), "grid");
	while ((rc = sqlite3_step(tl)) == SQLITE_ROW) {
		cells[0] = report_text(tl, CLI_T_ID);
		cells[1] = cli_time_local(report_text(tl, CLI_T_AT), a,
		    sizeof(a));
		cells[2] = report_name(d, report_events,
		    CLI_NITEMS(report_events), report_text(tl, CLI_T_EVENT));
		cells[3] = report_text(tl, CLI_T_ACTOR);
		/* The detail's UTC times in --tz, as the form's others. */
		detail = time_text_local(report_text(tl, CLI_T_DETAIL), 0);
		cells[4] = detail;
		snprintf(last, len, "%s", cells[0]);
		doc_table_row(d, cells);
		free(detail);
	}
	doc_table_end(d, d->en ? "no events (無)" : "無");
	return rc;
}

/*
 * Who was told, how and when (5.3.8, 5.3.7.3.3): the contacts people
 * recorded, then the mails the daemon sent, each with when the mail
 * server took it.
 */
static int
report_contacts(struct cli_ctx *ctx, struct doc *d, int64_t id)
{
	const char	*ctitles[] = {
		DOC_L(d, "聯繫時間", "when"), DOC_L(d, "對象", "to"),
		DOC_L(d, "方式", "how"), DOC_L(d, "聯繫人", "by"),
		DOC_L(d, "說明", "note"), DOC_L(d, "登錄時間", "entered"),
	};
	const char	*mtitles[] = {
		DOC_L(d, "收件者", "recipient"), DOC_L(d, "地址", "address"),
		DOC_L(d, "事由", "event"), DOC_L(d, "排入時間", "queued"),
		DOC_L(d, "寄達時間", "delivered"), DOC_L(d, "狀態", "state"),
	};
	const char	*cells[6];
	char		 a[REPORT_TIME_LEN], b[REPORT_TIME_LEN], *note;
	sqlite3_stmt	*stmt;
	int		 rc;

	doc_note(d, d->en ? "Contacts made by people (人員聯繫紀錄, 5.3.8); "
	    "an offline notification (離線通報, 5.3.7.3.3) is marked as such:" :
	    "人員聯繫紀錄（通報對象及方式 5.3.8；離線通報 5.3.7.3.3 另註明）：");
	if ((stmt = cli_prepare(ctx, "SELECT at, recipient, channel, made_by,"
	    " note, offline, entered_at FROM contacts WHERE incident_id = ?"
	    " ORDER BY at, id")) == NULL)
		return SQLITE_ERROR;
	sqlite3_bind_int64(stmt, 1, id);
	doc_table_begin(d, ctitles, CLI_NITEMS(ctitles), "grid");
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		cells[0] = cli_time_local(report_text(stmt, 0), a, sizeof(a));
		cells[1] = report_text(stmt, 1);
		cells[2] = report_name(d, report_channels,
		    CLI_NITEMS(report_channels), report_text(stmt, 2));
		cells[3] = report_text(stmt, 3);
		if (sqlite3_column_int(stmt, 5))
			xasprintf(&note, "%s%s%s", d->en ? "offline "
			    "notification (離線通報, 5.3.7.3.3)" :
			    "離線通報 (5.3.7.3.3)", *report_text(stmt, 4) ?
			    "; " : "", report_text(stmt, 4));
		else
			note = xstrdup(report_text(stmt, 4));
		cells[4] = note;
		cells[5] = cli_time_local(report_text(stmt, 6), b, sizeof(b));
		doc_table_row(d, cells);
		free(note);
	}
	sqlite3_finalize(stmt);
	doc_table_end(d, d->en ? "no contacts recorded (無)" : "無");
	if (rc != SQLITE_DONE)
		return rc;

	doc_note(d, d->en ? "Mails and webhooks rtowatchd sent (系統寄出之"
	    "通知), delivered when the mail server or the webhook's receiver "
	    "accepted them:" : "系統寄出之通知（寄達時間為郵件伺服器或 webhook "
	    "接收端收下之時間）：");
	/* A webhook is named as such: a contact may share its name. */
	if ((stmt = cli_prepare(ctx, "SELECT CASE channel WHEN 'webhook'"
	    " THEN 'webhook ' || recipient ELSE recipient END, address, event,"
	    " created_at, sent_at, state FROM notifications"
	    " WHERE incident_id = ? ORDER BY id")) == NULL)
		return SQLITE_ERROR;
	sqlite3_bind_int64(stmt, 1, id);
	doc_table_begin(d, mtitles, CLI_NITEMS(mtitles), "grid");
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		cells[0] = report_text(stmt, 0);
		cells[1] = report_text(stmt, 1) != NULL ? report_text(stmt, 1) :
		    "-";
		cells[2] = report_text(stmt, 2);
		cells[3] = cli_time_local(report_text(stmt, 3), a, sizeof(a));
		cells[4] = report_text(stmt, 4) != NULL ? cli_time_local(
		    report_text(stmt, 4), b, sizeof(b)) : "-";
		cells[5] = report_name(d, report_mail_states,
		    CLI_NITEMS(report_mail_states), report_text(stmt, 5));
		doc_table_row(d, cells);
	}
	sqlite3_finalize(stmt);
	doc_table_end(d, d->en ? "no mails (無)" : "無");
	return rc;
}

/* "A, B" joined with a blank line, either may be missing. */
static char *
report_join(const char *a, const char *b)
{
	char	*s;

	if (a == NULL || *a == '\0')
		return xstrdup(b != NULL ? b : "");
	if (b == NULL || *b == '\0')
		return xstrdup(a);
	xasprintf(&s, "%s\n\n%s", a, b);
	return s;
}

static int
report_write(struct cli_ctx *ctx, struct doc *d, int64_t id,
    sqlite3_stmt *inc, sqlite3_stmt *cl, sqlite3_stmt *tl,
    const int64_t *earlier, size_t nearlier)
{
	const char	*units[] = {
		DOC_L(d, "會辦單位", "unit involved"),
		DOC_L(d, "職稱／姓名", "title / name"),
		DOC_L(d, "簽名", "signature"), DOC_L(d, "日期", "date"),
	};
	const char	*head[] = {
		DOC_L(d, "評估意見", "assessment"),
		DOC_L(d, "主管簽名", "supervisor's signature"),
		DOC_L(d, "日期", "date"),
	};
	char		 rto[REPORT_TIME_LEN], sub[160], last[32];
	char		 foot[1536], check[768];
	size_t		 len;
	char		 printed[REPORT_TIME_LEN], num[32], hash[80];
	const char	*v;
	char		*s, *list;
	int64_t		 rows;
	int		 rc, drill;

	snprintf(num, sizeof(num), "#%lld", (long long)id);
	cli_time_local_ms(wall_ms(), printed, sizeof(printed));
	drill = report_text(inc, RECORD_KIND) != NULL &&
	    strcmp(report_text(inc, RECORD_KIND), "drill") == 0;
	snprintf(sub, sizeof(sub), d->en ? "%sincident %s, times in %s" :
	    "%s事件編號 %s，時間以 %s 表示", drill ? (d->en ? "DRILL (演練), " :
	    "演練 DRILL，") : "", num, ctx->tz);
	doc_begin(d, d->en ? "Information Security Incident Report "
	    "(資通安全事件報告單)" : "資通安全事件報告單",
	    "IMS-P-009-01", sub);
	/* 5.8.1: a drill's form must never pass for a real incident's. */
	if (drill)
		doc_note(d, d->en ? "DRILL (演練): a drill incident (5.8.1), "
		    "not a real one." : "演練 DRILL：本事件為資安演練 (5.8.1)，"
		    "非真實事件。");

	doc_heading(d, DOC_L(d, "一、基本資料", "1. The incident"));
	report_put(d, RECORD_ID, num);
	report_put(d, RECORD_KIND, report_name(d, report_kinds,
	    CLI_NITEMS(report_kinds), report_text(inc, RECORD_KIND)));
	s = report_discoverer(ctx, id, inc);
	doc_field(d, DOC_L(d, "發現人員／來源", "discovered by"), s);
	free(s);
	report_field(d, inc, RECORD_SYSTEM);
	report_field(d, inc, RECORD_OWNER);
	report_put(d, RECORD_CORE, report_yesno(d, inc, RECORD_CORE));
	report_put(d, RECORD_CRITICAL_INFRASTRUCTURE, report_yesno(d, inc,
	    RECORD_CRITICAL_INFRASTRUCTURE));
	report_put(d, RECORD_RTO_MS, duration_fmt(sqlite3_column_int64(inc,
	    RECORD_RTO_MS), rto, sizeof(rto)));
	report_field(d, inc, RECORD_CATEGORY);
	report_field(d, inc, RECORD_DESCRIPTION);
	report_put(d, RECORD_STATUS, report_name(d, report_statuses,
	    CLI_NITEMS(report_statuses), report_text(inc, RECORD_STATUS)));

	doc_heading(d, DOC_L(d, "二、事件通報 (5.2.4)",
	    "2. Notification (5.2.4)"));
	report_field(d, inc, RECORD_CAUSE);
	s = report_level(d, inc);
	report_put(d, RECORD_LEVEL, s);
	free(s);
	/* 5.3.3: levels 3-4 are incidents (事故), 1-2 events (事件). */
	doc_field(d, DOC_L(d, "資安事件／資安事故 (5.3.3)",
	    "event or incident (5.3.3)"), sqlite3_column_int(inc,
	    RECORD_LEVEL) >= 3 ? DOC_L(d, "資通安全事故（第3、4級）",
	    "incident (事故), levels 3-4") : DOC_L(d,
	    "資通安全事件（第1、2級）", "event (事件), levels 1-2"));
	if (!sqlite3_column_int(inc, RECORD_MAJOR))
		s = xstrdup(DOC_L(d, "一般安全事件", "general"));
	else if (report_text(inc, RECORD_MAJOR_REASON) != NULL)
		xasprintf(&s, d->en ? "major / emergency (重大／緊急事件), "
		    "declared by a person: %s" : "重大／緊急事件（人員認定：%s）",
		    report_text(inc, RECORD_MAJOR_REASON));
	else
		s = xstrdup(DOC_L(d, "重大／緊急事件", "major / emergency"));
	report_put(d, RECORD_MAJOR, s);
	free(s);
	s = report_scope(ctx, d, id, report_text(inc, RECORD_SCOPE));
	report_put(d, RECORD_SCOPE, s);
	free(s);
	report_field(d, inc, RECORD_LOSS);
	report_field(d, inc, RECORD_SUPPORT);
	report_field(d, inc, RECORD_MEASURES);
	report_put_when(d, inc, RECORD_ACKNOWLEDGED_AT,
	    RECORD_ACKNOWLEDGED_BY);
	s = report_reported(d, inc);
	report_put(d, RECORD_REPORTED_AT, s);
	free(s);
	report_field(d, inc, RECORD_TICKET);
	report_field(d, inc, RECORD_OTHER_UNITS_AFFECTED);
	report_put_when(d, inc, RECORD_PORTAL_CLOSED_AT,
	    RECORD_PORTAL_CLOSED_BY);
	report_field(d, inc, RECORD_PORTAL_RESULT);
	if ((rc = report_contacts(ctx, d, id)) != SQLITE_DONE)
		return rc;

	doc_heading(d, DOC_L(d, "三、調查、處理及改善報告 (5.4.7.3.6)",
	    "3. Investigation, handling and improvement report (5.4.7.3.6)"));
	report_put_when(d, inc, RECORD_STARTED_AT, -1);
	report_put_when(d, inc, RECORD_OPENED_AT, -1);
	report_put_when(d, inc, RECORD_CONTROLLED_AT, RECORD_CONTROLLED_BY);
	report_put_when(d, inc, RECORD_RESTORED_AT, -1);
	report_put(d, RECORD_WITHIN_RTO, report_yesno(d, inc,
	    RECORD_WITHIN_RTO));
	s = report_join(report_text(inc, RECORD_SCOPE),
	    report_text(inc, RECORD_LOSS));
	doc_field(d, DOC_L(d, "B. 事件影響之範圍及損害評估",
	    "B. scope of impact and damage assessment"), s);
	free(s);
	report_field(d, inc, RECORD_CONTAINMENT);
	report_field(d, inc, RECORD_INVESTIGATION);
	report_field(d, inc, RECORD_ROOT_CAUSE);
	report_field(d, inc, RECORD_PREVENTION);
	report_field(d, inc, RECORD_PREVENTION_TRACKING);
	v = report_text(inc, RECORD_CORRECTIVE_ACTION_REF);
	if (sqlite3_column_int(inc, RECORD_LEVEL) >= 3 || v != NULL)
		report_put(d, RECORD_CORRECTIVE_ACTION_REF, v != NULL ? v : "");
	else
		report_put(d, RECORD_CORRECTIVE_ACTION_REF, DOC_L(d,
		    "不適用（第1、2級）", "not required for levels 1-2"));
	report_put_when(d, inc, RECORD_REPORT_FILED_AT,
	    RECORD_REPORT_FILED_BY);

	doc_heading(d, DOC_L(d, "四、處理時限 (5.3.4, 5.3.7.3)",
	    "4. Deadlines (5.3.4, 5.3.7.3)"));
	if ((rc = report_clocks_table(d, cl)) != SQLITE_DONE)
		return rc;

	doc_heading(d, DOC_L(d, "五、重複發生之事件 (1.1)",
	    "5. Recurring (1.1)"));
	list = recur_list(earlier, nearlier);
	if (nearlier > 0)
		xasprintf(&s, d->en ? "yes: this system's earlier incidents "
		    "%s (是)" : "是：本系統先前事件 %s", list);
	else
		s = xstrdup(d->en ? "no (否)" : "否");
	doc_field(d, DOC_L(d, "重複發生", "recurring"), s);
	free(s);
	free(list);
	/* A relapse after closing: the closed record stays as it was. */
	if (sqlite3_column_type(inc, RECORD_RECURRENCE_OF) != SQLITE_NULL)
		xasprintf(&s, d->en ? "incident #%lld, which was closed "
		    "(已結案事件再次發生)" : "已結案之事件 #%lld 再次發生",
		    (long long)sqlite3_column_int64(inc, RECORD_RECURRENCE_OF));
	else
		s = xstrdup(d->en ? "no (否)" : "否");
	report_put(d, RECORD_RECURRENCE_OF, s);
	free(s);

	doc_heading(d, DOC_L(d, "六、事件歷程", "6. Timeline"));
	if ((rc = report_timeline(d, tl, last, sizeof(last))) != SQLITE_DONE)
		return rc;

	doc_heading(d, DOC_L(d, "七、相關會辦單位簽名確認 (5.5.1)",
	    "7. Units involved sign (5.5.1)"));
	doc_sign(d, units, CLI_NITEMS(units), 3);
	doc_heading(d, DOC_L(d, "八、主管評估 (5.5.2)",
	    "8. Supervisor's assessment (5.5.2)"));
	doc_note(d, d->en ? "The impact has been improved and controlled, "
	    "and normal operation restored (影響與衝擊已獲得改善與控制，"
	    "且恢復正常運作): [ ] yes  [ ] no" :
	    "影響與衝擊已獲得改善與控制，且恢復正常運作：□是　□否");
	doc_sign(d, head, CLI_NITEMS(head), 1);

	if (cli_chain_head(ctx, &rows, hash, sizeof(hash)) == -1)
		return SQLITE_ERROR;
	snprintf(foot, sizeof(foot), d->en ?
	    "IMS-P-009-01, kept at least 3 years (5.10). Printed %s from %s; "
	    "last event #%s; timeline chain: %lld rows, head %s "
	    "(rtowatch verify --head)." :
	    "IMS-P-009-01，保存期限至少3年 (5.10)。列印時間 %s，資料庫 %s；"
	    "最後事件 #%s；時間軸雜湊鏈 %lld 筆，鏈首 %s（rtowatch verify "
	    "--head）。", printed, ctx->db_path, *last ? last : "-",
	    (long long)rows, *hash ? hash : "-");
	/* What it prints was checked against that head, or says why not. */
	if ((rc = verify_summary(ctx, d->en, check, sizeof(check))) == -1)
		return SQLITE_ERROR;
	if (rc == 1)
		cli_warnx("%s", check);
	len = strlen(foot);
	snprintf(foot + len, sizeof(foot) - len, " %s", check);
	doc_end(d, foot);
	return SQLITE_DONE;
}

int
report_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_opts	 o = { 0 };
	struct doc	 d;
	sqlite3_stmt	*inc, *cl, *tl;
	int64_t		 id, *ids = NULL;
	size_t		 n = 0;
	int		 rc, status = CLI_EXIT_ERR;

	if ((rc = cli_options(ctx, argc, argv, &o)) != 0)
		return rc;
	id = o.id;
	if (cli_open(ctx) == -1 || query_record(ctx, id, &inc, &cl, &tl) == -1)
		return CLI_EXIT_ERR;
	memset(&d, 0, sizeof(d));
	d.fmt = o.fmt;
	d.utf8 = ctx->utf8;
	d.en = o.en;
	if (recur_find(ctx, &o.recur, id, &ids, &n) == 0 &&
	    cli_step_error(ctx, report_write(ctx, &d, id, inc, cl, tl, ids,
	    n)) == 0)
		status = CLI_EXIT_OK;
	free(ids);
	query_record_free(inc, cl, tl);
	return status;
}
