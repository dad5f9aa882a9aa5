/*
 * record.h: the incident record's fields, once (issue 18).  The workflow's
 * `set` and close checks, `rtowatch edit`, the control API's members and
 * the CLI's JSON and CSV read this one table, so a field is added here and
 * nowhere else.  The store's CREATE and migrations stay in store.c: the
 * schema is history, this table is what the record is now.
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
};

/* In the control API's order, which is its JSON's member order. */
#define RECORD_NFIELDS	52
extern const struct record_field record_fields[RECORD_NFIELDS];

const struct record_field *record_settable(const char *);
const struct record_field *record_column(const char *);
const char	*record_settable_list(void);
const char	*record_columns(void);

#endif
