/*
 * record.c: the incident record's fields (include/record.h), shared by
 * the daemon and the CLI.
 */
#include <stdio.h>
#include <string.h>

#include "record.h"

#define D	RECORD_DAEMON
#define S	RECORD_SET
#define V	RECORD_VERB
#define NO	RECORD_CLOSE_NO

/*
 * Sized by the initialisers, declared with RECORD_NFIELDS in record.h: a
 * field added here without counting it is a conflicting type.
 */
const struct record_field record_fields[] = {
	{ NULL, "id", NULL, NULL, RECORD_INT, D, NO },
	{ NULL, "kind", NULL, NULL, RECORD_TEXT, D, NO },
	{ NULL, "system", NULL, NULL, RECORD_TEXT, D, NO },
	{ NULL, "owner", NULL, NULL, RECORD_TEXT, D, NO },
	{ NULL, "core", NULL, NULL, RECORD_BOOL, D, NO },
	{ NULL, "critical_infrastructure", NULL, NULL, RECORD_BOOL, D, NO },
	{ NULL, "rto_ms", NULL, NULL, RECORD_INT, D, NO },
	{ NULL, "level", NULL, NULL, RECORD_INT, V, NO },
	{ NULL, "availability_level", NULL, NULL, RECORD_INT, V, NO },
	{ NULL, "major", NULL, NULL, RECORD_BOOL, V, NO },
	{ NULL, "status", NULL, NULL, RECORD_TEXT, D, NO },
	{ "cause", "cause", "原因", "cause", RECORD_TEXT, S,
	  RECORD_CLOSE_ALL },
	{ NULL, "started_at", NULL, NULL, RECORD_TIME, D, NO },
	{ NULL, "opened_at", NULL, NULL, RECORD_TIME, D, NO },
	{ NULL, "notify_due_at", NULL, NULL, RECORD_TIME, D, NO },
	{ NULL, "restore_due_at", NULL, NULL, RECORD_TIME, D, NO },
	/* The daemon for an outage, `restored` for the rest. */
	{ NULL, "restored_at", NULL, NULL, RECORD_TIME, V, NO },
	{ NULL, "within_rto", NULL, NULL, RECORD_BOOL, D, NO },
	{ NULL, "closed_at", NULL, NULL, RECORD_TIME, V, NO },
	{ NULL, "closed_by", NULL, NULL, RECORD_TEXT, V, NO },
	{ NULL, "confidentiality_level", NULL, NULL, RECORD_INT, V, NO },
	{ NULL, "integrity_level", NULL, NULL, RECORD_INT, V, NO },
	{ "category", "category", "事件分類",
	  "category (a code of policy.conf)", RECORD_TEXT, S, NO },
	{ "description", "description", "事件說明", "description",
	  RECORD_TEXT, S, NO },
	{ "scope", "scope", "B 影響範圍及損害評估", "scope and damage",
	  RECORD_TEXT, S, RECORD_CLOSE_ALL },
	{ "loss", "loss", "損失評估", "loss assessment", RECORD_TEXT, S, NO },
	{ "support", "support", "支援申請", "outside support requested",
	  RECORD_TEXT, S, NO },
	{ "measures", "measures", "應變措施", "measures taken", RECORD_TEXT,
	  S, RECORD_CLOSE_ALL },
	/* Items C-G of 5.4.7.3.6 (A and B are the times and the scope). */
	{ "containment", "containment", "C 損害控制及復原歷程", NULL,
	  RECORD_TEXT, S, RECORD_CLOSE_34 },
	{ "investigation", "investigation", "D 調查及處理歷程", NULL,
	  RECORD_TEXT, S, RECORD_CLOSE_34 },
	{ "root-cause", "root_cause", "E 事件根因分析", "root cause",
	  RECORD_TEXT, S, RECORD_CLOSE_34 },
	{ "prevention", "prevention", "F 防範措施", "prevention",
	  RECORD_TEXT, S, RECORD_CLOSE_34 },
	{ "prevention-tracking", "prevention_tracking",
	  "G 預定完成時程及成效追蹤", NULL, RECORD_TEXT, S,
	  RECORD_CLOSE_34 },
	{ NULL, "acknowledged_at", NULL, NULL, RECORD_TIME, V, NO },
	{ NULL, "acknowledged_by", NULL, NULL, RECORD_TEXT, V, NO },
	{ NULL, "reported_at", NULL, NULL, RECORD_TIME, V, NO },
	{ "ticket", "ticket", NULL, NULL, RECORD_TEXT, V, RECORD_CLOSE_ALL },
	{ NULL, "reported_by", NULL, NULL, RECORD_TEXT, V, NO },
	{ NULL, "controlled_at", NULL, NULL, RECORD_TIME, V, NO },
	{ NULL, "controlled_by", NULL, NULL, RECORD_TEXT, V, NO },
	{ "report-filed", "report_filed_at", NULL, NULL, RECORD_TIME, V,
	  RECORD_CLOSE_REPORT },
	{ NULL, "report_filed_by", NULL, NULL, RECORD_TEXT, V, NO },
	{ NULL, "warning_id", NULL, NULL, RECORD_INT, D, NO },
	/* 5.3.3: an incident (事故) closes with its corrective action form. */
	{ "corrective-action-ref", "corrective_action_ref", "矯正及預防措施處理單號",
	  "corrective and preventive action form (levels 3-4, 5.3.3)",
	  RECORD_TEXT, S, RECORD_CLOSE_34 },
	/* 5.3.7.3.1 */
	{ "other-units-affected", "other_units_affected",
	  "是否影響其他連線單位運作",
	  "other connected units affected: yes or no, and why", RECORD_TEXT,
	  S, NO },
	{ NULL, "major_reason", NULL, NULL, RECORD_TEXT, V, NO },
	/* 5.3.7.3.5, 5.3.7.3.10: closed on the portal first. */
	{ "portal-closed", "portal_closed_at", NULL, NULL, RECORD_TIME, V,
	  RECORD_CLOSE_ALL },
	{ NULL, "portal_closed_by", NULL, NULL, RECORD_TEXT, V, NO },
	{ NULL, "portal_result", NULL, NULL, RECORD_TEXT, V, NO },
	{ NULL, "recurrence_of", NULL, NULL, RECORD_INT, D, NO },
	{ NULL, "reported_entered_at", NULL, NULL, RECORD_TIME, V, NO },
	/* A drill's time compression (5.8.1). */
	{ NULL, "drill_factor", NULL, NULL, RECORD_INT, D, NO },
};


