/*
 * record.c: the incident record's fields (include/record.h), shared by
 * the daemon and the CLI.
 */
#include <stdio.h>
#include <string.h>

#include "record.h"

#define INT	RECORD_INT
#define BOOL	RECORD_BOOL
#define TEXT	RECORD_TEXT
#define TIME	RECORD_TIME
#define D	RECORD_DAEMON
#define S	RECORD_SET
#define V	RECORD_VERB
#define NO	RECORD_CLOSE_NO
#define ALL	RECORD_CLOSE_ALL
#define L34	RECORD_CLOSE_34
#define REP	RECORD_CLOSE_REPORT
/* Neither `edit` nor form 01 shows it under a label of its own. */
#define NOLABEL	.zh = NULL
/* Its place among the CLI's members, its line in `show`, in the mail. */
#define CLI(n)		.cli_at = (n)
#define SHOW(n, label)	.show_at = (n), .show = (label)
#define MAIL(n, label)	.mail_at = (n), .mail = (label)
/* Its column on form 02, the register: place, titles; in its CSV only. */
#define REG(n, zh, en, term, drop)					\
	.reg_at = (n), .reg_zh = (zh), .reg_en = (en), .reg_term = (term), \
	.reg_drop = (drop)
#define REG_CSV(n)	.reg_at = (n)
/* A column of the monthly digest too (5.5.5). */
#define DIGEST		.reg_digest = 1

/*
 * One row a member of enum record_id; a row left out is all zero, which
 * test_record finds (a field without a column).
 */
