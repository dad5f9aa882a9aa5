/*
 * warnings.c: rtowatch warnings, the early warnings (資安預警事件) read
 * from the database, with what each anomaly episode saw: its sources,
 * targets, ports and MAC addresses.  CSV and JSON are for sharing (5.9):
 * times in UTC as stored, one warning per row or object.
 *
 * It reads the file, not the socket, so it works on a copy of the
 * database and with no daemon running (after rtowatchd --pcap-file).
 */
#include <sys/stat.h>

#include <errno.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "util.h"

/* The columns, in the order of the SELECT, the CSV header and JSON. */
static const struct warnings_col {
	const char	*name;
	int		 integer;
} warnings_cols[] = {
	{ "id", 1 }, { "source", 0 }, { "reference", 0 }, { "system", 0 },
	{ "state", 0 }, { "summary", 0 }, { "detail", 0 },
	{ "opened_at", 0 }, { "opened_by", 0 }, { "ended_at", 0 },
	{ "answered_at", 0 }, { "answered_by", 0 }, { "reason", 0 },
	{ "incident_id", 1 },
};
#define WARNINGS_NCOLS	(int)(sizeof(warnings_cols) / sizeof(warnings_cols[0]))

/* The kinds of indicator and their plural, the JSON key and CSV column. */
static const char *const warnings_kinds[][2] = {
	{ "source", "sources" }, { "target", "targets" },
	{ "port", "ports" }, { "mac", "macs" },
};
#define WARNINGS_NKINDS	(int)(sizeof(warnings_kinds) / \
	sizeof(warnings_kinds[0]))

static sqlite3 *
warnings_open(const char *path)
{
	struct stat	 sb;
	sqlite3		*db = NULL;
	char		*uri;
	int		 immutable, rc;

	if (stat(path, &sb) == -1 || S_ISDIR(sb.st_mode) ||
	    access(path, R_OK) == -1) {
		fprintf(stderr, "rtowatch: %s: cannot open database: %s\n",
		    path, S_ISDIR(sb.st_mode) ? "is a directory" :
		    strerror(errno));
		return NULL;
	}
	/* Without write access to the directory, a WAL reader needs this. */
	for (immutable = 0; immutable < 2; immutable++) {
		uri = cli_uri(path, immutable);
		rc = sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY |
		    SQLITE_OPEN_URI, NULL);
		free(uri);
		if (rc == SQLITE_OK) {
			sqlite3_busy_timeout(db, 5000);
			if (sqlite3_exec(db, "SELECT 1 FROM warnings LIMIT 1",
			    NULL, NULL, NULL) == SQLITE_OK)
				return db;
		}
		if (immutable)
			fprintf(stderr, "rtowatch: %s: cannot read early "
			    "warnings: %s\n", path, db != NULL ?
			    sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		db = NULL;
	}
	return NULL;
}