/* Built once into a static buffer: the table is constant. */
static void
record_join(char *buf, size_t size, const char *item)
{
	size_t	 len = strlen(buf);

	snprintf(buf + len, size - len, "%s%s", len > 0 ? ", " : "", item);
}

/* The field `set` takes by this name, or NULL. */
const struct record_field *
record_settable(const char *name)
{
	size_t	 i;

	for (i = 0; i < RECORD_NFIELDS; i++)
		if (record_fields[i].setter == RECORD_SET &&
		    strcmp(record_fields[i].name, name) == 0)
			return &record_fields[i];
	return NULL;
}

/* "cause, category, ...": the names `set` takes, for its error. */
const char *
record_settable_list(void)
{
	static char	 list[512];
	size_t		 i;

	if (list[0] != '\0')
		return list;
	for (i = 0; i < RECORD_NFIELDS; i++) {
		if (record_fields[i].setter != RECORD_SET)
			continue;
		record_join(list, sizeof(list), record_fields[i].name);
	}
	return list;
}

/* "id, kind, ...": every column, for an explicit SELECT. */
const char *
record_columns(void)
{
	static char	 cols[2048];
	size_t		 i;

	if (cols[0] != '\0')
		return cols;
	for (i = 0; i < RECORD_NFIELDS; i++)
		record_join(cols, sizeof(cols), record_fields[i].column);
	return cols;
}