const struct record_field record_fields[RECORD_NFIELDS] = {
	[RECORD_ID] = {
	    NULL, "id", INT, D, NO,
	    .form_zh = "事件編號", .form_en = "incident number",
	    CLI(1), SHOW(1, "id"),
	    REG(1, "編號", "no.", "ID", 0), DIGEST },
	[RECORD_KIND] = {
	    NULL, "kind", TEXT, D, NO,
	    .form_zh = "事件來源", .form_en = "kind",
	    CLI(2), SHOW(3, "kind"),
	    REG_CSV(19) },
	[RECORD_SYSTEM] = {
	    NULL, "system", TEXT, D, NO,
	    .form_zh = "受影響系統", .form_en = "system",
	    CLI(3), SHOW(2, "system"),
	    REG(2, "系統", "system", "SYSTEM", 0), DIGEST },
	[RECORD_OWNER] = {
	    NULL, "owner", TEXT, D, NO,
	    .form_zh = "系統負責單位", .form_en = "owner",
	    CLI(4), SHOW(12, "owner") },
	[RECORD_CORE] = {
	    NULL, "core", BOOL, D, NO,
	    .form_zh = "核心業務", .form_en = "core business",
	    CLI(9), SHOW(13, "core") },
	[RECORD_CRITICAL_INFRASTRUCTURE] = {
	    NULL, "critical_infrastructure", BOOL, D, NO,
	    .form_zh = "關鍵基礎設施", .form_en = "critical infrastructure",
	    CLI(10), SHOW(14, "critical infrastructure") },
	[RECORD_RTO_MS] = {
	    NULL, "rto_ms", INT, D, NO,
	    .form_zh = "復原目標時間 RTO",
	    .form_en = "recovery time objective",
	    CLI(11), SHOW(15, "rto") },
	[RECORD_LEVEL] = {
	    NULL, "level", INT, V, NO,
	    .form_zh = "影響等級", .form_en = "impact level",
	    CLI(5), SHOW(4, "level"),
	    REG(4, "等級", "level", "LEVEL", 0), DIGEST },
	[RECORD_AVAILABILITY_LEVEL] = {
	    NULL, "availability_level", INT, V, NO,
	    .form_zh = "可用性", .form_en = "availability",
	    CLI(6), SHOW(5, "availability level") },
	[RECORD_MAJOR] = {
	    NULL, "major", BOOL, V, NO,
	    .form_zh = "事件分類 (5.2.3)", .form_en = "classification",
	    CLI(7), SHOW(8, "class"),
	    REG(5, "一般／重大", "general / major", "CLASS", 0) },
	[RECORD_STATUS] = {
	    NULL, "status", TEXT, D, NO,
	    .form_zh = "處理狀態", .form_en = "status",
	    CLI(8), SHOW(10, "status"),
	    REG(17, "狀態", "status", "STATUS", 0), DIGEST },
	[RECORD_CAUSE] = {
	    "cause", "cause", TEXT, S, ALL,
	    .zh = "原因", .en = "cause",
	    .form_zh = "事件發生之原因", .form_en = "cause",
	    SHOW(17, "cause"), MAIL(13, "事件原因 Cause"),
	    REG(20, "原因", "cause", NULL, 0) },
	[RECORD_STARTED_AT] = {
	    NULL, "started_at", TIME, D, NO,
	    .form_zh = "A. 事件發生時間", .form_en = "A. happened",
	    SHOW(19, "started"), MAIL(1, "發生時間 Happened"),
	    REG(6, "發生時間", "happened", "STARTED", 0), DIGEST },
	[RECORD_OPENED_AT] = {
	    NULL, "opened_at", TIME, D, NO,
	    .form_zh = "A. 知悉其發生之時間", .form_en = "A. became known",
	    SHOW(20, "opened"), MAIL(2, "知悉時間 Became known"),
	    REG(7, "知悉時間", "known", "KNOWN", 8) },
	[RECORD_NOTIFY_DUE_AT] = {
	    NULL, "notify_due_at", TIME, D, NO, NOLABEL,
	    SHOW(21, "notify due") },
	[RECORD_RESTORE_DUE_AT] = {
	    NULL, "restore_due_at", TIME, D, NO, NOLABEL,
	    SHOW(27, "restore due") },
	/* The daemon for an outage, `restored` for the rest. */
	[RECORD_RESTORED_AT] = {
	    NULL, "restored_at", TIME, V, NO,
	    .form_zh = "A. 完成復原作業之時間", .form_en = "A. restored",
	    SHOW(29, "restored"), MAIL(6, "恢復時間 Restored"),
	    REG(10, "復原時間", "restored", "RESTORED", 1),
	    DIGEST },
	[RECORD_WITHIN_RTO] = {
	    NULL, "within_rto", BOOL, D, NO,
	    .form_zh = "A. 於RTO內恢復", .form_en = "A. restored within RTO",
	    SHOW(30, "within rto"),
	    REG(12, "RTO內恢復", "within RTO", "IN RTO", 7), DIGEST },
	[RECORD_CLOSED_AT] = {
	    NULL, "closed_at", TIME, V, NO, NOLABEL,
	    SHOW(44, "closed"), MAIL(10, "結案時間 Closed"),
	    REG(11, "結案時間", "closed", "CLOSED", 4) },
	[RECORD_CLOSED_BY] = {
	    NULL, "closed_by", TEXT, V, NO, NOLABEL,
	    SHOW(45, "closed by"), MAIL(11, "結案人員 Closed by") },
	[RECORD_CONFIDENTIALITY_LEVEL] = {
	    NULL, "confidentiality_level", INT, V, NO,
	    .form_zh = "機密性", .form_en = "confidentiality",
	    SHOW(6, "confidentiality level") },
	[RECORD_INTEGRITY_LEVEL] = {
	    NULL, "integrity_level", INT, V, NO,
	    .form_zh = "完整性", .form_en = "integrity",
	    SHOW(7, "integrity level") },
	[RECORD_CATEGORY] = {
	    "category", "category", TEXT, S, NO,
	    .zh = "事件分類", .en = "category (a code of policy.conf)",
	    .form_zh = "事件類別", .form_en = "category",
	    SHOW(16, "category"), MAIL(12, "事件分類 Category"),
	    REG(3, "類別", "category", "CATEGORY", 5), DIGEST },
	[RECORD_DESCRIPTION] = {
	    "description", "description", TEXT, S, NO,
	    .zh = "事件說明", .en = "description",
	    .form_zh = "事件說明", .form_en = "description",
	    SHOW(18, "description"), MAIL(14, "事件說明 Description"),
	    REG(21, "事件說明", "description", NULL, 0) },
	[RECORD_SCOPE] = {
	    "scope", "scope", TEXT, S, ALL,
	    .zh = "B 影響範圍及損害評估", .en = "scope and damage",
	    .form_zh = "可能影響範圍", .form_en = "possible scope",
	    SHOW(31, "scope"),
	    MAIL(15, "影響範圍及損害評估 Scope and damage") },
	[RECORD_LOSS] = {
	    "loss", "loss", TEXT, S, NO,
	    .zh = "損失評估", .en = "loss assessment",
	    .form_zh = "損失評估", .form_en = "loss assessment",
	    SHOW(32, "loss"), MAIL(16, "損失評估 Loss") },
	[RECORD_SUPPORT] = {
	    "support", "support", TEXT, S, NO,
	    .zh = "支援申請", .en = "outside support requested",
	    .form_zh = "判斷支援申請", .form_en = "support requested",
	    SHOW(33, "support"), MAIL(17, "支援申請 Support requested") },
	[RECORD_MEASURES] = {
	    "measures", "measures", TEXT, S, ALL,
	    .zh = "應變措施", .en = "measures taken",
	    .form_zh = "採取之應變措施", .form_en = "response measures",
	    SHOW(34, "measures"), MAIL(19, "應變措施 Measures"),
	    REG(22, "應變措施", "measures", NULL, 0) },
	/* Items C-G of 5.4.7.3.6 (A and B are the times and the scope). */
	[RECORD_CONTAINMENT] = {
	    "containment", "containment", TEXT, S, L34,
	    .zh = "C 損害控制及復原歷程", .en = NULL,
	    .form_zh = "C. 損害控制及復原作業之歷程",
	    .form_en = "C. damage control and restoration",
	    SHOW(35, "containment"),
	    MAIL(20, "損害控制及復原歷程 Containment") },
	[RECORD_INVESTIGATION] = {
	    "investigation", "investigation", TEXT, S, L34,
	    .zh = "D 調查及處理歷程", .en = NULL,
	    .form_zh = "D. 事件調查及處理作業之歷程",
	    .form_en = "D. investigation and handling",
	    SHOW(36, "investigation"),
	    MAIL(21, "調查及處理歷程 Investigation") },
	[RECORD_ROOT_CAUSE] = {
	    "root-cause", "root_cause", TEXT, S, L34,
	    .zh = "E 事件根因分析", .en = "root cause",
	    .form_zh = "E. 事件根因分析", .form_en = "E. root-cause analysis",
	    SHOW(37, "root cause"), MAIL(22, "原因分析 Root cause") },
	[RECORD_PREVENTION] = {
	    "prevention", "prevention", TEXT, S, L34,
	    .zh = "F 防範措施", .en = "prevention",
	    .form_zh = "F. 防範類似事件再次發生之措施",
	    .form_en = "F. measures against recurrence",
	    SHOW(38, "prevention"), MAIL(23, "防範措施 Prevention") },
	[RECORD_PREVENTION_TRACKING] = {
	    "prevention-tracking", "prevention_tracking", TEXT, S, L34,
	    .zh = "G 預定完成時程及成效追蹤", .en = NULL,
	    .form_zh = "G. 措施之預定完成時程及成效追蹤機制",
	    .form_en = "G. completion dates and tracking",
	    SHOW(39, "prevention tracking"),
	    MAIL(24, "預計完成時間及成效追蹤 Tracking") },
	[RECORD_ACKNOWLEDGED_AT] = {
	    NULL, "acknowledged_at", TIME, V, NO,
	    .form_zh = "確認（知悉）時間", .form_en = "acknowledged",
	    SHOW(22, "acknowledged") },
	[RECORD_ACKNOWLEDGED_BY] = {
	    NULL, "acknowledged_by", TEXT, V, NO, NOLABEL },
	[RECORD_REPORTED_AT] = {
	    NULL, "reported_at", TIME, V, NO,
	    .form_zh = "通報應變網站通報時間",
	    .form_en = "reported on the portal",
	    SHOW(23, "reported"), MAIL(3, "通報時間 Reported on the portal"),
	    REG_CSV(8) },
	[RECORD_TICKET] = {
	    "ticket", "ticket", TEXT, V, ALL,
	    .form_zh = "通報單號", .form_en = "portal ticket",
	    SHOW(25, "ticket"), MAIL(4, "通報單號 Portal ticket"),
	    REG(9, "通報單號", "ticket", "TICKET", 2), DIGEST },
	[RECORD_REPORTED_BY] = {
	    NULL, "reported_by", TEXT, V, NO, NOLABEL },
	[RECORD_CONTROLLED_AT] = {
	    NULL, "controlled_at", TIME, V, NO,
	    .form_zh = "A. 完成損害控制之時間",
	    .form_en = "A. damage controlled",
	    SHOW(28, "controlled"), MAIL(5, "損害控制 Damage controlled") },
	[RECORD_CONTROLLED_BY] = {
	    NULL, "controlled_by", TEXT, V, NO, NOLABEL },
	[RECORD_REPORT_FILED_AT] = {
	    "report-filed", "report_filed_at", TIME, V, REP,
	    .form_zh = "報告函送時間", .form_en = "report filed",
	    SHOW(40, "report filed"),
	    MAIL(7, "調查報告 Investigation report filed") },
	[RECORD_REPORT_FILED_BY] = {
	    NULL, "report_filed_by", TEXT, V, NO, NOLABEL },
	[RECORD_WARNING_ID] = {
	    NULL, "warning_id", INT, D, NO, NOLABEL },
	/* 5.3.3: an incident (事故) closes with its corrective action form. */
	[RECORD_CORRECTIVE_ACTION_REF] = {
	    "corrective-action-ref", "corrective_action_ref", TEXT, S, L34,
	    .form_zh = "矯正及預防措施處理單號 (5.3.3)",
	    .form_en = "corrective and preventive action form (5.3.3)",
	    .zh = "矯正及預防措施處理單號",
	    .en = "corrective and preventive action form (levels 3-4, 5.3.3)",
	    SHOW(41, "corrective action form"),
	    MAIL(25, "矯正及預防措施處理單 Corrective action form") },
	/* 5.3.7.3.1 */
	[RECORD_OTHER_UNITS_AFFECTED] = {
	    "other-units-affected", "other_units_affected", TEXT, S, NO,
	    .zh = "是否影響其他連線單位運作",
	    .en = "other connected units affected: yes or no, and why",
	    .form_zh = "是否影響其他連線單位運作 (5.3.7.3.1)",
	    .form_en = "other connected units affected (5.3.7.3.1)",
	    SHOW(26, "other units affected"),
	    MAIL(18, "是否影響其他連線單位運作 Other units affected") },
	[RECORD_MAJOR_REASON] = {
	    NULL, "major_reason", TEXT, V, NO, NOLABEL,
	    SHOW(9, "declared major because") },
	/* 5.3.7.3.5, 5.3.7.3.10: closed on the portal first. */
	[RECORD_PORTAL_CLOSED_AT] = {
	    "portal-closed", "portal_closed_at", TIME, V, ALL,
	    .form_zh = "通報應變網站結案時間 (5.3.7.3.5)",
	    .form_en = "closed on the portal (5.3.7.3.5)",
	    SHOW(42, "closed on the portal"),
	    MAIL(8, "網站結案 Closed on the portal") },
	[RECORD_PORTAL_CLOSED_BY] = {
	    NULL, "portal_closed_by", TEXT, V, NO, NOLABEL },
	[RECORD_PORTAL_RESULT] = {
	    NULL, "portal_result", TEXT, V, NO,
	    .form_zh = "處置結果", .form_en = "result",
	    SHOW(43, "portal result"), MAIL(9, "結案結果 Portal result") },
	[RECORD_RECURRENCE_OF] = {
	    NULL, "recurrence_of", INT, D, NO,
	    .form_zh = "前案再次發生", .form_en = "recurrence of",
	    SHOW(11, "recurrence of incident") },
	[RECORD_REPORTED_ENTERED_AT] = {
	    NULL, "reported_entered_at", TIME, V, NO, NOLABEL,
	    SHOW(24, "report entered") },
	/* A drill's time compression (5.8.1). */
	[RECORD_DRILL_FACTOR] = {
	    NULL, "drill_factor", INT, D, NO, NOLABEL,
	    CLI(-1) },
};