static void
warnings_csv_field(const char *s, int first)
{
	if (!first)
		putchar(',');
	if (s == NULL)
		return;
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	for (; *s != '\0'; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}

/* Every indicator of warning ID, heaviest first, in one array per kind. */
static int
warnings_indicators(sqlite3 *db, int64_t id, json_t *out)
{
	sqlite3_stmt	*stmt;
	json_t		*list, *ind;
	const char	*kind;
	int		 k, rc;

	for (k = 0; k < WARNINGS_NKINDS; k++)
		json_object_set_new(out, warnings_kinds[k][1], json_array());
	if (sqlite3_prepare_v2(db, "SELECT kind, value, packets FROM"
	    " warning_indicators WHERE warning_id = ?"
	    " ORDER BY kind, packets DESC, id", -1, &stmt, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		kind = (const char *)sqlite3_column_text(stmt, 0);
		for (k = 0; k < WARNINGS_NKINDS; k++)
			if (strcmp(kind, warnings_kinds[k][0]) == 0)
				break;
		if (k == WARNINGS_NKINDS)
			continue;
		list = json_object_get(out, warnings_kinds[k][1]);
		ind = json_object();
		json_object_set_new(ind, "value", json_string(
		    (const char *)sqlite3_column_text(stmt, 1)));
		json_object_set_new(ind, "packets", json_integer(
		    sqlite3_column_int64(stmt, 2)));
		json_array_append_new(list, ind);
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* The incidents a warning was related to: its traffic aimed at them. */
static int
warnings_related(sqlite3 *db, int64_t id, json_t *out)
{
	sqlite3_stmt	*stmt;
	json_t		*list = json_array();
	int		 rc;

	json_object_set_new(out, "related_incidents", list);
	if (sqlite3_prepare_v2(db, "SELECT DISTINCT incident_id FROM timeline"
	    " WHERE warning_id = ? AND incident_id IS NOT NULL"
	    " AND event = 'related warning' ORDER BY incident_id", -1, &stmt,
	    NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		json_array_append_new(list, json_integer(
		    sqlite3_column_int64(stmt, 0)));
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* "198.51.100.10 203.0.113.7": the values of one kind, for CSV and tables. */
static char *
warnings_join(json_t *w, const char *key, size_t max)
{
	json_t		*ind;
	size_t		 i, len = 0;
	char		*s;
	const char	*v;

	s = xcalloc(1, 1);
	json_array_foreach(json_object_get(w, key), i, ind) {
		if (i == max)
			break;
		v = json_string_value(json_object_get(ind, "value"));
		s = xrealloc(s, len + strlen(v) + 2);
		len += (size_t)sprintf(s + len, "%s%s", len > 0 ? " " : "", v);
	}
	return s;
}

/* "3 7": a list of ids. */
static char *
warnings_ids(json_t *list)
{
	json_t	*v;
	size_t	 i, len = 0;
	char	*s;

	s = xcalloc(1, 1);
	json_array_foreach(list, i, v) {
		s = xrealloc(s, len + 24);
		len += (size_t)sprintf(s + len, "%s%lld", len > 0 ? " " : "",
		    (long long)json_integer_value(v));
	}
	return s;
}

static void
warnings_print_table(json_t *all)
{
	json_t		*w;
	size_t		 i;
	char		 t1[32], t2[32], *src, *dst, *ports;

	printf("%-5s %-19s %-19s %-14s %-18s %s\n", "ID", "OPENED", "ENDED",
	    "STATE", "SOURCE", "SUMMARY");
	json_array_foreach(all, i, w) {
		printf("%-5lld %-19s %-19s %-14s %-18s %s\n",
		    (long long)json_integer_value(json_object_get(w, "id")),
		    cli_time_show(json_string_value(json_object_get(w,
		    "opened_at")), t1, sizeof(t1)),
		    cli_time_show(json_string_value(json_object_get(w,
		    "ended_at")), t2, sizeof(t2)),
		    json_string_value(json_object_get(w, "state")),
		    json_string_value(json_object_get(w, "source")),
		    json_string_value(json_object_get(w, "summary")));
		src = warnings_join(w, "sources", 5);
		dst = warnings_join(w, "targets", 5);
		ports = warnings_join(w, "ports", 5);
		if (*src != '\0')
			printf("      sources: %s\n", src);
		if (*dst != '\0')
			printf("      targets: %s\n", dst);
		if (*ports != '\0')
			printf("      ports:   %s\n", ports);
		free(ports);
		ports = warnings_ids(json_object_get(w, "related_incidents"));
		if (*ports != '\0')
			printf("      related incidents: %s\n", ports);
		free(src);
		free(dst);
		free(ports);
	}
}

static void
warnings_print_csv(json_t *all)
{
	json_t		*w, *v;
	size_t		 i;
	char		 num[24], *s;
	int		 c, k;

	for (c = 0; c < WARNINGS_NCOLS; c++)
		warnings_csv_field(warnings_cols[c].name, c == 0);
	for (k = 0; k < WARNINGS_NKINDS; k++)
		warnings_csv_field(warnings_kinds[k][1], 0);
	warnings_csv_field("related_incidents", 0);
	putchar('\n');
	json_array_foreach(all, i, w) {
		for (c = 0; c < WARNINGS_NCOLS; c++) {
			v = json_object_get(w, warnings_cols[c].name);
			if (json_is_integer(v)) {
				snprintf(num, sizeof(num), "%lld",
				    (long long)json_integer_value(v));
				warnings_csv_field(num, c == 0);
			} else
				warnings_csv_field(json_string_value(v),
				    c == 0);
		}
		for (k = 0; k < WARNINGS_NKINDS; k++) {
			s = warnings_join(w, warnings_kinds[k][1], SIZE_MAX);
			warnings_csv_field(s, 0);
			free(s);
		}
		s = warnings_ids(json_object_get(w, "related_incidents"));
		warnings_csv_field(s, 0);
		free(s);
		putchar('\n');
	}
}

static json_t *
warnings_read(sqlite3 *db, const char *state)
{
	sqlite3_stmt	*stmt;
	json_t		*all, *w;
	const char	*v;
	int		 c, rc;

	if (sqlite3_prepare_v2(db, "SELECT id, source, reference, system,"
	    " state, summary, detail, opened_at, opened_by, ended_at,"
	    " answered_at, answered_by, reason, incident_id FROM warnings"
	    " WHERE ?1 IS NULL OR state = ?1 ORDER BY id", -1, &stmt,
	    NULL) != SQLITE_OK)
		return NULL;
	if (state != NULL)
		sqlite3_bind_text(stmt, 1, state, -1, SQLITE_STATIC);
	all = json_array();
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		w = json_object();
		for (c = 0; c < WARNINGS_NCOLS; c++) {
			if (sqlite3_column_type(stmt, c) == SQLITE_NULL)
				json_object_set_new(w, warnings_cols[c].name,
				    json_null());
			else if (warnings_cols[c].integer)
				json_object_set_new(w, warnings_cols[c].name,
				    json_integer(sqlite3_column_int64(stmt,
				    c)));
			else {
				v = (const char *)sqlite3_column_text(stmt, c);
				json_object_set_new(w, warnings_cols[c].name,
				    json_string(v));
			}
		}
		if (warnings_indicators(db, sqlite3_column_int64(stmt, 0),
		    w) == -1 || warnings_related(db, sqlite3_column_int64(stmt,
		    0), w) == -1) {
			json_decref(w);
			break;
		}
		json_array_append_new(all, w);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		json_decref(all);
		return NULL;
	}
	return all;
}

/* The options are cli_options()'s, as the command table lists them. */
int
warnings_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_opts	 o = { 0 };
	sqlite3		*db;
	json_t		*all;
	int		 rc;

	if ((rc = cli_options(ctx, argc, argv, &o)) != 0)
		return rc;
	/* A register in PostgreSQL is read as every command reads it. */
	if (database_is_pg(ctx->db_path)) {
		if (cli_open(ctx) == -1)
			return CLI_EXIT_ERR;
		db = ctx->db;
	} else if ((db = warnings_open(ctx->db_path)) == NULL)
		return CLI_EXIT_ERR;
	all = warnings_read(db, o.state);
	if (all == NULL)
		fprintf(stderr, "rtowatch: %s: %s\n", ctx->db_path,
		    sqlite3_errmsg(db));
	if (db != ctx->db)
		sqlite3_close(db);
	if (all == NULL)
		return CLI_EXIT_ERR;
	switch (o.fmt) {
	case CLI_FMT_CSV:
		cli_csv_bom(ctx, &o);
		warnings_print_csv(all);
		break;
	case CLI_FMT_JSON:
		/* A bare array, as every list command prints (rtowatch(1)). */
		json_dumpf(all, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		break;
	default:
		warnings_print_table(all);
		break;
	}
	json_decref(all);
	return CLI_EXIT_OK;
}
