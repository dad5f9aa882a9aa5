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

/*
 * Sized by the initialisers, declared with RECORD_NFIELDS in record.h: a
 * field added here without counting it is a conflicting type.
 */
const struct record_field record_fields[] = {
	{ NULL, "id", INT, D, NO, NOLABEL },
	{ NULL, "kind", TEXT, D, NO, NOLABEL },
	{ NULL, "system", TEXT, D, NO,
	  .form_zh = "受影響系統", .form_en = "system" },
	{ NULL, "owner", TEXT, D, NO,
	  .form_zh = "系統負責單位", .form_en = "owner" },
	{ NULL, "core", BOOL, D, NO, NOLABEL },
	{ NULL, "critical_infrastructure", BOOL, D, NO, NOLABEL },
	{ NULL, "rto_ms", INT, D, NO, NOLABEL },
	{ NULL, "level", INT, V, NO, NOLABEL },
	{ NULL, "availability_level", INT, V, NO, NOLABEL },
	{ NULL, "major", BOOL, V, NO, NOLABEL },
	{ NULL, "status", TEXT, D, NO, NOLABEL },
	{ "cause", "cause", TEXT, S, ALL,
	  .zh = "原因", .en = "cause",
	  .form_zh = "事件發生之原因", .form_en = "cause" },
	{ NULL, "started_at", TIME, D, NO, NOLABEL },
	{ NULL, "opened_at", TIME, D, NO, NOLABEL },
	{ NULL, "notify_due_at", TIME, D, NO, NOLABEL },
	{ NULL, "restore_due_at", TIME, D, NO, NOLABEL },
	/* The daemon for an outage, `restored` for the rest. */
	{ NULL, "restored_at", TIME, V, NO, NOLABEL },
	{ NULL, "within_rto", BOOL, D, NO, NOLABEL },
	{ NULL, "closed_at", TIME, V, NO, NOLABEL },
	{ NULL, "closed_by", TEXT, V, NO, NOLABEL },
	{ NULL, "confidentiality_level", INT, V, NO, NOLABEL },
	{ NULL, "integrity_level", INT, V, NO, NOLABEL },
	{ "category", "category", TEXT, S, NO,
	  .zh = "事件分類", .en = "category (a code of policy.conf)",
	  .form_zh = "事件類別", .form_en = "category" },
	{ "description", "description", TEXT, S, NO,
	  .zh = "事件說明", .en = "description",
	  .form_zh = "事件說明", .form_en = "description" },
	{ "scope", "scope", TEXT, S, ALL,
	  .zh = "B 影響範圍及損害評估", .en = "scope and damage" },
	{ "loss", "loss", TEXT, S, NO,
	  .zh = "損失評估", .en = "loss assessment",
	  .form_zh = "損失評估", .form_en = "loss assessment" },
	{ "support", "support", TEXT, S, NO,
	  .zh = "支援申請", .en = "outside support requested",
	  .form_zh = "判斷支援申請", .form_en = "support requested" },
	{ "measures", "measures", TEXT, S, ALL,
	  .zh = "應變措施", .en = "measures taken",
	  .form_zh = "採取之應變措施", .form_en = "response measures" },
	/* Items C-G of 5.4.7.3.6 (A and B are the times and the scope). */
	{ "containment", "containment", TEXT, S, L34,
	  .zh = "C 損害控制及復原歷程", .en = NULL,
	  .form_zh = "C. 損害控制及復原作業之歷程",
	  .form_en = "C. damage control and restoration" },
	{ "investigation", "investigation", TEXT, S, L34,
	  .zh = "D 調查及處理歷程", .en = NULL,
	  .form_zh = "D. 事件調查及處理作業之歷程",
	  .form_en = "D. investigation and handling" },
	{ "root-cause", "root_cause", TEXT, S, L34,
	  .zh = "E 事件根因分析", .en = "root cause",
	  .form_zh = "E. 事件根因分析", .form_en = "E. root-cause analysis" },
	{ "prevention", "prevention", TEXT, S, L34,
	  .zh = "F 防範措施", .en = "prevention",
	  .form_zh = "F. 防範類似事件再次發生之措施",
	  .form_en = "F. measures against recurrence" },
	{ "prevention-tracking", "prevention_tracking", TEXT, S, L34,
	  .zh = "G 預定完成時程及成效追蹤", .en = NULL,
	  .form_zh = "G. 措施之預定完成時程及成效追蹤機制",
	  .form_en = "G. completion dates and tracking" },
	{ NULL, "acknowledged_at", TIME, V, NO, NOLABEL },
	{ NULL, "acknowledged_by", TEXT, V, NO, NOLABEL },
	{ NULL, "reported_at", TIME, V, NO, NOLABEL },
	{ "ticket", "ticket", TEXT, V, ALL,
	  .form_zh = "通報單號", .form_en = "portal ticket" },
	{ NULL, "reported_by", TEXT, V, NO, NOLABEL },
	{ NULL, "controlled_at", TIME, V, NO, NOLABEL },
	{ NULL, "controlled_by", TEXT, V, NO, NOLABEL },
	{ "report-filed", "report_filed_at", TIME, V, REP, NOLABEL },
	{ NULL, "report_filed_by", TEXT, V, NO, NOLABEL },
	{ NULL, "warning_id", INT, D, NO, NOLABEL },
	/* 5.3.3: an incident (事故) closes with its corrective action form. */
	{ "corrective-action-ref", "corrective_action_ref", TEXT, S, L34,
	  .zh = "矯正及預防措施處理單號",
	  .en = "corrective and preventive action form (levels 3-4, 5.3.3)" },
	/* 5.3.7.3.1 */
	{ "other-units-affected", "other_units_affected", TEXT, S, NO,
	  .zh = "是否影響其他連線單位運作",
	  .en = "other connected units affected: yes or no, and why",
	  .form_zh = "是否影響其他連線單位運作 (5.3.7.3.1)",
	  .form_en = "other connected units affected (5.3.7.3.1)" },
	{ NULL, "major_reason", TEXT, V, NO, NOLABEL },
	/* 5.3.7.3.5, 5.3.7.3.10: closed on the portal first. */
	{ "portal-closed", "portal_closed_at", TIME, V, ALL, NOLABEL },
	{ NULL, "portal_closed_by", TEXT, V, NO, NOLABEL },
	{ NULL, "portal_result", TEXT, V, NO,
	  .form_zh = "處置結果", .form_en = "result" },
	{ NULL, "recurrence_of", INT, D, NO, NOLABEL },
	{ NULL, "reported_entered_at", TIME, V, NO, NOLABEL },
	/* A drill's time compression (5.8.1). */
	{ NULL, "drill_factor", INT, D, NO, NOLABEL },
};

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
