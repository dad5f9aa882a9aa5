/*
 * pgsnap.c: `rtowatch --db postgresql://...` reads a register kept in
 * PostgreSQL (daemon/store_pg.c).
 *
 * Every command of the CLI reads SQLite; rather than a second copy of
 * each query, the register is read in one REPEATABLE READ, READ ONLY
 * transaction (one consistent moment, as a reader of the SQLite file
 * gets) into an in-memory SQLite database of the same tables, columns
 * and schema version, which the commands then read as they read a file.
 * The timeline's chain and the records it binds are the same bytes in
 * both (tests/e2e/test_pg_store.py), so verify checks the register
 * itself.  An auditor's role (rtowatch_auditor) is enough.  It costs a
 * copy of the register in memory: fine for an audit, a report or a
 * backup (`rtowatch --db postgresql://... backup FILE` makes an SQLite
 * copy of it).
 */
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util.h"

#define PGSNAP_INT8OID	20
#define PGSNAP_INT4OID	23
#define PGSNAP_INT2OID	21

static int
pgsnap_fail(const char *uri, PGconn *conn, PGresult *res, const char *what)
{
	const char	*msg = res != NULL ? PQresultErrorMessage(res) : "";
	size_t		 n;

	if (msg == NULL || *msg == '\0')
		msg = PQerrorMessage(conn);
	/* libpq's message ends in a newline; cli_warnx adds its own. */
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		n--;
	cli_warnx("%s: %s: %.*s", uri, what, (int)n, msg);
	PQclear(res);
	return -1;
}

/* RES's rows into the in-memory table NAME, made from RES's columns. */
static int
pgsnap_table(sqlite3 *db, const char *name, PGresult *res)
{
	sqlite3_stmt	*stmt;
	char		*sql = NULL, *part;
	unsigned int	 t;
	int		 c, r, n = PQnfields(res), rc = 0;

	for (c = 0; c < n; c++) {
		t = PQftype(res, c);
		part = sql;
		/* id INTEGER PRIMARY KEY: the rowid, as in the file. */
		xasprintf(&sql, "%s%s\"%s\" %s", part != NULL ? part : "",
		    c > 0 ? ", " : "", PQfname(res, c),
		    strcmp(PQfname(res, c), "id") == 0 ? "INTEGER PRIMARY KEY" :
		    t == PGSNAP_INT8OID || t == PGSNAP_INT4OID ||
		    t == PGSNAP_INT2OID ? "INTEGER" : "TEXT");
		free(part);
	}
	part = sql;
	xasprintf(&sql, "CREATE TABLE \"%s\" (%s)", name, part);
	free(part);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		free(sql);
		return -1;
	}
	free(sql);
	sql = NULL;
	for (c = 0; c < n; c++) {
		part = sql;
		xasprintf(&sql, "%s%s?", part != NULL ? part : "", c > 0 ?
		    ", " : "");
		free(part);
	}
	part = sql;
	xasprintf(&sql, "INSERT INTO \"%s\" VALUES (%s)", name,
	    part != NULL ? part : "");
	free(part);
	rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);
	free(sql);
	if (rc != SQLITE_OK)
		return -1;
	for (r = 0; r < PQntuples(res) && rc == SQLITE_OK; r++) {
		for (c = 0; c < n; c++) {
			t = PQftype(res, c);
			if (PQgetisnull(res, r, c))
				sqlite3_bind_null(stmt, c + 1);
			else if (t == PGSNAP_INT8OID || t == PGSNAP_INT4OID ||
			    t == PGSNAP_INT2OID)
				sqlite3_bind_int64(stmt, c + 1, strtoll(
				    PQgetvalue(res, r, c), NULL, 10));
			else
				sqlite3_bind_text(stmt, c + 1,
				    PQgetvalue(res, r, c), PQgetlength(res, r,
				    c), SQLITE_STATIC);
		}
		rc = sqlite3_step(stmt) == SQLITE_DONE ? SQLITE_OK :
		    SQLITE_ERROR;
		sqlite3_reset(stmt);
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_OK ? 0 : -1;
}

/* The register at URI, read into *DB (in memory); -1, said, if not. */
int
pgsnap_open(const char *uri, sqlite3 **db)
{
	PGconn		*conn;
	PGresult	*tables, *res;
	char		*sql, pragma[64];
	int		 i, version = 0;

	*db = NULL;
	conn = PQconnectdb(uri);
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
		pgsnap_fail(uri, conn, NULL, "cannot connect");
		PQfinish(conn);
		return -1;
	}
	res = PQexec(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		goto fail;
	PQclear(res);
	res = PQexec(conn, "SELECT max(version) FROM rtowatch_schema");
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		goto fail;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		version = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	tables = PQexec(conn, "SELECT table_name FROM information_schema.tables"
	    " WHERE table_schema = current_schema() AND table_type ="
	    " 'BASE TABLE' AND table_name <> 'rtowatch_schema'"
	    " ORDER BY table_name");
	if (PQresultStatus(tables) != PGRES_TUPLES_OK) {
		res = tables;
		goto fail;
	}
	if (sqlite3_open(":memory:", db) != SQLITE_OK) {
		PQclear(tables);
		PQfinish(conn);
		cli_warnx("%s: out of memory", uri);
		return -1;
	}
	for (i = 0; i < PQntuples(tables); i++) {
		xasprintf(&sql, "SELECT * FROM \"%s\"",
		    PQgetvalue(tables, i, 0));
		res = PQexec(conn, sql);
		free(sql);
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			PQclear(tables);
			goto fail;
		}
		if (pgsnap_table(*db, PQgetvalue(tables, i, 0), res) == -1) {
			cli_warnx("%s: %s: %s", uri, PQgetvalue(tables, i, 0),
			    sqlite3_errmsg(*db));
			PQclear(res);
			PQclear(tables);
			PQfinish(conn);
			sqlite3_close(*db);
			*db = NULL;
			return -1;
		}
		PQclear(res);
	}
	PQclear(tables);
	PQfinish(conn);
	snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", version);
	if (sqlite3_exec(*db, pragma, NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_close(*db);
		*db = NULL;
		return -1;
	}
	return 0;
 fail:
	pgsnap_fail(uri, conn, res, "cannot read the register");
	PQfinish(conn);
	if (*db != NULL)
		sqlite3_close(*db);
	*db = NULL;
	return -1;
}
