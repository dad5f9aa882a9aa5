/*
 * test_record.c: the incident record's table (include/record.h), which
 * the workflow, `edit`, the control API, the CLI and form 01 all read:
 * what each of them relies on holds for every row.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "record.h"
#include "store.h"

/* Names and columns are keys: `set`, the API and the CLI look them up. */
static void
test_keys_unique(void **state)
{
	size_t	 i, j;

	(void)state;
	for (i = 0; i < RECORD_NFIELDS; i++) {
		assert_non_null(record_fields[i].column);
		assert_ptr_equal(record_column(record_fields[i].column),
		    &record_fields[i]);
		for (j = i + 1; j < RECORD_NFIELDS; j++) {
			assert_string_not_equal(record_fields[i].column,
			    record_fields[j].column);
			if (record_fields[i].name != NULL &&
			    record_fields[j].name != NULL)
				assert_string_not_equal(record_fields[i].name,
				    record_fields[j].name);
		}
	}
	assert_null(record_column("no_such_column"));
}

/*
 * A field people `set` has a name and an `edit` label; one that closing
 * needs has a name for the "missing:" message; a form label has both
 * halves.
 */
static void
test_rows_complete(void **state)
{
	const struct record_field	*f;
	size_t				 i;

	(void)state;
	for (i = 0; i < RECORD_NFIELDS; i++) {
		f = &record_fields[i];
		if (f->setter == RECORD_SET) {
			assert_non_null(f->name);
			assert_non_null(f->zh);
			assert_int_equal(f->type, RECORD_TEXT);
			assert_ptr_equal(record_settable(f->name), f);
		}
		if (f->close != RECORD_CLOSE_NO)
			assert_non_null(f->name);
		assert_true((f->form_zh == NULL) == (f->form_en == NULL));
	}
	/* A step of its own, not `set`. */
	assert_null(record_settable("ticket"));
	assert_null(record_settable("no-such-field"));
}

/* The lists the daemon builds from it, as the API and `set` said them. */
static void
test_lists(void **state)
{
	(void)state;
	assert_string_equal(record_settable_list(), "cause, category, "
	    "description, scope, loss, support, measures, containment, "
	    "investigation, root-cause, prevention, prevention-tracking, "
	    "corrective-action-ref, other-units-affected");
	assert_string_equal(record_columns(), "id, kind, system, owner, "
	    "core, critical_infrastructure, rto_ms, level, "
	    "availability_level, major, status, cause, started_at, "
	    "opened_at, notify_due_at, restore_due_at, restored_at, "
	    "within_rto, closed_at, closed_by, confidentiality_level, "
	    "integrity_level, category, description, scope, loss, support, "
	    "measures, containment, investigation, root_cause, prevention, "
	    "prevention_tracking, acknowledged_at, acknowledged_by, "
	    "reported_at, ticket, reported_by, controlled_at, controlled_by, "
	    "report_filed_at, report_filed_by, warning_id, "
	    "corrective_action_ref, other_units_affected, major_reason, "
	    "portal_closed_at, portal_closed_by, portal_result, "
	    "recurrence_of, reported_entered_at, drill_factor");
}

/* What closing needs, in the order wf_close names what is missing. */
static void
test_close_rules(void **state)
{
	static const struct {
		const char		*name;
		enum record_close	 close;
	} want[] = {
		{ "cause", RECORD_CLOSE_ALL },
		{ "scope", RECORD_CLOSE_ALL },
		{ "measures", RECORD_CLOSE_ALL },
		{ "containment", RECORD_CLOSE_34 },
		{ "investigation", RECORD_CLOSE_34 },
		{ "root-cause", RECORD_CLOSE_34 },
		{ "prevention", RECORD_CLOSE_34 },
		{ "prevention-tracking", RECORD_CLOSE_34 },
		{ "ticket", RECORD_CLOSE_ALL },
		{ "report-filed", RECORD_CLOSE_REPORT },
		{ "corrective-action-ref", RECORD_CLOSE_34 },
		{ "portal-closed", RECORD_CLOSE_ALL },
	};
	size_t	 i, n = 0;

	(void)state;
	for (i = 0; i < RECORD_NFIELDS; i++) {
		if (record_fields[i].close == RECORD_CLOSE_NO)
			continue;
		assert_true(n < sizeof(want) / sizeof(want[0]));
		assert_string_equal(record_fields[i].name, want[n].name);
		assert_int_equal(record_fields[i].close, want[n].close);
		n++;
	}
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
}

/*
 * The views the table orders (record_view): every placed field once, at
 * a place of its own, the places from 1 without a gap; the fields
 * people `set` are in `show` and the closure notice, and every field but
 * those at -1 in the CLI's JSON and CSV.
 */
