/*
 * store_int.h: what the store's files share, and nothing outside them.
 *
 * store.c is the core: the schema, the connection and its checks, the
 * transactions, the held queue and the records bound to the chain.  The
 * records themselves are written and read in one file each
 * (store_incident.c, store_clock.c, store_mail.c, store_warning.c,
 * store_history.c), through the core's statements, so that every write
 * goes through store_write and is recorded, and held when the database
 * refuses it (see store.c's header comment).
 */
#ifndef RTOWATCH_STORE_INT_H
#define RTOWATCH_STORE_INT_H

#include <sqlite3.h>
#include <stdint.h>

#include "store.h"

/* The tables whose ids later rows refer to: the store chooses them. */
enum store_table {
	STORE_INCIDENTS,
	STORE_OUTAGES,
	STORE_WARNINGS,
	STORE_CLOCKS,
	STORE_MAINTENANCE,
	STORE_TIMELINE,
	STORE_NTABLES
};

/*
 * The binder.  TYPES has one letter a value, bound to the parameters 1,
 * 2, ... in order:
 *	i	int
 *	I	int64_t
 *	J	int64_t, a row's id: 0 binds NULL (none)
 *	t	const char *, text: NULL binds NULL
 *	T	int64_t, a time in wall ms: 0 binds NULL, else its text
 * A value of another type than its letter says is undefined behaviour
 * (varargs): an int64_t letter wants an int64_t, never a literal 0.
 *
 * store_stmt prepares and binds, for a read or for store_write_row;
 * store_run prepares, binds and writes (store_write).  The SQL is kept
 * as it is: a write is recorded as its expanded SQL, replayed later.
 */
sqlite3_stmt	*store_stmt(struct store *, const char *, const char *, ...);
int		 store_run(struct store *, const char *, const char *, ...);

sqlite3_stmt	*store_prepare(struct store *, const char *);
int		 store_write(struct store *, sqlite3_stmt *);
int		 store_write_row(struct store *, sqlite3_stmt *, int *);
int		 store_changed(struct store *);
int64_t		 store_next_id(struct store *, enum store_table);
int64_t		 store_column_time(sqlite3_stmt *, int);

#endif /* RTOWATCH_STORE_INT_H */
