/*
 * chain.h: the timeline's hash chain, shared by the daemon (which links
 * each new row to the last) and rtowatch verify (which walks it).
 *
 * A row's hash covers the previous hash, its id, its incident and
 * warning ids (0 for none), its time as stored, event, actor and detail.
 * The first row's previous hash is 64 zeros.  Since schema upgrade
 * "records", a row also covers its records column when it has one: the
 * state of the rows of chain_tables its transaction wrote (chain.c).
 */
#ifndef RTOWATCH_CHAIN_H
#define RTOWATCH_CHAIN_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#define CHAIN_HEXLEN	64	/* SHA-256 in hex */
#define CHAIN_COLHEXLEN	32	/* a column's hash: 128 bits in hex */

/* A table whose rows are bound, less the columns that are not. */
struct chain_table {
	const char		*name;
	const char *const	*unbound;
};

extern const struct chain_table chain_tables[];

void	chain_hash(const char *, int64_t, int64_t, int64_t, const char *,
	    const char *, const char *, const char *, const char *,
	    char [CHAIN_HEXLEN + 1]);
const struct chain_table *chain_table(const char *);
int	chain_column_bound(const struct chain_table *, const char *);
void	chain_column_hash(const char *, int64_t, const char *, const char *,
	    size_t, char [CHAIN_COLHEXLEN + 1]);
int	chain_record_line(const struct chain_table *, sqlite3_stmt *,
	    char **, size_t *, size_t *);
int	chain_record_head(const struct chain_table *, int64_t, char **,
	    size_t *, size_t *);
int	chain_record_column(const struct chain_table *, int64_t,
	    const char *, const char *, size_t, char **, size_t *, size_t *);
int	chain_append(char **, size_t *, size_t *, const char *);

#endif