/* FIELD's place in VIEW: from 1, 0 for after those, -1 for none. */
static int
record_rank(const struct record_field *f, enum record_view view)
{
	switch (view) {
	case RECORD_VIEW_CLI:
		return f->cli_at;
	case RECORD_VIEW_SHOW:
		return f->show != NULL ? f->show_at : -1;
	case RECORD_VIEW_MAIL:
		return f->mail != NULL ? f->mail_at : -1;
	case RECORD_VIEW_REGISTER:
		return f->reg_at > 0 ? f->reg_at : -1;
	}
	return -1;
}

/*
 * The fields VIEW lists, in its order, into IDS: those given a place
 * first, by their places, then the rest of it in the table's order, so
 * that a field added with a label (or, in the CLI's, without one) shows
 * after the others.  Returns their count.
 */
size_t
record_view(enum record_view view, enum record_id ids[RECORD_NFIELDS])
{
	size_t		 i, j, n = 0;
	int		 r, rt;

	for (i = 0; i < RECORD_NFIELDS; i++) {
		if ((r = record_rank(&record_fields[i], view)) < 0)
			continue;
		/* Insertion, after every field placed before it. */
		for (j = n; j > 0; j--) {
			rt = record_rank(&record_fields[ids[j - 1]], view);
			if (r == 0 || (rt > 0 && rt < r))
				break;
			ids[j] = ids[j - 1];
		}
		ids[j] = (enum record_id)i;
		n++;
	}
	return n;
}

