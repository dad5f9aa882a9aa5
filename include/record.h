/*
 * record.h: the incident record's fields, once (issue 18).  The workflow's
 * `set` and close checks, `rtowatch edit`, the control API's members, the
 * CLI's JSON, CSV and `show`, form 01's labels, form 02's columns (the
 * register and the monthly digest), the workflow's view of an incident
 * (store_incident_get) and the closure notice read this one table, so a
 * field is added here (a row and its RECORD_ name) and, but for a
 * migration, nowhere else.  The store's CREATE and
 * migrations stay in store.c: the schema is history, this table is what
 * the record is now, and test_record checks the one against the other.
 */
#ifndef RECORD_H
#define RECORD_H

#include <stddef.h>

/* How a column reads back: times are TEXT, passed through. */
enum record_type {
	RECORD_INT,
	RECORD_BOOL,
	RECORD_TEXT,
	RECORD_TIME,
};

/* Who writes it. */
enum record_setter {
	RECORD_DAEMON,		/* the daemon: rules, clocks, opening */
	RECORD_SET,		/* a person, `rtowatch set ID NAME TEXT` */
	RECORD_VERB,		/* a person, by a verb of its own (ack...) */
};

/* What closing needs of it (5.4.7.3.6, 5.3.3, 5.3.7.3.5). */
enum record_close {
	RECORD_CLOSE_NO,
	RECORD_CLOSE_ALL,	/* every level */
	RECORD_CLOSE_34,	/* levels 3-4, incidents (事故) */
	RECORD_CLOSE_REPORT,	/* where the policy's report clock applies */
};

/*
 * The fields, in the control API's order, which is its JSON's member order
 * and record_fields' rows: RECORD_<COLUMN>.
 */
enum record_id {
	RECORD_ID,
	RECORD_KIND,
	RECORD_SYSTEM,
	RECORD_OWNER,
	RECORD_CORE,
	RECORD_CRITICAL_INFRASTRUCTURE,
	RECORD_RTO_MS,
	RECORD_LEVEL,
	RECORD_AVAILABILITY_LEVEL,
	RECORD_MAJOR,
	RECORD_STATUS,
	RECORD_CAUSE,
	RECORD_STARTED_AT,
	RECORD_OPENED_AT,
	RECORD_NOTIFY_DUE_AT,
	RECORD_RESTORE_DUE_AT,
	RECORD_RESTORED_AT,
	RECORD_WITHIN_RTO,
	RECORD_CLOSED_AT,
	RECORD_CLOSED_BY,
	RECORD_CONFIDENTIALITY_LEVEL,
	RECORD_INTEGRITY_LEVEL,
	RECORD_CATEGORY,
	RECORD_DESCRIPTION,
	RECORD_SCOPE,
	RECORD_LOSS,
	RECORD_SUPPORT,
	RECORD_MEASURES,
	RECORD_CONTAINMENT,
	RECORD_INVESTIGATION,
	RECORD_ROOT_CAUSE,
	RECORD_PREVENTION,
	RECORD_PREVENTION_TRACKING,
	RECORD_ACKNOWLEDGED_AT,
	RECORD_ACKNOWLEDGED_BY,
	RECORD_REPORTED_AT,
	RECORD_TICKET,
	RECORD_REPORTED_BY,
	RECORD_CONTROLLED_AT,
	RECORD_CONTROLLED_BY,
	RECORD_REPORT_FILED_AT,
	RECORD_REPORT_FILED_BY,
	RECORD_WARNING_ID,
	RECORD_CORRECTIVE_ACTION_REF,
	RECORD_OTHER_UNITS_AFFECTED,
	RECORD_MAJOR_REASON,
	RECORD_PORTAL_CLOSED_AT,
	RECORD_PORTAL_CLOSED_BY,
	RECORD_PORTAL_RESULT,
	RECORD_RECURRENCE_OF,
	RECORD_REPORTED_ENTERED_AT,
	RECORD_DRILL_FACTOR,
	RECORD_NFIELDS
};

struct record_field {
	const char		*name;	/* people type or read it; or NULL */
	const char		*column;
	enum record_type	 type;
	enum record_setter	 setter;
	enum record_close	 close;
	const char		*zh;	/* label, as `edit` writes it */
	const char		*en;	/* English after it, or NULL */
	const char		*form_zh;	/* form 01's label, or NULL */
	const char		*form_en;
	/*
	 * Where the other views put it (record_view): a place from 1, or 0
	 * for after the placed ones in this table's order.  The CLI's JSON
	 * and CSV have every field but those at -1; `rtowatch show` and the
	 * closure notice those with a label.
	 */
	int			 cli_at;
	int			 show_at;
	const char		*show;	/* `show`'s label, a colon after it */
	int			 mail_at;
	const char		*mail;	/* the closure notice's: 中文 English */
	/*
	 * Form 02, the register (IMS-P-009-02, cli/register.c): the field's
	 * place among its columns, from 1 (0: not in it), the order of its
	 * CSV; register.c's computed columns (the clocks' outcomes,
	 * recurring...) take the places between.  A field with titles is a
	 * column of the printed form, zh-TW and English, and one with a
	 * terminal title (the long texts have none) of the terminal's table
	 * too, which on a narrow terminal leaves out the highest reg_drop
	 * first (0: never).  reg_digest: a column of the monthly digest
	 * (5.5.5) too, in the same order.
	 */
	int			 reg_at;
	const char		*reg_zh;
	const char		*reg_en;
	const char		*reg_term;
	int			 reg_drop;
	int			 reg_digest;
};

extern const struct record_field record_fields[RECORD_NFIELDS];

enum record_view {
	RECORD_VIEW_CLI,
	RECORD_VIEW_SHOW,
	RECORD_VIEW_MAIL,
	RECORD_VIEW_REGISTER,	/* by reg_at, which leaves gaps */
};

const struct record_field *record_settable(const char *);
const struct record_field *record_column(const char *);
const char	*record_settable_list(void);
const char	*record_columns(void);
size_t		 record_view(enum record_view, enum record_id [RECORD_NFIELDS]);

#endif