static void
test_views(void **state)
{
	static const enum record_view	 views[] = {
		RECORD_VIEW_CLI, RECORD_VIEW_SHOW, RECORD_VIEW_MAIL,
	};
	enum record_id			 ids[RECORD_NFIELDS];
	const struct record_field	*f;
	int				 seen[RECORD_NFIELDS], at, last;
	size_t				 v, i, n, hidden;

	(void)state;
	for (v = 0; v < sizeof(views) / sizeof(views[0]); v++) {
		memset(seen, 0, sizeof(seen));
		n = record_view(views[v], ids);
		last = 0;
		for (i = 0; i < n; i++) {
			f = &record_fields[ids[i]];
			assert_int_equal(seen[ids[i]]++, 0);
			at = views[v] == RECORD_VIEW_CLI ? f->cli_at :
			    views[v] == RECORD_VIEW_SHOW ? f->show_at :
			    f->mail_at;
			/* Placed ones first, 1, 2, ..., then the rest. */
			if (at > 0)
				assert_int_equal(at, ++last);
			else
				assert_int_equal(at, 0);
		}
		hidden = 0;
		for (i = 0; i < RECORD_NFIELDS; i++) {
			f = &record_fields[i];
			if (f->setter == RECORD_SET)
				assert_int_equal(seen[i], 1);
			if (views[v] == RECORD_VIEW_CLI && !seen[i]) {
				assert_int_equal(f->cli_at, -1);
				hidden++;
			}
		}
		if (views[v] == RECORD_VIEW_CLI)
			assert_int_equal(n + hidden, RECORD_NFIELDS);
	}
}

/*
 * Form 01 (rtowatch report) puts a field under its label in the table,
 * and the person who signs must see what is missing: every field people
 * set or closing needs has one.
 */
static void
test_form01(void **state)
{
	const struct record_field	*f;
	size_t				 i;

	(void)state;
	for (i = 0; i < RECORD_NFIELDS; i++) {
		f = &record_fields[i];
		if (f->setter == RECORD_SET || f->close != RECORD_CLOSE_NO)
			if (f->form_zh == NULL)
				fail_msg("%s: no label on form 01", f->column);
	}
}

/*
 * Form 02 (rtowatch register) orders its columns by place, the record's
 * and register.c's own between them: each place once, rising; a column
 * of the printed form has both titles, one on a terminal is on the form,
 * and the digest's are the terminal's (short ones).
 */
static void
test_form02(void **state)
{
	enum record_id			 ids[RECORD_NFIELDS];
	const struct record_field	*f;
	size_t				 i, n;
	int				 last = 0;

	(void)state;
	n = record_view(RECORD_VIEW_REGISTER, ids);
	assert_true(n > 0);
	for (i = 0; i < n; i++) {
		f = &record_fields[ids[i]];
		assert_true(f->reg_at > last);
		last = f->reg_at;
		if ((f->reg_zh == NULL) != (f->reg_en == NULL))
			fail_msg("%s: one title on form 02", f->column);
		if (f->reg_term != NULL && f->reg_zh == NULL)
			fail_msg("%s: on the terminal, not the form",
			    f->column);
		if (f->reg_digest && f->reg_term == NULL)
			fail_msg("%s: in the digest, not the register",
			    f->column);
	}
	for (i = 0; i < RECORD_NFIELDS; i++) {
		f = &record_fields[i];
		if (f->reg_at == 0 && (f->reg_zh != NULL || f->reg_digest))
			fail_msg("%s: titled, with no place on form 02",
			    f->column);
	}
}

/*
 * The store the daemon creates and migrates has every field of the table
 * as a column of the type the table reads it as, and no other: the
 * migrations are history, the table is what the record is now, and a
 * field added to one without the other fails here.
 */
static void
test_store_columns(void **state)
{
	char			 path[64], p[80];
	const struct record_field	*f;
	struct store		*st;
	sqlite3_stmt		*stmt;
	const char		*name, *type, *want;
	size_t			 n = 0;
	int			 fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/rtowatch-record-XXXXXX",
	    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	assert_int_not_equal(fd = mkstemp(path), -1);
	close(fd);
	assert_non_null(st = store_open(path));
	assert_int_equal(sqlite3_prepare_v2(store_sqlite(st),
	    "SELECT name, type FROM pragma_table_info('incidents')", -1,
	    &stmt, NULL), SQLITE_OK);
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		name = (const char *)sqlite3_column_text(stmt, 0);
		type = (const char *)sqlite3_column_text(stmt, 1);
		if ((f = record_column(name)) == NULL)
			fail_msg("incidents.%s is not in the record's table",
			    name);
		want = f->type == RECORD_INT || f->type == RECORD_BOOL ?
		    "INTEGER" : "TEXT";
		if (strcmp(type, want) != 0)
			fail_msg("incidents.%s is %s, the table reads %s",
			    name, type, want);
		n++;
	}
	sqlite3_finalize(stmt);
	store_close(st);
	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
	/* Columns are unique (test_keys_unique): none of the table missing. */
	assert_int_equal(n, RECORD_NFIELDS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys_unique),
		cmocka_unit_test(test_rows_complete),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_close_rules),
		cmocka_unit_test(test_views),
		cmocka_unit_test(test_form01),
		cmocka_unit_test(test_form02),
		cmocka_unit_test(test_store_columns),
	};

	return cmocka_run_group_tests_name("record", tests, NULL, NULL);
}