/* The field whose name (people's) or column is KEY, or NULL. */
static const struct record_field *
record_find(const char *key, int by_name)
{
	const char	*k;
	size_t		 i;

	for (i = 0; i < RECORD_NFIELDS; i++) {
		k = by_name ? record_fields[i].name : record_fields[i].column;
		if (k != NULL && strcmp(k, key) == 0)
			return &record_fields[i];
	}
	return NULL;
}

/* The field `set` takes by this name, or NULL. */
const struct record_field *
record_settable(const char *name)
{
	const struct record_field	*f = record_find(name, 1);

	return f != NULL && f->setter == RECORD_SET ? f : NULL;
}

/* The field in COLUMN, or NULL. */
const struct record_field *
record_column(const char *column)
{
	return record_find(column, 0);
}

/*
 * "a, b, ...": the names `set` takes, or every column, into BUF once
 * (the table is constant).
 */
static const char *
record_list(char *buf, size_t size, int settable)
{
	size_t	 i, len;

	for (i = 0; i < RECORD_NFIELDS; i++) {
		if (settable && record_fields[i].setter != RECORD_SET)
			continue;
		len = strlen(buf);
		snprintf(buf + len, size - len, "%s%s", len > 0 ? ", " : "",
		    settable ? record_fields[i].name : record_fields[i].column);
	}
	return buf;
}

/* For `set`'s error: "cause, category, ...". */
const char *
record_settable_list(void)
{
	static char	 list[512];

	return list[0] != '\0' ? list : record_list(list, sizeof(list), 1);
}

/* For an explicit SELECT, never SELECT *: "id, kind, ...". */
const char *
record_columns(void)
{
	static char	 cols[2048];

	return cols[0] != '\0' ? cols : record_list(cols, sizeof(cols), 0);
}
